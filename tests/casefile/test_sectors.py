"""Sectors in the store on both backends: round trips, lifecycle, overlaps, bulk, duplication.

Known answers are built in British National Grid (squares of exact sizes) and
handed to the store in lon/lat, as the map would.
"""

from __future__ import annotations

import gc
import json

import numpy as np
import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import LineString, MultiPolygon, Polygon, box

from casefile import (
    InvalidInput,
    NewSector,
    NotFound,
    OverlapWarning,
    PermissionDenied,
    StaleVersion,
    open_store,
)
from casefile import schema as t
from casefile import sector_index as si
from geo.crs import geoms_to_lonlat
from tests.casefile.conftest import count_rows, make_case, make_coordinator, sighting_kwargs

pytestmark = pytest.mark.db

HOSTILE = "<script>alert('x')</script> <img src=x onerror=alert(1)> `${x}` \"q\" 'q' ; --"
#: a corner in Lambeth / Westminster, well inside the Met and one BCU
X0, Y0 = 530_600.0, 178_600.0


def sq(x: float, y: float, d: float = 100.0):
    """A d × d metre square with its south-west corner at (x, y) BNG, as lon/lat."""
    return geoms_to_lonlat(box(X0 + x, Y0 + y, X0 + x + d, Y0 + y + d))


def to_searched(store, actor, sector, team, **finish):
    """Walk a sector through ready -> assigned -> in progress -> searched."""
    s = sector
    if s.status == "draft":
        s = store.set_sector_status(actor, s.id, "ready", version=s.version)
    s = store.assign_sector(actor, s.id, team.id, version=s.version, on_overlap="keep",
                            reason="test layout")
    s = store.start_sector(actor, s.id, version=s.version)
    finish.setdefault("search_type", "thorough")
    finish.setdefault("assurance", "high")
    return store.finish_sector(actor, s.id, version=s.version, **finish)


def test_sector_round_trip_keeps_fields_verbatim_and_tags_jurisdiction(store, coord, case):
    made = store.create_sector(
        coord, case.id, geometry=sq(0, 0), name=HOSTILE, notes=HOSTILE, priority=1,
        origin="drawn", idempotency_key="draw-0001",
    )
    assert (made.code, made.status, made.name, made.notes, made.priority) == (
        "S1", "draft", HOSTILE, HOSTILE, 1)
    assert made.share_with_family is True
    assert made.area_m2 == pytest.approx(10_000, rel=1e-6)
    assert made.force_code == "E23000001" and made.bcu_code is not None
    for layer in ("borough", "bcu", "force"):
        assert sum(r["share"] for r in made.jurisdiction[layer]) == pytest.approx(1, abs=1e-6)
    assert store.get_sector(coord, made.id) == made
    assert store.find_sector(coord, case.id, "s1") == made
    # the same drawing handed back by a rerun is saved once
    again = store.create_sector(coord, case.id, geometry=sq(0, 0), idempotency_key="draw-0001")
    assert again == made and count_rows(store, t.sectors) == 1
    # restart: a new store reads the same record
    other = open_store(store.url)
    assert other.get_sector(coord, made.id) == made
    other.close()


def test_property_and_specialist_sectors_are_private_by_default(store, coord, case):
    home = store.create_sector(coord, case.id, geometry=sq(0, 0), search_type="property")
    scene = store.create_sector(coord, case.id, geometry=sq(200, 0), search_type="specialist")
    park = store.create_sector(coord, case.id, geometry=sq(400, 0), search_type="hasty")
    assert (home.share_with_family, scene.share_with_family, park.share_with_family) == (
        False, False, True)
    shared = store.create_sector(coord, case.id, geometry=sq(600, 0), search_type="property",
                                 share_with_family=True)
    assert shared.share_with_family is True


def test_codes_are_never_reused(store, coord, case):
    a = store.create_sector(coord, case.id, geometry=sq(0, 0))
    b = store.create_sector(coord, case.id, geometry=sq(200, 0))
    store.delete_sector(coord, b.id, version=b.version, reason="drawn by mistake")
    c = store.create_sector(coord, case.id, geometry=sq(400, 0))
    assert (a.code, b.code, c.code) == ("S1", "S2", "S3")
    with pytest.raises(NotFound):
        store.get_sector(coord, b.id)


def test_lifecycle_allowed_and_refused(store, coord, case, team):
    s = store.create_sector(coord, case.id, geometry=sq(0, 0))
    with pytest.raises(InvalidInput, match="cannot become in progress"):
        store.start_sector(coord, s.id, version=s.version)
    with pytest.raises(InvalidInput, match="cannot become searched"):
        store.finish_sector(coord, s.id, version=s.version, search_type="hasty", assurance="low")
    with pytest.raises(InvalidInput, match="assign_sector"):
        store.set_sector_status(coord, s.id, "assigned", version=s.version)
    s = store.set_sector_status(coord, s.id, "ready", version=s.version)
    s = store.assign_sector(coord, s.id, team.id, version=s.version)
    assert (s.status, s.team_id) == ("assigned", team.id) and s.assigned_at is not None
    s = store.set_sector_status(coord, s.id, "suspended", version=s.version)
    s = store.assign_sector(coord, s.id, team.id, version=s.version)
    s = store.start_sector(coord, s.id, version=s.version)
    assert s.status == "in_progress" and s.started_at is not None
    with pytest.raises(InvalidInput, match="cannot become ready"):
        store.set_sector_status(coord, s.id, "ready", version=s.version)
    s = store.finish_sector(coord, s.id, version=s.version, search_type="thorough",
                            assurance="medium")
    assert (s.status, s.searched_by_team_id, s.search_type, s.assurance) == (
        "searched", team.id, "thorough", "medium")
    with pytest.raises(InvalidInput, match="it can become: needs re-search"):
        store.set_sector_status(coord, s.id, "draft", version=s.version)
    with pytest.raises(InvalidInput, match="why"):
        store.set_sector_status(coord, s.id, "needs_re_search", version=s.version)
    s = store.set_sector_status(coord, s.id, "needs_re_search", version=s.version,
                                reason="low assurance at night")
    assert s.re_search and s.re_search_reason == "low assurance at night"
    with pytest.raises(StaleVersion):
        store.set_sector_status(coord, s.id, "ready", version=s.version - 1)
    with pytest.raises(InvalidInput, match="Status must be one of"):
        store.set_sector_status(coord, s.id, "done", version=s.version)
    # unassigning takes the sector off its team
    s = store.assign_sector(coord, s.id, team.id, version=s.version)
    s = store.set_sector_status(coord, s.id, "ready", version=s.version)
    assert (s.status, s.team_id) == ("ready", None)


def test_overlap_known_answer_with_status_team_and_time(store, coord, case, team):
    first = store.create_sector(coord, case.id, geometry=sq(0, 0), name="Park")
    first = to_searched(store, coord, first, team)
    found = store.check_overlaps(coord, case.id, sq(50, 0))
    assert len(found) == 1
    o = found[0]
    assert (o.sector_id, o.code, o.name, o.status, o.team_id, o.team_name) == (
        first.id, "S1", "Park", "searched", team.id, "Team Red")
    assert o.at == first.searched_at
    assert o.overlap_m2 == pytest.approx(5000, rel=1e-3)
    assert o.share == pytest.approx(0.5, rel=1e-3)
    # touching edges are not overlaps; excluding the sector itself leaves nothing
    assert store.check_overlaps(coord, case.id, sq(100, 0)) == []
    assert store.check_overlaps(coord, case.id, sq(0, 0), exclude_id=first.id) == []


def test_overlap_refused_without_decision_nothing_saved(store, coord, case):
    store.create_sector(coord, case.id, geometry=sq(0, 0))
    token = store.change_token(coord, case.id)
    audits = len(store.audit_log(coord, case.id))
    with pytest.raises(OverlapWarning) as err:
        store.create_sector(coord, case.id, geometry=sq(50, 0), name="second")
    assert [o.code for o in err.value.overlaps] == ["S1"]
    assert "5,000 m²" in str(err.value) and "50%" in str(err.value)
    assert count_rows(store, t.sectors) == 1
    assert store.change_token(coord, case.id) == token
    assert len(store.audit_log(coord, case.id)) == audits
    with pytest.raises(InvalidInput, match="reason"):
        store.create_sector(coord, case.id, geometry=sq(50, 0), on_overlap="keep")


def test_keep_with_reason_is_audited(store, coord, case):
    store.create_sector(coord, case.id, geometry=sq(0, 0))
    kept = store.create_sector(coord, case.id, geometry=sq(50, 0), on_overlap="keep",
                               reason="dog unit sweeps it again")
    assert kept.overlap_kept_reason == "dog unit sweeps it again"
    assert kept.area_m2 == pytest.approx(10_000, rel=1e-6)
    rec = store.audit_log(coord, case.id, entity="sector", entity_id=kept.id)[0]
    assert rec.action == "create" and rec.reason == "dog unit sweeps it again"
    assert rec.changes["on_overlap"] == [None, "keep"]
    (summary,) = rec.changes["overlaps"][1]
    assert summary["code"] == "S1" and summary["overlap_m2"] == pytest.approx(5000, rel=1e-3)


def test_clip_saves_the_remainder(store, coord, case):
    store.create_sector(coord, case.id, geometry=sq(0, 0))
    clipped = store.create_sector(coord, case.id, geometry=sq(50, 0), on_overlap="clip")
    assert clipped.area_m2 == pytest.approx(5000, rel=1e-3)
    assert store.check_overlaps(coord, case.id, clipped.geometry, exclude_id=clipped.id) == []
    with pytest.raises(InvalidInput, match="Nothing is left"):
        store.create_sector(coord, case.id, geometry=sq(10, 10, 50), on_overlap="clip")


def test_unsearched_remainder_stays_unsearched_ground(store, coord, case, team):
    s = store.create_sector(coord, case.id, geometry=sq(0, 0))
    s = to_searched(store, coord, s, team, not_searched=sq(50, 0, 200),  # spills out: cut
                    not_searched_reason="locked garages", search_type="property")
    assert s.not_searched is not None and s.not_searched_reason == "locked garages"
    assert s.share_with_family is False  # a property search is not shown to the family
    # a new sector over the unsearched half does not warn ...
    assert store.check_overlaps(coord, case.id, sq(60, 10, 30)) == []
    # ... over the searched half it does
    assert [o.code for o in store.check_overlaps(coord, case.id, sq(10, 10, 30))] == ["S1"]
    with pytest.raises(InvalidInput, match="why"):
        t2 = store.create_sector(coord, case.id, geometry=sq(500, 0))
        to_searched(store, coord, t2, team, not_searched=sq(500, 0, 50))


def test_bulk_grid_create_with_progress_and_overlap_handling(store, coord, case):
    from geo import make_grid

    area = geoms_to_lonlat(box(X0, Y0, X0 + 1000, Y0 + 1000))
    grid = make_grid(area, 100)
    items = [NewSector(geometry=g, origin="grid") for g in grid.geometry]
    calls = []
    made = store.create_sectors(coord, case.id, items, progress=lambda *a: calls.append(a))
    assert len(made) == len(grid) == 100
    assert [m.code for m in made] == [f"S{i}" for i in range(1, 101)]
    assert calls[-1] == (100, 100, "done") and any(c[2] == "saving" for c in calls)
    assert len(store.audit_log(coord, case.id, entity="sector", limit=1000)) == 100
    # the same grid again overlaps every cell
    with pytest.raises(OverlapWarning) as err:
        store.create_sectors(coord, case.id, items)
    assert len(err.value.by_item) == 100
    # clipped, nothing is left of any cell: none saved, no error for a bulk create
    assert store.create_sectors(coord, case.id, items, on_overlap="clip") == [None] * 100
    assert count_rows(store, t.sectors) == 100


def test_bulk_import_overlapping_itself(store, coord, case):
    items = [NewSector(geometry=sq(0, 0), name="a"), NewSector(geometry=sq(50, 0), name="b"),
             NewSector(geometry=sq(500, 0), name="c")]
    with pytest.raises(OverlapWarning) as err:
        store.create_sectors(coord, case.id, items)
    assert list(err.value.by_item) == [1]
    (o,) = err.value.by_item[1]
    assert (o.batch_index, o.name, o.code) == (0, "a", None)
    assert o.overlap_m2 == pytest.approx(5000, rel=1e-3)
    made = store.create_sectors(coord, case.id, items, on_overlap="clip")
    assert [m.area_m2 for m in made] == pytest.approx([10_000, 5000, 10_000], rel=1e-3)
    # a bad item refuses the lot, naming it
    with pytest.raises(InvalidInput, match="Sector 2"):
        store.create_sectors(coord, case.id, [NewSector(geometry=sq(900, 0)),
                                              NewSector(geometry=sq(1100, 0), priority=9)])
    assert count_rows(store, t.sectors) == 3


def test_re_search_sectors_may_overlap_and_count_as_deliberate(store, coord, case, team):
    """Duplication figure on a known layout (m², union not sum of pairs).

    A=[0,100]², B=[50,150]×[0,100] searched; C=[0,100]×[50,150] a re-search.
    Repeated ground 7,500 m²; deliberate (touching C) 5,000; accidental 2,500.
    """
    a = to_searched(store, coord, store.create_sector(coord, case.id, geometry=sq(0, 0)), team)
    b = store.create_sector(coord, case.id, geometry=Polygon(sq(50, 0).exterior),
                            on_overlap="keep", reason="second agency")
    b = to_searched(store, coord, b, team)
    c = store.create_sector(coord, case.id, geometry=sq(0, 50), re_search_reason="new sighting")
    assert c.re_search
    c = to_searched(store, coord, c, team)
    store.create_sector(coord, case.id, geometry=sq(0, 0, 150), on_overlap="keep",
                        reason="planned only: not counted")
    dup = store.duplication_figure(coord, case.id)
    assert dup.repeated_m2 == pytest.approx(7500, rel=1e-3)
    assert dup.deliberate_m2 == pytest.approx(5000, rel=1e-3)
    assert dup.accidental_m2 == pytest.approx(2500, rel=1e-3)
    assert dup.searched_m2 == pytest.approx(150 * 150 - 50 * 50, rel=1e-3)
    assert {a.status, b.status, c.status} == {"searched"}


def test_index_follows_writes_from_another_store(store, coord, case):
    a = store.create_sector(coord, case.id, geometry=sq(0, 0))
    assert store.check_overlaps(coord, case.id, sq(500, 0)) == []  # warms the index
    other = open_store(store.url)
    b = other.create_sector(coord, case.id, geometry=sq(500, 0))
    assert [o.code for o in store.check_overlaps(coord, case.id, sq(550, 0))] == ["S2"]
    other.delete_sector(coord, b.id, version=b.version)
    assert store.check_overlaps(coord, case.id, sq(550, 0)) == []
    other.add_sighting(coord, case.id, **sighting_kwargs())  # the case moves, no sector does
    other.close()
    assert [o.code for o in store.check_overlaps(coord, case.id, sq(50, 0))] == [a.code]


def test_bad_outlines_refused_and_bow_tie_repaired(store, coord, case):
    with pytest.raises(InvalidInput, match="not an area"):
        store.create_sector(coord, case.id, geometry=LineString([(-0.1, 51.5), (-0.11, 51.51)]))
    with pytest.raises(InvalidInput, match="outside the UK"):
        store.create_sector(coord, case.id, geometry=box(2.3, 48.8, 2.31, 48.81))
    with pytest.raises(InvalidInput, match="could not be read"):
        store.create_sector(coord, case.id, geometry="{not json")
    assert count_rows(store, t.sectors) == 0
    x1, y1 = X0 + 100, Y0 + 100
    bow = geoms_to_lonlat(Polygon([(X0, Y0), (x1, y1), (x1, Y0), (X0, y1)]))
    made = store.create_sector(coord, case.id, geometry=json.loads(
        json.dumps(bow.__geo_interface__)))
    assert made.geometry.is_valid and made.area_m2 == pytest.approx(5000, rel=1e-2)


def test_straddling_sector_is_flagged(store, coord, case):
    # across Westminster Bridge: Westminster (Central West) and Lambeth (Central South)
    s = store.create_sector(coord, case.id, geometry=box(-0.126, 51.4995, -0.118, 51.5025))
    assert s.straddles_bcu and s.straddles
    codes = {r["code"] for r in s.jurisdiction["bcu"]}
    assert len(codes - {"outside"}) >= 2
    assert sum(r["share"] for r in s.jurisdiction["bcu"]) == pytest.approx(1, abs=1e-6)
    assert [x.code for x in store.sectors(coord, case.id, straddling=True)] == [s.code]


def test_other_cases_coordinator_cannot_touch_sectors(store, coord, case, team):
    s = store.create_sector(coord, case.id, geometry=sq(0, 0))
    other = make_coordinator(store, "coord.b", "Coordinator B")
    make_case(store, other, reference="CASE-B")
    calls = [
        lambda: store.get_sector(other, s.id),
        lambda: store.sectors(other, case.id),
        lambda: store.check_overlaps(other, case.id, sq(50, 0)),
        lambda: store.create_sector(other, case.id, geometry=sq(300, 0)),
        lambda: store.update_sector(other, s.id, version=s.version, name="x"),
        lambda: store.set_sector_status(other, s.id, "ready", version=s.version),
        lambda: store.assign_sector(other, s.id, team.id, version=s.version),
        lambda: store.delete_sector(other, s.id, version=s.version),
        lambda: store.duplication_figure(other, case.id),
    ]
    for call in calls:
        with pytest.raises(PermissionDenied):
            call()
    assert store.get_sector(coord, s.id) == s


def test_update_sector_fields_and_hostile_text(store, coord, case):
    s = store.create_sector(coord, case.id, geometry=sq(0, 0))
    s2 = store.update_sector(coord, s.id, version=s.version, name=HOSTILE, priority=2,
                             share_with_family=False, notes="gate code 1234")
    assert (s2.name, s2.priority, s2.share_with_family, s2.version) == (HOSTILE, 2, False, 2)
    with pytest.raises(InvalidInput, match="editable"):
        store.update_sector(coord, s.id, version=s2.version, status="searched")
    rec = store.audit_log(coord, case.id, entity="sector", entity_id=s.id)[0]
    assert "notes" in rec.fields and "notes" not in rec.changes  # notes are personal
    with store.engine.connect() as conn:
        logged = json.dumps([list(r) for r in conn.execute(sa.select(t.audit_log.c.changes))])
    assert "gate code 1234" not in logged


def test_hazard_areas(store, coord, case):
    h = store.add_hazard(coord, case.id, geometry=sq(0, 0), kind="preserve_scene",
                         note=HOSTILE, idempotency_key="hazard-001")
    assert (h.kind, h.note) == ("preserve_scene", HOSTILE)
    assert h.area_m2 == pytest.approx(10_000, rel=1e-6)
    assert store.add_hazard(coord, case.id, geometry=sq(0, 0), kind="preserve_scene",
                            idempotency_key="hazard-001") == h
    h2 = store.update_hazard(coord, h.id, version=h.version, kind="unsafe", geometry=sq(0, 0, 50))
    assert (h2.kind, h2.version) == ("unsafe", 2) and h2.area_m2 == pytest.approx(2500, rel=1e-6)
    assert store.hazards(coord, case.id) == [h2]
    with pytest.raises(InvalidInput):
        store.add_hazard(coord, case.id, geometry=sq(0, 0), kind="volcano")
    store.remove_hazard(coord, h.id, version=h2.version, reason="scene released")
    assert store.hazards(coord, case.id) == []


def test_cold_index_read_in_one_query_matches_the_rows_read_one_by_one(
        store, coord, case, team, monkeypatch):
    """The cold overlap index (one driver query, decoded in slices) holds exactly the
    ground the row-by-row read gives: not-searched ground cut out, multi-part outlines
    whole; a fresh process answers overlap checks from it like the warm one."""
    made = store.create_sectors(coord, case.id, [
        NewSector(geometry=sq(300 * k, 0)) for k in range(6)])
    two = geoms_to_lonlat(MultiPolygon([box(X0, Y0 + 500, X0 + 80, Y0 + 580),
                                        box(X0 + 200, Y0 + 500, X0 + 280, Y0 + 580)]))
    multi = store.create_sector(coord, case.id, geometry=two)
    to_searched(store, coord, made[1], team, not_searched=sq(300, 0, 50),
                not_searched_reason="locked yard")
    monkeypatch.setattr(si, "COLD_SLICE_FROM", 2)  # slices even for a few sectors
    db = store.db
    with db.engine.connect() as conn:
        ids, ground = si.cold_ground(conn, db.backend, case.id)
        want_ids, want = si.ground_bng(si.index_rows(conn, db.backend, case.id, None))
    want = si.CaseIndex.build(0, want_ids, want).geoms  # made valid as the index holds it
    order, want_order = np.argsort(ids), np.argsort(want_ids)
    assert ids[order].tolist() == sorted(want_ids.tolist())
    assert shapely.equals_exact(ground[order], want[want_order], tolerance=0).all()
    assert gc.isenabled()  # the collector, held off while decoding, is back on
    holed = ground[ids.tolist().index(made[1].id)]
    assert holed.area == pytest.approx(100 * 100 - 50 * 50, rel=1e-4)
    assert shapely.get_num_geometries(ground[ids.tolist().index(multi.id)]) == 2
    probe = sq(300 + 10, 10, 20)  # inside the not-searched corner of sector 2 only
    fresh = open_store(store.db.url, migrate=False)
    try:
        assert fresh.check_overlaps(coord, case.id, probe) == []
        hit = fresh.check_overlaps(coord, case.id, sq(590, 0, 20))
        assert [o.sector_id for o in hit] == [made[2].id]
        assert hit == store.check_overlaps(coord, case.id, sq(590, 0, 20))
    finally:
        fresh.close()
