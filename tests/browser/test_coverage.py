"""Coverage in real Chromium: a coordinator uploads a GPX, sees the sector's POD and a plot.

One app server on a fresh store holding the demo case plus a team and one square
sector of known size near the demo's IPP. The GPX walks a straight line across
the square, so the page must show POD = 1 − e^(−W·L/A) for that sector.
"""

from __future__ import annotations

import math
import re
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect
from shapely.geometry import box

from casefile import open_store
from geo.crs import lonlat_to_bng
from geo.detection import sweep_width
from tests.browser.conftest import AppServer, screenshot, start_app, wait_for_app_run
from tests.browser.test_sectors import sign_in
from tests.casefile.test_tracks import gpx
from wayhome.demo import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "demo password for sector tests"  # the sign_in helper's password
SIDE = 400.0
HOSTILE_TEAM = "Team <img src=x onerror=alert(1)>"


@dataclass
class CoverageApp:
    server: AppServer
    case_id: int
    gpx_path: Path
    expected_pod: float
    code: str


@pytest.fixture(scope="module")
def coverage_app() -> Iterator[CoverageApp]:
    from geo.crs import geoms_to_lonlat

    workdir = Path(tempfile.mkdtemp(prefix="wayhome-coverage-"))
    url = f"sqlite:///{workdir / 'coverage.sqlite3'}"
    store = open_store(url)
    demo = load_demo(store, password=PASSWORD)
    actor = store.authenticate("demo.coordinator", PASSWORD)
    case = store.get_case(actor, demo.case_id)
    x, y = (float(v) for v in lonlat_to_bng(case.ipp_lon, case.ipp_lat))
    x0, y0 = round(x) - SIDE / 2, round(y) - SIDE / 2
    sector = store.create_sector(actor, case.id, name="Known square",
                                 geometry=geoms_to_lonlat(box(x0, y0, x0 + SIDE, y0 + SIDE)))
    store.create_team(actor, case.id, name=HOSTILE_TEAM, org_type="volunteer_group")
    store.close()
    path = workdir / "walk.gpx"
    path.write_bytes(gpx([(x0 + 50, y0 + 200), (x0 + 350, y0 + 200)],
                         start=datetime(2026, 3, 1, 10, 0, tzinfo=UTC)))
    server = start_app({"WAYHOME_DATABASE_URL": url, "WAYHOME_TILES": "none"})
    try:
        yield CoverageApp(server, demo.case_id, path,
                          1 - math.exp(-sweep_width() * 300.0 / SIDE**2), sector.code)
    finally:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)
        shutil.rmtree(workdir, ignore_errors=True)


def test_upload_a_gpx_and_see_pod_and_plot(page: Page, coverage_app: CoverageApp, hermetic):
    alerts: list[str] = []
    page.on("dialog", lambda d: (alerts.append(d.message), d.dismiss()))
    sign_in(page, coverage_app.server.url)
    page.get_by_role("link", name="Coverage", exact=True).click()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Coverage and POD")).to_be_visible()
    expect(page.get_by_text("Decision support, not a prediction").first).to_be_visible()
    page.get_by_role("tab", name="Upload a track").click()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(
        str(coverage_app.gpx_path))
    page.wait_for_timeout(500)
    box = page.locator("input[aria-label='Sector']")
    box.click()
    box.fill(coverage_app.code)
    page.get_by_role("option", name=re.compile(f"^{coverage_app.code} ")).click()
    page.get_by_role("button", name="Upload the track").click()
    wait_for_app_run(page)
    want = f"{100 * coverage_app.expected_pod:.0f} %"
    # after the upload: the result, the table per sector and the map label
    page.get_by_role("tab", name="Upload a track").click()
    expect(page.get_by_text(re.compile("Saved walk.gpx"))).to_be_visible(timeout=30_000)
    expect(page.get_by_test_id("stMetricValue").first).to_have_text(want)
    screenshot(page, "coverage-upload-result", full_page=True)
    page.get_by_role("tab", name="POD per sector").click()
    table = page.get_by_role("tabpanel", name="POD per sector").get_by_test_id("stDataFrame")
    expect(table).to_be_visible()
    screenshot(page, "coverage-sector-table", full_page=True)
    page.get_by_role("tab", name="Plots").click()
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    expect(chart).to_be_visible(timeout=20_000)
    chart.scroll_into_view_if_needed()
    screenshot(page, "coverage-plots", full_page=True)
    # the map shows the sector's POD as a label; hostile team name is inert
    frame = page.frame_locator("iframe[title='streamlit_folium.st_folium']").first
    expect(frame.get_by_text(f"{coverage_app.code} · POD {want}")).to_be_visible(
        timeout=20_000)
    page.locator("iframe[title='streamlit_folium.st_folium']").first.scroll_into_view_if_needed()
    screenshot(page, "coverage-map")
    # where next: set up POA from the age band, see the ranked list and the choropleth
    page.get_by_role("link", name="Where next", exact=True).click()
    wait_for_app_run(page)
    page.get_by_role("button", name="Set up POA").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Search next").first).to_be_visible(timeout=30_000)
    expect(page.get_by_text(re.compile("pass\\(es\\) taken in"))).to_be_visible()
    screenshot(page, "where-next", full_page=True)
    assert alerts == []
    hermetic.assert_clean()
