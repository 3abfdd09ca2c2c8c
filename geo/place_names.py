"""Places in words for searched ground, and ground described by postcodes and a radius.

* :func:`place_names` — for each area (lon/lat): the ward and borough at a point
  inside it and the nearest postcode to that point ("Cathedrals, Southwark · near
  SE1 9DT"), so a family reads places, not sector codes.
* :func:`postcode_circles` — the ground within a radius of each typed postcode
  (the postcodes' centroids, buffered in British National Grid and united), for
  a family that cannot draw on a phone map.

Pure functions: the postcode table and boundary layers are read when first
needed (cached); distances are metres in EPSG:27700; lon/lat at the edges.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import cast

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.boundaries import locate_many
from geo.crs import BngGeometry, bng_to_lonlat, geoms_to_bng, geoms_to_lonlat, lonlat_to_bng
from geo.errors import InputError
from geo.postcodes import _table, lookup_postcode

#: the most postcodes one description may hold, and the radius range (m)
MAX_POSTCODES = 20
MIN_RADIUS_M = 10.0
MAX_RADIUS_M = 2000.0


@dataclass(frozen=True, slots=True)
class PlaceName:
    """Where an area is, in words: its ward and borough and the nearest postcode."""

    ward: str | None
    borough: str | None
    postcode: str | None

    @property
    def text(self) -> str:
        """"Cathedrals, Southwark · near SE1 9DT" (the parts known; "" if none)."""
        where = ", ".join(p for p in (self.ward, self.borough) if p)
        near = f"near {self.postcode}" if self.postcode else ""
        return " · ".join(p for p in (where, near) if p)


@cache
def _postcode_tree() -> tuple[shapely.STRtree, np.ndarray]:
    """An index of every postcode centroid in BNG, and the postcodes in the same order."""
    table = _table()
    x, y = lonlat_to_bng(table.lon, table.lat)
    points = cast(np.ndarray, shapely.points(np.asarray(x), np.asarray(y)))
    names = np.asarray([f"{p[:-3]} {p[-3:]}" for p in table.index], dtype=object)
    return shapely.STRtree(points), names


def nearest_postcodes(x: np.ndarray, y: np.ndarray) -> list[str | None]:
    """The nearest held postcode to each BNG point (None for a missing point)."""
    tree, names = _postcode_tree()
    pts = cast(np.ndarray, shapely.points(np.asarray(x, dtype=float), np.asarray(y, dtype=float)))
    out: list[str | None] = [None] * len(pts)
    ok = np.flatnonzero(np.isfinite(np.asarray(x, dtype=float)))
    if ok.size:
        src, hit = tree.query_nearest(pts[ok], all_matches=False)
        for i, j in zip(ok[src], hit, strict=True):
            out[int(i)] = str(names[j])
    return out


def place_names(geoms: Sequence[BaseGeometry] | np.ndarray) -> list[PlaceName]:
    """Ward, borough and nearest postcode of a point inside each lon/lat area."""
    geoms = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    if geoms.size == 0:
        return []
    inside = shapely.point_on_surface(geoms_to_bng(geoms))
    empty = shapely.is_empty(inside) | shapely.is_missing(inside)
    x = np.where(empty, np.nan, shapely.get_x(inside))
    y = np.where(empty, np.nan, shapely.get_y(inside))
    lon, lat = bng_to_lonlat(np.nan_to_num(x, nan=0.0), np.nan_to_num(y, nan=0.0))
    where = locate_many(np.where(empty, 51.5, lat), np.where(empty, -0.1, lon))
    codes = nearest_postcodes(x, y)
    return [
        PlaceName(None, None, None) if empty[i]
        else PlaceName(where["ward"].iloc[i], where["borough"].iloc[i], codes[i])
        for i in range(len(geoms))
    ]


def postcode_circles(text: str, radius_m: float) -> tuple[BaseGeometry, list[str]]:
    """The ground within ``radius_m`` of each postcode in ``text`` (commas, semicolons or
    new lines between them), as one lon/lat shape, and the postcodes as written.

    Raises :class:`InputError` with a plain sentence for an unknown postcode, none,
    too many, or a radius out of range.
    """
    if not (MIN_RADIUS_M <= float(radius_m) <= MAX_RADIUS_M):
        raise InputError(f"The distance must be between {MIN_RADIUS_M:g} and "
                         f"{MAX_RADIUS_M:g} metres.")
    parts = [p.strip() for p in str(text or "").replace(";", ",").replace("\n", ",").split(",")]
    parts = [p for p in parts if p]
    if not parts:
        raise InputError("Type at least one postcode, for example SE1 9DT.")
    if len(parts) > MAX_POSTCODES:
        raise InputError(f"Type at most {MAX_POSTCODES} postcodes.")
    found = [lookup_postcode(p) for p in parts]
    bad = [f for f in found if not f.found]
    if bad:
        raise InputError(bad[0].message)
    lon = np.array([f.lon for f in found], dtype=float)
    lat = np.array([f.lat for f in found], dtype=float)
    x, y = lonlat_to_bng(lon, lat)
    circles = shapely.buffer(shapely.points(np.asarray(x), np.asarray(y)), float(radius_m))
    shape = BngGeometry(shapely.union_all(circles))
    return geoms_to_lonlat(shape), [f.postcode for f in found]
