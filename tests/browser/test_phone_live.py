"""Small updates on the field phones (390×844): a team lead's and a partner unit's open map
receive a change as the features it touches, not the map again.

The store is filled directly: a case with a team holding twelve small sectors in the
City of London, six other sectors next to them, a team lead's link and a partner link
for the City of London Police. Another user then changes one sector (or adds a
sighting or a task); the open phone redraws only that feature, the map frame is not
remounted, and few bytes reach the page for it.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from playwright.sync_api import Page, expect
from shapely.geometry import Point, box

from casefile import Actor, open_store, utcnow
from tests.browser.conftest import (
    MAP_IFRAME,
    AppServer,
    map_frame_handle,
    screenshot,
    start_app,
    wait_for_app_run,
)
from tests.browser.drawing import wait_for_still_map
from tests.browser.stores import module_store_url

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "a long enough password"
#: twelve squares about 35 m across in two rows (the team's), six more below (others')
MINE = [box(-0.0995 + c * 0.0007, 51.5135 + r * 0.0005, -0.0990 + c * 0.0007,
            51.5138 + r * 0.0005) for r in range(2) for c in range(6)]
OTHERS = [box(-0.0995 + c * 0.0007, 51.5130, -0.0990 + c * 0.0007, 51.5133) for c in range(6)]
#: what one change may cost the phone at most (the phone's base map alone is far larger)
MAX_CHANGE_BYTES = 50_000


@dataclass
class Phones:
    server: AppServer
    store_url: str
    coord: Actor
    case_id: int
    mine: list[int]
    others: list[int]
    team: str
    partner: str


def _seed(url: str) -> dict:
    store = open_store(url)
    try:
        user = store.create_user(Actor.system("test"), "coord.phones", "Coordinator Phones",
                                 PASSWORD)
        coord = Actor(user.id, user.display_name, "coordinator")
        case = store.create_case(
            coord, reference="PHONE-1", child_name="Robin", age=12, risk="high",
            reported_missing_at=utcnow() - timedelta(hours=5), ipp=(51.5137, -0.0990),
            description="Green school jumper", notes="n")
        team = store.create_team(coord, case.id, name="Red", org_type="met_bcu")
        mine = []
        for i, shape in enumerate(MINE):
            s = store.create_sector(coord, case.id, geometry=shape, name=f"Yard {i}")
            s = store.assign_sector(coord, s.id, team.id, version=s.version)
            mine.append(s.id)
        others = []
        for i, shape in enumerate(OTHERS):
            s = store.create_sector(coord, case.id, geometry=shape, name=f"Lane {i}")
            s = store.set_sector_status(coord, s.id, "ready", version=s.version)
            others.append(s.id)
        lead = store.issue_link(coord, case.id, role="team_lead", label="Red lead",
                                team_id=team.id)
        partner = store.issue_link(coord, case.id, role="partner", label="City desk",
                                   unit="city of london police")
        return dict(coord=coord, case_id=case.id, mine=mine, others=others,
                    team=lead.token, partner=partner.token)
    finally:
        store.close()


@pytest.fixture(scope="module")
def phones() -> Iterator[Phones]:
    with module_store_url("phones") as url:
        seeded = _seed(url)
        server = start_app({"WAYHOME_DATABASE_URL": url})
        try:
            yield Phones(server=server, store_url=url, **seeded)
        finally:
            server.stop()


@pytest.fixture
def browser_context_args(browser_context_args):
    return {**browser_context_args, "viewport": {"width": 390, "height": 844},
            "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def _open(page: Page, url: str, frames: list[tuple[float, int]]):
    """Open a link on the phone; mark the map frame (a remount would lose the mark)."""
    page.on("websocket", lambda ws: ws.on(
        "framereceived", lambda payload: frames.append((time.monotonic(), len(payload)))))
    page.goto(url)
    wait_for_app_run(page)
    viewer = page.frame_locator(MAP_IFRAME)
    expect(viewer.locator("#map_div.leaflet-container")).to_be_visible(timeout=30_000)
    wait_for_still_map(page)
    viewer.locator("#map_div").evaluate("() => { window.__probe = 42; }")
    return viewer


def _mark_all(viewer, selector: str) -> int:
    """Mark every path drawn now: a redrawn feature gets a new, unmarked path."""
    return viewer.locator(selector).evaluate_all(
        "els => { els.forEach(e => e.setAttribute('data-before', '1')); return els.length; }")


def _change(phones: Phones, do) -> float:
    store = open_store(phones.store_url)
    try:
        started = time.monotonic()
        do(store)
        return started
    finally:
        store.close()


def test_a_team_phone_gets_one_sectors_change_without_a_redraw(page: Page, phones: Phones,
                                                               hermetic):
    frames: list[tuple[float, int]] = []
    viewer = _open(page, f"{phones.server.url}/?link={phones.team}", frames)
    expect(page.get_by_role("heading", name="Red: my sectors")).to_be_visible()
    expect(page.locator("iframe[data-wayhome-map]")).to_have_attribute(
        "title", re.compile(r"^Map of your team's sectors"))
    sectors = viewer.locator("path.wayhome-sector")
    expect(sectors).to_have_count(len(MINE))
    expect(viewer.locator("path.wayhome-neighbour")).to_have_count(len(OTHERS))
    leaflet = map_frame_handle(page)
    version = leaflet.evaluate("() => window.wayhomeLive.version('sectors')")
    count = _mark_all(viewer, "path.wayhome-sector, path.wayhome-neighbour")

    # the coordinator starts one of the team's sectors
    target = phones.mine[4]
    changed_at = _change(phones, lambda store: store.start_sector(
        phones.coord, target, version=store.get_sector(phones.coord, target).version))
    fresh = viewer.locator("path.wayhome-sector:not([data-before])")
    expect(fresh).to_have_count(1, timeout=30_000)
    seen_at = time.monotonic()
    expect(fresh).to_have_class(re.compile(r"\bwayhome-sector-in_progress\b"))
    # only that sector was redrawn, on the same full draw, in the same map frame
    assert viewer.locator("path[data-before]").count() == count - 1
    assert leaflet.evaluate("() => window.wayhomeLive.version('sectors')").split(":")[0] == (
        version.split(":")[0])
    assert leaflet.evaluate("() => window.wayhomeLive.stats.applied") >= 1
    assert viewer.locator("#map_div").evaluate("() => window.__probe") == 42
    received = sum(size for at, size in frames if changed_at <= at <= seen_at)
    assert received < MAX_CHANGE_BYTES, f"{received:,} bytes for one sector's new status"
    # the card says so too (the page ran again)
    expect(page.get_by_role("heading", name=re.compile(r"^S5 · "))).to_contain_text(
        re.compile("in progress", re.I), timeout=20_000)

    # a neighbouring sector paused: only that faint outline is drawn again
    _mark_all(viewer, "path.wayhome-sector, path.wayhome-neighbour")
    other = phones.others[1]
    _change(phones, lambda store: store.set_sector_status(
        phones.coord, other, "suspended", version=store.get_sector(phones.coord, other).version))
    expect(viewer.locator("path.wayhome-neighbour:not([data-before])")).to_have_count(
        1, timeout=30_000)
    assert viewer.locator("path[data-before]").count() == count - 1

    # a verified sighting shared with teams: one new circle and its time, nothing redrawn
    _mark_all(viewer, "path.wayhome-sector, path.wayhome-neighbour")
    _change(phones, lambda store: store.add_sighting(
        phones.coord, phones.case_id, lat=51.5129, lon=-0.0985,
        seen_at=utcnow() - timedelta(minutes=30), source="public", status="verified",
        reported_by="Sam Passer-by", reporter_contact="07700 900123",
        description="by the steps"))
    expect(viewer.locator("path.wayhome-sighting-verified")).to_have_count(1, timeout=30_000)
    assert viewer.locator("path[data-before]").count() == count
    assert viewer.locator("#map_div").evaluate("() => window.__probe") == 42
    wait_for_still_map(page)
    screenshot(page, "team-phone-live-update")

    # a map at another version than a message starts from answers "missed"; the feed
    # then asks the server, which draws every keyed layer in full (every path new)
    _mark_all(viewer, "path.wayhome-sector, path.wayhome-neighbour")
    version = leaflet.evaluate("() => window.wayhomeLive.version('sectors')")
    stale = json.dumps({"layer": "sectors", "base": version.split(":")[0], "from": "elsewhere",
                        "to": "later", "upsert": [], "remove": []})
    assert leaflet.evaluate("t => window.wayhomeLive.applyText(t)", stale) == "missed"
    feed = next(f for f in page.frames if "layer_feed" in f.url)
    feed.evaluate("() => window.wayhomeFeedMissed()")
    expect(viewer.locator("path[data-before]")).to_have_count(0, timeout=30_000)
    expect(sectors).to_have_count(len(MINE))
    expect(viewer.locator("path.wayhome-sighting-verified")).to_have_count(1)
    assert leaflet.evaluate("() => window.wayhomeLive.version('sectors')").split(":")[0] != (
        version.split(":")[0])
    assert viewer.locator("#map_div").evaluate("() => window.__probe") == 42
    hermetic.assert_clean()


def test_a_partner_phone_gets_one_change_and_nothing_private(page: Page, phones: Phones,
                                                             hermetic):
    frames: list[tuple[float, int]] = []
    viewer = _open(page, f"{phones.server.url}/?link={phones.partner}", frames)
    expect(page.get_by_role("heading", name=re.compile(r"^Handovers for City"))).to_be_visible()
    sectors = viewer.locator("path.wayhome-sector")
    expect(sectors.first).to_be_attached(timeout=30_000)
    count = _mark_all(viewer, "path.wayhome-sector")
    assert count == len(MINE) + len(OTHERS)

    target = phones.mine[7]
    changed_at = _change(phones, lambda store: store.set_sector_status(
        phones.coord, target, "suspended",
        version=store.get_sector(phones.coord, target).version))
    fresh = viewer.locator("path.wayhome-sector:not([data-before])")
    expect(fresh).to_have_count(1, timeout=30_000)
    seen_at = time.monotonic()
    assert viewer.locator("path[data-before]").count() == count - 1
    assert viewer.locator("#map_div").evaluate("() => window.__probe") == 42
    received = sum(size for at, size in frames if changed_at <= at <= seen_at)
    assert received < MAX_CHANGE_BYTES, f"{received:,} bytes for one sector's new status"

    # a new enquiry task near the unit: one marker, with its type and status only
    _mark_all(viewer, "path.wayhome-sector")
    _change(phones, lambda store: store.add_task(
        phones.coord, phones.case_id, kind="cctv", title="Camera at 12 Secret Road",
        place_lonlat=Point(-0.0975, 51.5131)))
    expect(viewer.locator(".wayhome-task")).to_have_count(1, timeout=30_000)
    assert viewer.locator("path[data-before]").count() == count
    assert viewer.locator("#map_div").evaluate("() => window.__probe") == 42
    text = "\n".join([page.locator("body").inner_text(), *(f.content() for f in page.frames)])
    for secret in ("Camera at 12 Secret Road", "Robin", "Green school jumper"):
        assert secret not in text, secret
    wait_for_still_map(page)
    screenshot(page, "partner-phone-live-update")
    hermetic.assert_clean()
