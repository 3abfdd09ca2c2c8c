"""Printing a briefing pack: its records, its own team link, the audit record, who may print.

The sheet itself is tested in tests/layers/test_briefing.py; the command line in
tests/test_brief_cli.py.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa
from shapely.geometry import Point, box

from casefile import InvalidInput, LinkGone, NotFound, PermissionDenied, Store, utcnow
from casefile import schema as t
from casefile.briefings import BriefSighting
from geo.crs import geoms_to_lonlat, lonlat_to_bng
from tests.casefile.conftest import make_case, make_coordinator, sighting_kwargs
from vocab import settings

pytestmark = pytest.mark.db

#: personal values put in the store that no pack may carry
SECRETS = ("07700 900111", "07700 900123", "Sam Passer-by", "ann@example.org", "Ann Other",
           "Likes the river path", "07700 900999")


def briefing_world(store: Store) -> dict:
    """A case with two teams, four sectors (one overlapping S1 and searched), a hazard,
    sightings with reporters' names and contacts, a team contact and a home."""
    coord = make_coordinator(store)
    case = make_case(store, coord, notes="Likes the river path; mum on 07700 900999")
    x, y = (float(v) for v in lonlat_to_bng(-0.1278, 51.5074))

    def sq(dx: float, dy: float, d: float = 200.0):
        return geoms_to_lonlat(box(x + dx, y + dy, x + dx + d, y + dy + d))

    red = store.create_team(coord, case.id, name="Team Red", org_type="met_bcu", size=6,
                            lead_name="Sgt Lead", contact="07700 900111")
    blue = store.create_team(coord, case.id, name="Team Blue", org_type="met_bcu", size=3)
    s1 = store.create_sector(coord, case.id, geometry=sq(0, 0), name="Trafalgar block")
    s2 = store.create_sector(coord, case.id, geometry=sq(200, 0), name="East")
    s3 = store.create_sector(coord, case.id, geometry=sq(0, 600), name="Far north")
    s4 = store.create_sector(coord, case.id, geometry=sq(100, 100, 150), name="Overlap",
                             on_overlap="keep", reason="second look")
    for s in (s1, s2, s4):
        s = store.set_sector_status(coord, s.id, "ready", version=store.get_sector(
            coord, s.id).version)
        store.assign_sector(coord, s.id, red.id, version=s.version, on_overlap="keep",
                            reason="second look")
    s4 = store.start_sector(coord, s4.id, version=store.get_sector(coord, s4.id).version)
    store.finish_sector(coord, s4.id, version=s4.version, search_type="hasty",
                        assurance="medium")
    store.add_hazard(coord, case.id, kind="unsafe", geometry=sq(50, -150, 100),
                     note="Building site")
    store.add_sighting(coord, case.id, **sighting_kwargs(
        lat=51.5080, lon=-0.1265, status="verified", description="By the fountain"))
    store.add_sighting(coord, case.id, **sighting_kwargs(
        reported_by="Ann Other", reporter_contact="ann@example.org", description="Maybe him"))
    store.add_sighting(coord, case.id, **sighting_kwargs(status="dismissed",
                                                         description="Not him at all"))
    return {"coord": coord, "case": case, "red": red, "blue": blue, "s1": s1, "s2": s2,
            "s3": s3, "s4": s4}


def _share(store: Store, w: dict, how: str) -> None:
    store.set_sharing(w["coord"], w["case"].id, version=store.sharing(
        w["coord"], w["case"].id).version, team_sightings=how)


def test_a_sector_pack_carries_its_ground_and_a_link_of_its_own(store):
    w = briefing_world(store)
    _share(store, w, "all")
    before = utcnow()
    b = store.print_briefing(w["coord"], w["case"].id, sector_code="s1")
    assert b.kind == "sector" and [s.code for s in b.sectors] == ["S1"]
    assert b.team_name == "Team Red" and b.reference == "CASE-A"
    # neighbours: S2 touches, S4 overlaps; S3 lies 400 m north, beyond NEIGHBOUR_M
    assert {n.code: n.status for n in b.neighbours} == {"S2": "assigned", "S4": "searched"}
    # earlier searches of this ground: S4's pass (it overlaps S1), by Team Red
    assert [(p.sector_code, p.team_name, p.search_type, p.assurance) for p in b.passes] == [
        ("S4", "Team Red", "hasty", "medium")]
    assert 0 < b.passes[0].pod < 1
    # sightings as shared with teams ("all": not the dismissed one), without reporters
    assert sorted(s.description for s in b.sightings) == ["By the fountain", "Maybe him"]
    assert not {"reported_by", "reporter_contact"} & set(BriefSighting.__dataclass_fields__)
    assert b.last_known.kind == "sighting"
    assert [h.kind for h in b.hazards] == ["unsafe"]
    # the link: a team lead's, for Team Red, labelled, until the end of the period
    link = b.link.link
    assert link.role == "team_lead" and link.team_id == w["red"].id
    assert "S1" in link.label and "Coordinator A" in link.label
    period = timedelta(hours=settings.BRIEF_PERIOD_HOURS)
    assert before + period <= link.expires_at <= utcnow() + period
    assert b.period_ends == link.expires_at
    opened = store.open_link(b.link.token)
    assert opened.team_id == w["red"].id
    assert [s.code for s in store.team_sectors(opened.actor, w["case"].id)] == ["S1", "S2", "S4"]


def test_printing_is_audited_and_the_link_is_revoked_on_its_own(store):
    w = briefing_world(store)
    coord, case = w["coord"], w["case"]
    other = store.issue_link(coord, case.id, role="team_lead", label="Red lead",
                             team_id=w["red"].id)
    first = store.print_briefing(coord, case.id, team_name="Team Red", orientation="landscape")
    second = store.print_briefing(coord, case.id, sector_code="S2")
    assert first.link.link.id != second.link.link.id
    with store.engine.connect() as conn:
        rows = conn.execute(
            sa.select(t.audit_log).where(t.audit_log.c.entity == "briefing")
            .order_by(t.audit_log.c.id)).all()
    assert [(r.action, r.actor_name, r.entity_id) for r in rows] == [
        ("print", "Coordinator A", first.link.link.id),
        ("print", "Coordinator A", second.link.link.id)]
    assert "landscape" in str(rows[0].changes) and "S1, S2, S4" in str(rows[0].changes)
    store.revoke_link(coord, first.link.link.id)
    with pytest.raises(LinkGone):
        store.open_link(first.link.token)
    assert store.open_link(second.link.token).team_id == w["red"].id
    assert store.open_link(other.token).team_id == w["red"].id


def test_a_team_lead_prints_its_own_team_only_and_never_beyond_its_own_link(store):
    w = briefing_world(store)
    coord, case = w["coord"], w["case"]
    red = store.open_link(store.issue_link(coord, case.id, role="team_lead", label="Red",
                                           team_id=w["red"].id, days=0.25).token)
    b = store.print_briefing(red.actor, case.id, team_name="Team Red")
    assert [s.code for s in b.sectors] == ["S1", "S2", "S4"]
    assert b.link.link.expires_at == red.expires_at  # 6 h link < the 12 h period
    assert b.printed_by == red.actor.display_name
    with pytest.raises(PermissionDenied, match="own team"):
        store.print_briefing(red.actor, case.id, team_name="Team Blue")
    with pytest.raises(PermissionDenied, match="own team"):
        store.print_briefing(red.actor, case.id, sector_code="S3")  # no team yet
    family = store.open_link(store.issue_link(coord, case.id, role="family", label="Mum").token)
    with pytest.raises(PermissionDenied):
        store.print_briefing(family.actor, case.id, sector_code="S1")


def test_unknown_names_and_empty_teams(store, monkeypatch):
    w = briefing_world(store)
    coord, case = w["coord"], w["case"]
    with pytest.raises(NotFound, match="no sector 'S99'"):
        store.print_briefing(coord, case.id, sector_code="S99")
    with pytest.raises(NotFound, match="no team called 'Green'"):
        store.print_briefing(coord, case.id, team_name="Green")
    monkeypatch.setattr(settings, "BRIEF_PERIOD_HOURS", 3.0)
    blue = store.print_briefing(coord, case.id, team_name="Team Blue")
    assert blue.sectors == () and blue.link.link.team_id == w["blue"].id
    assert blue.link.link.expires_at <= utcnow() + timedelta(hours=3)
    # by default the case shares its verified sightings with teams, no others
    assert [s.description for s in blue.sightings] == ["By the fountain"]
    unassigned = store.print_briefing(coord, case.id, sector_code="S3")
    assert unassigned.link is None and unassigned.team_name is None


def _opened(store: Store, case_id: int, hours_ago: float) -> None:
    """Move the case's opening back (operational periods count from it)."""
    with store.engine.begin() as conn:
        conn.execute(t.cases.update().where(t.cases.c.id == case_id)
                     .values(created_at=utcnow() - timedelta(hours=hours_ago)))


def test_a_period_pack_has_every_tasked_sector_each_with_its_own_link(store):
    w = briefing_world(store)
    coord, case = w["coord"], w["case"]
    _opened(store, case.id, 13)  # 12 h periods: the case is in its second
    store.set_rendezvous(coord, case.id, version=0, place="51.5074, -0.1278",
                         words="Car park, north gate")
    pack = store.print_period_pack(coord, case.id)
    assert pack.period == 2 and pack.reference == "CASE-A"
    assert pack.ends - pack.starts == timedelta(hours=settings.BRIEF_PERIOD_HOURS)
    assert pack.starts <= utcnow() < pack.ends
    # S1 and S2 are assigned to Red; S4 is searched and S3 has no team: no sheet
    assert [[s.code for s in b.sectors] for b in pack.sheets] == [["S1"], ["S2"]]
    links = [b.link.link for b in pack.sheets]
    assert len({x.id for x in links}) == 2
    assert all(x.team_id == w["red"].id and x.expires_at == pack.ends for x in links)
    assert all(b.rendezvous.words == "Car park, north gate" for b in pack.sheets)
    assert [(tm.name, tm.sectors) for tm in pack.teams] == [
        ("Team Red", (("S1", "assigned"), ("S2", "assigned"))), ("Team Blue", ())]
    assert pack.rendezvous.words == "Car park, north gate"
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t.audit_log).where(t.audit_log.c.entity == "briefing")
                            .order_by(t.audit_log.c.id)).all()
    assert [r.action for r in rows] == ["print", "print", "print_period"]
    assert rows[-1].actor_name == "Coordinator A"
    assert "S1, S2" in str(rows[-1].changes)
    # the next period may be printed ahead; an earlier one is over, a later one not yet
    nxt = store.print_period_pack(coord, case.id, period="next")
    assert nxt.period == 3 and nxt.starts == pack.ends
    assert all(b.link.link.expires_at == nxt.ends for b in nxt.sheets)
    assert store.print_period_pack(coord, case.id, period=2).period == 2
    with pytest.raises(InvalidInput, match="over"):
        store.print_period_pack(coord, case.id, period=1)
    with pytest.raises(InvalidInput, match="not come yet"):
        store.print_period_pack(coord, case.id, period=4)
    with pytest.raises(InvalidInput, match="number"):
        store.print_period_pack(coord, case.id, period="tomorrow")


def test_only_coordinators_print_a_period_pack(store):
    w = briefing_world(store)
    coord, case = w["coord"], w["case"]
    red = store.open_link(store.issue_link(coord, case.id, role="team_lead", label="Red",
                                           team_id=w["red"].id).token)
    with pytest.raises(PermissionDenied, match="coordinators"):
        store.print_period_pack(red.actor, case.id)
    family = store.open_link(store.issue_link(coord, case.id, role="family", label="Mum").token)
    with pytest.raises(PermissionDenied):
        store.print_period_pack(family.actor, case.id)


def test_a_pack_lists_its_teams_open_tasks_but_never_a_persons_address(store):
    w = briefing_world(store)
    coord, case_id, red = w["coord"], w["case"].id, w["red"]
    cctv = store.add_task(coord, case_id, kind="cctv", title="CCTV at the fountain kiosk",
                          place_lonlat=Point(-0.1270, 51.5078), team_id=red.id)
    store.add_task(coord, case_id, kind="visit_friend", title="Visit Jay", team_id=red.id,
                   place_lonlat=Point(-0.1300, 51.5090), address="Flat 3, 14 Redcross Way",
                   postcode="SE1 9HR")
    done = store.add_task(coord, case_id, kind="station_check", title="Charing Cross check",
                          place_lonlat=Point(-0.1247, 51.5080), team_id=red.id)
    store.set_task_status(coord, done.id, "done", version=done.version, result_note="Clear")
    store.add_task(coord, case_id, kind="place_check", title="Blue's park check",
                   place_lonlat=Point(-0.1290, 51.5060), team_id=w["blue"].id)
    b = store.print_briefing(coord, case_id, team_name="Team Red")
    # the open ones of this team only, by number: not the done check, not Blue's
    assert [x.code for x in b.tasks] == [cctv.code, "T2"]
    shown, visit = b.tasks
    assert shown.title == "CCTV at the fountain kiosk" and shown.point is not None
    assert visit.personal and visit.title == "" and visit.point is None
    assert not {"address", "postcode", "note"} & set(type(visit).__dataclass_fields__)
    # a team with no task, and a sector with no team, print none
    assert store.print_briefing(coord, case_id, sector_code="S3").tasks == ()
