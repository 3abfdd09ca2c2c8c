"""One case with one of everything, and one valid call per write operation of the
Store front: shared by the audit-failure and role-table tests."""

from __future__ import annotations

from datetime import timedelta

import geopandas as gpd
import pytest
import sqlalchemy as sa
from shapely.geometry import LineString, Point, box

from casefile import Actor, NewSector, NewSighting, Store, open_store, utcnow
from casefile import schema as t
from casefile.unit_of_work import operation
from geo.crs import geoms_to_lonlat
from tests.casefile.conftest import (
    PASSWORD,
    StoreSnapshot,
    fresh_store_url,
    make_case,
    make_coordinator,
    sighting_kwargs,
)
from tests.casefile.test_tracks import across, square

X0, Y0 = 531_000.0, 180_000.0


def sq(i: int):
    return geoms_to_lonlat(box(X0 + 2_000 + i * 300, Y0, X0 + 2_100 + i * 300, Y0 + 100))


def rendezvous_version(store: Store, case_id: int) -> int:
    """The rendezvous point's version, read past the store (a call must open one unit)."""
    with store.engine.connect() as conn:
        return int(conn.execute(sa.select(t.case_rendezvous.c.version)
                                .where(t.case_rendezvous.c.case_id == case_id)).scalar_one())


def write_operations() -> set[str]:
    """Every operation of the Store front that can change the store."""
    return {
        name for name, attr in vars(Store).items()
        if isinstance(attr, operation) and attr.writes
    }


def build_world(store: Store) -> dict:
    """A case with one of everything, so every write has something to act on."""
    system = Actor.system("test")
    coord = make_coordinator(store)
    make_coordinator(store, "coord.b", "Coordinator B")
    case = make_case(store, coord)
    team = store.create_team(coord, case.id, name="Team Red", org_type="met_bcu", size=4)
    team2 = store.create_team(coord, case.id, name="Team Blue", org_type="met_bcu", size=4)
    sighting = store.add_sighting(coord, case.id, **sighting_kwargs())
    draft = store.create_sector(coord, case.id, geometry=sq(0), name="Draft")
    ready = store.create_sector(coord, case.id, geometry=sq(1), name="Ready")
    ready = store.set_sector_status(coord, ready.id, "ready", version=ready.version)
    assigned = store.create_sector(coord, case.id, geometry=sq(2), name="Assigned")
    assigned = store.set_sector_status(coord, assigned.id, "ready", version=assigned.version)
    assigned = store.assign_sector(coord, assigned.id, team.id, version=assigned.version)
    going = store.create_sector(coord, case.id, geometry=square(), name="Going")
    going = store.set_sector_status(coord, going.id, "ready", version=going.version)
    going = store.assign_sector(coord, going.id, team.id, version=going.version)
    going = store.start_sector(coord, going.id, version=going.version)
    hazard = store.add_hazard(coord, case.id, kind="unsafe", geometry=sq(4))
    store.set_rendezvous(coord, case.id, version=0, place="51.5010, -0.1270",
                         words="Car park, north gate")
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
    task = store.add_task(coord, case.id, kind="cctv", title="CCTV at the shop",
                          place_lonlat=Point(-0.0950, 51.5040), team_id=team.id)
    passes = store.passes(coord, case.id)
    return {
        "system": system, "coord": coord, "case": case, "team": team, "team2": team2,
        "sighting": sighting, "draft": draft, "ready": ready, "assigned": assigned,
        "going": going, "hazard": hazard, "handover": handover, "upload": upload,
        "family": family.actor, "partner": partner.actor, "lead_link": lead_link, "tip": tip,
        "pass": passes[0], "task": task,
    }


@pytest.fixture(scope="module")
def saved_world(_template, tmp_path_factory):
    """The world built once per module and saved (building it takes seconds)."""
    workdir = tmp_path_factory.mktemp("world")
    url = fresh_store_url(_template, workdir)
    store = open_store(url)
    w = build_world(store)
    store.close()
    snapshot = StoreSnapshot(url, workdir)
    yield snapshot, w
    snapshot.drop()


@pytest.fixture
def world(saved_world):
    """A store holding exactly the saved world, and the world's records."""
    snapshot, w = saved_world
    store = open_store(snapshot.restore())
    yield store, w
    store.close()


def calls(store: Store, w: dict, actor: Actor | None = None) -> dict:
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
        "create_sector": lambda: store.create_sector(c, case.id, geometry=sq(6), name="N"),
        "create_sectors": lambda: store.create_sectors(
            c, case.id, [NewSector(geometry=sq(7)), NewSector(geometry=sq(10))]),
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
        "add_hazard": lambda: store.add_hazard(c, case.id, kind="unsafe", geometry=sq(8)),
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
        "print_period_pack": lambda: store.print_period_pack(c, case.id),
        "set_rendezvous": lambda: store.set_rendezvous(
            c, case.id, version=rendezvous_version(store, case.id),
            place="TQ 30000 79800", words="Outside the library"),
        "clear_rendezvous": lambda: store.clear_rendezvous(
            c, case.id, version=rendezvous_version(store, case.id)),
        "make_handover_report": lambda: store.make_handover_report(c, case.id, "E23000034"),
        "sign_in": lambda: store.sign_in("coord.a", PASSWORD, client_key="10.0.0.9"),
        "sign_in_oidc": lambda: store.sign_in_oidc(
            {"email": "coord.a@met.police.uk", "email_verified": True}, client_key="10.0.0.9"),
        "set_sharing": lambda: store.set_sharing(
            c, case.id, version=store.sharing(c, case.id).version, family_lkl=True),
        "send_tip": lambda: store.send_tip(w["family"], case.id, lat=51.5, lon=-0.12,
                                           seen_at=now - timedelta(hours=1), text="again"),
        "report_family_search": lambda: store.report_family_search(
            w["family"], case.id, geometry=sq(9), searched_at=now - timedelta(hours=1)),
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
        "add_task": lambda: store.add_task(c, case.id, kind="station_check", title="Station",
                                           place_lonlat=Point(-0.1043, 51.5036)),
        "update_task": lambda: store.update_task(c, w["task"].id, version=w["task"].version,
                                                 note="ask the manager"),
        "assign_task": lambda: store.assign_task(c, w["task"].id, w["team2"].id,
                                                 version=w["task"].version),
        "set_task_status": lambda: store.set_task_status(c, w["task"].id, "done",
                                                         version=w["task"].version),
        "delete_task": lambda: store.delete_task(c, w["task"].id, version=w["task"].version),
        "load_streets": lambda: store.load_streets(w["system"], _streets(), source="x.osm"),
    }


def _streets():
    """Two lines as geo.read_streets gives them."""
    return gpd.GeoDataFrame(
        {"name": ["Union Street", ""], "kind": ["road", "rail"], "major": [False, True],
         "ground": [True, True]},
        geometry=[LineString([(-0.10, 51.50), (-0.09, 51.50)]),
                  LineString([(-0.10, 51.49), (-0.10, 51.51)])], crs=4326)


