"""Reprojecting freshly decoded outlines in place gives the very vertices of the copying path."""

from __future__ import annotations

import numpy as np
import shapely
from shapely.geometry import box

from geo.crs import decoded_to_bng, geoms_to_bng


def test_decoded_to_bng_moves_every_vertex_exactly_like_geoms_to_bng():
    square = box(-0.13, 51.50, -0.12, 51.51)
    holed = shapely.difference(square, box(-0.128, 51.502, -0.125, 51.505))
    multi = shapely.MultiPolygon([box(-0.2, 51.4, -0.19, 51.41), box(-0.1, 51.45, -0.09, 51.46)])
    # a grid: neighbours share corners, each distinct vertex is transformed once
    grid = shapely.box(-0.3 + 0.001 * np.arange(20), 51.6, -0.299 + 0.001 * np.arange(20), 51.601)
    wkb = shapely.to_wkb(np.array([square, holed, multi, shapely.Polygon(), *grid], dtype=object))
    want = geoms_to_bng(shapely.from_wkb(wkb))
    got = decoded_to_bng(shapely.from_wkb(wkb))
    assert shapely.equals_exact(got, want, tolerance=0).all()
    assert (shapely.get_coordinates(got) == shapely.get_coordinates(want)).all()
    # metres in British National Grid: the square is about 700 m × 1,100 m
    assert 500_000 < shapely.area(got[0]) < 900_000
    assert len(decoded_to_bng(np.empty(0, dtype=object))) == 0
