"""Hostile text in every user field, seen by every role, never runs in a real browser.

Every field a person types — case reference, child's name and description, a
sighting's reporter and description, sector names and notes, team name and lead,
hazard note, handover reason and acknowledger, a family's tip and contact, a
family search note, a link label — holds a payload that would set a canary
(``top.__pwned``, the page title) if it ran. The family, team-lead and partner
pages and the coordinator's triage queue and link manager are opened, every
map shape is hovered and clicked, and the canary is checked in the page and in
every frame.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from shapely.geometry import box

from casefile import Actor, open_store, utcnow
from tests.browser.conftest import AppServer, screenshot, start_app, wait_for_app_run

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
SQ = [box(-0.0995 + i * 0.002, 51.5135, -0.0988 + i * 0.002, 51.5140) for i in range(5)]


@pytest.fixture(scope="module")
def hostile(tmp_path_factory) -> Iterator[tuple[AppServer, dict[str, str]]]:
    path: Path = tmp_path_factory.mktemp("hostile") / "wayhome.sqlite3"
    url = f"sqlite:///{path}"
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
    store.close()
    assert h.id
    server = start_app({"WAYHOME_DATABASE_URL": url})
    yield server, {**tokens, "case_id": str(case.id)}
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


@pytest.mark.parametrize("role", ["family", "team", "partner"])
def test_link_pages_show_hostile_text_as_text(browser: Browser, hostile, role):
    server, tokens = hostile
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"{server.url}/?link={tokens[role]}")
    wait_for_app_run(page)
    page.locator("iframe[title='streamlit_folium.st_folium']").first.wait_for(timeout=30_000)
    page.wait_for_timeout(2000)
    _poke_maps(page)
    page.wait_for_timeout(500)
    screenshot(page, f"hostile-{role}", full_page=True)
    _assert_canary(page)
    if role == "team":  # a hostile team name and sector names are shown literally
        expect(page.get_by_text(PAYLOADS[1][:40]).first).to_be_visible()
    if role == "partner":
        expect(page.get_by_text("${top.__pwned=4}").first).to_be_visible()
    page.context.close()


def test_coordinator_triage_and_links_show_hostile_text_as_text(browser: Browser, hostile):
    server, tokens = hostile
    page = browser.new_context().new_page()
    page.goto(f"{server.url}/sign-in")
    wait_for_app_run(page)
    page.get_by_role("textbox", name="Username").fill("coord.hostile")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app_run(page)
    for path in ("triage", "links"):
        page.goto(f"{server.url}/{path}?case={tokens['case_id']}")
        wait_for_app_run(page)
        page.wait_for_timeout(1000)
        screenshot(page, f"hostile-coordinator-{path}", full_page=True)
        _assert_canary(page)
    # the tip's text and the link label are displayed literally
    body = page.locator("body").inner_text()
    assert "<script>top.__pwned=1" in body
    page.context.close()
