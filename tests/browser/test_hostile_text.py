"""Hostile text in every user field, seen by every role, never runs in a real browser.

Every field a person types — case reference, child's name and description, a
sighting's reporter and description, sector names and notes, team name and lead,
hazard note, handover reason and acknowledger, a family's tip and contact, a
family search note, a link label, a GPS track's file name — holds a payload that
would set a canary (``top.__pwned``, the page title) if it ran. The family,
team-lead and partner pages and the coordinator's pages (cases, case map with
its timeline, sectors, coverage plots, triage, private links, audit log) are
opened, every map shape is hovered and clicked, charts are hovered for their
tooltips, and the canary is checked in the page and in every frame. The team
lead's GPX/KML downloads and the coordinator's GeoJSON export are saved from the
browser and read back with gpxpy and GDAL (pyogrio): the names are the literal
text. The store is the run's backend (SQLite, or PostGIS in the PostGIS run).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import gpxpy
import pyogrio
import pytest
from playwright.sync_api import Browser, Page, expect
from shapely.geometry import box

from casefile import Actor, open_store, utcnow
from tests.browser.conftest import (
    MAP_IFRAME,
    AppServer,
    screenshot,
    start_app,
    wait_for_app_run,
)
from tests.browser.stores import module_store_url

pytestmark = [pytest.mark.browser, pytest.mark.timeout(400)]

PASSWORD = "a long enough password"
PAYLOADS = [
    "<script>top.__pwned=1;top.document.title='pwned'</script>",
    "<img src=x onerror=\"top.__pwned=2;top.document.title='pwned'\">",
    "`);top.__pwned=3;//",
    "${top.__pwned=4}",
    "\"'><img src=x onerror=top.__pwned=5>",
]
ALL = " ".join(PAYLOADS)
SHORT = "<img src=x onerror=top.__pwned=6>"  # fits a case reference (40 characters)
TRACK_NAME = "<img src=x onerror=top.__pwned=7>.gpx"
SQ = [box(-0.0995 + i * 0.002, 51.5135, -0.0988 + i * 0.002, 51.5140) for i in range(5)]


@pytest.fixture(scope="module")
def hostile() -> Iterator[tuple[AppServer, dict[str, str]]]:
    with module_store_url("hostile") as url:
        yield from _hostile_app(url)


def _hostile_app(url: str) -> Iterator[tuple[AppServer, dict[str, str]]]:
    store = open_store(url)
    user = store.create_user(Actor.system("test"), "coord.hostile", PAYLOADS[1][:100], PASSWORD)
    coord = Actor(user.id, user.display_name, "coordinator")
    case = store.create_case(
        coord, reference=SHORT, child_name=PAYLOADS[0][:80], age=12, risk="high",
        reported_missing_at=utcnow() - timedelta(hours=5), ipp=(51.5137, -0.0990),
        description=ALL, notes=ALL)
    store.add_sighting(coord, case.id, lat=51.5136, lon=-0.0985,
                       seen_at=utcnow() - timedelta(hours=2), source="public",
                       status="verified", reported_by=PAYLOADS[2], reporter_contact=PAYLOADS[3],
                       description=ALL)
    team = store.create_team(coord, case.id, name=PAYLOADS[1][:120], org_type="met_bcu",
                             lead_name=PAYLOADS[4], contact=ALL)
    s1 = store.create_sector(coord, case.id, geometry=SQ[0], name=PAYLOADS[1], notes=ALL)
    s1 = store.assign_sector(coord, s1.id, team.id, version=s1.version)
    s2 = store.create_sector(coord, case.id, geometry=SQ[1], name=PAYLOADS[2], notes=ALL)
    s2 = store.assign_sector(coord, s2.id, team.id, version=s2.version)
    s2 = store.start_sector(coord, s2.id, version=s2.version)
    store.finish_sector(coord, s2.id, version=s2.version, search_type="hasty", assurance="low",
                        not_searched=SQ[1].buffer(-0.0002), not_searched_reason=ALL, notes=ALL)
    store.add_hazard(coord, case.id, kind="unsafe", geometry=SQ[4], note=ALL)
    h = store.create_handover(coord, case.id, from_unit="E23000001",
                              to_unit="city of london police", reason=ALL,
                              sector_ids=[s1.id, s2.id])
    h2 = store.create_handover(coord, case.id, from_unit="E23000001",
                               to_unit="city of london police", reason=PAYLOADS[3])
    store.acknowledge_handover(coord, h2.id, by_name=PAYLOADS[1][:120], version=h2.version)
    tokens = {
        "family": store.issue_link(coord, case.id, role="family", label=ALL[:120]).token,
        "team": store.issue_link(coord, case.id, role="team_lead", label=PAYLOADS[0],
                                 team_id=team.id).token,
        "partner": store.issue_link(coord, case.id, role="partner", label=PAYLOADS[4],
                                    unit="city of london police").token,
    }
    fam = store.open_link(tokens["family"]).actor
    store.send_tip(fam, case.id, lat=51.5136, lon=-0.0985, seen_at=utcnow() - timedelta(hours=1),
                   text=ALL, contact=PAYLOADS[4])
    store.report_family_search(fam, case.id, geometry=SQ[2],
                               searched_at=utcnow() - timedelta(hours=1), note=ALL)
    # a team lead's GPS track with a hostile file name, on the searched sector
    from geo.crs import lonlat_to_bng
    from tests.casefile.test_tracks import gpx

    lead = store.open_link(tokens["team"]).actor
    (x0, x1), (y0, y1) = lonlat_to_bng([SQ[1].bounds[0], SQ[1].bounds[2]],
                                       [SQ[1].bounds[1], SQ[1].bounds[3]])
    mid = (float(y0) + float(y1)) / 2
    store.upload_track(lead, case.id, (TRACK_NAME, gpx([(float(x0) + 5, mid),
                                                        (float(x1) - 5, mid)])),
                       team_id=team.id, sector_id=s2.id)
    store.close()
    assert h.id
    server = start_app({"WAYHOME_DATABASE_URL": url})
    try:
        yield server, {**tokens, "case_id": str(case.id)}
    finally:
        server.stop()


def _poke_maps(page: Page) -> None:
    """Hover and click every shape on every map so tooltips and popups render."""
    for frame in page.frames:
        if "streamlit_folium" not in frame.url:
            continue
        shapes = frame.locator("path.leaflet-interactive, .leaflet-marker-icon")
        for i in range(min(shapes.count(), 12)):
            try:
                shapes.nth(i).hover(timeout=2000, force=True)
                shapes.nth(i).click(timeout=2000, force=True)
                page.wait_for_timeout(150)
            except Exception:
                pass


def _assert_canary(page: Page) -> None:
    assert page.evaluate("() => window.__pwned") is None
    assert page.title() != "pwned"
    for frame in page.frames:
        try:
            assert frame.evaluate("() => window.__pwned") is None
        except AssertionError:
            raise
        except Exception:
            pass


def _hover_charts(page: Page) -> list[str]:
    """Move over every chart so Vega draws its tooltips; returns the tooltip texts seen."""
    seen: list[str] = []
    for chart in page.locator("[data-testid='stVegaLiteChart']").all():
        try:
            chart.scroll_into_view_if_needed(timeout=3000)
            box = chart.bounding_box()
        except Exception:
            continue
        if not box:
            continue
        for fx in (0.2, 0.35, 0.5, 0.65, 0.8, 0.95):
            for fy in (0.2, 0.4, 0.6, 0.8):
                page.mouse.move(box["x"] + box["width"] * fx, box["y"] + box["height"] * fy)
                page.wait_for_timeout(40)
                tip = page.locator("#vg-tooltip-element")
                if tip.count() and tip.first.is_visible():
                    seen.append(tip.first.inner_text())
    return seen


def _download(page: Page, button: str, dest: Path) -> Path:
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name=button).click()
    path = dest / info.value.suggested_filename
    info.value.save_as(path)
    return path


@pytest.mark.parametrize("role", ["family", "team", "partner"])
def test_link_pages_show_hostile_text_as_text(browser: Browser, hostile, role,
                                               tmp_path_factory):
    server, tokens = hostile
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"{server.url}/?link={tokens[role]}")
    wait_for_app_run(page)
    page.locator(MAP_IFRAME).first.wait_for(timeout=30_000)
    page.wait_for_timeout(2000)
    _poke_maps(page)
    page.wait_for_timeout(500)
    screenshot(page, f"hostile-{role}", full_page=True)
    _assert_canary(page)
    if role == "team":  # a hostile team name and sector names are shown literally
        expect(page.get_by_text(PAYLOADS[1][:40]).first).to_be_visible()
        dest = tmp_path_factory.mktemp("downloads")
        gpx_file = _download(page, "Download GPX (GPS)", dest)
        kml_file = _download(page, "Download KML (phone maps)", dest)
        _assert_canary(page)
        parsed = gpxpy.parse(gpx_file.read_text(encoding="utf-8"))
        assert sorted(t.name for t in parsed.tracks) == ["S1", "S2"]
        descs = " ".join(t.description or "" for t in parsed.tracks)
        assert PAYLOADS[1] in descs and PAYLOADS[2] in descs  # the names, literally
        frame = pyogrio.read_dataframe(kml_file)
        assert sorted(frame["sector_name"]) == sorted([PAYLOADS[1], PAYLOADS[2]])
        title = ET.parse(kml_file).getroot().find(
            "{http://www.opengis.net/kml/2.2}Document/{http://www.opengis.net/kml/2.2}name")
        assert title is not None and title.text == f"{PAYLOADS[1][:120]} sectors"
    if role == "partner":
        expect(page.get_by_text("${top.__pwned=4}").first).to_be_visible()
        # the family's searched ground is listed as theirs, unchecked
        expect(page.get_by_text("(family-reported, not checked)")).to_be_visible()
    page.context.close()


def test_coordinator_pages_show_hostile_text_as_text(browser: Browser, hostile,
                                                     tmp_path_factory):
    server, tokens = hostile
    page = browser.new_context(accept_downloads=True).new_page()
    page.goto(f"{server.url}/sign-in")
    wait_for_app_run(page)
    page.get_by_role("textbox", name="Username").fill("coord.hostile")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app_run(page)
    case = tokens["case_id"]
    for path in ("cases", "triage", "links", "audit-log"):
        page.goto(f"{server.url}/{path}?case={case}")
        wait_for_app_run(page)
        page.wait_for_timeout(1000)
        screenshot(page, f"hostile-coordinator-{path}", full_page=True)
        _assert_canary(page)
        if path == "triage":  # the tip's text and the family search note, literally
            body = page.locator("body").inner_text()
            assert "<script>top.__pwned=1" in body and "${top.__pwned=4}" in body
        if path == "links":  # the link labels, literally
            expect(page.get_by_text(PAYLOADS[0]).first).to_be_visible()
    # maps and the sightings timeline
    for path in ("case-map", "sectors"):
        page.goto(f"{server.url}/{path}?case={case}")
        wait_for_app_run(page)
        page.locator(MAP_IFRAME).first.wait_for(
            timeout=30_000)
        page.wait_for_timeout(2000)
        _poke_maps(page)
        _hover_charts(page)
        page.wait_for_timeout(500)
        screenshot(page, f"hostile-coordinator-{path}")
        _assert_canary(page)
    # the sectors export, as GeoJSON, read back with GDAL
    page.get_by_role("tab", name="Exports").click()
    page.wait_for_timeout(500)
    fmt = page.locator("input[aria-label='Format']")
    fmt.click()
    page.get_by_role("option", name="GeoJSON").click()
    wait_for_app_run(page)
    dest = tmp_path_factory.mktemp("coordinator-downloads")
    with page.expect_download(timeout=30_000) as info:
        page.get_by_role("button", name=re.compile(r"as GeoJSON$")).click()
    geojson = dest / "sectors.geojson"
    info.value.save_as(geojson)
    _assert_canary(page)
    frame = pyogrio.read_dataframe(geojson)
    assert {PAYLOADS[1], PAYLOADS[2]} <= set(frame["name"])
    # the coverage page: plots of effort per team (hostile team name in the legend and
    # tooltips) and the track's hostile file name
    page.goto(f"{server.url}/coverage?case={case}")
    wait_for_app_run(page)
    page.wait_for_timeout(1500)
    _poke_maps(page)
    page.get_by_role("tab", name="Plots").click()
    page.wait_for_timeout(1500)
    charts = page.locator("[data-testid='stVegaLiteChart']")
    expect(charts.first).to_be_visible(timeout=30_000)
    tips = _hover_charts(page)
    screenshot(page, "hostile-coordinator-coverage-plots")
    _assert_canary(page)
    # any tooltip that named the team showed the payload as text, not as markup
    for tip in tips:
        if "pwned" in tip:
            assert "<img src=x" in tip
    page.get_by_role("tab", name="Passes").click()
    page.wait_for_timeout(800)
    _assert_canary(page)
    page.context.close()
