"""Distance rings, POA on a fixed grid, consensus, Bayesian updates and sector ranking."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from shapely import box

import geo
from geo.crs import lonlat_to_bng
from geo.detection import load_search_data
from geo.probability import (
    REST_OF_WORLD,
    apply_passes,
    cell_pod,
    cells_over,
    consensus_poa,
    consensus_split,
    describe_rings,
    initial_poa,
    interpolate_log_linear,
    override_rings,
    pos,
    sector_poa,
    sector_poas,
    update_poa_array,
    update_poa_grid,
)
from geo.testing import assert_poa_sums_to_one

MILE = 1609.3472  # metres, the IGT4SAR factor (1.6093472 km)
LAT, LON = 51.5450, -0.0550  # Hackney


# ---------------------------------------------------------------- rings


@pytest.mark.parametrize(
    ("age", "miles"),
    [(1, (0.1, 0.3, 0.5, 0.7)), (3.9, (0.1, 0.3, 0.5, 0.7)), (4, (0.06, 0.3, 0.6, 2.1)),
     (6, (0.06, 0.3, 0.6, 2.1)), (7, (0.1, 0.3, 0.9, 3.2)), (9, (0.1, 0.3, 0.9, 3.2)),
     (10, (0.2, 0.9, 1.8, 3.6)), (12, (0.2, 0.9, 1.8, 3.6)), (12.99, (0.2, 0.9, 1.8, 3.6))],
)
def test_urban_rings_equal_the_koester_table(age, miles):
    rings = geo.distance_rings(age)
    assert list(rings) == [25, 50, 75, 95]
    for q, m in zip((25, 50, 75, 95), miles, strict=True):
        assert rings[q] == pytest.approx(m * MILE, abs=1e-9)


def test_other_domains_come_from_the_table():
    assert geo.distance_rings(14, "dry")[95] == pytest.approx(7.4 * MILE, abs=1e-9)
    assert geo.distance_rings(8, "temperate_flat")[50] == pytest.approx(0.5 * MILE, abs=1e-9)
    assert describe_rings(8, "temperate_flat")["basis"] == "published table"


@pytest.mark.parametrize("age", [13, 15, 16.5, 17])
def test_13_and_over_urban_uses_grampian_interpolated_log_linearly(age):
    rings = geo.distance_rings(age)
    # by hand from the published points 30 %→1 km, 50 %→3 km, 70 %→8 km, 80 %→18 km,
    # 90 %→43 km, 99 %→273 km; ln d linear in the percentage:
    assert rings[25] == pytest.approx(1000 * 3 ** (-5 / 20), abs=1e-6)  # extrapolated
    assert rings[50] == pytest.approx(3000, abs=1e-6)
    assert rings[75] == pytest.approx(1000 * 8 * (18 / 8) ** 0.5, abs=1e-6)  # = 12 km
    assert rings[95] == pytest.approx(1000 * 43 * (273 / 43) ** (5 / 9), abs=1e-6)
    info = describe_rings(age)
    assert info["basis"] == "interpolated" and "log-linearly" in info["label"]


def test_the_data_file_states_the_interpolated_values_it_derives():
    data = load_search_data("grampian_12_14")
    stated = data["rings"]["km"]
    for q in (25, 50, 75, 95):
        assert geo.distance_rings(15)[q] == pytest.approx(1000 * stated[str(q)], rel=1e-12)
    assert "EXTRAPOLATED" in data["rings"]["method"]
    assert interpolate_log_linear([30, 50], [1, 3], 40) == pytest.approx(math.sqrt(3))


@pytest.mark.parametrize(("age", "domain", "words"), [
    (0.5, "urban", "aged 1 to 17"), (18, "urban", "aged 1 to 17"), ("ten", "urban", "number"),
    (16, "dry", "no published ring"), (5, "moon", "Unknown terrain")])
def test_ages_and_domains_out_of_range_are_refused(age, domain, words):
    with pytest.raises(geo.InputError, match=words):
        geo.distance_rings(age, domain)


def test_coordinator_override_is_checked():
    assert override_rings(100, 200, 300, 400) == {25: 100, 50: 200, 75: 300, 95: 400}
    with pytest.raises(geo.InputError, match="further out"):
        override_rings(100, 50, 300, 400)
    with pytest.raises(geo.InputError):
        override_rings(-1, 50, 300, 400)


# ---------------------------------------------------------------- initial POA


def test_initial_poa_known_answers():
    rings = override_rings(400, 800, 1200, 1600)
    grid = initial_poa(LAT, LON, rings, radius_m=2500)
    cells = grid.cells
    assert cells.crs.to_epsg() == 27700
    assert cells["poa"].sum() + grid.rest_of_world == pytest.approx(1, abs=1e-12)
    # the grid holds every ring: the rest of world is the 5 % beyond the 95 % ring
    assert grid.rest_of_world == pytest.approx(0.05, abs=1e-5)
    # a cell wholly inside the 25 % ring holds 25 % × its share of that disc
    x, y = (float(v) for v in lonlat_to_bng(LON, LAT))
    centre_cell = cells.loc[cells.contains(gpd.points_from_xy([x], [y])[0])]
    assert centre_cell["poa"].iloc[0] == pytest.approx(0.25 * 100**2 / (math.pi * 400**2),
                                                       rel=1e-12)
    # a cell wholly in the 75-95 % annulus: 20 % spread over π(1600² − 1200²)
    far = cells.loc[cells.geometry.centroid.distance(gpd.points_from_xy([x], [y])[0])
                    .between(1350, 1450)]
    full = far.loc[np.isclose(far["poa"], far["poa"].max())]
    assert full["poa"].iloc[0] == pytest.approx(0.20 * 100**2 / (math.pi * (1600**2 - 1200**2)),
                                                rel=1e-12)
    # beyond the 95 % ring: nothing on the grid
    out = cells.geometry.centroid.distance(gpd.points_from_xy([x], [y])[0]) > 1700
    assert (cells.loc[out, "poa"] == 0).all()


def test_grid_is_fixed_cells_move_with_nothing():
    rings = override_rings(100, 200, 300, 400)
    a = initial_poa(LAT, LON, rings)
    b = initial_poa(LAT + 0.0003, LON, rings)  # last-known location moves ~33 m
    assert set(a.cells["cell"]) & set(b.cells["cell"])
    bounds = np.array([g.bounds for g in a.cells.geometry])
    assert (bounds % 100 == 0).all()
    assert not a.cells.geometry.overlaps(a.cells.geometry.shift(1)).fillna(False).any()


def test_grid_radius_is_capped_and_ring_mass_outside_is_rest_of_world():
    grid = initial_poa(LAT, LON, geo.distance_rings(15))  # 95 % ring ≈ 120 km
    assert_poa_sums_to_one(grid)
    assert len(grid.cells) < 33_000
    assert 0.30 < grid.rest_of_world < 0.35
    assert grid.cells["poa"].sum() + grid.rest_of_world == pytest.approx(1, abs=1e-12)


def test_initial_poa_refuses_points_outside_the_uk():
    with pytest.raises(geo.InputError, match="not in the UK"):
        initial_poa(40.7, -74.0, override_rings(1, 2, 3, 4))


# ---------------------------------------------------------------- updates


def test_bayesian_update_worked_by_hand():
    poa = {"A": 0.3, "B": 0.2, "C": 0.1, REST_OF_WORLD: 0.4}
    new = geo.update_poa(poa, ["A"], 0.5)
    # Σ POA·POD = 0.3 × 0.5 = 0.15; denominator 1 − 0.15 = 0.85
    assert new["A"] == pytest.approx(0.3 * 0.5 / 0.85, abs=1e-12)  # 0.17647…
    assert new["B"] == pytest.approx(0.2 / 0.85, abs=1e-12)  # 0.23529…
    assert new["C"] == pytest.approx(0.1 / 0.85, abs=1e-12)  # 0.11764…
    assert new[REST_OF_WORLD] == pytest.approx(0.4 / 0.85, abs=1e-12)  # 0.47058…
    assert sum(new.values()) == pytest.approx(1, abs=1e-12)
    assert poa["A"] == 0.3  # input untouched


def test_bayesian_update_with_a_pod_per_segment():
    poa = {"A": 0.3, "B": 0.2, "C": 0.1, REST_OF_WORLD: 0.4}
    new = geo.update_poa(poa, {"A", "B"}, {"A": 0.5, "B": 0.4, "C": 0.9})
    # Σ = 0.3×0.5 + 0.2×0.4 = 0.15 + 0.08 = 0.23; denominator 0.77; C's POD ignored
    assert new["A"] == pytest.approx(0.15 / 0.77, abs=1e-12)
    assert new["B"] == pytest.approx(0.12 / 0.77, abs=1e-12)
    assert new["C"] == pytest.approx(0.1 / 0.77, abs=1e-12)
    assert new[REST_OF_WORLD] == pytest.approx(0.4 / 0.77, abs=1e-12)


@pytest.mark.parametrize(("poa", "searched", "pod", "words"), [
    ({"A": 0.5, REST_OF_WORLD: 0.4}, ["A"], 0.5, "add up to 1"),
    ({"A": 0.6, REST_OF_WORLD: 0.4}, ["A"], 1.2, "between 0 and 1"),
    ({"A": 0.6, REST_OF_WORLD: 0.4}, ["Z"], 0.5, "Unknown segment"),
    ({"A": 0.6, REST_OF_WORLD: 0.4}, [REST_OF_WORLD], 0.5, "Unknown segment"),
    ({"A": 1.0}, ["A"], 0.5, "rest_of_world"),
    ({"A": 0.6, REST_OF_WORLD: 0.4}, ["A"], {"B": 0.5}, "No POD"),
    ({"A": 1.0, REST_OF_WORLD: 0.0}, ["A"], 1.0, "certainly"),
])
def test_update_refuses_bad_inputs(poa, searched, pod, words):
    with pytest.raises(geo.InputError, match=words):
        geo.update_poa(poa, searched, pod)


@settings(max_examples=150, deadline=None)
@given(
    weights=st.lists(st.floats(0.01, 10), min_size=2, max_size=12),
    passes=st.lists(st.tuples(st.lists(st.integers(0, 10), max_size=6),
                              st.floats(0, 0.95)), max_size=8),
)
def test_poa_always_sums_to_one(weights, passes):
    w = np.array(weights)
    w = w / w.sum()
    poa = {f"s{i}": float(v) for i, v in enumerate(w[:-1])}
    poa[REST_OF_WORLD] = 1.0 - math.fsum(poa.values())
    arr, rest = np.array([poa[f"s{i}"] for i in range(len(w) - 1)]), poa[REST_OF_WORLD]
    for idx, p in passes:
        searched = [f"s{i}" for i in idx if i < len(w) - 1]
        poa = geo.update_poa(poa, searched, p)
        assert_poa_sums_to_one(poa)
        assert math.fsum(poa.values()) == pytest.approx(1, abs=1e-9)
        assert all(0 <= v <= 1 for v in poa.values())
        pod_arr = np.zeros(len(arr))
        pod_arr[[i for i in set(idx) if i < len(arr)]] = p
        arr, rest = update_poa_array(arr, rest, pod_arr)
        assert arr.sum() + rest == pytest.approx(1, abs=1e-9)
    for i, v in enumerate(arr):
        assert poa[f"s{i}"] == pytest.approx(v, abs=1e-9)


def test_grid_update_matches_dict_update_and_shifts_probability_out():
    grid = initial_poa(LAT, LON, override_rings(200, 400, 600, 800), radius_m=1000)
    pod = np.where(np.arange(len(grid.cells)) % 2 == 0, 0.6, 0.0)
    new = update_poa_grid(grid, pod)
    d = geo.update_poa(grid.to_dict(), list(grid.cells["cell"][pod > 0]), 0.6)
    assert new.rest_of_world == pytest.approx(d[REST_OF_WORLD], abs=1e-12)
    np.testing.assert_allclose(new.cells["poa"], [d[c] for c in grid.cells["cell"]], atol=1e-12)
    assert new.rest_of_world > grid.rest_of_world
    assert float(np.sum(pos(grid.cells["poa"], pod))) == pytest.approx(
        float(np.dot(grid.cells["poa"], pod)))


# ---------------------------------------------------------------- sectors and consensus


def _squares(ids, boxes):
    return gpd.GeoDataFrame({"id": ids}, geometry=[box(*b) for b in boxes], crs="EPSG:27700")


def test_sector_poa_sums_cells_and_ranks_by_density():
    grid = initial_poa(LAT, LON, override_rings(300, 600, 900, 1200), radius_m=1300)
    x, y = (float(v) for v in lonlat_to_bng(LON, LAT))
    x, y = math.floor(x / 100) * 100, math.floor(y / 100) * 100
    sectors = _squares(["near", "far", "half"], [
        (x - 100, y - 100, x + 200, y + 200),
        (x + 700, y, x + 1000, y + 300),
        (x + 750, y, x + 1000, y + 300),  # not aligned with cells: partial cells
    ])
    out = sector_poa(grid, sectors.to_crs("EPSG:4326")).set_index("id")
    cells = grid.cells.set_index("cell")
    near = sum(cells.loc[f"E{x + i}N{y + j}", "poa"] for i in (-100, 0, 100)
               for j in (-100, 0, 100))
    assert out.loc["near", "poa"] == pytest.approx(near, rel=1e-6)
    assert out.loc["near", "rank"] == 1
    assert out.loc["near", "density_per_km2"] == pytest.approx(
        out.loc["near", "poa"] / (out.loc["near", "area_m2"] / 1e6))
    # partial cells are area-weighted: 'half' cuts cells in two
    assert 0 < out.loc["half", "poa"] < out.loc["far", "poa"]
    assert out.loc["half", "area_m2"] == pytest.approx(250 * 300, rel=1e-6)


def test_consensus_split_averages_planners():
    split = consensus_split([
        {"park": 50, "estate": 30, REST_OF_WORLD: 20},
        {"park": 30, "estate": 60, REST_OF_WORLD: 10},
    ])
    assert split == pytest.approx({"park": 0.4, "estate": 0.45, REST_OF_WORLD: 0.15})
    with pytest.raises(geo.InputError, match="0 %"):
        consensus_split([{"park": 100, "estate": 0, REST_OF_WORLD: 0}])
    with pytest.raises(geo.InputError, match="add up"):
        consensus_split([{"park": 50, "estate": 30, REST_OF_WORLD: 10}])
    with pytest.raises(geo.InputError, match="rest_of_world"):
        consensus_split([{"park": 50, "estate": 50}])
    with pytest.raises(geo.InputError, match="different regions"):
        consensus_split([{"park": 90, REST_OF_WORLD: 10}, {"estate": 90, REST_OF_WORLD: 10}])


def test_consensus_poa_spreads_each_region_over_its_cells():
    x, y = 530_000.0, 180_000.0
    regions = _squares(["park", "estate"], [(x, y, x + 500, y + 300),
                                            (x + 520, y + 30, x + 880, y + 410)])
    split = {"park": 0.4, "estate": 0.45, REST_OF_WORLD: 0.15}
    grid = consensus_poa(regions, split)
    assert grid.rest_of_world == pytest.approx(0.15, abs=1e-9)
    out = sector_poa(grid, regions).set_index("id")
    # a region's cells hold exactly its share back (regions do not overlap)
    assert out.loc["park", "poa"] == pytest.approx(0.4, abs=1e-9)
    overlapping = _squares(["a", "b"], [(x, y, x + 500, y + 500), (x + 400, y, x + 900, y + 500)])
    with pytest.raises(geo.InputError, match="overlap"):
        consensus_poa(overlapping, {"a": 0.5, "b": 0.4, REST_OF_WORLD: 0.1})


def test_cell_pod_is_area_weighted_and_zero_on_not_searched_ground():
    grid = initial_poa(LAT, LON, override_rings(100, 200, 300, 400), radius_m=400)
    c = grid.cells.geometry.iloc[0]
    x0, y0, x1, y1 = c.bounds
    ground = box(x0, y0, (x0 + x1) / 2, y1)  # half of the first cell
    pods = cell_pod(grid, ground, 0.8)
    assert pods[0] == pytest.approx(0.4, abs=1e-12)
    assert (pods[1:] == 0).all()


def test_grid_round_trips_through_its_dict():
    grid = initial_poa(LAT, LON, override_rings(100, 200, 300, 400))
    back = geo.PoaGrid.from_dict(grid.to_dict(), grid.cell_m)
    assert back.rest_of_world == grid.rest_of_world
    assert list(back.cells["cell"]) == list(grid.cells["cell"])
    assert back.cells.geometry.geom_equals(grid.cells.geometry).all()
    with pytest.raises(geo.InputError, match="not on a 100 m grid"):
        geo.PoaGrid.from_dict({"E530150N180000": 0.5, REST_OF_WORLD: 0.5})


# ---------------------------------------------------------------- many passes, sparse


def test_apply_passes_equals_one_update_per_pass_in_order():
    prior = {"a": 0.4, "b": 0.3, "c": 0.2, REST_OF_WORLD: 0.1}
    passes = [{"a": 0.5}, {"a": 0.3, "b": 0.6}, {"c": 0.9, "outside": 0.8}, {}]
    want, found, rest = dict(prior), [], []
    for p in passes:
        searched = [k for k in p if k in prior]
        found.append(sum(want[k] * p[k] for k in searched))
        want = geo.update_poa(want, searched, {k: p[k] for k in searched})
        rest.append(want[REST_OF_WORLD])
    got, got_found, got_rest = apply_passes(prior, passes)
    assert got == pytest.approx(want, abs=1e-12)
    assert got_found == pytest.approx(found, abs=1e-12)
    assert got_rest == pytest.approx(rest, abs=1e-12)
    # by hand, the first pass: found 0.2; a = 0.2 / 0.8
    assert got_found[0] == pytest.approx(0.2) and got_rest[0] == pytest.approx(0.1 / 0.8)
    assert math.fsum(got.values()) == pytest.approx(1.0, abs=1e-12)


def test_apply_passes_refuses_certainty_and_bad_pods():
    with pytest.raises(geo.InputError, match="certainly"):
        apply_passes({"a": 1.0, REST_OF_WORLD: 0.0}, [{"a": 1.0}])
    with pytest.raises(geo.InputError, match="between 0 and 1"):
        apply_passes({"a": 0.5, REST_OF_WORLD: 0.5}, [{"a": 1.5}])


def test_cells_over_ground_carry_the_grid_ids():
    x, y = (float(v) for v in lonlat_to_bng(LON, LAT))
    grid = initial_poa(LAT, LON, {25: 200, 50: 400, 75: 600, 95: 800}, cell_m=100)
    x, y = math.floor(x / 100) * 100, math.floor(y / 100) * 100  # a cell corner
    ground = box(x - 90, y + 10, x + 190, y + 120)  # 3 × 2 cells
    cells = cells_over(ground, 100)
    # every cell touched by the ground, with the same id the POA grid gives it
    want = set(grid.cells.loc[grid.cells.intersects(ground), "cell"])
    assert set(cells["cell"]) == want and len(cells) == 6
    same = grid.cells.set_index("cell").loc[list(cells["cell"])]
    assert all(a.equals(b) for a, b in zip(same.geometry, cells.geometry, strict=True))
    assert cells_over(box(0, 0, 0, 0).buffer(0), 100).empty


def test_sector_poas_of_several_grids_equal_one_call_each():
    prior = initial_poa(LAT, LON, override_rings(300, 600, 900, 1200), radius_m=1300)
    pod = np.where(np.arange(len(prior.cells)) % 3 == 0, 0.7, 0.0)
    current = update_poa_grid(prior, pod)
    other = initial_poa(LAT, LON, override_rings(200, 400, 800, 1600), radius_m=1700)
    x, y = (float(v) for v in lonlat_to_bng(LON, LAT))
    sectors = _squares(["a", "b"], [(x - 250, y - 250, x + 300, y + 120),
                                    (x + 100, y - 600, x + 650, y + 20)]).to_crs("EPSG:4326")
    together = sector_poas([current, prior, other], sectors)
    assert len(together) == 3
    for got, grid in zip(together, (current, prior, other), strict=True):
        want = sector_poa(grid, sectors)
        assert got["id"].tolist() == want["id"].tolist()
        np.testing.assert_allclose(got["poa"], want["poa"], rtol=1e-12)
        assert got["rank"].tolist() == want["rank"].tolist()
    assert not together[0]["poa"].equals(together[1]["poa"])  # the passes show
