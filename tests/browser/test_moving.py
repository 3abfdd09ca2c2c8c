"""A child who moves, in real Chromium: on Where next a coordinator switches the case to the
moving model and sees the model's assumptions and a "search again?" suggestion for a sector
searched hours ago."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from shapely.geometry import box

from casefile import open_store, utcnow
from geo.crs import geoms_to_lonlat, lonlat_to_bng
from tests.browser.conftest import AppServer, screenshot, start_app, wait_for_app_run
from tests.browser.stores import module_store_url
from tests.browser.test_sectors import sign_in
from wayhome.demo import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "demo password for sector tests"  # the sign_in helper's password
SIDE = 300.0


@dataclass
class MovingApp:
    server: AppServer
    code: str


@pytest.fixture(scope="module")
def moving_app() -> Iterator[MovingApp]:
    with module_store_url("moving") as url:
        store = open_store(url)
        demo = load_demo(store, password=PASSWORD)
        me = store.authenticate("demo.coordinator", PASSWORD)
        case = store.get_case(me, demo.case_id)
        x, y = (float(v) for v in lonlat_to_bng(case.ipp_lon, case.ipp_lat))
        x0, y0 = round(x) + 200.0, round(y) + 200.0
        sector = store.create_sector(me, case.id, name="Searched this morning",
                                     geometry=geoms_to_lonlat(box(x0, y0, x0 + SIDE, y0 + SIDE)))
        team = store.create_team(me, case.id, name="Team Blue", org_type="met_bcu")
        if store.poa_state(me, case.id) is None:
            store.set_up_poa(me, case.id, method="rings", age=14)
        s = store.set_sector_status(me, sector.id, "ready", version=sector.version)
        s = store.assign_sector(me, s.id, team.id, version=s.version)
        s = store.start_sector(me, s.id, version=s.version)
        store.finish_sector(me, s.id, version=s.version, search_type="thorough",
                            assurance="high", searched_at=utcnow() - timedelta(hours=5))
        store.close()
        server = start_app({"WAYHOME_DATABASE_URL": url, "WAYHOME_TILES": "none"})
        try:
            yield MovingApp(server, sector.code)
        finally:
            server.stop()
            shutil.rmtree(server.workdir, ignore_errors=True)


def test_switch_to_moving_and_see_search_again(page: Page, moving_app: MovingApp, hermetic):
    sign_in(page, moving_app.server.url)
    page.get_by_role("link", name="Where next", exact=True).click()
    wait_for_app_run(page)
    caption = page.get_by_text("Motion model: Stationary", exact=False).first
    expect(caption).to_be_visible(timeout=30_000)
    # the model is named once, then what it assumes
    assert caption.inner_text().count("Stationary") == 1
    screenshot(page, "where-next-stationary")
    page.get_by_role("tab", name="Motion model").click()
    panel = page.get_by_role("tabpanel", name="Motion model")
    panel.get_by_text("Moving (the child walks", exact=False).click()
    panel.get_by_role("button", name="Use this model").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Motion model: Moving", exact=False).first).to_be_visible(
        timeout=60_000)
    page.get_by_role("tab", name="Motion model").click()
    panel = page.get_by_role("tabpanel", name="Motion model")
    expect(panel.get_by_text("Walks at 1.2 m/s", exact=False).first).to_be_visible()
    expect(panel.get_by_text("town centres", exact=False).first).to_be_visible()
    expect(panel.get_by_text("Search again?", exact=False).first).to_be_visible(timeout=60_000)
    expect(panel.get_by_test_id("stDataFrame").first).to_be_visible()
    hermetic.assert_clean()
