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
from playwright.sync_api import Page, expect

from casefile import Actor, open_store
from geo.streets import read_streets
from layers.sectors import LABEL_ZOOM
from tests.browser.conftest import (
    MAP_IFRAME,
    AppServer,
    map_frame,
    map_frame_handle,
    screenshot,
    start_app,
    wait_for_app_run,
    wait_for_map,
)
from tests.browser.drawing import draw_polygon, label_clashes, wait_for_still_map
from wayhome.demo import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "demo password for sector tests"
STREETS = Path(__file__).resolve().parents[2] / "data" / "streets" / "southwark_lambeth.osm.pbf"
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
    # the real Southwark/Lambeth streets, for street-bounded sectors
    store.load_streets(Actor.system("test"), read_streets(STREETS), source=STREETS.name)
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
    draw_polygon(page, FIRST)
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
    draw_polygon(page, SECOND)
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

    # labels appear when zoomed in: ID and status, the hostile name never as markup;
    # where one would cover another label (or the last-known location's) it is left off
    expect(frame.locator(".wayhome-sector-label").first).to_be_visible()
    expect(frame.locator(".wayhome-sector-label").filter(
        has_text=re.compile(r"^S[12] · draft"))).not_to_have_count(0)
    assert label_clashes(map_frame_handle(page))[1] == 0
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
    draw_polygon(page, [(300, 200), (400, 200), (400, 300), (300, 300)])
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
    overlap = box.get_by_text(re.compile("Overlap — not saved"))
    expect(overlap.or_(page.get_by_text(re.compile(r"Saved \d+ sectors")))).to_be_visible(
        timeout=30_000)
    if overlap.count():
        box.get_by_text("clip to the ground not yet covered").click()
        wait_for_app_run(page)
        box.get_by_role("button", name="Confirm").click()
        wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"Saved \d+ sectors"))).to_be_visible(timeout=30_000)
    after = stored_sectors(sector_app)
    assert len(after) > before
    assert {s.origin for s in after[before:]} == {"grid"}
    # the map shows the case (planning point, last-known location) and its labels,
    # at the first zoom that shows them (the most crowded), never cover each other
    frame = wait_for_map(page)
    expect(frame.locator(".wayhome-ipp")).to_have_count(1, timeout=15_000)
    leaflet = map_frame_handle(page)
    centre = after[-1].geometry.centroid
    leaflet.evaluate("([lat, lon, z]) => window.map_div.setView([lat, lon], z, {animate: false})",
                     [centre.y, centre.x, LABEL_ZOOM])
    expect(frame.locator(".wayhome-sector-label").first).to_be_attached(timeout=15_000)
    shown, clashes = label_clashes(leaflet)
    assert shown >= 1 and clashes == 0, (shown, clashes)

    page.get_by_role("link", name="Handover").click()
    wait_for_app_run(page)
    wait_for_map(page)
    form = page.locator("[data-testid='stForm']").filter(has_text="Record handover")
    # nothing is chosen for the coordinator; the units the case's ground touches come first
    form.get_by_role("button", name="Record handover").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Choose the unit handing over")).to_be_visible(timeout=20_000)
    form.get_by_label("From", exact=True).click()
    page.get_by_role("option").first.click()
    form.get_by_label("To", exact=True).click()
    expect(page.get_by_role("option").first).to_contain_text("the case's ground is here")
    page.get_by_role("option").nth(1).click()
    page.get_by_label("Reason").fill("Route crossed the BCU line")
    form.get_by_role("button", name="Record handover").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Handover recorded")).to_be_visible()
    page.get_by_label(re.compile("^Acknowledged for")).fill("PS Example")
    page.get_by_role("button", name="Record acknowledgement").click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile("Acknowledged by PS Example"))).to_be_visible()
    screenshot(page, "handover")
    hermetic.assert_clean()


def map_frame_path(page: Page, cls: str):
    return page.frame_locator(MAP_IFRAME).locator(f"path.{cls}")


# --------------------------------------------------------------------------- more journeys

#: a point half-way along a named street line that is really under the mouse there
#: (not covered by a control), in the map frame's client pixels, or null
_NAMED_STREET_POINT = """() => {
    for (const el of document.querySelectorAll("path.wayhome-street-named")) {
        const half = el.getPointAtLength(el.getTotalLength() / 2);
        const pt = el.ownerSVGElement.createSVGPoint();
        pt.x = half.x; pt.y = half.y;
        const c = pt.matrixTransform(el.getScreenCTM());
        if (document.elementFromPoint(c.x, c.y) === el) { return [c.x, c.y]; }
    }
    return null;
}"""


def see_streets_without_tiles(page: Page) -> None:
    """On this tile-less map (WAYHOME_TILES=none) at street zoom the street layer has
    switched itself on, fetched only the tiles in view, and names a street on hover."""
    container = map_frame(page).locator("#map_div")
    expect(container).to_have_attribute("data-wayhome-streets", "loaded", timeout=20_000)
    expect(map_frame_path(page, "wayhome-street-named").first).to_be_attached()
    assert int(container.get_attribute("data-wayhome-streets-count") or 0) > 20
    # only the view's tiles were sent: far less than the whole extract's tiles
    fetched = int(container.get_attribute("data-wayhome-streets-bytes") or 0)
    assert 0 < fetched < 200_000
    leaflet = map_frame_handle(page)
    point = leaflet.evaluate(_NAMED_STREET_POINT)
    assert point is not None, "no named street line to hover"
    frame_box = page.locator(MAP_IFRAME).first.bounding_box()
    assert frame_box is not None
    page.mouse.move(frame_box["x"] + point[0], frame_box["y"] + point[1])
    tip = map_frame(page).locator(".wayhome-street-tip")
    expect(tip).to_be_visible(timeout=5_000)
    names = set(read_streets(STREETS)["name"])
    shown = tip.inner_text().splitlines()
    assert shown[0] in {"Street", "Path", "Railway", "Water"}, shown
    assert shown[-1] in names, shown
    screenshot(page, "make-sectors-streets-without-tiles")
    page.mouse.move(frame_box["x"] + 5, frame_box["y"] + frame_box["height"] / 2)


def to_pixels(page: Page, lonlat_points) -> list[tuple[int, int]]:
    """Map-container pixels of lon/lat points, asked of Leaflet in the map's frame."""
    leaflet = map_frame_handle(page)
    return [tuple(round(v) for v in leaflet.evaluate(
        "([lat, lon]) => { const p = window.map_div.latLngToContainerPoint([lat, lon]);"
        " return [p.x, p.y]; }", [lat, lon])) for lon, lat in lonlat_points]


def test_import_a_shapefile_chosen_as_parts_is_previewed_then_saved(
    page: Page, sector_app: SectorApp, hermetic, tmp_path
):
    import geopandas as gpd
    from shapely.geometry import box

    # two 200 m squares in Croydon (far from the other tests' sectors), written in
    # British National Grid with an ESRI-worded .prj, as a partner force's GIS does
    frame = gpd.GeoDataFrame(
        {"name": ["Park <b>A</b>", "Estate B"]},
        geometry=[box(533_000, 165_000, 533_200, 165_200), box(533_400, 165_000, 533_600,
                                                                165_200)],
        crs=27700,
    )
    frame.to_file(tmp_path / "Partner sectors.shp", engine="pyogrio")
    (tmp_path / "Partner sectors.prj").write_text(
        'PROJCS["British_National_Grid",GEOGCS["GCS_OSGB_1936",DATUM["D_OSGB_1936",'
        'SPHEROID["Airy_1830",6377563.396,299.3249646]],PRIMEM["Greenwich",0.0],'
        'UNIT["Degree",0.0174532925199433]],PROJECTION["Transverse_Mercator"],'
        'PARAMETER["False_Easting",400000.0],PARAMETER["False_Northing",-100000.0],'
        'PARAMETER["Central_Meridian",-2.0],PARAMETER["Scale_Factor",0.9996012717],'
        'PARAMETER["Latitude_Of_Origin",49.0],UNIT["Meter",1.0]]'
    )
    parts = sorted(str(p) for p in tmp_path.glob("Partner sectors.*"))
    before = len(stored_sectors(sector_app))
    sign_in(page, sector_app.url)
    page.get_by_role("link", name="Make sectors").click()
    wait_for_app_run(page)
    wait_for_map(page)
    page.get_by_role("tab", name="Import a file").click()
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(parts)
    wait_for_app_run(page)
    page.get_by_role("button", name="Preview the file").click()
    wait_for_app_run(page)
    box_ = page.locator(".st-key-tools_preview_box")
    expect(box_).to_contain_text("Preview: 2 new sectors (not saved)", timeout=20_000)
    expect(box_).to_contain_text("2 polygons read from")
    expect(map_frame_path(page, "wayhome-candidate")).to_have_count(2, timeout=15_000)
    assert len(stored_sectors(sector_app)) == before  # a preview saves nothing
    screenshot(page, "make-sectors-import-preview")
    page.get_by_role("button", name="Save these sectors").click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"Saved 2 sectors"))).to_be_visible(timeout=30_000)
    new = stored_sectors(sector_app)[before:]
    assert [s.name for s in new] == ["Park <b>A</b>", "Estate B"]
    assert {s.origin for s in new} == {"imported"}
    assert all(abs(s.area_m2 - 40_000) < 50 for s in new)  # within a metre on each side
    hermetic.assert_clean()


def test_status_actions_through_to_searched_with_a_part_drawn_as_not_searched(
    page: Page, sector_app: SectorApp, hermetic
):
    from shapely.geometry import Point, box

    from geo.crs import geoms_to_bng, geoms_to_lonlat

    store = open_store(sector_app.store_url)
    try:
        coord = store.authenticate("demo.coordinator", PASSWORD)
        case = store.get_case(coord, sector_app.case_id)
        lat, lon = case.ipp
        # a 400 m square 1.5 km east of the IPP, away from the drawn sectors
        x, y = geoms_to_bng(Point(lon, lat)).coords[0]
        square = geoms_to_lonlat(box(x + 1300, y - 200, x + 1700, y + 200))
        sector = store.create_sector(coord, case.id, geometry=square, name="Status walk",
                                     on_overlap="keep", reason="browser test layout")
        if not any(t.name == "Team Walk" for t in store.teams(coord, case.id)):
            store.create_team(coord, case.id, name="Team Walk", org_type="volunteer_group")
    finally:
        store.close()
    sign_in(page, sector_app.url)
    page.get_by_role("link", name="Sectors", exact=True).click()
    wait_for_app_run(page)
    frame = wait_for_map(page)
    expect(frame.get_by_role("link", name="Draw a polygon")).to_be_visible(timeout=20_000)
    page.get_by_label("Sector (or click one on the map)").click()
    page.get_by_role("option", name=re.compile(f"^{sector.code} · Status walk")).click()
    wait_for_app_run(page)
    steps = (("Mark ready", f"{sector.code} is ready."),
             ("Assign", f"{sector.code} assigned to Team Walk."),
             ("Start searching", f"{sector.code} is in progress."))
    for button, done in steps:
        if button == "Assign":
            form = page.locator("[data-testid='stForm']").filter(has_text="Assign to team")
            expect(form).to_have_count(1)  # the form of the previous version is gone
            form.get_by_label("Assign to team").click()
            page.get_by_role("option", name="Team Walk").click()
            form.get_by_text("keep (reason)").click()
            form.get_by_label("Reason (needed to keep an overlap)").fill("test layout")
        page.get_by_role("button", name=button, exact=True).click()
        wait_for_app_run(page)
        # the page reruns twice after an action: go on once it says what was done
        expect(page.get_by_text(done)).to_be_visible(timeout=20_000)
        wait_for_app_run(page)
    # the sector's briefing pack, for its team, from the sector's details
    with page.expect_download(timeout=60_000) as got:
        page.get_by_role("button", name=f"Briefing pack for {sector.code} (PDF)").click()
    import pypdf

    pack = pypdf.PdfReader(got.value.path())
    first = pack.pages[0].extract_text()
    assert f"Sector {sector.code}" in first and "Team Walk" in first
    assert "OFFICIAL-SENSITIVE" in first
    # the part not searched, drawn inside the sector on the map
    leaflet = map_frame_handle(page)
    leaflet.evaluate("([lat, lon]) => window.map_div.setView([lat, lon], 16, {animate: false})",
                     [square.centroid.y, square.centroid.x])
    page.wait_for_timeout(500)
    minx, miny, maxx, maxy = square.bounds
    w, h = maxx - minx, maxy - miny
    # the north-east corner: the legend folds over the south-west of the map
    hole = [(minx + 0.6 * w, miny + 0.6 * h), (minx + 0.9 * w, miny + 0.6 * h),
            (minx + 0.9 * w, miny + 0.9 * h), (minx + 0.6 * w, miny + 0.9 * h)]
    page.get_by_text("the part of the chosen sector NOT searched", exact=True).click()
    wait_for_app_run(page)
    draw_polygon(page, to_pixels(page, hole))
    wait_for_app_run(page)
    mark = page.locator(".st-key-mark_searched")
    expect(mark.get_by_text("The part NOT searched is drawn on the map")).to_be_visible(
        timeout=20_000)
    mark.get_by_label("What was NOT searched inside it").fill("gardens <b>12</b>: locked")
    mark.get_by_role("button", name="Mark searched").click()
    wait_for_app_run(page)
    # no assurance is chosen for the coordinator: the form asks for one
    expect(page.get_by_text("Choose the assurance")).to_be_visible(timeout=20_000)
    mark.get_by_label("Assurance").click()
    page.get_by_role("option", name="medium").click()
    mark.get_by_role("button", name="Mark searched").click()
    wait_for_app_run(page)
    # 16 ha marked searched seconds after it started: a question, not a block
    question = page.get_by_text(re.compile(f"{sector.code} covers 16.0 ha.*Was all of it"))
    expect(question).to_be_visible(timeout=20_000)
    assert next(s for s in stored_sectors(sector_app) if s.id == sector.id).status != "searched"
    page.get_by_role("button", name="Yes, all of it was searched: record it").click()
    wait_for_app_run(page)
    expect(page.get_by_text(f"{sector.code} marked searched.")).to_be_visible(timeout=20_000)
    expect(frame.locator("path.wayhome-sector-not_searched")).to_have_count(1, timeout=15_000)
    screenshot(page, "sectors-searched-with-part-not-searched")
    done = next(s for s in stored_sectors(sector_app) if s.id == sector.id)
    assert done.status == "searched" and done.not_searched is not None
    assert done.not_searched_reason == "gardens <b>12</b>: locked"
    assert 0.05 < done.not_searched.area / done.geometry.area < 0.15  # about 9 %
    hermetic.assert_clean()


def test_exports_one_sector_as_gpx_and_the_case_as_a_geopackage(
    page: Page, sector_app: SectorApp, hermetic, tmp_path
):
    import gpxpy
    import pyogrio

    saved = stored_sectors(sector_app)
    assert saved, "earlier tests saved sectors"
    sign_in(page, sector_app.url)
    page.get_by_role("link", name="Sectors", exact=True).click()
    wait_for_app_run(page)
    page.get_by_role("tab", name="Exports").click()
    page.get_by_text("one sector", exact=True).click()
    wait_for_app_run(page)
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name=re.compile(r"Download 1 sector\(s\) as GPX")).click()
    gpx = gpxpy.parse(open(info.value.path(), encoding="utf-8").read())
    names = [t.name for t in gpx.tracks] + [r.name for r in gpx.routes]
    assert names and names[0].startswith(saved[0].code)
    page.get_by_text("Prepare the whole case as a GeoPackage (QGIS / ArcGIS)").click()
    wait_for_app_run(page)
    with page.expect_download(timeout=60_000) as info:
        page.get_by_role("button", name="Download the case GeoPackage").click()
    path = tmp_path / "case.gpkg"
    info.value.save_as(path)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert {"sectors", "sightings", "boundary_borough", "boundary_bcu",
            "boundary_force"} <= layers
    sec = pyogrio.read_dataframe(path, layer="sectors")
    assert sorted(sec["id"]) == sorted(s.code for s in saved)
    assert sec.crs.to_epsg() == 27700
    hermetic.assert_clean()


def test_street_sectors_are_previewed_named_by_their_streets_then_saved(
    page: Page, sector_app: SectorApp, hermetic
):
    before = len(stored_sectors(sector_app))
    sign_in(page, sector_app.url)
    page.get_by_role("link", name="Make sectors").click()
    wait_for_app_run(page)
    wait_for_map(page)
    # a box of about 250 m by 270 m on Union Street, Southwark (in the loaded extract)
    lat, lon = 51.5030, -0.1020
    d_lat, d_lon = 0.0012, 0.0018
    corners = [(lon - d_lon, lat - d_lat), (lon + d_lon, lat - d_lat),
               (lon + d_lon, lat + d_lat), (lon - d_lon, lat + d_lat)]
    wait_for_still_map(page)
    leaflet = map_frame_handle(page)
    for _ in range(10):
        # the view is centred west of it: the legend folds over the south-west of the map
        leaflet.evaluate(
            "([lat, lon]) => window.map_div.setView([lat, lon], 16, {animate: false})",
            [lat + 0.0003, lon - 0.0034])
        page.wait_for_timeout(500)
        width, height = leaflet.evaluate(
            "() => { const s = window.map_div.getSize(); return [s.x, s.y]; }")
        pixels = to_pixels(page, corners)
        # a rerun may have put the map back on the case before the view settled
        if all(20 < x < width - 20 and 20 < y < height - 20 for x, y in pixels):
            break
    see_streets_without_tiles(page)
    draw_polygon(page, pixels, zoom=16)
    wait_for_app_run(page)
    expect(page.get_by_text("Grid area drawn")).to_be_visible(timeout=20_000)
    page.get_by_text("streets", exact=True).click()
    page.get_by_label("Cell size (metres)").fill("100")
    page.get_by_role("button", name="Preview the grid").click()
    wait_for_app_run(page)
    box = page.locator(".st-key-tools_preview_box")
    expect(box).to_contain_text(re.compile(r"Preview: \d+ new sectors \(not saved\)"),
                                timeout=30_000)
    expect(box).to_contain_text("sectors bounded by streets")
    expect(map_frame_path(page, "wayhome-candidate").first).to_be_attached(timeout=15_000)
    screenshot(page, "make-sectors-streets-preview")
    page.get_by_role("button", name="Save these sectors").click()
    wait_for_app_run(page)
    if box.get_by_text(re.compile("Overlap — not saved")).count():
        box.get_by_text("clip to the ground not yet covered").click()
        box.get_by_role("button", name="Confirm").click()
        wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"Saved \d+ sectors"))).to_be_visible(timeout=30_000)
    new = stored_sectors(sector_app)[before:]
    assert len(new) >= 3
    assert any("Union Street" in s.name for s in new), [s.name for s in new]

    # round the last-known location (Pimlico) the extract has no streets: the page
    # falls back to postcode cells and says so
    page.get_by_text("streets", exact=True).click()
    page.get_by_text("a ring round the last-known location").click()
    page.get_by_label("Ring radius (metres)").fill("150")
    page.get_by_role("button", name="Preview the grid").click()
    wait_for_app_run(page)
    expect(box).to_contain_text("No street extract is loaded for this area, so these "
                                "sectors are postcode cells", timeout=30_000)
    expect(box).to_contain_text(re.compile(r"SW1V \d"))
    screenshot(page, "make-sectors-postcode-cells")
    page.get_by_role("button", name="Discard the preview").click()
    wait_for_app_run(page)
    hermetic.assert_clean()


def stored_tasks(app: SectorApp) -> list:
    store = open_store(app.store_url)
    try:
        actor = store.authenticate("demo.coordinator", PASSWORD)
        assert actor is not None
        return store.tasks(actor, app.case_id)
    finally:
        store.close()


def _cctv_task(page: Page, title: str, start: str, end: str) -> None:
    form = page.locator("[data-testid='stForm']").first
    form.get_by_label("Title (what the team reads)").fill(title)
    form.get_by_label("Place: postcode, lat, lon or grid reference").fill("51.5040, -0.0950")
    form.get_by_label("Address or premises").fill("Union Street Express, 2 Union Street")
    form.get_by_label("From (London, HH:MM)").fill(start)
    form.get_by_label("To (London, HH:MM)").fill(end)
    form.get_by_role("button", name="Check and save").click()
    wait_for_app_run(page)


def test_a_second_cctv_task_for_the_same_shop_and_window_is_flagged_before_saving(
        page: Page, sector_app: SectorApp, hermetic):
    sign_in(page, sector_app.url)
    page.get_by_role("link", name="Tasks", exact=True).click()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name=re.compile(r"^Tasks · "))).to_be_visible()
    # 1. CCTV at the shop, 14:00-16:00: no repeat, saved
    page.get_by_label("Type of task").click()
    page.get_by_role("option", name="CCTV collection").click()
    wait_for_app_run(page)
    _cctv_task(page, "CCTV <b>shop</b>", "14:00", "16:00")
    expect(page.get_by_text("Task T1 saved: CCTV collection.")).to_be_visible(timeout=20_000)
    frame = wait_for_map(page)
    expect(frame.locator(".wayhome-task")).to_have_count(1, timeout=15_000)
    # 2. the same shop, 15:00-17:00: flagged BEFORE saving, naming T1 and its status
    _cctv_task(page, "CCTV again", "15:00", "17:00")
    warning = page.locator(".st-key-task_repeat_warning")
    expect(warning.get_by_text(re.compile(r"This task repeats 1 task\(s\)"))).to_be_visible(
        timeout=20_000)
    expect(warning).to_contain_text("T1")
    expect(warning).to_contain_text("planned")
    assert len(stored_tasks(sector_app)) == 1  # nothing saved while the warning shows
    warning.scroll_into_view_if_needed()
    screenshot(page, "tasks-repeat-warning")
    # keep needs a reason; cancel drops it
    warning.get_by_role("button", name="Keep anyway").click()
    wait_for_app_run(page)
    expect(page.get_by_text("a reason is needed")).to_be_visible()
    page.locator(".st-key-task_repeat_warning").get_by_role("button", name="Cancel").click()
    wait_for_app_run(page)
    expect(page.locator(".st-key-task_repeat_warning")).to_have_count(0)
    saved = stored_tasks(sector_app)
    assert [(x.code, x.title) for x in saved] == [("T1", "CCTV <b>shop</b>")]
    assert frame.locator("b", has_text="shop").count() == 0  # never markup on the map
    screenshot(page, "tasks-list", full_page=True)
    hermetic.assert_clean()
