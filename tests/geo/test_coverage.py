"""Effort coverage and swept ground from tracks, with known answers."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pytest
import shapely
import shapely.affinity
from shapely import LineString, box

import geo
from geo import coverage
from geo.coverage import QUAD_SEGS, not_searched_split, pass_sweep_widths, swept_ground
from geo.testing import assert_coverage_consistent

E0, N0 = 530_000.0, 180_000.0  # central London, BNG metres


def _sector(side=400.0, sid="S1", x0=E0, y0=N0):
    return gpd.GeoDataFrame({"id": [sid]}, geometry=[box(x0, y0, x0 + side, y0 + side)],
                            crs="EPSG:27700")


def _tracks(lines, **cols):
    return gpd.GeoDataFrame(cols, geometry=lines, crs="EPSG:27700")


def _disc_area(r: float) -> float:
    """Area of the 4·QUAD_SEGS-gon GEOS uses for a round cap pair of radius r."""
    n = 4 * QUAD_SEGS
    return n / 2 * r * r * math.sin(2 * math.pi / n)


def test_straight_track_in_square_sector_known_answer():
    side, length, w = 400.0, 300.0, 20.0
    line = LineString([(E0 + 50, N0 + 200), (E0 + 50 + length, N0 + 200)])
    out = geo.track_coverage(_tracks([line]), _sector(side), w)
    row = out.iloc[0]
    c = w * length / side**2
    assert list(out.columns) == ["id", "length_m", "coverage", "pod", "swept_m2", "swept_share"]
    assert row["id"] == "S1"
    assert row["length_m"] == pytest.approx(length, abs=1e-9)
    assert row["coverage"] == pytest.approx(c, abs=1e-9)
    assert row["pod"] == pytest.approx(1 - math.exp(-c), abs=1e-9)
    swept = w * length + _disc_area(w / 2)
    assert row["swept_m2"] == pytest.approx(swept, rel=1e-9)
    assert row["swept_share"] == pytest.approx(swept / side**2, rel=1e-9)


def test_same_line_twice_doubles_effort_not_swept_ground():
    line = LineString([(E0 + 50, N0 + 200), (E0 + 350, N0 + 200)])
    once = geo.track_coverage(_tracks([line]), _sector(), 20).iloc[0]
    twice = geo.track_coverage(_tracks([line, line.reverse()]), _sector(), 20).iloc[0]
    assert twice["length_m"] == pytest.approx(2 * once["length_m"], abs=1e-9)
    assert twice["coverage"] == pytest.approx(2 * once["coverage"], abs=1e-9)
    assert twice["pod"] == pytest.approx(1 - (1 - once["pod"]) ** 2, abs=1e-9)
    assert twice["swept_m2"] == pytest.approx(once["swept_m2"], rel=1e-9)


def test_searchers_abreast_multiply_effort():
    line = LineString([(E0 + 50, N0 + 200), (E0 + 350, N0 + 200)])
    one = geo.track_coverage(_tracks([line]), _sector(), 20).iloc[0]
    six = geo.track_coverage(_tracks([line], searchers=[6]), _sector(), 20).iloc[0]
    assert six["coverage"] == pytest.approx(6 * one["coverage"], abs=1e-9)
    assert six["swept_m2"] == pytest.approx(one["swept_m2"], rel=1e-9)


def test_length_is_clipped_to_each_sector_and_any_crs_is_accepted():
    sectors = gpd.GeoDataFrame(
        {"id": ["W", "E", "far"]},
        geometry=[box(E0, N0, E0 + 100, N0 + 100), box(E0 + 100, N0, E0 + 200, N0 + 100),
                  box(E0 + 5000, N0, E0 + 5100, N0 + 100)],
        crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    line = LineString([(E0 + 30, N0 + 50), (E0 + 160, N0 + 50)])
    tracks = _tracks([line]).to_crs("EPSG:4326")
    out = geo.track_coverage(tracks, sectors, 10).set_index("id")
    assert_coverage_consistent(out)
    assert out.loc["W", "length_m"] == pytest.approx(70, abs=0.01)
    assert out.loc["E", "length_m"] == pytest.approx(60, abs=0.01)
    assert out.loc["far", ["length_m", "coverage", "pod", "swept_m2"]].tolist() == [0, 0, 0, 0]
    # swept ground near the boundary spills into the neighbour even where no length is
    # inside it, and every share stays within [0, 1]
    assert out["swept_share"].between(0, 1).all()


def test_long_winding_track_is_cut_into_pieces_without_losing_length():
    t = np.linspace(0, 40 * math.pi, 2000)
    xy = np.column_stack([E0 + 200 + 150 * np.cos(t) * t / t[-1], N0 + 200 + 150 * np.sin(t)
                          * t / t[-1]])
    line = LineString(xy)
    out = geo.track_coverage(_tracks([line]), _sector(), 5).iloc[0]
    assert out["length_m"] == pytest.approx(line.length, rel=1e-9)
    direct = line.buffer(2.5, quad_segs=QUAD_SEGS).intersection(_sector().geometry[0]).area
    assert out["swept_m2"] == pytest.approx(direct, rel=1e-3)


def test_no_tracks_means_zero_everything():
    empty = gpd.GeoDataFrame({"searchers": []}, geometry=[], crs="EPSG:27700")
    out = geo.track_coverage(empty, _sector(), 20)
    assert out[["length_m", "coverage", "pod", "swept_m2", "swept_share"]].sum().sum() == 0


def test_bad_inputs_are_refused():
    line = LineString([(E0, N0), (E0 + 10, N0)])
    with pytest.raises(geo.InputError, match="sweep width"):
        geo.track_coverage(_tracks([line]), _sector(), 0)
    with pytest.raises(geo.InputError, match="'id'"):
        geo.track_coverage(_tracks([line]), _sector().drop(columns="id"), 10)
    with pytest.raises(geo.InputError, match="Searchers"):
        geo.track_coverage(_tracks([line], searchers=[0]), _sector(), 10)


def test_not_searched_ground_gets_pod_zero_for_the_pass():
    sector = _sector(400)
    hole = gpd.GeoSeries([box(E0, N0, E0 + 100, N0 + 400)], crs="EPSG:27700")  # a quarter
    split = not_searched_split(sector, hole)
    assert split["searched_share"].iloc[0] == pytest.approx(0.75, abs=1e-12)
    assert split["not_searched_m2"].iloc[0] == pytest.approx(40_000, abs=1e-6)
    line = LineString([(E0 + 150, N0 + 200), (E0 + 350, N0 + 200)])
    part = geo.track_coverage(_tracks([line]), split, 20).iloc[0]
    # effort spread over the searched 120,000 m² only
    assert part["coverage"] == pytest.approx(20 * 200 / 120_000, abs=1e-9)
    whole_pass_pod = part["pod"] * split["searched_share"].iloc[0]
    assert whole_pass_pod < part["pod"]


def test_swept_ground_geometry_matches_sector_figures():
    line = LineString([(E0 + 50, N0 + 200), (E0 + 350, N0 + 200)])
    g = swept_ground(_tracks([line, line]), 20, clip=_sector().geometry[0])
    out = geo.track_coverage(_tracks([line]), _sector(), 20).iloc[0]
    assert g.area == pytest.approx(out["swept_m2"], rel=1e-9)


def test_swept_ground_can_be_skipped_when_only_pod_is_needed():
    line = LineString([(E0 + 50, N0 + 200), (E0 + 350, N0 + 200)])
    full = geo.track_coverage(_tracks([line]), _sector(), 20)
    fast = geo.track_coverage(_tracks([line]), _sector(), 20, swept=False)
    assert fast["pod"].iloc[0] == full["pod"].iloc[0]
    assert math.isnan(fast["swept_m2"].iloc[0])


def test_swept_ground_with_one_width_per_track_known_answer():
    # two parallel lines far apart, W = 10 m and 30 m: two capsules of known area
    a = LineString([(E0, N0), (E0 + 200, N0)])
    b = LineString([(E0, N0 + 500), (E0 + 200, N0 + 500)])
    g = swept_ground(_tracks([a, b]), [10.0, 30.0])
    want = 200 * 10 + _disc_area(5) + 200 * 30 + _disc_area(15)
    assert g.area == pytest.approx(want, rel=1e-9)


def test_swept_ground_per_track_widths_match_one_width_and_clip():
    line = LineString([(E0 + 50, N0 + 200), (E0 + 350, N0 + 200)])
    sector = _sector().geometry[0]
    same = swept_ground(_tracks([line, line]), [20.0, 20.0], clip=sector)
    assert same.area == pytest.approx(swept_ground(_tracks([line]), 20, clip=sector).area,
                                      rel=1e-6)
    # lon/lat tracks are measured in BNG all the same
    ll = swept_ground(_tracks([line]).to_crs("EPSG:4326"), [20.0])
    assert ll.area == pytest.approx(swept_ground(_tracks([line]), [20.0]).area, rel=1e-6)


def test_swept_ground_refuses_a_bad_width_list():
    line = LineString([(E0, N0), (E0 + 10, N0)])
    with pytest.raises(geo.InputError):
        swept_ground(_tracks([line]), [10.0, 20.0])
    with pytest.raises(geo.InputError):
        swept_ground(_tracks([line]), [0.0])


def test_pass_sweep_widths_fall_back_to_the_default():
    w = pass_sweep_widths([1, 2.0, None, float("nan"), 9], {1: 10.0, 2: 25.0})
    assert w.tolist() == [10.0, 25.0, *[geo.sweep_width()] * 3]


# --- swept ground at scale: scanlines over buffered tracks against the exact union ---


@pytest.fixture
def scan_always(monkeypatch):
    """Swept ground by scanlines whatever the size (the method large jobs use)."""
    monkeypatch.setattr(coverage, "SCAN_FROM_VERTICES", 0)


def _random_walks(n_tracks: int, n_points: int, seed: int, extent: float) -> list[LineString]:
    """Seeded random walks (6 m steps, drifting heading) over a square of ``extent`` m."""
    rng = np.random.default_rng(seed)
    start = rng.uniform(0.1 * extent, 0.9 * extent, size=(n_tracks, 2)) + np.array([E0, N0])
    heading = np.cumsum(rng.normal(0, 0.35, size=(n_tracks, n_points)), axis=1)
    steps = np.stack([np.cos(heading), np.sin(heading)], axis=-1) * 6.0
    xy = start[:, None, :] + np.cumsum(steps, axis=1)
    return [LineString(p) for p in xy]


def _mixed_sectors(extent: float) -> gpd.GeoDataFrame:
    """Squares off any round-metre grid, a rotated square, a hexagon and a strip with a hole
    (the squares overlap the strip: sectors are measured each on its own)."""
    side = extent / 5
    cells = [box(E0 + 3.3 + i * side, N0 + 7.7 + j * side, E0 + 3.3 + (i + 1) * side,
                 N0 + 7.7 + (j + 1) * side) for i in range(5) for j in range(4)]
    centre = shapely.Point(E0 + extent / 2, N0 + 0.9 * extent)
    rotated = shapely.affinity.rotate(centre.buffer(side / 2, cap_style="square"), 27)
    a = np.linspace(0, 2 * np.pi, 7)[:-1]
    hexagon = shapely.Polygon(np.column_stack([E0 + 0.2 * extent + side * np.cos(a) / 2,
                                               N0 + 0.9 * extent + side * np.sin(a) / 2]))
    holed = shapely.Polygon(
        [(E0 - 150, N0 - 150), (E0 + extent + 150, N0 - 150), (E0 + extent + 150, N0 + 80),
         (E0 - 150, N0 + 80)],
        holes=[[(E0 + 100, N0 - 100), (E0 + 500, N0 - 100), (E0 + 500, N0 + 5.5),
                (E0 + 100, N0 + 5.5)]])
    return gpd.GeoDataFrame({"id": [f"S{i}" for i in range(len(cells) + 3)]},
                            geometry=[*cells, rotated, hexagon, holed], crs="EPSG:27700")


@pytest.mark.parametrize("w", [10.0, 40.0])
def test_scanline_swept_ground_is_within_one_percent_of_the_exact_union(scan_always, w):
    extent = 1000.0
    tracks = _tracks(_random_walks(40, 300, seed=11, extent=extent),
                     searchers=[1 + i % 3 for i in range(40)]).to_crs("EPSG:4326")
    sectors = _mixed_sectors(extent)
    fast = geo.track_coverage(tracks, sectors, w)
    exact = geo.track_coverage(tracks, sectors, w, exact_swept=True)
    # effort is computed one way only: identical
    assert fast["length_m"].tolist() == exact["length_m"].tolist()
    got, want = fast["swept_m2"].to_numpy(), exact["swept_m2"].to_numpy()
    area = shapely.area(sectors.geometry.to_numpy())
    assert want.sum() > 0.3 * area[:20].sum()  # the tracks really cover much of the ground
    assert got.sum() == pytest.approx(want.sum(), rel=1e-3)
    # every sector within 1 % of its exact swept ground, or 0.2 % of its area where
    # barely swept (a few m² on a sliver)
    assert np.all(np.abs(got - want) <= np.maximum(0.01 * want, 0.002 * area))
    assert_coverage_consistent(fast.set_index("id"))


def test_scanline_swept_ground_keeps_the_known_answers(scan_always):
    side, length, w = 400.0, 300.0, 20.0
    line = LineString([(E0 + 50.3, N0 + 200.7), (E0 + 50.3 + length, N0 + 200.7)])
    once = geo.track_coverage(_tracks([line]), _sector(side), w).iloc[0]
    assert once["swept_m2"] == pytest.approx(w * length + _disc_area(w / 2), rel=1e-3)
    twice = geo.track_coverage(_tracks([line, line.reverse()]), _sector(side), w).iloc[0]
    assert twice["swept_m2"] == pytest.approx(once["swept_m2"], rel=1e-12)
    assert twice["length_m"] == pytest.approx(2 * length, abs=1e-9)
    # a sector wholly swept is swept to its full area, and ground outside every
    # sector counts nowhere
    small = _sector(10.0, x0=E0 + 100, y0=N0 + 195)
    assert geo.track_coverage(_tracks([line]), small, w).iloc[0]["swept_share"] == \
        pytest.approx(1.0, abs=1e-9)
