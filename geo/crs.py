"""Coordinate reference systems: lon/lat at the edges, British National Grid inside.

``WGS84`` (EPSG:4326, lon/lat order) is what the map, GPS files and GeoJSON use.
``BNG`` (EPSG:27700, metres) is where every area, buffer, distance and grid is
computed. Without the OSTN15 grid file PROJ uses a Helmert transformation that is
accurate to about 2 m, which is far finer than any search sector; the warning
pyproj raises about it is silenced here on purpose.

Every transformation runs on one of the long-lived threads of this module
(:func:`_run`): pyproj gives each thread its own PROJ transformer, made on the
thread's first use (about 20 ms per direction, a search of PROJ's database), and
the app runs every page in a new thread, so each page run paid that again.

``LonLatGeometry`` and ``BngGeometry`` say which of the two a single shapely
geometry is in. They are ``typing.NewType`` brands over shapely's
``BaseGeometry``, not ``Annotated`` aliases: mypy ignores ``Annotated`` metadata,
so an annotated alias would only be a comment, whereas a brand is checked. A
function that takes ``BngGeometry`` refuses a ``LonLatGeometry`` or an unbranded
geometry, so passing degrees where metres are expected fails the type check
instead of giving an area of 1e-8. Both are still ``BaseGeometry`` (every shapely
function accepts them) and cost nothing at run time (the brand is the identity
function). A value gets its brand where its CRS becomes known: from
:func:`geoms_to_bng` / :func:`geoms_to_lonlat`, from validation
(:func:`geo.shapes.clean_shape`), or by calling the brand on the result of a
shapely operation on branded inputs (shapely's own types return plain
``BaseGeometry``). Arrays of geometries stay ``np.ndarray``: a brand cannot ride
on array elements, so array functions say their CRS in the name (``*_bng``) and
docstring.
"""

from __future__ import annotations

import os
import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any, NewType, TypeVar, overload

import numpy as np
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

WGS84 = "EPSG:4326"
BNG = "EPSG:27700"

LonLatGeometry = NewType("LonLatGeometry", BaseGeometry)
"""A shapely geometry in lon/lat degrees (EPSG:4326, x = longitude)."""

BngGeometry = NewType("BngGeometry", BaseGeometry)
"""A shapely geometry in British National Grid metres (EPSG:27700)."""

_Branded = TypeVar("_Branded", LonLatGeometry, BngGeometry)


@cache
def _transformer(src: str, dst: str) -> Transformer:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return Transformer.from_crs(src, dst, always_xy=True)


#: (process id, pool): a forked child starts a pool of its own (threads do not survive fork)
_pool: tuple[int, ThreadPoolExecutor] | None = None
_pool_lock = threading.Lock()


def _run(src: str, dst: str, x: Any, y: Any) -> tuple[Any, Any]:
    """``_transformer(src, dst).transform(x, y)`` on this module's long-lived threads,
    which keep their PROJ transformers: one per core (at most 8), as many as callers
    that reproject in slices in parallel use (PROJ releases the GIL)."""
    global _pool
    pool = _pool
    if pool is None or pool[0] != os.getpid():
        with _pool_lock:
            if _pool is None or _pool[0] != os.getpid():
                workers = min(os.cpu_count() or 1, 8)
                _pool = (os.getpid(), ThreadPoolExecutor(workers, thread_name_prefix="crs"))
            pool = _pool
    return pool[1].submit(_transformer(src, dst).transform, x, y).result()


def lonlat_to_bng(
    lon: np.ndarray | float, lat: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat degrees (EPSG:4326) to easting/northing metres (EPSG:27700)."""
    x, y = _run(WGS84, BNG, np.asarray(lon, float), np.asarray(lat, float))
    return np.asarray(x), np.asarray(y)


def bng_to_lonlat(x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Easting/northing metres (EPSG:27700) to lon/lat degrees (EPSG:4326)."""
    lon, lat = _run(BNG, WGS84, np.asarray(x, float), np.asarray(y, float))
    return np.asarray(lon), np.asarray(lat)


def _reproject(geoms: BaseGeometry | np.ndarray, src: str, dst: str,
               brand: Callable[[BaseGeometry], _Branded]) -> _Branded | np.ndarray:
    """Move every vertex from ``src`` to ``dst``; one geometry gets ``dst``'s brand."""
    out = shapely.transform(geoms,
                            lambda xy: np.column_stack(_run(src, dst, xy[:, 0], xy[:, 1])))
    return brand(out) if isinstance(out, BaseGeometry) else out


@overload
def geoms_to_bng(geoms: LonLatGeometry) -> BngGeometry: ...
@overload
def geoms_to_bng(geoms: np.ndarray) -> np.ndarray: ...
def geoms_to_bng(geoms: LonLatGeometry | np.ndarray) -> BngGeometry | np.ndarray:
    """Shapely geometries in lon/lat to British National Grid (vectorised).

    One geometry (a :data:`LonLatGeometry`, returned as a :data:`BngGeometry`) or an
    object array of them (returned as an array: arrays carry no brand).
    """
    return _reproject(geoms, WGS84, BNG, BngGeometry)


def decoded_to_bng(geoms: np.ndarray) -> np.ndarray:
    """Lon/lat geometries just decoded (e.g. by ``shapely.from_wkb``) moved to British
    National Grid *in place*, and returned.

    Same vertices as :func:`geoms_to_bng` without copying every geometry first, which
    is half its time on tens of thousands of small outlines. Only for an array whose
    geometries nothing else holds: they are changed.
    """
    if not len(geoms):
        return geoms
    xy = shapely.get_coordinates(geoms)
    x, y = _run(WGS84, BNG, xy[:, 0], xy[:, 1])
    return shapely.set_coordinates(geoms, np.column_stack([x, y]))


@overload
def geoms_to_lonlat(geoms: BngGeometry) -> LonLatGeometry: ...
@overload
def geoms_to_lonlat(geoms: np.ndarray) -> np.ndarray: ...
def geoms_to_lonlat(geoms: BngGeometry | np.ndarray) -> LonLatGeometry | np.ndarray:
    """The inverse of :func:`geoms_to_bng`: BNG shapes back to lon/lat for the map and files."""
    return _reproject(geoms, BNG, WGS84, LonLatGeometry)


def frame_to_bng(frame: Any) -> np.ndarray:
    """The geometries of a GeoSeries or GeoDataFrame that has a CRS, in BNG, as an array.

    Lon/lat ones move on this module's threads (:func:`geoms_to_bng`, the same
    transformation geopandas would use); any other CRS goes through geopandas.
    """
    if frame.crs.equals(WGS84):
        return geoms_to_bng(np.asarray(frame.geometry.to_numpy(), dtype=object))
    return np.asarray(frame.to_crs(BNG).geometry.to_numpy(), dtype=object)
