"""Street-bounded sectors: blocks of ground between roads, railways and water, merged to size.

Urban ground is split along features a team can see on the ground. The area is
divided by its streets (the lines of :func:`geo.read_streets` that are on the
ground) into blocks by polygonizing the noded linework; blocks are then merged
into neighbours until each sector is about the target size. The rules:

- **Major lines are always sector boundaries.** Two pieces of ground on either
  side of a major road, railway, river or canal (``major``), or of a ``cut_by``
  line (BCU and force edges, as :func:`geo.make_grid` cuts), are never in one
  sector. A major line that stops inside a block (where the extract ends, or at a
  tunnel mouth) is carried straight on to the next street so it still divides
  the ground.
- **Minor streets and paths** are where blocks meet; blocks across them merge
  freely (a minor street belongs to the blocks either side).
- **Sizes**: a block larger than ``SPLIT_SHARE`` × target (a park without paths,
  or ground where the extract has no streets) is cut into square cells of the
  target size aligned to the British National Grid first. Sectors smaller than
  ``MERGE_BELOW`` × target are merged, smallest first, into the neighbour they
  share most street with while the result stays under ``MERGE_CAP`` × target;
  those still under a quarter of the target may then grow up to ``LAST_CAP`` ×
  target. No sector is larger than four times the target; a sector under a
  quarter of it is one that major lines enclose that small.
- **Names** are the bounding streets, longest shared length first
  (``Union Street / Southwark Bridge Road / …``).

All geometry work is vectorised (shapely 2 array operations, STRtree pairs); the
merging walks a graph of numbers. Lon/lat in and out; metric work in EPSG:27700.
"""

from __future__ import annotations

import heapq
import math
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import WGS84, geoms_to_bng, geoms_to_lonlat
from geo.errors import InputError
from geo.polygons import geoms_bng, polygonal_part
from geo.shapes import clean_shape, make_partition, repair

#: Smallest and largest target sector a coordinator may ask for, m² (0.1 ha to 25 km²).
MIN_TARGET_M2: float = 1_000.0
MAX_TARGET_M2: float = 25_000_000.0
#: Most street lines inside one area (all of Greater London has well under a million).
MAX_LINES: int = 400_000
#: Most sectors one call may make (as ``geo.grid.MAX_CELLS`` bounds a grid).
MAX_SECTORS: int = 100_000
#: Blocks larger than this many targets are cut into target-sized square cells.
SPLIT_SHARE: float = 2.0
#: Sectors under this share of the target are merged into a neighbour …
MERGE_BELOW: float = 0.6
#: … while the merged sector stays at most this many targets;
MERGE_CAP: float = 1.6
#: sectors still under a quarter of the target may grow to this many targets.
LAST_CAP: float = 3.9
#: A street names a sector when at least this much of it runs along the sector's edge, m.
NAME_MIN_M: float = 20.0
#: Most street names in a sector's name (then "…").
NAME_MAX: int = 4
#: Lines closer than this are the same line when deciding if an edge is major, m.
_ON_LINE_M: float = 0.01
#: An extension of a major line runs this far past the edge it meets, so the two are
#: noded together (an end exactly on a line may not be), m.
_OVERSHOOT_M: float = 0.05
#: Lines are cut this far outside the area's bounding box, m.
_MARGIN_M: float = 20.0


def street_sectors(
    area: BaseGeometry,
    streets: gpd.GeoDataFrame,
    target_m2: float,
    cut_by: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Sectors tiling the lon/lat ``area``, bounded by its streets, about ``target_m2`` each.

    ``streets`` is a GeoDataFrame of lines (any CRS; none means lon/lat) with a
    boolean ``major`` column and optionally ``name`` and ``ground`` (False lines,
    in tunnels, are ignored), as :func:`geo.read_streets` returns. ``cut_by`` is a
    GeoDataFrame of areas (e.g. :func:`geo.cutting_areas`); sectors are cut at its
    edges and columns ``area_code``/``area_name`` say which one each is in.

    Returns a GeoDataFrame in EPSG:4326 with columns ``id`` (``B1``, ``B2`` … north
    to south, west to east), ``name`` (the bounding streets), ``area_m2`` and the
    geometry; the sectors tile the area with no gaps and no overlaps. Raises only
    :class:`geo.InputError`.
    """
    try:
        target = float(target_m2)
    except (TypeError, ValueError):
        raise InputError(f"The target sector size must be a number of m², not {target_m2!r}."
                         ) from None
    if not (MIN_TARGET_M2 <= target <= MAX_TARGET_M2) or math.isnan(target):
        raise InputError(
            f"The target sector size must be between {MIN_TARGET_M2 / 1e4:g} ha and "
            f"{MAX_TARGET_M2 / 1e4:,.0f} ha, not {target / 1e4:g} ha.")
    if not isinstance(streets, gpd.GeoDataFrame) or "major" not in streets:
        raise InputError("Streets must be a table of lines with a 'major' column "
                         "(as read from an OpenStreetMap extract).")
    area_ll, _ = clean_shape(area, what="sector area")
    area_bng = shapely.make_valid(geoms_to_bng(area_ll))
    if area_bng.area / target > MAX_SECTORS:
        raise InputError(
            f"That area would make about {area_bng.area / target:,.0f} sectors, more than "
            f"the {MAX_SECTORS:,} allowed. Choose a larger target or a smaller area.")
    shapely.prepare(area_bng)

    lines, major, names = _lines_in(area_bng, streets)
    cut_geoms, cut_codes, cut_names = _cutting(area_bng, cut_by)
    notes: list[str] = []
    barrier = lines[major]
    linework = np.concatenate([lines, [shapely.boundary(area_bng)]])
    if len(cut_geoms):
        cut_lines = shapely.boundary(cut_geoms)
        cut_lines = cut_lines[~shapely.is_empty(cut_lines)]
        barrier = np.concatenate([barrier, cut_lines])
        linework = np.concatenate([linework, cut_lines])
    faces, rays = _blocks(linework, barrier, area_bng)
    if len(rays):
        barrier = np.concatenate([barrier, rays])
        notes.append(f"{len(rays)} major line(s) stopping inside a block (where the extract "
                     "ends, or at a tunnel mouth) were carried straight on to the next street.")

    # blocks far larger than the target (a park, ground without streets) -> target cells
    big = shapely.area(faces) > SPLIT_SHARE * target
    if big.any():
        grid = _lattice(faces[big], math.sqrt(target))
        faces, _, _ = _polygonize(np.concatenate([linework, rays, grid]), area_bng)
        notes.append(f"{int(big.sum())} block(s) larger than {SPLIT_SHARE:g} × the target "
                     "(parks, open ground, or ground the extract has no streets for) were "
                     "cut into square cells of about the target size.")
    faces = faces[shapely.area(faces) > 0]

    label = _merge(faces, barrier, target)
    sectors = _dissolve(faces, label)

    area_m2 = shapely.area(sectors)
    rep = shapely.point_on_surface(sectors)
    band = np.floor(-shapely.get_y(rep) / 250.0)
    order = np.lexsort((shapely.get_x(rep), band))
    sectors, area_m2, rep = sectors[order], area_m2[order], rep[order]
    out = gpd.GeoDataFrame(
        {"id": np.array([f"B{k + 1}" for k in range(len(sectors))], dtype=object),
         "name": _names(sectors, lines, names),
         "area_m2": area_m2},
        geometry=repair(geoms_to_lonlat(sectors)), crs=WGS84)
    if cut_by is not None:
        _tag_units(out, rep, cut_geoms, cut_codes, cut_names)
    out.attrs["target_m2"] = target
    out.attrs["notes"] = notes
    # where major lines that stopped inside a block were carried on (lon/lat WKT): they
    # bound sectors as the major lines do
    out.attrs["extensions"] = shapely.to_wkt(
        shapely.multilinestrings(geoms_to_lonlat(rays)) if len(rays) else
        shapely.from_wkt("MULTILINESTRING EMPTY"), rounding_precision=8)
    return out


def _lines_in(area_bng: BaseGeometry, streets: gpd.GeoDataFrame
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The on-the-ground street lines inside the area (BNG), their major flags and names."""
    geoms = geoms_bng(streets)
    ok = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    if "ground" in streets:
        ok &= streets["ground"].fillna(True).astype(bool).to_numpy()
    ok &= shapely.get_dimensions(geoms) == 1
    idx = np.flatnonzero(ok)
    tree = shapely.STRtree(geoms[idx])
    hit = idx[tree.query(area_bng, predicate="intersects")]
    hit.sort()
    if len(hit) > MAX_LINES:
        raise InputError(f"That area holds {len(hit):,} street lines; at most {MAX_LINES:,} "
                         "are divided at once. Choose a smaller area.")
    # clipped to a box a little larger than the area, not to the area itself: a line
    # must cross the area's edge to be noded with it (a clipped end only nearly on it
    # would leave the line dangling)
    box = shapely.box(*np.add(area_bng.bounds, [-_MARGIN_M, -_MARGIN_M, _MARGIN_M, _MARGIN_M]))
    clipped = shapely.intersection(geoms[hit], box)
    # keep only the line parts (a line touching the edge leaves a point)
    parts, owner = shapely.get_parts(clipped, return_index=True)
    line = shapely.get_dimensions(parts) == 1
    parts, owner = parts[line], hit[owner[line]]
    major = streets["major"].fillna(False).astype(bool).to_numpy()[owner]
    if "name" in streets:
        names = streets["name"].fillna("").astype(str).str.strip().to_numpy()[owner]
    else:
        names = np.full(len(owner), "", dtype=object)
    return np.asarray(parts, dtype=object), major, np.asarray(names, dtype=object)


def _cutting(area_bng: BaseGeometry, cut_by: gpd.GeoDataFrame | None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The cutting areas near the area (BNG, a partition), with their codes and names."""
    if cut_by is None or not len(cut_by):
        empty = np.array([], dtype=object)
        return empty, empty, empty
    geoms = geoms_bng(cut_by)
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    near = shapely.box(*np.add(area_bng.bounds, [-10.0, -10.0, 10.0, 10.0]))
    geoms = polygonal_part(shapely.intersection(geoms, near))
    geoms[shapely.is_missing(geoms)] = shapely.from_wkt("POLYGON EMPTY")
    geoms = make_partition(geoms)
    codes = (cut_by["code"].astype(str).to_numpy() if "code" in cut_by
             else np.asarray(cut_by.index).astype(str))
    names = cut_by["name"].astype(str).to_numpy() if "name" in cut_by else codes
    return geoms, codes.astype(object), names.astype(object)


def _polygonize(linework: np.ndarray, area_bng: BaseGeometry
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Faces of the noded linework inside the area; the noded segments; the dangles."""
    noded = shapely.get_parts(shapely.union_all(linework))
    polys, _cuts, dangles, _invalid = shapely.polygonize_full(noded)
    faces = shapely.get_parts(polys)
    inside = shapely.contains_properly(area_bng, shapely.point_on_surface(faces))
    return faces[inside], noded, shapely.get_parts(dangles)


def _blocks(linework: np.ndarray, barrier: np.ndarray, area_bng: BaseGeometry
            ) -> tuple[np.ndarray, np.ndarray]:
    """Blocks of ground between the lines; major lines that stop inside a block are
    carried on to the next edge (returns the blocks and those extensions)."""
    faces, _, dangles = _polygonize(linework, area_bng)
    if not len(dangles) or not len(barrier):
        return faces, np.array([], dtype=object)
    # dangling pieces of major lines, and their free ends (a node only they reach)
    btree = shapely.STRtree(barrier)
    mid = shapely.line_interpolate_point(dangles, 0.5, normalized=True)
    on_major = np.zeros(len(dangles), bool)
    d_idx, _ = btree.query(mid, predicate="dwithin", distance=_ON_LINE_M)
    on_major[d_idx] = True
    dangles = dangles[on_major]
    if not len(dangles):
        return faces, np.array([], dtype=object)
    # a loose end is an end of a major dangle on no edge of a block (inside the area)
    edges = shapely.multilinestrings(shapely.get_parts(shapely.boundary(faces)))
    shapely.prepare(edges)
    coords, which = shapely.get_coordinates(dangles, return_index=True)
    first = np.r_[0, np.flatnonzero(np.diff(which)) + 1]
    last = np.r_[first[1:] - 1, len(which) - 1]
    # ends two major dangles share are not loose (a major line's pieces between nodes)
    tips = np.round(np.concatenate([coords[first], coords[last]]), 6)
    _, inverse, counts = np.unique(tips, axis=0, return_inverse=True, return_counts=True)
    shared = (counts[inverse.ravel()] > 1).reshape(2, -1)
    starts, dirs = [], []
    for side, (tip, prev) in enumerate(((first, first + 1), (last, last - 1))):
        pts = shapely.points(coords[tip])
        loose = (~shapely.dwithin(edges, pts, _ON_LINE_M) & ~shared[side]
                 & shapely.contains_properly(area_bng, pts))
        if loose.any():
            starts.append(coords[tip][loose])
            dirs.append(coords[tip][loose] - coords[prev][loose])
    if not starts:
        return faces, np.array([], dtype=object)
    start, step = np.concatenate(starts), np.concatenate(dirs)
    norm = np.hypot(step[:, 0], step[:, 1])
    keep = norm > 0
    start, step = start[keep], step[keep] / norm[keep, None]
    reach = math.hypot(*np.subtract(area_bng.bounds[2:], area_bng.bounds[:2])) + 1.0
    rays = cast(np.ndarray, shapely.linestrings(
        np.stack([start + step * 1e-6, start + step * reach], axis=1)))
    hits = shapely.intersection(rays, edges)
    pts, owner = shapely.get_parts(hits, return_index=True)
    # a hit may be a point or (along an edge) a line: its nearest end to the start counts
    is_point = shapely.get_type_id(pts) == 0
    a_end = np.where(is_point, pts, shapely.get_point(pts, 0))
    b_end = np.where(is_point, pts, shapely.get_point(pts, -1))
    near = np.fmin(shapely.line_locate_point(rays[owner], a_end),
                   shapely.line_locate_point(rays[owner], b_end))
    dist = np.full(len(rays), np.inf)
    np.fmin.at(dist, owner, near)
    ok = np.isfinite(dist)
    tip = start[ok] + step[ok] * (dist[ok, None] + _OVERSHOOT_M)
    # with an (n, 2, 2) array shapely returns an array; its stubs also allow one line
    stubs = cast(np.ndarray, shapely.linestrings(np.stack([start[ok], tip], axis=1)))
    faces, _, _ = _polygonize(np.concatenate([linework, stubs]), area_bng)
    return faces, stubs


def _lattice(faces: np.ndarray, side: float) -> np.ndarray:
    """Lines of a square lattice (``side`` m, aligned to the British National Grid)
    across each face, running a little past its edges so they are noded with them."""
    b = shapely.bounds(faces)
    x0, y0 = np.floor(b[:, 0] / side), np.floor(b[:, 1] / side)
    nx = np.ceil(b[:, 2] / side).astype(int) - x0.astype(int) + 1
    ny = np.ceil(b[:, 3] / side).astype(int) - y0.astype(int) + 1
    owner_x = np.repeat(np.arange(len(faces)), nx)
    kx = np.arange(nx.sum()) - np.repeat(np.cumsum(nx) - nx, nx)
    xs = (x0[owner_x] + kx) * side
    owner_y = np.repeat(np.arange(len(faces)), ny)
    ky = np.arange(ny.sum()) - np.repeat(np.cumsum(ny) - ny, ny)
    ys = (y0[owner_y] + ky) * side
    vertical = np.stack([np.stack([xs, b[owner_x, 1] - 1], 1),
                         np.stack([xs, b[owner_x, 3] + 1], 1)], axis=1)
    horizontal = np.stack([np.stack([b[owner_y, 0] - 1, ys], 1),
                           np.stack([b[owner_y, 2] + 1, ys], 1)], axis=1)
    lines = shapely.linestrings(np.concatenate([vertical, horizontal]))
    owner = np.concatenate([owner_x, owner_y])
    grown = shapely.buffer(faces, _OVERSHOOT_M, join_style="mitre")
    cut = shapely.intersection(lines, grown[owner])
    return cast(np.ndarray, cut[~shapely.is_empty(cut)])


def _merge(faces: np.ndarray, barrier: np.ndarray, target: float) -> np.ndarray:
    """A sector label per face: small sectors merged into neighbours, never across a barrier."""
    n = len(faces)
    area = shapely.area(faces)
    tree = shapely.STRtree(faces)
    i, j = tree.query(faces, predicate="intersects")
    keep = i < j
    i, j = i[keep], j[keep]
    shared = shapely.intersection(shapely.boundary(faces[i]), shapely.boundary(faces[j]))
    length = shapely.length(shared)
    adj = length > 1e-6
    i, j, shared, length = i[adj], j[adj], shared[adj], length[adj]
    # an edge is major if any piece of it lies on a barrier line
    is_barrier = np.zeros(len(i), bool)
    if len(barrier) and len(i):
        # segments of every shared edge (pairs of consecutive points of one part)
        parts, part_pair = shapely.get_parts(shared, return_index=True)
        coords, part = shapely.get_coordinates(parts, return_index=True)
        same = part[1:] == part[:-1]
        mids = (coords[1:][same] + coords[:-1][same]) / 2
        seg_pair = part_pair[part[1:][same]]
        btree = shapely.STRtree(barrier)
        s_idx, _ = btree.query(shapely.points(mids), predicate="dwithin", distance=_ON_LINE_M)
        is_barrier[np.unique(seg_pair[s_idx])] = True

    # the graph: groups keyed by their first face
    nbr: list[dict[int, float]] = [{} for _ in range(n)]
    forbid: list[set[int]] = [set() for _ in range(n)]
    for a, b, le, bar in zip(i.tolist(), j.tolist(), length.tolist(), is_barrier.tolist(),
                             strict=True):
        if bar:
            forbid[a].add(b)
            forbid[b].add(a)
        else:
            nbr[a][b] = nbr[a].get(b, 0.0) + le
            nbr[b][a] = nbr[b].get(a, 0.0) + le
    parent = np.arange(n)
    size = area.astype(float).copy()

    def run(below: float, cap: float) -> None:
        heap = [(size[g], g) for g in range(n) if parent[g] == g and size[g] < below]
        heapq.heapify(heap)
        while heap:
            a_size, g = heapq.heappop(heap)
            if parent[g] != g or a_size != size[g]:
                continue
            choices = [(le, h) for h, le in nbr[g].items()
                       if h not in forbid[g] and size[g] + size[h] <= cap]
            if not choices:
                continue
            _, h = max(choices)
            # merge g into h
            parent[g] = h
            size[h] += size[g]
            for k, le in nbr[g].items():
                del nbr[k][g]
                if k != h:
                    nbr[h][k] = nbr[h].get(k, 0.0) + le
                    nbr[k][h] = nbr[k].get(h, 0.0) + le
            nbr[g] = {}
            for k in forbid[g]:
                forbid[k].discard(g)
                if k != h:
                    forbid[k].add(h)
                    forbid[h].add(k)
            forbid[g] = set()
            if size[h] < below:
                heapq.heappush(heap, (size[h], h))

    run(MERGE_BELOW * target, MERGE_CAP * target)
    run(0.25 * target, LAST_CAP * target)
    # every face's group: follow the parents to the root (vectorised pointer jumping)
    root = parent.copy()
    while True:
        nxt = root[root]
        if (nxt == root).all():
            break
        root = nxt
    return root


def _names(sectors: np.ndarray, lines: np.ndarray, names: np.ndarray) -> np.ndarray:
    """Each sector's bounding streets, longest shared length first."""
    out = np.full(len(sectors), "no named streets", dtype=object)
    named = np.flatnonzero(names != "")
    if not len(named) or not len(sectors):
        return out
    edges = shapely.buffer(shapely.boundary(sectors), 1.0, cap_style="flat")
    tree = shapely.STRtree(lines[named])
    s, k = tree.query(edges, predicate="intersects")
    if not len(s):
        return out
    along = shapely.length(shapely.intersection(lines[named[k]], edges[s]))
    frame = pd.DataFrame({"s": s, "name": names[named[k]], "m": along})
    total = frame.groupby(["s", "name"], sort=False)["m"].sum().reset_index()
    total = total[total["m"] >= NAME_MIN_M].sort_values(["s", "m"], ascending=[True, False])
    for sector, group in total.groupby("s", sort=False):
        picked = group["name"].tolist()
        text = " / ".join(picked[:NAME_MAX]) + (" / …" if len(picked) > NAME_MAX else "")
        out[int(str(sector))] = text
    return out


def _dissolve(faces: np.ndarray, label: np.ndarray) -> np.ndarray:
    """Join the faces that share a label into one polygon per label (sorted by label).

    Faces of one label meet along shared edges; a union per label (in GEOS, one call
    per sector) removes them. Single-face sectors pass through.
    """
    order = np.argsort(label, kind="stable")
    faces, label = faces[order], label[order]
    _, start, counts = np.unique(label, return_index=True, return_counts=True)
    out = faces[start].copy()
    for k in np.flatnonzero(counts > 1):
        out[k] = shapely.union_all(faces[start[k]:start[k] + counts[k]])
    return repair(polygonal_part(shapely.simplify(out, 0)))


def _tag_units(out: gpd.GeoDataFrame, rep: np.ndarray, cut_geoms: np.ndarray,
               cut_codes: np.ndarray, cut_names: np.ndarray) -> None:
    """Name each sector's unit of ``cut_by`` (by its point ``rep``, BNG) in ``out``'s
    ``area_code`` / ``area_name`` columns (None outside every unit)."""
    unit = _unit_of(rep, cut_geoms)
    has = unit >= 0
    none = np.array(None, dtype=object)
    out["area_code"] = np.where(has, cut_codes[np.where(has, unit, 0)], none)
    out["area_name"] = np.where(has, cut_names[np.where(has, unit, 0)], none)


def _unit_of(points: np.ndarray, cut_geoms: np.ndarray) -> np.ndarray:
    """Position of the cutting area holding each point, or -1."""
    unit = np.full(len(points), -1)
    if not len(cut_geoms):
        return unit
    tree = shapely.STRtree(cut_geoms)
    p, g = tree.query(points, predicate="within")
    unit[p] = g
    return unit


__all__ = ["street_sectors"]
