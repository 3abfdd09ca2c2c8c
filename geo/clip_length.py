"""Length of lines inside polygons, from where the lines cross the polygons' rings.

GEOS measures ``length(intersection(line, polygon))`` with a full overlay, about
10 µs a pair: most of the effort figure of tens of thousands of track pieces that
cross sector edges. The length inside needs only the points where the line crosses
the polygon's rings: walking along the line from its first vertex, it is inside
from an entry to the next exit. Those crossings are found with numpy for every
pair at once (an STRtree pairs each line with the ring edges near it; no Python
loop over pairs).

A pair is left undecided (NaN, for GEOS to measure) wherever the walk could be in
doubt: the line touches a ring without crossing it cleanly (a vertex on an edge, a
segment along an edge, a polygon corner on a segment), its first or last vertex is
on the boundary, the walk ends on the wrong side of the boundary (rounding), or the
polygon is not a (Multi)Polygon. Elsewhere the answer is GEOS's to rounding
(about 1e-12 of the length).

Coordinates in one projected CRS, metres (British National Grid here).
"""

from __future__ import annotations

from typing import cast

import numpy as np
import shapely

#: Crossings closer than this share of a segment or edge to either end are touches
#: (left to GEOS).
END_SHARE: float = 1e-9
#: Parallel segment and edge closer than this (m) are collinear (left to GEOS).
COLLINEAR_M: float = 1e-6
_POLYGONAL = (3, 6)


def _ring_edges(polys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ring edge of the polygonal ``polys``: (n × 4 array x1 y1 x2 y2, owner)."""
    parts, owner = shapely.get_parts(polys, return_index=True)
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    same = ring[1:] == ring[:-1]
    ends = np.column_stack([xy[:-1][same], xy[1:][same]])
    return ends, owner[ring_part[ring[:-1][same]]]


def lengths_inside(lines: np.ndarray, polys: np.ndarray, a: np.ndarray, b: np.ndarray
                   ) -> np.ndarray:
    """Length (m) of ``lines[a[k]]`` inside ``polys[b[k]]`` for every pair ``k``, NaN
    where undecided (see the module notes). ``lines``: LineStrings; ``polys``: valid
    polygons; pairs as ``STRtree.query`` gives them."""
    n = len(a)
    out = np.full(n, np.nan)
    if not n:
        return out
    walkable = shapely.get_num_coordinates(lines[a]) >= 2
    if not walkable.all():  # lines of fewer than two vertices stay undecided
        out[walkable] = lengths_inside(lines, polys, a[walkable], b[walkable])
        return out
    ua, a_u = np.unique(a, return_inverse=True)
    ub, b_u = np.unique(b, return_inverse=True)
    ls, ps = lines[ua], polys[ub]
    xy, vline = shapely.get_coordinates(ls, return_index=True)
    first = np.searchsorted(vline, np.arange(len(ls)))
    last = np.r_[first[1:], len(vline)] - 1
    # distance along each line to each vertex
    step = np.zeros(len(xy))
    step[1:] = np.hypot(*(xy[1:] - xy[:-1]).T)
    step[first] = 0.0
    along_all = np.cumsum(step, dtype=np.longdouble)  # running over every line: keep digits
    along = np.asarray(along_all - along_all[first][vline], dtype=float)
    total = along[last]

    ends, owner = _ring_edges(ps)
    polygonal = np.isin(shapely.get_type_id(ps), _POLYGONAL)
    # (line, edge) pairs whose boxes meet, kept where the edge's polygon is paired
    # with the line
    # an (n, 2, 2) array gives n lines (the stubs only know the single-line case)
    tree = shapely.STRtree(cast(np.ndarray, shapely.linestrings(ends.reshape(-1, 2, 2))))
    cl, ce = tree.query(ls)
    pair_key = a_u.astype(np.int64) * len(ps) + b_u
    order = np.argsort(pair_key)
    key = cl.astype(np.int64) * len(ps) + owner[ce]
    at = np.minimum(np.searchsorted(pair_key, key, sorter=order), n - 1)
    hit = pair_key[order[at]] == key
    ck, ce, cl = order[at[hit]], ce[hit], cl[hit]

    # every segment of the candidate's line against the candidate's edge, first by
    # their boxes (each segment's and edge's box worked out once)
    tol = COLLINEAR_M
    ax, ay, bx, by = xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]
    sxlo, sxhi = np.minimum(ax, bx) - tol, np.maximum(ax, bx) + tol
    sylo, syhi = np.minimum(ay, by) - tol, np.maximum(ay, by) + tol
    exlo, exhi = np.minimum(ends[:, 0], ends[:, 2]), np.maximum(ends[:, 0], ends[:, 2])
    eylo, eyhi = np.minimum(ends[:, 1], ends[:, 3]), np.maximum(ends[:, 1], ends[:, 3])
    count = np.maximum(last[cl] - first[cl], 0)
    v = np.repeat(first[cl] - (np.cumsum(count) - count), count) + np.arange(count.sum())
    e = np.repeat(ce, count)
    meet = np.flatnonzero((sxlo[v] <= exhi[e]) & (exlo[e] <= sxhi[v])
                          & (sylo[v] <= eyhi[e]) & (eylo[e] <= syhi[v]))
    k, v, e = np.repeat(ck, count)[meet], v[meet], e[meet]
    px, py = xy[v, 0], xy[v, 1]
    rx, ry = xy[v + 1, 0] - px, xy[v + 1, 1] - py
    moves = (rx != 0) | (ry != 0)
    k, v, e, px, py, rx, ry = (c[moves] for c in (k, v, e, px, py, rx, ry))
    qx, qy = ends[e, 0], ends[e, 1]
    sx, sy = ends[e, 2] - qx, ends[e, 3] - qy
    dx, dy = qx - px, qy - py
    den = rx * sy - ry * sx
    rlen, slen = np.hypot(rx, ry), np.hypot(sx, sy)
    parallel = np.abs(den) <= 1e-12 * rlen * slen
    with np.errstate(divide="ignore", invalid="ignore"):
        t = (dx * sy - dy * sx) / den
        u = (dx * ry - dy * rx) / den
    collinear = parallel & (np.abs(dx * ry - dy * rx) <= tol * rlen)
    lo, hi = -END_SHARE, 1 + END_SHARE
    touch = ~parallel & (t >= lo) & (t <= hi) & (u >= lo) & (u <= hi)
    clean = touch & (t > END_SHARE) & (t < 1 - END_SHARE) & (u > END_SHARE) & (
        u < 1 - END_SHARE)
    doubt = np.bincount(k[collinear | (touch & ~clean)], minlength=n) > 0

    # the walk: sorted crossings along each line alternate entry / exit
    ck2 = k[clean]
    dist = along[v[clean]] + t[clean] * rlen[clean]
    order = np.lexsort((dist, ck2))
    ck2, dist = ck2[order], dist[order]
    crossings = np.bincount(ck2, minlength=n)
    rank = np.arange(len(ck2)) - (np.cumsum(crossings) - crossings)[ck2]
    g = ps[b_u]
    x0, y0 = xy[first[a_u]].T
    x1, y1 = xy[last[a_u]].T
    start_in = shapely.contains_xy(g, x0, y0)
    end_in = shapely.contains_xy(g, x1, y1)
    on_edge = ((shapely.intersects_xy(g, x0, y0) != start_in)
               | (shapely.intersects_xy(g, x1, y1) != end_in))
    inside_before = start_in[ck2] ^ (rank % 2 == 1)  # inside before this crossing: an exit
    walked = np.bincount(ck2, weights=np.where(inside_before, dist, -dist), minlength=n)
    ends_in = start_in ^ (crossings % 2 == 1)
    walked = walked + np.where(ends_in, total[a_u], 0.0)  # (bincount of nothing is int)
    ok = ~doubt & ~on_edge & (ends_in == end_in) & polygonal[b_u]
    out[ok] = walked[ok]
    return out
