"""Enquiry tasks on both backends: repeats flagged before saving (premises, street side,
camera and time window), within the case only; keep / merge choices audited; roles
(a team lead only its own team's tasks, the family counts, a partner no addresses);
versions; addresses never in the append-only audit values and gone after a purge."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from shapely.geometry import LineString, Point

from casefile import (
    Actor,
    InvalidInput,
    PermissionDenied,
    StaleVersion,
    TaskRepeatWarning,
)
from casefile import schema as t
from tests.casefile.conftest import make_case

pytestmark = pytest.mark.db

SHOP = Point(-0.0950, 51.5040)  # a shop in Southwark (lon, lat)
NEXT_DOOR = Point(-0.09495, 51.50402)  # about 4 m away
FAR = Point(-0.0900, 51.5040)  # about 350 m east
UNION_ST = LineString([(-0.1010, 51.5043), (-0.0960, 51.5040)])
ADDRESS = "Flat 3, 14 Redcross Way"


def at(h: int, m: int = 0) -> datetime:
    return datetime(2026, 12, 5, h, m, tzinfo=UTC)


def cctv(store, who, case_id, *, place=SHOP, start=at(14), end=at(16), **kw):
    return store.add_task(who, case_id, kind="cctv", title="CCTV at the corner shop",
                          place_lonlat=place, window_start=start, window_end=end, **kw)


def test_a_second_cctv_for_the_same_shop_and_overlapping_window_is_flagged(store, coord, team):
    case_id = team.case_id
    first = cctv(store, coord, case_id, team_id=team.id)
    assert (first.code, first.status, first.team_name) == ("T1", "assigned", team.name)
    assert first.bcu_code is not None  # tagged like a sector
    # the form's check before saving, then the save itself, both flag it
    found = store.task_repeats(coord, case_id, kind="cctv", place_lonlat=NEXT_DOOR,
                               window_start=at(15), window_end=at(17))
    assert [r.code for r in found] == ["T1"]
    assert found[0].team_name == team.name and found[0].status == "assigned"
    assert found[0].distance_m is not None and found[0].distance_m < 15
    with pytest.raises(TaskRepeatWarning) as warned:
        cctv(store, coord, case_id, place=NEXT_DOOR, start=at(15), end=at(17))
    assert "T1" in str(warned.value) and team.name in str(warned.value)
    assert len(store.tasks(coord, case_id)) == 1  # nothing saved
    # a window that does not overlap, or another shop, is not a repeat
    assert store.task_repeats(coord, case_id, kind="cctv", place_lonlat=SHOP,
                              window_start=at(16), window_end=at(18)) == []
    assert store.task_repeats(coord, case_id, kind="cctv", place_lonlat=FAR,
                              window_start=at(14), window_end=at(16)) == []
    # keep needs a reason and is audited with it
    with pytest.raises(InvalidInput, match="reason"):
        cctv(store, coord, case_id, place=NEXT_DOOR, on_repeat="keep")
    kept = cctv(store, coord, case_id, place=NEXT_DOOR, on_repeat="keep",
                reason="Second camera inside the shop")
    assert kept.code == "T2" and kept.repeat_kept_reason == "Second camera inside the shop"
    (rec,) = store.audit_log(coord, case_id, entity="task", entity_id=kept.id)
    assert rec.changes["repeats"] == [None, ["T1"]] and rec.reason == (
        "Second camera inside the shop")


def test_merge_folds_the_new_task_into_the_one_already_there(store, coord, case):
    first = cctv(store, coord, case.id)
    merged = cctv(store, coord, case.id, start=at(13), end=at(15), on_repeat="merge",
                  note="ask for the till camera")
    assert merged.id == first.id and merged.version == first.version + 1
    assert (merged.window_start, merged.window_end) == (at(13), at(16))
    assert "ask for the till camera" in merged.note
    assert [x.id for x in store.tasks(coord, case.id)] == [first.id]
    (rec,) = [r for r in store.audit_log(coord, case.id, entity="task") if r.action == "merge"]
    assert rec.entity_id == first.id


def test_visits_repeat_by_address_or_a_few_metres_and_house_to_house_by_street_side(
        store, coord, case):
    store.add_task(coord, case.id, kind="visit_friend", title="Friend Jay",
                   place_lonlat=SHOP, address=ADDRESS, postcode="se1 9hr")
    # same address written another way, placed by postcode elsewhere: a repeat
    with pytest.raises(TaskRepeatWarning):
        store.add_task(coord, case.id, kind="visit_relative", title="Aunt",
                       place_lonlat=FAR, address="flat 3 14 Redcross Wy.".replace("Wy.", "Way"),
                       postcode="SE1 9HR")
    # another flat under the same postcode point: not a repeat
    assert store.task_repeats(coord, case.id, kind="visit_other", place_lonlat=SHOP,
                              address="Flat 4, 14 Redcross Way", postcode="SE1 9HR") == []
    # a hospital check a few metres away with no address: a repeat of the place
    assert len(store.task_repeats(coord, case.id, kind="hospital_check",
                                  place_lonlat=NEXT_DOOR)) == 1
    h2h = store.add_task(coord, case.id, kind="house_to_house", title="Union St odd",
                         place_lonlat=UNION_ST, street="Union Street", side="odd")
    assert h2h.side == "odd"
    assert store.task_repeats(coord, case.id, kind="house_to_house", place_lonlat=UNION_ST,
                              street="union st.", side="even") == []
    both = store.task_repeats(coord, case.id, kind="house_to_house", place_lonlat=UNION_ST,
                              street="Union St", side="both")
    assert [r.code for r in both] == [h2h.code]
    # a same-named street kilometres away is another street
    far_line = LineString([(-0.0500, 51.5040), (-0.0450, 51.5040)])
    assert store.task_repeats(coord, case.id, kind="house_to_house", place_lonlat=far_line,
                              street="Union Street", side="odd") == []


def test_repeats_are_matched_within_the_case_never_across_cases(store, coord, case):
    cctv(store, coord, case.id)
    other = make_case(store, coord, "CASE-B")
    assert store.task_repeats(coord, other.id, kind="cctv", place_lonlat=SHOP,
                              window_start=at(14), window_end=at(16)) == []
    assert cctv(store, coord, other.id).code == "T1"


def test_roles_team_lead_own_team_family_counts_partner_no_address(store, coord, case):
    red = store.create_team(coord, case.id, name="Red", org_type="met_bcu")
    blue = store.create_team(coord, case.id, name="Blue", org_type="met_bcu")
    visit = store.add_task(coord, case.id, kind="visit_friend", title="Friend Jay",
                           place_lonlat=SHOP, address=ADDRESS, postcode="SE1 9HR",
                           team_id=red.id)
    shop = cctv(store, coord, case.id, place=FAR, team_id=blue.id)
    lead = store.open_link(store.issue_link(coord, case.id, role="team_lead", label="Red",
                                            team_id=red.id).token).actor
    mine = store.team_tasks(lead, case.id)
    assert [x.id for x in mine] == [visit.id] and mine[0].address == ADDRESS
    with pytest.raises(PermissionDenied):  # another team's task
        store.set_task_status(lead, shop.id, "done", version=shop.version)
    with pytest.raises(PermissionDenied):  # a team lead does not plan
        cctv(store, lead, case.id, place=Point(-0.08, 51.51))
    with pytest.raises(InvalidInput, match="why"):
        store.set_task_status(lead, visit.id, "not_possible", version=visit.version)
    done = store.set_task_status(lead, visit.id, "no_trace", version=visit.version,
                                 result_note="No answer; neighbour says away")
    assert done.status == "no_trace"
    with pytest.raises(StaleVersion):  # a form loaded before that save
        store.set_task_status(coord, visit.id, "done", version=visit.version)
    family = store.open_link(store.issue_link(coord, case.id, role="family",
                                              label="Mum").token).actor
    counts = store.task_counts(family, case.id)
    assert (counts.checked, counts.to_do) == (1, 1)
    with pytest.raises(PermissionDenied):
        store.tasks(family, case.id)
    with pytest.raises(PermissionDenied):
        store.team_tasks(family, case.id)
    partner = store.open_link(store.issue_link(
        coord, case.id, role="partner", label="Central South", unit=visit.bcu_code).token).actor
    seen = store.partner_tasks(partner, case.id)
    assert {p.code for p in seen} == {visit.code, shop.code}
    assert all(not hasattr(p, "address") and not hasattr(p, "title") for p in seen)
    assert next(p for p in seen if p.code == visit.code).geometry is None  # a home
    with pytest.raises(PermissionDenied):
        store.tasks(partner, case.id)
    near = store.tasks_near_unit(coord, case.id, visit.bcu_code, within_m=500)
    assert {u.task.code for u in near} == {visit.code, shop.code}


def test_addresses_never_reach_the_append_only_audit_values(store, coord, case):
    task = store.add_task(coord, case.id, kind="visit_placement", title="Former foster home",
                          place_lonlat=SHOP, address=ADDRESS, postcode="SE1 9HR",
                          note="Ask for Pat")
    store.update_task(coord, task.id, version=task.version, note="Ask for Pat or Sam")
    with store.engine.connect() as conn:
        values = json.dumps([list(map(str, r)) for r in conn.execute(sa.select(
            t.audit_log.c.changes, t.audit_log.c.fields))])
    for secret in (ADDRESS, "Former foster home", "Ask for Pat", "SE19HR", "SE1 9HR", "-0.095"):
        assert secret not in values
    (rec, *_) = store.audit_log(coord, case.id, entity="task")
    assert "note" in rec.fields


def test_purge_removes_every_address_and_the_place_of_a_visit(store, coord, case):
    visit = store.add_task(coord, case.id, kind="visit_friend", title="Jay at Redcross Way",
                           place_lonlat=SHOP, address=ADDRESS, postcode="SE1 9HR")
    shop = cctv(store, coord, case.id, place=FAR)
    case = store.update_case(coord, case.id, version=case.version, status="closed")
    store.purge_case(Actor.system("test"), case.id, force=True)
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t.tasks)).all()
        detail = conn.execute(sa.select(t.audit_detail)).all()
    dump = json.dumps([[str(x) for x in r] for r in rows])
    for secret in (ADDRESS, "flat 3 14 redcross way", "Jay at Redcross Way", "SE19HR", "SE1 9HR"):
        assert secret not in dump
    assert detail == []
    after = {x.id: x for x in store.tasks(coord, case.id)}
    assert after[visit.id].geometry is None and after[visit.id].title == "visit_friend"
    assert after[shop.id].geometry is not None  # a shop is no one's home


def test_bad_input_is_refused_with_plain_words(store, coord, case):
    with pytest.raises(InvalidInput, match="address"):
        store.add_task(coord, case.id, kind="visit_friend", title="x", place_lonlat=SHOP)
    with pytest.raises(InvalidInput, match="street"):
        store.add_task(coord, case.id, kind="house_to_house", title="x", place_lonlat=SHOP)
    with pytest.raises(InvalidInput, match="time window"):
        store.add_task(coord, case.id, kind="station_check", title="x", place_lonlat=SHOP,
                       window_start=at(14), window_end=at(15))
    with pytest.raises(InvalidInput, match="end after"):
        cctv(store, coord, case.id, start=at(16), end=at(14))
    with pytest.raises(InvalidInput, match="outside the UK"):
        store.add_task(coord, case.id, kind="station_check", title="x",
                       place_lonlat=Point(2.35, 48.85))


def test_the_same_task_added_at_once_by_several_coordinators_is_saved_once(store, coord, case):
    """The check runs inside the write, under the case's counter lock: six threads adding
    one CCTV task at the same moment leave one task, and five warnings."""
    n = 6
    barrier = threading.Barrier(n)
    outcomes: list[str] = []

    def add() -> None:
        barrier.wait(timeout=30)
        try:
            cctv(store, coord, case.id)
            outcomes.append("saved")
        except TaskRepeatWarning:
            outcomes.append("warned")
        except Exception as exc:  # any other error fails the test below
            outcomes.append(repr(exc))

    threads = [threading.Thread(target=add) for _ in range(n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(timeout=60)
    assert sorted(outcomes) == ["saved"] + ["warned"] * (n - 1)
    assert [x.code for x in store.tasks(coord, case.id)] == ["T1"]
