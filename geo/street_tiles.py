"""Streets cut into small map tiles, so a map without background tiles can show them.

A map at street zoom shows a kilometre or two of ground; sending a whole extract
(Greater London is hundreds of megabytes) would be absurd. The loaded streets are
cut into the squares of the Web-Mercator tile grid at :data:`TILE_ZOOM` (about
1.6 km × 1.0 km in London), simplified to :data:`SIMPLIFY_M` (invisible at street
zoom), and written as small GeoJSON collections; the browser fetches only the
tiles its view meets (see :mod:`layers.streets`).

Each tile is a FeatureCollection of (Multi)LineStrings in EPSG:4326 with 5-decimal
coordinates (about a metre) and short properties: ``n`` the name (may be empty),
``k`` the kind (``road``, ``path``, ``rail``, ``water``), ``m`` 1 for a major line.
Lines of one name and kind in a tile are one feature. Lines below ground (the
Tube) are left out: they are not streets anyone walks. A tile is bounded in size
(:data:`MAX_TILE_BYTES`): past it, the least useful lines (unnamed paths first)
are dropped and counted.

Vectorised: one STRtree query of every line against every tile box, one
intersection of the pairs. Lon/lat in and out; simplification in EPSG:27700.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import geoms_to_lonlat
from geo.polygons import geoms_bng

#: Zoom level of the tile grid the streets are cut into.
TILE_ZOOM: int = 14
#: Lines are simplified to within this distance, m (a pixel is about 2.4 m at zoom 16).
SIMPLIFY_M: float = 1.5
#: Coordinates are written to this many decimals of a degree (about 1.1 m of latitude).
DECIMALS: int = 5
#: Most bytes of one tile file; the least useful lines are dropped past it.
MAX_TILE_BYTES: int = 250_000

#: Which lines are dropped first from an over-full tile (higher rank kept longer).
_RANK = {"water": 5, "rail": 5, "road": 3, "path": 1}


@dataclass(frozen=True)
class StreetTile:
    """One tile: its grid position, its GeoJSON text and how many lines were dropped."""

    x: int
    y: int
    body: str
    features: int
    dropped: int


def tile_xy(lon: np.ndarray | float, lat: np.ndarray | float,
            zoom: int = TILE_ZOOM) -> tuple[np.ndarray, np.ndarray]:
    """Web-Mercator tile column and row holding lon/lat points (the slippy-map grid)."""
    n = 2.0 ** zoom
    lat_r = np.radians(np.clip(np.asarray(lat, float), -85.05, 85.05))
    x = np.floor((np.asarray(lon, float) + 180.0) / 360.0 * n)
    y = np.floor((1.0 - np.log(np.tan(lat_r) + 1.0 / np.cos(lat_r)) / math.pi) / 2.0 * n)
    return x.astype(int), y.astype(int)


def tile_bounds(x: np.ndarray | int, y: np.ndarray | int, zoom: int = TILE_ZOOM
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """West, south, east, north (degrees) of tiles ``x``/``y`` at ``zoom``."""
    n = 2.0 ** zoom
    xs, ys = np.asarray(x, float), np.asarray(y, float)

    def lat(row: np.ndarray) -> np.ndarray:
        return np.degrees(np.arctan(np.sinh(math.pi * (1.0 - 2.0 * row / n))))

    return xs / n * 360.0 - 180.0, lat(ys + 1.0), (xs + 1.0) / n * 360.0 - 180.0, lat(ys)


def street_tiles(lines: gpd.GeoDataFrame, *, zoom: int = TILE_ZOOM,
                 tolerance_m: float = SIMPLIFY_M,
                 max_bytes: int = MAX_TILE_BYTES) -> list[StreetTile]:
    """The streets (as :func:`geo.read_streets` returns) cut into tiles at ``zoom``.

    Only tiles holding at least one line are returned, west to east then north to south.
    """
    if not len(lines):
        return []
    ok = lines["ground"].fillna(True).astype(bool).to_numpy() if "ground" in lines else \
        np.ones(len(lines), bool)
    frame = lines[ok]
    geoms = shapely.simplify(geoms_bng(frame), tolerance_m, preserve_topology=False)
    keep = ~shapely.is_empty(geoms) & ~shapely.is_missing(geoms)
    frame, geoms = frame[keep], geoms_to_lonlat(np.asarray(geoms[keep], dtype=object))
    if not len(frame):
        return []
    west, south, east, north = shapely.total_bounds(geoms)
    x0, y0 = tile_xy(west, north, zoom)
    x1, y1 = tile_xy(east, south, zoom)
    grid_x, grid_y = np.meshgrid(np.arange(int(x0), int(x1) + 1),
                                 np.arange(int(y0), int(y1) + 1))
    tx, ty = grid_x.ravel(), grid_y.ravel()
    boxes = shapely.box(*tile_bounds(tx, ty, zoom))
    b, g = shapely.STRtree(geoms).query(boxes, predicate="intersects")
    parts, owner = shapely.get_parts(shapely.intersection(geoms[g], boxes[b]),
                                     return_index=True)
    line = shapely.get_dimensions(parts) == 1
    parts, pair = parts[line], owner[line]
    name = frame["name"].fillna("").astype(str).str.slice(0, 120).to_numpy(object)[g[pair]]
    kind = frame["kind"].astype(str).to_numpy(object)[g[pair]]
    major = frame["major"].fillna(False).astype(bool).to_numpy()[g[pair]].astype(int)
    tile = b[pair]
    coords, which = shapely.get_coordinates(parts, return_index=True)
    coords = np.round(coords, DECIMALS)
    split = np.flatnonzero(np.diff(which)) + 1
    paths = [c.tolist() for c in np.split(coords, split)] if len(coords) else []
    table = pd.DataFrame({"tile": tile, "n": name, "k": kind, "m": major,
                          "rank": (pd.Series(kind).map(_RANK).fillna(0).to_numpy(int)
                                   + (name != "") + 2 * major),
                          "path": paths})
    out: list[StreetTile] = []
    for t, rows in table.groupby("tile", sort=True):
        feats = []
        for key, grp in rows.groupby(["n", "k", "m", "rank"], sort=False):
            n, k, m, rank = cast(tuple[str, str, int, int], key)
            geometry = ({"type": "LineString", "coordinates": grp["path"].iloc[0]}
                        if len(grp) == 1 else
                        {"type": "MultiLineString", "coordinates": grp["path"].tolist()})
            feats.append((int(rank), {"type": "Feature", "geometry": geometry,
                                      "properties": {"n": n, "k": k, "m": int(m)}}))
        feats.sort(key=lambda f: -f[0])
        body, kept = _bounded(feats, max_bytes)
        k_t = int(str(t))
        out.append(StreetTile(int(tx[k_t]), int(ty[k_t]), body, kept, len(feats) - kept))
    out.sort(key=lambda s: (s.y, s.x))
    return out


def _bounded(feats: list[tuple[int, dict[str, Any]]], max_bytes: int) -> tuple[str, int]:
    """The FeatureCollection text of the most useful features that fit in ``max_bytes``."""
    # <, > and & written as \u escapes (still the same JSON strings): a name can never
    # read as markup even if the text were put into a page by mistake
    texts = [json.dumps(f, separators=(",", ":"), ensure_ascii=True).replace(
        "<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026") for _, f in feats]
    sizes = np.cumsum([len(s) + 1 for s in texts])
    kept = int(np.searchsorted(sizes, max_bytes - 64, side="right"))
    return '{"type":"FeatureCollection","features":[' + ",".join(texts[:kept]) + "]}", kept


__all__ = ["DECIMALS", "MAX_TILE_BYTES", "SIMPLIFY_M", "TILE_ZOOM", "StreetTile",
           "street_tiles", "tile_bounds", "tile_xy"]
