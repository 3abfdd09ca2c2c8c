"""The hermetic guard itself: it must see what it claims to block and report."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.browser.conftest import NetworkGuard, serve_directory

pytestmark = [pytest.mark.browser, pytest.mark.timeout(60)]

PAGE = """<!doctype html><html><head>
<link rel="stylesheet" href="https://cdn.example.org/x.css">
<script src="/missing.js"></script>
</head><body><img src="https://tiles.example.org/1/2/3.png"></body></html>"""


def test_guard_records_outside_requests_and_local_failures(page: Page, hermetic, tmp_path):
    (tmp_path / "index.html").write_text(PAGE)
    with serve_directory(tmp_path) as url:
        page.goto(url + "/index.html")
        page.wait_for_load_state("load")
    assert sorted(hermetic.outside) == [
        "https://cdn.example.org/x.css",
        "https://tiles.example.org/1/2/3.png",
    ]
    assert any("missing.js: HTTP 404" in f for f in hermetic.failed), hermetic.failed
    with pytest.raises(AssertionError, match="requests to other hosts"):
        hermetic.assert_clean()
    tiles_only = NetworkGuard(outside=["https://tiles.example.org/1.png"])
    tiles_only.assert_clean(allow_outside=lambda u: u.startswith("https://tiles.example.org/"))
