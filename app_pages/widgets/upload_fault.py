"""One answer for an upload that broke something it should not have.

Every importer raises only :class:`geo.InputError` for a bad file (shown as
it is); any other exception while reading an upload is a bug. The page shows
one plain message and the log gets the file's extension, size and SHA-256 —
never its name (file names carry children's names) or its content.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path

import streamlit as st

log = logging.getLogger(__name__)

#: what the person uploading sees when reading their file hit a bug
UPLOAD_FAULT = ("Wayhome could not read this file because of a fault on our side (it has "
                "been logged without the file's name or contents). Nothing was saved. Export "
                "the file again, or try another format.")


def describe_upload(files: Sequence[tuple[str, bytes]]) -> str:
    """Extension, size and SHA-256 of each file: what a fault log may say about an upload."""
    parts = []
    for name, data in files:
        ext = Path(name).suffix.lower() or "(no extension)"
        parts.append(f"{ext} file of {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    return "; ".join(parts)


def upload_fault(exc: BaseException, files: Sequence[tuple[str, bytes]]) -> None:
    """Log an unexpected exception from reading ``files`` and show the generic message."""
    log.error("upload fault: %s while reading %s", type(exc).__name__, describe_upload(files))
    st.error(UPLOAD_FAULT)
