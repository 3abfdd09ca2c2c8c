"""Teams, contact privacy, handovers between units and concurrent assignment, on both backends."""

from __future__ import annotations

import dataclasses
import json
import multiprocessing as mp
import traceback
from types import MappingProxyType

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from casefile import (
    Actor,
    InvalidInput,
    PermissionDenied,
    StaleVersion,
    open_store,
    utcnow,
)
from casefile import permissions as perm
from casefile import schema as t
from casefile.handovers import units_touched
from tests.casefile.conftest import make_case, make_coordinator
from vocab import roles

pytestmark = pytest.mark.db

HOSTILE = "<img src=x onerror=alert(1)> `${x}` \"q\" 'q'"
CONTACT = "Sgt Example 07700 900456 sgt.example@example.org"
#: ~50 m squares (lon/lat): inside the City of London, and about 3 km south of it
ST_PAULS = box(-0.0995, 51.5135, -0.0988, 51.5140)
KENNINGTON = box(-0.1110, 51.4880, -0.1103, 51.4885)


def _team_lead(store, case_id: int) -> Actor:
    """A team-lead principal on the case (links will create these; made directly here)."""
    now = utcnow()
    with store.engine.begin() as conn:
        uid = conn.execute(
            t.users.insert().values(
                username="lead.red", display_name="Lead Red", password_hash="x", role="team_lead",
                active=True, created_at=now, updated_at=now, updated_by_name="test", version=1,
            )
        ).inserted_primary_key[0]
        conn.execute(t.case_member.insert().values(
            case_id=case_id, user_id=uid, role="team_lead", added_at=now, added_by_name="test"))
    return Actor(user_id=uid, display_name="Lead Red", role="team_lead")


def test_team_round_trip_and_contacts_for_coordinators_only(store, coord, case, monkeypatch):
    team = store.create_team(coord, case.id, name=HOSTILE, org_type="volunteer_group",
                             lead_name="Alex Lead", size=12, contact=CONTACT,
                             idempotency_key="team-form-1")
    assert (team.name, team.org_type, team.lead_name, team.size, team.contact) == (
        HOSTILE, "volunteer_group", "Alex Lead", 12, CONTACT)
    assert store.create_team(coord, case.id, name=HOSTILE, org_type="volunteer_group",
                             idempotency_key="team-form-1") == team
    assert store.get_team(coord, team.id) == team and store.teams(coord, case.id) == [team]
    lead = _team_lead(store, case.id)
    with pytest.raises(PermissionDenied):  # team leads have no team permissions yet
        store.teams(lead, case.id)
    lead_role = roles.ROLE_REGISTRY["team_lead"]  # widen the team lead's row of the role table
    monkeypatch.setitem(roles.ROLE_REGISTRY, "team_lead", dataclasses.replace(
        lead_role, permissions=MappingProxyType({perm.TEAM_READ: "case"})))
    (seen,) = store.teams(lead, case.id)
    assert seen.contact is None and seen.name == HOSTILE
    assert store.get_team(lead, team.id).contact is None
    with pytest.raises(PermissionDenied):
        store.update_team(lead, team.id, version=team.version, size=3)


def test_team_contacts_never_in_audit_values(store, coord, case):
    team = store.create_team(coord, case.id, name="Red", org_type="met_bcu", contact=CONTACT)
    store.update_team(coord, team.id, version=team.version, contact=CONTACT + " (new)",
                      lead_name="Sam Lead")
    with store.engine.connect() as conn:
        logged = json.dumps([list(r) for r in conn.execute(
            sa.select(t.audit_log.c.fields, t.audit_log.c.changes))])
        detail = json.dumps([r[0] for r in conn.execute(sa.select(t.audit_detail.c.personal))])
    assert "07700" not in logged and "Sam Lead" not in logged and "contact" in logged
    assert "07700 900456" in detail  # kept only in the purgeable side table
    recs = store.audit_log(coord, case.id, entity="team")
    assert [r.action for r in recs] == ["update", "create"]
    assert recs[0].personal["contact"][1] == CONTACT + " (new)"


def test_team_rules(store, coord, case):
    team = store.create_team(coord, case.id, name="Red", org_type="met_bcu")
    with pytest.raises(InvalidInput, match="already has a team"):
        store.create_team(coord, case.id, name="Red", org_type="family")
    with pytest.raises(InvalidInput, match="must be one of"):
        store.create_team(coord, case.id, name="Blue", org_type="army")
    t2 = store.update_team(coord, team.id, version=team.version, size=8)
    with pytest.raises(StaleVersion):
        store.update_team(coord, team.id, version=team.version, size=9)
    assert store.get_team(coord, team.id).size == t2.size == 8
    other = make_coordinator(store, "coord.b", "Coordinator B")
    case_b = make_case(store, other, reference="CASE-B")
    with pytest.raises(PermissionDenied):
        store.teams(other, case.id)
    sector_b = store.create_sector(other, case_b.id, geometry=ST_PAULS)
    ready_b = store.set_sector_status(other, sector_b.id, "ready", version=sector_b.version)
    with pytest.raises(InvalidInput, match="another case"):
        store.assign_sector(other, ready_b.id, team.id, version=ready_b.version)


def test_handover_create_and_acknowledge(store, coord, case):
    city = store.create_sector(coord, case.id, geometry=ST_PAULS, name="St Paul's")
    south = store.create_sector(coord, case.id, geometry=KENNINGTON)
    h = store.create_handover(coord, case.id, from_unit="Metropolitan Police Service",
                              to_unit="city of london police", reason=HOSTILE,
                              sector_ids=[city.id, south.id], idempotency_key="handover-1")
    assert (h.from_unit.layer, h.from_unit.code) == ("force", "E23000001")
    assert h.to_unit.layer == "force" and "City of London" in h.to_unit.name
    assert (h.reason, h.sector_codes, h.acknowledged) == (HOSTILE, ("S1", "S2"), False)
    assert store.create_handover(coord, case.id, from_unit="E23000001", to_unit=h.to_unit.code,
                                 reason="again", idempotency_key="handover-1") == h
    acked = store.acknowledge_handover(coord, h.id, by_name="Insp. Jo Receiver",
                                       version=h.version)
    assert (acked.acknowledged_by, acked.acknowledged_recorded_by) == (
        "Insp. Jo Receiver", coord.display_name)
    assert acked.acknowledged_at >= h.created_at
    with pytest.raises(InvalidInput, match=r"already acknowledged by Insp\. Jo Receiver"):
        store.acknowledge_handover(coord, h.id, by_name="Someone", version=acked.version)
    assert store.handovers(coord, case.id, unit=h.to_unit.code) == [acked]
    assert store.handovers(coord, case.id, unit="central-west") == []
    rec = store.audit_log(coord, case.id, entity="handover")[0]
    assert rec.action == "acknowledge" and "acknowledged_by" in rec.fields
    named = rec.changes.get("acknowledged_by") or (rec.personal or {})["acknowledged_by"]
    assert named[1] == "Insp. Jo Receiver"
    with pytest.raises(InvalidInput, match="No Met BCU or police force"):
        store.create_handover(coord, case.id, from_unit="Atlantis", to_unit="E23000001",
                              reason="x")
    with pytest.raises(InvalidInput, match="two different units"):
        store.create_handover(coord, case.id, from_unit="E23000001", to_unit="E23000001",
                              reason="x")
    other = make_coordinator(store, "coord.b", "Coordinator B")
    case_b = make_case(store, other, reference="CASE-B")
    with pytest.raises(InvalidInput, match="not sectors of this case"):
        store.create_handover(other, case_b.id, from_unit="E23000001", to_unit="central-west",
                              reason="x", sector_ids=[city.id])
    with pytest.raises(PermissionDenied):
        store.acknowledge_handover(other, h.id, by_name="x", version=acked.version)


def test_sectors_in_and_near_a_unit(store, coord, case):
    city = store.create_sector(coord, case.id, geometry=ST_PAULS)
    south = store.create_sector(coord, case.id, geometry=KENNINGTON)
    inside = store.sectors_near_unit(coord, case.id, "City of London Police")
    assert [u.sector.code for u in inside] == [city.code]
    assert inside[0].inside and inside[0].distance_m == 0
    assert inside[0].share_in_unit == pytest.approx(1, abs=1e-6)
    near = store.sectors_near_unit(coord, case.id, "City of London Police", within_m=5000)
    assert [u.sector.code for u in near] == [city.code, south.code]
    assert not near[1].inside and 1000 < near[1].distance_m < 5000
    assert near[1].share_in_unit == 0
    assert store.sectors_near_unit(coord, case.id, "City of London Police", within_m=5000,
                                   status="searched") == []
    with pytest.raises(InvalidInput, match="between 0"):
        store.sectors_near_unit(coord, case.id, "E23000001", within_m=-5)


def test_units_the_case_ground_touches_most_ground_first(store, coord, case):
    assert units_touched([]) == []
    city = store.create_sector(coord, case.id, geometry=ST_PAULS)
    big_south = store.create_sector(coord, case.id, geometry=box(-0.1130, 51.4870, -0.1090,
                                                                 51.4895))
    codes = units_touched([city, big_south])
    forces = {row["code"] for s in (city, big_south) for row in s.jurisdiction["force"]}
    bcus = {row["code"] for s in (city, big_south) for row in s.jurisdiction["bcu"]}
    assert set(codes) == (forces | bcus) - {"outside"}
    # Kennington's ground (about 7x the City square) comes before the City's
    assert codes.index(big_south.force_code) < codes.index(city.force_code)
    assert codes.index(big_south.bcu_code) < codes.index(city.force_code)


def _assigner(url, actor_tuple, sector_id, team_id, version, barrier, results, index):
    try:
        store = open_store(url, migrate=False)
        barrier.wait(timeout=120)
        try:
            store.assign_sector(Actor(*actor_tuple), sector_id, team_id, version=version)
            results.put({"index": index, "won": True})
        except StaleVersion:
            results.put({"index": index, "won": False})
        store.close()
    except BaseException:
        results.put({"index": index, "error": traceback.format_exc()})


def test_concurrent_assignment_has_one_winner(store_url):
    writers = 6
    store = open_store(store_url)
    coord = make_coordinator(store)
    case = make_case(store, coord)
    teams = [store.create_team(coord, case.id, name=f"Team {i}", org_type="met_bcu")
             for i in range(writers)]
    s = store.create_sector(coord, case.id, geometry=ST_PAULS)
    s = store.set_sector_status(coord, s.id, "ready", version=s.version)
    store.close()
    ctx = mp.get_context("fork")
    barrier, results = ctx.Barrier(writers), ctx.Queue()
    procs = [
        ctx.Process(target=_assigner, args=(store_url, (coord.user_id, coord.display_name,
                                                        coord.role), s.id, teams[i].id,
                                            s.version, barrier, results, i))
        for i in range(writers)
    ]
    for p in procs:
        p.start()
    outs = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [o["error"] for o in outs if "error" in o]
    assert not errors, errors[0]
    winners = [o["index"] for o in outs if o["won"]]
    assert len(winners) == 1
    store = open_store(store_url)
    final = store.get_sector(coord, s.id)
    assert (final.status, final.team_id, final.version) == (
        "assigned", teams[winners[0]].id, s.version + 1)
    assigns = [r for r in store.audit_log(coord, case.id, entity="sector") if r.action == "assign"]
    assert len(assigns) == 1
    store.close()
