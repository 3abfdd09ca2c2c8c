"""A bug while reading an upload: one plain message; the log never names the file."""

from __future__ import annotations

import hashlib
import logging

from app_pages.widgets.upload_fault import describe_upload, upload_fault


def test_fault_log_has_extension_size_and_hash_but_no_name_or_content(caplog):
    data = b"<gpx>Robin Smith walked here</gpx>"
    with caplog.at_level(logging.ERROR, logger="app_pages.widgets.upload_fault"):
        upload_fault(KeyError("Robin"), [("Robin Smith walk.GPX", data)])
    text = caplog.text
    assert "KeyError" in text and ".gpx" in text and str(len(data)) in text
    assert hashlib.sha256(data).hexdigest() in text
    assert "robin" not in text.lower() and "walked" not in text
    assert describe_upload([("noext", b"x")]).startswith("(no extension) file of 1 bytes")
