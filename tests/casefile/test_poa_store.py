"""POA per case in the store, on both backends: set-up, updates after passes, resets, history."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from casefile import InvalidInput, PermissionDenied, utcnow
from geo.crs import geoms_to_bng
from geo.probability import PoaGrid, distance_rings, initial_poa, update_poa_grid
from tests.casefile.conftest import make_case, make_coordinator, sighting_kwargs
from tests.casefile.test_tracks import across, square, to_searched

pytestmark = pytest.mark.db

RINGS = [500, 1000, 2000, 4000]


@pytest.fixture
def sector(store, coord, case):
    return store.create_sector(coord, case.id, geometry=square(), name="Square")


def total(d: dict) -> float:
    return math.fsum(d.values())


def test_rings_from_age_round_trip_equal_geo(store, coord, case):
    state = store.set_up_poa(coord, case.id)  # the case's age (13): Grampian, interpolated
    assert state.method == "rings" and state.origin_kind == "ipp"
    assert (state.origin_lat, state.origin_lon) == (case.ipp_lat, case.ipp_lon)
    assert state.params["basis"] == "interpolated"
    want = initial_poa(case.ipp_lat, case.ipp_lon, distance_rings(13), cell_m=100.0)
    assert state.prior == pytest.approx(want.to_dict(), abs=1e-12)
    assert total(state.current) == pytest.approx(1.0, abs=1e-9)
    again = store.poa_state(coord, case.id)
    assert again.prior == pytest.approx(state.prior) and again.id == state.id
    assert "age" not in again.params  # the age band's distances only, nothing personal


def test_updates_after_passes_sum_to_one_and_match_bayes(store, coord, case, team, sector):
    store.set_up_poa(coord, case.id, rings=RINGS)
    up = store.upload_track(coord, case.id, ("walk.gpx", across(200)), team_id=team.id,
                            sector_id=sector.id)
    # an open pass (being searched) does not move POA yet
    assert store.poa_state(coord, case.id).applied == {}
    s = store.get_sector(coord, sector.id)
    to_searched(store, coord, s, team, assurance="high")
    state = store.poa_state(coord, case.id)
    assert state.applied == {up.pass_.id: store.passes(coord, case.id)[0].version}
    assert total(state.current) == pytest.approx(1.0, abs=1e-9)
    # by hand: the prior updated with that pass's per-cell POD
    _grid, _frame, pods = store.cell_pods(coord, case.id)
    prior = PoaGrid.from_dict(state.prior, state.cell_m)
    by_hand = update_poa_grid(prior, pods[0])
    assert state.current == pytest.approx(by_hand.to_dict(), abs=1e-12)
    # cells the track crossed lost probability; the rest of the world gained
    assert state.rest_of_world > prior.rest_of_world
    hist = store.poa_history(coord, case.id)
    assert [h.pass_id for h in hist] == [up.pass_.id]
    assert hist[0].found == pytest.approx(float(np.dot(prior.cells["poa"], pods[0])))
    # the sector's POA fell; ranked list and before/after
    table = store.sector_poa_table(coord, case.id).set_index("code")
    row = table.loc[sector.code]
    assert row["poa"] < row["poa_prior"] and row["rank"] == 1


def test_late_track_rebuilds_current_from_prior(store, coord, case, team, sector):
    store.set_up_poa(coord, case.id, rings=RINGS)
    to_searched(store, coord, sector, team, assurance="low")
    first = store.poa_state(coord, case.id)
    store.upload_track(coord, case.id, ("late.gpx", across(200)), team_id=team.id,
                       sector_id=sector.id, searchers=6)
    second = store.poa_state(coord, case.id)
    assert second.version > first.version
    _grid, _, pods = store.cell_pods(coord, case.id)
    want = update_poa_grid(PoaGrid.from_dict(second.prior, second.cell_m), pods[0])
    assert second.current == pytest.approx(want.to_dict(), abs=1e-12)
    assert total(second.current) == pytest.approx(1.0, abs=1e-9)


def test_reset_needs_reason_is_audited_and_keeps_old_state(store, coord, case, team, sector):
    first = store.set_up_poa(coord, case.id, rings=RINGS)
    assert store.poa_origin_moved(coord, case.id) is None
    seen = store.add_sighting(coord, case.id, **sighting_kwargs(
        lat=51.4990, lon=-0.1150, status="verified", seen_at=utcnow() - timedelta(hours=1)))
    moved = store.poa_origin_moved(coord, case.id)
    assert moved is not None and moved.sighting_id == seen.id
    # nothing automatic: POA still sits on the IPP
    assert store.poa_state(coord, case.id).id == first.id
    with pytest.raises(InvalidInput):
        store.set_up_poa(coord, case.id, rings=RINGS)
    to_searched(store, coord, sector, team)
    second = store.set_up_poa(coord, case.id, rings=RINGS, reason="verified sighting at 11:20")
    assert second.id != first.id and second.origin_kind == "sighting"
    assert (second.origin_lat, second.origin_lon) == (seen.lat, seen.lon)
    assert second.applied  # the passes already made are taken into the new POA
    assert total(second.current) == pytest.approx(1.0, abs=1e-9)
    assert store.poa_origin_moved(coord, case.id) is None
    log = store.audit_log(coord, case.id, entity="poa")
    actions = [r.action for r in log]
    assert "reset" in actions and "set_up" in actions
    reset = next(r for r in log if r.action == "reset")
    assert reset.reason == "verified sighting at 11:20"


def test_consensus_split_over_sectors(store, coord, case):
    a = store.create_sector(coord, case.id, geometry=square(0, 0), name="A")
    b = store.create_sector(coord, case.id, geometry=square(400, 0), name="B")
    planners = [
        {a.code: 60, b.code: 30, "rest_of_world": 10},
        {a.code: 40, b.code: 40, "rest_of_world": 20},
    ]
    state = store.set_up_poa(coord, case.id, method="consensus", consensus=planners)
    table = store.sector_poa_table(coord, case.id).set_index("code")
    assert table.loc[a.code, "poa"] == pytest.approx(0.5, abs=1e-4)
    assert table.loc[b.code, "poa"] == pytest.approx(0.35, abs=1e-4)
    assert state.rest_of_world == pytest.approx(0.15, abs=1e-6)
    with pytest.raises(InvalidInput, match="0"):
        store.set_up_poa(coord, case.id, method="consensus", reason="again",
                         consensus=[{a.code: 0, b.code: 90, "rest_of_world": 10}])


def test_gaps_grid_matches_sector_ground(store, coord, case, team, sector):
    store.set_up_poa(coord, case.id, rings=RINGS)
    to_searched(store, coord, sector, team, assurance="high")
    grid, _frame, pods = store.cell_pods(coord, case.id)
    from geo.gaps import unsearched_ground

    gaps = unsearched_ground(grid, 1 - np.prod(1 - pods, axis=0), 0.5)
    sec = geoms_to_bng(sector.geometry)
    # the searched square is no longer a gap
    assert sum(g.intersection(sec).area for g in gaps.geometry) < 1.0


def test_poa_permissions(store, coord, case):
    other = make_coordinator(store, "coord.b", "Coordinator B")
    with pytest.raises(PermissionDenied):
        store.set_up_poa(other, case.id, rings=RINGS)
    make_case(store, other, reference="CASE-B")
    with pytest.raises(PermissionDenied):
        store.poa_state(other, case.id)


def test_late_track_recomputes_only_its_own_pass(store, store_url, coord, case, team,
                                                 monkeypatch):
    from casefile import open_store
    from casefile import passes as pass_helpers

    a = store.create_sector(coord, case.id, geometry=square(0, 0), name="A")
    b = store.create_sector(coord, case.id, geometry=square(400, 0), name="B")
    store.set_up_poa(coord, case.id, rings=RINGS)
    to_searched(store, coord, a, team, assurance="high")
    to_searched(store, coord, b, team, assurance="medium")
    pa, pb = store.passes(coord, case.id)
    # a freshly opened store (another app process) holds nothing in memory
    fresh = open_store(store_url)
    computed: list[int] = []
    real = pass_helpers.compute_pass_cell_pods

    def counting(conn, p, cell_m):
        computed.append(p.id)
        return real(conn, p, cell_m)

    monkeypatch.setattr(pass_helpers, "compute_pass_cell_pods", counting)
    try:
        fresh.upload_track(coord, case.id, ("late.gpx", across(200)), team_id=team.id,
                           sector_id=a.id, searchers=4)
        assert computed == [pa.id]  # B's per-cell POD came from the database
        state = fresh.poa_state(coord, case.id)
        assert state.applied == {p.id: p.version for p in fresh.passes(coord, case.id)}
        # and the result is the prior with both passes' per-cell POD, by Bayes' rule
        _grid, frame, pods = fresh.cell_pods(coord, case.id)
        assert computed == [pa.id]
        prior = PoaGrid.from_dict(state.prior, state.cell_m)
        ends = list(frame["pass_id"])
        by_hand = update_poa_grid(update_poa_grid(prior, pods[ends.index(pa.id)]),
                                  pods[ends.index(pb.id)])
        assert state.current == pytest.approx(by_hand.to_dict(), abs=1e-12)
    finally:
        fresh.close()


def test_cell_pods_from_tracks_equal_the_grid_computation(store, coord, case, team):
    from geo.crs import BNG
    from geo.gaps import pass_cell_pod

    sec = store.create_sector(coord, case.id, geometry=square(), name="Square")
    store.set_up_poa(coord, case.id, rings=RINGS)
    up = store.upload_track(coord, case.id, ("walk.gpx", across(130, x0=-100, x1=500)),
                            team_id=team.id, sector_id=sec.id, searchers=2)
    grid, _frame, pods = store.cell_pods(coord, case.id)
    # the whole grid, cell by cell, with the track cut to the sector
    inside = geoms_to_bng(up.track.geometry).intersection(geoms_to_bng(sec.geometry))
    import geopandas as gpd

    tracks = gpd.GeoDataFrame({"searchers": [2]}, geometry=[inside], crs=BNG)
    want = pass_cell_pod(tracks, grid, up.pass_.sweep_width_m)
    assert (want > 0).sum() >= 4
    assert pods[0] == pytest.approx(want, abs=1e-12)


def test_grids_read_again_are_decoded_once_yet_follow_every_change(store, coord, case, team,
                                                                     sector):
    """The decoded row and grids are kept per row version: never stale, never shared."""
    store.set_up_poa(coord, case.id, rings=RINGS)
    first = store.poa_state(coord, case.id).grid("current")
    first.cells["poa"] = 0.0  # a caller changing its copy changes no one else's
    again = store.poa_state(coord, case.id)
    assert again.grid("current").to_dict() == pytest.approx(again.current)
    assert again.grid("current").cells["poa"].sum() > 0.5
    grid, _, _ = store.cell_pods(coord, case.id)
    assert grid.to_dict() == pytest.approx(again.current)
    # a finished pass moves POA: every read sees the new version at once
    to_searched(store, coord, sector, team, assurance="high")
    moved = store.poa_state(coord, case.id)
    assert moved.version > again.version and moved.current != pytest.approx(again.current)
    assert moved.grid("current").to_dict() == pytest.approx(moved.current)
    assert store.cell_pods(coord, case.id)[0].to_dict() == pytest.approx(moved.current)
    table = store.sector_poa_table(coord, case.id).set_index("code")
    assert table.loc[sector.code, "poa"] < table.loc[sector.code, "poa_prior"]
    # a reset makes another row the active one: its grids, not the old row's
    reset = store.set_up_poa(coord, case.id, rings=[300, 600, 900, 1200], reason="moved")
    now = store.poa_state(coord, case.id)
    assert now.id == reset.id != moved.id
    assert now.grid("prior").to_dict() == pytest.approx(reset.prior)
    assert now.grid("prior").to_dict() != pytest.approx(moved.prior)
