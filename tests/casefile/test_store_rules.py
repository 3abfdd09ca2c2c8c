"""Store rules: who may write, bad input, stale versions, idempotent saves."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import pytest

from casefile import (
    Actor,
    InvalidInput,
    NotFound,
    PermissionDenied,
    StaleVersion,
    format_london,
    utcnow,
)
from casefile import schema as t
from tests.casefile.conftest import count_rows, make_case, make_coordinator, sighting_kwargs

pytestmark = pytest.mark.db


def snapshot(store):
    """Row counts of every table: 'nothing written' means this does not move."""
    return {table.name: count_rows(store, table) for table in t.ALL_TABLES}


# ---------------------------------------------------------------- who may write


def test_a_call_without_an_actor_fails_and_writes_nothing(store, coord, case):
    before = snapshot(store)
    with pytest.raises(PermissionDenied, match="needs an actor"):
        store.add_sighting(None, case.id, **sighting_kwargs())
    with pytest.raises(PermissionDenied):
        store.update_case(None, case.id, version=1, status="found")
    with pytest.raises(PermissionDenied):
        store.create_case(
            None,
            reference="X",
            child_name="Y",
            age=3,
            risk="high",
            reported_missing_at=utcnow(),
            ipp=(51.5, -0.1),
        )
    with pytest.raises(PermissionDenied):
        store.change_token(None, case.id)
    with pytest.raises(PermissionDenied):
        store.load_case("coordinator", case.id)  # not an Actor
    assert snapshot(store) == before


def test_a_coordinator_of_case_a_cannot_touch_case_b(store, coord, case):
    other = make_coordinator(store, "coord.b", "Coordinator B")
    case_b = make_case(store, other, reference="CASE-B")
    s_b = store.add_sighting(other, case_b.id, **sighting_kwargs())
    before = snapshot(store)
    calls = [
        lambda: store.update_case(coord, case_b.id, version=1, status="closed"),
        lambda: store.add_sighting(coord, case_b.id, **sighting_kwargs()),
        lambda: store.update_sighting(coord, s_b.id, version=1, status="verified"),
        lambda: store.delete_sighting(coord, s_b.id, version=1),
        lambda: store.add_case_member(coord, case_b.id, "coord.a"),
        lambda: store.get_case(coord, case_b.id),
        lambda: store.load_case(coord, case_b.id),
        lambda: store.get_sighting(coord, s_b.id),
        lambda: store.audit_log(coord, case_b.id),
        lambda: store.change_token(coord, case_b.id),
        lambda: store.last_known_location(coord, case_b.id),
        lambda: store.find_case(coord, "CASE-B"),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert snapshot(store) == before
    assert [c.reference for c in store.list_cases(coord)] == ["CASE-A"]


def test_a_forged_role_or_id_gains_nothing(store, coord, case):
    before = snapshot(store)
    forged = [
        Actor(user_id=coord.user_id, display_name="x", role="family"),
        Actor(user_id=coord.user_id, display_name="x", role="team_lead"),
        Actor(user_id=coord.user_id + 100, display_name="ghost", role="coordinator"),
        Actor(user_id=coord.user_id, display_name="x", role="superuser"),  # type: ignore[arg-type]
        Actor(user_id=None, display_name="x", role="coordinator"),
        Actor.system("pretend"),
    ]
    for actor in forged:
        with pytest.raises(PermissionDenied):
            store.add_sighting(actor, case.id, **sighting_kwargs())
        with pytest.raises(PermissionDenied):
            store.update_case(actor, case.id, version=1, status="found")
    assert snapshot(store) == before


def test_only_the_command_line_creates_accounts(store, coord):
    with pytest.raises(PermissionDenied):
        store.create_user(coord, "new.one", "New One", "long enough password")
    with pytest.raises(PermissionDenied):
        store.set_password(coord, "coord.a", "long enough password")


def test_roles_come_from_one_permission_map():
    from casefile import ROLE_PERMISSIONS

    assert set(ROLE_PERMISSIONS) == {"system", "coordinator", "team_lead", "family", "partner"}
    assert "sighting.write" in ROLE_PERMISSIONS["coordinator"]
    # families never read or write sightings, cases' personal details or the audit log
    for permission in ("sighting.read", "sighting.write", "case.read", "case.update", "audit.read"):
        assert permission not in ROLE_PERMISSIONS["family"]
    # the command line manages accounts but cannot edit a case
    assert "case.update" not in ROLE_PERMISSIONS["system"]


# ---------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"lat": 48.85, "lon": 2.35}, "not in the UK"),  # Paris
        ({"lat": 0.0, "lon": 0.0}, "not in the UK"),
        ({"lat": -0.12, "lon": 51.5}, "swapped"),
        ({"lat": float("nan"), "lon": -0.1}, "latitude and a longitude"),
        ({"seen_at": utcnow() + timedelta(hours=2)}, "in the future"),
        ({"seen_at": datetime(2026, 1, 1, 12, 0)}, "no time zone"),
        ({"seen_at": None}, "Time seen is required"),
        ({"source": ""}, "Source is required"),
        ({"source": "psychic"}, "Source must be one of"),
        ({"status": "maybe"}, "Status must be one of"),
        ({"description": "x" * 4001}, "too long"),
        ({"reported_by": "a\x00b"}, "NUL"),
    ],
)
def test_bad_sightings_are_refused_with_nothing_stored(store, coord, case, change, message):
    before = snapshot(store)
    token = store.change_token(coord, case.id)
    with pytest.raises(InvalidInput, match=message):
        store.add_sighting(coord, case.id, **sighting_kwargs(**change))
    assert snapshot(store) == before
    assert store.change_token(coord, case.id) == token


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"reference": "  "}, "Case reference is required"),
        ({"child_name": ""}, "first name or alias is required"),
        ({"age": None}, "Age is required"),
        ({"age": 300}, "between 0 and 120"),
        ({"risk": "extreme"}, "Risk grade must be one of"),
        ({"reported_missing_at": utcnow() + timedelta(days=1)}, "in the future"),
        ({"ipp": None}, "IPP"),
        ({"ipp": (40.7, -74.0)}, "not in the UK"),
        ({"home": (55.0, 10.0)}, "Home: "),
        ({"description": "<b>" * 2000}, "too long"),
        ({"status": "lost"}, "Status must be one of"),
    ],
)
def test_bad_cases_are_refused_with_nothing_stored(store, coord, change, message):
    before = snapshot(store)
    with pytest.raises(InvalidInput, match=message):
        make_case(store, coord, **change)
    assert snapshot(store) == before


def test_a_bad_update_writes_nothing(store, coord, case):
    s = store.add_sighting(coord, case.id, **sighting_kwargs())
    before = snapshot(store)
    with pytest.raises(InvalidInput):
        store.update_sighting(coord, s.id, version=1, status="verified", location=(10.0, 10.0))
    with pytest.raises(InvalidInput):
        store.update_case(coord, case.id, version=1, status="found", risk="nope")
    with pytest.raises(InvalidInput, match="no field"):
        store.update_case(coord, case.id, version=1, colour="red")
    assert snapshot(store) == before
    assert store.get_sighting(coord, s.id) == s


def test_bad_items_in_a_batch_reject_the_batch_naming_the_item(store, coord, case):
    from casefile import NewSighting

    now = utcnow()
    items = [NewSighting(lat=51.5, lon=-0.1, seen_at=now, source="public")] * 2 + [
        NewSighting(lat=51.5, lon=-0.1, seen_at=now + timedelta(days=1), source="public")
    ]
    before = snapshot(store)
    with pytest.raises(InvalidInput, match="Sighting 3"):
        store.add_sightings(coord, case.id, items)
    assert snapshot(store) == before


def test_duplicate_reference_is_refused(store, coord, case):
    before = snapshot(store)
    with pytest.raises(InvalidInput, match="already exists"):
        make_case(store, coord, reference=case.reference)
    assert snapshot(store) == before


# ---------------------------------------------------------------- versions


def test_a_stale_save_names_who_changed_it_and_when_in_london_time(store, coord, case):
    other = make_coordinator(store, "coord.b", "Priya Shah")
    store.add_case_member(coord, case.id, "coord.b")
    s = store.add_sighting(coord, case.id, **sighting_kwargs())
    theirs = store.update_sighting(other, s.id, version=1, status="verified")
    before = snapshot(store)
    with pytest.raises(StaleVersion) as err:
        store.update_sighting(coord, s.id, version=1, status="dismissed")
    msg = str(err.value)
    assert "changed by Priya Shah at " + format_london(theirs.updated_at) in msg
    assert "reload" in msg
    assert err.value.changed_by == "Priya Shah" and err.value.current_version == 2
    assert snapshot(store) == before
    assert store.get_sighting(coord, s.id).status == "verified"

    mine = store.update_case(other, case.id, version=1, risk="medium")
    with pytest.raises(StaleVersion, match="changed by Priya Shah"):
        store.update_case(coord, case.id, version=1, status="found")
    with pytest.raises(StaleVersion):
        store.delete_sighting(coord, s.id, version=1)
    assert store.get_case(coord, case.id) == mine


def test_london_time_formatting_handles_bst_and_gmt():
    from datetime import UTC

    summer = datetime(2026, 7, 1, 13, 5, tzinfo=UTC)
    winter = datetime(2026, 1, 15, 14, 5, tzinfo=UTC)
    assert format_london(summer, now=summer) == "14:05"
    assert format_london(winter, now=winter) == "14:05"
    assert format_london(winter, now=summer) == "14:05 on Thu 15 Jan"


def test_missing_records_are_reported(store, coord, case):
    with pytest.raises(NotFound):
        store.update_sighting(coord, 999_999, version=1, status="verified")
    with pytest.raises(NotFound):
        store.get_case(coord, 999_999)


# ---------------------------------------------------------------- idempotency


def test_a_form_handed_back_twice_is_saved_once(store, coord):
    key = str(uuid.uuid4())
    first = make_case(store, coord, reference="CASE-IDEM", idempotency_key=key)
    again = make_case(store, coord, reference="CASE-IDEM", idempotency_key=key)
    assert again == first
    skey = str(uuid.uuid4())
    s1 = store.add_sighting(coord, first.id, **sighting_kwargs(idempotency_key=skey))
    token = store.change_token(coord, first.id)
    audit = count_rows(store, t.audit_log)
    s2 = store.add_sighting(coord, first.id, **sighting_kwargs(idempotency_key=skey))
    assert s2 == s1
    assert count_rows(store, t.sightings) == 1
    assert count_rows(store, t.cases) == 1
    assert count_rows(store, t.audit_log) == audit
    assert store.change_token(coord, first.id) == token
    # a different key is a different sighting
    store.add_sighting(coord, first.id, **sighting_kwargs(idempotency_key=str(uuid.uuid4())))
    assert count_rows(store, t.sightings) == 2


def test_an_idempotency_key_cannot_be_reused_for_another_kind_of_record(store, coord, case):
    key = str(uuid.uuid4())
    store.add_sighting(coord, case.id, **sighting_kwargs(idempotency_key=key))
    with pytest.raises(InvalidInput, match="already used"):
        make_case(store, coord, reference="CASE-Z", idempotency_key=key)


def test_the_same_form_saved_by_many_threads_at_once_is_saved_once(store, coord, case):
    import threading

    key = str(uuid.uuid4())
    barrier = threading.Barrier(8)
    results, errors = [], []

    def save():
        barrier.wait()
        try:
            results.append(
                store.add_sighting(coord, case.id, **sighting_kwargs(idempotency_key=key))
            )
        except Exception as exc:  # collected, asserted below
            errors.append(exc)

    threads = [threading.Thread(target=save) for _ in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert len({s.id for s in results}) == 1 and len(results) == 8
    assert count_rows(store, t.sightings) == 1
    assert len(store.audit_log(coord, case.id, entity="sighting")) == 1


def test_two_items_of_one_batch_cannot_share_a_key(store, coord, case):
    from casefile import NewSighting

    key = str(uuid.uuid4())
    item = NewSighting(lat=51.5, lon=-0.1, seen_at=utcnow(), source="public", idempotency_key=key)
    before = snapshot(store)
    with pytest.raises(InvalidInput, match="same form key"):
        store.add_sightings(coord, case.id, [item, item])
    assert snapshot(store) == before


def test_london_wall_clock_times_convert_to_utc_across_clock_changes():
    from datetime import UTC, date, time

    from casefile import from_london

    assert from_london(date(2026, 7, 1), time(14, 5)) == datetime(2026, 7, 1, 13, 5, tzinfo=UTC)
    assert from_london(date(2026, 1, 15), time(14, 5)) == datetime(2026, 1, 15, 14, 5, tzinfo=UTC)
    # the autumn hour that happens twice: the first (BST) reading
    assert from_london(date(2026, 10, 25), time(1, 30)) == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    # the spring hour that never happens: read as GMT
    assert from_london(date(2026, 3, 29), time(1, 30)) == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


def test_an_unreachable_database_is_reported_clearly():
    from casefile import StoreError, open_store

    with pytest.raises(StoreError, match="Cannot open or prepare the database"):
        open_store("postgresql://nobody@127.0.0.1:1/none")
