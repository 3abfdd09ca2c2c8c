"""Area of a union of many polygons inside each of many zones, by horizontal scanlines.

GEOS unions heavily overlapping polygons (thousands of buffered GPS tracks that
cross and re-cross each other) slowly, because every crossing must be noded. The
area of a union needs no noding: along a horizontal line the union is where the
*winding number* of the polygons' rings is above zero. A :class:`Scan` samples
the plane on rows ``y0 + (i + ½)·h``, finds where every ring edge crosses every
row (numpy, no Python loop over geometries), sorts the crossings along the rows
once and adds up the ±1 of each crossing: the union on each row is a set of exact
x-intervals. A zone's part is its own intervals on the same rows, and its area
is ``h`` × the covered length summed over the rows (the midpoint rule in y; exact
in x). In the rows where a zone has a vertex (its top and bottom edges, corners)
the zone alone is sampled on finer sub-rows, so a zone's own edges cost no
error of up to half a row.

All coordinates are metres in one projected CRS (British National Grid here).
The approximation left is the union sampled once per row: with ``h`` at a
tenth of a buffer's width (4 m at most) it stays well below 1 % (the tests check it against
the exact GEOS union).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import shapely

_POLYGON = 3
#: Sub-rows per row where a zone has a vertex.
SUB_ROWS: int = 8

_Edges = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]


def _edges(geoms: np.ndarray, owners: bool = True) -> _Edges:
    """Every non-horizontal ring edge of the polygonal parts of ``geoms``:
    (owner position, x1, y1, x2, y2, entering sign); no owners (an empty array)
    with ``owners=False``.

    The sign is +1 where a left-to-right scan enters the owner's polygon at that
    edge and −1 where it leaves, whatever the rings' stored orientation (shells and
    holes are told apart by position).
    """
    parts, part_owner = shapely.get_parts(geoms, return_index=True)
    polys = shapely.get_type_id(parts) == _POLYGON
    parts, part_owner = parts[polys], part_owner[polys]
    rings, ring_part = shapely.get_rings(parts, return_index=True)
    shell = np.r_[True, ring_part[1:] != ring_part[:-1]] if len(rings) else np.zeros(0, bool)
    xy, ring = shapely.get_coordinates(rings, return_index=True)
    x1, y1, x2, y2 = xy[:-1, 0], xy[:-1, 1], xy[1:, 0], xy[1:, 1]
    # counter-clockwise shells and clockwise holes are entered on downward edges
    # (a ring of no area may go either way: its crossings cancel out)
    flip = np.where(shapely.is_ccw(rings) == shell, 1, -1)
    # consecutive vertices of one ring make an edge; horizontal ones cross no row
    keep = np.flatnonzero((ring[1:] == ring[:-1]) & (y1 != y2))
    edge_ring = ring[keep]
    y1k, y2k = y1[keep], y2[keep]
    sign = np.where(y2k < y1k, 1, -1) * flip[edge_ring]
    owner = part_owner[ring_part[edge_ring]] if owners else np.empty(0, dtype=np.int64)
    return owner, x1[keep], y1k, x2[keep], y2k, sign


def _expand(e: _Edges, first: np.ndarray, count: np.ndarray, y_of: np.ndarray
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Crossings of edge ``k`` with rows ``first[k] … first[k] + count[k] − 1``:
    (edge position, row, x, sign); ``y_of`` maps a row to its y."""
    _, x1, y1, x2, y2, sign = e
    k = np.repeat(np.arange(len(count)), count)
    row = first[k] + np.arange(len(k)) - np.repeat(np.cumsum(count) - count, count)
    slope = ((x2 - x1) / (y2 - y1))[k]
    x = x1[k] + (y_of[row] - y1[k]) * slope
    return k, row, x, sign[k]


class Scan:
    """Rows every ``h`` metres over the extent of ``zones`` (valid BNG (Multi)Polygons).

    Measure the union of many polygons inside each zone by passing the polygons,
    in as many chunks as convenient (each chunk may run in its own thread), to
    :meth:`crossings` and all the results to :meth:`area_within`.
    """

    def __init__(self, zones: np.ndarray, h: float) -> None:
        self.zones = zones
        self.h = float(h)
        x0, y0, x1, y1 = shapely.total_bounds(zones) if len(zones) else (0.0, 0.0, 0.0, 0.0)
        self.empty = not len(zones) or not np.isfinite([x0, y0, x1, y1]).all()
        if self.empty:
            x0 = y0 = x1 = y1 = 0.0
        self.y0 = float(y0)
        self.n = int(np.ceil((y1 - y0) / self.h)) + 1
        # one sort key per crossing, row-major then x: x is measured from just left of
        # the zones and clipped to just right of them, so every key of a row is below
        # every key of the next row (what lies outside every zone does not matter)
        self.left = float(x0) - 1.0
        self.width = float(x1 - x0) + 2.0
        self.mid = self.y0 + (np.arange(self.n) + 0.5) * self.h

    def _rows(self, ylo: np.ndarray, yhi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """First row and row count whose middle lies in [ylo, yhi) (each vertex once)."""
        first = np.clip(np.ceil((ylo - self.y0) / self.h - 0.5), 0, self.n).astype(np.int64)
        stop = np.clip(np.ceil((yhi - self.y0) / self.h - 0.5), 0, self.n).astype(np.int64)
        return first, stop - first

    def _key(self, row: np.ndarray, x: np.ndarray) -> np.ndarray:
        return row * self.width + np.clip(x - self.left, 0.0, self.width)

    def crossings(self, polygons: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(sort key, entering sign) of every crossing of the polygons' rings with the rows."""
        if self.empty or not len(polygons):
            return np.empty(0), np.empty(0, dtype=np.int64)
        e = _edges(polygons, owners=False)
        first, count = self._rows(np.minimum(e[2], e[4]), np.maximum(e[2], e[4]))
        _, row, x, sign = _expand(e, first, count, self.mid)
        return self._key(row, x), sign

    def area_within(self, chunks: list[tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        """Area (m²) of the union of the polygons whose crossings are ``chunks`` inside
        each zone, in the zones' order."""
        out = np.zeros(len(self.zones))
        if self.empty or not chunks:
            return out
        key = np.concatenate([c[0] for c in chunks])
        step = np.concatenate([c[1] for c in chunks])
        if not len(key):
            return out
        # any order of equal keys will do (nothing lies between them), so the fast
        # unstable sort: several times quicker than a stable one on millions of keys
        order = np.argsort(key)
        key, step = key[order], step[order]
        inside = np.cumsum(step) > 0  # covered from this crossing to the next
        done = np.r_[0.0, np.cumsum(np.where(inside[:-1], np.diff(key), 0.0))]

        def covered_to(k: np.ndarray) -> np.ndarray:
            """Covered length from the start of the first row up to sort key ``k``."""
            m = np.searchsorted(key, k, side="right") - 1
            mm = np.maximum(m, 0)
            at = done[mm] + np.where(inside[mm], k - key[mm], 0.0)
            return np.where(m < 0, 0.0, at)

        e = _edges(self.zones)
        if not len(e[0]):
            return out
        # rows where a zone has a vertex are sampled on sub-rows instead (below)
        vx, vz = shapely.get_coordinates(self.zones, return_index=True)
        vrow = np.floor((vx[:, 1] - self.y0) / self.h).astype(np.int64)
        ok = (vrow >= 0) & (vrow < self.n)
        fine = np.unique(vz[ok] * self.n + vrow[ok])  # (zone, row) codes, sorted

        first, count = self._rows(np.minimum(e[2], e[4]), np.maximum(e[2], e[4]))
        k, row, x, sign = _expand(e, first, count, self.mid)
        zone = e[0][k]
        coarse = ~np.isin(zone * self.n + row, fine)
        out += self._zone_part(zone[coarse], row[coarse], row[coarse], x[coarse],
                               sign[coarse], len(self.zones), covered_to) * self.h

        # each edge meets the fine rows of its own zone that its y-range reaches
        fz, frow = fine // self.n, fine % self.n
        per_zone = np.bincount(fz, minlength=len(self.zones))
        start = np.cumsum(per_zone) - per_zone
        ek = np.repeat(np.arange(len(e[0])), per_zone[e[0]])
        fk = start[e[0]][ek] + np.arange(len(ek)) - np.repeat(
            np.cumsum(per_zone[e[0]]) - per_zone[e[0]], per_zone[e[0]])
        ylo = np.minimum(e[2], e[4])[ek]
        yhi = np.maximum(e[2], e[4])[ek]
        band = self.y0 + frow[fk] * self.h
        reach = (yhi > band) & (ylo < band + self.h)
        ek, fk, ylo, yhi, band = ek[reach], fk[reach], ylo[reach], yhi[reach], band[reach]
        sub = self.h / SUB_ROWS
        lo = np.clip(np.ceil((ylo - band) / sub - 0.5), 0, SUB_ROWS).astype(np.int64)
        hi = np.clip(np.ceil((yhi - band) / sub - 0.5), 0, SUB_ROWS).astype(np.int64)
        # sub-rows numbered globally: fine row f, sub-row j -> f * SUB_ROWS + j
        sub_e = (e[0][ek], e[1][ek], e[2][ek], e[3][ek], e[4][ek], e[5][ek])
        y_sub = (np.repeat(self.y0 + frow * self.h, SUB_ROWS)
                 + np.tile((np.arange(SUB_ROWS) + 0.5) * sub, len(frow)))
        _, srow, sx, ssign = _expand(sub_e, fk * SUB_ROWS + lo, hi - lo, y_sub)
        sf = srow // SUB_ROWS
        out += self._zone_part(fz[sf], srow, frow[sf], sx, ssign, len(self.zones),
                               covered_to) * sub
        return out

    def _zone_part(self, zone: np.ndarray, group: np.ndarray, row: np.ndarray, x: np.ndarray,
                   sign: np.ndarray, n: int,
                   covered_to: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
        """Covered length inside each zone summed over its sampled lines: crossings of a
        zone's edges on one line share ``group``; the union is read on ``row``."""
        if not len(zone):
            return np.zeros(n)
        order = np.lexsort((x, group, zone))
        zone, row, x, sign = zone[order], row[order], x[order], sign[order]
        # each (zone, line) run of signs sums to zero, so one running sum serves all
        within = np.cumsum(sign)[:-1] > 0
        a = self._key(row[:-1][within], x[:-1][within])
        b = self._key(row[1:][within], x[1:][within])
        got = covered_to(b) - covered_to(a)
        return np.bincount(zone[:-1][within], weights=got, minlength=n)


def union_area_within(polygons: np.ndarray, zones: np.ndarray, h: float) -> np.ndarray:
    """Area (m²) of the union of ``polygons`` inside each of ``zones``, sampled every ``h`` m.

    ``polygons`` and ``zones``: object arrays of valid (Multi)Polygons in one metric
    CRS (other geometry types are ignored). Returns one area per zone.
    """
    scan = Scan(zones, h)
    return scan.area_within([scan.crossings(polygons)])
