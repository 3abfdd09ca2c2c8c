"""Whose ground is this sector on? Shares of each sector per borough, BCU and force.

A London Assembly inquiry found the police response "disjointed when a child
goes missing across police service boundaries". Every sector is therefore
tagged with the boroughs, Met Basic Command Units (BCUs) and police forces it
touches and the share of its area in each. For every layer the shares of a
sector sum to 1: ground that lies in no polygon of the layer (the sea, or
outside the BCUs, which cover the Met only) is reported as an ``"outside"``
share. Boroughs include the tidal Thames, so the river is inside.

Layers whose units overlap each other (sources disagreeing along an edge) are
made a partition first: the smaller unit keeps the overlap, as in grids cut by
:func:`cutting_areas`, so tags and cut grids agree.

A sector *straddles* when it lies in more than one BCU or more than one force,
each by more than a small tolerance (:data:`STRADDLE_SHARE` of its area and
:data:`STRADDLE_M2`), so boundaries digitised a metre apart do not flag it.

Everything is vectorised: the layers are cut into 2 km pieces once
(:func:`geo.shapes.subdivide`), sector/piece pairs come from an STRtree, and only
sectors that cross a piece's edge are intersected. Areas are m² in EPSG:27700.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.boundaries import load_layer
from geo.crs import BNG, LonLatGeometry, geoms_to_bng, lonlat_to_bng
from geo.polygons import geoms_bng, polygonal_part
from geo.shapes import make_partition, repair, subdivide
from vocab.boundary_layers import SECTOR_LAYERS

#: Layers a sector is tagged with, in the names :func:`geo.load_layer` knows.
LAYERS: tuple[str, ...] = SECTOR_LAYERS
#: Name and code of the share of a sector that lies in no polygon of a layer.
OUTSIDE: str = "outside"
#: A sector straddles a boundary only if each side holds more than this share ...
STRADDLE_SHARE: float = 0.01
#: ... and more than this many m².
STRADDLE_M2: float = 50.0
#: Side of the square pieces the layers are cut into for fast intersection, m.
TILE_M: float = 2_000.0

SHARE_COLUMNS = ["sector", "layer", "code", "name", "area_m2", "share"]


@dataclass(frozen=True)
class _Layer:
    codes: np.ndarray
    names: np.ndarray
    pieces: np.ndarray  # BNG pieces of the layer's polygons, prepared
    owner: np.ndarray  # polygon each piece belongs to
    tree: shapely.STRtree


def _prepare(gdf: gpd.GeoDataFrame) -> _Layer:
    geoms = make_partition(repair(geoms_bng(gdf)))
    codes = gdf["code"].astype(str).to_numpy() if "code" in gdf else np.asarray(gdf.index, str)
    names = gdf["name"].astype(str).to_numpy() if "name" in gdf else codes
    pieces, owner = subdivide(geoms, TILE_M)
    shapely.prepare(pieces)
    return _Layer(codes, names, pieces, owner, shapely.STRtree(pieces))


_PREPARING = threading.Lock()


def _default_layer(name: str) -> _Layer:
    """The prepared boundary layer, built once per process.

    Built under a lock: several threads preparing it at once (a fresh server's first
    concurrent saves) crashed inside GEOS while sharing the half-built trees.
    """
    with _PREPARING:
        return _prepared_layer(name)


@cache
def _prepared_layer(name: str) -> _Layer:
    return _prepare(load_layer(name))


def _as_bng(sectors: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[LonLatGeometry] | LonLatGeometry
            ) -> tuple[np.ndarray, np.ndarray]:
    """(BNG geometries, sector labels) from a frame in any CRS or lon/lat shapes."""
    if isinstance(sectors, BaseGeometry):
        return repair(np.array([geoms_to_bng(sectors)], dtype=object)), np.array([0])
    if isinstance(sectors, gpd.GeoDataFrame | gpd.GeoSeries):
        labels = (sectors["id"].to_numpy() if isinstance(sectors, gpd.GeoDataFrame)
                  and "id" in sectors.columns else np.asarray(sectors.index))
        return repair(geoms_bng(sectors)), labels
    geoms = np.asarray(sectors, dtype=object)
    return repair(geoms_to_bng(geoms)), np.arange(len(geoms))


class Jurisdictions:
    """Borough, BCU and force layers prepared for tagging many sectors.

    ``layers`` maps a layer name to a GeoDataFrame with ``code`` and ``name``
    columns (any CRS); by default the real layers from :func:`geo.load_layer`
    (prepared once per process). The frames are not modified.
    """

    def __init__(self, layers: Mapping[str, gpd.GeoDataFrame] | None = None) -> None:
        if layers is None:
            self._layers = {name: _default_layer(name) for name in LAYERS}
        else:
            self._layers = {name: _prepare(gdf) for name, gdf in layers.items()}

    @property
    def names(self) -> list[str]:
        return list(self._layers)

    def shares(self, sectors: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[LonLatGeometry]
               | LonLatGeometry) -> pd.DataFrame:
        """Long table: one row per sector, layer and unit the sector touches.

        Columns ``sector`` (the sector's ``id``, else its index), ``layer``,
        ``code``, ``name``, ``area_m2`` and ``share`` (0–1). Per sector and layer
        the shares sum to 1, with an ``"outside"`` row for ground in no unit.
        """
        return self._shares_bng(*_as_bng(sectors))

    def _shares_bng(self, geoms: np.ndarray, labels: np.ndarray) -> pd.DataFrame:
        frames = [self._layer_shares(name, layer, geoms, labels)
                  for name, layer in self._layers.items()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(
            columns=SHARE_COLUMNS)

    def _layer_shares(self, name: str, layer: _Layer, geoms: np.ndarray, labels: np.ndarray
                      ) -> pd.DataFrame:
        n = len(geoms)
        total = shapely.area(geoms)
        sec, piece = layer.tree.query(geoms, predicate="intersects")
        inside = shapely.contains_properly(layer.pieces[piece], geoms[sec])
        area = total[sec].copy()
        edge = ~inside
        area[edge] = shapely.area(shapely.intersection(geoms[sec[edge]], layer.pieces[piece[edge]]))
        unit = layer.owner[piece]
        # sum the pieces per (sector, unit)
        key = sec.astype(np.int64) * (len(layer.codes) + 1) + unit
        ukey, inv = np.unique(key, return_inverse=True)
        area = np.bincount(inv, weights=area, minlength=len(ukey))
        sec, unit = ukey // (len(layer.codes) + 1), ukey % (len(layer.codes) + 1)
        keep = area > 0
        sec, unit, area = sec[keep], unit[keep], area[keep]
        covered = np.bincount(sec, weights=area, minlength=n)
        # if the layer's polygons overlap a little, scale down so shares sum to 1
        scale = np.where(covered > total, total / np.where(covered > 0, covered, 1), 1.0)
        area = area * scale[sec]
        outside = np.clip(total - np.minimum(covered, total), 0, None)
        outside[outside <= np.maximum(total * 1e-9, 1e-6)] = 0.0
        out_sec = np.flatnonzero(outside > 0)
        all_sec = np.concatenate([sec, out_sec])
        all_area = np.concatenate([area, outside[out_sec]])
        safe_total = np.where(total > 0, total, 1)
        frame = pd.DataFrame({
            "sector": labels[all_sec],
            "layer": name,
            "code": np.concatenate([layer.codes[unit], np.full(len(out_sec), OUTSIDE, object)]),
            "name": np.concatenate([layer.names[unit], np.full(len(out_sec), OUTSIDE, object)]),
            "area_m2": all_area,
            "share": all_area / safe_total[all_sec],
            "_pos": all_sec,
        })
        frame = frame.sort_values(["_pos", "area_m2"], ascending=[True, False], kind="stable")
        return frame.drop(columns="_pos").reset_index(drop=True)

    def tags(self, sectors: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[LonLatGeometry]
             | LonLatGeometry) -> pd.DataFrame:
        """One row per sector (same order): where it lies and whether it straddles.

        For each layer ``L``: ``L`` (code of the unit holding most of the sector,
        ``"outside"`` if none) and ``L_shares`` (dict code -> share, largest first).
        Then ``straddles_bcu``, ``straddles_force`` and ``straddles`` (either).
        """
        geoms, labels = _as_bng(sectors)
        long = self._shares_bng(geoms, np.arange(len(geoms)))
        out = pd.DataFrame({"sector": labels})
        total = shapely.area(geoms)
        for name in self._layers:
            rows = long[long["layer"] == name]
            pos = rows["sector"].to_numpy(dtype=int)
            shares: list[dict[str, float]] = [{} for _ in range(len(geoms))]
            for p, code, share in zip(pos, rows["code"], rows["share"], strict=True):
                shares[p][code] = float(share)
            main = [max(s, key=s.__getitem__) if s else OUTSIDE for s in shares]
            out[name] = main
            out[f"{name}_shares"] = pd.Series(shares, index=out.index, dtype=object)
            big = rows[(rows["code"] != OUTSIDE) & (rows["share"] > STRADDLE_SHARE)
                       & (rows["area_m2"] > STRADDLE_M2)]
            counts = np.bincount(big["sector"].to_numpy(dtype=int), minlength=len(geoms))
            out[f"straddles_{name}"] = counts > 1
        for name in ("bcu", "force"):
            if f"straddles_{name}" not in out:
                out[f"straddles_{name}"] = False
        out["straddles"] = out["straddles_bcu"] | out["straddles_force"]
        out["area_m2"] = total
        return out


def jurisdiction_shares(sectors: gpd.GeoDataFrame | gpd.GeoSeries | Sequence[LonLatGeometry]
                        | LonLatGeometry,
                        layers: Mapping[str, gpd.GeoDataFrame] | None = None) -> pd.DataFrame:
    """Shares of each sector's area per borough, BCU and force (long table).

    See :meth:`Jurisdictions.shares`. ``sectors``: GeoDataFrame/GeoSeries in any
    CRS (no CRS means lon/lat), a list of lon/lat shapes, or one lon/lat shape.
    """
    return Jurisdictions(layers).shares(sectors)


def cutting_areas(layers: Mapping[str, gpd.GeoDataFrame] | None = None) -> gpd.GeoDataFrame:
    """BCUs inside the Met plus every other force, as one layer to cut grids by.

    The Met's BCUs cover the Met only; the City of London Police and the
    neighbouring forces are added as whole units. Force lines win: ground of a
    BCU that another force (not the one holding most of the BCUs, the Met)
    claims is given to that force, because the BCU and force layers come from
    different sources and disagree by metres along London's edge. A grid cut by
    this layer never puts a cell in two forces or two BCUs. Columns ``code``,
    ``name``, ``layer``; EPSG:27700.
    """
    if layers is None:
        bcu, force = load_layer("bcu"), load_layer("force")
    else:
        bcu, force = layers["bcu"], layers["force"]
    bcu_g = make_partition(repair(geoms_bng(bcu)))
    force_g = make_partition(repair(geoms_bng(force)))
    all_bcu = shapely.union_all(bcu_g)
    home = int(np.argmax(shapely.area(shapely.intersection(force_g, all_bcu))))
    others = np.arange(len(force_g)) != home
    # BCU ground another force claims is that force's; the rest stays the BCU's
    claimed = shapely.union_all(force_g[others])
    clipped = polygonal_part(shapely.difference(bcu_g, claimed))
    keep_bcu = ~shapely.is_missing(clipped)
    return gpd.GeoDataFrame(
        {
            "code": np.concatenate([bcu["code"].astype(str).to_numpy()[keep_bcu],
                                    force["code"].astype(str).to_numpy()[others]]),
            "name": np.concatenate([bcu["name"].astype(str).to_numpy()[keep_bcu],
                                    force["name"].astype(str).to_numpy()[others]]),
            "layer": ["bcu"] * int(keep_bcu.sum()) + ["force"] * int(others.sum()),
        },
        geometry=np.concatenate([clipped[keep_bcu], force_g[others]]),
        crs=BNG,
    )


def unit_at(layer: str, lat: float, lon: float) -> str | None:
    """Code of the unit of ``layer`` (e.g. "ward", "neighbourhood") under a lon/lat point.

    For picking wards or neighbourhoods by clicking the map. None where the
    layer has no unit (outside London); the smallest unit wins where sources
    overlap along an edge.
    """
    gdf = load_layer(layer)
    point = shapely.Point(*(float(v) for v in _lonlat_to_bng_point(lon, lat)))
    hits = gdf.sindex.query(point, predicate="intersects")
    if not len(hits):
        return None
    areas = shapely.area(gdf.geometry.to_numpy()[hits])
    return str(gdf["code"].iloc[int(hits[int(np.argmin(areas))])])


def _lonlat_to_bng_point(lon: float, lat: float) -> tuple[float, float]:
    x, y = lonlat_to_bng(float(lon), float(lat))
    return float(x), float(y)
