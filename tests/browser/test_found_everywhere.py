"""'Found — stand down' reaches every open coordinator view of the case, without a reload.

Three views of the demo case stay open — the case list, the sectors page and
the audit log — while another coordinator marks the child found. Each view
must say "Found — stand down" within seconds, on the same page (no reload),
and the case list must not offer to mark it found again.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from casefile import open_store
from tests.browser.conftest import screenshot, wait_for_app_run
from tests.browser.test_case_live import (  # noqa: F401  (case_app is a fixture)
    PASSWORD,
    SECOND,
    CaseApp,
    case_app,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]


def _banner(page: Page):
    return page.get_by_test_id("stAlertContentSuccess").filter(has_text="Found — stand down")


def _open(page: Page, url: str, link: str) -> None:
    """Open the app's home in a new tab (signed in by cookie), then the page ``link``."""
    page.goto(url + "/")
    wait_for_app_run(page)
    page.get_by_role("link", name=link, exact=True).click()
    wait_for_app_run(page)
    page.evaluate("() => { window.__still_here = 1; }")


def test_found_reaches_the_case_list_sectors_and_audit_log(
    page: Page, case_app: CaseApp, hermetic  # noqa: F811
):
    sign_in(page, case_app.url, "demo.coordinator", PASSWORD)
    expect(page.get_by_role("button", name="Mark FOUND — stand down")).to_be_visible()
    page.evaluate("() => { window.__still_here = 1; }")
    # the same signed-in browser: two more tabs (the sign-in cookie carries over)
    sectors = page.context.new_page()
    _open(sectors, case_app.url, "Sectors")
    expect(sectors.get_by_role("heading", name=re.compile("^Sectors"))).to_be_visible()
    audit = page.context.new_page()
    _open(audit, case_app.url, "Audit log")
    expect(audit.get_by_text(re.compile(r"^\d+ of \d+ records"))).to_be_visible()
    views = {"cases": page, "sectors": sectors, "audit log": audit}
    for view in views.values():
        expect(_banner(view)).to_have_count(0)

    # another coordinator marks the child found (through the store, as any page would)
    store = open_store(case_app.store_url)
    try:
        other = store.sign_in(SECOND[0], PASSWORD)
        assert other is not None
        case = store.get_case(other, case_app.case_id)
        store.update_case(other, case.id, version=case.version, status="found",
                          reason="Found safe at a friend's house")
    finally:
        store.close()

    for name, view in views.items():
        banner = _banner(view)
        expect(banner, f"the {name} view").to_be_visible(timeout=15_000)
        expect(banner, f"the {name} view").to_contain_text(SECOND[1])
        assert view.evaluate("() => window.__still_here") == 1, f"the {name} view reloaded"
    # the case list no longer offers to mark it found
    mark = page.get_by_role("button", name="Mark FOUND — stand down")
    expect(mark).to_have_count(0, timeout=15_000)
    screenshot(page, "found-on-case-list")
    screenshot(sectors, "found-on-sectors")
    hermetic.assert_clean()
