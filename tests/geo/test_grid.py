"""Grids tile their area exactly, never overlap, and cut cells never straddle a boundary."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

import geo
from geo.crs import BNG, geoms_to_bng, geoms_to_lonlat
from geo.testing import assert_covers_exactly, assert_each_within_one, assert_no_overlaps

X0, Y0 = 530_000.0, 180_000.0
#: lon/lat round trip of an edge (PROJ's Helmert there and back), metres
ROUND_TRIP_M = 0.002


def blob():
    """An irregular area with a hole and a bite, about 2.5 km across (BNG)."""
    base = shapely.Point(X0 + 1_234, Y0 + 987).buffer(1_250, quad_segs=12)
    bite = box(X0 + 1_500, Y0 + 900, X0 + 3_000, Y0 + 1_100)
    hole = shapely.Point(X0 + 900, Y0 + 1_300).buffer(150)
    return base.difference(bite).difference(hole)


def area_ll_and_bng():
    ll = geoms_to_lonlat(blob())
    return ll, geoms_to_bng(ll)  # the area as the grid sees it after the round trip


@pytest.mark.parametrize("shape", ["square", "hex"])
@pytest.mark.parametrize("cell", [100, 237])
def test_cells_tile_the_area_without_overlaps(shape, cell):
    area_ll, area_bng = area_ll_and_bng()
    grid = geo.make_grid(area_ll, cell, shape)
    assert grid.crs.to_epsg() == 4326
    assert grid["id"].is_unique
    assert_covers_exactly(grid, area_bng, edge_m=ROUND_TRIP_M)
    assert_no_overlaps(grid)
    assert grid["area_m2"].sum() == pytest.approx(area_bng.area, rel=1e-6)
    full = cell**2 if shape == "square" else cell**2 * np.sqrt(3) / 2
    assert np.isclose(grid["area_m2"], full, rtol=1e-6).any()
    # corners the area's edge clips to under a quarter cell join a neighbour: no slivers
    assert grid["area_m2"].min() >= 0.25 * full * (1 - 1e-6)
    assert grid["area_m2"].max() <= 2 * full


def test_square_cells_are_aligned_to_the_national_grid():
    grid = geo.make_grid(geoms_to_lonlat(box(X0 + 10, Y0 + 10, X0 + 990, Y0 + 990)), 250)
    cells = geoms_to_bng(np.asarray(grid.geometry.values))
    full = cells[np.isclose(shapely.area(cells), 62_500, rtol=1e-6)]
    assert len(full) == 4  # the inner 2x2 of a 4x4 lattice
    xs = shapely.bounds(full)[:, 0]
    assert np.allclose(xs / 250, np.round(xs / 250), atol=1e-4)
    assert len(grid) == 16


def test_ids_are_short_map_references_and_stable():
    area_ll, _ = area_ll_and_bng()
    a = geo.make_grid(area_ll, 250, "square")
    b = geo.make_grid(area_ll, 250, "square")
    assert list(a["id"]) == list(b["id"])
    assert a["id"].str.fullmatch(r"[A-Z]+[0-9]+[a-z]?").all()
    assert a["id"].str.len().max() <= 6
    # north to south: row 1 is the top row
    top = a[a["row"] == 1].to_crs(BNG).total_bounds[3]
    assert top == pytest.approx(a.to_crs(BNG).total_bounds[3])


def cutting_layer():
    """Two 'BCUs' meeting at an off-grid line, and a third area covering part of the east."""
    w = box(X0 - 1_000, Y0 - 1_000, X0 + 1_037, Y0 + 4_000)
    e = box(X0 + 1_037, Y0 - 1_000, X0 + 4_000, Y0 + 1_511)
    ne = box(X0 + 1_037, Y0 + 1_511, X0 + 4_000, Y0 + 4_000)
    return gpd.GeoDataFrame({"code": ["W", "E", "NE"], "name": ["West", "East & <Co>", "NE"]},
                            geometry=[w, e, ne], crs=BNG)


@pytest.mark.parametrize("shape", ["square", "hex"])
def test_cut_cells_never_straddle_and_still_tile(shape):
    area_ll, area_bng = area_ll_and_bng()
    cut = cutting_layer()
    grid = geo.make_grid(area_ll, 200, shape, cut_by=cut.to_crs(4326))  # any CRS
    assert_covers_exactly(grid, area_bng, edge_m=ROUND_TRIP_M)
    assert_no_overlaps(grid)
    assert_each_within_one(grid, cut, edge_m=ROUND_TRIP_M)
    assert set(grid["area_code"]) == {"W", "E", "NE"}
    # each cell's recorded area is the one it lies in
    cells = grid.to_crs(BNG)
    for code, geom in zip(cut["code"], cut.geometry, strict=True):
        mine = cells[cells["area_code"] == code].geometry
        assert mine.within(geom.buffer(0.01)).all()  # 1 cm: the round trip
    assert grid["id"].is_unique
    # cells cut by the W/E line have lettered pieces
    assert grid["id"].str.fullmatch(r"[A-Z]+[0-9]+[a-z]").any()
    uncut = geo.make_grid(area_ll, 200, shape)
    assert len(grid) > len(uncut)


def test_ground_outside_every_cutting_area_is_kept_and_marked():
    area_ll = geoms_to_lonlat(box(X0, Y0, X0 + 1_000, Y0 + 1_000))
    cut = gpd.GeoDataFrame({"code": ["A"], "name": ["A"]},
                           geometry=[box(X0 - 10, Y0 - 10, X0 + 600, Y0 + 2_000)], crs=BNG)
    grid = geo.make_grid(area_ll, 250, cut_by=cut)
    assert_covers_exactly(grid, geoms_to_bng(area_ll), edge_m=ROUND_TRIP_M)
    outside = grid[grid["area_code"].isna()]
    assert outside["area_m2"].sum() == pytest.approx(400 * 1_000, rel=1e-5)
    assert (grid.loc[grid["area_code"] == "A", "area_m2"].sum()
            == pytest.approx(600 * 1_000, rel=1e-5))


def test_slivers_are_merged_into_the_cell_not_left_as_sectors():
    # the boundary runs 0.3 m inside a column of 100 m cells: 0.3% slivers
    area_ll = geoms_to_lonlat(box(X0, Y0, X0 + 500, Y0 + 500))
    cut = gpd.GeoDataFrame({"code": ["L", "R"]}, geometry=[
        box(X0 - 100, Y0 - 100, X0 + 200.3, Y0 + 600), box(X0 + 200.3, Y0 - 100, X0 + 600,
                                                           Y0 + 600)], crs=BNG)
    grid = geo.make_grid(area_ll, 100, cut_by=cut)
    assert len(grid) == 25
    assert grid["area_m2"].min() > 99 * 100
    assert_covers_exactly(grid, geoms_to_bng(area_ll), edge_m=ROUND_TRIP_M)
    assert_no_overlaps(grid)


def test_a_ring_has_no_sliver_sectors_and_slivers_never_cross_a_cut_line():
    # a 600 m ring of 200 m cells: the corners the circle clips off join neighbours
    centre = shapely.Point(X0 + 1_000, Y0 + 1_000)
    ring = geoms_to_lonlat(centre.buffer(600, quad_segs=32))
    grid = geo.make_grid(ring, 200)
    assert grid["area_m2"].min() >= 0.25 * 200**2 * (1 - 1e-6)
    assert grid["area_m2"].sum() == pytest.approx(geoms_to_bng(ring).area, rel=1e-6)
    assert_no_overlaps(grid)
    # a cut line leaving a strip far narrower than a cell: its pieces join each other,
    # never the cells across the line
    strip = geoms_to_lonlat(box(X0, Y0, X0 + 1_000, Y0 + 1_000))
    cut = gpd.GeoDataFrame({"code": ["W", "E"]}, geometry=[
        box(X0 - 10, Y0 - 10, X0 + 40, Y0 + 1_010), box(X0 + 40, Y0 - 10, X0 + 1_010,
                                                        Y0 + 1_010)], crs=BNG)
    cut_grid = geo.make_grid(strip, 250, cut_by=cut)
    west = cut_grid[cut_grid["area_code"] == "W"]
    assert west["area_m2"].sum() == pytest.approx(40 * 1_000, rel=1e-4)
    east = cut_grid[cut_grid["area_code"] == "E"]
    assert east["area_m2"].sum() == pytest.approx(960 * 1_000, rel=1e-4)


def test_overlapping_cutting_areas_do_not_duplicate_cells():
    area_ll = geoms_to_lonlat(box(X0, Y0, X0 + 1_000, Y0 + 1_000))
    cut = gpd.GeoDataFrame({"code": ["A", "B"]}, geometry=[
        box(X0 - 10, Y0 - 10, X0 + 600, Y0 + 1_010), box(X0 + 550, Y0 - 10, X0 + 1_010,
                                                         Y0 + 1_010)], crs=BNG)
    grid = geo.make_grid(area_ll, 250, cut_by=cut)  # B is smaller: C* cut at 550
    assert grid["area_m2"].sum() == pytest.approx(1e6, rel=1e-5)
    assert (grid.loc[grid["area_code"] == "A", "area_m2"].sum()
            == pytest.approx(550 * 1_000, rel=1e-4))
    # column C's 50 m strips in A (a fifth of a cell) joined column B's cells, never B's
    c = grid[grid["col"] == "C"]
    assert set(c["area_code"]) == {"B"}
    assert grid["area_m2"].min() >= 0.25 * 250**2 * (1 - 1e-6)
    assert_no_overlaps(grid)
    assert_covers_exactly(grid, geoms_to_bng(area_ll), edge_m=ROUND_TRIP_M)


@pytest.mark.parametrize(
    ("cell", "shape", "message"),
    [(5, "square", "between"), (1e6, "square", "between"), ("big", "square", "number"),
     (100, "triangle", "square' or 'hex"), (10, "square", "cells")],
)
def test_bad_requests_are_refused(cell, shape, message):
    area = geoms_to_lonlat(box(X0, Y0, X0 + 20_000, Y0 + 20_000))
    with pytest.raises(geo.InputError, match=message):
        geo.make_grid(area, cell, shape)


def test_area_outside_uk_refused():
    with pytest.raises(geo.InputError, match="outside the UK"):
        geo.make_grid(box(2.3, 48.8, 2.31, 48.81), 100)
