"""The motion step between searches, sightings and stale ground, with known answers."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely import box

import geo
from geo.crs import BNG, bng_to_lonlat, lonlat_to_bng
from geo.errors import InputError
from geo.motion import MotionModel, advance_poa, advance_poa_report
from geo.probability import MAX_RADIUS_M, PoaGrid, initial_poa, update_poa_grid

X0, Y0 = 530_000.0, 180_000.0  # lower-left corner of the start cell (BNG)
CENTRE = (X0 + 50.0, Y0 + 50.0)


def point_mass(x0: float = X0, y0: float = Y0) -> PoaGrid:
    return PoaGrid.from_dict({f"E{x0:.0f}N{y0:.0f}": 1.0, "rest_of_world": 0.0})


def walk_only(**kw: object) -> MotionModel:
    """No barriers, no leakage, no jumps, no default places: the walk alone."""
    base: dict[str, object] = {"leak_per_hour": 0.0, "jump_per_hour": 0.0, "barriers": (),
                               "places": False}
    base.update(kw)
    return MotionModel(**base)  # type: ignore[arg-type]


def centres(grid: PoaGrid) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    b = shapely.bounds(grid.cells.geometry.to_numpy())
    return (b[:, 0] + b[:, 2]) / 2, (b[:, 1] + b[:, 3]) / 2, grid.cells["poa"].to_numpy()


def total(grid: PoaGrid) -> float:
    return float(grid.cells["poa"].sum()) + grid.rest_of_world


def test_zero_hours_changes_nothing() -> None:
    g = point_mass()
    assert advance_poa(g, 0, walk_only(), centre=CENTRE) is g
    assert advance_poa(g, 0.0) is g
    assert advance_poa(g, 5.0, MotionModel.stationary()) is g


def test_a_point_mass_spreads_to_the_kernels_distance_distribution() -> None:
    m = walk_only()
    rep = advance_poa_report(point_mass(), 1.0, m, centre=CENTRE)
    x, y, p = centres(rep.grid)
    assert total(rep.grid) == pytest.approx(1.0, abs=1e-12)
    assert p.sum() == pytest.approx(1.0, abs=1e-9)  # nothing leaked, nothing at the edge
    assert rep.edge_lost == pytest.approx(0.0, abs=1e-12) and rep.leaked == 0.0
    # Mean stays on the start cell; variance per axis is the model's v²·τ·m·t (+ 0 for
    # a mass at the cell centre), exactly, by construction of the walk.
    sigma2 = m.spread_m2_per_hour()
    assert np.dot(p, x) == pytest.approx(CENTRE[0], abs=1e-6)
    assert np.dot(p, y) == pytest.approx(CENTRE[1], abs=1e-6)
    assert np.dot(p, (x - CENTRE[0]) ** 2) == pytest.approx(sigma2, rel=1e-6)
    assert np.dot(p, (y - CENTRE[1]) ** 2) == pytest.approx(sigma2, rel=1e-6)
    # The distance from the start follows the Rayleigh law of a 2-D Gaussian walk.
    d = np.hypot(x - CENTRE[0], y - CENTRE[1])
    s = math.sqrt(sigma2)
    for k in (0.5, 1.0, 2.0, 3.0):
        assert p[d <= k * s].sum() == pytest.approx(1 - math.exp(-(k**2) / 2), abs=0.02)
    assert s == pytest.approx(882, abs=1)  # 1.2 m/s, 25 % moving, 10-min legs, 1 h


def test_the_grid_grows_by_whole_cells_within_the_largest_radius() -> None:
    g = advance_poa(point_mass(), 3.0, walk_only(), centre=CENTRE)
    assert len(g.cells) > 1000
    b = shapely.bounds(g.cells.geometry.to_numpy())
    assert np.allclose(b[:, 2] - b[:, 0], 100.0) and np.allclose(b[:, :2] % 100.0, 0.0)
    ids = g.cells["cell"].to_numpy()
    assert len(set(ids)) == len(ids) and f"E{X0:.0f}N{Y0:.0f}" in set(ids)
    x, y, _ = centres(g)
    assert (np.hypot(x - CENTRE[0], y - CENTRE[1]) < MAX_RADIUS_M + 100).all()


@pytest.mark.parametrize("hours", [0.25, 1.0, 2.5])
def test_probability_is_conserved_at_every_step(hours: float) -> None:
    lat, lon = 51.5074, -0.1278
    g = initial_poa(lat, lon, geo.distance_rings(11))
    x, y = (float(v) for v in lonlat_to_bng(lon, lat))
    m = MotionModel(destinations=((x + 2500, y + 1000, 2.0), (x - 40_000, y, 1.0)))
    for _ in range(3):
        rep = advance_poa_report(g, hours, m, centre=(x, y))
        assert total(rep.grid) == pytest.approx(1.0, abs=1e-9)
        moved = rep.grid.rest_of_world - g.rest_of_world
        assert moved == pytest.approx(rep.leaked + rep.edge_lost, abs=1e-12)
        assert (rep.grid.cells["poa"] >= 0).all()
        # searching between steps keeps it a valid grid (Bayes' rule on the new cells)
        g = update_poa_grid(rep.grid, np.where(rep.grid.cells["poa"] > 1e-4, 0.3, 0.0))
        assert total(g) == pytest.approx(1.0, abs=1e-9)


def test_one_hour_leakage_equals_the_stated_rate() -> None:
    m = walk_only(leak_per_hour=0.04)
    rep = advance_poa_report(point_mass(), 1.0, m, centre=CENTRE)
    assert rep.leaked == pytest.approx(0.04, abs=1e-12)
    assert rep.grid.rest_of_world == pytest.approx(0.04, abs=1e-9)
    assert rep.grid.cells["poa"].sum() == pytest.approx(0.96, abs=1e-9)
    two = advance_poa_report(point_mass(), 2.0, m, centre=CENTRE)
    assert two.leaked == pytest.approx(1 - 0.96**2, abs=1e-12)


def test_probability_walking_past_the_largest_radius_is_lost_at_the_edge() -> None:
    near_edge = (X0 + 50 - MAX_RADIUS_M + 300, Y0 + 50)  # the cell is 300 m inside the edge
    rep = advance_poa_report(point_mass(), 1.0, walk_only(), centre=near_edge)
    # about twice the share beyond 300 m (reflection principle: a walker who reaches
    # the edge is lost there), a little less on a curved edge
    assert 0.55 < rep.edge_lost < 0.75
    assert rep.leaked == 0.0
    assert rep.grid.rest_of_world == pytest.approx(rep.edge_lost, abs=1e-12)
    assert total(rep.grid) == pytest.approx(1.0, abs=1e-9)


def test_a_barrier_holds_probability_on_its_side() -> None:
    wall = shapely.LineString([(X0 + 500, Y0 - 30_000), (X0 + 500, Y0 + 30_000)])
    held = advance_poa(point_mass(), 3.0, walk_only(barriers=(wall,)), centre=CENTRE)
    x, _, p = centres(held)
    assert p[x > X0 + 500].sum() == 0.0
    assert p.sum() == pytest.approx(1.0, abs=1e-9)
    free = advance_poa(point_mass(), 3.0, walk_only(), centre=CENTRE)
    x, _, p = centres(free)
    across_free = p[x > X0 + 500].sum()
    assert across_free > 0.3
    leaky = advance_poa(point_mass(), 3.0, walk_only(barriers=(wall,), barrier_crossing=0.5),
                        centre=CENTRE)
    x, _, p = centres(leaky)
    assert 0.1 < p[x > X0 + 500].sum() < across_free


def test_the_default_model_does_not_walk_across_the_thames() -> None:
    thames = geo.thames_barrier()
    assert 40_000 < thames.length < 50_000
    lat, lon = 51.5080, -0.1281  # Trafalgar Square, north bank
    x, y = (float(v) for v in lonlat_to_bng(lon, lat))
    g = PoaGrid.from_dict({f"E{math.floor(x / 100) * 100}N{math.floor(y / 100) * 100}": 1.0,
                           "rest_of_world": 0.0})
    moved = advance_poa(g, 2.0, MotionModel(leak_per_hour=0.0, jump_per_hour=0.0),
                        centre=(x, y))
    boroughs = geo.load_layer("borough").set_index("name").geometry
    south = shapely.union_all([boroughs["Lambeth"], boroughs["Southwark"]])
    cx, cy, p = centres(moved)
    in_south = shapely.contains_xy(south, cx, cy)
    assert p[in_south].sum() < 1e-6
    free = advance_poa(g, 2.0, walk_only(), centre=(x, y))
    cx, cy, p = centres(free)
    assert p[shapely.contains_xy(south, cx, cy)].sum() > 0.1


def test_jumps_go_to_the_likely_places_by_weight() -> None:
    dests = ((X0 + 3050, Y0 + 50, 3.0), (X0 - 2950, Y0 + 50, 1.0))
    m = walk_only(jump_per_hour=0.2, moving_share=0.0, destinations=dests)
    rep = advance_poa_report(point_mass(), 1.0, m, centre=CENTRE)
    # likely places take their kind's share of the jumps (no other kind is in the model)
    share = geo.jump_shares()["likely_place"]
    assert share == pytest.approx(61 / 74)
    assert rep.jumped == pytest.approx(0.2 * share, abs=1e-12)
    poa = rep.grid.to_dict()
    assert poa[f"E{X0 + 3000:.0f}N{Y0:.0f}"] == pytest.approx(0.2 * share * 0.75, abs=1e-12)
    assert poa[f"E{X0 - 3000:.0f}N{Y0:.0f}"] == pytest.approx(0.2 * share * 0.25, abs=1e-12)
    assert poa[f"E{X0:.0f}N{Y0:.0f}"] == pytest.approx(1 - 0.2 * share, abs=1e-12)


TRAFALGAR = (51.5080, -0.1281)


def test_the_default_model_has_london_places_near_a_london_point() -> None:
    x, y = (float(v) for v in lonlat_to_bng(TRAFALGAR[1], TRAFALGAR[0]))
    near = MotionModel().destinations_near(x, y)
    assert {"station", "bus_station", "town_centre"} <= set(near["kind"])
    assert (np.hypot(near["easting"] - x, near["northing"] - y) < MAX_RADIUS_M).all()
    assert len(near) > 200
    names = " ".join(near["name"])
    assert "Charing Cross" in names and "West End" in names and "Victoria" in names
    s = geo.jump_shares()
    hubs = near["kind"].isin(["station", "bus_station"])
    assert near.loc[hubs, "share"].sum() == pytest.approx(s["transport_hub"], abs=1e-12)
    assert near.loc[~hubs, "share"].sum() == pytest.approx(s["town_centre"], abs=1e-12)
    # nearer places of a kind take more than like places far away
    st = near[near["kind"] == "station"].assign(
        d=lambda f: np.hypot(f["easting"] - x, f["northing"] - y))
    one_network = st[st["share"] > 0]
    assert one_network.sort_values("d")["share"].iloc[:10].mean() > \
        one_network.sort_values("d")["share"].iloc[-10:].mean()
    # a case's likely places join them; without the default places only they are left
    home = MotionModel(destinations=((x + 1000, y, 1.0),)).destinations_near(x, y)
    assert home["share"].sum() == pytest.approx(1.0, abs=1e-12)
    assert MotionModel(places=False).destinations_near(x, y).empty
    far = MotionModel().destinations_near(100_000.0, 800_000.0)  # the Highlands
    assert far.empty


def test_a_jump_moves_probability_to_the_places_by_their_shares() -> None:
    lat, lon = TRAFALGAR
    x, y = (float(v) for v in lonlat_to_bng(lon, lat))
    g = PoaGrid.from_dict({f"E{math.floor(x / 100) * 100}N{math.floor(y / 100) * 100}": 1.0,
                           "rest_of_world": 0.0})
    m = walk_only(jump_per_hour=0.1, moving_share=0.0, places=True)
    rep = advance_poa_report(g, 1.0, m, centre=(x, y))
    near = m.destinations_near(x, y)
    s = geo.jump_shares()
    moved = 0.1 * (s["transport_hub"] + s["town_centre"])
    assert rep.jumped == pytest.approx(moved, abs=1e-12) and rep.edge_lost == 0.0
    assert total(rep.grid) == pytest.approx(1.0, abs=1e-12)
    # known answer: each place's cell gains 0.1 x its share; the start cell keeps the rest
    want: dict[str, float] = {}
    for e, n, share in near[["easting", "northing", "share"]].itertuples(index=False):
        key = f"E{math.floor(e / 100) * 100}N{math.floor(n / 100) * 100}"
        want[key] = want.get(key, 0.0) + 0.1 * share
    start = g.cells["cell"].iloc[0]
    want[start] = want.get(start, 0.0) + 1 - moved
    got = {k: v for k, v in rep.grid.to_dict().items() if k != "rest_of_world" and v > 0}
    assert set(got) == set(want)
    for k, v in want.items():
        assert got[k] == pytest.approx(v, abs=1e-12)
    # the heaviest place (the West End, 650 m away) now holds at least its share
    top = near.loc[near["share"].idxmax()]
    cx, cy, p = centres(rep.grid)
    assert np.hypot(top["easting"] - x, top["northing"] - y) < 1500
    at_top = np.hypot(cx - top["easting"], cy - top["northing"]) < 100
    assert p[at_top].sum() > 0.1 * top["share"] - 1e-12


def test_probability_is_conserved_with_the_default_places() -> None:
    lat, lon = TRAFALGAR
    x, y = (float(v) for v in lonlat_to_bng(lon, lat))
    g = initial_poa(lat, lon, geo.distance_rings(13))
    m = MotionModel(destinations=((x + 2500, y + 1000, 1.0),))
    for hours in (0.5, 1.0, 3.0):
        rep = advance_poa_report(g, hours, m, centre=(x, y))
        assert rep.jumped > 0
        assert total(rep.grid) == pytest.approx(1.0, abs=1e-9)
        assert (rep.grid.cells["poa"] >= 0).all()
        assert rep.grid.rest_of_world - g.rest_of_world == pytest.approx(
            rep.leaked + rep.edge_lost, abs=1e-12)
        g = update_poa_grid(rep.grid, np.where(rep.grid.cells["poa"] > 1e-4, 0.3, 0.0))
        assert total(g) == pytest.approx(1.0, abs=1e-9)


def test_bad_input_is_refused() -> None:
    with pytest.raises(InputError):
        advance_poa(point_mass(), -1.0)
    with pytest.raises(InputError):
        MotionModel(moving_share=1.5, barriers=())
    with pytest.raises(InputError):
        MotionModel(destinations=((1.0, 2.0, -1.0),), barriers=())


def test_describe_states_the_assumptions() -> None:
    text = " ".join(MotionModel().describe())
    assert "1.2 m/s" in text and "Thames" in text and "4%" in text
    assert "town centres" in text and "stations" in text
    still = MotionModel.stationary().describe()
    assert still[0].startswith("No movement") and "Stationary" not in still[0]


# ---------------------------------------------------------------- sightings


def test_a_verified_sighting_recentres_the_poa() -> None:
    g = initial_poa(51.5074, -0.1278, geo.distance_rings(8))
    lat, lon = 51.5155, -0.1410  # about 1.3 km north-west
    out = geo.recentre_on_sighting(g, lat, lon, 150.0, verified=True)
    assert total(out) == pytest.approx(1.0, abs=1e-9)
    assert out.rest_of_world == pytest.approx(0.0, abs=1e-9)
    x, y = (float(v) for v in lonlat_to_bng(lon, lat))
    cx, cy, p = centres(out)
    d = np.hypot(cx - x, cy - y)
    assert p[d > 150 + 75].sum() == 0.0
    assert np.dot(p, cx) == pytest.approx(x, abs=5) and np.dot(p, cy) == pytest.approx(y, abs=5)


def test_an_unverified_sighting_adds_weight_without_erasing_the_rest() -> None:
    g = initial_poa(51.5074, -0.1278, geo.distance_rings(8))
    out = geo.recentre_on_sighting(g, 51.5155, -0.1410, 150.0, verified=False, weight=0.3)
    assert total(out) == pytest.approx(1.0, abs=1e-9)
    assert out.rest_of_world == pytest.approx(0.7 * g.rest_of_world, abs=1e-9)
    before = g.to_dict()
    after = out.to_dict()
    far = next(k for k, v in before.items() if k != "rest_of_world" and v > 0
               and k not in {"E529100N181200"})
    assert after[far] >= 0.7 * before[far] - 1e-12


def test_a_sighting_off_the_grid_adds_cells() -> None:
    g = point_mass()
    out = geo.recentre_on_sighting(g, *_latlon(X0 + 2050, Y0 + 50), 100.0, verified=True,
                                   centre=CENTRE)
    assert len(out.cells) > len(g.cells)
    assert out.to_dict()[f"E{X0:.0f}N{Y0:.0f}"] == 0.0
    assert total(out) == pytest.approx(1.0, abs=1e-9)


def _latlon(x: float, y: float) -> tuple[float, float]:
    lon, lat = bng_to_lonlat(x, y)
    return float(lat), float(lon)


# ---------------------------------------------------------------- stale ground


def test_searched_ground_goes_stale_under_the_moving_model_only() -> None:
    lat, lon = 51.5074, -0.1278
    x, y = (float(v) for v in lonlat_to_bng(lon, lat))
    before = initial_poa(lat, lon, geo.distance_rings(11))
    sector = gpd.GeoDataFrame({"id": ["S1"]}, geometry=[box(x - 300, y - 300, x + 300, y + 300)],
                              crs=BNG)
    after = update_poa_grid(before, geo.cell_pod(before, sector.geometry.iloc[0], 0.8))
    moving = MotionModel(barriers=())
    fresh = geo.stale_share(before, after, sector, 0.0, moving, centre=(x, y)).iloc[0]
    assert fresh["removed"] > 0.1 and fresh["stale"] == 0.0
    stale = [geo.stale_share(before, after, sector, h, moving, centre=(x, y))
             for h in (0.05, 2.0, 6.0)]
    shares = [float(t.iloc[0]["stale"]) for t in stale]
    assert 0 < shares[0] < shares[1] < shares[2] <= 1  # washes out as time passes
    assert not bool(geo.search_again(stale[0]).iloc[0])
    assert bool(geo.search_again(stale[2]).iloc[0])
    row = stale[2].iloc[0]
    assert row["flowed_back"] + row["still_ruled_out"] == pytest.approx(row["removed"])
    still = geo.stale_share(before, after, sector, 6.0, MotionModel.stationary()).iloc[0]
    assert still["stale"] == 0.0 and still["flowed_back"] == 0.0
    with pytest.raises(InputError):
        geo.search_again(stale[2], threshold=0.0)
