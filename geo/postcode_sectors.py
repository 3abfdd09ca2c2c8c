"""Postcode-unit sectors: where no street extract is loaded, cells round each postcode.

A postcode unit is about 15 addresses along one stretch of street, so the ground
nearest each postcode centroid (its Voronoi cell, from OS Code-Point Open) follows
where people live far better than a square does. Used by Make sectors → Streets
when the store holds no streets for the area. The rules:

- the cells are clipped to the area and cut at ward edges and at ``cut_by`` edges
  (BCU and force lines, as :func:`geo.make_grid` cuts); a piece of a ward the area
  only grazes (under a quarter of the target) joins the neighbouring ward piece it
  shares most edge with (never across a ``cut_by`` line), so no sliver is left;
- cells far larger than the target (parks, the river) are cut into target-sized
  squares first, then cells are merged into neighbours until each sector is about
  the target size, with the same rules and bounds as :func:`geo.street_sectors`
  (never across a ward or cut line; none over four times the target);
- each sector is named by its postcode units (``SE1 0AA / SE1 0AB``) or, when it
  holds more than two, by its postcode sectors (``SE1 0… (14 postcodes)``).

Vectorised: one Voronoi diagram, STRtree pairs for every overlay; the merging walks
a graph of numbers. Lon/lat in and out; metric work in EPSG:27700.
"""

from __future__ import annotations

import math
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.boundaries import load_layer
from geo.crs import WGS84, geoms_to_bng, geoms_to_lonlat
from geo.errors import InputError
from geo.polygons import geoms_bng, polygonal_part
from geo.postcodes import postcodes_in
from geo.shapes import clean_shape, make_partition, repair
from geo.street_sectors import (
    MAX_SECTORS,
    MAX_TARGET_M2,
    MIN_TARGET_M2,
    SPLIT_SHARE,
    _cutting,
    _dissolve,
    _lattice,
    _merge,
    _tag_units,
)

#: Postcodes this far outside the area still shape the cells at its edge, degrees (~1 km).
PAD_DEG: float = 0.01
#: A ward piece under this share of the target joins a neighbouring ward piece.
SLIVER_SHARE: float = 0.25
#: Most postcode sectors named in a sector's name (then "…").
NAME_MAX: int = 3
#: Most rounds of joining slivers to their neighbours.
_SLIVER_PASSES: int = 8
#: Faces smaller than this are rounding dust from the overlays, m².
_DUST_M2: float = 1e-3


def postcode_sectors(
    area: BaseGeometry,
    target_m2: float,
    cut_by: gpd.GeoDataFrame | None = None,
    *,
    wards: gpd.GeoDataFrame | None = None,
    postcodes: pd.DataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Sectors of postcode-unit cells tiling the lon/lat ``area``, about ``target_m2`` each.

    ``wards`` (default: the ward layer of :mod:`geo.boundaries`) and ``cut_by`` (e.g.
    :func:`geo.cutting_areas`) are GeoDataFrames of areas whose edges no sector
    crosses; ``postcodes`` (default: the London Code-Point table) has columns
    ``postcode``, ``lon`` and ``lat``. Returns a GeoDataFrame in EPSG:4326 with
    columns ``id`` (``P1``, ``P2`` … north to south, west to east), ``name`` (postcode
    units or sectors), ``postcodes`` (how many units), ``area_m2``, and with ``cut_by``
    ``area_code``/``area_name``. Raises only :class:`geo.InputError`.
    """
    target = _target(target_m2)
    area_ll, _ = clean_shape(area, what="sector area")
    area_bng = shapely.make_valid(geoms_to_bng(area_ll))
    if area_bng.area / target > MAX_SECTORS:
        raise InputError(
            f"That area would make about {area_bng.area / target:,.0f} sectors, more than "
            f"the {MAX_SECTORS:,} allowed. Choose a larger target or a smaller area.")
    west, south, east, north = area_ll.bounds
    if postcodes is None:
        postcodes = postcodes_in((west - PAD_DEG, south - PAD_DEG, east + PAD_DEG,
                                  north + PAD_DEG))
    if not len(postcodes):
        raise InputError("No postcodes are held for this area, so it cannot be divided into "
                         "postcode cells. Use squares or hexagons.")
    units = postcodes["postcode"].astype(str).to_numpy(object)
    xy = shapely.get_coordinates(geoms_to_bng(np.asarray(shapely.points(
        postcodes["lon"].to_numpy(float), postcodes["lat"].to_numpy(float)), dtype=object)))

    cells, unit_cell = _cells(xy, area_bng)
    cut_geoms, cut_codes, cut_names = _cutting(area_bng, cut_by)
    regions = _regions(area_bng, wards, cut_geoms, target)
    barrier = shapely.get_parts(shapely.boundary(regions))

    faces, face_cell = _overlay(cells, regions)
    big = shapely.area(faces) > SPLIT_SHARE * target
    if big.any():
        pieces, owner = _split(faces[big], math.sqrt(target))
        faces = np.concatenate([faces[~big], pieces])
        face_cell = np.concatenate([face_cell[~big], face_cell[big][owner]])
    label = _merge(faces, barrier, target)
    sectors = _dissolve(faces, label)  # one per label, in label order
    _, group = np.unique(label, return_inverse=True)
    names, counts = _names(group.ravel(), face_cell, unit_cell, units, len(sectors))

    area_m2 = shapely.area(sectors)
    rep = shapely.point_on_surface(sectors)
    band = np.floor(-shapely.get_y(rep) / 250.0)
    rank = np.lexsort((shapely.get_x(rep), band))
    sectors, area_m2, rep = sectors[rank], area_m2[rank], rep[rank]
    out = gpd.GeoDataFrame(
        {"id": np.array([f"P{k + 1}" for k in range(len(sectors))], dtype=object),
         "name": names[rank], "postcodes": counts[rank], "area_m2": area_m2},
        geometry=repair(geoms_to_lonlat(sectors)), crs=WGS84)
    if cut_by is not None:
        _tag_units(out, rep, cut_geoms, cut_codes, cut_names)
    out.attrs["target_m2"] = target
    out.attrs["notes"] = [
        f"Postcode cells: the ground nearest each of {len(units):,} postcode centroids "
        "(OS Code-Point Open), cut at ward edges, merged to about the target size."]
    return out


def _target(target_m2: float) -> float:
    try:
        target = float(target_m2)
    except (TypeError, ValueError):
        raise InputError(f"The target sector size must be a number of m², not {target_m2!r}."
                         ) from None
    if math.isnan(target) or not (MIN_TARGET_M2 <= target <= MAX_TARGET_M2):
        raise InputError(
            f"The target sector size must be between {MIN_TARGET_M2 / 1e4:g} ha and "
            f"{MAX_TARGET_M2 / 1e4:,.0f} ha, not {target / 1e4:g} ha.")
    return target


def _cells(xy: np.ndarray, area_bng: BaseGeometry) -> tuple[np.ndarray, np.ndarray]:
    """Voronoi cells of the distinct centroids (BNG) covering the area; each unit's cell.

    Postcodes sharing a centroid (a block of flats) share one cell.
    """
    spot, unit_cell = np.unique(np.round(xy, 1), axis=0, return_inverse=True)
    unit_cell = unit_cell.ravel()
    frame = shapely.box(*np.add(area_bng.bounds, [-50.0, -50.0, 50.0, 50.0]))
    if len(spot) < 2:
        return np.array([frame], dtype=object), unit_cell
    diagram = shapely.voronoi_polygons(shapely.multipoints(spot), extend_to=frame,
                                       ordered=True)
    return np.asarray(shapely.get_parts(diagram), dtype=object), unit_cell


def _regions(area_bng: BaseGeometry, wards: gpd.GeoDataFrame | None, cut_geoms: np.ndarray,
             target: float) -> np.ndarray:
    """The area cut at ward and ``cut_by`` edges (a partition, BNG).

    Ground no ward covers is its own piece; pieces under :data:`SLIVER_SHARE` × target
    join the neighbour in the same cut unit they share most edge with.
    """
    wards = load_layer("ward") if wards is None else wards
    w = geoms_bng(wards)
    tree = shapely.STRtree(w)
    w = make_partition(polygonal_part(shapely.intersection(
        w[tree.query(area_bng, predicate="intersects")], area_bng)))
    w = w[~shapely.is_empty(w)]
    rest = shapely.difference(area_bng, shapely.union_all(w)) if len(w) else area_bng
    pieces = np.concatenate([w, shapely.get_parts(polygonal_part(np.array([rest])))])
    pieces = pieces[~shapely.is_missing(pieces) & (shapely.area(pieces) > _DUST_M2)]
    if len(cut_geoms):
        p, c = shapely.STRtree(cut_geoms).query(pieces, predicate="intersects")
        parts = polygonal_part(shapely.intersection(pieces[p], cut_geoms[c]))
        keep = ~shapely.is_missing(parts) & (shapely.area(parts) > _DUST_M2)
        pieces, unit = parts[keep], c[keep]
        covered = shapely.union_all(pieces)
        left = shapely.get_parts(polygonal_part(np.array([
            shapely.difference(area_bng, covered)])))
        left = left[~shapely.is_missing(left) & (shapely.area(left) > _DUST_M2)]
        pieces = np.concatenate([pieces, left])
        unit = np.concatenate([unit, np.full(len(left), -1)])
    else:
        unit = np.zeros(len(pieces), int)
    pieces, idx = shapely.get_parts(pieces, return_index=True)
    return _absorb_slivers(cast(np.ndarray, pieces), unit[idx], target)


def _absorb_slivers(pieces: np.ndarray, unit: np.ndarray, target: float) -> np.ndarray:
    """Pieces under :data:`SLIVER_SHARE` × target joined to the larger neighbour they share
    most edge with, in the same cut unit (or either outside every unit, -1); repeated
    while any joins, so a chain of slivers ends in a full piece."""
    for _ in range(_SLIVER_PASSES):
        area = shapely.area(pieces)
        small = np.flatnonzero(area < SLIVER_SHARE * target)
        if not len(small) or len(pieces) < 2:
            break
        s, n = shapely.STRtree(pieces).query(pieces[small], predicate="intersects")
        s = small[s]
        ok = ((s != n) & (area[n] > area[s])
              & ((unit[s] == unit[n]) | (unit[s] < 0) | (unit[n] < 0)))
        s, n = s[ok], n[ok]
        shared = shapely.length(shapely.intersection(shapely.boundary(pieces[s]),
                                                     shapely.boundary(pieces[n])))
        frame = pd.DataFrame({"s": s, "n": n, "m": shared})
        frame = frame[frame["m"] > 1e-6]
        if not len(frame):
            break
        best = frame.loc[frame.groupby("s")["m"].idxmax()]
        label = np.arange(len(pieces))
        label[best["s"].to_numpy(int)] = best["n"].to_numpy(int)
        # follow chains (a sliver joining a sliver that joins a full piece)
        while not np.array_equal(label[label], label):
            label = label[label]
        keep = np.unique(label)
        unit = unit[keep]  # _dissolve returns one piece per label, in label order
        pieces = _dissolve(pieces, label)
    return pieces


def _overlay(cells: np.ndarray, regions: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every cell cut by every region it meets (polygons, BNG) and the cell of each."""
    r, c = shapely.STRtree(cells).query(regions, predicate="intersects")
    parts, owner = shapely.get_parts(
        polygonal_part(shapely.intersection(cells[c], regions[r])), return_index=True)
    keep = shapely.area(parts) > _DUST_M2
    return np.asarray(parts[keep], dtype=object), c[owner[keep]]


def _split(faces: np.ndarray, side: float) -> tuple[np.ndarray, np.ndarray]:
    """Faces cut into squares of ``side`` m on the British National Grid; each piece's face."""
    lines = _lattice(faces, side)
    edges = np.concatenate([shapely.get_parts(shapely.boundary(faces)), lines])
    polys = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(edges))))
    f, p = shapely.STRtree(faces).query(shapely.point_on_surface(polys), predicate="within")
    return np.asarray(polys[f], dtype=object), p


def _names(group: np.ndarray, face_cell: np.ndarray, unit_cell: np.ndarray,
           units: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each sector's name from the postcode units whose cells it holds, and their count."""
    pairs = pd.DataFrame({"g": group, "cell": face_cell}).drop_duplicates()
    owners = pd.DataFrame({"cell": unit_cell, "unit": units})
    held = pairs.merge(owners, on="cell").drop_duplicates(["g", "unit"])
    names = np.full(n, "no postcodes", dtype=object)
    counts = np.zeros(n, dtype=int)
    if not len(held):
        return names, counts
    held["sector"] = held["unit"].str.slice(0, -2) + "…"
    for g, rows in held.sort_values("unit").groupby("g", sort=False):
        k = int(str(g))
        found = rows["unit"].tolist()
        counts[k] = len(found)
        if len(found) <= 2:
            names[k] = " / ".join(found)
            continue
        by = rows["sector"].value_counts(sort=True)
        text = " / ".join(by.index[:NAME_MAX]) + (" / …" if len(by) > NAME_MAX else "")
        names[k] = f"{text} ({len(found)} postcodes)"
    return names, counts


__all__ = ["postcode_sectors"]
