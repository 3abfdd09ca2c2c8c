"""The audit log (append-only, no personal values) and the per-case change counter."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa

from casefile import NewSighting, PermissionDenied, utcnow
from casefile import schema as t
from casefile.cases import token_query
from tests.casefile.conftest import make_case, make_coordinator, sighting_kwargs

pytestmark = pytest.mark.db

PERSONAL = {
    "child": "Zephyrine",
    "child2": "Quillon",
    "desc": "Wearing a mustard duffle coat",
    "desc2": "Now in a teal anorak",
    "notes": "Grandmother lives on Larkspur Road",
    "reporter": "Ottoline Featherstonehaugh",
    "contact": "07700 900987",
    "sdesc": "Seen buying chips on Wexley Parade",
    "sdesc2": "Seen again at Wexley bus garage",
}


def _dump(store, table: sa.Table) -> str:
    """Every value of every row of ``table`` as one string."""
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(table)).all()
    return json.dumps([[str(v) for v in row] for row in rows])


def test_audit_log_holds_field_names_not_personal_values(store, coord):
    case = make_case(
        store,
        coord,
        child_name=PERSONAL["child"],
        description=PERSONAL["desc"],
        notes=PERSONAL["notes"],
        home=(51.4321, -0.2345),
        age=11,
    )
    s = store.add_sighting(
        coord,
        case.id,
        **sighting_kwargs(
            reported_by=PERSONAL["reporter"],
            reporter_contact=PERSONAL["contact"],
            description=PERSONAL["sdesc"],
        ),
    )
    case = store.update_case(
        coord,
        case.id,
        version=1,
        child_name=PERSONAL["child2"],
        description=PERSONAL["desc2"],
        home=(51.4400, -0.2400),
    )
    store.update_sighting(coord, s.id, version=1, description=PERSONAL["sdesc2"])
    store.delete_sighting(coord, s.id, version=2, reason="Entered twice")

    log = _dump(store, t.audit_log)
    for value in PERSONAL.values():
        assert value not in log
    for coord_text in ("51.4321", "-0.2345", "51.44", "-0.24"):  # the child's home
        assert coord_text not in log
    # the audit log still says which fields changed
    records = store.audit_log(coord, case.id)
    upd_case = next(r for r in records if r.entity == "case" and r.action == "update")
    assert upd_case.fields == ("child_name", "description", "home")
    assert upd_case.changes == {}
    # ...and the personal before/after values sit in the purgeable side table, by case
    assert upd_case.personal["child_name"] == [PERSONAL["child"], PERSONAL["child2"]]
    with store.engine.connect() as conn:
        case_ids = set(conn.execute(sa.select(t.audit_detail.c.case_id)).scalars())
    assert case_ids == {case.id}
    delete = records[0]
    assert (delete.action, delete.reason) == ("delete", "Entered twice")


def test_audit_log_is_append_only_at_the_database(store, coord, case):
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(t.audit_log.update().values(actor_name="someone else"))
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        with store.engine.begin() as conn:
            conn.execute(t.audit_log.delete())
    assert len(store.audit_log(coord, case.id)) == 1


def test_audit_rows_equal_successful_writes(store, coord, case):
    s = store.add_sighting(coord, case.id, **sighting_kwargs())
    store.update_sighting(coord, s.id, version=1, status="verified")
    for _ in range(3):  # failed writes leave no audit record
        with pytest.raises(Exception):
            store.update_sighting(coord, s.id, version=1, status="dismissed")
    store.update_sighting(coord, s.id, version=2, status="verified")  # no change: no write
    assert [(r.entity, r.action) for r in store.audit_log(coord, case.id)] == [
        ("sighting", "update"),
        ("sighting", "create"),
        ("case", "create"),
    ]


def test_only_members_of_the_case_read_its_audit_log(store, coord, case):
    other = make_coordinator(store, "coord.b", "B")
    with pytest.raises(PermissionDenied):
        store.audit_log(other, case.id)


def test_change_token_moves_on_insert_update_delete(store, coord, case):
    seen = [store.change_token(coord, case.id)]

    def moved() -> bool:
        seen.append(store.change_token(coord, case.id))
        return seen[-1] > seen[-2]

    s = store.add_sighting(coord, case.id, **sighting_kwargs())
    assert moved()
    # an update to an OLDER row than the newest still moves it (max(version) would not)
    store.add_sighting(coord, case.id, **sighting_kwargs(lat=51.52))
    assert moved()
    store.update_sighting(coord, s.id, version=1, status="verified")
    assert moved()
    store.delete_sighting(coord, s.id, version=2)
    assert moved()
    store.update_case(coord, case.id, version=1, status="found")
    assert moved()
    make_coordinator(store, "coord.b", "B")
    store.add_case_member(coord, case.id, "coord.b")
    assert moved()
    store.add_sightings(
        coord,
        case.id,
        [
            NewSighting(
                lat=51.5, lon=-0.1, seen_at=utcnow() - timedelta(minutes=i), source="police"
            )
            for i in range(3)
        ],
    )
    assert moved()
    # reads and no-op saves do not
    store.load_case(coord, case.id)
    store.update_case(coord, case.id, version=2, status="found")
    assert not moved()


def test_change_token_is_per_case(store, coord, case):
    other = make_case(store, coord, reference="CASE-2")
    before = store.change_token(coord, other.id)
    store.add_sighting(coord, case.id, **sighting_kwargs())
    assert store.change_token(coord, other.id) == before


def test_change_token_is_one_indexed_lookup_on_postgis(store, coord, case):
    if store.backend != "postgis":
        with store.engine.connect() as conn:
            plan = " ".join(
                str(r)
                for r in conn.exec_driver_sql(
                    "EXPLAIN QUERY PLAN SELECT n FROM case_change WHERE case_id = 1"
                )
            )
        assert "SCAN" not in plan.upper().replace("COVERING INDEX", "")
        return
    query = token_query().params(case_id=case.id, user_id=coord.user_id, role="coordinator")
    sql = str(query.compile(store.engine, compile_kwargs={"literal_binds": True}))
    with store.engine.connect() as conn:
        conn.exec_driver_sql("SET enable_seqscan = off")
        plan = "\n".join(r[0] for r in conn.exec_driver_sql("EXPLAIN " + sql))
    assert "Index" in plan


def test_last_known_location_is_latest_verified_else_ipp(store, coord, case):
    lk = store.last_known_location(coord, case.id)
    assert (lk.kind, lk.lat, lk.lon, lk.at) == ("ipp", case.ipp_lat, case.ipp_lon, None)
    now = utcnow()
    old = store.add_sighting(
        coord,
        case.id,
        **sighting_kwargs(lat=51.50, seen_at=now - timedelta(hours=3), status="verified"),
    )
    newer = store.add_sighting(
        coord,
        case.id,
        **sighting_kwargs(lat=51.51, seen_at=now - timedelta(hours=2), status="verified"),
    )
    store.add_sighting(
        coord,
        case.id,
        **sighting_kwargs(lat=51.52, seen_at=now - timedelta(hours=1), status="unverified"),
    )
    store.add_sighting(
        coord,
        case.id,
        **sighting_kwargs(lat=51.53, seen_at=now - timedelta(minutes=30), status="dismissed"),
    )
    lk = store.last_known_location(coord, case.id)
    assert (lk.kind, lk.sighting_id, lk.lat) == ("sighting", newer.id, 51.51)
    assert store.load_case(coord, case.id).last_known() == lk
    assert [s.id for s in store.path(coord, case.id)] == [old.id, newer.id]
    assert [s.id for s in store.load_case(coord, case.id).path()] == [old.id, newer.id]
    # dismissing the newest verified one falls back to the older one, then to the IPP
    store.update_sighting(coord, newer.id, version=1, status="dismissed")
    assert store.last_known_location(coord, case.id).sighting_id == old.id
    store.update_sighting(coord, old.id, version=1, status="unverified")
    assert store.last_known_location(coord, case.id).kind == "ipp"


def test_a_case_with_a_thousand_sightings_loads_whole_and_in_order(store, coord, case):
    now = utcnow()
    items = [
        NewSighting(
            lat=51.45 + (i % 97) / 1000,
            lon=-0.2 + (i % 89) / 1000,
            seen_at=now - timedelta(minutes=(i * 7919) % 1000),
            source="public",
            status=("verified", "unverified", "dismissed")[i % 3],
        )
        for i in range(1000)
    ]
    store.add_sightings(coord, case.id, items)
    cf = store.load_case(coord, case.id)
    assert len(cf.sightings) == 1000
    keys = [(s.seen_at, s.id) for s in cf.sightings]
    assert keys == sorted(keys)
    frame = cf.sightings_frame()
    assert len(frame) == 1000 and {"lat", "lon", "status", "bcu"} <= set(frame.columns)
    assert cf.token == store.change_token(coord, case.id)
