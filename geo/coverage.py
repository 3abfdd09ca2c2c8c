"""How well a sector was searched, from the GPS tracks teams actually walked.

Two different numbers per sector, both in British National Grid (EPSG:27700):

* **Effort coverage** ``C = W·L/A``: ``L`` is the total track length inside the
  sector times the searchers walking abreast on that track, ``W`` the sweep width
  (m), ``A`` the sector area (m²). ``POD = 1 − e^(−C)``. Walking the same line
  twice doubles the effort. This number drives probabilities.
* **Swept ground**: the union of the tracks buffered by ``W/2`` (round caps and
  joins: a searcher also sees around the point where they stop), intersected
  with the sector, as m² and as a share of the sector. Walking the same line
  twice adds nothing. This number drives the map of where feet went and the gap
  finder.

Everything is vectorised: tracks are cut into short pieces, an STRtree pairs
pieces with sectors, a piece wholly inside counts whole, a piece crossing a
sector's edge counts from where it crosses (:mod:`geo.clip_length`; GEOS
intersects only pieces that touch the edge without crossing it cleanly) and sums
are grouped with numpy; there is no Python loop over (track, sector) pairs.

Swept ground has two methods with the same answer. Small jobs (up to
:data:`SCAN_FROM_VERTICES` track vertices) buffer, per sector, the pieces within
reach and intersect: exact to the polygon GEOS makes. Large jobs buffer each track
once, whole, and measure the union of those buffers inside every sector with
scanlines (:mod:`geo.scanline`) every :func:`scan_row_m` metres, which needs no
polygon union at all; it stays well within 1 % of the exact union (tested against
it) and is many times faster on thousands of crossing tracks.

Decision support, not a prediction: W for urban ground is a planning assumption.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.clip_length import lengths_inside
from geo.crs import BNG, WGS84, BngGeometry, frame_to_bng, geoms_to_bng
from geo.detection import check_sweep_width, pod_array, sweep_width
from geo.errors import InputError
from geo.scanline import Scan
from geo.workers import cores, in_workers

#: Vertices per piece when tracks are cut up for the spatial index (short pieces
#: keep bounding boxes tight and each intersection cheap).
PIECE_VERTICES: int = 32
#: Segments per quarter circle for the round caps and joins of swept ground. A
#: point's swept disc is then a regular polygon with 4 × this many sides.
QUAD_SEGS: int = 8

#: Above this many track vertices swept ground is measured by scanlines over
#: whole-track buffers instead of exactly per sector (see the module notes).
SCAN_FROM_VERTICES: int = 50_000
#: Vertices per piece buffered for the scanlines: long pieces buffer slowly where a
#: track crosses itself often, short ones give the scan more crossings to sort
#: (256: measured fastest with the crossings sorted unstably, 0.1-0.2 s less than
#: whole 1,000-point tracks at 1M points).
SCAN_PIECE_VERTICES: int = 256
#: Scanline spacing as a share of the sweep width, and its bounds (m): a tenth of W
#: keeps every sector well within 1 % of the exact union (tested) at half the rows
#: (crossings to find and sort) of a twentieth.
SCAN_ROW_SHARE: float = 1 / 10
SCAN_ROW_MIN_M: float = 0.25
SCAN_ROW_MAX_M: float = 4.0

_T = TypeVar("_T")

COLUMNS = ["id", "length_m", "coverage", "pod", "swept_m2", "swept_share"]


def track_coverage(
    tracks: gpd.GeoDataFrame,
    sectors: gpd.GeoDataFrame,
    sweep_width_m: float,
    *,
    swept: bool = True,
    exact_swept: bool = False,
) -> pd.DataFrame:
    """Effort coverage, POD and swept ground of ``tracks`` in each of ``sectors``.

    ``tracks``: LineStrings (any CRS) with an optional ``searchers`` column (people
    walking abreast on that line, default 1). ``sectors``: polygons (any CRS) with an
    ``id`` column. ``sweep_width_m``: W in metres. Returns one row per sector, in the
    sectors' order: ``id``, ``length_m`` (track length inside × searchers, m),
    ``coverage`` (C), ``pod``, ``swept_m2``, ``swept_share`` (of the sector area).
    ``swept=False`` skips the swept ground (NaN), which is most of the time taken,
    when only POD is needed (e.g. per grid cell for a POA update).
    ``exact_swept=True`` measures swept ground exactly per sector whatever the size
    (slow on thousands of tracks; the reference the fast method is tested against).
    """
    w = check_sweep_width(sweep_width_m)
    sec_ids, sec = _sectors_bng(sectors)
    area = shapely.area(sec)
    lines, line_track = _track_lines(tracks)
    pieces, piece_track = _cut_lines(lines, line_track)
    searchers = _searchers(tracks)[piece_track] if len(pieces) else np.zeros(0)

    n = len(sec)
    effort: np.ndarray = np.zeros(n)
    swept_m2 = np.zeros(n) if swept else np.full(n, np.nan)
    if len(pieces):
        tree = shapely.STRtree(sec)
        pi, si = tree.query(pieces, predicate="intersects")
        effort = np.bincount(si, weights=_length_inside(pieces, sec, pi, si)
                             * searchers[pi], minlength=n)
        if swept:
            many = int(shapely.get_num_coordinates(pieces).sum()) > SCAN_FROM_VERTICES
            if many and not exact_swept:
                swept_m2 = _swept_area_scan(lines, sec, w)
            else:
                pi, si = tree.query(pieces, predicate="dwithin", distance=w / 2)
                swept_m2 = _swept_area(pieces, sec, pi, si, w)
    coverage = w * effort / area
    return pd.DataFrame(
        {
            "id": sec_ids,
            "length_m": effort,
            "coverage": coverage,
            "pod": pod_array(coverage),
            "swept_m2": swept_m2,
            "swept_share": np.clip(swept_m2 / area, 0.0, 1.0),
        },
        columns=COLUMNS,
    )


def swept_ground(
    tracks: gpd.GeoDataFrame,
    sweep_width_m: float | Sequence[float] | np.ndarray,
    clip: BngGeometry | None = None,
) -> BngGeometry:
    """The ground within ``W/2`` of any track (BNG polygon), optionally clipped (BNG).

    For the map of where feet went; walking a line twice adds nothing.
    ``sweep_width_m`` is one W (m) for every track, or one W per row of ``tracks``
    (each pass its own W, see :func:`pass_sweep_widths`): each track is then
    buffered whole by its own W/2 (round caps and joins) and the buffers united.
    """
    if np.ndim(sweep_width_m) == 0:
        w = check_sweep_width(float(cast(float, sweep_width_m)))
        pieces, _ = _track_pieces(tracks)
        if not len(pieces):
            return BngGeometry(shapely.Polygon())
        if clip is not None:
            pieces = pieces[shapely.dwithin(pieces, clip, w / 2)]
        # one array without ``indices`` makes one MultiLineString; the stubs also allow an array
        lines = cast(BaseGeometry, shapely.multilinestrings(pieces))
        ground = shapely.buffer(lines, w / 2, quad_segs=QUAD_SEGS)
        return BngGeometry(ground if clip is None else shapely.intersection(ground, clip))
    widths = np.asarray(sweep_width_m, dtype=float)
    if widths.shape != (len(tracks),):
        raise InputError("Give one sweep width per track.")
    for each in np.unique(widths):
        check_sweep_width(float(each))
    if len(tracks) == 0:
        return BngGeometry(shapely.Polygon())
    if tracks.crs is None:
        raise InputError("The tracks have no coordinate system; cannot measure them.")
    bng_lines = (geoms_to_bng(tracks.geometry.to_numpy()) if tracks.crs.equals(WGS84)
                 else tracks.to_crs(BNG).geometry.to_numpy())
    united = shapely.union_all(shapely.buffer(bng_lines, widths / 2, quad_segs=QUAD_SEGS))
    return BngGeometry(united if clip is None else shapely.intersection(united, clip))


def pass_sweep_widths(pass_ids: Iterable[Any], widths: Mapping[int, float]) -> np.ndarray:
    """Sweep width W (m) for each track from its pass's W; the default W where a track
    has no pass (or one not in ``widths``), see :func:`geo.detection.sweep_width`."""
    default = sweep_width()
    return np.array([widths.get(pid, default) if pid is not None and pid == pid else default
                     for pid in pass_ids], dtype=float)


def not_searched_split(
    sectors: gpd.GeoDataFrame, not_searched: gpd.GeoDataFrame | gpd.GeoSeries | None
) -> gpd.GeoDataFrame:
    """Sectors minus the ground a team marked "not searched" (BNG).

    Returns the sectors' ``id`` with the searched part as geometry and
    ``searched_m2``, ``not_searched_m2``, ``searched_share``. For that pass the
    not-searched ground has POD 0: run :func:`track_coverage` on the result to get the
    POD of the searched part, and the pass POD over the whole sector (uniform
    probability within it) is ``pod × searched_share``.
    """
    ids, sec = _sectors_bng(sectors)
    holes: BaseGeometry
    if not_searched is None or len(not_searched) == 0:
        holes = shapely.Polygon()
    else:
        ns = not_searched if not_searched.crs is not None else None
        if ns is None:
            raise InputError("The 'not searched' areas have no coordinate system.")
        ns_geoms = shapely.make_valid(frame_to_bng(ns))
        holes = shapely.union_all(ns_geoms[shapely.area(ns_geoms) > 0])
    searched = shapely.difference(sec, holes)
    a, s = shapely.area(sec), shapely.area(searched)
    return gpd.GeoDataFrame(
        {"id": ids, "searched_m2": s, "not_searched_m2": a - s, "searched_share": s / a},
        geometry=searched,
        crs=BNG,
    )


# ---------------------------------------------------------------- helpers


def _sectors_bng(sectors: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    if "id" not in sectors.columns:
        raise InputError("Sectors need an 'id' column.")
    if sectors.crs is None:
        raise InputError("The sectors have no coordinate system; cannot measure them.")
    geoms = frame_to_bng(sectors)
    if len(geoms) and (shapely.is_missing(geoms).any() or not shapely.is_valid(geoms).all()):
        geoms = shapely.make_valid(geoms)
    area = shapely.area(geoms)
    if (area <= 0).any():
        bad = sectors["id"].to_numpy()[area <= 0]
        raise InputError(f"Sector(s) {', '.join(map(str, bad[:5]))} have no area.")
    return sectors["id"].to_numpy(), geoms


def _searchers(tracks: gpd.GeoDataFrame) -> np.ndarray:
    if "searchers" not in tracks.columns:
        return np.ones(len(tracks))
    s = pd.to_numeric(tracks["searchers"], errors="coerce").fillna(1).to_numpy(float)
    if (s < 1).any() or (s > 200).any():
        raise InputError("Searchers abreast must be between 1 and 200 for every track.")
    return s


def _track_pieces(tracks: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Tracks (any CRS) → short LineString pieces in BNG and each piece's track row."""
    return _cut_lines(*_track_lines(tracks))


def _track_lines(tracks: gpd.GeoDataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Tracks (any CRS) → their LineStrings of two vertices or more in BNG, and each
    line's track row (a MultiLineString gives one line per part)."""
    none = np.empty(0, dtype=object), np.empty(0, dtype=int)
    if len(tracks) == 0:
        return none
    if tracks.crs is None:
        raise InputError("The tracks have no coordinate system; cannot measure them.")
    if tracks.crs.equals(WGS84):  # the usual case: reprojected in slices on every core
        geoms = np.concatenate(_map_threads(geoms_to_bng, tracks.geometry.to_numpy()))
    else:
        geoms = tracks.to_crs(BNG).geometry.to_numpy()
    parts, row = shapely.get_parts(geoms, return_index=True)
    lines = shapely.get_type_id(parts) == 1
    parts, row = parts[lines], row[lines]
    ok = shapely.get_num_coordinates(parts) >= 2
    return parts[ok], row[ok]


def _cut_lines(parts: np.ndarray, row: np.ndarray, vertices: int = PIECE_VERTICES
               ) -> tuple[np.ndarray, np.ndarray]:
    """BNG LineStrings → pieces of at most ``vertices`` vertices, each with its line's
    ``row``."""
    if not len(parts):
        return np.empty(0, dtype=object), np.empty(0, dtype=int)
    coords, vidx = shapely.get_coordinates(parts, return_index=True)
    nv = np.bincount(vidx, minlength=len(parts))
    ok = nv >= 2
    if not ok.any():
        return np.empty(0, dtype=object), np.empty(0, dtype=int)
    if nv.max() <= vertices:  # nothing to cut: the lines themselves
        return parts[ok], row[ok]
    keep_v = ok[vidx]
    coords, vidx = coords[keep_v], vidx[keep_v]
    # position of each vertex in its line and its line's vertex count
    part_start = np.zeros(len(parts), dtype=int)
    part_start[ok] = np.r_[0, np.cumsum(nv[ok])[:-1]]
    i = np.arange(len(coords)) - part_start[vidx]
    n = nv[vidx]
    k = vertices - 1  # segments per piece
    chunks_per_line = np.zeros(len(parts), dtype=int)
    chunks_per_line[ok] = (nv[ok] - 2) // k + 1
    chunk_offset = np.r_[0, np.cumsum(chunks_per_line)[:-1]]
    own = np.minimum(i, n - 2) // k + chunk_offset[vidx]
    extra = (i > 0) & (i % k == 0) & (i <= n - 2)  # a piece's last vertex starts the next
    ids = np.r_[own, (i[extra] // k - 1) + chunk_offset[vidx[extra]]]
    xy = np.r_[coords, coords[extra]]
    order = np.argsort(ids, kind="stable")
    # stable sort keeps each piece's vertices in order: the extra (end) vertex came
    # after the piece's own vertices in the concatenation
    pieces = shapely.linestrings(xy[order], indices=ids[order])
    piece_part = np.repeat(np.arange(len(parts)), chunks_per_line)
    return pieces, row[piece_part]


def _swept_area(pieces: np.ndarray, sec: np.ndarray, pi: np.ndarray, si: np.ndarray,
                w: float) -> np.ndarray:
    """Area of (union of pieces buffered by w/2) ∩ sector, per sector (grouped, vectorised)."""
    n = len(sec)
    out = np.zeros(n)
    if not len(pi):
        return out
    order = np.argsort(si, kind="stable")
    pi, si = pi[order], si[order]
    groups, start = np.unique(si, return_index=True)
    # one MultiLineString per sector of every piece within reach, buffered once:
    # GEOS unions overlapping buffers, so a line walked twice is counted once.
    # Consecutive pieces of a track are merged back first: GEOS buffers one long
    # line faster than the union of many short ones.
    multi = shapely.line_merge(shapely.multilinestrings(pieces[pi], indices=np.repeat(
        np.arange(len(groups)), np.diff(np.r_[start, len(si)]))))
    def swept_in(m: np.ndarray, g: np.ndarray) -> np.ndarray:
        return shapely.area(
            shapely.intersection(shapely.buffer(m, w / 2, quad_segs=QUAD_SEGS), g)
        )

    out[groups] = _in_threads(swept_in, multi, sec[groups])
    return out


def _length_inside(pieces: np.ndarray, sec: np.ndarray, pi: np.ndarray, si: np.ndarray
                   ) -> np.ndarray:
    """Length of ``pieces[pi]`` inside ``sec[si]`` for intersecting pairs (vectorised).

    A piece wholly inside its sector counts its whole length; pieces crossing the
    sector's edge are measured from where they cross it (:mod:`geo.clip_length`), and
    GEOS intersects (in threads) only those touching the edge without a clean crossing.
    """
    out = np.asarray(shapely.length(pieces[pi]), dtype=float)
    if not len(pi):
        return out
    shapely.prepare(sec)
    cut = ~shapely.contains_properly(sec[si], pieces[pi])
    if cut.any():
        got = lengths_inside(pieces, sec, pi[cut], si[cut])
        doubt = np.isnan(got)
        if doubt.any():  # touching the boundary: GEOS decides
            def inside(p: np.ndarray, g: np.ndarray) -> np.ndarray:
                return np.asarray(shapely.length(shapely.intersection(p, g)), dtype=float)

            rows = np.flatnonzero(cut)[doubt]
            got[doubt] = _in_threads(inside, pieces[pi[rows]], sec[si[rows]])
        out[cut] = got
    return out


def scan_row_m(sweep_width_m: float) -> float:
    """Scanline spacing (m) for swept ground of sweep width ``sweep_width_m``."""
    return float(np.clip(sweep_width_m * SCAN_ROW_SHARE, SCAN_ROW_MIN_M, SCAN_ROW_MAX_M))


def _swept_area_scan(lines: np.ndarray, sec: np.ndarray, w: float) -> np.ndarray:
    """Area of (union of lines buffered by w/2) ∩ sector, per sector, by scanlines.

    Each track is buffered in long pieces (round caps and joins, in threads), and
    only lines within reach of the sectors are; the union is never built.
    """
    if not len(lines) or not len(sec):
        return np.zeros(len(sec))
    reach = shapely.box(*shapely.total_bounds(sec)).buffer(w / 2, join_style="mitre")
    near = lines[shapely.intersects(lines, reach)]
    near, _ = _cut_lines(near, np.zeros(len(near), dtype=int), SCAN_PIECE_VERTICES)
    scan = Scan(sec, scan_row_m(w))

    def crossings(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        return scan.crossings(shapely.buffer(m, w / 2, quad_segs=QUAD_SEGS))

    return scan.area_within(_map_threads(crossings, near))


def _in_threads(fn: Callable[..., np.ndarray], *arrays: np.ndarray) -> np.ndarray:
    """Apply a vectorised shapely ``fn`` to chunks of equal-length arrays on every core.

    Shapely releases the GIL inside its vectorised functions, so threads run the
    chunks in parallel (buffering is the slow part of swept ground).
    """
    if len(arrays[0]) < 64:
        return fn(*arrays)
    return np.concatenate(_map_threads(fn, *arrays))


def _map_threads(fn: Callable[..., _T], *arrays: np.ndarray) -> list[_T]:
    """``fn`` of each chunk of equal-length arrays, chunks run on the shared worker
    threads (:mod:`geo.workers`), four per core."""
    n = len(arrays[0])
    if cores() == 1 or n < 64:
        return [fn(*arrays)]
    bounds = np.linspace(0, n, 4 * cores() + 1).astype(int)
    return in_workers(lambda ab: fn(*(a[ab[0]:ab[1]] for a in arrays)),
                      list(itertools.pairwise(bounds)))
