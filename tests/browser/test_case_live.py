"""The coordinator's case map in real Chromium: sign in, see the case, live updates.

One app server for the module, on a fresh store: a temporary SQLite file, or a
private schema on the PostgreSQL server named by ``DATABASE_URL`` (the PostGIS
run of ``scripts/test``). The demo case is loaded the way ``wayhome demo``
loads it; a second coordinator is added to it. Both sign in through the login
form, each in their own browser context.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import shapely
import sqlalchemy as sa
from playwright.sync_api import Browser, BrowserContext, Page, expect

from casefile import Actor, NewSector, open_store, utcnow
from tests.browser import axe
from tests.browser.conftest import (
    ARTIFACTS,
    AppServer,
    NetworkGuard,
    map_frame_handle,
    nav_link,
    screenshot,
    start_app,
    wait_for_app_run,
    wait_for_map,
)
from wayhome.demo import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "demo password for browser tests"
SECOND = ("second.coordinator", "Second Coordinator")
BACKEND_URL = os.environ.get("WAYHOME_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
IS_PG = BACKEND_URL.strip().startswith(("postgresql", "postgres:"))


@dataclass
class CaseApp:
    server: AppServer
    url: str
    case_id: int
    reference: str
    sightings: int
    store_url: str


def _pg_url(schema: str) -> str:
    base = "postgresql+psycopg://" + BACKEND_URL.strip().split("://", 1)[1].split("?", 1)[0]
    return base + "?options=" + quote(f"-csearch_path={schema},public")


@pytest.fixture(scope="module")
def case_app() -> Iterator[CaseApp]:
    workdir = Path(tempfile.mkdtemp(prefix="wayhome-case-"))
    schema = None
    if IS_PG:
        schema = f"wh_browser_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(_pg_url(schema).split("?", 1)[0])
        with admin.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = _pg_url(schema)
    else:
        url = f"sqlite:///{workdir / 'cases.sqlite3'}"
    store = open_store(url)
    demo = load_demo(store, password=PASSWORD)
    system = Actor.system("browser test")
    store.create_user(system, SECOND[0], SECOND[1], PASSWORD)
    store.add_case_member(system, demo.case_id, SECOND[0])
    store.close()
    server = start_app({"WAYHOME_DATABASE_URL": url, "WAYHOME_TILES": "none"})
    try:
        yield CaseApp(server, server.url, demo.case_id, demo.reference, demo.sightings, url)
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
        if schema is not None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()


def sign_in(page: Page, url: str, username: str, password: str) -> None:
    page.goto(url + "/")
    wait_for_app_run(page)
    wait_for_map(page)  # the public map: let it finish loading before leaving it
    page.get_by_role("link", name="Sign in").click()
    wait_for_app_run(page)
    page.get_by_label("Username").fill(username)
    page.get_by_role("textbox", name="Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app_run(page)


def open_case_map(page: Page, app: CaseApp):
    page.get_by_role("link", name="Case map").click()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name=re.compile(re.escape(app.reference)))).to_be_visible(
        timeout=30_000
    )
    frame = wait_for_map(page)
    expect(frame.locator("path.wayhome-sighting").first).to_be_attached(timeout=30_000)
    return frame


def new_guarded_page(
    browser: Browser, context_args: dict
) -> tuple[BrowserContext, Page, NetworkGuard]:
    context = browser.new_context(**context_args)
    guard = NetworkGuard().install(context)
    return context, context.new_page(), guard


def test_wrong_password_gets_one_plain_message(page: Page, case_app: CaseApp, hermetic):
    sign_in(page, case_app.url, "demo.coordinator", "not the password")
    expect(page.get_by_text("did not match an active account")).to_be_visible()
    assert "not the password" not in page.url
    assert page.get_by_role("textbox", name="Password").input_value() == ""  # not kept in the form
    sign_in(page, case_app.url, "nobody.here", "whatever it is")
    expect(page.get_by_text("did not match an active account")).to_be_visible()
    expect(page.get_by_role("link", name="Case map")).to_have_count(0)
    log = case_app.server.log()
    assert "not the password" not in log and PASSWORD not in log
    hermetic.assert_clean()


def test_case_map_draws_the_case(page: Page, case_app: CaseApp, hermetic):
    sign_in(page, case_app.url, "demo.coordinator", PASSWORD)
    expect(page.get_by_role("link", name="Cases")).to_be_visible()
    expect(
        page.get_by_role("heading", name=re.compile(f"Case {re.escape(case_app.reference)}"))
    ).to_be_visible()
    screenshot(page, "case-list")
    frame = open_case_map(page, case_app)
    assert frame.locator("path.wayhome-sighting").count() >= case_app.sightings - 1
    expect(frame.locator("path.wayhome-sighting-verified").first).to_be_attached()
    expect(frame.locator("path.wayhome-sighting-unverified").first).to_be_attached()
    expect(frame.locator("path.wayhome-path")).to_have_count(1)
    expect(frame.locator("path.wayhome-lkl")).to_have_count(1)
    expect(frame.locator(".wayhome-lkl-label")).to_contain_text("Last known")
    expect(frame.locator(".wayhome-ipp")).to_have_count(1)
    expect(frame.locator(".wayhome-home")).to_have_count(1)
    assert frame.locator(".wayhome-time").count() >= 3
    expect(frame.locator("path.wayhome-borough")).to_have_count(33)
    screenshot(page, "case-map")
    # axe-core on the page and inside the map frame; pinch-zoom; the frame's title
    found = axe.assert_view_accessible(page)
    print("axe case map:", axe.describe(found) or "no violations")
    hermetic.assert_clean()


def test_bad_sighting_input_is_refused_with_a_clear_message(
    page: Page, case_app: CaseApp, hermetic
):
    sign_in(page, case_app.url, "demo.coordinator", PASSWORD)
    frame = open_case_map(page, case_app)
    before = frame.locator("path.wayhome-sighting").count()
    where = page.get_by_label(re.compile("^Where"))
    where.fill("48.8566, 2.3522")  # Paris
    page.get_by_role("button", name="Save sighting").click()
    wait_for_app_run(page)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("UK")
    expect(where).to_have_value("48.8566, 2.3522")  # what was typed is kept
    where.fill("")
    page.get_by_role("button", name="Save sighting").click()
    wait_for_app_run(page)
    expect(page.get_by_test_id("stAlertContentError")).to_contain_text("required")
    page.wait_for_timeout(5_000)  # a poll later, still nothing new on the map
    expect(frame.locator("path.wayhome-sighting")).to_have_count(before)
    screenshot(page, "case-map-bad-input")
    hermetic.assert_clean()


def test_clicking_the_map_fills_in_the_place(page: Page, case_app: CaseApp, hermetic):
    sign_in(page, case_app.url, "demo.coordinator", PASSWORD)
    frame = open_case_map(page, case_app)
    frame.locator("#map_div").evaluate("() => { window.__probe = 7; }")
    box = frame.locator("#map_div").bounding_box()
    frame.locator("#map_div").click(position={"x": box["width"] * 0.3, "y": box["height"] * 0.2})
    where = page.get_by_label(re.compile("^Where"))
    expect(where).to_have_value(re.compile(r"^51\.\d{5}, -0\.\d{5}$"), timeout=15_000)
    expect(frame.locator(".leaflet-marker-icon").last).to_be_attached()
    assert frame.locator("#map_div").evaluate("() => window.__probe") == 7
    hermetic.assert_clean()


def test_audit_log_is_filterable(page: Page, case_app: CaseApp, hermetic):
    sign_in(page, case_app.url, "demo.coordinator", PASSWORD)
    nav_link(page, "Audit log").click()
    wait_for_app_run(page)
    caption = page.get_by_text(re.compile(r"^\d+ of \d+ records"))
    expect(caption).to_be_visible()
    total = int(re.match(r"(\d+) of (\d+)", caption.inner_text()).group(2))
    assert total >= case_app.sightings + 1  # the case and each demo sighting
    page.get_by_label("What changed").click()
    page.get_by_role("option", name="case", exact=True).click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(rf"^\d+ of {total} records"))).to_be_visible()
    shown = int(re.match(r"(\d+)", page.get_by_text(re.compile(r"records")).inner_text()).group(1))
    assert 1 <= shown < total
    screenshot(page, "audit-log")
    hermetic.assert_clean()


def test_family_tips_show_in_the_menu_and_on_the_triage_map_live(
    page: Page, case_app: CaseApp, hermetic
):
    store = open_store(case_app.store_url)
    try:
        user = store.get_user(Actor.system("test"), "demo.coordinator")
        coord = Actor(user.id, user.display_name, "coordinator")
        link = store.issue_link(coord, case_app.case_id, role="family", label="Mum")
        family = store.open_link(link.token).actor
        store.send_tip(family, case_app.case_id, lat=51.5186, lon=-0.0937,
                       seen_at=utcnow() - timedelta(minutes=20), text="By the Barbican lake")
        waiting = store.triage_count(coord, case_app.case_id)
    finally:
        store.close()
    sign_in(page, case_app.url, "demo.coordinator", PASSWORD)
    menu = page.get_by_role("link", name=re.compile("^Triage"))
    expect(menu).to_contain_text(f"Triage · {waiting} new", timeout=30_000)
    # a case page opened afresh, with no ?case=, lands on the coordinator's last case
    page.goto(f"{case_app.url}/triage")
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name=f"Triage · {case_app.reference}")).to_be_visible(
        timeout=30_000)
    # Streamlit's front end, loaded at a page's own address, first probes
    # <page>/_stcore/{health,host-config} (404) before finding the app's root: not ours
    for found in (hermetic.failed, hermetic.console_errors):
        found[:] = [f for f in found if "/triage/_stcore/" not in f]
    frame = wait_for_map(page)
    expect(frame.locator(".wayhome-triage-tip").first).to_be_attached(timeout=30_000)
    card = page.locator("[class*='st-key-report_']").filter(has_text="By the Barbican lake")
    expect(card).to_contain_text("City of London")
    screenshot(page, "triage")
    card.get_by_role("button", name="Accept: mark the sighting verified").click()
    wait_for_app_run(page)
    expect(menu).to_contain_text(re.compile(f"Triage( · {waiting - 1} new)?$"), timeout=30_000)
    # a tip sent while the page is open reaches the menu and the list by itself
    store = open_store(case_app.store_url)
    try:
        store.send_tip(family, case_app.case_id, lat=51.5137, lon=-0.0990,
                       seen_at=utcnow() - timedelta(minutes=5), text="Running towards St Paul's")
    finally:
        store.close()
    expect(page.get_by_text("Running towards St Paul's")).to_be_visible(timeout=30_000)
    expect(menu).to_contain_text(f"Triage · {waiting} new", timeout=30_000)
    hermetic.assert_clean()


def test_a_sector_change_reaches_an_open_sector_map_as_a_small_update(
    page: Page, case_app: CaseApp, hermetic
):
    store = open_store(case_app.store_url)
    coordinator = store.authenticate(SECOND[0], PASSWORD)
    try:  # six draft sectors, 150 m squares in a row (Stockwell)
        made = store.create_sectors(coordinator, case_app.case_id, [
            NewSector(geometry=shapely.box(-0.1200 + 0.0022 * i, 51.4700,
                                           -0.1178 + 0.0022 * i, 51.4713), name=f"Row {i}")
            for i in range(6)])
    finally:
        store.close()
    target = made[2]
    assert target is not None
    # every WebSocket frame the viewer's page receives: (when, bytes)
    frames: list[tuple[float, int]] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: frames.append((time.monotonic(), len(payload)))))
    sign_in(page, case_app.url, "demo.coordinator", PASSWORD)
    page.get_by_role("link", name="Sectors", exact=True).click()
    wait_for_app_run(page)
    viewer = wait_for_map(page)
    sectors = viewer.locator("path.wayhome-sector")
    expect(sectors.first).to_be_attached(timeout=30_000)
    viewer.locator("#map_div").evaluate("() => { window.__probe = 42; }")

    expect(sectors).to_have_count(6)
    store = open_store(case_app.store_url)
    try:
        # every sector path drawn now is marked; a redrawn sector gets a new, unmarked one
        count = sectors.evaluate_all(
            "els => { els.forEach(e => e.setAttribute('data-before', '1')); return els.length; }")
        changed_at = time.monotonic()
        store.set_sector_status(coordinator, target.id, "ready", version=target.version)
    finally:
        store.close()
    fresh = viewer.locator("path.wayhome-sector:not([data-before])")
    expect(fresh).to_have_count(1, timeout=20_000)
    seen_at = time.monotonic()
    expect(fresh).to_have_class(re.compile(r"\bwayhome-sector-ready\b"))
    # only that sector was redrawn: every other path is the one drawn before
    assert viewer.locator("path.wayhome-sector[data-before]").count() == count - 1
    assert viewer.locator("#map_div").evaluate("() => window.__probe") == 42  # not remounted
    # what reached the browser for that change: a small update, not the map again
    # (the base map alone is about 0.7 MB); bench/sector_update_bench.py has the figure
    received = sum(size for at, size in frames if changed_at <= at <= seen_at)
    assert received < 100_000, f"{received:,} bytes over the WebSocket for one sector change"

    # a second change: again only that sector is redrawn
    second = made[4]
    assert second is not None
    sectors.evaluate_all("els => els.forEach(e => e.setAttribute('data-before', '1'))")
    store = open_store(case_app.store_url)
    try:
        store.set_sector_status(coordinator, second.id, "ready", version=second.version)
    finally:
        store.close()
    expect(fresh).to_have_count(1, timeout=20_000)
    assert viewer.locator("path.wayhome-sector-ready").count() == 2
    assert viewer.locator("path.wayhome-sector[data-before]").count() == count - 1

    # a map at another version than a message starts from answers "missed"; the feed
    # then asks the server, which draws the layer in full (every path new)
    leaflet = map_frame_handle(page)
    version = leaflet.evaluate("() => window.wayhomeLive.version('sectors')")
    stale = json.dumps({"layer": "sectors", "base": version.split(":")[0], "from": "elsewhere",
                        "to": "later", "upsert": [], "remove": []})
    assert leaflet.evaluate("t => window.wayhomeLive.applyText(t)", stale) == "missed"
    feed = next(f for f in page.frames if "layer_feed" in f.url)
    feed.evaluate("() => window.wayhomeFeedMissed()")
    expect(viewer.locator("path.wayhome-sector[data-before]")).to_have_count(0, timeout=20_000)
    expect(sectors).to_have_count(6)
    assert leaflet.evaluate("() => window.wayhomeLive.version('sectors')") != version
    assert viewer.locator("#map_div").evaluate("() => window.__probe") == 42  # not remounted
    hermetic.assert_clean()


def test_a_sighting_and_found_reach_another_open_map_live(
    page: Page, browser: Browser, browser_context_args: dict, case_app: CaseApp, hermetic
):
    # every WebSocket frame the viewer's page receives: (when, bytes)
    frames: list[tuple[float, int]] = []
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: frames.append((time.monotonic(), len(payload)))))
    # viewer: the demo coordinator, map open
    sign_in(page, case_app.url, "demo.coordinator", PASSWORD)
    viewer = open_case_map(page, case_app)
    before = viewer.locator("path.wayhome-sighting").count()
    # every sighting drawn now is marked; one drawn again later gets a new, unmarked path
    viewer.locator("path.wayhome-sighting").evaluate_all(
        "els => els.forEach(e => e.setAttribute('data-before', '1'))")
    viewer.locator("#map_div").evaluate("() => { window.__probe = 42; }")
    # the viewer pans and zooms away from where the map opened
    leaflet = map_frame_handle(page)
    # the map flies to the case when it opens; Leaflet ignores setView until that ends
    leaflet.wait_for_function("() => window.map_div && !window.map_div._animatingZoom")
    leaflet.evaluate("() => window.map_div.setView([51.5081, -0.0759], 15, {animate: false})")
    view_js = (
        "() => { const c = window.map_div.getCenter();"
        " return [c.lat.toFixed(4), c.lng.toFixed(4), window.map_div.getZoom()]; }"
    )
    panned = leaflet.evaluate(view_js)
    assert panned == ["51.5081", "-0.0759", 15]

    # editor: another coordinator in another browser context
    context2, editor, guard2 = new_guarded_page(browser, browser_context_args)
    try:
        sign_in(editor, case_app.url, SECOND[0], PASSWORD)
        open_case_map(editor, case_app)
        editor.get_by_label(re.compile("^Where")).fill("51.5055, -0.0754")  # Tower Bridge
        editor.get_by_label("Reported by").fill("<img src=x onerror=alert(1)> `${1+1}`")
        editor.get_by_label("What was seen").fill("Child in red backpack crossing the bridge")
        saved_at = time.monotonic()
        editor.get_by_role("button", name="Save sighting").click()
        wait_for_app_run(editor)
        expect(editor.get_by_text(re.compile(r"Saved sighting #\d+"))).to_be_visible()
        expect(
            editor.get_by_text(re.compile("Tower Hamlets|Southwark|City of London"))
        ).to_be_visible()
        screenshot(editor, "case-map-editor-saved")

        # the viewer's map gains the marker without a reload and without remounting
        expect(viewer.locator("path.wayhome-sighting")).to_have_count(before + 1, timeout=15_000)
        seen_at = time.monotonic()
        assert viewer.locator("#map_div").evaluate("() => window.__probe") == 42
        # applied as a small update: only the new sighting is a new path, and what reached
        # the viewer's page was a message, not the map again (the base map alone is about
        # 0.7 MB, in one frame); the window also holds the chart and table the page redraws
        expect(viewer.locator("path.wayhome-sighting:not([data-before])")).to_have_count(1)
        assert leaflet.evaluate("() => window.wayhomeLive.stats.applied") >= 1
        window = [size for at, size in frames if saved_at <= at <= seen_at]
        assert max(window, default=0) < 100_000, f"a frame of {max(window):,} bytes"
        assert sum(window) < 300_000, f"{sum(window):,} bytes over the WebSocket for one sighting"
        page.wait_for_timeout(5_000)  # and another poll after it: still where the viewer was
        assert leaflet.evaluate(view_js) == panned, "the live update moved the viewer's map"
        screenshot(page, "case-map-viewer-live")

        # the editor marks the case found; the viewer is told to stand down
        editor.get_by_role("link", name="Cases").click()
        wait_for_app_run(editor)
        editor.get_by_text("Yes, the child has been found").click()
        editor.get_by_role("button", name="Mark FOUND — stand down").click()
        wait_for_app_run(editor)
        expect(editor.get_by_text("marked FOUND").first).to_be_visible()
        expect(page.get_by_text("Found — stand down").first).to_be_visible(timeout=15_000)
        assert viewer.locator("#map_div").evaluate("() => window.__probe") == 42
        screenshot(page, "case-map-found")
        guard2.assert_clean()
    finally:
        context2.close()
    assert page.evaluate("() => document.title") != "pwned"
    hermetic.assert_clean()


#: counts what a person does on the page: clicks, fields typed in, characters typed
COUNTERS = """
window.__wh = {clicks: 0, fields: new Set(), chars: 0};
document.addEventListener('click', () => { window.__wh.clicks++; }, true);
document.addEventListener('input', (e) => {
    const el = e.target;
    if (!el || !el.getAttribute) return;
    window.__wh.fields.add(el.getAttribute('aria-label') || el.id || el.name || '?');
    if (e.data) window.__wh.chars += e.data.length;
}, true);
"""


def test_first_hour_from_signed_in_to_a_link_that_opens(
    browser: Browser, page: Page, case_app: CaseApp, hermetic
):
    started = time.monotonic()
    sign_in(page, case_app.url, "demo.coordinator", PASSWORD)
    expect(page.get_by_role("link", name="First hour")).to_be_visible(timeout=30_000)
    page.add_init_script(COUNTERS)
    page.evaluate(COUNTERS)
    visits = 1  # the page sign-in lands on
    page.get_by_role("link", name="First hour").click()
    visits += 1
    wait_for_app_run(page)
    form = page.locator("[data-testid='stForm']")
    for label, text in (("Case reference", "CAD 4242/06"), ("First name or alias", "Sam"),
                        ("Age", "13"),
                        ("Where: postcode, lat, lon or OS grid reference", "SE1 6TG")):
        form.get_by_label(label).click()
        page.keyboard.type(text)
    form.get_by_label("Risk grade").click()
    page.get_by_role("option", name="high", exact=True).click()
    form.get_by_role("button", name="Open the case and task the team").click()
    wait_for_app_run(page)
    done = page.locator(".st-key-first_hour_done")
    expect(done).to_contain_text("Case CAD 4242/06 is open", timeout=60_000)
    link = done.locator("code").inner_text().strip()
    counts = page.evaluate("() => ({clicks: window.__wh.clicks, "
                           "fields: window.__wh.fields.size, chars: window.__wh.chars})")
    counts.update(visits=visits, seconds=round(time.monotonic() - started, 1))
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "first-hour-counts.json").write_text(json.dumps(counts, indent=1))
    screenshot(page, "first-hour-link-in-hand")
    assert counts["visits"] <= 2 and counts["clicks"] <= 15 and counts["fields"] <= 8, counts
    assert re.fullmatch(re.escape(case_app.url) + r"/\?link=[A-Za-z0-9_-]{20,}", link), link
    expect(done.get_by_role("img")).to_be_visible()  # the QR code
    # the team lead opens it on a phone: the team's own view with its tasked sector
    phone = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        lead = phone.new_page()
        lead.goto(link)
        wait_for_app_run(lead)
        expect(lead.get_by_role("heading", name="Team 1: my sectors")).to_be_visible(
            timeout=30_000)
        expect(lead.get_by_text(re.compile(r"First hour|Start searching"))).not_to_have_count(0)
    finally:
        phone.close()
    hermetic.assert_clean()
