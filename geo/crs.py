"""Coordinate reference systems: lon/lat at the edges, British National Grid inside.

``WGS84`` (EPSG:4326, lon/lat order) is what the map, GPS files and GeoJSON use.
``BNG`` (EPSG:27700, metres) is where every area, buffer, distance and grid is
computed. Without the OSTN15 grid file PROJ uses a Helmert transformation that is
accurate to about 2 m, which is far finer than any search sector; the warning
pyproj raises about it is silenced here on purpose.

Every transformation runs on one of the process's long-lived worker threads
(:func:`_transform`, :mod:`geo.workers`): pyproj gives each thread its own PROJ
transformer, made on the thread's first use (about 20 ms per direction, a search
of PROJ's database), and the app runs every page in a new thread, so each page
run paid that again.

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

import warnings
from collections.abc import Callable
from functools import cache
from typing import Any, NewType, TypeVar, overload

import numpy as np
import pandas as pd
import shapely
from pyproj import Transformer
from shapely.geometry.base import BaseGeometry

from geo.workers import on_a_worker

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


def _transform(src: str, dst: str, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Coordinates from ``src`` to ``dst``, computed on one of a few long-lived threads.

    pyproj keeps its PROJ object per thread and builds it on a thread's first use:
    about 20 ms per direction. The app runs every page in a new thread, so doing
    the work there would pay that on nearly every page run; the process's worker
    threads (:mod:`geo.workers`) pay it once.
    """
    xx, yy = on_a_worker(_transformer(src, dst).transform, x, y)
    return np.asarray(xx), np.asarray(yy)


def lonlat_to_bng(
    lon: np.ndarray | float, lat: np.ndarray | float
) -> tuple[np.ndarray, np.ndarray]:
    """Lon/lat degrees (EPSG:4326) to easting/northing metres (EPSG:27700)."""
    return _transform(WGS84, BNG, np.asarray(lon, float), np.asarray(lat, float))


def bng_to_lonlat(x: np.ndarray | float, y: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """Easting/northing metres (EPSG:27700) to lon/lat degrees (EPSG:4326)."""
    return _transform(BNG, WGS84, np.asarray(x, float), np.asarray(y, float))


def _reproject(geoms: BaseGeometry | np.ndarray, src: str, dst: str,
               brand: Callable[[BaseGeometry], _Branded]) -> _Branded | np.ndarray:
    """Move every vertex from ``src`` to ``dst``; one geometry gets ``dst``'s brand."""
    out = shapely.transform(
        geoms, lambda xy: np.column_stack(_transform(src, dst, xy[:, 0], xy[:, 1]))
    )
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
    is half its time on tens of thousands of small outlines. Each distinct vertex is
    transformed once: every ring repeats its first vertex, and a case's outlines share
    corners (grids, neighbours' common edges), so PROJ, the slow part, sees a fifth to
    four fifths of the vertices. Only for an array whose geometries nothing else holds:
    they are changed.
    """
    if not len(geoms):
        return geoms
    xy = shapely.get_coordinates(geoms)
    # one complex number per vertex: equal exactly where both coordinates are
    codes, distinct = pd.factorize(xy.view(np.complex128).ravel(), use_na_sentinel=False)
    x, y = _transform(WGS84, BNG, distinct.real, distinct.imag)
    return shapely.set_coordinates(geoms, np.column_stack([x, y])[codes])


@overload
def geoms_to_lonlat(geoms: BngGeometry) -> LonLatGeometry: ...
@overload
def geoms_to_lonlat(geoms: np.ndarray) -> np.ndarray: ...
def geoms_to_lonlat(geoms: BngGeometry | np.ndarray) -> LonLatGeometry | np.ndarray:
    """The inverse of :func:`geoms_to_bng`: BNG shapes back to lon/lat for the map and files."""
    return _reproject(geoms, BNG, WGS84, LonLatGeometry)


def frame_to_bng(frame: Any) -> np.ndarray:
    """The geometries of a GeoSeries or GeoDataFrame that has a CRS, in BNG, as an array.

    Lon/lat ones move on the worker threads (:func:`geoms_to_bng`, the same
    transformation geopandas would use); any other CRS goes through geopandas.
    """
    if frame.crs.equals(WGS84):
        return geoms_to_bng(np.asarray(frame.geometry.to_numpy(), dtype=object))
    return np.asarray(frame.to_crs(BNG).geometry.to_numpy(), dtype=object)
