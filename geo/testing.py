"""Public test helpers: domain asserts for Wayhome's geometry and search results.

Like ``geopandas.testing``, these are for Wayhome's own tests and for anyone
scripting against ``geo``. Each assert states the rule it checks in its message.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TypeAlias

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.polygons import geoms_bng
from geo.probability import PoaGrid

#: shapes in any CRS as a frame, or already in BNG as an array or a list
Shapes: TypeAlias = gpd.GeoDataFrame | gpd.GeoSeries | np.ndarray | Sequence[BaseGeometry]

# --- sectors and grids ------------------------------------------------------------------

def _bng(geoms: Shapes) -> np.ndarray:
    if isinstance(geoms, gpd.GeoDataFrame | gpd.GeoSeries):
        return geoms_bng(geoms)
    return np.asarray(geoms, dtype=object)


def assert_no_overlaps(cells: Shapes, *, tol_m2: float = 1e-3) -> None:
    """No two cells/sectors share ground (pairs from an STRtree, areas in BNG m²).

    ``cells``: a GeoDataFrame/GeoSeries in any CRS, or shapes already in BNG.
    """
    geoms = _bng(cells)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = left < right
    area = shapely.area(shapely.intersection(geoms[left[pair]], geoms[right[pair]]))
    bad = np.flatnonzero(area > tol_m2)
    assert not len(bad), (
        f"{len(bad)} pairs of cells overlap (worst {area.max():.3f} m²), e.g. "
        f"{left[pair][bad[0]]} and {right[pair][bad[0]]}: cells must not share ground"
    )


def assert_covers_exactly(cells: Shapes, area_bng: BaseGeometry, *, rel: float = 1e-6,
                          edge_m: float = 0.0) -> None:
    """The union of the cells is the area: the ground in one but not the other is
    under ``rel`` of the area plus ``edge_m`` times its perimeter. ``area_bng`` is
    a shapely shape in EPSG:27700. Use ``edge_m`` of a few mm for cells that made
    a lon/lat round trip: without the OSTN15 grid PROJ's Helmert there and back
    moves points by about 1 mm."""

    union = shapely.union_all(_bng(cells))
    diff = shapely.symmetric_difference(union, area_bng).area
    allowed = rel * area_bng.area + edge_m * area_bng.length
    assert diff <= allowed, (
        f"cells and area differ by {diff:.3f} m² of {area_bng.area:.0f} m² "
        f"(allowed {allowed:.3f} m²): the cells must tile the area exactly"
    )


def assert_each_within_one(cells: Shapes, areas: Shapes, *, tol_share: float = 1e-6,
                           edge_m: float = 0.0) -> None:
    """Every cell lies in exactly one of ``areas`` (no cell straddles two): the
    ground of a cell outside its largest area is at most ``tol_share`` of the cell
    plus ``edge_m`` times its perimeter (see :func:`assert_covers_exactly`)."""

    g, a = _bng(cells), _bng(areas)
    c, k = shapely.STRtree(a).query(g, predicate="intersects")
    inter = shapely.area(shapely.intersection(g[c], a[k]))
    best = np.zeros(len(g))
    np.maximum.at(best, c, inter)
    total = shapely.area(g)
    allowed = total * tol_share + edge_m * shapely.length(g)
    straddle = total - best > allowed
    assert not straddle.any(), (
        f"{int(straddle.sum())} cells straddle a boundary, e.g. cell {np.flatnonzero(straddle)[0]}"
        f" has only {best[straddle][0] / total[straddle][0]:.4%} in one area"
    )


def assert_shares_sum_to_one(shares: pd.DataFrame, *, tol: float = 1e-9) -> None:
    """Per sector and layer, the jurisdiction shares sum to 1 (outside included)."""
    sums = shares.groupby(["sector", "layer"])["share"].sum()
    off = sums[(sums - 1).abs() > tol]
    assert off.empty, f"shares do not sum to 1 for {len(off)} sector/layer pairs: {off.head()}"


# --- search science ---------------------------------------------------------------------

def assert_poa_sums_to_one(poa: Mapping[str, float] | PoaGrid, *, tol: float = 1e-9) -> None:
    """POA is a probability distribution: every value in [0, 1] and the total 1.

    ``poa``: a dict (segment ids and ``"rest_of_world"``) or a
    :class:`geo.probability.PoaGrid`.
    """
    values = list(poa.to_dict().values()) if isinstance(poa, PoaGrid) else list(poa.values())
    bad = [v for v in values if not 0.0 <= float(v) <= 1.0]
    assert not bad, f"{len(bad)} POA values outside [0, 1], e.g. {bad[0]!r}"
    total = math.fsum(float(v) for v in values)
    assert abs(total - 1.0) <= tol, (
        f"POA adds up to {total:.12f}, not 1: probability was lost or invented"
    )


def assert_coverage_consistent(table: pd.DataFrame, *, tol: float = 1e-9) -> None:
    """A :func:`geo.track_coverage` table obeys its own rules: POD = 1 − e^(−C) in each
    row, effort and swept ground not negative, swept share within [0, 1]."""

    c = table["coverage"].to_numpy(float)
    pod = table["pod"].to_numpy(float)
    assert (c >= 0).all() and (table["length_m"] >= 0).all(), "negative coverage or effort"
    worst = float(np.max(np.abs(pod - (1 - np.exp(-c))), initial=0.0))
    assert worst <= tol, f"POD differs from 1 − e^(−C) by {worst:.3g}"
    share = table["swept_share"].to_numpy(float)
    assert ((share >= 0) & (share <= 1)).all(), "a swept share is outside [0, 1]"
    assert (table["swept_m2"] >= 0).all(), "negative swept ground"


# --- boundary layers ----------------------------------------------------------------------

def assert_lines_within(shown: np.ndarray | Sequence[BaseGeometry],
                        full: np.ndarray | Sequence[BaseGeometry], distance_m: float) -> None:
    """Each drawn line lies within ``distance_m`` of its full-resolution line, both ways.

    ``shown`` and ``full``: equal-length arrays of BNG geometries (lines, or polygons
    whose boundaries are compared). Equivalent to Hausdorff distance <= ``distance_m``,
    tested with buffers (whose chords make it, if anything, stricter).
    """
    def lines(g: np.ndarray | Sequence[BaseGeometry]) -> np.ndarray:
        g = np.asarray(g, dtype=object)
        poly = np.isin(shapely.get_type_id(g), (3, 6))
        g = g.copy()
        g[poly] = shapely.boundary(g[poly])
        return g

    a, b = lines(shown), lines(full)
    ok = shapely.covers(shapely.buffer(b, distance_m), a) & shapely.covers(
        shapely.buffer(a, distance_m), b)
    bad = np.flatnonzero(~ok)
    assert not len(bad), (
        f"{len(bad)} drawn lines stray more than {distance_m} m from full resolution "
        f"(first: item {bad[0] if len(bad) else None})"
    )


def assert_no_gaps(geoms: Shapes, *, tol_m2: float = 1.0) -> None:
    """The union of ``geoms`` (BNG) has no holes larger than ``tol_m2``: areas meant to
    tile a region leave no ground that belongs to none of them."""

    union = shapely.union_all(_bng(geoms))
    holes = [
        shapely.area(shapely.polygons(shapely.get_interior_ring(p, k)))
        for p in shapely.get_parts(union)
        for k in range(shapely.get_num_interior_rings(p))
    ]
    big = [h for h in holes if h > tol_m2]
    assert not big, f"{len(big)} gaps inside the layer (largest {max(big):.1f} m²)"
