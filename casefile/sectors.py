"""Search sectors in the store: create (drawn, grid, import), assign, track, and stop overlaps.

Mixed into :class:`casefile.Store`. Every write follows the store's rules (one
transaction; actor, case and version checks; change counter; audit record;
idempotency key on creates). Outlines are lon/lat (EPSG:4326) at the edges;
all areas and overlaps are computed by :mod:`geo` in British National Grid.

**Duplicate prevention.** Each process keeps, per case, a :class:`geo.overlap.SectorIndex`
(STRtree, BNG) of the case's sectors, tagged with the case's change counter. A
check reads the counter (one indexed query); when it has moved, only the sectors
written since (``change_n`` above the cached value) are read again, so a warm
check costs a spatial-index query, not reading every outline. Creating,
importing or assigning a sector that overlaps others raises :class:`OverlapWarning`
(nothing saved) unless the caller decides: ``on_overlap="keep"`` with a reason
(audited) or ``on_overlap="clip"`` (save only the ground not yet covered). The
check runs again inside the write, under the case's counter lock, so two
coordinators drawing over each other at the same moment cannot both slip through.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
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
from casefile import validate as v
from casefile.errors import InvalidInput, NotFound, PermissionDenied, StoreError
from casefile.fieldwork import NewSector, Overlap, OverlapWarning, Sector
from casefile.permissions import Actor
from casefile.timefmt import utcnow

#: rows per INSERT batch (and progress step) of a bulk create
BULK_CHUNK = 1000
#: sector fields ``update_sector`` changes
SECTOR_EDITABLE: tuple[str, ...] = ("name", "priority", "notes", "share_with_family", "origin")

ProgressFn = Callable[[int, int, str], None]


def _s() -> Any:
    """The store module's helpers (imported late: the store imports this module)."""
    from casefile import store

    return store


def _retrying(method: Any) -> Any:
    """Run a creating method again once if a concurrent call with the same key won."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except _s()._RetryIdempotent:
            return method(*args, **kwargs)

    return wrapper


# ------------------------------------------------------------------ the warm index


@dataclass(frozen=True)
class _CaseIndex:
    """A case's sectors in BNG with their STRtree, as of change counter ``token``."""

    token: int
    ids: np.ndarray  # sector ids (int64)
    geoms: np.ndarray  # BNG ground each sector covers (searched: minus what was not searched)
    index: Any  # geo.overlap.SectorIndex

    @staticmethod
    def build(token: int, ids: np.ndarray, geoms: np.ndarray) -> _CaseIndex:
        from geo.crs import BNG
        from geo.overlap import SectorIndex

        frame = gpd.GeoDataFrame({"id": ids}, geometry=geoms, crs=BNG)
        return _CaseIndex(token, ids, geoms, SectorIndex(frame))


def _ground_bng(rows: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
    """(ids, BNG ground) for sector rows of raw WKB: searched ground leaves out what was not."""
    from geo.crs import geoms_to_bng

    ids = np.fromiter((r.id for r in rows), dtype=np.int64, count=len(rows))
    if not len(rows):
        return ids, np.empty(0, dtype=object)
    geoms = _decode([r.geom for r in rows])
    holes = [i for i, r in enumerate(rows) if r.not_searched_geom is not None]
    if holes:
        cut = _decode([rows[i].not_searched_geom for i in holes])
        geoms[holes] = shapely.difference(geoms[holes], cut)
    return ids, geoms_to_bng(geoms)


def _decode(values: Sequence[Any]) -> np.ndarray:
    """Shapely geometries from raw WKB (vectorised) or as already decoded."""
    if values and isinstance(values[0], BaseGeometry):
        return np.array(values, dtype=object)
    return shapely.from_wkb(np.array([bytes(x) for x in values], dtype=object))


# ------------------------------------------------------------------ the mixin


class SectorsMixin:
    """Sector operations of :class:`casefile.Store` (see the module docstring)."""

    # provided by Store
    backend: str
    _writing: Any
    _reading: Any
    _authorize: Any
    _audit: Any
    _replay: Any
    _remember: Any
    _idempotent: Any

    # ---------------------------------------------------------------- index cache

    def _sector_cache(self) -> tuple[dict[int, _CaseIndex], threading.Lock]:
        state = self.__dict__.get("_sector_cache_state")
        if state is None:
            state = self.__dict__.setdefault("_sector_cache_state", ({}, threading.Lock()))
        return state

    def _index_rows(self, conn: sa.Connection, case_id: int, since: int | None) -> list[Any]:
        q = sa.select(
            t.sectors.c.id,
            fw.wkb_column(t.sectors.c.geom, self.backend),
            fw.wkb_column(t.sectors.c.not_searched_geom, self.backend),
        ).where(t.sectors.c.case_id == case_id)
        if since is not None:
            q = q.where(t.sectors.c.change_n > since)
        return conn.execute(q).all()

    def _case_index(self, conn: sa.Connection, case_id: int, token: int) -> _CaseIndex:
        """The case's index as of ``token`` (committed state), refreshed incrementally."""
        cache, lock = self._sector_cache()
        with lock:
            entry = cache.get(case_id)
            if entry is not None and entry.token >= token:
                return entry
            fresh: _CaseIndex | None = None
            if entry is not None:
                changed = self._index_rows(conn, case_id, entry.token)
                count = conn.execute(
                    sa.select(sa.func.count()).where(t.sectors.c.case_id == case_id)
                ).scalar_one()
                if not changed and count == len(entry.ids):
                    # the case moved (a sighting, a team…) but no sector did: keep the tree
                    fresh = replace(entry, token=token)
                    cache[case_id] = fresh
                    return fresh
                ids, geoms = _ground_bng(changed)
                pos = pd.Index(entry.ids).get_indexer(ids)
                new_ids = np.concatenate([entry.ids, ids[pos < 0]])
                if len(new_ids) == count:  # else something was deleted: read everything
                    new_geoms = entry.geoms.copy()
                    new_geoms[pos[pos >= 0]] = geoms[pos >= 0]
                    new_geoms = np.concatenate([new_geoms, geoms[pos < 0]])
                    fresh = _CaseIndex.build(token, new_ids, new_geoms)
            if fresh is None:
                ids, geoms = _ground_bng(self._index_rows(conn, case_id, None))
                fresh = _CaseIndex.build(token, ids, geoms)
            cache[case_id] = fresh
            return fresh

    def _overlap_details(
        self, conn: sa.Connection, found: pd.DataFrame
    ) -> list[Overlap]:
        """Overlap records (status, team, time) for a geo overlap table (id, overlap_m2, share)."""
        if found.empty:
            return []
        ids = [int(i) for i in found["id"]]
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
                )
            )
        return out

    def _overlaps_with_stored(
        self,
        conn: sa.Connection,
        index: _CaseIndex,
        cands_bng: np.ndarray,
        exclude: Iterable[int] = (),
    ) -> dict[int, list[Overlap]]:
        """Overlaps of each candidate (BNG) with the stored sectors: position -> list."""
        if not len(index.ids) or not len(cands_bng):
            return {}
        exclude = set(exclude)
        # the tree narrows to candidates whose interiors may meet a sector; geo measures
        cand, hit = index.index.tree.query(cands_bng, predicate="intersects")
        keep = ~shapely.touches(cands_bng[cand], index.index.geoms[hit])
        out: dict[int, list[Overlap]] = {}
        for i in np.unique(cand[keep]):
            found = index.index.overlaps_bng(cands_bng[i])
            if exclude:
                found = found[~found["id"].isin(list(exclude))]
            got = self._overlap_details(conn, found)
            if got:
                out[int(i)] = got
        return out

    def check_overlaps(
        self,
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
        _s()._check_actor_shape(actor, perm.SECTOR_READ)
        _, bng, _ = fw.clean_outlines([polygon], ["The new sector"])
        with self._reading() as conn:
            self._authorize(conn, actor, perm.SECTOR_READ, case_id)
            _s()._require_case(conn, case_id)
            token = conn.execute(
                sa.select(t.case_change.c.n).where(t.case_change.c.case_id == case_id)
            ).scalar_one()
            index = self._case_index(conn, case_id, int(token))
            exclude = () if exclude_id is None else (exclude_id,)
            return self._overlaps_with_stored(conn, index, bng, exclude).get(0, [])

    # ---------------------------------------------------------------- creating

    def create_sector(
        self,
        actor: Actor,
        case_id: int,
        *,
        geometry: Any,
        name: str = "",
        origin: str = "drawn",
        priority: int = fw.DEFAULT_PRIORITY,
        notes: str = "",
        share_with_family: bool | None = None,
        search_type: str | None = None,
        re_search_reason: str = "",
        on_overlap: str | None = None,
        reason: str | None = None,
        idempotency_key: str | None = None,
    ) -> Sector:
        """Save one sector (drawn or picked). See :meth:`create_sectors` for the rules.

        Raises :class:`OverlapWarning` (nothing saved) when it overlaps other
        sectors and no decision was given; :class:`InvalidInput` when clipping
        leaves nothing.
        """
        item = NewSector(
            geometry=geometry,
            name=name,
            origin=origin,
            priority=priority,
            notes=notes,
            share_with_family=share_with_family,
            search_type=search_type,
            re_search_reason=re_search_reason,
            idempotency_key=idempotency_key,
        )
        out = self.create_sectors(actor, case_id, [item], on_overlap=on_overlap, reason=reason)
        assert out[0] is not None  # a single sector clipped to nothing raises instead
        return out[0]

    @_retrying
    def create_sectors(
        self,
        actor: Actor,
        case_id: int,
        items: Sequence[NewSector],
        *,
        on_overlap: str | None = None,
        reason: str | None = None,
        progress: ProgressFn | None = None,
    ) -> list[Sector | None]:
        """Save many sectors (a grid, an import) in one transaction; all or nothing.

        Each outline is validated and repaired by :mod:`geo.shapes`, tagged with
        its boroughs, BCUs and forces, and checked for overlaps with the case's
        sectors and with the other items. Overlaps raise :class:`OverlapWarning`
        (``by_item``: position -> overlaps) unless ``on_overlap`` is ``"keep"``
        (``reason`` required; recorded on each overlapping sector and audited) or
        ``"clip"`` (each overlapping item is cut to the ground not yet covered by
        stored sectors and earlier items). Items with a ``re_search_reason`` may
        overlap without a decision: a re-search is deliberate.

        Returns one entry per item, in order: the saved :class:`Sector`, or None
        for an item that clipping left with nothing (a single item raises
        :class:`InvalidInput` instead). Items whose idempotency key was saved
        before come back as saved then. ``progress(done, total, stage)`` is
        called as the work advances.
        """
        s = _s()
        s._check_actor_shape(actor, perm.SECTOR_WRITE)
        items = list(items)
        if not items:
            return []
        if len(items) > fw.MAX_BULK:
            raise InvalidInput(f"At most {fw.MAX_BULK:,} sectors can be saved at once.")
        if on_overlap is not None:
            v.choice("on_overlap", on_overlap, fw.OVERLAP_CHOICES)
        reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
        if on_overlap == "keep" and not reason:
            raise InvalidInput("Say why this ground should be covered again (a reason is needed).")
        total = len(items)

        def tick(done: int, stage: str) -> None:
            if progress is not None:
                progress(done, total, stage)

        tick(0, "checking")
        clean = [_clean_new_sector(item, i, total) for i, item in enumerate(items)]
        labels = [c["name"] or f"sector {i + 1}" for i, c in enumerate(clean)]
        lonlat, bng, _notes = fw.clean_outlines([item.geometry for item in items], labels)
        tick(0, "tagging")
        tags = fw.jurisdiction_rows(bng)
        now = utcnow()
        with self._idempotent(), self._writing() as conn:
            s._require_case(conn, case_id)
            self._authorize(conn, actor, perm.SECTOR_WRITE, case_id)
            saved: dict[int, int] = {}
            for i, c in enumerate(clean):
                existing = self._replay(conn, c["key"], "sector", actor)
                if existing is not None:
                    saved[i] = existing
            todo = [i for i in range(total) if i not in saved]
            if not todo:  # every item was saved before: nothing new, the counter stays
                return self._sectors_by_id(conn, [saved[i] for i in range(total)])
            n = fw.bump_now(conn, case_id)
            tick(0, "checking overlaps")
            index = self._case_index(conn, case_id, n - 1)
            pos = np.array(todo)
            stored = self._overlaps_with_stored(conn, index, bng[pos])
            overlaps: dict[int, list[Overlap]] = {int(pos[k]): o for k, o in stored.items()}
            for i, extra in _overlaps_within(bng, pos, clean).items():
                overlaps.setdefault(i, []).extend(extra)
            deliberate = {i for i in todo if clean[i]["re_search_reason"]}
            pending = {i: o for i, o in overlaps.items() if i not in deliberate}
            dropped: set[int] = set()
            if pending and on_overlap is None:
                raise OverlapWarning(pending, total)
            if pending and on_overlap == "clip":
                dropped = _clip_items(lonlat, bng, index, pending, total)
                changed = sorted(set(pending) - dropped)
                for i, tag in zip(changed, fw.jurisdiction_rows(bng[changed]), strict=True):
                    tags[i] = tag
            rows: list[dict[str, Any]] = []
            order: list[int] = []
            counter = conn.execute(
                sa.select(t.sector_counter.c.next_n).where(t.sector_counter.c.case_id == case_id)
            ).scalar()
            if counter is None:
                conn.execute(t.sector_counter.insert().values(case_id=case_id, next_n=1))
                counter = 1
            next_n = int(counter)
            for i in todo:
                if i in dropped:
                    continue
                c = clean[i]
                code = f"S{next_n}"
                next_n += 1
                kept = reason if (on_overlap == "keep" and i in pending) else ""
                rows.append(
                    {
                        "case_id": case_id,
                        "code": code,
                        "name": c["name"] or code,
                        "origin": c["origin"],
                        "priority": c["priority"],
                        "notes": c["notes"],
                        "share_with_family": c["share_with_family"],
                        "status": "draft",
                        "status_changed_at": now,
                        "search_type": c["search_type"],
                        "not_searched_reason": "",
                        "re_search": bool(c["re_search_reason"]),
                        "re_search_reason": c["re_search_reason"],
                        "overlap_kept_reason": kept or "",
                        "geom": lonlat[i],
                        **fw.box_values(lonlat[i], bng[i]),
                        **tags[i],
                        "change_n": n,
                        "created_at": now,
                        "created_by_id": actor.user_id,
                        "updated_at": now,
                        "updated_by_id": actor.user_id,
                        "updated_by_name": actor.display_name,
                        "version": 1,
                    }
                )
                order.append(i)
            conn.execute(
                t.sector_counter.update()
                .where(t.sector_counter.c.case_id == case_id)
                .values(next_n=next_n)
            )
            ids: list[int] = []
            for start in range(0, len(rows), BULK_CHUNK):
                chunk = rows[start : start + BULK_CHUNK]
                ids.extend(
                    conn.execute(
                        t.sectors.insert().returning(t.sectors.c.id, sort_by_parameter_order=True),
                        chunk,
                    ).scalars()
                )
                tick(min(start + BULK_CHUNK, len(rows)), "saving")
            records = []
            for i, sid, row in zip(order, ids, rows, strict=True):
                saved[i] = sid
                changes: dict[str, tuple[Any, Any]] = {
                    "code": (None, row["code"]),
                    "name": (None, row["name"]),
                    "origin": (None, row["origin"]),
                    "priority": (None, row["priority"]),
                    "notes": (None, row["notes"]),
                    "share_with_family": (None, row["share_with_family"]),
                    "status": (None, "draft"),
                    "search_type": (None, row["search_type"]),
                    "outline": (None, fw.outline_text(row["geom"])),
                    "area_m2": (None, round(row["area_m2"], 1)),
                    "bcu_code": (None, row["bcu_code"]),
                    "force_code": (None, row["force_code"]),
                    "straddles": (None, row["straddles_bcu"] or row["straddles_force"]),
                }
                if row["re_search"]:
                    changes["re_search_reason"] = (None, row["re_search_reason"])
                if i in overlaps:
                    changes["overlaps"] = (None, _overlap_summary(overlaps[i]))
                    changes["on_overlap"] = (
                        None,
                        "re-search" if i in deliberate else on_overlap,
                    )
                records.append((sid, "create", changes))
            fw.audit_many(
                conn,
                actor,
                now,
                case_id=case_id,
                entity="sector",
                records=records,
                reason=reason if on_overlap == "keep" else None,
            )
            for i in order:
                self._remember(conn, clean[i]["key"], "sector", saved[i], case_id, actor, now)
            by_id = {sec.id: sec for sec in self._sectors_by_id(conn, list(saved.values()))}
        tick(total, "done")
        if total == 1 and 0 in dropped:  # pragma: no cover - _clip_items raises for one item
            raise InvalidInput("Nothing is left: the whole shape is already covered.")
        return [by_id.get(saved[i]) if i in saved else None for i in range(total)]

    # ---------------------------------------------------------------- reading

    def _sectors_by_id(self, conn: sa.Connection, ids: Sequence[int]) -> list[Sector]:
        if not ids:
            return []
        rows: list[Any] = []
        for start in range(0, len(ids), 5000):
            rows.extend(
                conn.execute(
                    sa.select(t.sectors).where(t.sectors.c.id.in_(list(ids[start : start + 5000])))
                ).all()
            )
        by_id = {r.id: _sector(r) for r in rows}
        return [by_id[i] for i in ids if i in by_id]

    def _read_permission(self, actor: Actor) -> str:
        s = _s()
        s._check_actor_shape(actor, None)
        if perm.role_allows(actor.role, perm.SECTOR_READ):
            return perm.SECTOR_READ
        if perm.role_allows(actor.role, perm.SECTOR_READ_SHARED):
            return perm.SECTOR_READ_SHARED
        raise PermissionDenied(
            f"A {actor.role.replace('_', ' ')} may not see sectors ({perm.SECTOR_READ})."
        )

    def get_sector(self, actor: Actor, sector_id: int) -> Sector:
        """One sector (family readers: only if shared, without notes or teams)."""
        permission = self._read_permission(actor)
        with self._reading() as conn:
            row = fw.require_row(conn, t.sectors, sector_id, "sector")
            self._authorize(conn, actor, permission, row.case_id)
            sector = _sector(row)
        return _for_reader(sector, permission, missing_ok=False)  # type: ignore[return-value]

    def find_sector(self, actor: Actor, case_id: int, code: str) -> Sector:
        """A sector by its short ID within the case ("S12")."""
        permission = self._read_permission(actor)
        with self._reading() as conn:
            self._authorize(conn, actor, permission, case_id)
            row = conn.execute(
                sa.select(t.sectors).where(
                    t.sectors.c.case_id == case_id, t.sectors.c.code == str(code).strip().upper()
                )
            ).first()
            if row is None:
                raise NotFound(f"This case has no sector {code!r}.")
            sector = _sector(row)
        return _for_reader(sector, permission, missing_ok=False)  # type: ignore[return-value]

    def sectors(
        self,
        actor: Actor,
        case_id: int,
        *,
        status: str | Iterable[str] | None = None,
        team_id: int | None = None,
        bcu: str | None = None,
        force: str | None = None,
        straddling: bool | None = None,
    ) -> list[Sector]:
        """The case's sectors by number (S1, S2…), optionally filtered.

        ``status``: one status or several; ``team_id``: assigned team; ``bcu`` /
        ``force``: a code the sector touches (any share); ``straddling``: only
        sectors that straddle a BCU or force boundary (True) or that do not.
        Family readers get only sectors shared with the family, without notes,
        teams or reasons.
        """
        permission = self._read_permission(actor)
        statuses = _statuses(status)
        with self._reading() as conn:
            self._authorize(conn, actor, permission, case_id)
            s = _s()
            s._require_case(conn, case_id)
            q = sa.select(t.sectors).where(t.sectors.c.case_id == case_id)
            if statuses is not None:
                q = q.where(t.sectors.c.status.in_(statuses))
            if team_id is not None:
                q = q.where(t.sectors.c.team_id == team_id)
            if permission == perm.SECTOR_READ_SHARED:
                q = q.where(t.sectors.c.share_with_family.is_(True))
            rows = conn.execute(q).all()
        out = [_sector(r) for r in rows]
        if bcu is not None:
            out = [x for x in out if any(u["code"] == bcu for u in x.jurisdiction.get("bcu", []))]
        if force is not None:
            out = [
                x for x in out if any(u["code"] == force for u in x.jurisdiction.get("force", []))
            ]
        if straddling is not None:
            out = [x for x in out if x.straddles == straddling]
        out.sort(key=lambda x: _code_number(x.code))
        return [y for x in out if (y := _for_reader(x, permission)) is not None]

    def sectors_frame(self, actor: Actor, case_id: int, **filters: Any) -> gpd.GeoDataFrame:
        """The sectors as a lon/lat GeoDataFrame for maps and exports.

        Columns: ``id`` (the short ID, as :mod:`geo.exports` names features),
        ``sector_id``, ``name``, ``status``, ``team`` (team name), ``team_id``,
        ``priority``, ``origin``, ``share_with_family``, ``searched_at``,
        ``search_type``, ``assurance``, ``re_search``, ``bcu``, ``force``,
        ``straddles``, ``area_m2``, ``version``. Filters as :meth:`sectors`.
        """
        items = self.sectors(actor, case_id, **filters)
        names: dict[int, str] = {}
        if any(x.team_id is not None for x in items):
            with self._reading() as conn:
                names = dict(
                    conn.execute(
                        sa.select(t.teams.c.id, t.teams.c.name).where(t.teams.c.case_id == case_id)
                    ).all()
                )
        return gpd.GeoDataFrame(
            {
                "id": [x.code for x in items],
                "sector_id": [x.id for x in items],
                "name": [x.name for x in items],
                "status": [x.status for x in items],
                "team": [names.get(x.team_id) if x.team_id else None for x in items],
                "team_id": [x.team_id for x in items],
                "priority": [x.priority for x in items],
                "origin": [x.origin for x in items],
                "share_with_family": [x.share_with_family for x in items],
                "searched_at": [x.searched_at for x in items],
                "search_type": [x.search_type for x in items],
                "assurance": [x.assurance for x in items],
                "re_search": [x.re_search for x in items],
                "bcu": [x.bcu_code for x in items],
                "force": [x.force_code for x in items],
                "straddles": [x.straddles for x in items],
                "area_m2": [x.area_m2 for x in items],
                "version": [x.version for x in items],
            },
            geometry=[x.geometry for x in items],
            crs="EPSG:4326",
        )

    def duplication_figure(self, actor: Actor, case_id: int) -> Any:
        """Ground of the case searched more than once (:class:`geo.overlap.Duplication`).

        Area of the union (m², BNG) searched twice or more, split into deliberate
        re-searches (a sector marked "needs re-search" or saved with a re-search
        reason) and accidental overlap; ground recorded as not searched inside a
        sector is left out. Shapes are lon/lat.
        """
        from geo.overlap import duplication

        s = _s()
        s._check_actor_shape(actor, perm.SECTOR_READ)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.SECTOR_READ, case_id)
            s._require_case(conn, case_id)
            rows = conn.execute(
                sa.select(
                    t.sectors.c.id,
                    t.sectors.c.status,
                    t.sectors.c.re_search,
                    fw.wkb_column(t.sectors.c.geom, self.backend),
                    fw.wkb_column(t.sectors.c.not_searched_geom, self.backend),
                ).where(
                    t.sectors.c.case_id == case_id,
                    t.sectors.c.status.in_(["searched", "needs_re_search"]),
                )
            ).all()
        ids, ground = _ground_bng(rows)
        from geo.crs import BNG

        frame = gpd.GeoDataFrame(
            {
                "id": ids,
                "status": [r.status for r in rows],
                "re_search": [bool(r.re_search) for r in rows],
            },
            geometry=list(ground) if len(rows) else [],
            crs=BNG,
        )
        return duplication(frame)

    # ---------------------------------------------------------------- changing

    def _change_sector(
        self,
        actor: Actor,
        sector_id: int,
        version: int,
        permission: str,
        make: Callable[[sa.Connection, Any, int], tuple[dict[str, Any], dict[str, Any], str]],
        reason: str | None,
    ) -> Sector:
        """One sector write: lock, check, let ``make`` decide, save, bump, audit.

        ``make(conn, row, n)`` returns (column values, audit changes, action);
        empty values mean nothing changed (nothing written).
        """
        s = _s()
        s._check_actor_shape(actor, permission)
        now = utcnow()
        with self._writing() as conn:
            row = fw.require_row(conn, t.sectors, sector_id, "sector", lock=True)
            self._authorize(conn, actor, permission, row.case_id)
            s._check_version("sector", sector_id, row, version)
            n = fw.bump_now(conn, row.case_id)
            values, changes, action = make(conn, row, n)
            if not values:
                conn.rollback()
                return _sector(row)
            result = conn.execute(
                t.sectors.update()
                .where(t.sectors.c.id == sector_id, t.sectors.c.version == version)
                .values(
                    **values,
                    change_n=n,
                    updated_at=now,
                    updated_by_id=actor.user_id,
                    updated_by_name=actor.display_name,
                    version=version + 1,
                )
            )
            if result.rowcount != 1:  # pragma: no cover - the row lock makes this unreachable
                raise StoreError("The sector changed while saving; reload and try again.")
            self._audit(
                conn,
                actor,
                now,
                case_id=row.case_id,
                entity="sector",
                entity_id=sector_id,
                action=action,
                changes=changes,
                reason=reason,
            )
            return _sector(fw.require_row(conn, t.sectors, sector_id, "sector"))

    def update_sector(
        self,
        actor: Actor,
        sector_id: int,
        *,
        version: int,
        reason: str | None = None,
        **changes: Any,
    ) -> Sector:
        """Change name, priority, notes, share_with_family or origin of a sector at ``version``."""
        unknown = set(changes) - set(SECTOR_EDITABLE)
        if unknown:
            raise InvalidInput(
                f"Sectors have no editable field(s) {', '.join(sorted(unknown))} "
                "(status, team and outline have their own actions)."
            )
        clean = _clean_fields(changes)
        reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None

        def make(conn: sa.Connection, row: Any, n: int) -> tuple[dict, dict, str]:
            diff = {k: (getattr(row, k), val) for k, val in clean.items() if getattr(row, k) != val}
            if "name" in diff and not clean["name"]:
                raise InvalidInput("A sector needs a name (or keep its ID as its name).")
            return {k: after for k, (_, after) in diff.items()}, diff, "update"

        return self._change_sector(actor, sector_id, version, perm.SECTOR_WRITE, make, reason)

    def set_sector_status(
        self,
        actor: Actor,
        sector_id: int,
        status: str,
        *,
        version: int,
        reason: str | None = None,
    ) -> Sector:
        """Move a sector along its lifecycle (draft, ready, suspended, needs re-search).

        Assigning, starting and finishing have their own methods (they record a
        team, times and results). "ready" from an assigned sector takes it off
        its team. "needs re-search" requires a reason (kept on the sector; its
        later overlaps count as deliberate). Refused transitions raise
        :class:`InvalidInput` naming what is allowed.
        """
        status = v.choice("status", status, fw.SECTOR_STATUSES)
        if status in ("assigned", "in_progress", "searched"):
            method = {"assigned": "assign_sector", "in_progress": "start_sector",
                      "searched": "finish_sector"}[status]
            raise InvalidInput(f"Use {method} to mark a sector {fw.STATUS_LABELS[status]}.")
        reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
        if status == "needs_re_search" and not reason:
            raise InvalidInput("Say why the sector needs searching again (a reason is needed).")

        def make(conn: sa.Connection, row: Any, n: int) -> tuple[dict, dict, str]:
            _check_transition(row, status)
            values: dict[str, Any] = {"status": status, "status_changed_at": utcnow()}
            if status in ("ready", "draft") and row.team_id is not None:
                values.update(team_id=None, assigned_at=None)
            if status == "needs_re_search":
                values.update(re_search=True, re_search_reason=reason)
            diff = {k: (_audit_value(getattr(row, k)), _audit_value(val))
                    for k, val in values.items() if k != "status_changed_at"}
            return values, diff, "status"

        return self._change_sector(actor, sector_id, version, perm.SECTOR_WRITE, make, reason)

    def assign_sector(
        self,
        actor: Actor,
        sector_id: int,
        team_id: int,
        *,
        version: int,
        on_overlap: str | None = None,
        reason: str | None = None,
    ) -> Sector:
        """Give a sector to a team of the same case (version-checked: one winner).

        Checks the sector against the case's other sectors first, as when it was
        created: overlaps raise :class:`OverlapWarning` unless ``on_overlap`` is
        "keep" (with a reason) or "clip" (the outline is cut to the ground not yet
        covered, and re-tagged). Sectors marked for re-search may overlap.
        """
        if on_overlap is not None:
            v.choice("on_overlap", on_overlap, fw.OVERLAP_CHOICES)
        reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
        if on_overlap == "keep" and not reason:
            raise InvalidInput("Say why this ground should be covered again (a reason is needed).")

        def make(conn: sa.Connection, row: Any, n: int) -> tuple[dict, dict, str]:
            team = fw.require_row(conn, t.teams, team_id, "team")
            if team.case_id != row.case_id:
                raise InvalidInput("That team works on another case.")
            if row.status == "assigned" and row.team_id == team_id:
                return {}, {}, "assign"
            _check_transition(row, "assigned")
            now = utcnow()
            values: dict[str, Any] = {
                "status": "assigned",
                "status_changed_at": now,
                "team_id": team_id,
                "assigned_at": now,
            }
            diff: dict[str, tuple[Any, Any]] = {
                "status": (row.status, "assigned"),
                "team_id": (row.team_id, team_id),
            }
            if not row.re_search:
                index = self._case_index(conn, row.case_id, n - 1)
                ground = _ground_bng([row])[1]
                found = self._overlaps_with_stored(conn, index, ground, exclude=(row.id,))
                found_list = found.get(0, [])
                if found_list and on_overlap is None:
                    raise OverlapWarning({0: found_list})
                if found_list:
                    diff["overlaps"] = (None, _overlap_summary(found_list))
                    diff["on_overlap"] = (None, on_overlap)
                if found_list and on_overlap == "keep":
                    values["overlap_kept_reason"] = reason
                if found_list and on_overlap == "clip":
                    values.update(_clipped_values(index, ground[0], row.id, found_list))
                    diff["outline"] = (
                        fw.outline_text(_geom(row.geom)), fw.outline_text(values["geom"])
                    )
            return values, diff, "assign"

        return self._change_sector(actor, sector_id, version, perm.SECTOR_WRITE, make, reason)

    def start_sector(
        self, actor: Actor, sector_id: int, *, version: int, at: datetime | None = None
    ) -> Sector:
        """The assigned team has started searching (``at`` defaults to now)."""
        when = v.moment("started_at", at) if at is not None else None

        def make(conn: sa.Connection, row: Any, n: int) -> tuple[dict, dict, str]:
            _check_transition(row, "in_progress")
            if row.team_id is None:
                raise InvalidInput(f"Sector {row.code} has no team; assign it first.")
            start = when or utcnow()
            values = {"status": "in_progress", "status_changed_at": utcnow(), "started_at": start}
            return values, {"status": (row.status, "in_progress"), "started_at": (None, start)}, (
                "start"
            )

        return self._change_sector(actor, sector_id, version, perm.SECTOR_PROGRESS, make, None)

    def finish_sector(
        self,
        actor: Actor,
        sector_id: int,
        *,
        version: int,
        search_type: str,
        assurance: str,
        searched_at: datetime | None = None,
        team_id: int | None = None,
        not_searched: Any = None,
        not_searched_reason: str = "",
        notes: str | None = None,
        share_with_family: bool | None = None,
    ) -> Sector:
        """Record a sector as searched: when, by which team, how, how well, and what was not.

        ``search_type``: hasty / thorough / specialist / property; ``assurance``:
        high / medium / low; ``team_id`` defaults to the assigned team.
        ``not_searched`` (lon/lat outline, kept only inside the sector) and/or
        ``not_searched_reason`` (access refused, locked, unsafe…) record the
        ground left unsearched: it stays unsearched ground (left out of the
        overlap check and the duplication figure). A property or specialist
        search switches family sharing off unless ``share_with_family=True``.
        """
        search_type = v.choice("search_type", search_type, fw.SEARCH_TYPES)
        assurance = v.choice("assurance", assurance, fw.ASSURANCE_LEVELS)
        when = v.moment("searched_at", searched_at) if searched_at is not None else None
        not_searched_reason = v.text(
            "not_searched_reason", not_searched_reason, fw.MAX_LEN["reason"]
        )
        if notes is not None:
            notes = v.text("notes", notes, fw.MAX_LEN["notes"])
        if share_with_family is not None:
            fw.flag("share_with_family", share_with_family)
        hole = None
        if not_searched is not None:
            hole = fw.clean_outlines([not_searched], ["The part not searched"])[0][0]
            if not not_searched_reason.strip():
                raise InvalidInput("Say why part of the sector was not searched.")

        def make(conn: sa.Connection, row: Any, n: int) -> tuple[dict, dict, str]:
            _check_transition(row, "searched")
            by = team_id if team_id is not None else row.team_id
            if by is not None:
                team = fw.require_row(conn, t.teams, by, "team")
                if team.case_id != row.case_id:
                    raise InvalidInput("That team works on another case.")
            now = utcnow()
            values: dict[str, Any] = {
                "status": "searched",
                "status_changed_at": now,
                "searched_at": when or now,
                "searched_by_team_id": by,
                "search_type": search_type,
                "assurance": assurance,
                "not_searched_reason": not_searched_reason,
                "not_searched_geom": None,
            }
            if hole is not None:
                inside = shapely.intersection(hole, _geom(row.geom))
                part = _polygonal(inside)
                if part is None:
                    raise InvalidInput("The part not searched must lie inside the sector.")
                values["not_searched_geom"] = part
            if notes is not None:
                values["notes"] = notes
            share = share_with_family
            if share is None and search_type in fw.PRIVATE_SEARCH_TYPES:
                share = False
            if share is not None:
                values["share_with_family"] = share
            diff = {
                k: (_audit_value(getattr(row, k)), _audit_value(val))
                for k, val in values.items()
                if k not in ("status_changed_at", "not_searched_geom")
            }
            diff["not_searched"] = (
                None, fw.outline_text(values["not_searched_geom"])
                if values["not_searched_geom"] is not None else None
            )
            return values, diff, "finish"

        return self._change_sector(actor, sector_id, version, perm.SECTOR_PROGRESS, make, None)

    def delete_sector(
        self, actor: Actor, sector_id: int, *, version: int, reason: str | None = None
    ) -> None:
        """Remove a sector drawn by mistake (draft or ready only); its ID is never reused."""
        s = _s()
        s._check_actor_shape(actor, perm.SECTOR_WRITE)
        reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
        now = utcnow()
        with self._writing() as conn:
            row = fw.require_row(conn, t.sectors, sector_id, "sector", lock=True)
            self._authorize(conn, actor, perm.SECTOR_WRITE, row.case_id)
            s._check_version("sector", sector_id, row, version)
            if row.status not in ("draft", "ready"):
                raise InvalidInput(
                    f"Sector {row.code} is {fw.STATUS_LABELS[row.status]}: only draft or ready "
                    "sectors can be deleted (suspend it instead)."
                )
            fw.bump_now(conn, row.case_id)
            conn.execute(t.sectors.delete().where(t.sectors.c.id == sector_id))
            self._audit(
                conn,
                actor,
                now,
                case_id=row.case_id,
                entity="sector",
                entity_id=sector_id,
                action="delete",
                changes={
                    "code": (row.code, None),
                    "name": (row.name, None),
                    "status": (row.status, None),
                    "outline": (fw.outline_text(_geom(row.geom)), None),
                },
                reason=reason,
            )


# ------------------------------------------------------------------ helpers


def _geom(value: Any) -> BaseGeometry:
    if isinstance(value, BaseGeometry):
        return value
    return shapely.from_wkb(bytes(value))


def _polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    from geo.shapes import polygonal_part

    part = polygonal_part(np.array([geom], dtype=object))[0]
    if part is None or part.is_empty or part.area == 0:
        return None
    return part


def _code_number(code: str) -> int:
    try:
        return int(code[1:])
    except ValueError:
        return 0


def _statuses(status: str | Iterable[str] | None) -> list[str] | None:
    if status is None:
        return None
    items = [status] if isinstance(status, str) else list(status)
    return [v.choice("status", x, fw.SECTOR_STATUSES) for x in items]


def _audit_value(value: Any) -> Any:
    if isinstance(value, BaseGeometry):
        return fw.outline_text(value)
    return value


def _overlap_summary(overlaps: Sequence[Overlap]) -> list[dict[str, Any]]:
    return [
        {
            "code": o.code if o.code is not None else f"new #{(o.batch_index or 0) + 1}",
            "status": o.status,
            "overlap_m2": round(o.overlap_m2, 1),
            "share": round(o.share, 4),
        }
        for o in overlaps
    ]


def _check_transition(row: Any, new: str) -> None:
    allowed = fw.SECTOR_TRANSITIONS.get(row.status, frozenset())
    if new not in allowed:
        options = ", ".join(fw.STATUS_LABELS[x] for x in fw.SECTOR_STATUSES if x in allowed)
        raise InvalidInput(
            f"Sector {row.code} is {fw.STATUS_LABELS[row.status]}; it cannot become "
            f"{fw.STATUS_LABELS[new]}" + (f" (it can become: {options})." if options else ".")
        )


def _clean_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    checks: dict[str, Callable[[Any], Any]] = {
        "name": lambda x: v.text("name", x, fw.MAX_LEN["name"]),
        "priority": lambda x: v.integer("priority", x, *fw.PRIORITY_RANGE),
        "notes": lambda x: v.text("notes", x, fw.MAX_LEN["notes"]),
        "share_with_family": lambda x: fw.flag("share_with_family", x),
        "origin": lambda x: v.choice("origin", x, fw.SECTOR_ORIGINS),
    }
    return {k: checks[k](x) for k, x in raw.items()}


def _clean_new_sector(item: Any, i: int, total: int) -> dict[str, Any]:
    if not isinstance(item, NewSector):
        raise InvalidInput("Each sector to save must be a casefile.NewSector.")
    try:
        out = _clean_fields(
            {
                "name": item.name,
                "priority": item.priority,
                "notes": item.notes,
                "origin": item.origin,
            }
        )
        search_type = item.search_type
        if search_type is not None:
            search_type = v.choice("search_type", search_type, fw.SEARCH_TYPES)
        share = item.share_with_family
        if share is None:
            share = search_type not in fw.PRIVATE_SEARCH_TYPES
        out["share_with_family"] = fw.flag("share_with_family", share)
        out["search_type"] = search_type
        out["re_search_reason"] = v.text(
            "re_search_reason", item.re_search_reason, fw.MAX_LEN["reason"]
        )
        out["key"] = v.idempotency_key(item.idempotency_key)
    except InvalidInput as exc:
        if total == 1:
            raise
        raise InvalidInput(f"Sector {i + 1}: {exc}") from None
    return out


def _overlaps_within(
    bng: np.ndarray, pos: np.ndarray, clean: Sequence[Mapping[str, Any]]
) -> dict[int, list[Overlap]]:
    """Overlaps between the new items themselves (an import drawn over itself)."""
    from geo.crs import BNG
    from geo.overlap import SectorIndex

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


def _clip_items(
    lonlat: np.ndarray,
    bng: np.ndarray,
    index: _CaseIndex,
    pending: Mapping[int, Sequence[Overlap]],
    total: int,
) -> set[int]:
    """Cut each overlapping item to the ground not covered by what it overlaps (in place).

    Earlier items of the same import are cut first, so later ones are cut by
    their clipped outlines. Returns the items left with nothing.
    """
    from geo.crs import BNG, geoms_to_bng
    from geo.errors import InputError
    from geo.shapes import clip_to_remainder

    where = pd.Index(index.ids)
    dropped: set[int] = set()
    for i in sorted(pending):
        stored = [o.sector_id for o in pending[i] if o.sector_id is not None]
        earlier = [o.batch_index for o in pending[i] if o.batch_index is not None]
        earlier = [j for j in earlier if j not in dropped]
        parts = list(index.geoms[where.get_indexer(stored)]) + [bng[j] for j in earlier]
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


def _clipped_values(
    index: _CaseIndex, ground_bng: BaseGeometry, own_id: int, found: Sequence[Overlap]
) -> dict[str, Any]:
    """New outline columns for a stored sector clipped against the sectors it overlaps."""
    from geo.crs import BNG, geoms_to_bng, geoms_to_lonlat
    from geo.errors import InputError
    from geo.shapes import clip_to_remainder

    where = pd.Index(index.ids)
    parts = index.geoms[where.get_indexer([o.sector_id for o in found])]
    others = gpd.GeoDataFrame({"id": np.arange(len(parts))}, geometry=list(parts), crs=BNG)
    try:
        lonlat = clip_to_remainder(geoms_to_lonlat(ground_bng), others)
    except InputError as exc:
        raise InvalidInput(str(exc)) from None
    bng = geoms_to_bng(lonlat)
    tags = fw.jurisdiction_rows(np.array([bng], dtype=object))[0]
    return {"geom": lonlat, **fw.box_values(lonlat, bng), **tags}


def _sector(row: Any) -> Sector:
    juris = row.jurisdiction
    if isinstance(juris, str):
        import json

        juris = json.loads(juris)
    return Sector(
        id=row.id,
        case_id=row.case_id,
        code=row.code,
        name=row.name,
        origin=row.origin,
        priority=row.priority,
        notes=row.notes,
        share_with_family=bool(row.share_with_family),
        status=row.status,
        status_changed_at=row.status_changed_at,
        team_id=row.team_id,
        assigned_at=row.assigned_at,
        started_at=row.started_at,
        searched_at=row.searched_at,
        searched_by_team_id=row.searched_by_team_id,
        search_type=row.search_type,
        assurance=row.assurance,
        not_searched=_geom(row.not_searched_geom) if row.not_searched_geom is not None else None,
        not_searched_reason=row.not_searched_reason,
        re_search=bool(row.re_search),
        re_search_reason=row.re_search_reason,
        overlap_kept_reason=row.overlap_kept_reason,
        geometry=_geom(row.geom),
        area_m2=float(row.area_m2),
        bounds=(row.minx, row.miny, row.maxx, row.maxy),
        borough_code=row.borough_code,
        bcu_code=row.bcu_code,
        force_code=row.force_code,
        straddles_bcu=bool(row.straddles_bcu),
        straddles_force=bool(row.straddles_force),
        jurisdiction=juris or {},
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by_name=row.updated_by_name,
        version=row.version,
    )


def _for_reader(sector: Sector, permission: str, *, missing_ok: bool = True) -> Sector | None:
    """What a reader with ``permission`` may see of a sector (family: shared ones, pared down)."""
    if permission == perm.SECTOR_READ:
        return sector
    if not sector.share_with_family:
        if missing_ok:
            return None
        raise NotFound("This sector does not exist (it may have been deleted).")
    return replace(
        sector,
        notes="",
        team_id=None,
        searched_by_team_id=None,
        not_searched_reason="",
        re_search_reason="",
        overlap_kept_reason="",
        updated_by_name="",
    )
