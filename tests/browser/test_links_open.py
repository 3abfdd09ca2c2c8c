"""Links that always open: the app on a non-default port under a base path.

No ``WAYHOME_PUBLIC_URL``: a coordinator signs in, makes a link of each role on the
Private links page (clicks and typing), and each link — read off the page, exactly
as shown — opens its own view in a fresh browser. The page shows whom the link is
for, its QR code (made on the server: it is exactly the shown link, and nothing is
fetched from elsewhere) and the warning that a loopback address opens nowhere else.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import segno
from playwright.sync_api import Browser, Page, expect

from casefile import Actor, open_store, utcnow
from tests.browser.conftest import (
    AppServer,
    NetworkGuard,
    nav_link,
    screenshot,
    start_app,
    wait_for_app_run,
    wait_for_map,
)
from tests.browser.stores import module_store_url

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "a long enough password"
BASE_PATH = "wh/field"


@dataclass
class App:
    server: AppServer
    store_url: str
    coord: Actor
    case_id: int


@pytest.fixture(scope="module")
def app() -> Iterator[App]:
    with module_store_url("linkaddr") as url:
        store = open_store(url)
        try:
            user = store.create_user(Actor.system("test"), "coord.addr", "Coordinator Addr",
                                     PASSWORD)
            coord = Actor(user.id, user.display_name, "coordinator")
            case = store.create_case(
                coord, reference="ADDR-1", child_name="Robin", age=12, risk="high",
                reported_missing_at=utcnow() - timedelta(hours=2), ipp=(51.5137, -0.0990),
                description="Green coat", notes="")
            store.create_team(coord, case.id, name="Red", org_type="met_bcu")
        finally:
            store.close()
        server = start_app({"WAYHOME_DATABASE_URL": url, "WAYHOME_PUBLIC_URL": ""},
                           args=(f"--server.baseUrlPath={BASE_PATH}",))
        try:
            yield App(server=server, store_url=url, coord=coord, case_id=case.id)
        finally:
            server.stop()


def _choose(page: Page, label: str, option: str) -> None:
    box = page.locator(f"input[aria-label='{label}']")
    box.click()
    box.fill(option)
    page.get_by_role("option", name=option, exact=True).click()


def _make_link(page: Page, role: str, label: str, *, team: str = "", unit: str = "") -> str:
    form = page.locator("[data-testid='stForm']").filter(has_text="New link")
    form.get_by_text(role, exact=True).click()
    form.get_by_label("Whose link is it? (e.g. Mum's phone)").fill(label)
    if team:
        _choose(page, "Team (team lead links)", team)
    if unit:
        _choose(page, "BCU or force (partner links)", unit)
    form.get_by_role("button", name="Make the link").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Link made.")).to_be_visible(timeout=30_000)
    return page.locator(".st-key-new-link [data-testid='stCode'] code").inner_text().strip()


def _open_in_a_fresh_browser(browser: Browser, url: str, heading: str) -> None:
    context = browser.new_context()
    guard = NetworkGuard().install(context)
    page = context.new_page()
    try:
        page.goto(url)
        wait_for_app_run(page)
        expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=30_000)
        expect(page.get_by_text("This link no longer works")).to_have_count(0)
        guard.assert_clean()
    finally:
        context.close()


def test_each_role_link_made_on_the_page_opens_its_view(browser: Browser, app: App):
    server = app.server
    assert server.port != 8501
    assert server.url == f"http://127.0.0.1:{server.port}/{BASE_PATH}"
    context = browser.new_context(viewport={"width": 1400, "height": 950})
    guard = NetworkGuard().install(context)
    page = context.new_page()
    # the app's own address, then the menu (a deep page URL under a base path makes
    # Streamlit's front end probe for the base path: 404s that are not ours)
    page.goto(f"{server.url}/")
    wait_for_app_run(page)
    wait_for_map(page)  # the public map, its assets served under the base path
    page.get_by_role("link", name="Sign in").click()
    wait_for_app_run(page)
    page.get_by_role("textbox", name="Username").fill("coord.addr")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible(timeout=30_000)
    nav_link(page, "Private links").click()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name=re.compile("Private links · ADDR-1"))).to_be_visible(
        timeout=30_000)
    # before any link: the address this page was opened at is loopback, and it says so
    expect(page.get_by_text("will not open on anyone else's phone")).to_be_visible()

    made = []
    for role, label, team, unit, heading in (
        ("Family", "Mum's phone", "", "", "Search progress"),
        ("Partner unit", "City desk", "", "City of London Police",
         "Handovers for City of London Police"),
        ("Team lead", "Red lead", "Red", "", "Red: my sectors"),
    ):
        url = _make_link(page, role, label, team=team, unit=unit)
        # the address this coordinator is using: its port and base path, not :8501
        assert re.fullmatch(rf"http://127\.0\.0\.1:{server.port}/{BASE_PATH}/\?link=[\w-]{{40,}}",
                            url), url
        card = page.locator(".st-key-new-link")
        whom = card.locator("[data-testid='stMarkdownContainer']").filter(has_text="For ")
        expect(whom).to_have_text(" · ".join(w for w in ("For " + role, team or unit, label)
                                             if w))
        expect(card.get_by_text("will not open on anyone else's phone")).to_be_visible()
        # the QR code is the link itself, drawn on the server
        qr = card.locator("img[data-testid='wayhome-link-qr']")
        expect(qr).to_be_visible()
        src = qr.get_attribute("src") or ""
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1]) == base64.b64decode(
            segno.make(url, error="m").png_data_uri(scale=5, border=4).split(",", 1)[1])
        made.append((url, heading))
        # it appears where the coordinator clicked
        expect(card).to_be_in_viewport()
    card.scroll_into_view_if_needed()
    screenshot(page, "links-page-qr")
    guard.assert_clean()
    context.close()

    for url, heading in made:
        _open_in_a_fresh_browser(browser, url, heading)
