"""Grid sectors: square or hexagonal cells of a chosen size over an area of interest.

Cells are laid out in British National Grid (EPSG:27700) on a lattice anchored
at the grid origin, so the same area and cell size always give the same cells
and the same IDs. Cells are clipped to the area and, if ``cut_by`` is given,
cut at the edges of those areas (BCUs, forces …) so that no cell lies in two of
them; each piece records the area it lies in. Together the cells tile the area
exactly: no gaps, no overlaps.

IDs are short map-book references: column letters then row number, counted from
the top-left of the area (``A1``, ``B1`` … ``AA12``); a cell cut into pieces
gets a letter per piece, largest first (``C7a``, ``C7b``).

All of it is vectorised (numpy lattices, shapely array operations, STRtree
query pairs). Output is lon/lat (EPSG:4326) with the area in m².
"""

from __future__ import annotations

import math
from typing import cast

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import WGS84, geoms_to_bng, geoms_to_lonlat
from geo.errors import InputError
from geo.jurisdiction import STRADDLE_M2
from geo.polygons import geoms_bng, polygonal_part
from geo.shapes import clean_shape, make_partition, repair, subdivide

#: Smallest and largest cell size a coordinator may ask for, in metres.
MIN_CELL_M: float = 10.0
MAX_CELL_M: float = 20_000.0
#: Most lattice cells one grid may have (all London at 100 m is about 160,000).
MAX_CELLS: int = 600_000
#: Pieces of a cell smaller than this share of a full cell, and under
#: :data:`geo.jurisdiction.STRADDLE_M2`, are merged into the cell's largest piece:
#: a 3 m² sliver is not a sector a team can be sent to, and so small a piece
#: never makes its cell count as straddling. Larger pieces stay cells of their own.
SLIVER_SHARE: float = 0.005
#: Pieces (whole cells at the area's edge) smaller than this are dropped, m².
MIN_PIECE_M2: float = 1.0
#: a piece under this share of a whole cell (a corner clipped off by the area's edge)
#: joins the neighbour in the same cutting area it shares most border with
SMALL_SHARE: float = 0.25
#: passes of that merge (a piece that takes in a smaller one waits for the next pass)
MERGE_PASSES: int = 10
_TOUCH_M = 0.05
#: Side of the pieces the area is cut into for fast clipping, as a multiple of cells.
_TILE_CELLS: int = 16

SHAPES = ("square", "hex")


def _letters(k: np.ndarray) -> np.ndarray:
    """0 -> A, 25 -> Z, 26 -> AA (spreadsheet columns), vectorised."""
    k = np.asarray(k, dtype=np.int64)
    out = np.full(len(k), "", dtype=object)
    n = k + 1
    while (n > 0).any():
        rem = (n - 1) % 26
        live = n > 0
        out[live] = np.char.add(
            np.array([chr(65 + r) for r in rem[live]], dtype=object).astype(str),
            out[live].astype(str),
        )
        n = np.where(live, (n - 1) // 26, 0)
    return out


def _square_lattice(bounds: tuple[float, ...], cell: float) -> tuple[np.ndarray, np.ndarray,
                                                                      np.ndarray]:
    x0, y0, x1, y1 = bounds
    ix = np.arange(math.floor(x0 / cell), math.ceil(x1 / cell))
    iy = np.arange(math.ceil(y1 / cell) - 1, math.floor(y0 / cell) - 1, -1)  # north to south
    _check_count(len(ix) * len(iy))
    gx, gy = np.meshgrid(ix, iy)
    col = (gx - ix[0]).ravel()
    row = (iy[0] - gy).ravel()
    xs, ys = gx.ravel() * cell, gy.ravel() * cell
    return shapely.box(xs, ys, xs + cell, ys + cell), col, row


def _hex_lattice(bounds: tuple[float, ...], width: float) -> tuple[np.ndarray, np.ndarray,
                                                                   np.ndarray]:
    """Pointy-top hexagons ``width`` metres across the flats; rows ``1.5 R`` apart."""
    radius = width / math.sqrt(3)
    dy = 1.5 * radius
    x0, y0, x1, y1 = bounds
    iy = np.arange(math.ceil((y1 + radius) / dy), math.floor((y0 - radius) / dy) - 1, -1)
    ix = np.arange(math.floor(x0 / width) - 1, math.ceil(x1 / width) + 1)
    _check_count(len(ix) * len(iy))
    gx, gy = np.meshgrid(ix, iy)
    cx = gx * width + (gy % 2) * (width / 2)
    cy = gy * dy
    angles = np.radians(30 + 60 * np.arange(7))
    ring = np.stack([
        cx.ravel()[:, None] + radius * np.cos(angles)[None, :],
        cy.ravel()[:, None] + radius * np.sin(angles)[None, :],
    ], axis=-1)
    ring[:, 6] = ring[:, 0]  # close exactly
    col = (gx - ix[0]).ravel()
    row = (iy[0] - gy).ravel()
    # an (n, 7, 2) array of rings makes an array of polygons; the stubs also allow one
    return cast(np.ndarray, shapely.polygons(ring)), col, row


def _check_count(n: int) -> None:
    if n > MAX_CELLS:
        raise InputError(
            f"That grid would have about {n:,} cells, more than the {MAX_CELLS:,} allowed. "
            "Choose larger cells or a smaller area."
        )


def _dissolve_by(pieces: np.ndarray, key: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Join the pieces that share a key into one shape; returns (shapes, unique keys).

    Pieces of one key never overlap (they are parts of one cell cut along tile
    edges), so gathering their parts and repairing the MultiPolygon dissolves
    the shared edges. Vectorised; most keys have a single piece.
    """
    order = np.argsort(key, kind="stable")
    pieces, key = pieces[order], key[order]
    ukey, start, counts = np.unique(key, return_index=True, return_counts=True)
    out = pieces[start].copy()
    multi = counts > 1
    if multi.any():
        group = np.repeat(np.arange(len(ukey)), counts)
        sel = multi[group]
        parts, idx = shapely.get_parts(pieces[sel], return_index=True)
        _, inv = np.unique(group[sel][idx], return_inverse=True)
        # with ``indices`` shapely returns an array; its stubs also allow one geometry
        multis = cast(np.ndarray, shapely.multipolygons(parts, indices=inv))
        joined = shapely.make_valid(multis, method="structure", keep_collapsed=False)
        out[multi] = polygonal_part(shapely.simplify(joined, 0))
    return out, ukey


def _split(pieces: np.ndarray, regions: np.ndarray, tile_m: float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every non-empty ``piece ∩ region``: returns (shapes, piece index, region index).

    Pieces wholly inside one region (the great majority) are found with a
    prepared point-in-polygon test and kept whole. Only pieces that cross a
    region's edge are intersected, against the regions cut into ``tile_m``
    tiles (cheap small intersections), then re-joined per (piece, region).
    """
    regions = np.asarray(regions, dtype=object)
    shapely.prepare(regions)
    tree = shapely.STRtree(regions)
    p, r = tree.query(pieces)
    whole = shapely.contains_properly(regions[r], pieces[p])
    done = np.zeros(len(pieces), bool)
    done[p[whole]] = True
    out = [pieces[p[whole]]]
    out_p, out_r = [p[whole]], [r[whole]]
    todo = np.unique(p[~done[p]])
    if len(todo):
        tiles, owner = subdivide(regions, tile_m)
        shapely.prepare(tiles)
        t_tree = shapely.STRtree(tiles)
        q, t = t_tree.query(pieces[todo], predicate="intersects")
        inside = shapely.contains_properly(tiles[t], pieces[todo[q]])
        sub = pieces[todo[q]].copy()
        edge = ~inside
        sub[edge] = polygonal_part(shapely.intersection(pieces[todo[q[edge]]], tiles[t[edge]]))
        ok = ~shapely.is_missing(sub)
        sub, q, t = sub[ok], q[ok], t[ok]
        n_reg = len(regions)
        joined, key = _dissolve_by(sub, todo[q].astype(np.int64) * n_reg + owner[t])
        out.append(joined)
        out_p.append(key // n_reg)
        out_r.append(key % n_reg)
    return np.concatenate(out), np.concatenate(out_p), np.concatenate(out_r)


def _clip_to_area(cells: np.ndarray, area_bng: BaseGeometry, tile_m: float
                  ) -> tuple[np.ndarray, np.ndarray]:
    """Each cell ∩ area. Returns (pieces, cell position)."""
    pieces, cell, _ = _split(cells, np.array([area_bng], dtype=object), tile_m)
    return pieces, cell


def _cut(pieces: np.ndarray, cell: np.ndarray, cut_geoms: np.ndarray
         ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Cut each piece at the cutting areas' edges: (pieces, cell, area index or -1)."""
    sub, p, unit = _split(pieces, cut_geoms, TILE_CUT_M)
    # ground of a piece that lies in no cutting area stays, marked -1: the piece
    # minus its own cut parts (small shapes, not the whole cutting layer)
    covered = np.bincount(p, weights=shapely.area(sub), minlength=len(pieces))
    gap = np.flatnonzero(covered < shapely.area(pieces) * (1 - 1e-9) - 1e-6)
    if len(gap):
        in_gap = np.isin(p, gap)
        done, key = _dissolve_by(sub[in_gap], p[in_gap])
        taken = np.full(len(pieces), None, dtype=object)
        taken[key] = done
        rest = shapely.difference(pieces[gap], taken[gap])
        rest = np.where(shapely.is_missing(taken[gap]), pieces[gap], rest)
        rest = polygonal_part(rest)
        ok = ~shapely.is_missing(rest)
        sub = np.concatenate([sub, rest[ok]])
        p = np.concatenate([p, gap[ok]])
        unit = np.concatenate([unit, np.full(int(ok.sum()), -1)])
    return sub, cell[p], unit


#: Tile size used to cut the cutting areas, m.
TILE_CUT_M: float = 2_000.0


def _merge_slivers(pieces: np.ndarray, cell: np.ndarray, unit: np.ndarray, full_m2: float
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Merge pieces smaller than SLIVER_SHARE of a cell into the cell's largest piece."""
    area = shapely.area(pieces)
    order = np.lexsort((-area, cell))
    pieces, cell, unit, area = pieces[order], cell[order], unit[order], area[order]
    first = np.r_[True, cell[1:] != cell[:-1]]
    big_idx = np.flatnonzero(first)[np.cumsum(first) - 1]  # largest piece of each cell
    small = ~first & (area < min(SLIVER_SHARE * full_m2, STRADDLE_M2))
    if small.any():
        targets, inv = np.unique(big_idx[small], return_inverse=True)
        extra = shapely.multipolygons(shapely.get_parts(pieces[small]), indices=inv[
            np.repeat(np.arange(small.sum()), shapely.get_num_geometries(pieces[small]))])
        merged = shapely.union(pieces[targets], extra)
        pieces = pieces.copy()
        pieces[targets] = polygonal_part(merged)
        keep = ~small
        pieces, cell, unit = pieces[keep], cell[keep], unit[keep]
    return pieces, cell, unit


def _merge_small(pieces: np.ndarray, cell: np.ndarray, unit: np.ndarray, full_m2: float
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pieces under SMALL_SHARE of a cell join the larger neighbour (in the same cutting
    area, never across a cut line) with which they share the longest border, in metres.

    Repeated a few times, so a run of small pieces (round a hole) ends up in its
    neighbours; a piece with no larger neighbour on its side of the cut lines (ground
    between cut lines that small) stays. Pairs come from one STRtree query per pass;
    border lengths are computed over the pair arrays.
    """
    for _ in range(MERGE_PASSES):
        area = shapely.area(pieces)
        small_idx = np.flatnonzero(area < SMALL_SHARE * full_m2)
        if not len(small_idx) or len(small_idx) == len(pieces):
            break
        tree = shapely.STRtree(pieces)
        # clipped pieces may meet with a rounding gap: neighbours within 5 cm count,
        # and the shared border is the part of the small piece's edge that close to b
        s_pos, b = tree.query(pieces[small_idx], predicate="dwithin", distance=_TOUCH_M)
        a = small_idx[s_pos]
        ok = (a != b) & (unit[a] == unit[b]) & (area[b] > area[a])
        a, b = a[ok], b[ok]
        shared = shapely.length(shapely.intersection(
            shapely.boundary(pieces[a]), shapely.buffer(pieces[b], _TOUCH_M, quad_segs=1)))
        touching = shared > 2 * _TOUCH_M
        a, b, shared = a[touching], b[touching], shared[touching]
        order = np.lexsort((-shared, a))  # for each small piece, its longest border first
        a, b = a[order], b[order]
        first = np.r_[True, a[1:] != a[:-1]] if len(a) else np.zeros(0, dtype=bool)
        a, b = a[first], b[first]
        chained = np.isin(a, b)  # a piece taking others this pass does not move itself
        a, b = a[~chained], b[~chained]
        if not len(a):
            break
        targets, inv = np.unique(b, return_inverse=True)
        by_target = np.argsort(inv, kind="stable")  # multipolygons wants sorted indices
        a, inv = a[by_target], inv[by_target]
        parts = shapely.get_parts(pieces[a])
        extra = shapely.multipolygons(parts, indices=inv[
            np.repeat(np.arange(len(a)), shapely.get_num_geometries(pieces[a]))])
        pieces = pieces.copy()
        pieces[targets] = polygonal_part(shapely.union(pieces[targets], extra))
        keep = np.ones(len(pieces), dtype=bool)
        keep[a] = False
        pieces, cell, unit = pieces[keep], cell[keep], unit[keep]
    return pieces, cell, unit


def make_grid(
    area: BaseGeometry,
    cell_m: float,
    shape: str = "square",
    cut_by: gpd.GeoDataFrame | None = None,
) -> gpd.GeoDataFrame:
    """Cells of ``cell_m`` metres tiling a lon/lat area, optionally cut by other areas.

    ``shape`` is ``"square"`` (cells ``cell_m`` × ``cell_m``) or ``"hex"``
    (hexagons ``cell_m`` across the flats, about 0.87 ``cell_m``² each).
    ``cut_by`` is a GeoDataFrame of areas in any CRS (e.g. BCUs and forces, see
    :func:`geo.jurisdiction.cutting_areas`); cells are cut at its edges, so no
    cell lies in two of them, and columns ``area_code``/``area_name`` say which
    one each cell is in (``None`` for ground in none of them). A piece under a
    quarter of a cell (a corner the area's edge clips off) joins the neighbour it
    shares most border with in the same cutting area, so sectors are never slivers
    unless the ground between cut lines is that small. Returns a
    GeoDataFrame in EPSG:4326 with columns ``id``, ``row``, ``col``,
    ``area_m2`` and the geometry, ordered north to south, west to east.
    """
    if shape not in SHAPES:
        raise InputError(f"Grid cells must be 'square' or 'hex', not {shape!r}.")
    try:
        cell_m = float(cell_m)
    except (TypeError, ValueError):
        raise InputError(f"The cell size must be a number of metres, not {cell_m!r}.") from None
    if not (MIN_CELL_M <= cell_m <= MAX_CELL_M):
        raise InputError(
            f"The cell size must be between {MIN_CELL_M:g} m and {MAX_CELL_M:,.0f} m, "
            f"not {cell_m:g} m."
        )
    area_ll, _ = clean_shape(area, what="grid area")
    area_bng = shapely.make_valid(geoms_to_bng(area_ll))
    bounds = area_bng.bounds
    full_m2 = cell_m**2 if shape == "square" else cell_m**2 * math.sqrt(3) / 2
    _check_count(int(area_bng.area / full_m2))
    if shape == "square":
        cells, col, row = _square_lattice(bounds, cell_m)
    else:
        cells, col, row = _hex_lattice(bounds, cell_m)
    pieces, cell = _clip_to_area(cells, area_bng, cell_m * _TILE_CELLS)
    unit = np.full(len(pieces), -1)
    if cut_by is not None and len(cut_by):
        cut_geoms = geoms_bng(cut_by)
        bad = ~shapely.is_valid(cut_geoms)
        if bad.any():
            cut_geoms[bad] = shapely.make_valid(cut_geoms[bad], method="structure",
                                                keep_collapsed=False)
        # only the cutting areas' ground near the area matters (a whole force is big)
        near = shapely.box(*np.add(bounds, [-cell_m, -cell_m, cell_m, cell_m]))
        cut_geoms = polygonal_part(shapely.intersection(cut_geoms, near))
        cut_geoms[shapely.is_missing(cut_geoms)] = shapely.from_wkt("POLYGON EMPTY")
        cut_geoms = make_partition(cut_geoms)
        pieces, cell, unit = _cut(pieces, cell, cut_geoms)
        pieces, cell, unit = _merge_slivers(pieces, cell, unit, full_m2)
    pieces, cell, unit = _merge_small(pieces, cell, unit, full_m2)
    keep = shapely.area(pieces) >= MIN_PIECE_M2
    pieces, cell, unit = pieces[keep], cell[keep], unit[keep]

    area_m2 = shapely.area(pieces)
    order = np.lexsort((-area_m2, col[cell], row[cell]))
    pieces, cell, unit, area_m2 = pieces[order], cell[order], unit[order], area_m2[order]
    base = np.char.add(_letters(col[cell]).astype(str), (row[cell] + 1).astype(str))
    first = np.r_[True, cell[1:] != cell[:-1]]
    start = np.flatnonzero(first)
    rank = np.arange(len(cell)) - np.repeat(start, np.diff(np.r_[start, len(cell)]))
    counts = np.bincount(np.cumsum(first) - 1)
    several = np.repeat(counts, counts) > 1
    suffix = np.where(several, _lower_letters(rank), "")
    ids = np.char.add(base, suffix.astype(str)).astype(object)

    out = gpd.GeoDataFrame(
        {"id": ids, "row": row[cell] + 1, "col": _letters(col[cell]), "area_m2": area_m2},
        geometry=repair(geoms_to_lonlat(pieces)),
        crs=WGS84,
    )
    if cut_by is not None:
        codes = (cut_by["code"].astype(str).to_numpy() if "code" in cut_by
                 else np.asarray(cut_by.index).astype(str))
        names = cut_by["name"].astype(str).to_numpy() if "name" in cut_by else codes
        has = unit >= 0
        none = np.array(None, dtype=object)
        out["area_code"] = np.where(has, codes[np.where(has, unit, 0)], none)
        out["area_name"] = np.where(has, names[np.where(has, unit, 0)], none)
    out.attrs["cell_m"] = cell_m
    out.attrs["shape"] = shape
    return out


def _lower_letters(k: np.ndarray) -> np.ndarray:
    return np.char.lower(_letters(k).astype(str))


__all__ = ["make_grid"]
