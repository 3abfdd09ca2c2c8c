"""Every entity goes in and comes back out unchanged, also after a process restart."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest

from casefile import Actor, NewSighting, open_store, utcnow
from tests.casefile.conftest import PASSWORD, make_case, make_coordinator, sighting_kwargs

pytestmark = pytest.mark.db

HOSTILE = (
    "<script>alert('x')</script> <img src=x onerror=alert(1)> `${x}` \"q\" 'q' "
    "; DROP TABLE cases; --"
)


def test_user_round_trip_and_login(store):
    user = store.create_user(Actor.system("test"), "jo.smith", "Jo Smith (PolSA)", PASSWORD)
    again = store.get_user(Actor.system("test"), "jo.smith")
    assert again == user
    assert (user.username, user.display_name, user.role, user.active) == (
        "jo.smith",
        "Jo Smith (PolSA)",
        "coordinator",
        True,
    )
    actor = store.authenticate("jo.smith", PASSWORD)
    assert actor == Actor(user_id=user.id, display_name="Jo Smith (PolSA)", role="coordinator")
    assert store.authenticate("jo.smith", PASSWORD + "x") is None
    assert store.authenticate("nobody", PASSWORD) is None
    assert store.get_user(actor, "jo.smith").last_login_at is not None


def test_password_is_stored_as_argon2id(store):
    store.create_user(Actor.system("test"), "jo.smith", "Jo", PASSWORD)
    import sqlalchemy as sa

    from casefile import schema as t

    with store.engine.connect() as conn:
        stored = conn.execute(sa.select(t.users.c.password_hash)).scalar_one()
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored


def test_case_round_trip_keeps_every_field_verbatim(store, coord):
    missing_at = datetime(2026, 3, 3, 14, 5, 7, 123456, tzinfo=UTC)
    case = make_case(
        store,
        coord,
        reference="MPS-2026-001",
        child_name=HOSTILE[:80],
        age=9,
        risk="no apparent risk",
        reported_missing_at=missing_at,
        ipp=(51.4613, -0.1156),
        home=(51.4700, -0.1000),
        description=HOSTILE,
        notes="Line one\nLine two\ttab — “quotes” ünïcödé 🙂",
    )
    got = store.get_case(coord, case.id)
    assert got == case
    assert got.child_name == HOSTILE[:80]
    assert got.description == HOSTILE
    assert got.notes == "Line one\nLine two\ttab — “quotes” ünïcödé 🙂"
    assert got.reported_missing_at == missing_at
    assert got.reported_missing_at.tzinfo is not None
    assert got.ipp == (51.4613, -0.1156)
    assert got.home == (51.47, -0.1)
    assert (got.status, got.version, got.age, got.risk) == ("open", 1, 9, "no apparent risk")
    assert store.find_case(coord, "MPS-2026-001") == case


def test_case_update_round_trip(store, coord, case):
    updated = store.update_case(
        coord, case.id, version=case.version, status="found", home=None, age=14, reason="Found safe"
    )
    assert (updated.status, updated.home, updated.age, updated.version) == ("found", None, 14, 2)
    assert updated.is_found
    assert updated.status_changed_at >= case.status_changed_at
    assert store.get_case(coord, case.id) == updated


def test_sighting_round_trip(store, coord, case):
    seen = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
    s = store.add_sighting(
        coord, case.id, **sighting_kwargs(seen_at=seen, description=HOSTILE, source="CCTV")
    )
    got = store.get_sighting(coord, s.id)
    assert got == s
    assert (got.lat, got.lon, got.seen_at, got.source, got.description) == (
        51.5033,
        -0.1196,
        seen,
        "CCTV",
        HOSTILE,
    )
    assert (got.status, got.confidence, got.version) == ("unverified", "medium", 1)
    assert got.reported_by == "Sam Passer-by" and got.reporter_contact == "07700 900123"
    moved = store.update_sighting(
        coord, s.id, version=1, location=(51.5101, -0.1340), status="verified", confidence="high"
    )
    assert (moved.lat, moved.lon, moved.status, moved.confidence, moved.version) == (
        51.5101,
        -0.134,
        "verified",
        "high",
        2,
    )
    assert store.sightings(coord, case.id) == [moved]


def test_sightings_are_tagged_with_borough_bcu_force_and_ward(store, coord, case):
    import geo

    s = store.add_sighting(coord, case.id, **sighting_kwargs(lat=51.5033, lon=-0.1196))
    expected = geo.locate(51.5033, -0.1196)
    for key in ("borough", "borough_code", "bcu", "force", "ward"):
        assert getattr(s, key) == expected[key]
    assert s.borough is not None and s.force is not None


def test_membership_round_trip(store, coord, case):
    other = make_coordinator(store, "coord.b", "Coordinator B")
    assert store.list_cases(other) == []
    store.add_case_member(coord, case.id, "coord.b")
    listed = store.list_cases(other)
    assert [c.id for c in listed] == [case.id]
    assert listed[0].my_role == "coordinator" and listed[0].reference == case.reference
    assert store.get_case(other, case.id) == store.get_case(coord, case.id)


def test_audit_record_round_trip(store, coord, case):
    s = store.add_sighting(coord, case.id, **sighting_kwargs())
    store.update_sighting(coord, s.id, version=1, status="verified", reason="Seen on CCTV")
    records = store.audit_log(coord, case.id)
    assert [(r.entity, r.action) for r in records] == [
        ("sighting", "update"),
        ("sighting", "create"),
        ("case", "create"),
    ]
    upd = records[0]
    assert upd.actor_id == coord.user_id and upd.actor_name == coord.display_name
    assert upd.actor_role == "coordinator" and upd.entity_id == s.id
    assert upd.fields == ("status",)
    assert upd.changes == {"status": ["unverified", "verified"]}
    assert upd.reason == "Seen on CCTV"
    assert upd.at.tzinfo is not None and abs(upd.at - utcnow()) < timedelta(minutes=1)
    assert store.audit_log(coord, case.id, entity="case") == [records[2]]
    assert store.audit_log(coord, case.id, entity="sighting", entity_id=s.id) == records[:2]
    assert store.audit_log(coord, case.id, person_id=coord.user_id) == records
    assert store.audit_log(coord, case.id, person_id=coord.user_id + 99) == []


def test_bulk_add_is_all_or_nothing_and_time_ordered(store, coord, case):
    now = utcnow()
    items = [
        NewSighting(
            lat=51.50 + i / 1000, lon=-0.12, seen_at=now - timedelta(minutes=i), source="public"
        )
        for i in range(50)
    ]
    saved = store.add_sightings(coord, case.id, items)
    assert len(saved) == 50
    loaded = store.load_case(coord, case.id)
    assert [s.seen_at for s in loaded.sightings] == sorted(s.seen_at for s in saved)
    assert len(store.audit_log(coord, case.id, entity="sighting")) == 50


RESTART_SCRIPT = """
import json, sys
from casefile import open_store, Actor
store = open_store(sys.argv[1])
actor = Actor(user_id=int(sys.argv[2]), display_name=sys.argv[3], role="coordinator")
cf = store.load_case(actor, int(sys.argv[4]))
print(json.dumps({
    "case": [cf.case.reference, cf.case.child_name, cf.case.description, cf.case.ipp,
             cf.case.reported_missing_at.isoformat(), cf.case.version],
    "sightings": [[s.id, s.lat, s.lon, s.seen_at.isoformat(), s.status, s.description]
                  for s in cf.sightings],
    "token": cf.token,
    "audit": len(store.audit_log(actor, cf.case.id)),
    "login": store.authenticate("coord.a", sys.argv[5]) is not None,
}))
"""


def test_data_survives_a_process_restart(store_url):
    store = open_store(store_url)
    coord = make_coordinator(store)
    case = make_case(store, coord, description=HOSTILE)
    s1 = store.add_sighting(coord, case.id, **sighting_kwargs())
    s2 = store.add_sighting(coord, case.id, **sighting_kwargs(lat=51.52, status="verified"))
    token = store.change_token(coord, case.id)
    store.close()
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            RESTART_SCRIPT,
            store_url,
            str(coord.user_id),
            coord.display_name,
            str(case.id),
            PASSWORD,
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    got = json.loads(out.stdout)
    assert got["case"] == [
        case.reference,
        case.child_name,
        HOSTILE,
        [51.5074, -0.1278],
        case.reported_missing_at.isoformat(),
        1,
    ]
    assert got["sightings"] == [
        [s.id, s.lat, s.lon, s.seen_at.isoformat(), s.status, s.description]
        for s in sorted([s1, s2], key=lambda s: s.seen_at)
    ]
    assert got["token"] == token
    assert got["audit"] == 3
    assert got["login"] is True
