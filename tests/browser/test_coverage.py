"""Coverage in real Chromium: upload a GPX, see POD and plots; POA, consensus, gaps to sectors.

One app server on a fresh store — SQLite, or a private schema on the PostgreSQL
server named by ``DATABASE_URL`` (the PostGIS run of ``scripts/test``) — holding
the demo case plus a team and two side-by-side squares of known size near the
demo's IPP. The GPX walks a straight line across the first square, so the page
must show POD = 1 − e^(−W·L/A) for it. Then, in order: POA from the age band's
rings; a reset to a two-planner consensus split typed into the editor (known
averages); and gaps inside the sectors proposed as new sectors, which meet the
usual overlap warning before they are kept with a reason.
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
from tests.browser.conftest import MAP_IFRAME, AppServer, screenshot, start_app, wait_for_app_run
from tests.browser.stores import module_store_url
from tests.browser.test_sectors import sign_in
from tests.casefile.test_tracks import gpx
from wayhome.demo import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "demo password for sector tests"  # the sign_in helper's password
SIDE = 400.0
HOSTILE_TEAM = "Team <img src=x onerror=alert(1)>"
ROW_PX = 35  # Streamlit's data editor row height


@dataclass
class CoverageApp:
    server: AppServer
    case_id: int
    gpx_path: Path
    expected_pod: float
    code: str
    neighbour: str
    store_url: str


@pytest.fixture(scope="module")
def coverage_app() -> Iterator[CoverageApp]:
    with module_store_url("coverage") as url:
        yield from _coverage_app(url)


def _coverage_app(url: str) -> Iterator[CoverageApp]:
    from geo.crs import geoms_to_lonlat

    workdir = Path(tempfile.mkdtemp(prefix="wayhome-coverage-"))
    store = open_store(url)
    demo = load_demo(store, password=PASSWORD)
    actor = store.authenticate("demo.coordinator", PASSWORD)
    case = store.get_case(actor, demo.case_id)
    x, y = (float(v) for v in lonlat_to_bng(case.ipp_lon, case.ipp_lat))
    x0, y0 = round(x) - SIDE / 2, round(y) - SIDE / 2
    sector = store.create_sector(actor, case.id, name="Known square",
                                 geometry=geoms_to_lonlat(box(x0, y0, x0 + SIDE, y0 + SIDE)))
    neighbour = store.create_sector(
        actor, case.id, name="Next door",
        geometry=geoms_to_lonlat(box(x0 + SIDE, y0, x0 + 2 * SIDE, y0 + SIDE)))
    store.create_team(actor, case.id, name=HOSTILE_TEAM, org_type="volunteer_group")
    store.close()
    path = workdir / "walk.gpx"
    path.write_bytes(gpx([(x0 + 50, y0 + 200), (x0 + 350, y0 + 200)],
                         start=datetime(2026, 3, 1, 10, 0, tzinfo=UTC)))
    server = start_app({"WAYHOME_DATABASE_URL": url, "WAYHOME_TILES": "none"})
    try:
        yield CoverageApp(server, demo.case_id, path,
                          1 - math.exp(-sweep_width() * 300.0 / SIDE**2), sector.code,
                          neighbour.code, url)
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
    frame = page.frame_locator(MAP_IFRAME).first
    expect(frame.get_by_text(f"{coverage_app.code} · POD {want}")).to_be_visible(
        timeout=20_000)
    page.locator(MAP_IFRAME).first.scroll_into_view_if_needed()
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


def _type_into_cell(page: Page, grid, row: int, value: str) -> None:
    """Type a value into the last column of a Streamlit data editor (a canvas grid,
    rows ``ROW_PX`` tall under a header row of the same height)."""
    grid.scroll_into_view_if_needed()
    bbox = grid.bounding_box()
    assert bbox is not None
    x, y = bbox["x"] + bbox["width"] - 30, bbox["y"] + ROW_PX * (row + 1.5)
    page.mouse.click(x, y)
    page.wait_for_timeout(500)
    page.mouse.dblclick(x, y)  # opens the cell's editor
    page.wait_for_timeout(500)
    page.keyboard.press("Control+a")
    page.keyboard.type(value)
    page.wait_for_timeout(300)
    page.keyboard.press("Tab")  # commits the edit
    page.wait_for_timeout(800)


def _ensure_poa(app: CoverageApp) -> None:
    """This test resets POA, so it needs one to exist whichever test ran before it."""
    from casefile import open_store

    store = open_store(app.store_url)
    try:
        me = store.authenticate("demo.coordinator", PASSWORD)
        if store.poa_state(me, app.case_id) is None:
            store.set_up_poa(me, app.case_id, method="rings", age=12)
    finally:
        store.close()


def test_consensus_split_typed_by_two_planners(page: Page, coverage_app: CoverageApp, hermetic):
    _ensure_poa(coverage_app)
    sign_in(page, coverage_app.server.url)
    page.get_by_role("link", name="Where next", exact=True).click()
    wait_for_app_run(page)
    page.get_by_role("tab", name="Reset POA").click()
    panel = page.get_by_role("tabpanel", name="Reset POA")
    planners = panel.get_by_role("spinbutton", name="Planners")
    planners.fill("2")
    planners.press("Enter")
    wait_for_app_run(page)
    panel.get_by_text("Planners' consensus split").click()
    grid = panel.get_by_test_id("stDataFrame")
    expect(grid).to_be_visible()
    # planner 1 keeps the even split (45 / 45 / 10); planner 2 gives 60 / 30 / 10
    _type_into_cell(page, grid, 0, "60")
    _type_into_cell(page, grid, 1, "30")
    panel.get_by_label("Why reset").fill("Two planners' consensus")
    panel.get_by_role("button", name="Reset POA").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Consensus of 2 planner(s) (Mattson).")).to_be_visible(
        timeout=30_000)
    page.get_by_role("tab", name="Search next").click()
    table = page.get_by_role("tabpanel", name="Search next").get_by_test_id("stDataFrame")
    expect(table).to_be_visible()
    # the averages: 52.5 % on the known square, 37.5 % next door
    from casefile import open_store

    store = open_store(coverage_app.store_url)
    try:
        system = store.authenticate("demo.coordinator", PASSWORD)
        poa = store.sector_poa_table(system, coverage_app.case_id).set_index("code")["poa"]
        geoms = {x.code: x.geometry for x in store.sectors(system, coverage_app.case_id)}
        state = store.poa_state(system, coverage_app.case_id)
    finally:
        store.close()
    assert state.method == "consensus" and state.params["planners"] == 2
    split = state.params["split"]
    assert split == pytest.approx({coverage_app.code: 0.525, coverage_app.neighbour: 0.375,
                                   "rest_of_world": 0.10}, abs=1e-9)
    # on the grid: the squares are not aligned to the 100 m cells, so cells on their
    # edges hold both squares' (or outside) ground; the ranked list is the grid's sums
    import geopandas as gpd

    from geo.probability import consensus_poa, sector_poa

    regions = gpd.GeoDataFrame({"id": list(geoms)}, geometry=list(geoms.values()),
                               crs="EPSG:4326")
    want = sector_poa(consensus_poa(regions, split), regions).set_index("id")["poa"]
    assert poa[coverage_app.code] == pytest.approx(want[coverage_app.code], abs=1e-9)
    assert poa[coverage_app.neighbour] == pytest.approx(want[coverage_app.neighbour], abs=1e-9)
    assert poa[coverage_app.code] > poa[coverage_app.neighbour]
    expect(page.get_by_text("Decision support, not a prediction").first).to_be_visible()
    screenshot(page, "where-next-consensus", full_page=True)
    hermetic.assert_clean()


def test_gaps_proposed_as_sectors_meet_the_overlap_check(page: Page, coverage_app: CoverageApp,
                                                         hermetic):
    sign_in(page, coverage_app.server.url)
    page.get_by_role("link", name="Where next", exact=True).click()
    wait_for_app_run(page)
    # gaps inside the case's sectors: the squares are still far below the target POD
    page.get_by_text("2 gap(s)").or_(page.get_by_text("1 gap(s)")).first.wait_for(
        timeout=30_000)
    page.get_by_role("tab", name="Gaps → sectors").click()
    panel = page.get_by_role("tabpanel", name="Gaps → sectors")
    panel.get_by_role("button", name="Propose sectors over the gaps").click()
    wait_for_app_run(page)
    expect(panel.get_by_text(re.compile(r"\d+ proposed sector\(s\) ready to save"))).to_be_visible()
    panel.get_by_role("button", name="Save proposed sectors").click()
    wait_for_app_run(page)
    # the usual overlap check: nothing saved, the coordinator is asked
    expect(panel.get_by_text(re.compile(r"Keep it anyway \(give a reason\)"))).to_be_visible(
        timeout=30_000)
    from casefile import open_store

    def count() -> int:
        store = open_store(coverage_app.store_url)
        try:
            who = store.authenticate("demo.coordinator", PASSWORD)
            return len(store.sectors(who, coverage_app.case_id))
        finally:
            store.close()

    assert count() == 2
    screenshot(page, "where-next-proposed-overlap", full_page=True)
    panel.get_by_text("keep anyway (give a reason)").click()
    panel.get_by_label("Reason to keep overlaps").fill("Re-search the gaps in a line")
    panel.get_by_role("button", name="Save proposed sectors").click()
    wait_for_app_run(page)
    expect(panel.get_by_text(re.compile(r"Saved \d+ proposed sector\(s\)"))).to_be_visible(
        timeout=30_000)
    assert count() > 2
    hermetic.assert_clean()


def test_delete_a_wrongly_uploaded_track(page: Page, coverage_app: CoverageApp, hermetic):
    """A track that starts at a volunteer's home goes, with its reason; the others stay."""
    store = open_store(coverage_app.store_url)
    try:
        actor = store.authenticate("demo.coordinator", PASSWORD)
        team = store.teams(actor, coverage_app.case_id)[0]
        x, y = (float(v) for v in lonlat_to_bng(*_ipp(store, actor, coverage_app.case_id)))
        wrong = store.upload_track(
            actor, coverage_app.case_id,
            ("from-home.gpx", gpx([(x - 900, y - 900), (x - 700, y - 900)],
                                  start=datetime(2026, 3, 1, 9, 0, tzinfo=UTC))),
            team_id=team.id).track
        before = {t.id for t in store.tracks(actor, coverage_app.case_id)}
    finally:
        store.close()
    sign_in(page, coverage_app.server.url)
    page.get_by_role("link", name="Coverage", exact=True).click()
    wait_for_app_run(page)
    page.get_by_role("tab", name="Tracks").click()
    panel = page.get_by_role("tabpanel", name="Tracks")
    box = panel.locator("input[aria-label='Track']")
    box.click()
    box.fill("from-home")
    page.get_by_role("option", name=re.compile("from-home.gpx")).click()
    panel.get_by_role("button", name="Delete the track").click()
    wait_for_app_run(page)
    # no reason: refused, nothing deleted
    store = open_store(coverage_app.store_url)
    try:
        assert {t.id for t in store.tracks(actor, coverage_app.case_id)} == before
    finally:
        store.close()
    panel.get_by_label("Why delete it (required)").fill("starts at a volunteer's home")
    panel.get_by_role("button", name="Delete the track").click()
    wait_for_app_run(page)
    page.get_by_role("tab", name="Tracks").click()
    expect(page.get_by_text(f"Track {wrong.id} deleted.")).to_be_visible(timeout=20_000)
    store = open_store(coverage_app.store_url)
    try:
        assert {t.id for t in store.tracks(actor, coverage_app.case_id)} == before - {wrong.id}
        audit = store.audit_log(actor, coverage_app.case_id, entity="track",
                                entity_id=wrong.id)
        assert [r.reason for r in audit if r.action == "delete"] == [
            "starts at a volunteer's home"]
    finally:
        store.close()
    hermetic.assert_clean()


def _ipp(store, actor, case_id: int) -> tuple[float, float]:
    case = store.get_case(actor, case_id)
    return case.ipp_lon, case.ipp_lat
