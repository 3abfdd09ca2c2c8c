"""Every public store write is audited by construction: when the audit append fails,
the write leaves nothing behind and the case's change counter does not move.

The writes are enumerated from the store's interface (every ``Store`` operation
marked ``@writes``), not listed by hand: a new write without a call below makes
the first test fail, so nobody can add an unaudited one unnoticed.
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from casefile import Actor, NewSector, NewSighting, Store, unit_of_work, utcnow
from casefile import schema as t
from casefile.unit_of_work import operation
from geo.crs import geoms_to_lonlat
from tests.casefile.conftest import PASSWORD, make_case, make_coordinator, sighting_kwargs
from tests.casefile.test_tracks import across, square
from vocab import settings

pytestmark = pytest.mark.db

X0, Y0 = 531_000.0, 180_000.0


def _sq(i: int):
    return geoms_to_lonlat(box(X0 + 2_000 + i * 300, Y0, X0 + 2_100 + i * 300, Y0 + 100))


def write_operations() -> set[str]:
    """Every operation of the Store front that can change the store."""
    return {
        name for name, attr in vars(Store).items()
        if isinstance(attr, operation) and attr.writes
    }


@pytest.fixture(autouse=True)
def _identity_provider_domain(monkeypatch):
    """Sign-in through an identity provider is on for these tests (one allowed domain)."""
    monkeypatch.setattr(settings, "OIDC_EMAIL_DOMAINS", ("met.police.uk",))


def _world(store: Store) -> dict:
    """A case with one of everything, so every write has something to act on."""
    system = Actor.system("test")
    coord = make_coordinator(store)
    make_coordinator(store, "coord.b", "Coordinator B")
    case = make_case(store, coord)
    team = store.create_team(coord, case.id, name="Team Red", org_type="met_bcu", size=4)
    team2 = store.create_team(coord, case.id, name="Team Blue", org_type="met_bcu", size=4)
    sighting = store.add_sighting(coord, case.id, **sighting_kwargs())
    draft = store.create_sector(coord, case.id, geometry=_sq(0), name="Draft")
    ready = store.create_sector(coord, case.id, geometry=_sq(1), name="Ready")
    ready = store.set_sector_status(coord, ready.id, "ready", version=ready.version)
    assigned = store.create_sector(coord, case.id, geometry=_sq(2), name="Assigned")
    assigned = store.set_sector_status(coord, assigned.id, "ready", version=assigned.version)
    assigned = store.assign_sector(coord, assigned.id, team.id, version=assigned.version)
    going = store.create_sector(coord, case.id, geometry=square(), name="Going")
    going = store.set_sector_status(coord, going.id, "ready", version=going.version)
    going = store.assign_sector(coord, going.id, team.id, version=going.version)
    going = store.start_sector(coord, going.id, version=going.version)
    hazard = store.add_hazard(coord, case.id, kind="unsafe", geometry=_sq(4))
    handover = store.create_handover(coord, case.id, from_unit="E23000001",
                                     to_unit="city of london police", reason="crossed",
                                     sector_ids=[draft.id])
    store.set_up_poa(coord, case.id)
    upload = store.upload_track(coord, case.id, ("walk.gpx", across(200)), team_id=team.id,
                                sector_id=going.id)
    family = store.open_link(store.issue_link(coord, case.id, role="family", label="Mum").token)
    partner = store.open_link(store.issue_link(
        coord, case.id, role="partner", label="City", unit="city of london police").token)
    lead_link = store.issue_link(coord, case.id, role="team_lead", label="Red", team_id=team.id)
    tip = store.send_tip(family.actor, case.id, lat=51.5033, lon=-0.1196,
                         seen_at=utcnow() - timedelta(hours=1), text="Seen by the bins")
    passes = store.passes(coord, case.id)
    return {
        "system": system, "coord": coord, "case": case, "team": team, "team2": team2,
        "sighting": sighting, "draft": draft, "ready": ready, "assigned": assigned,
        "going": going, "hazard": hazard, "handover": handover, "upload": upload,
        "family": family.actor, "partner": partner.actor, "lead_link": lead_link, "tip": tip,
        "pass": passes[0],
    }


def _calls(store: Store, w: dict, actor: Actor | None = None) -> dict:
    """One valid call per write operation (each would succeed with a working audit).

    ``actor`` replaces the coordinator in the calls a coordinator makes (the role test).
    """
    c, case = actor or w.get("coord"), w.get("case")
    now = utcnow()
    return {
        "create_user": lambda: store.create_user(w["system"], "new.person", "New Person",
                                                 PASSWORD),
        "set_password": lambda: store.set_password(w["system"], "coord.a", PASSWORD + "!"),
        "authenticate": lambda: store.authenticate("coord.a", PASSWORD),
        "create_case": lambda: make_case(store, c, "CASE-NEW"),
        "update_case": lambda: store.update_case(c, case.id, version=case.version,
                                                 notes="new note"),
        "add_case_member": lambda: store.add_case_member(c, case.id, "coord.b"),
        "add_sighting": lambda: store.add_sighting(c, case.id, **sighting_kwargs()),
        "add_sightings": lambda: store.add_sightings(
            c, case.id, [NewSighting(**sighting_kwargs())]),
        "update_sighting": lambda: store.update_sighting(
            c, w["sighting"].id, version=w["sighting"].version, description="red coat"),
        "delete_sighting": lambda: store.delete_sighting(
            c, w["sighting"].id, version=w["sighting"].version, reason="entered twice"),
        "create_team": lambda: store.create_team(c, case.id, name="Team Green",
                                                 org_type="met_bcu"),
        "update_team": lambda: store.update_team(c, w["team"].id, version=w["team"].version,
                                                 size=9),
        "create_sector": lambda: store.create_sector(c, case.id, geometry=_sq(6), name="N"),
        "create_sectors": lambda: store.create_sectors(
            c, case.id, [NewSector(geometry=_sq(7)), NewSector(geometry=_sq(10))]),
        "update_sector": lambda: store.update_sector(c, w["draft"].id,
                                                     version=w["draft"].version, notes="n"),
        "set_sector_status": lambda: store.set_sector_status(
            c, w["draft"].id, "ready", version=w["draft"].version),
        "assign_sector": lambda: store.assign_sector(c, w["ready"].id, w["team2"].id,
                                                     version=w["ready"].version),
        "start_sector": lambda: store.start_sector(c, w["assigned"].id,
                                                   version=w["assigned"].version),
        "finish_sector": lambda: store.finish_sector(
            c, w["going"].id, version=w["going"].version, search_type="hasty",
            assurance="low"),
        "delete_sector": lambda: store.delete_sector(c, w["draft"].id,
                                                     version=w["draft"].version),
        "add_hazard": lambda: store.add_hazard(c, case.id, kind="unsafe", geometry=_sq(8)),
        "update_hazard": lambda: store.update_hazard(c, w["hazard"].id,
                                                     version=w["hazard"].version, note="deep"),
        "remove_hazard": lambda: store.remove_hazard(c, w["hazard"].id,
                                                     version=w["hazard"].version),
        "create_handover": lambda: store.create_handover(
            c, case.id, from_unit="E23000001", to_unit="central-west", reason="moved"),
        "acknowledge_handover": lambda: store.acknowledge_handover(
            w["partner"], w["handover"].id, by_name="Insp. City",
            version=w["handover"].version),
        "issue_link": lambda: store.issue_link(c, case.id, role="family", label="Dad"),
        "revoke_link": lambda: store.revoke_link(c, w["lead_link"].link.id),
        "print_briefing": lambda: store.print_briefing(c, case.id, sector_code=w["assigned"].code),
        "sign_in": lambda: store.sign_in("coord.a", PASSWORD, client_key="10.0.0.9"),
        "sign_in_oidc": lambda: store.sign_in_oidc(
            {"email": "coord.a@met.police.uk", "email_verified": True}, client_key="10.0.0.9"),
        "set_sharing": lambda: store.set_sharing(
            c, case.id, version=store.sharing(c, case.id).version, family_lkl=True),
        "send_tip": lambda: store.send_tip(w["family"], case.id, lat=51.5, lon=-0.12,
                                           seen_at=now - timedelta(hours=1), text="again"),
        "report_family_search": lambda: store.report_family_search(
            w["family"], case.id, geometry=_sq(9), searched_at=now - timedelta(hours=1)),
        "review_report": lambda: store.review_report(c, w["tip"].id, "accepted",
                                                     version=w["tip"].version),
        "upload_track": lambda: store.upload_track(c, case.id, ("b.gpx", across(120)),
                                                   team_id=w["team"].id),
        "set_pass_sweep": lambda: store.set_pass_sweep(
            c, w["pass"].id, version=w["pass"].version, sweep_width_m=7.0),
        "delete_track": lambda: store.delete_track(c, w["upload"].track.id,
                                                   reason="started at home"),
        "set_up_poa": lambda: store.set_up_poa(c, case.id, reason="new sighting"),
        "refresh_coverage": lambda: store.refresh_coverage(c, case.id),
        "set_motion_model": lambda: store.set_motion_model(
            c, case.id, version=0, model="moving", walk_speed_ms=1.0),
        "purge_case": lambda: store.purge_case(w["system"], case.id, force=True),
    }


def _prepare(store: Store, w: dict, name: str) -> None:
    """Set up what a call needs beyond the shared world (before the snapshot)."""
    if name == "purge_case":
        case = store.get_case(w["coord"], w["case"].id)
        store.update_case(w["coord"], case.id, version=case.version, status="closed")
    if name == "refresh_coverage":  # a pass whose figures were never computed
        with store.engine.begin() as conn:
            conn.execute(t.sectors.update().where(t.sectors.c.id == w["going"].id)
                         .values(searched_at=utcnow()))


def _snapshot(store: Store) -> dict[str, str]:
    """A digest of every row of every table (what "nothing written" is checked against)."""
    out = {}
    with store.engine.connect() as conn:
        for table in t.ALL_TABLES:
            rows = conn.execute(sa.select(table).order_by(*table.primary_key.columns)).all()
            out[table.name] = hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest()
    return out


def test_every_write_operation_has_a_call_here(store):
    writes = write_operations()
    assert len(writes) >= 30, "the Store front lost its operations"
    missing = writes - set(_calls(store, {}))
    assert not missing, f"write operations with no audit-failure check: {sorted(missing)}"


class AuditDown(RuntimeError):
    pass


@pytest.mark.parametrize("name", sorted(write_operations()))
def test_a_failing_audit_append_leaves_nothing_written(store, monkeypatch, name):
    w = _world(store)
    _prepare(store, w, name)
    call = _calls(store, w)[name]
    before = _snapshot(store)

    def refuse(*_a, **_k):
        raise AuditDown("audit store unavailable")

    monkeypatch.setattr(unit_of_work, "append_records", refuse)
    with pytest.raises((AuditDown, Exception)) as caught:
        call()
    assert not isinstance(caught.value, AssertionError)
    assert _snapshot(store) == before, f"{name} wrote something without its audit record"
    monkeypatch.undo()
    call()  # and with a working audit the same call goes through
    assert _snapshot(store) != before
