"""The warm overlap index of a case's sectors, kept per process and refreshed by the change.

Duplicate prevention asks "which sectors of this case does this outline
overlap?" on every draw, import and assignment. Reading every outline of a
50,000-sector case for each question is the real cost, so each process keeps,
per case, a :class:`CaseIndex` (British National Grid, STRtree) tagged with the
case's change counter. A check reads the counter (one indexed query); when it
has moved, only the sectors written since (``change_n`` above the cached value)
are read again and added to a small second tree, their old entries masked out;
deleted sectors are masked after reading the case's sector ids. The big tree is
rebuilt only when the additions grow past :data:`COMPACT_SHARE` of the case, so
a write costs the changed rows, not the whole case.

Searched ground leaves out what was recorded as not searched. Areas are m² in
EPSG:27700; outlines come in and go out lon/lat.
"""

from __future__ import annotations

import gc
import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from casefile import fieldwork as fw
from casefile import permissions as perm
from casefile import schema as t
from casefile.database import Database
from casefile.errors import InvalidInput
from casefile.fieldwork import Overlap
from casefile.permissions import Actor
from casefile.sector_rows import decode
from casefile.unit_of_work import UnitOfWork
from geo.crs import BNG, BngGeometry, decoded_to_bng, geoms_to_bng, geoms_to_lonlat
from geo.errors import InputError
from geo.overlap import SectorIndex, measure_overlaps
from geo.shapes import clip_to_remainder
from geo.workers import cores, in_workers

#: the second tree is folded into the big one when it holds more than this share of
#: the case's sectors (or more than COMPACT_MIN entries, whichever is larger)
COMPACT_SHARE = 0.05
COMPACT_MIN = 256
#: a cold load decodes in slices on every core from this many sectors on
COLD_SLICE_FROM = 4096


def _valid(geoms: np.ndarray) -> np.ndarray:
    """BNG outlines made valid where they are not (vectorised; missing stay missing)."""
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    return geoms


class CaseIndex:
    """A case's sectors in BNG with spatial indexes, as of change counter ``token``.

    Positions number ``ids``/``geoms``; an entry superseded by a later write or
    deleted stays in the arrays but is masked out (``live``), so always find
    positions through :meth:`query` / :meth:`query_many`. ``index`` is the index
    itself (older callers ask for ``index.index.query``).
    """

    __slots__ = ("_base", "_extra", "_pos", "geoms", "ids", "live", "n_base", "token")

    def __init__(self, token: int, ids: np.ndarray, geoms: np.ndarray, live: np.ndarray,
                 n_base: int, base: shapely.STRtree, pos: dict[int, int]) -> None:
        self.token = token
        self.ids = ids
        self.geoms = geoms
        self.live = live
        self.n_base = n_base
        self._base = base
        self._extra = shapely.STRtree(geoms[n_base:]) if len(geoms) > n_base else None
        self._pos = pos  # sector id -> its live position

    @classmethod
    def build(cls, token: int, ids: np.ndarray, geoms: np.ndarray, *,
              validated: bool = False) -> CaseIndex:
        """A fresh index over ``geoms`` (BNG) of sectors ``ids`` (one big tree)."""
        ids = np.asarray(ids, dtype=np.int64)
        geoms = np.asarray(geoms, dtype=object) if validated else _valid(
            np.asarray(geoms, dtype=object))
        pos = dict(zip(ids.tolist(), range(len(ids)), strict=True))
        return cls(token, ids, geoms, np.ones(len(ids), dtype=bool), len(ids),
                   shapely.STRtree(geoms), pos)

    def refreshed(self, token: int, ids: np.ndarray, geoms: np.ndarray,
                  case_ids: np.ndarray | None = None) -> CaseIndex:
        """This index with sectors ``ids`` rewritten as ``geoms`` (BNG) at ``token``.

        ``case_ids``: every sector id the case now has, when some were deleted.
        """
        ids = np.asarray(ids, dtype=np.int64)
        live = self.live.copy()
        pos = dict(self._pos)
        old = [pos.pop(i) for i in ids.tolist() if i in pos]
        live[old] = False
        if case_ids is not None:
            gone = set(pos) - set(np.asarray(case_ids).tolist())
            live[[pos.pop(i) for i in gone]] = False
        start = len(self.ids)
        pos.update(zip(ids.tolist(), range(start, start + len(ids)), strict=True))
        all_ids = np.concatenate([self.ids, ids])
        all_geoms = np.concatenate([self.geoms, _valid(np.asarray(geoms, dtype=object))])
        all_live = np.concatenate([live, np.ones(len(ids), dtype=bool)])
        n_live = len(pos)
        if len(all_ids) - self.n_base > max(COMPACT_MIN, COMPACT_SHARE * n_live):
            return CaseIndex.build(token, all_ids[all_live], all_geoms[all_live], validated=True)
        return CaseIndex(token, all_ids, all_geoms, all_live, self.n_base, self._base, pos)

    def with_token(self, token: int) -> CaseIndex:
        """The same sectors at a later change counter (the case moved, no sector did)."""
        out = CaseIndex.__new__(CaseIndex)
        for name in CaseIndex.__slots__:
            setattr(out, name, getattr(self, name))
        out.token = token
        return out

    @property
    def index(self) -> CaseIndex:
        return self

    def __len__(self) -> int:
        return len(self._pos)

    def query(self, geom: BaseGeometry) -> np.ndarray:
        """Live positions whose outline intersects the BNG geometry ``geom``."""
        hits = self._base.query(geom, predicate="intersects")
        if self._extra is not None:
            more = self._extra.query(geom, predicate="intersects") + self.n_base
            hits = np.concatenate([hits, more])
        return hits[self.live[hits]]

    def query_many(self, geoms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(candidate position, live sector position) pairs whose outlines intersect."""
        cand, hit = self._base.query(geoms, predicate="intersects")
        if self._extra is not None:
            c2, h2 = self._extra.query(geoms, predicate="intersects")
            cand, hit = np.concatenate([cand, c2]), np.concatenate([hit, h2 + self.n_base])
        keep = self.live[hit]
        return cand[keep], hit[keep]

    def overlaps_bng(self, candidate_bng: BngGeometry) -> pd.DataFrame:
        """``id``, ``overlap_m2``, ``share`` of the live sectors a BNG candidate overlaps."""
        cand = (candidate_bng if candidate_bng.is_valid
                else BngGeometry(shapely.make_valid(candidate_bng)))
        hits = self.query(cand)
        return measure_overlaps(self.ids[hits], self.geoms[hits], cand)

    def ground_of(self, sector_ids: Iterable[int]) -> np.ndarray:
        """The indexed BNG ground of live sectors, in the order asked."""
        return self.geoms[[self._pos[int(i)] for i in sector_ids]]


def ground_bng(rows: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, BNG ground) for sector rows of raw WKB: searched ground leaves out what was not."""
    ids = np.fromiter((r.id for r in rows), dtype=np.int64, count=len(rows))
    if not len(rows):
        return ids, np.empty(0, dtype=object)
    geoms = decode([r.geom for r in rows])
    holes = [i for i, r in enumerate(rows) if r.not_searched_geom is not None]
    if holes:
        cut = decode([rows[i].not_searched_geom for i in holes])
        geoms[holes] = shapely.difference(geoms[holes], cut)
    return ids, geoms_to_bng(geoms)


#: the name of the per-case indexes in :attr:`Database.caches`
CACHE_NAME = "sector_index"


def index_rows(
    conn: sa.Connection, backend: str, case_id: int, since: int | None
) -> Sequence[sa.Row[Any, Any, Any]]:
    """Sector rows (id, raw WKB outlines) of the case, only those written after ``since``."""
    q = sa.select(
        t.sectors.c.id,
        fw.wkb_column(t.sectors.c.geom, backend),
        fw.wkb_column(t.sectors.c.not_searched_geom, backend),
    ).where(t.sectors.c.case_id == case_id)
    if since is not None:
        q = q.where(t.sectors.c.change_n > since)
    return conn.execute(q).all()


def _driver_rows(conn: sa.Connection, query: sa.Select[Any]) -> list[tuple[Any, ...]]:
    """The rows of ``query`` as the database driver hands them over (plain tuples, no
    result processing), in ``conn``'s transaction: PostgreSQL sends them in its binary
    format, so WKB arrives as bytes with no hex to decode."""
    compiled = query.compile(dialect=conn.dialect)
    params: Any = compiled.params
    if compiled.positiontup is not None:
        params = tuple(compiled.params[k] for k in compiled.positiontup)
    raw: Any = conn.connection.dbapi_connection
    cur = raw.cursor(binary=True) if conn.dialect.name == "postgresql" else raw.cursor()
    try:
        cur.execute(str(compiled), params)
        return list(cur.fetchall())
    finally:
        cur.close()


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector held off meanwhile (if it was on).

    A cold load makes tens of thousands of geometry objects, each tracked by the
    collector: it would run a full collection over every object of the process once
    or twice per load (50-120 ms on 50,000 sectors, a third of the load). Held off,
    it meets the new objects later in one young collection instead. Nothing made here
    holds a reference cycle.
    """
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def cold_ground(conn: sa.Connection, backend: str, case_id: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """(ids, BNG ground, made valid) of every sector of the case, read in one query
    straight from the driver and decoded at once, in slices on every core (a cold
    index of tens of thousands of sectors), with the garbage collector held off."""
    with _collector_paused():
        return _cold_ground(conn, backend, case_id)


def _cold_ground(conn: sa.Connection, backend: str, case_id: int
                 ) -> tuple[np.ndarray, np.ndarray]:
    s = t.sectors.c
    rows = _driver_rows(conn, sa.select(
        s.id, fw.wkb_column(s.geom, backend), fw.wkb_column(s.not_searched_geom, backend)
    ).where(s.case_id == case_id))
    if not rows:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=object)
    ids_col, geom_col, holes_col = zip(*rows, strict=True)
    wkb = np.asarray(geom_col, dtype=object)
    holes = np.asarray(holes_col, dtype=object)

    def ground(part: slice) -> np.ndarray:
        geoms = shapely.from_wkb(wkb[part])
        cut = holes[part]
        has = np.flatnonzero(cut != None)  # noqa: E711 (elementwise, not identity)
        if len(has):
            geoms[has] = shapely.difference(geoms[has], shapely.from_wkb(cut[has]))
        return _valid(decoded_to_bng(geoms))  # decoded here: moved in place

    # decoding, reprojecting and checking release the GIL: one slice per core
    n, workers = len(wkb), min(cores(), 4)
    if workers == 1 or n < COLD_SLICE_FROM:
        return np.asarray(ids_col, dtype=np.int64), ground(slice(0, n))
    cuts = np.linspace(0, n, workers + 1).astype(int)
    parts = in_workers(ground, [slice(a, b) for a, b in itertools.pairwise(cuts)])
    return np.asarray(ids_col, dtype=np.int64), np.concatenate(parts)


def case_index(
    db: Database, conn: sa.Connection, case_id: int, *, token: int | None = None
) -> CaseIndex:
    """The case's warm index as of change counter ``token`` (committed state).

    ``token`` defaults to the counter ``conn`` sees. A writing unit has moved the
    counter already: it asks with ``token=uow.change_n - 1`` (see :func:`unit_index`),
    so what it writes is read again by the next check. The index is kept in
    ``db.caches`` and refreshed by the rows written since it was built.
    """
    if token is None:
        token = int(
            conn.execute(
                sa.select(t.case_change.c.n).where(t.case_change.c.case_id == case_id)
            ).scalar_one()
        )
    with db.cache_lock:
        cache: dict[int, CaseIndex] = db.caches.setdefault(CACHE_NAME, {})
        entry = cache.get(case_id)
        if entry is not None and entry.token >= token:
            return entry
        if entry is None:
            ids, geoms = cold_ground(conn, db.backend, case_id)
            fresh = CaseIndex.build(token, ids, geoms, validated=True)
        else:
            changed = index_rows(conn, db.backend, case_id, entry.token)
            count = conn.execute(
                sa.select(sa.func.count()).where(t.sectors.c.case_id == case_id)
            ).scalar_one()
            ids, geoms = ground_bng(changed)
            known = sum(1 for i in ids.tolist() if i in entry._pos)
            case_ids = None
            if len(entry) + len(ids) - known != count:  # some were deleted
                case_ids = np.asarray(conn.execute(
                    sa.select(t.sectors.c.id).where(t.sectors.c.case_id == case_id)
                ).scalars().all(), dtype=np.int64)
            if not len(ids) and case_ids is None:
                fresh = entry.with_token(token)  # the case moved, no sector did
            else:
                fresh = entry.refreshed(token, ids, geoms, case_ids)
        cache[case_id] = fresh
        return fresh


def unit_index(uow: UnitOfWork) -> CaseIndex:
    """The warm index of the unit's case: as committed before this write (a writing
    unit), or as the unit reads it (a read)."""
    assert uow.case_id is not None, "enter the case first"
    token = None if uow.change_n is None else uow.change_n - 1
    return case_index(uow.db, uow.conn, uow.case_id, token=token)


def unchecked_family_ground(conn: sa.Connection, ids: Sequence[int] | None = None,
                            case_id: int | None = None) -> set[int]:
    """Ids of sectors a family reported that no coordinator has accepted yet (report new).

    Limited to ``ids`` or to the sectors of ``case_id``.
    """
    q = sa.select(t.volunteer_reports.c.sector_id).where(
        t.volunteer_reports.c.kind == "search",
        t.volunteer_reports.c.status == "new",
        t.volunteer_reports.c.sector_id.is_not(None),
    )
    if ids is not None:
        q = q.where(t.volunteer_reports.c.sector_id.in_(list(ids)))
    if case_id is not None:
        q = q.where(t.volunteer_reports.c.case_id == case_id)
    return {int(x) for x in conn.execute(q).scalars()}


def overlap_details(conn: sa.Connection, found: pd.DataFrame) -> list[Overlap]:
    """Overlap records (status, team, time) for a geo overlap table (id, overlap_m2, share)."""
    if found.empty:
        return []
    ids = [int(i) for i in found["id"]]
    unchecked = unchecked_family_ground(conn, ids)
    rows = {
        r.id: r
        for r in conn.execute(
            sa.select(
                t.sectors.c.id,
                t.sectors.c.code,
                t.sectors.c.name,
                t.sectors.c.status,
                t.sectors.c.team_id,
                t.teams.c.name.label("team_name"),
                t.sectors.c.searched_at,
                t.sectors.c.started_at,
                t.sectors.c.assigned_at,
                t.sectors.c.created_at,
            )
            .select_from(t.sectors.outerjoin(t.teams, t.teams.c.id == t.sectors.c.team_id))
            .where(t.sectors.c.id.in_(ids))
        ).all()
    }
    out: list[Overlap] = []
    for sid, m2, share in zip(ids, found["overlap_m2"], found["share"], strict=True):
        r = rows.get(sid)
        if r is None or r.status not in fw.OVERLAP_CHECKED_STATUSES:
            continue
        at = {
            "searched": r.searched_at,
            "needs_re_search": r.searched_at,
            "in_progress": r.started_at,
            "assigned": r.assigned_at,
        }.get(r.status) or r.created_at
        out.append(
            Overlap(
                sector_id=r.id,
                code=r.code,
                name=r.name,
                status=r.status,
                team_id=r.team_id,
                team_name=r.team_name,
                at=at,
                overlap_m2=float(m2),
                share=float(share),
                unchecked=r.id in unchecked,
            )
        )
    return out


def overlaps_with_stored(
    conn: sa.Connection,
    index: CaseIndex,
    cands_bng: np.ndarray,
    exclude: Iterable[int] = (),
) -> dict[int, list[Overlap]]:
    """Overlaps of each candidate (BNG) with the stored sectors: position -> list."""
    if not len(index) or not len(cands_bng):
        return {}
    exclude = set(exclude)
    # the trees narrow to candidates whose interiors may meet a sector; geo measures
    cand, hit = index.query_many(cands_bng)
    keep = ~shapely.touches(cands_bng[cand], index.geoms[hit])
    out: dict[int, list[Overlap]] = {}
    for i in np.unique(cand[keep]):
        found = index.overlaps_bng(cands_bng[i])
        if exclude:
            found = found[~found["id"].isin(list(exclude))]
        got = overlap_details(conn, found)
        if got:
            out[int(i)] = got
    return out


def check_overlaps(
    db: Database, /,
    actor: Actor,
    case_id: int,
    polygon: Any,
    exclude_id: int | None = None,
) -> list[Overlap]:
    """Which sectors of the case a lon/lat outline overlaps, largest overlap first.

    ``polygon``: shapely (Multi)Polygon in lon/lat or a GeoJSON geometry.
    ``exclude_id``: a sector to leave out (the one being re-assigned or edited).
    Every status counts (planned, assigned, in progress, searched, suspended,
    needs re-search); searched ground excludes what was recorded as not
    searched. Raises :class:`InvalidInput` for a bad outline.
    """
    unit = UnitOfWork(db, actor, perm.SECTOR_READ, mode="read")
    _, bng, _ = fw.clean_outlines([polygon], ["The new sector"])
    with unit as uow:
        uow.enter_case(case_id)
        index = unit_index(uow)
        exclude = () if exclude_id is None else (exclude_id,)
        return overlaps_with_stored(uow.conn, index, bng, exclude).get(0, [])


# ------------------------------------------------------------------ new items and clipping


def overlaps_within(
    bng: np.ndarray, pos: np.ndarray, clean: Sequence[Mapping[str, Any]]
) -> dict[int, list[Overlap]]:
    """Overlaps between the new items themselves (an import drawn over itself)."""
    if len(pos) < 2:
        return {}
    cands = bng[pos]
    index = SectorIndex(gpd.GeoDataFrame({"id": pos}, geometry=cands, crs=BNG))
    a, b = index.tree.query(cands, predicate="intersects")
    keep = (a > b) & ~shapely.touches(cands[a], cands[b])  # each item against earlier ones
    out: dict[int, list[Overlap]] = {}
    for k in np.unique(a[keep]):
        found = index.overlaps_bng(cands[k])
        found = found[found["id"] < pos[k]]
        for j, m2, share in zip(found["id"], found["overlap_m2"], found["share"], strict=True):
            out.setdefault(int(pos[k]), []).append(
                Overlap(
                    sector_id=None,
                    code=None,
                    name=clean[int(j)]["name"] or f"item {int(j) + 1}",
                    status="draft",
                    team_id=None,
                    team_name=None,
                    at=None,
                    overlap_m2=float(m2),
                    share=float(share),
                    batch_index=int(j),
                )
            )
    return out


def clip_items(
    lonlat: np.ndarray,
    bng: np.ndarray,
    index: CaseIndex,
    pending: Mapping[int, Sequence[Overlap]],
    total: int,
) -> set[int]:
    """Cut each overlapping item to the ground not covered by what it overlaps (in place).

    Earlier items of the same import are cut first, so later ones are cut by
    their clipped outlines. Returns the items left with nothing.
    """
    dropped: set[int] = set()
    for i in sorted(pending):
        stored = [o.sector_id for o in pending[i] if o.sector_id is not None]
        earlier = [o.batch_index for o in pending[i] if o.batch_index is not None]
        earlier = [j for j in earlier if j not in dropped]
        parts = list(index.ground_of(stored)) + [bng[j] for j in earlier]
        others = gpd.GeoDataFrame({"id": np.arange(len(parts))}, geometry=parts, crs=BNG)
        try:
            lonlat[i] = clip_to_remainder(lonlat[i], others)
        except InputError as exc:
            if total == 1:
                raise InvalidInput(str(exc)) from None
            dropped.add(i)
            continue
        bng[i] = geoms_to_bng(lonlat[i])
    return dropped


def clipped_values(
    index: CaseIndex, ground: BngGeometry, found: Sequence[Overlap]
) -> dict[str, Any]:
    """New outline columns for a stored sector (its BNG ground) clipped against the stored
    sectors it overlaps."""
    parts = index.ground_of([o.sector_id for o in found if o.sector_id is not None])
    others = gpd.GeoDataFrame({"id": np.arange(len(parts))}, geometry=list(parts), crs=BNG)
    try:
        lonlat = clip_to_remainder(geoms_to_lonlat(ground), others)
    except InputError as exc:
        raise InvalidInput(str(exc)) from None
    bng = geoms_to_bng(lonlat)
    tags = fw.jurisdiction_rows(np.array([bng], dtype=object))[0]
    return {"geom": lonlat, **fw.box_values(lonlat, bng), **tags}
