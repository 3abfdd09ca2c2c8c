"""The smallest shared geometry helpers: polygonal parts and British National Grid arrays.

Below :mod:`geo.shapes` and :mod:`geo.overlap`, which both build on them (so the
two need not import each other). Vectorised over arrays of shapely geometries.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import shapely

from geo.crs import BNG

_POLYGON = 3
_MULTIPOLYGON = 6


def polygonal_part(geoms: np.ndarray) -> np.ndarray:
    """Keep only the polygonal parts of each geometry (vectorised).

    Polygons pass through; MultiPolygons stay whole; GeometryCollections (as
    ``make_valid`` may return) keep their polygons as one (Multi)Polygon; lines
    and points become ``None``.
    """
    geoms = np.asarray(geoms, dtype=object)
    out = np.full(len(geoms), None, dtype=object)
    types = shapely.get_type_id(geoms)
    simple = (types == _POLYGON) | (types == _MULTIPOLYGON)
    out[simple] = geoms[simple]
    rest = np.flatnonzero(~simple & (types >= 0))
    if len(rest):
        parts, idx = shapely.get_parts(geoms[rest], return_index=True)
        # one more level: a collection may hold MultiPolygons
        sub, sub_idx = shapely.get_parts(parts, return_index=True)
        owner = idx[sub_idx]
        keep = shapely.get_type_id(sub) == _POLYGON
        sub, owner = sub[keep], owner[keep]
        if len(sub):
            rows, inverse = np.unique(owner, return_inverse=True)
            order = np.argsort(inverse, kind="stable")
            sub, inverse = sub[order], inverse[order]
            merged = shapely.multipolygons(sub, indices=inverse)
            counts = np.bincount(inverse, minlength=len(rows))
            first = sub[np.searchsorted(inverse, np.arange(len(rows)))]
            merged = np.where(counts == 1, first, merged)
            out[rest[rows]] = merged
    out[shapely.is_empty(out) & ~shapely.is_missing(out)] = None
    return out



def geoms_bng(frame: gpd.GeoDataFrame | gpd.GeoSeries) -> np.ndarray:
    """Geometries of a GeoDataFrame/GeoSeries as a British National Grid array.

    A frame without a CRS is taken to be lon/lat (EPSG:4326).
    """
    geoms = frame.geometry if isinstance(frame, gpd.GeoDataFrame) else frame
    if geoms.crs is None:
        geoms = geoms.set_crs(4326).to_crs(BNG)
    elif not geoms.crs.equals(BNG):
        geoms = geoms.to_crs(BNG)
    return np.array(geoms.values, dtype=object)  # a copy: callers may repair in place
