"""Private links in real Chromium on a phone-sized screen (390×844).

The store is filled directly (a case with shared and unshared sectors, a hazard
area, a sighting, a team) and links are issued as the link manager does. The
family link must show only shared ground and no personal data; revoking it ends
the open page at its next poll; a revoked or unknown link gets one clear page.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from shapely.geometry import Point, box

from casefile import Actor, open_store, to_london, utcnow
from casefile import schema as t
from geo import lookup_postcode, read_streets
from layers.view import view_zoom
from tests.browser import axe
from tests.browser.conftest import (
    MAP_IFRAME,
    AppServer,
    map_frame_handle,
    screenshot,
    start_app,
    wait_for_app_run,
)
from tests.browser.drawing import draw_polygon, label_clashes, wait_for_still_map
from tests.browser.stores import module_store_url

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PHONE = {"width": 390, "height": 844}
PASSWORD = "a long enough password"
SQ = [box(-0.0995 + i * 0.002, 51.5135, -0.0988 + i * 0.002, 51.5140) for i in range(5)]
#: the family map opens fitted to the shared ground (S1-S3) and the hazard area
FAMILY_ZOOM = view_zoom([*SQ[:3], SQ[4]], height_px=380)
#: the rendezvous point's words: on the team lead's phone, never on the family's
RV_WORDS = "Meet by the north gate"
#: searched ground round Borough High Street, in the Southwark street fixture
BOROUGH = box(-0.0948, 51.5001, -0.0919, 51.5025)
STREETS = Path(__file__).resolve().parents[2] / "data" / "streets" / "southwark_lambeth.osm.pbf"
SECRETS = ["Robin", "Green school jumper", "Sam Passer-by", "07700 900123", "12 Secret Road",
           "Acacia Avenue", "Lead Person", "Scene note", "Flat 3, 14 Redcross Way", "SE1 9HR",
           "Visit Jay", "Ask for his mum"]


@dataclass
class Linked:
    server: AppServer
    store_url: str
    case_id: int
    family: str
    family_link_id: int
    revoked: str
    team: str
    coord: Actor
    other_case_id: int
    expired: str
    partner: str


def _seed(store_url: str) -> dict:
    store = open_store(store_url)
    try:
        user = store.create_user(Actor.system("test"), "coord.links", "Coordinator Links",
                                 PASSWORD)
        coord = Actor(user.id, user.display_name, "coordinator")
        case = store.create_case(
            coord, reference="LINK-1", child_name="Robin", age=12, risk="high",
            reported_missing_at=utcnow() - timedelta(hours=5), ipp=(51.5137, -0.0990),
            home=(51.5155, -0.0922), description="Green school jumper", notes="n")
        # the family page calls the child what the coordinator chose (never "Robin" here)
        case = store.update_case(coord, case.id, version=case.version, family_name="Robbie",
                                 liaison_name="DC Jo Liaison", liaison_phone="07700 900888")
        store.add_sighting(coord, case.id, lat=51.5136, lon=-0.0985,
                           seen_at=utcnow() - timedelta(hours=2), source="public",
                           status="verified", reported_by="Sam Passer-by",
                           reporter_contact="07700 900123", description="by the steps")
        team = store.create_team(coord, case.id, name="Red", org_type="met_bcu",
                                 lead_name="Lead Person")
        done = store.create_sector(coord, case.id, geometry=SQ[0], name="Acacia Avenue")
        done = store.assign_sector(coord, done.id, team.id, version=done.version)
        done = store.start_sector(coord, done.id, version=done.version)
        store.finish_sector(coord, done.id, version=done.version, search_type="hasty",
                            assurance="medium")
        going = store.create_sector(coord, case.id, geometry=SQ[1], name="Park")
        going = store.assign_sector(coord, going.id, team.id, version=going.version)
        store.start_sector(coord, going.id, version=going.version)
        planned = store.create_sector(coord, case.id, geometry=SQ[2], name="Market")
        store.set_sector_status(coord, planned.id, "ready", version=planned.version)
        secret = store.create_sector(coord, case.id, geometry=SQ[3], name="12 Secret Road",
                                     search_type="property")
        store.set_sector_status(coord, secret.id, "ready", version=secret.version)
        store.add_hazard(coord, case.id, kind="unsafe", geometry=SQ[4], note="Scene note")
        store.set_rendezvous(coord, case.id, version=0, place="51.5132, -0.0985",
                             words=RV_WORDS)
        # enquiry tasks: a friend's address checked (no trace), a CCTV still to collect;
        # the family reads "1 place has been checked" and nothing of where
        visit = store.add_task(coord, case.id, kind="visit_friend", title="Visit Jay",
                               place_lonlat=Point(-0.0950, 51.5040),
                               address="Flat 3, 14 Redcross Way", postcode="SE1 9HR",
                               note="Ask for his mum", team_id=team.id)
        store.set_task_status(coord, visit.id, "no_trace", version=visit.version,
                              result_note="Not seen since Friday")
        store.add_task(coord, case.id, kind="cctv", title="CCTV at the station",
                       place_lonlat=Point(-0.0985, 51.5136))
        store.add_task(coord, case.id, kind="house_to_house", title="Doors on Redcross Way",
                       place_lonlat=Point(-0.0948, 51.5036), street="Redcross Way",
                       side="odd", team_id=team.id)
        # a second case, which no link of the first may show
        other = store.create_case(
            coord, reference="LINK-2", child_name="Jordan", age=9, risk="high",
            reported_missing_at=utcnow() - timedelta(hours=3), ipp=(51.5137, -0.0990),
            description="Blue raincoat", notes="n")
        b_team = store.create_team(coord, other.id, name="Blue", org_type="met_bcu")
        b_sector = store.create_sector(coord, other.id, geometry=SQ[2].buffer(0.001),
                                       name="Other case ground")
        store.assign_sector(coord, b_sector.id, b_team.id, version=b_sector.version)
        expired = store.issue_link(coord, case.id, role="family", label="Expired phone")
        with store.engine.begin() as conn:  # as if its end date had passed
            past = utcnow() - timedelta(minutes=1)
            conn.execute(t.access_links.update().where(t.access_links.c.id == expired.link.id)
                         .values(expires_at=past))
        fam = store.issue_link(coord, case.id, role="family", label="Mum's phone")
        gone = store.issue_link(coord, case.id, role="family", label="Old phone")
        store.revoke_link(coord, gone.link.id)
        lead = store.issue_link(coord, case.id, role="team_lead", label="Red lead",
                                team_id=team.id)
        partner = store.issue_link(coord, case.id, role="partner", label="City desk",
                                   unit="city of london police")
        return dict(case_id=case.id, family=fam.token, family_link_id=fam.link.id,
                    revoked=gone.token, team=lead.token, coord=coord, other_case_id=other.id,
                    expired=expired.token, partner=partner.token)
    finally:
        store.close()


@pytest.fixture(scope="module")
def linked() -> Iterator[Linked]:
    with module_store_url("links") as url:
        seeded = _seed(url)
        server = start_app({"WAYHOME_DATABASE_URL": url})
        try:
            yield Linked(server=server, store_url=url, **seeded)
        finally:
            server.stop()


def _phone(browser: Browser) -> Page:
    context = browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True,
                                  has_touch=True)
    return context.new_page()


def _all_text(page: Page) -> str:
    parts = [page.locator("body").inner_text()]
    for frame in page.frames:
        try:
            parts.append(frame.content())
        except Exception:
            pass
    return "\n".join(parts)


def test_family_link_shows_only_shared_ground_on_a_phone(browser: Browser, linked: Linked):
    page = _phone(browser)
    page.goto(f"{linked.server.url}/?link={linked.family}")
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Search progress")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("If you see Robbie, call 999")).to_be_visible()
    expect(page.get_by_text("Being searched now").first).to_be_visible()
    expect(page.get_by_text("Searched today").first).to_be_visible()
    expect(page.get_by_text("means a team has walked")).to_be_visible()
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator("#map_div.leaflet-container").wait_for(timeout=30_000)
    wait_for_still_map(page, zoom=FAMILY_ZOOM)
    screenshot(page, "family-link-phone")
    # the map opened on the shared ground and the hazard area, and they fill it
    box_ = frame.locator("#map_div").bounding_box()
    shapes = [p.bounding_box() for p in frame.locator("path.leaflet-interactive").all()]
    assert len(shapes) == 4, shapes  # S1-S3 and the hazard area; not S4
    left, right = min(s["x"] for s in shapes), max(s["x"] + s["width"] for s in shapes)
    assert box_["x"] <= left and right <= box_["x"] + box_["width"]
    assert right - left > 0.4 * box_["width"], (left, right, box_)
    # the phone map: one folded key, no boundary layer control; the ground fills the map
    legend = frame.locator("[data-testid='wayhome-legend']")
    expect(legend).to_have_count(1)
    expect(legend.locator("details")).not_to_have_attribute("open", "")
    expect(frame.locator(".leaflet-control-layers")).to_have_count(0)
    box = legend.bounding_box()
    assert box is not None and box["width"] < 120 and box["height"] < 60, box
    frame.locator("#map_div").scroll_into_view_if_needed()
    page.wait_for_timeout(500)
    screenshot(page, "family-link-phone-map")
    legend.locator("summary").click()
    expect(legend.get_by_text("Searched by family or volunteers")).to_be_visible()
    screenshot(page, "family-link-phone-key-open")
    legend.locator("summary").click()
    expect(page.get_by_text("1 place has been checked")).to_be_visible()
    text = _all_text(page)
    for secret in SECRETS:
        assert secret not in text, secret
    assert RV_WORDS not in text and "wayhome-rv" not in text  # the RV is the teams' business
    # exactly the three shared, planned-or-later sectors are listed (S1, S2, S3), not S4
    body = page.locator("body").inner_text()
    assert "area S1" in body and "area S2" in body and "area S3" in body
    assert "area S4" not in body
    # the URL carries only the opaque token
    assert page.url.endswith(f"?link={linked.family}")
    # a reload, and the phone dropping the tab (a new page on the bookmarked link), keep it
    page.reload()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Search progress")).to_be_visible(timeout=30_000)
    again = page.context.new_page()
    page.close()
    again.goto(f"{linked.server.url}/?link={linked.family}")
    wait_for_app_run(again)
    expect(again.get_by_role("heading", name="Search progress")).to_be_visible(timeout=30_000)
    again.context.close()


def test_family_records_where_they_searched_and_sends_a_tip(browser: Browser, linked: Linked):
    store = open_store(linked.store_url)
    try:
        token = store.issue_link(linked.coord, linked.case_id, role="family",
                                 label="Dad's phone").token
    finally:
        store.close()
    page = _phone(browser)
    page.goto(f"{linked.server.url}/?link={token}")
    wait_for_app_run(page)
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator("#map_div.leaflet-container").wait_for(timeout=30_000)
    frame.locator("#map_div").scroll_into_view_if_needed()
    # "we searched here": draw the area with the polygon tool, once the map has
    # flown to the shared ground and zoomed to fit it
    draw_polygon(page, [(120, 250), (200, 250), (200, 320), (120, 320)], zoom=FAMILY_ZOOM)
    wait_for_app_run(page)
    expect(page.get_by_text("Using the area you drew on the map.")).to_be_visible(
        timeout=20_000)
    page.get_by_label("Anything to add (optional)").fill("We walked the towpath twice")
    page.get_by_role("button", name="Save where we searched").click()
    wait_for_app_run(page)
    done = page.get_by_text(re.compile(r"Thank you — saved as area S\d+"))
    expect(done).to_be_visible(timeout=30_000)
    code = re.search(r"area (S\d+)", done.inner_text()).group(1)
    # the tip: a postcode, a time, what they saw, a way to reach them
    page.get_by_label("Where? A postcode").fill("EC2Y 5AG")
    page.get_by_label("What did you see or hear?").fill("Boy in a green jumper by the lake")
    page.get_by_label("How can we reach you? (optional)").fill("07700 900999")
    page.get_by_role("button", name="Send the tip").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Thank you — the coordinator has your tip.")).to_be_visible(
        timeout=30_000)
    # their own area shows at once, marked as theirs and unchecked; the tip never shows
    page.reload()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(f"area {code} .*not checked"))).to_be_visible(
        timeout=30_000)
    assert "green jumper by the lake" not in _all_text(page)
    wait_for_still_map(page)
    screenshot(page, "family-link-after-reporting")
    page.context.close()
    store = open_store(linked.store_url)
    try:
        queue = store.triage_queue(linked.coord, linked.case_id)
        search = next(r for r in queue if r.kind == "search" and r.sector_code == code)
        tip = next(r for r in queue if r.kind == "tip")
        assert search.note == "We walked the towpath twice"
        assert (tip.text, tip.contact) == ("Boy in a green jumper by the lake", "07700 900999")
        sighting = store.get_sighting(linked.coord, tip.sighting_id)
        assert (sighting.status, sighting.source) == ("unverified", "family")
        sector = store.get_sector(linked.coord, search.sector_id)
        assert (sector.origin, sector.status) == ("volunteer", "searched")
        # part of every later duplicate check
        over = store.check_overlaps(linked.coord, linked.case_id, sector.geometry)
        assert code in {o.code for o in over}
    finally:
        store.close()


def _family_case(store_url: str, coord: Actor) -> tuple[int, str, str]:
    """A case of its own (so marking it found touches no other test): a searched area
    around a postcode and one round Borough High Street, the Southwark street fixture
    loaded, a family link. Returns (case id, the link's token, the postcode)."""
    postcode = "EC2R 8DD"
    hit = lookup_postcode(postcode)
    around = box(hit.lon - 0.0006, hit.lat - 0.0004, hit.lon + 0.0006, hit.lat + 0.0004)
    store = open_store(store_url)
    try:
        case = store.create_case(
            coord, reference="LINK-3", child_name="Casey Example", age=11, risk="high",
            reported_missing_at=utcnow() - timedelta(hours=4), ipp=(hit.lat, hit.lon),
            description="Red coat", notes="n")
        case = store.update_case(coord, case.id, version=case.version,
                                 liaison_name="DC Jo Liaison", liaison_phone="07700 900888")
        team = store.create_team(coord, case.id, name="Green", org_type="met_bcu")
        done = store.create_sector(coord, case.id, geometry=around, name="Bank")
        done = store.assign_sector(coord, done.id, team.id, version=done.version)
        done = store.start_sector(coord, done.id, version=done.version)
        store.finish_sector(coord, done.id, version=done.version, search_type="hasty",
                            assurance="medium")
        borough = store.create_sector(coord, case.id, geometry=BOROUGH, name="Borough")
        borough = store.assign_sector(coord, borough.id, team.id, version=borough.version)
        borough = store.start_sector(coord, borough.id, version=borough.version)
        store.finish_sector(coord, borough.id, version=borough.version, search_type="hasty",
                            assurance="medium")
        store.load_streets(Actor.system("test"), read_streets(STREETS), source=STREETS.name)
        token = store.issue_link(coord, case.id, role="family", label="Aunt's phone").token
        return case.id, token, postcode
    finally:
        store.close()


def test_family_page_calls_999_names_places_warns_and_passes_axe(browser: Browser,
                                                                 linked: Linked):
    case_id, token, postcode = _family_case(linked.store_url, linked.coord)
    page = _phone(browser)
    page.goto(f"{linked.server.url}/?link={token}")
    wait_for_app_run(page)
    # the top: call 999 with the child's first name, the named liaison contact
    expect(page.get_by_text("If you see Casey, call 999")).to_be_visible(timeout=30_000)
    assert "Casey Example" not in page.locator("body").inner_text()
    expect(page.get_by_role("link", name="999")).to_have_attribute("href", "tel:999")
    expect(page.get_by_text("DC Jo Liaison")).to_be_visible()
    expect(page.get_by_role("link", name="07700 900888")).to_have_attribute(
        "href", "tel:07700900888")
    # searched ground as a place with a day and a time, not a sector code alone
    line = page.get_by_text(re.compile(r"near EC2R \d\w\w · searched on \w+day \d+ \w+ at "
                                       r"\d\d:\d\d"))
    expect(line).to_be_visible()
    assert "City of London" in line.inner_text()
    # the map frame says what it is and lets a phone pinch-zoom
    iframe = page.locator("iframe[data-wayhome-map]")
    expect(iframe).to_have_attribute("title", re.compile(r"^Map of "), timeout=30_000)
    frame = page.frame_locator(MAP_IFRAME)
    frame.locator("#map_div.leaflet-container").wait_for(timeout=30_000)
    wait_for_still_map(page)
    map_frame = next(f for f in page.frames if "streamlit_folium" in f.url)
    viewports = map_frame.evaluate(
        "() => [...document.querySelectorAll('meta[name=viewport]')].map(m => m.content)")
    assert viewports and not any("maximum-scale" in v or "user-scalable=no" in v
                                 for v in viewports), viewports
    # axe-core (served from the local npm install): the page and the map frame
    fixed = {"color-contrast", "meta-viewport", "frame-title", "landmark-one-main",
             "page-has-heading-one", "heading-order"}
    for target in (page, map_frame):
        found = axe.assert_no_serious(target)
        print("axe:", target.url[:40], axe.describe(found) or "no violations")
        assert not fixed & {v["id"] for v in found}, axe.describe(found)
    screenshot(page, "family-page-axe-phone", full_page=True)
    screenshot(page, "family-page-axe-phone-top")
    # "we searched here" by postcode and radius over the searched ground: asked first
    page.get_by_label("Postcodes of where you searched (a comma between them)").fill(postcode)
    page.get_by_label("How far around them? (metres)").fill("20")
    # the time: type 7 minutes past (when that is not in the future), kept to the minute
    hour = page.get_by_role("spinbutton", name="hour, About what time?")
    minute = page.get_by_role("spinbutton", name="minute, About what time?")
    if int(minute.get_attribute("aria-valuenow")) >= 7:
        minute.click()
        page.keyboard.type("07")
        page.keyboard.press("Tab")  # leave the field, as a tap on the button does
        expect(minute).to_have_attribute("aria-valuenow", "7")
    typed = f"{hour.inner_text()}:{minute.inner_text()}"
    page.get_by_role("button", name="Save where we searched").click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"Police searched most of this at \d\d:\d\d today — "
                                       r"search somewhere else, or tell us why"))).to_be_visible(
        timeout=30_000)
    screenshot(page, "family-page-repeat-warning")
    page.get_by_label("Why did you go again? (optional)").fill("We know the shop keeper")
    page.get_by_role("button", name="Save it anyway").click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"Thank you — saved as area S\d+"))).to_be_visible(
        timeout=30_000)
    # a tip as well: the count says two
    page.get_by_label("Where? A postcode").fill(postcode)
    page.get_by_label("What did you see or hear?").fill("A girl in a red coat")
    page.get_by_role("button", name="Send the tip").click()
    wait_for_app_run(page)
    expect(page.get_by_text("Thank you — the coordinator has your tip.")).to_be_visible(
        timeout=30_000)
    expect(page.get_by_text("You have sent 2 reports; 0 checked by the coordinator.")
           ).to_be_visible()
    # "we searched here" by choosing a street from the loaded street layer (no drag, no
    # postcode): police searched round it, so the family is asked first
    streets = page.get_by_label("Streets you searched (type to find one)")
    streets.click()
    page.keyboard.type("Borough High")
    page.get_by_role("option", name="Borough High Street").click()
    page.keyboard.press("Escape")
    expect(page.get_by_role("listbox")).to_have_count(0)
    screenshot(page, "family-page-street-chosen")
    page.get_by_role("button", name="Save where we searched").click()
    wait_for_app_run(page)
    again = page.get_by_text(re.compile(r"Police searched most of this at \d\d:\d\d today"))
    expect(again).to_be_visible(timeout=30_000)
    again.scroll_into_view_if_needed()
    screenshot(page, "family-page-street-warning")
    page.get_by_role("button", name="Save it anyway").click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile(r"Thank you — saved as area S\d+"))).to_be_visible(
        timeout=30_000)
    expect(page.get_by_text("You have sent 3 reports; 0 checked by the coordinator.")
           ).to_be_visible()
    # the family's own report, named by its street, unchecked (the list is read before the
    # form saves, so it shows at the next run)
    page.reload()
    wait_for_app_run(page)
    mine = page.get_by_text(re.compile(r"^Borough High Street[^·]* · Southwark · searched on .*"
                                       r"reported by a family or volunteer, not checked"))
    expect(mine).to_be_visible(timeout=30_000)
    mine.scroll_into_view_if_needed()
    screenshot(page, "family-page-street-saved")
    store = open_store(linked.store_url)
    try:
        queue = store.triage_queue(linked.coord, case_id)
        search = next(r for r in queue if r.kind == "search" and "shop keeper" in r.note)
        by_street = next(r for r in queue if r.kind == "search" and r is not search)
        assert by_street.note.startswith("Streets: Borough High Street")
        assert store.get_sector(linked.coord, by_street.sector_id).origin == "volunteer"
        sector = store.get_sector(linked.coord, search.sector_id)
        # the minutes as typed, not rounded down to the hour
        assert to_london(sector.searched_at).strftime("%H:%M") == typed
        case = store.get_case(linked.coord, case_id)
        store.update_case(linked.coord, case_id, version=case.version, status="found")
    finally:
        store.close()
    # found: the forms give way to the "Found" message
    page.reload()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile("Found — the search has stood down"))).to_be_visible(
        timeout=30_000)
    expect(page.get_by_role("button", name="Save where we searched")).to_have_count(0)
    expect(page.get_by_role("button", name="Send the tip")).to_have_count(0)
    # and the map has no drawing tools any more
    frame.locator("#map_div.leaflet-container").wait_for(timeout=30_000)
    expect(frame.locator(".leaflet-draw-toolbar")).to_have_count(0)
    screenshot(page, "family-page-found")
    page.context.close()


def test_revoking_ends_an_open_family_page_and_revoked_links_say_so(
    browser: Browser, linked: Linked
):
    page = _phone(browser)
    page.goto(f"{linked.server.url}/?link={linked.family}")
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Search progress")).to_be_visible(timeout=30_000)
    store = open_store(linked.store_url)
    try:
        store.revoke_link(linked.coord, linked.family_link_id)
    finally:
        store.close()
    # the page's 10-second poll notices, without a reload
    expect(page.get_by_text("This link no longer works")).to_be_visible(timeout=30_000)
    screenshot(page, "family-link-revoked-while-open")
    for token in (linked.revoked, linked.expired, "not-a-real-token-" + "x" * 30):
        page.goto(f"{linked.server.url}/?link={token}")
        wait_for_app_run(page)
        expect(page.get_by_text("This link no longer works")).to_be_visible(timeout=30_000)
        assert "Robin" not in page.locator("body").inner_text()
    screenshot(page, "link-no-longer-works")
    page.context.close()


def test_a_link_shows_only_its_own_case_whatever_the_url_says(browser: Browser,
                                                              linked: Linked):
    page = _phone(browser)
    for token, heading in ((linked.team, "Red: my sectors"),
                           (linked.partner, "Handovers for City of London Police")):
        page.goto(f"{linked.server.url}/?link={token}&case={linked.other_case_id}")
        wait_for_app_run(page)
        expect(page.get_by_role("heading", name=heading)).to_be_visible(timeout=30_000)
        if token == linked.partner:  # the partner view on a phone: axe, in the map too
            frame = page.frame_locator(MAP_IFRAME)
            expect(frame.locator("#map_div.leaflet-container")).to_be_visible(timeout=30_000)
            wait_for_still_map(page)
            found = axe.assert_view_accessible(page)
            print("axe partner:", axe.describe(found) or "no violations")
            screenshot(page, "partner-link-phone", full_page=True)
        text = _all_text(page)
        for other in ("Jordan", "Blue raincoat", "LINK-2", "Blue:"):
            assert other not in text, (token[:4], other)
    expect(page.get_by_text("Case LINK-1")).to_be_visible()
    # the partner reads the enquiry tasks near its unit: type and status, never an address
    expect(page.get_by_text(re.compile(r"T2 · CCTV collection · planned"))).to_be_visible()
    text = _all_text(page)
    for secret in ("Flat 3, 14 Redcross Way", "SE1 9HR", "Visit Jay", "CCTV at the station",
                   "Ask for his mum", "Not seen since Friday"):
        assert secret not in text, secret
    page.context.close()


def test_team_lead_link_shows_its_sectors_as_cards(browser: Browser, linked: Linked):
    page = _phone(browser)
    page.goto(f"{linked.server.url}/?link={linked.team}")
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Red: my sectors")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("Who we are looking for")).to_be_visible()
    expect(page.get_by_role("button", name="Finish S2")).to_be_visible()
    # the map with the team's sectors, between who to look for and the cards
    frame = page.frame_locator(MAP_IFRAME)
    expect(frame.locator("#map_div.leaflet-container")).to_be_visible(timeout=30_000)
    expect(frame.locator("path.wayhome-sector")).not_to_have_count(0)
    # neighbours faint with ID and status only, the last-known location, "you are here"
    expect(frame.locator("path.wayhome-neighbour")).not_to_have_count(0)
    expect(frame.locator("path.wayhome-lkl")).to_have_count(1)
    expect(page.get_by_text("Last known location:")).to_be_visible()
    # the rendezvous point: an RV pin on the map, its words and grid reference below it
    expect(frame.locator(".wayhome-rv")).to_have_count(1)
    expect(page.get_by_text(re.compile(
        rf"Rendezvous point \(RV on the map\): {RV_WORDS} · TQ \d{{4}} \d{{4}}"))).to_be_visible()
    expect(page.get_by_text(re.compile(r"Missing since \w{3} \d{1,2} \w{3} \d\d:\d\d"))
           ).to_be_visible()
    expect(frame.get_by_role("button", name="Show where I am")).to_be_visible()
    wait_for_still_map(page)
    # nothing here needs a pointer drag: no drawing tools; zoom has buttons (and keys)
    expect(frame.locator(".leaflet-draw")).to_have_count(0)
    expect(frame.get_by_role("button", name="Zoom in")).to_be_visible()
    # axe-core on the page and inside the map frame; pinch-zoom; the frame's title
    found = axe.assert_view_accessible(page)
    print("axe team:", axe.describe(found) or "no violations")
    expect(page.locator("iframe[data-wayhome-map]")).to_have_attribute(
        "title", re.compile(r"^Map of your team's sectors"))
    screenshot(page, "team-link-phone", full_page=True)
    screenshot(page, "team-link-phone-top")
    # sectors about 50 m across, zoomed out until their labels would cover each other:
    # the team's own, the neighbours' and the hazard's labels are thinned together and
    # keep off the sighting's time label
    leaflet = map_frame_handle(page)
    counts = {}
    for zoom, at in ((18, SQ[2]), (16, SQ[3]), (15, SQ[2])):
        leaflet.evaluate("([lat, lon, z]) => window.map_div.setView([lat, lon], z, "
                         "{animate: false})", [at.centroid.y, at.centroid.x, zoom])
        wait_for_still_map(page, zoom=zoom)
        counts[zoom] = label_clashes(leaflet)
        assert counts[zoom][1] == 0, counts  # no label covers another
        if zoom == 18:  # room for every label: the neighbour's ID and status show
            expect(frame.locator(".wayhome-neighbour-label").filter(has_text="S3 · ")
                   ).to_have_count(1)
            screenshot(page, "team-link-phone-labels-z18")
    shapes = sum(frame.locator(f"path.{c}").count()
                 for c in ("wayhome-sector", "wayhome-neighbour", "wayhome-hazard"))
    assert 1 <= counts[16][0] < shapes, (counts, shapes)  # some were left off, not all
    screenshot(page, "team-link-phone-labels-z15")
    # the cards under their own section heading (h2 under the page's h1)
    cards = page.get_by_role("heading", name="What to do next", level=2)
    cards.scroll_into_view_if_needed()
    screenshot(page, "team-link-phone-cards")
    body = page.locator("body").inner_text()
    assert "Market" not in body and "12 Secret Road" not in body  # not their sectors
    # its own tasks: the visit (done, with the address it went to), the open house-to-house
    assert "CCTV at the station" not in body  # not their task
    visit = page.locator(".st-key-team_task_1")
    expect(visit).to_contain_text("Flat 3, 14 Redcross Way")
    expect(visit).to_contain_text("no trace")
    doors = page.locator(".st-key-team_task_3")
    expect(doors).to_contain_text("Redcross Way (odd numbers)")
    doors.get_by_text("done", exact=True).click()
    doors.get_by_label("Result note (needed when not possible)").fill("All answered")
    doors.get_by_role("button", name="Record T3").click()
    wait_for_app_run(page)
    expect(page.locator(".st-key-team_task_3")).to_contain_text("Result: All answered",
                                                                 timeout=15_000)
    page.locator(".st-key-team_task_3").scroll_into_view_if_needed()
    screenshot(page, "team-link-phone-tasks")
    page.context.close()


def test_team_lead_uploads_a_track_for_its_own_sector(browser: Browser, linked: Linked,
                                                     tmp_path: Path):
    from geo.crs import lonlat_to_bng
    from tests.casefile.test_tracks import gpx

    (x0, x1), (y0, y1) = (lonlat_to_bng([SQ[1].bounds[0], SQ[1].bounds[2]],
                                         [SQ[1].bounds[1], SQ[1].bounds[3]]))
    walk = tmp_path / "walk.gpx"
    mid = (float(y0) + float(y1)) / 2
    walk.write_bytes(gpx([(float(x0) + 5, mid), (float(x1) - 5, mid)]))
    page = _phone(browser)
    page.goto(f"{linked.server.url}/?link={linked.team}")
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Upload a GPS track")).to_be_visible(timeout=30_000)
    page.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(str(walk))
    page.wait_for_timeout(500)
    box = page.locator("input[aria-label='Sector']")
    box.click()
    box.fill("S2")
    page.get_by_role("option", name=re.compile("^S2 ")).click()
    page.get_by_role("button", name="Upload the track").click()
    wait_for_app_run(page)
    expect(page.get_by_text(re.compile("Saved walk.gpx"))).to_be_visible(timeout=30_000)
    screenshot(page, "team-link-track-uploaded")
    page.context.close()
    store = open_store(linked.store_url)
    try:
        (track,) = store.tracks(linked.coord, linked.case_id)
        assert track.file_name == "walk.gpx" and track.sector_id is not None
        assert store.get_sector(linked.coord, track.sector_id).code == "S2"
        uploads = [e for e in store.audit_log(linked.coord, linked.case_id)
                   if e.entity == "track"]
        assert uploads and uploads[0].actor_role == "team_lead"
    finally:
        store.close()


def test_team_lead_downloads_the_briefing_pack_and_its_qr_opens_the_team_page(
        browser: Browser, linked: Linked, tmp_path: Path):
    import shutil
    import subprocess

    pypdf = pytest.importorskip("pypdf")
    zxingcpp = pytest.importorskip("zxingcpp")
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    from PIL import Image

    page = _phone(browser)
    page.goto(f"{linked.server.url}/?link={linked.team}")
    wait_for_app_run(page)
    button = page.get_by_role("button", name="Download briefing pack (PDF)")
    expect(button).to_be_visible(timeout=30_000)
    button.scroll_into_view_if_needed()
    screenshot(page, "team-link-briefing-button")
    with page.expect_download(timeout=60_000) as got:
        button.click()
    pdf = tmp_path / "pack.pdf"
    got.value.save_as(pdf)
    page.context.close()
    text = "\n".join(p.extract_text() for p in pypdf.PdfReader(pdf).pages)
    flat = text.replace("\n", " ")
    assert "LINK-1" in text and "Red" in text and "S1" in text and "S2" in text
    assert "OFFICIAL-SENSITIVE" in text and "TQ " in text
    for secret in ("Sam Passer-by", "07700 900123", "Lead Person", "12 Secret Road",
                   "Mum's phone"):
        assert secret not in flat, secret
    png = Path("test-artifacts") / "briefing-from-phone"
    png.parent.mkdir(exist_ok=True)
    subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile",
                    str(pdf), str(png)], check=True)
    (url,) = [r.text for r in zxingcpp.read_barcodes(Image.open(f"{png}.png"))]
    token = url.split("?link=", 1)[1]
    assert token != linked.team  # a link of its own, not the lead's
    store = open_store(linked.store_url)
    try:
        printed = store.open_link(token)
        assert printed.role == "team_lead"
        prints = [e for e in store.audit_log(linked.coord, linked.case_id)
                  if e.entity == "briefing"]
        assert prints and prints[0].actor_role == "team_lead"
    finally:
        store.close()
    scanned = _phone(browser)
    scanned.goto(f"{linked.server.url}/?link={token}")
    wait_for_app_run(scanned)
    expect(scanned.get_by_role("heading", name="Red: my sectors")).to_be_visible(timeout=30_000)
    scanned.context.close()


def test_team_lead_sees_not_saved_reconnecting_when_the_connection_drops(browser: Browser,
                                                                         linked: Linked):
    # a server of its own, stopped under the open page
    server = start_app({"WAYHOME_DATABASE_URL": linked.store_url})
    page = _phone(browser)
    try:
        page.goto(f"{server.url}/?link={linked.team}")
        wait_for_app_run(page)
        expect(page.get_by_role("heading", name="Red: my sectors")).to_be_visible(timeout=30_000)
        banner = page.locator("#wh-offline")
        expect(banner).to_be_hidden()
        server.stop()
        expect(banner).to_be_visible(timeout=20_000)
        expect(banner).to_have_text(re.compile("Not saved — reconnecting"))
        screenshot(page, "team-link-reconnecting")
    finally:
        server.stop()
        page.context.close()


def _wait_for_cookie(page: Page, name: str, *, present: bool = True,
                     timeout_s: float = 20.0) -> dict | None:
    """The cookie ``name`` once it is there (or None once it is gone, ``present=False``)."""
    deadline = time.monotonic() + timeout_s
    while True:
        found = next((c for c in page.context.cookies() if c["name"] == name), None)
        if (found is not None) == present or time.monotonic() > deadline:
            return found
        page.wait_for_timeout(250)


def test_coordinator_sign_in_survives_a_reload_and_sign_out_ends_it(browser: Browser,
                                                                    linked: Linked):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{linked.server.url}/sign-in")
    wait_for_app_run(page)
    expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=30_000)
    found = axe.assert_no_serious(page, also=axe.FIXED)  # the sign-in page has no map
    print("axe sign-in:", axe.describe(found) or "no violations")
    page.get_by_role("textbox", name="Username").fill("coord.links")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app_run(page)
    cases = page.get_by_role("heading", name="Cases", exact=True)
    expect(cases).to_be_visible(timeout=30_000)  # a coordinator's page
    cookie = _wait_for_cookie(page, "wayhome_session")  # set by the server (HttpOnly)
    assert cookie is not None, [c["name"] for c in context.cookies()]
    assert cookie["sameSite"] == "Strict"
    assert 9 * 3600 < cookie["expires"] - time.time() <= 10 * 3600 + 60  # a working day
    assert cookie["value"] not in page.url
    page.reload()
    wait_for_app_run(page)
    expect(cases).to_be_visible(timeout=30_000)
    # a new tab on the app's address is signed in too (the cookie, not the URL)
    other = context.new_page()
    other.goto(linked.server.url + "/")
    wait_for_app_run(other)
    expect(other.get_by_role("heading", name="Cases", exact=True)).to_be_visible(timeout=30_000)
    other.close()
    page.goto(linked.server.url + "/sign-out")
    wait_for_app_run(page)
    assert _wait_for_cookie(page, "wayhome_session", present=False) is None
    page.goto(linked.server.url + "/sign-in")
    wait_for_app_run(page)
    expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_have_count(0)
    # the old session token no longer opens anything, even if the cookie were kept
    store = open_store(linked.store_url)
    try:
        assert store.open_session(cookie["value"]) is None
    finally:
        store.close()
    context.close()


def test_no_token_or_personal_data_in_the_server_log(linked: Linked):
    """Runs after the others in this module: every page above has been served."""
    log = linked.server.log()
    assert "Search progress" not in log  # sanity: the log is the server's output, not pages
    for secret in (linked.family, linked.revoked, linked.team, *SECRETS, "Mum's phone",
                   PASSWORD):
        assert secret not in log, secret
