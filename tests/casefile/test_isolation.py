"""Who sees what, method by method, at the store: team lead, family and partner-unit links.

Two cases (A and B) with teams, sectors (shared and not), hazards, sightings,
handovers and links. Every store method a coordinator uses is tried with every
link role; what a link may do is checked for its own case, team or unit only.

The two-case world is built ONCE per module (about 40 audited writes) and each
test gets its own copy of that database — a SQLite backup, or a PostgreSQL
database made from it as a template — so tests stay independent of each other
and of their order while the set-up is paid once.
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from casefile import (
    InvalidInput,
    LinkGone,
    NotFound,
    PermissionDenied,
    StaleVersion,
    Store,
    open_store,
    utcnow,
)
from casefile import permissions as perm
from tests.casefile.conftest import (
    IS_PG,
    make_case,
    make_coordinator,
    pg_admin_url,
    sighting_kwargs,
)

pytestmark = pytest.mark.db

#: ~50 m squares in the City of London and 3 km south (lon/lat)
SQ = [box(-0.0995 + i * 0.002, 51.5135, -0.0988 + i * 0.002, 51.5140) for i in range(6)]
SOUTH = box(-0.1110, 51.4880, -0.1103, 51.4885)


def _world(store, coord, case, ref_b="CASE-B"):
    other = make_coordinator(store, "coord.b", "Coordinator B")
    case_b = make_case(store, other, ref_b, child_name="Jordan", description="Blue coat")
    w = {"A": case, "B": case_b, "coord_b": other}
    for key, (c, who) in {"A": (case, coord), "B": (case_b, other)}.items():
        red = store.create_team(who, c.id, name=f"Red {key}", org_type="met_bcu",
                                lead_name=f"Lead {key}", contact=f"0770090000{key}")
        blue = store.create_team(who, c.id, name=f"Blue {key}", org_type="volunteer_group")
        s_red = store.create_sector(who, c.id, geometry=SQ[0], name=f"12 Acacia Ave {key}")
        s_red = store.assign_sector(who, s_red.id, red.id, version=s_red.version)
        s_blue = store.create_sector(who, c.id, geometry=SQ[1], name=f"Park {key}")
        s_blue = store.assign_sector(who, s_blue.id, blue.id, version=s_blue.version)
        s_private = store.create_sector(who, c.id, geometry=SQ[2], name=f"Home {key}",
                                        share_with_family=False)
        s_private = store.assign_sector(who, s_private.id, red.id, version=s_private.version)
        s_draft = store.create_sector(who, c.id, geometry=SQ[3], name=f"Draft {key}")
        store.add_hazard(who, c.id, kind="unsafe", geometry=SOUTH, note=f"Scene note {key}")
        sighting = store.add_sighting(who, c.id, **sighting_kwargs(status="verified"))
        to_city = store.create_handover(who, c.id, from_unit="E23000001",
                                        to_unit="city of london police",
                                        reason=f"Handover {key}", sector_ids=[s_red.id])
        to_other = store.create_handover(who, c.id, from_unit="city of london police",
                                         to_unit="E23000001", reason="back",
                                         sector_ids=[s_blue.id])
        links = {
            "lead": store.open_link(store.issue_link(
                who, c.id, role="team_lead", label="Red lead", team_id=red.id).token),
            "family": store.open_link(store.issue_link(
                who, c.id, role="family", label="Mum").token),
            "partner": store.open_link(store.issue_link(
                who, c.id, role="partner", label="City", unit="city of london police").token),
        }
        w[key + "_data"] = dict(red=red, blue=blue, s_red=s_red, s_blue=s_blue,
                                s_private=s_private, s_draft=s_draft, sighting=sighting,
                                to_city=to_city, to_other=to_other, links=links)
    return w


def _pg_database_url(name: str) -> str:
    return pg_admin_url().rsplit("/", 1)[0] + "/" + name


class _Snapshot:
    """The world's database, built once; :meth:`copy` gives a test its own copy."""

    def __init__(self, workdir: Path, template: str) -> None:
        self.workdir = workdir
        self.copies: list[str] = []
        if IS_PG:
            self.server = sa.create_engine(_pg_database_url("postgres"),
                                           isolation_level="AUTOCOMMIT")
            self.name = f"wh_iso_{uuid.uuid4().hex[:10]}"
            with self.server.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{self.name}"')
            db = sa.create_engine(_pg_database_url(self.name))
            with db.begin() as conn:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            db.dispose()
            self.url = _pg_database_url(self.name)
        else:
            self.url = f"sqlite:///{workdir / 'world.sqlite3'}"
            _sqlite_copy(Path(template), workdir / "world.sqlite3")

    def build(self) -> dict:
        store = open_store(self.url)
        try:
            coord = make_coordinator(store)
            case = make_case(store, coord)
            w = _world(store, coord, case)
            w["coord"] = coord
            return w
        finally:
            store.close()

    def copy(self) -> str:
        n = len(self.copies)
        if IS_PG:
            name = f"{self.name}_{n}"
            with self.server.connect() as conn:
                conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.name}"')
            self.copies.append(name)
            return _pg_database_url(name)
        path = self.workdir / f"copy-{n}.sqlite3"
        _sqlite_copy(self.workdir / "world.sqlite3", path)
        self.copies.append(str(path))
        return f"sqlite:///{path}"

    def drop_copies(self) -> None:
        if IS_PG:
            with self.server.connect() as conn:
                for name in self.copies:
                    conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.copies.clear()

    def close(self) -> None:
        self.drop_copies()
        if IS_PG:
            with self.server.connect() as conn:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.server.dispose()


def _sqlite_copy(src: Path, dst: Path) -> None:
    """A consistent copy of a SQLite store, write-ahead log included (the backup API)."""
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


@pytest.fixture(scope="module")
def _snapshot(_template: str, tmp_path_factory) -> Iterator[tuple[_Snapshot, dict]]:
    snap = _Snapshot(tmp_path_factory.mktemp("isolation"), _template)
    try:
        yield snap, snap.build()
    finally:
        snap.close()


@pytest.fixture
def store(_snapshot) -> Iterator[Store]:
    """This test's own copy of the world's database."""
    snap, _ = _snapshot
    s = open_store(snap.copy())
    try:
        yield s
    finally:
        s.close()
        snap.drop_copies()


@pytest.fixture
def world(_snapshot, store):
    return _snapshot[1]


@pytest.fixture
def coord(world):
    return world["coord"]


def _coordinator_reads(store, actor, d, case_id):
    """Every coordinator read, as (name, thunk)."""
    return [
        ("get_case", lambda: store.get_case(actor, case_id)),
        ("find_case", lambda: store.find_case(actor, "CASE-A")),
        ("list_cases", lambda: store.list_cases(actor)),
        ("load_case", lambda: store.load_case(actor, case_id)),
        ("change_token", lambda: store.change_token(actor, case_id)),
        ("sightings", lambda: store.sightings(actor, case_id)),
        ("get_sighting", lambda: store.get_sighting(actor, d["sighting"].id)),
        ("path", lambda: store.path(actor, case_id)),
        ("last_known_location", lambda: store.last_known_location(actor, case_id)),
        ("audit_log", lambda: store.audit_log(actor, case_id)),
        ("sectors", lambda: store.sectors(actor, case_id)),
        ("sectors_frame", lambda: store.sectors_frame(actor, case_id)),
        ("get_sector", lambda: store.get_sector(actor, d["s_red"].id)),
        ("find_sector", lambda: store.find_sector(actor, case_id, d["s_red"].code)),
        ("check_overlaps", lambda: store.check_overlaps(actor, case_id, SQ[0])),
        ("duplication_figure", lambda: store.duplication_figure(actor, case_id)),
        ("teams", lambda: store.teams(actor, case_id)),
        ("get_team", lambda: store.get_team(actor, d["red"].id)),
        ("handovers", lambda: store.handovers(actor, case_id)),
        ("get_handover", lambda: store.get_handover(actor, d["to_city"].id)),
        ("sectors_near_unit", lambda: store.sectors_near_unit(actor, case_id, "E23000001")),
        ("links", lambda: store.links(actor, case_id)),
        ("sharing", lambda: store.sharing(actor, case_id)),
        ("triage_queue", lambda: store.triage_queue(actor, case_id)),
        ("triage_count", lambda: store.triage_count(actor, case_id)),
    ]


def _coordinator_writes(store, actor, d, case_id):
    now = utcnow()
    return [
        ("create_case", lambda: make_case(store, actor, "CASE-X")),
        ("update_case", lambda: store.update_case(actor, case_id, version=1, notes="x")),
        ("add_case_member", lambda: store.add_case_member(actor, case_id, "coord.b")),
        ("add_sighting", lambda: store.add_sighting(actor, case_id, **sighting_kwargs())),
        ("update_sighting", lambda: store.update_sighting(
            actor, d["sighting"].id, version=d["sighting"].version, status="dismissed")),
        ("delete_sighting", lambda: store.delete_sighting(
            actor, d["sighting"].id, version=d["sighting"].version)),
        ("create_sector", lambda: store.create_sector(actor, case_id, geometry=SQ[5])),
        ("update_sector", lambda: store.update_sector(
            actor, d["s_red"].id, version=d["s_red"].version, name="x")),
        ("set_sector_status", lambda: store.set_sector_status(
            actor, d["s_draft"].id, "ready", version=d["s_draft"].version)),
        ("assign_sector", lambda: store.assign_sector(
            actor, d["s_draft"].id, d["red"].id, version=d["s_draft"].version)),
        ("delete_sector", lambda: store.delete_sector(
            actor, d["s_draft"].id, version=d["s_draft"].version)),
        ("create_team", lambda: store.create_team(actor, case_id, name="x", org_type="met_bcu")),
        ("update_team", lambda: store.update_team(actor, d["red"].id, version=1, size=2)),
        ("add_hazard", lambda: store.add_hazard(actor, case_id, kind="unsafe", geometry=SQ[4])),
        ("create_handover", lambda: store.create_handover(
            actor, case_id, from_unit="E23000001", to_unit="central-west", reason="x")),
        ("issue_link", lambda: store.issue_link(actor, case_id, role="family", label="x")),
        ("set_sharing", lambda: store.set_sharing(actor, case_id, version=0, family_lkl=True)),
        ("purge_case", lambda: store.purge_case(actor, case_id, force=True)),
        ("start_session", lambda: store.start_session(actor)),
        ("send_tip", None if actor.role == "family" else lambda: store.send_tip(
            actor, case_id, lat=51.5, lon=-0.12, seen_at=now - timedelta(hours=1), text="x")),
    ]


ROLES = ("lead", "family", "partner")


def test_links_cannot_use_coordinator_reads_or_writes(store, world):
    d = world["A_data"]
    case_id = world["A"].id
    for role in ROLES:
        actor = d["links"][role].actor
        for name, call in _coordinator_reads(store, actor, d, case_id):
            with pytest.raises((PermissionDenied, NotFound)):
                call()
                pytest.fail(f"{role} link could call {name}")
        for name, call in _coordinator_writes(store, actor, d, case_id):
            if call is None:
                continue
            with pytest.raises((PermissionDenied, NotFound, InvalidInput)) as err:
                call()
            assert isinstance(err.value, PermissionDenied), f"{role}/{name}: {err.value}"


def test_links_read_nothing_of_another_case(store, world):
    for role in ROLES:
        _nothing_of_b(store, world, role)


def _nothing_of_b(store, world, role):
    a, b = world["A"], world["B"]
    actor = world["A_data"]["links"][role].actor
    bd = world["B_data"]
    calls = [
        lambda: store.case_brief(actor, b.id),
        lambda: store.link_poll(actor, b.id),
        lambda: store.family_view(actor, b.id),
        lambda: store.family_streets(actor, b.id),
        lambda: store.family_map_streets(actor, b.id),
        lambda: store.family_street_ground(actor, b.id, ["Union Street"]),
        lambda: store.team_sectors(actor, b.id),
        lambda: store.shared_sightings(actor, b.id),
        lambda: store.partner_handovers(actor, b.id),
        lambda: store.partner_sectors(actor, b.id),
        lambda: store.team_hazards(actor, b.id),
        lambda: store.team_neighbours(actor, b.id),
        lambda: store.team_last_known(actor, b.id),
        lambda: store.my_reports(actor, b.id),
        lambda: store.start_sector(actor, bd["s_red"].id, version=bd["s_red"].version),
        lambda: store.acknowledge_handover(actor, bd["to_city"].id, by_name="x",
                                           version=bd["to_city"].version),
        lambda: store.send_tip(actor, b.id, lat=51.5, lon=-0.12,
                               seen_at=utcnow() - timedelta(hours=1), text="x"),
        lambda: store.report_family_search(actor, b.id, geometry=SQ[5],
                                           searched_at=utcnow() - timedelta(hours=1)),
    ]
    for i, call in enumerate(calls):
        with pytest.raises(PermissionDenied):
            call()
            pytest.fail(f"{role} link of case A reached case B (call {i})")
    assert store.case_brief(actor, a.id).reference == "CASE-A"


def test_family_sees_only_shared_planned_active_and_searched_ground(store, world, coord):
    d = world["A_data"]
    case = world["A"]
    fam = d["links"]["family"].actor
    # Red starts its sector; Blue's stays planned; the private one and the draft never show
    lead = d["links"]["lead"].actor
    red = store.start_sector(lead, d["s_red"].id, version=d["s_red"].version)
    view = store.family_view(fam, case.id)
    groups = {a.code: a.group for a in view.areas}
    assert groups == {d["s_red"].code: "in_progress", d["s_blue"].code: "planned"}
    store.finish_sector(lead, red.id, version=red.version, search_type="hasty",
                        assurance="medium")
    view = store.family_view(fam, case.id)
    (searched,) = [a for a in view.areas if a.code == d["s_red"].code]
    assert searched.group == "searched_today" and searched.last_searched_at is not None
    assert [h.kind for h in view.hazards] == ["unsafe"]
    assert view.last_known is None  # not shared unless the coordinator chooses
    # the family page names the child as the coordinator chose (first name by default)
    assert view.child_name == "Robin"
    text = repr(view).replace("child_name='Robin'", "")
    for secret in ("Acacia", "Robin", "Lead A", "07700", "Scene note", "Green school",
                   "Red A", "Sam Passer-by", "Home A"):
        assert secret not in text, secret
    # the coordinator shares the LKL and sets a delay: fresh changes wait
    sharing = store.sharing(coord, case.id)
    store.set_sharing(coord, case.id, version=sharing.version, family_lkl=True,
                      family_delay_min=30)
    view = store.family_view(fam, case.id)
    assert view.last_known is not None
    assert d["s_red"].code not in {a.code for a in view.areas}  # changed < 30 min ago
    # family cannot use the brief to learn the child's details
    brief = store.case_brief(fam, case.id)
    assert brief.child_name is None and brief.description is None


def test_team_lead_only_its_own_team_sectors(store, world, coord):
    d = world["A_data"]
    case = world["A"]
    lead = d["links"]["lead"].actor
    mine = store.team_sectors(lead, case.id)
    assert {s.code for s in mine} == {d["s_red"].code, d["s_private"].code}
    brief = store.case_brief(lead, case.id)
    assert brief.child_name == "Robin" and brief.description.startswith("Green")
    assert [h.note for h in store.team_hazards(lead, case.id)] == ["Scene note A"]
    with pytest.raises(PermissionDenied, match="not your team"):
        store.start_sector(lead, d["s_blue"].id, version=d["s_blue"].version)
    with pytest.raises(PermissionDenied):
        store.finish_sector(lead, d["s_blue"].id, version=d["s_blue"].version,
                            search_type="hasty", assurance="low")
    started = store.start_sector(lead, d["s_red"].id, version=d["s_red"].version)
    with pytest.raises(PermissionDenied, match="own team"):
        store.finish_sector(lead, started.id, version=started.version, search_type="hasty",
                            assurance="low", team_id=d["blue"].id)
    with pytest.raises(StaleVersion):
        store.finish_sector(lead, started.id, version=started.version - 1,
                            search_type="hasty", assurance="low")
    done = store.finish_sector(lead, started.id, version=started.version,
                               search_type="thorough", assurance="high",
                               not_searched_reason="", notes="all gardens checked")
    assert done.status == "searched" and done.searched_by_team_id == d["red"].id
    # a sector taken off the team is no longer theirs
    s = store.set_sector_status(coord, d["s_private"].id, "ready",
                                version=d["s_private"].version)
    with pytest.raises(PermissionDenied):
        store.start_sector(lead, s.id, version=s.version)
    # sightings only as far as shared (default: verified ones)
    (seen,) = store.shared_sightings(lead, case.id)
    assert seen.id == d["sighting"].id and seen.reported_by == "" and seen.reporter_contact == ""
    sharing = store.sharing(coord, case.id)
    store.set_sharing(coord, case.id, version=sharing.version, team_sightings="none")
    assert store.shared_sightings(lead, case.id) == []
    for forbidden in (perm.SIGHTING_READ, perm.TEAM_READ, perm.TEAM_CONTACTS, perm.SECTOR_READ):
        assert not perm.role_allows("team_lead", forbidden)


def test_team_lead_sees_neighbours_and_the_shared_last_known_location(store, world, coord):
    d = world["A_data"]
    case = world["A"]
    lead = d["links"]["lead"].actor
    # neighbours: the other sectors near the team's own (S blue, the draft), ID and status only
    near = store.team_neighbours(lead, case.id)
    assert {(n.code, n.status) for n in near} == {
        (d["s_blue"].code, d["s_blue"].status), (d["s_draft"].code, d["s_draft"].status)}
    assert {d["s_red"].code, d["s_private"].code}.isdisjoint(n.code for n in near)
    assert not any(hasattr(n, attr) for n in near
                   for attr in ("name", "notes", "team_id", "team_name"))
    # default sharing: the last-known location and verified sightings, never contacts
    sharing = store.sharing(coord, case.id)
    assert (sharing.team_lkl, sharing.team_sightings) == (True, "verified")
    store.add_sighting(coord, case.id, **sighting_kwargs(reported_by="Pat Unchecked"))
    lkl = store.team_last_known(lead, case.id)
    assert lkl is not None and (lkl.kind, lkl.sighting_id) == ("sighting", d["sighting"].id)
    seen = store.shared_sightings(lead, case.id)
    assert [s.id for s in seen] == [d["sighting"].id]
    text = repr((near, lkl, seen))
    for secret in ("Sam Passer-by", "07700", "Pat Unchecked", "Park A", "Draft A", "Blue A",
                   "Lead A", "Home A"):
        assert secret not in text, secret
    # the coordinator may stop sharing the LKL
    store.set_sharing(coord, case.id, version=sharing.version, team_lkl=False)
    assert store.team_last_known(lead, case.id) is None
    assert store.sharing(coord, case.id).team_lkl is False
    # another team's lead sees its own neighbours, never another case's
    lead_b = world["B_data"]["links"]["lead"].actor
    with pytest.raises(PermissionDenied):
        store.team_neighbours(lead_b, case.id)


def test_partner_acknowledges_only_handovers_to_its_unit(store, world, coord):
    d = world["A_data"]
    case = world["A"]
    partner = d["links"]["partner"].actor
    listed = store.partner_handovers(partner, case.id)
    assert {h.id for h in listed} == {d["to_city"].id, d["to_other"].id}
    with pytest.raises(PermissionDenied, match="addressed"):
        store.acknowledge_handover(partner, d["to_other"].id, by_name="PC City",
                                   version=d["to_other"].version)
    acked = store.acknowledge_handover(partner, d["to_city"].id, by_name="Insp. City",
                                       version=d["to_city"].version)
    assert acked.acknowledged_by == "Insp. City"
    assert acked.acknowledged_recorded_by == partner.display_name
    near = store.partner_sectors(partner, case.id, within_m=500)
    assert d["s_red"].code in {u.sector.code for u in near}
    assert all(u.sector.notes == "" and u.sector.team_id is None for u in near)
    with pytest.raises(PermissionDenied):
        store.start_sector(partner, d["s_red"].id, version=d["s_red"].version)
    with pytest.raises(PermissionDenied):
        store.family_view(partner, case.id)
    for actor in (partner, d["links"]["lead"].actor):  # the family's street list is theirs
        with pytest.raises(PermissionDenied):
            store.family_streets(actor, case.id)


def test_family_can_report_but_not_read_reports_of_others(store, world, coord):
    d = world["A_data"]
    case = world["A"]
    fam = d["links"]["family"].actor
    tip = store.send_tip(fam, case.id, lat=51.5033, lon=-0.1196,
                         seen_at=utcnow() - timedelta(hours=1), text="Boy by the bins",
                         contact="07700 900111", place="SE1 7PB",
                         idempotency_key="tip-form-0001")
    again = store.send_tip(fam, case.id, lat=51.5033, lon=-0.1196,
                           seen_at=utcnow() - timedelta(hours=1), text="Boy by the bins",
                           idempotency_key="tip-form-0001")
    assert again.id == tip.id
    search = store.report_family_search(fam, case.id, geometry=SQ[0].buffer(0.0002),
                                        searched_at=utcnow() - timedelta(hours=2),
                                        note="We walked round twice")
    assert search.overlaps and search.overlaps[0]["code"] == d["s_red"].code
    # the family's own reports come back to it; the queue is the coordinator's
    assert {r.id for r in store.my_reports(fam, case.id)} == {tip.id, search.id}
    with pytest.raises(PermissionDenied):
        store.triage_queue(fam, case.id)
    with pytest.raises(PermissionDenied):
        store.triage_count(fam, case.id)
    queue = store.triage_queue(coord, case.id)
    assert {(r.kind, r.id) for r in queue} == {("tip", tip.id), ("search", search.id)}
    assert store.triage_count(coord, case.id) == 2
    tip_row = next(r for r in queue if r.kind == "tip")
    assert tip_row.contact == "07700 900111" and tip_row.text == "Boy by the bins"
    assert tip_row.note == "Where, as typed: SE1 7PB"  # the family's own words
    (s,) = [x for x in store.sightings(coord, case.id) if x.id == tip.sighting_id]
    assert (s.status, s.source) == ("unverified", "family")
    # the family search is searched ground in every later duplicate check
    over = store.check_overlaps(coord, case.id, SQ[0].buffer(0.0001))
    assert search.sector_code in {o.code for o in over}
    # family cannot see the tip as a sighting, nor anyone's reports in the family view
    assert "bins" not in repr(store.family_view(fam, case.id))
    reviewed = store.review_report(coord, search.id, "dismissed", version=search.version,
                                   reason="Not where they said")
    assert reviewed.status == "dismissed"
    assert store.get_sector(coord, search.sector_id).status == "needs_re_search"
    assert store.triage_count(coord, case.id) == 1
    store.review_report(coord, tip.id, "accepted", version=tip.version)
    assert store.get_sighting(coord, tip.sighting_id).status == "verified"
    assert store.triage_queue(coord, case.id) == []
    assert store.triage_count(coord, case.id) == 0


def test_revoked_partner_and_lead_are_refused_everywhere(store, world, coord):
    d = world["A_data"]
    case = world["A"]
    for role in ("lead", "partner", "family"):
        store.revoke_link(coord, d["links"][role].link_id)
    lead, partner, fam = (d["links"][r].actor for r in ("lead", "partner", "family"))
    for call in (
        lambda: store.team_sectors(lead, case.id),
        lambda: store.start_sector(lead, d["s_red"].id, version=d["s_red"].version),
        lambda: store.partner_handovers(partner, case.id),
        lambda: store.acknowledge_handover(partner, d["to_city"].id, by_name="x",
                                           version=d["to_city"].version),
        lambda: store.family_view(fam, case.id),
        lambda: store.send_tip(fam, case.id, lat=51.5, lon=-0.12,
                               seen_at=utcnow() - timedelta(hours=1), text="x"),
    ):
        with pytest.raises((PermissionDenied, LinkGone)):
            call()
