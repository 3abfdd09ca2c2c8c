"""Drawing sectors in real Chromium: saved once, overlaps warned about before saving, offline.

One app server for the module on a fresh store (a temporary SQLite file, or a
private schema on the PostgreSQL server named by ``DATABASE_URL``), holding the
demo case. The coordinator signs in through the login form, opens Sectors,
and draws with Leaflet.draw's own toolbar inside the map's iframe.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa
from playwright.sync_api import FrameLocator, Page, expect

from casefile import open_store
from tests.browser.conftest import (
    AppServer,
    screenshot,
    start_app,
    wait_for_app_run,
    wait_for_map,
)
from wayhome.demo import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "demo password for sector tests"
BACKEND_URL = os.environ.get("WAYHOME_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
IS_PG = BACKEND_URL.strip().startswith(("postgresql", "postgres:"))

# vertices in map pixels (the map is about 840 x 600); the second square overlaps the first
FIRST = [(260, 170), (430, 170), (430, 330), (260, 330)]
SECOND = [(370, 250), (540, 250), (540, 420), (370, 420)]


@dataclass
class SectorApp:
    server: AppServer
    url: str
    case_id: int
    store_url: str


def _pg_url(schema: str) -> str:
    base = "postgresql+psycopg://" + BACKEND_URL.strip().split("://", 1)[1].split("?", 1)[0]
    return base + "?options=" + quote(f"-csearch_path={schema},public")


@pytest.fixture(scope="module")
def sector_app() -> Iterator[SectorApp]:
    workdir = Path(tempfile.mkdtemp(prefix="wayhome-sectors-"))
    schema = None
    if IS_PG:
        schema = f"wh_sectors_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(_pg_url(schema).split("?", 1)[0])
        with admin.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = _pg_url(schema)
    else:
        url = f"sqlite:///{workdir / 'sectors.sqlite3'}"
    store = open_store(url)
    demo = load_demo(store, password=PASSWORD)
    store.close()
    server = start_app({"WAYHOME_DATABASE_URL": url, "WAYHOME_TILES": "none"})
    try:
        yield SectorApp(server, server.url, demo.case_id, url)
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)
        if schema is not None:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()


def stored_sectors(app: SectorApp) -> list:
    store = open_store(app.store_url)
    try:
        actor = store.authenticate("demo.coordinator", PASSWORD)
        assert actor is not None
        return store.sectors(actor, app.case_id)
    finally:
        store.close()


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/")
    wait_for_app_run(page)
    wait_for_map(page)
    page.get_by_role("link", name="Sign in").click()
    wait_for_app_run(page)
    page.get_by_label("Username").fill("demo.coordinator")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app_run(page)


def draw_polygon(frame: FrameLocator, points: list[tuple[int, int]]) -> None:
    """Leaflet.draw's polygon tool: click each corner, then the first one again to close."""
    frame.get_by_role("link", name="Draw a polygon").click()
    canvas = frame.locator("#map_div")
    for x, y in [*points, points[0]]:
        canvas.click(position={"x": x, "y": y})
        frame.locator("#map_div").page.wait_for_timeout(150)


def test_draw_a_sector_then_an_overlapping_one(page: Page, sector_app: SectorApp, hermetic):
    sign_in(page, sector_app.url)
    page.get_by_role("link", name="Sectors", exact=True).click()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name=re.compile("^Sectors"))).to_be_visible()
    frame = wait_for_map(page)
    toolbar = frame.get_by_role("link", name="Draw a polygon")
    expect(toolbar).to_be_visible(timeout=20_000)
    # the toolbar's sprite is served by the app, not a CDN
    sprite = toolbar.evaluate("a => getComputedStyle(a).backgroundImage")
    assert "/app/static/vendor/leaflet-draw/images/spritesheet" in sprite, sprite
    assert frame.locator("#map_div").evaluate("() => window.map_div.getZoom()") >= 13
    screenshot(page, "sectors-empty")

    # 1. draw a sector: it is checked, no overlap, saved, listed
    draw_polygon(frame, FIRST)
    wait_for_app_run(page)
    panel = page.locator(".st-key-pending_drawing")
    expect(panel.get_by_text("No overlap with the case's other sectors.")).to_be_visible(
        timeout=20_000
    )
    expect(frame.locator("path.wayhome-candidate")).to_have_count(1)
    page.get_by_label("Name (optional; the ID is given on saving)").fill("Park <b>north</b>")
    page.get_by_role("button", name="Save sector").click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"Saved sector S1 — [\d,]+ m²"))).to_be_visible()
    expect(frame.locator("path.wayhome-sector-draft")).to_have_count(1, timeout=15_000)
    expect(frame.locator("path.wayhome-candidate")).to_have_count(0)
    listing = page.locator(".st-key-sector_list")
    expect(listing).to_contain_text("1 sector(s) match: S1", timeout=10_000)
    expect(listing.locator("[data-testid='stDataFrame']")).to_have_count(1)
    screenshot(page, "sectors-first-saved")

    # 2. an overlapping sector: warned BEFORE saving, naming S1
    draw_polygon(frame, SECOND)
    wait_for_app_run(page)
    warning = page.get_by_text(re.compile(r"Overlap — not saved yet"))
    expect(warning).to_be_visible(timeout=20_000)
    expect(panel).to_contain_text("S1 (draft")
    expect(panel).to_contain_text(re.compile(r"About [\d,]+ m² \(\d+% of it\)"))
    expect(frame.locator("path.wayhome-overlap")).to_have_count(1)
    assert len(stored_sectors(sector_app)) == 1  # nothing saved while the warning shows
    screenshot(page, "sectors-overlap-warning")

    # 3. keep it anyway, with a reason
    page.get_by_text("Keep it anyway").click()
    page.get_by_label("Why cover this ground again?").fill("CCTV lead: second pass")
    page.get_by_role("button", name="Confirm").click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"Saved sector S2 \(overlap kept"))).to_be_visible()
    expect(frame.locator("path.wayhome-sector-draft")).to_have_count(2, timeout=15_000)

    # reruns hand the last drawing back: nothing is saved again
    page.get_by_text("Straddling only").click()
    wait_for_app_run(page)
    page.get_by_text("Straddling only").click()
    wait_for_app_run(page)
    page.wait_for_timeout(6_000)  # a live poll of the map fragment, too
    saved = stored_sectors(sector_app)
    assert [s.code for s in saved] == ["S1", "S2"]
    expect(listing).to_contain_text("2 sector(s) match: S1, S2")
    assert saved[0].name == "Park <b>north</b>"
    assert saved[1].overlap_kept_reason == "CCTV lead: second pass"
    expect(frame.locator("path.wayhome-sector-draft")).to_have_count(2)

    # labels appear when zoomed in: ID and status, the hostile name never as markup
    expect(frame.locator(".wayhome-sector-label").first).to_be_visible()
    expect(frame.locator(".wayhome-sector-label", has_text="S1 · draft")).to_have_count(1)
    assert frame.locator("#map_div b", has_text="north").count() == 0
    screenshot(page, "sectors-two-saved")
    hermetic.assert_clean()


def test_cancel_drops_the_overlapping_drawing(page: Page, sector_app: SectorApp, hermetic):
    before = len(stored_sectors(sector_app))
    sign_in(page, sector_app.url)
    page.get_by_role("link", name="Sectors", exact=True).click()
    wait_for_app_run(page)
    frame = wait_for_map(page)
    expect(frame.get_by_role("link", name="Draw a polygon")).to_be_visible(timeout=20_000)
    draw_polygon(frame, [(300, 200), (400, 200), (400, 300), (300, 300)])
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"Overlap — not saved yet"))).to_be_visible(
        timeout=20_000
    )
    page.get_by_text("Cancel (discard the drawing)").click()
    page.get_by_role("button", name="Confirm").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Drawing discarded; nothing was saved.")).to_be_visible()
    expect(frame.locator("path.wayhome-candidate")).to_have_count(0)
    page.wait_for_timeout(1_000)
    assert len(stored_sectors(sector_app)) == before
    hermetic.assert_clean()


def test_grid_is_previewed_then_saved_and_handover_acknowledged(
    page: Page, sector_app: SectorApp, hermetic
):
    before = len(stored_sectors(sector_app))
    sign_in(page, sector_app.url)
    page.get_by_role("link", name="Make sectors").click()
    wait_for_app_run(page)
    wait_for_map(page)
    page.get_by_text("a ring round the last-known location").click()
    page.get_by_label("Ring radius (metres)").fill("300")
    page.get_by_label("Cell size (metres)").fill("200")
    page.get_by_role("button", name="Preview the grid").click()
    wait_for_app_run(page)
    box = page.locator(".st-key-tools_preview_box")
    expect(box).to_contain_text(re.compile(r"Preview: \d+ new sectors \(not saved\)"))
    expect(map_frame_path(page, "wayhome-candidate").first).to_be_attached(timeout=15_000)
    assert len(stored_sectors(sector_app)) == before  # a preview saves nothing
    screenshot(page, "make-sectors-grid-preview")
    page.get_by_role("button", name="Save these sectors").click()
    wait_for_app_run(page)
    # if the ring reaches sectors drawn earlier, the store refuses first: clip
    if box.get_by_text(re.compile("Overlap — not saved")).count():
        box.get_by_text("clip to the ground not yet covered").click()
        box.get_by_role("button", name="Confirm").click()
        wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"Saved \d+ sectors"))).to_be_visible(timeout=30_000)
    after = stored_sectors(sector_app)
    assert len(after) > before
    assert {s.origin for s in after[before:]} == {"grid"}

    page.get_by_role("link", name="Handover").click()
    wait_for_app_run(page)
    wait_for_map(page)
    page.get_by_label("Reason").fill("Route crossed the BCU line")
    page.get_by_role("button", name="Record handover").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Handover recorded")).to_be_visible()
    page.get_by_label(re.compile("^Acknowledged for")).fill("PS Example")
    page.get_by_role("button", name="Record acknowledgement").click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile("Acknowledged by PS Example"))).to_be_visible()
    screenshot(page, "handover")
    hermetic.assert_clean()


def map_frame_path(page: Page, cls: str):
    return page.frame_locator('iframe[title="streamlit_folium.st_folium"]').locator(f"path.{cls}")
