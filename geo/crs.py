"""Coordinate reference systems: lon/lat at the edges, British National Grid inside.

``WGS84`` (EPSG:4326, lon/lat order) is what the map, GPS files and GeoJSON use.
``BNG`` (EPSG:27700, metres) is where every area, buffer, distance and grid is
computed. Without the OSTN15 grid file PROJ uses a Helmert transformation that is
accurate to about 2 m, which is far finer than any search sector; the warning
pyproj raises about it is silenced here on purpose.
"""

from __future__ import annotations

import warnings
from functools import cache

import numpy as np
import shapely
from pyproj import Transformer

WGS84 = "EPSG:4326"
BNG = "EPSG:27700"


@cache
def _transformer(src: str, dst: str) -> Transformer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Transformer.from_crs(src, dst, always_xy=True)


def lonlat_to_bng(
    lon: np.ndarray | float, lat: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat degrees (EPSG:4326) to easting/northing metres (EPSG:27700)."""
    x, y = _transformer(WGS84, BNG).transform(np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def bng_to_lonlat(x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Easting/northing metres (EPSG:27700) to lon/lat degrees (EPSG:4326)."""
    lon, lat = _transformer(BNG, WGS84).transform(np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def geoms_to_bng(geoms: np.ndarray | shapely.Geometry) -> np.ndarray | shapely.Geometry:
    """Shapely geometries in lon/lat to British National Grid (vectorised)."""
    t = _transformer(WGS84, BNG)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))


def geoms_to_lonlat(geoms: np.ndarray | shapely.Geometry) -> np.ndarray | shapely.Geometry:
    """Shapely geometries in British National Grid to lon/lat (vectorised)."""
    t = _transformer(BNG, WGS84)
    return shapely.transform(geoms, lambda xy: np.column_stack(t.transform(xy[:, 0], xy[:, 1])))
