"""London boundary layers and "who is responsible here?".

Five layers are built by ``data/boundaries/build.py`` and read from
``settings.BOUNDARIES_DIR``:

``borough``
    the 33 London local authorities (32 boroughs + City of London), codes
    E09000001-E09000033, **tidal Thames included** (dissolved from the 2018 wards,
    which run to the middle of the river). Columns ``code``, ``name``, ``bcu``,
    ``bcu_code`` (``None`` for the City).
``bcu``
    the Met's 12 Basic Command Units (2018-19 structure), dissolved from boroughs.
    ``code`` is a Wayhome identifier such as ``central-west`` (the Met publishes no
    code list we could cite); ``name``; ``borough_codes`` (``;``-separated).
``force``
    seven police force areas: Metropolitan Police Service, City of London Police and
    the five neighbours, from the detailed data.police.uk outlines (about 2019).
    ``code`` is the ONS PFA code (E23...), ``name`` the name the police use,
    ``short_name``, ``force_id`` (data.police.uk id), ``ons_name``.
``ward``
    657 wards, **2018 boundaries** (before the May 2022 re-warding), with the 25
    City wards. ``code`` (E05...), ``name``, ``borough_code``, ``borough``.
``neighbourhood``
    658 Met Safer Neighbourhood areas, March 2019: ``code`` (data.police.uk id),
    ``name`` (the ward name where the id is a ward code), ``id_type``,
    ``borough_code``.

:func:`load_layer` gives full resolution in EPSG:27700 (metres) for every metric
or point-in-polygon job; :func:`display_layer` gives the simplified EPSG:4326
GeoJSON the map draws (every line within 5 m of full resolution).
"""

from __future__ import annotations

import json
import numbers
import threading
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import BNG, lonlat_to_bng
from geo.errors import InputError
from vocab import settings
from vocab.boundary_layers import LAYER_NAMES

#: Layer names accepted by :func:`load_layer`, :func:`display_layer` and friends.
LAYERS: tuple[str, ...] = LAYER_NAMES

#: Columns of :func:`locate_many` (and keys of :func:`locate`), in this order.
LOCATE_COLUMNS: tuple[str, ...] = ("borough", "borough_code", "bcu", "force", "ward")
#: Extra columns of ``locate_many(..., codes=True)``.
CODE_COLUMNS: tuple[str, ...] = ("bcu_code", "force_code", "ward_code")

CITY_OF_LONDON = "E09000001"
_LONDON_FORCE_IDS = ("metropolitan", "city-of-london")

# GEOS builds a prepared polygon's index lazily on first use; keep queries serial.
_QUERY_LOCK = threading.Lock()


def _boundaries_dir() -> Path:
    return Path(settings.BOUNDARIES_DIR)


def _check_name(name: str) -> str:
    if name not in LAYERS:
        raise InputError(
            f"There is no boundary layer called {name!r}. Choose one of: {', '.join(LAYERS)}."
        )
    return name


@cache
def _metadata() -> dict[str, Any]:
    meta: dict[str, Any] = json.loads(
        (_boundaries_dir() / "layers.json").read_text(encoding="utf-8"))
    return meta


@cache
def load_layer(name: str) -> gpd.GeoDataFrame:
    """Full-resolution layer ``name`` in EPSG:27700 (metres), sorted by ``code``.

    Cached: every caller gets the same GeoDataFrame, so never modify it in place
    (``.copy()`` first). Its spatial index is built on loading.
    """
    _check_name(name)
    gdf = gpd.read_parquet(_boundaries_dir() / "full" / f"{name}.parquet")
    if gdf.crs is None or gdf.crs.to_epsg() != 27700:
        gdf = gdf.set_crs(BNG, allow_override=True)
    gdf = gdf.astype({c: object for c in gdf.columns if c != "geometry"})
    gdf = gdf.where(gdf.notna(), None)  # missing text is None, not NaN
    gdf = gpd.GeoDataFrame(gdf, geometry="geometry", crs=BNG)
    shapely.prepare(gdf.geometry.values)
    _ = gdf.sindex
    return gdf


def unit_outlines(name: str, codes: Sequence[str]) -> gpd.GeoDataFrame:
    """Full-resolution outlines of some units of a layer, in lon/lat (EPSG:4326).

    Columns ``code``, ``name``, ``geometry``, in the order of ``codes``; unknown
    codes are left out. For making sectors from wards, neighbourhoods or a borough.
    """
    layer = load_layer(name)
    picked = layer[layer["code"].astype(str).isin([str(c) for c in codes])]
    order = {str(c): i for i, c in enumerate(codes)}
    picked = picked.iloc[np.argsort([order[str(c)] for c in picked["code"]], kind="stable")]
    return picked[["code", "name", "geometry"]].to_crs(4326).reset_index(drop=True)


def display_path(name: str) -> Path:
    """Path of the display GeoJSON file of layer ``name`` (for serving it as a file)."""
    path: Path = _boundaries_dir() / _metadata()["layers"][_check_name(name)]["display_file"]
    return path


@cache
def _display_text(name: str) -> str:
    return display_path(name).read_text(encoding="utf-8")


def display_layer(name: str) -> dict[str, Any]:
    """Simplified layer ``name`` for the map: a GeoJSON FeatureCollection in EPSG:4326.

    Every feature has properties ``kind`` (the layer name), ``code`` and ``name``
    (plus the layer's own extras: ``bcu`` on boroughs, ``borough_code`` on wards,
    ``short_name``/``clipped`` on forces...). Boroughs, wards and neighbourhoods are
    Polygons/MultiPolygons; BCUs and forces are outlines (MultiLineString) whose
    lines lie exactly on the borough edges (BCUs) or on the police outline
    (forces; neighbours clipped to ~12 km around London, clip edges not drawn).
    Coordinates have 5 decimals (~1 m); lines are within 5 m of full resolution.
    A fresh dict is returned on every call, so it may be modified.
    """
    collection: dict[str, Any] = json.loads(_display_text(_check_name(name)))
    return collection


def _line_parts(geom: Any) -> Any:
    """The line parts of ``geom`` merged into one (Multi)LineString, or None if none."""
    parts = shapely.get_parts(geom)
    parts = parts[shapely.get_type_id(parts) == 1]  # LineStrings only (drop touch points)
    parts = parts[shapely.length(parts) > 0]
    if not len(parts):
        return None
    return shapely.line_merge(shapely.multilinestrings(parts))


@cache
def _display_edges_text(name: str) -> str:
    features = display_layer(name)["features"]
    geoms = np.array(shapely.from_geojson([json.dumps(f["geometry"]) for f in features]))
    props = [f.get("properties") or {} for f in features]
    # every pair of units whose outlines meet, each pair once (vectorised)
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = [_line_parts(g) for g in shapely.intersection(geoms[left], geoms[right])]
    out = []
    for i, j, line in zip(left, right, shared, strict=True):
        if line is None:
            continue
        a, b = props[i], props[j]
        out.append({"type": "Feature", "geometry": line, "properties": {
            "kind": a.get("kind", name),
            "code": f"{a.get('code')} / {b.get('code')}",
            "name": f"{a.get('name')} / {b.get('name')}",
        }})
    for i, geom in enumerate(geoms):
        mine = [line for k, line in enumerate(shared)
                if line is not None and i in (left[k], right[k])]
        own = _line_parts(shapely.difference(geom, shapely.union_all(mine)) if mine else geom)
        if own is not None:
            out.append({"type": "Feature", "geometry": own, "properties": {
                k: props[i].get(k) for k in ("kind", "code", "name")
            }})
    for f in out:
        f["geometry"] = json.loads(shapely.to_geojson(shapely.set_precision(f["geometry"], 1e-5)))
    return json.dumps({"type": "FeatureCollection", "features": out})


def display_edges(name: str) -> dict[str, Any]:
    """An outline layer (``bcu``, ``force``) with every stretch of line drawn once.

    :func:`display_layer` gives one outline per unit, so the line between two
    BCUs is in both features; drawn twice with a dash pattern the copies fall
    out of step and the line looks solid. Here a line on the edge of one unit
    carries that unit's ``code`` and ``name``; a line between two units carries
    both, ``"Central East / South Area"``. Same EPSG:4326 coordinates as the
    display file (5 decimals), nothing simplified again. A fresh dict per call.
    """
    if _check_name(name) not in ("bcu", "force"):
        raise InputError(f"{name!r} is not an outline layer: use 'bcu' or 'force'.")
    collection: dict[str, Any] = json.loads(_display_edges_text(name))
    return collection


def layer_info(name: str) -> dict[str, Any]:
    """What ``layers.json`` records for a layer: title, vintage, source, licence,
    attribution, feature and vertex counts, display size and measured accuracy."""
    return dict(_metadata()["layers"][_check_name(name)])


def layer_vintage(name: str) -> str:
    """Date of the boundaries in layer ``name``, e.g. ``"2018"`` for wards."""
    return str(layer_info(name)["vintage"])


def layer_attribution(name: str) -> str:
    """Credit line(s) the Open Government Licence requires for layer ``name``."""
    return str(layer_info(name)["attribution"])


def attribution(names: Sequence[str] = LAYERS) -> str:
    """Credit for several layers at once, each sentence once (for a map footer)."""
    seen: list[str] = []
    for name in names:
        for sentence in layer_attribution(name).replace("). ", ").|").split("|"):
            for part in sentence.split(". "):
                part = part.strip().rstrip(".") + "."
                if part != "." and part not in seen:
                    seen.append(part)
    return " ".join(seen)


# ---------------------------------------------------------------------------- locate


def _as_coords(values: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"The {what} values must be numbers in decimal degrees.") from None
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1:
        raise InputError(f"Give the {what} values as a flat list of numbers.")
    return arr


def _check_coords(lat: np.ndarray, lon: np.ndarray) -> None:
    if lat.shape != lon.shape:
        raise InputError(
            f"There are {lat.size} latitudes but {lon.size} longitudes; give one of each per point."
        )
    bad = ~(np.isfinite(lat) & np.isfinite(lon) & (np.abs(lat) <= 90) & (np.abs(lon) <= 180))
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        many = f" ({int(bad.sum())} points)" if bad.sum() > 1 else ""
        raise InputError(
            f"Point {k + 1} ({lat[k]}, {lon[k]}) is not a valid latitude, longitude{many}: "
            "latitude must be between -90 and 90 and longitude between -180 and 180."
        )


def _hits(layer: gpd.GeoDataFrame, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(point index, feature index) for every point on or inside a feature.

    The points go into a throw-away STRtree and the (prepared, cached) polygons are
    the query geometries, which is several times faster than testing each point
    against unprepared polygons.
    """
    tree = shapely.STRtree(points)
    with _QUERY_LOCK:
        feat, pt = tree.query(layer.geometry.values, predicate="intersects")
    return pt, feat


def _first_hit(layer: gpd.GeoDataFrame, points: np.ndarray) -> np.ndarray:
    """Index of the first feature (in code order) holding each point, -1 for none."""
    pt, feat = _hits(layer, points)
    out = np.full(len(points), -1, dtype=np.int64)
    order = np.lexsort((feat, pt))
    pt, feat = pt[order], feat[order]
    first = np.r_[True, pt[1:] != pt[:-1]] if len(pt) else np.zeros(0, dtype=bool)
    out[pt[first]] = feat[first]
    return out


def _take(values: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """values[idx] with None where idx == -1."""
    out = np.full(len(idx), None, dtype=object)
    ok = idx >= 0
    out[ok] = np.asarray(values, dtype=object)[idx[ok]]
    return out


def _choose_force(forces: gpd.GeoDataFrame, points: np.ndarray,
                  borough_code: np.ndarray) -> np.ndarray:
    """Force index per point, -1 for none.

    The data.police.uk outlines are used as they are; where they overlap (they are
    not an exact coverage; the overlaps are a few hectares along force edges) or
    leave a gap inside London, the borough decides: in the City the City of London
    Police, elsewhere in London the Met (the legal rule: the Metropolitan Police
    District is Greater London without the City), outside London a neighbour.
    """
    n, k = len(points), len(forces)
    pt, feat = _hits(forces, points)
    hit = np.zeros((n, k), dtype=bool)
    hit[pt, feat] = True
    force_ids = forces["force_id"].to_numpy()
    is_london_force = np.isin(force_ids, _LONDON_FORCE_IDS)
    met = int(np.flatnonzero(force_ids == "metropolitan")[0])
    city = int(np.flatnonzero(force_ids == "city-of-london")[0])
    in_london = np.array([c is not None for c in borough_code], dtype=bool)
    expected = np.where(borough_code == CITY_OF_LONDON, city, np.where(in_london, met, -1))
    # score: 3 for the force the borough implies, 2 for a force on the right side of the
    # London boundary, 1 for any other force holding the point, 0 if it does not hold it
    score = hit * np.where(is_london_force[None, :] == in_london[:, None], 2, 1)
    rows = np.flatnonzero(expected >= 0)
    score[rows, expected[rows]] = np.where(hit[rows, expected[rows]], 3, 0)
    best = np.argmax(score, axis=1)
    chosen = np.where(score[np.arange(n), best] > 0, best, -1)
    return np.where((chosen < 0) & (expected >= 0), expected, chosen)


def locate_many(lats: Sequence[float] | np.ndarray, lons: Sequence[float] | np.ndarray,
                *, codes: bool = False) -> pd.DataFrame:
    """Who is responsible at each point: one row per (lat, lon), EPSG:4326 degrees.

    Columns ``borough``, ``borough_code``, ``bcu``, ``force``, ``ward`` (and with
    ``codes=True`` also ``bcu_code``, ``force_code``, ``ward_code``); ``None`` where
    a layer has no answer (outside London there is no borough, BCU or ward; the
    City is in no BCU; far away there is nothing). The tidal Thames belongs to the
    borough whose ward covers it. Tests run in EPSG:27700 against full resolution.
    Raises :class:`InputError` for non-numbers, NaN/inf or impossible degrees.
    """
    lat = _as_coords(lats, "latitude")
    lon = _as_coords(lons, "longitude")
    _check_coords(lat, lon)
    x, y = lonlat_to_bng(lon, lat)
    # arrays of coordinates make an array of points; the stubs also allow one Point
    points = cast(np.ndarray, shapely.points(x, y))
    points[~(np.isfinite(x) & np.isfinite(y))] = None  # far outside the grid: no answer

    wards = load_layer("ward")
    boroughs = load_layer("borough")
    forces = load_layer("force")
    w = _first_hit(wards, points)
    borough_code = _take(wards["borough_code"].to_numpy(), w)
    b_index = pd.Index(boroughs["code"]).get_indexer(pd.Series(borough_code, dtype=object))
    b_index[pd.isna(borough_code)] = -1
    f = _choose_force(forces, points, borough_code)

    data = {
        "borough": _take(boroughs["name"].to_numpy(), b_index),
        "borough_code": borough_code,
        "bcu": _take(boroughs["bcu"].to_numpy(), b_index),
        "force": _take(forces["name"].to_numpy(), f),
        "ward": _take(wards["name"].to_numpy(), w),
    }
    if codes:
        data["bcu_code"] = _take(boroughs["bcu_code"].to_numpy(), b_index)
        data["force_code"] = _take(forces["code"].to_numpy(), f)
        data["ward_code"] = _take(wards["code"].to_numpy(), w)
    return pd.DataFrame({k: pd.Series(v, dtype=object) for k, v in data.items()})


def locate(lat: float, lon: float) -> dict[str, str | None]:
    """Who is responsible at one point (lat, lon in EPSG:4326 degrees, in that order).

    Returns ``{"borough", "borough_code", "bcu", "force", "ward"}``, each a name
    (``borough_code`` an E09 code) or ``None`` where that layer has no answer. A
    point in Watford has a force but no borough; a point in the City has no BCU;
    a point at sea or in Scotland gets all ``None``. Non-numbers, NaN/inf or
    impossible degrees raise :class:`InputError`.
    """
    for value, what in ((lat, "latitude"), (lon, "longitude")):
        if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
            raise InputError(f"The {what} must be a number in decimal degrees, not {value!r}.")
    row = locate_many([lat], [lon]).iloc[0]
    return {k: row[k] for k in LOCATE_COLUMNS}
