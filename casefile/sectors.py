"""Search sectors in the store: create (drawn, grid, import), assign, track, and stop overlaps.

Every operation is one unit of work (:class:`~casefile.unit_of_work.UnitOfWork`):
actor, case and version checks; the case's change counter moved first (so the
sector writes of one case queue, and an overlap check inside a write sees every
committed sector); audit records; idempotency keys on creates. Outlines are
lon/lat (EPSG:4326) at the edges; all areas and overlaps are computed by
:mod:`geo` in British National Grid.

**Duplicate prevention.** Each process keeps, per case, a warm spatial index of
the case's sectors (:mod:`casefile.sector_index`), refreshed from the rows
written since it was built, so a check costs a spatial-index query, not reading
every outline. Creating,
importing or assigning a sector that overlaps others raises :class:`OverlapWarning`
(nothing saved) unless the caller decides: ``on_overlap="keep"`` with a reason
(audited) or ``on_overlap="clip"`` (save only the ground not yet covered). The
check runs inside the write, under the case's counter lock, so two
coordinators drawing over each other at the same moment cannot both slip through.

**Team leads** start and finish only their own team's sectors: the role table
gives them ``sector.progress`` with the ``own_team`` scope, which the unit of
work enforces on the sector it opens (:mod:`casefile.access`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa

from casefile import fieldwork as fw
from casefile import passes
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.access import check_actor_shape
from casefile.database import Database
from casefile.errors import InvalidInput, NotFound, PermissionDenied
from casefile.fieldwork import NewSector, Overlap, OverlapWarning, Sector
from casefile.permissions import Actor
from casefile.sector_index import (
    clip_items,
    clipped_values,
    ground_bng,
    overlaps_with_stored,
    overlaps_within,
    unchecked_family_ground,
    unit_index,
)
from casefile.sector_rows import (
    audit_value,
    check_transition,
    clean_fields,
    clean_new_sector,
    code_number,
    for_reader,
    geom_of,
    overlap_summary,
    polygonal,
    sector_record,
    sectors_by_id,
    statuses,
    take_codes,
)
from casefile.unit_of_work import UnitOfWork, check_version, writes
from geo.crs import BNG
from geo.overlap import Duplication, duplication

#: rows per INSERT batch (and progress step) of a bulk create
BULK_CHUNK = 1000
#: sector fields ``update_sector`` changes
SECTOR_EDITABLE: tuple[str, ...] = ("name", "priority", "notes", "share_with_family", "origin")

ProgressFn = Callable[[int, int, str], None]
#: ``make(uow, row)`` of a sector change: (column values, audit changes, action)
MakeFn = Callable[[UnitOfWork, Any], tuple[dict[str, Any], dict[str, Any], str]]


# ------------------------------------------------------------------ creating


@writes
def create_sector(
    db: Database, /,
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
    """Save one sector (drawn or picked). See :func:`create_sectors` for the rules.

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
    out = create_sectors(db, actor, case_id, [item], on_overlap=on_overlap, reason=reason)
    assert out[0] is not None  # a single sector clipped to nothing raises instead
    return out[0]


@writes
def create_sectors(
    db: Database, /,
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
    unit = UnitOfWork(db, actor, perm.SECTOR_WRITE)
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
    clean = [clean_new_sector(item, i, total) for i, item in enumerate(items)]
    labels = [c["name"] or f"sector {i + 1}" for i, c in enumerate(clean)]
    lonlat, bng, _notes = fw.clean_outlines([item.geometry for item in items], labels)
    tick(0, "tagging")
    tags = fw.jurisdiction_rows(bng)
    with unit as uow:
        uow.enter_case(case_id)
        conn = uow.conn
        now = uow.now
        saved: dict[int, int] = {}
        for i, c in enumerate(clean):
            existing = uow.replay(c["key"], "sector")
            if existing is not None:
                saved[i] = existing
        todo = [i for i in range(total) if i not in saved]
        if not todo:  # every item was saved before: nothing new, the counter stays
            again = {sec.id: sec for sec in sectors_by_id(conn, list(saved.values()))}
            return [again.get(saved[i]) for i in range(total)]  # None where deleted since
        tick(0, "checking overlaps")
        index = unit_index(uow)
        pos = np.array(todo)
        stored = overlaps_with_stored(conn, index, bng[pos])
        overlaps: dict[int, list[Overlap]] = {int(pos[k]): o for k, o in stored.items()}
        for i, extra in overlaps_within(bng, pos, clean).items():
            overlaps.setdefault(i, []).extend(extra)
        deliberate = {i for i in todo if clean[i]["re_search_reason"]}
        pending = {i: o for i, o in overlaps.items() if i not in deliberate}
        dropped: set[int] = set()
        if pending and on_overlap is None:
            raise OverlapWarning(pending, total)
        if pending and on_overlap == "clip":
            dropped = clip_items(lonlat, bng, index, pending, total)
            changed = sorted(set(pending) - dropped)
            for i, tag in zip(changed, fw.jurisdiction_rows(bng[changed]), strict=True):
                tags[i] = tag
        order = [i for i in todo if i not in dropped]
        next_n = take_codes(conn, case_id, len(order))
        rows: list[dict[str, Any]] = []
        for i in order:
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
                    "change_n": uow.change_n,
                    **uow.new_row_stamps(),
                }
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
                changes["overlaps"] = (None, overlap_summary(overlaps[i]))
                changes["on_overlap"] = (
                    None,
                    "re-search" if i in deliberate else on_overlap,
                )
            uow.record("sector", sid, "create", changes,
                       reason=reason if on_overlap == "keep" else None)
        for i in order:
            uow.remember(clean[i]["key"], "sector", saved[i])
        by_id = {sec.id: sec for sec in sectors_by_id(conn, list(saved.values()))}
    tick(total, "done")
    if total == 1 and 0 in dropped:  # pragma: no cover - clip_items raises for one item
        raise InvalidInput("Nothing is left: the whole shape is already covered.")
    return [by_id.get(saved[i]) if i in saved else None for i in range(total)]


# ------------------------------------------------------------------ reading


def read_permission(actor: Actor) -> str:
    """The sector-reading permission the actor's role holds (all sectors, or shared ones)."""
    check_actor_shape(actor, None)
    if perm.role_allows(actor.role, perm.SECTOR_READ):
        return perm.SECTOR_READ
    if perm.role_allows(actor.role, perm.SECTOR_READ_SHARED):
        return perm.SECTOR_READ_SHARED
    raise PermissionDenied(
        f"A {actor.role.replace('_', ' ')} may not see sectors ({perm.SECTOR_READ})."
    )


def get_sector(db: Database, /, actor: Actor, sector_id: int) -> Sector:
    """One sector (family readers: only if shared, without notes or teams)."""
    permission = read_permission(actor)
    with UnitOfWork(db, actor, permission, mode="read") as uow:
        sector = sector_record(uow.open(t.sectors, sector_id, what="sector"))
    return for_reader(sector, permission, missing_ok=False)  # type: ignore[return-value]


def find_sector(db: Database, /, actor: Actor, case_id: int, code: str) -> Sector:
    """A sector by its short ID within the case ("S12")."""
    permission = read_permission(actor)
    with UnitOfWork(db, actor, permission, case_id=case_id, mode="read") as uow:
        row = uow.conn.execute(
            sa.select(t.sectors).where(
                t.sectors.c.case_id == case_id, t.sectors.c.code == str(code).strip().upper()
            )
        ).first()
        if row is None:
            raise NotFound(f"This case has no sector {code!r}.")
        sector = sector_record(row)
    return for_reader(sector, permission, missing_ok=False)  # type: ignore[return-value]


def sectors(
    db: Database, /,
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
    permission = read_permission(actor)
    wanted = statuses(status)
    with UnitOfWork(db, actor, permission, case_id=case_id, mode="read") as uow:
        return sectors_of_case(uow.conn, case_id, permission, status=wanted, team_id=team_id,
                               bcu=bcu, force=force, straddling=straddling)


def sectors_of_case(
    conn: sa.Connection,
    case_id: int,
    permission: str = perm.SECTOR_READ,
    *,
    status: Sequence[str] | None = None,
    team_id: int | None = None,
    bcu: str | None = None,
    force: str | None = None,
    straddling: bool | None = None,
) -> list[Sector]:
    """The case's sectors by number as a reader with ``permission`` sees them (filters
    as :func:`sectors`; ``status`` already checked). No permission check: callers do."""
    q = sa.select(t.sectors).where(t.sectors.c.case_id == case_id)
    if status is not None:
        q = q.where(t.sectors.c.status.in_(list(status)))
    if team_id is not None:
        q = q.where(t.sectors.c.team_id == team_id)
    if permission == perm.SECTOR_READ_SHARED:
        q = q.where(t.sectors.c.share_with_family.is_(True))
    out = [sector_record(r) for r in conn.execute(q).all()]
    if bcu is not None:
        out = [x for x in out if any(u["code"] == bcu for u in x.jurisdiction.get("bcu", []))]
    if force is not None:
        out = [
            x for x in out if any(u["code"] == force for u in x.jurisdiction.get("force", []))
        ]
    if straddling is not None:
        out = [x for x in out if x.straddles == straddling]
    out.sort(key=lambda x: code_number(x.code))
    return [y for x in out if (y := for_reader(x, permission)) is not None]


def sectors_frame(db: Database, /, actor: Actor, case_id: int, **filters: Any) -> gpd.GeoDataFrame:
    """The sectors as a lon/lat GeoDataFrame for maps and exports.

    Columns: ``id`` (the short ID, as :mod:`geo.exports` names features),
    ``sector_id``, ``name``, ``status``, ``team`` (team name), ``team_id``,
    ``priority``, ``origin``, ``share_with_family``, ``searched_at``,
    ``search_type``, ``assurance``, ``re_search``, ``bcu``, ``force``,
    ``straddles``, ``area_m2``, ``version``. Filters as :func:`sectors`.
    """
    permission = read_permission(actor)
    wanted = statuses(filters.pop("status", None))
    with UnitOfWork(db, actor, permission, case_id=case_id, mode="read") as uow:
        items = sectors_of_case(uow.conn, case_id, permission, status=wanted, **filters)
        names: dict[int, str] = {}
        if any(x.team_id is not None for x in items):
            names = {
                int(i): str(n)
                for i, n in uow.conn.execute(
                    sa.select(t.teams.c.id, t.teams.c.name).where(t.teams.c.case_id == case_id)
                ).all()
            }
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


def duplication_figure(db: Database, /, actor: Actor, case_id: int) -> Duplication:
    """Ground of the case searched more than once (:class:`geo.overlap.Duplication`).

    Area of the union (m², BNG) searched twice or more, split into deliberate
    re-searches (a sector marked "needs re-search" or saved with a re-search
    reason) and accidental overlap; ground recorded as not searched inside a
    sector is left out. Shapes are lon/lat. Ground a family reported that no
    coordinator has accepted yet counts only once accepted: until then, how much
    of it lies on other searched ground is ``unchecked_m2``, apart.
    """
    with UnitOfWork(db, actor, perm.SECTOR_READ, case_id=case_id, mode="read") as uow:
        rows = uow.conn.execute(
            sa.select(
                t.sectors.c.id,
                t.sectors.c.status,
                t.sectors.c.re_search,
                fw.wkb_column(t.sectors.c.geom, db.backend),
                fw.wkb_column(t.sectors.c.not_searched_geom, db.backend),
            ).where(
                t.sectors.c.case_id == case_id,
                t.sectors.c.status.in_(["searched", "needs_re_search"]),
            )
        ).all()
        unchecked = unchecked_family_ground(uow.conn, case_id=case_id)
    ids, ground = ground_bng(rows)
    waiting = np.array([int(i) in unchecked for i in ids], dtype=bool)
    frame = gpd.GeoDataFrame(
        {
            "id": ids[~waiting] if len(rows) else [],
            "status": [r.status for r, w in zip(rows, waiting, strict=True) if not w],
            "re_search": [bool(r.re_search) for r, w in zip(rows, waiting, strict=True)
                          if not w],
        },
        geometry=list(ground[~waiting]) if len(rows) else [],
        crs=BNG,
    )
    dup = duplication(frame)
    if not waiting.any() or waiting.all():
        return dup
    on_searched = shapely.intersection(shapely.union_all(ground[waiting]),
                                       shapely.union_all(ground[~waiting]))
    return replace(dup, unchecked_m2=float(shapely.area(on_searched)))


# ------------------------------------------------------------------ changing


def change_sector(
    unit: UnitOfWork, sector_id: int, version: int, make: MakeFn, reason: str | None = None
) -> Sector:
    """One sector write as a whole unit: open the sector at ``version``, then
    :func:`save_sector`."""
    with unit as uow:
        row = uow.open(t.sectors, sector_id, what="sector", version=version)
        return save_sector(uow, row, make, reason)


def save_sector(uow: UnitOfWork, row: Any, make: MakeFn, reason: str | None = None) -> Sector:
    """One sector write inside ``uow`` on a row it opened: let ``make`` decide, then save.

    ``make(uow, row)`` returns (column values, audit changes, action); empty
    values mean nothing changed (nothing is written, the counter stays). The row
    records the counter value the unit moves the case to (``change_n``).
    """
    values, changes, action = make(uow, row)
    if not values:
        return sector_record(row)
    uow.save(t.sectors, row, {**values, "change_n": uow.change_n}, entity="sector",
             action=action, changes=changes, what="sector", reason=reason)
    return sector_record(uow.open(t.sectors, row.id, what="sector"))


def _team_case(conn: sa.Connection, team_id: Any) -> int:
    """The case of team ``team_id`` (a plain read: teams are not the row being changed)."""
    if isinstance(team_id, bool) or not isinstance(team_id, int):
        raise NotFound("No team was chosen.")
    case_id = conn.execute(sa.select(t.teams.c.case_id).where(t.teams.c.id == team_id)).scalar()
    if case_id is None:
        raise NotFound("This team does not exist (it may have been deleted).")
    return int(case_id)


@writes
def update_sector(
    db: Database, /,
    actor: Actor,
    sector_id: int,
    *,
    version: int,
    reason: str | None = None,
    **changes: Any,
) -> Sector:
    """Change name, priority, notes, share_with_family or origin of a sector at ``version``."""
    unit = UnitOfWork(db, actor, perm.SECTOR_WRITE)
    unknown = set(changes) - set(SECTOR_EDITABLE)
    if unknown:
        raise InvalidInput(
            f"Sectors have no editable field(s) {', '.join(sorted(unknown))} "
            "(status, team and outline have their own actions)."
        )
    clean = clean_fields(changes)
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None

    def make(uow: UnitOfWork, row: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
        diff = {k: (getattr(row, k), val) for k, val in clean.items() if getattr(row, k) != val}
        if "name" in diff and not clean["name"]:
            raise InvalidInput("A sector needs a name (or keep its ID as its name).")
        return {k: after for k, (_, after) in diff.items()}, diff, "update"

    return change_sector(unit, sector_id, version, make, reason)


@writes
def set_sector_status(
    db: Database, /,
    actor: Actor,
    sector_id: int,
    status: str,
    *,
    version: int,
    reason: str | None = None,
) -> Sector:
    """Move a sector along its lifecycle (draft, ready, suspended, needs re-search).

    Assigning, starting and finishing have their own operations (they record a
    team, times and results). "ready" from an assigned sector takes it off
    its team. "needs re-search" requires a reason (kept on the sector; its
    later overlaps count as deliberate). Refused transitions raise
    :class:`InvalidInput` naming what is allowed.
    """
    unit = UnitOfWork(db, actor, perm.SECTOR_WRITE)
    status = v.choice("status", status, fw.SECTOR_STATUSES)
    if status in ("assigned", "in_progress", "searched"):
        method = {"assigned": "assign_sector", "in_progress": "start_sector",
                  "searched": "finish_sector"}[status]
        raise InvalidInput(f"Use {method} to mark a sector {fw.STATUS_LABELS[status]}.")
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
    if status == "needs_re_search" and not reason:
        raise InvalidInput("Say why the sector needs searching again (a reason is needed).")

    def make(uow: UnitOfWork, row: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
        check_transition(row, status)
        values: dict[str, Any] = {"status": status, "status_changed_at": uow.now}
        if status in ("ready", "draft") and row.team_id is not None:
            values.update(team_id=None, assigned_at=None)
        if status == "needs_re_search":
            values.update(re_search=True, re_search_reason=reason)
        diff = {k: (audit_value(getattr(row, k)), audit_value(val))
                for k, val in values.items() if k != "status_changed_at"}
        return values, diff, "status"

    return change_sector(unit, sector_id, version, make, reason)


@writes
def assign_sector(
    db: Database, /,
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
    unit = UnitOfWork(db, actor, perm.SECTOR_WRITE)
    if on_overlap is not None:
        v.choice("on_overlap", on_overlap, fw.OVERLAP_CHOICES)
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
    if on_overlap == "keep" and not reason:
        raise InvalidInput("Say why this ground should be covered again (a reason is needed).")

    def make(uow: UnitOfWork, row: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
        if _team_case(uow.conn, team_id) != row.case_id:
            raise InvalidInput("That team works on another case.")
        if row.status == "assigned" and row.team_id == team_id:
            return {}, {}, "assign"
        check_transition(row, "assigned")
        values: dict[str, Any] = {
            "status": "assigned",
            "status_changed_at": uow.now,
            "team_id": team_id,
            "assigned_at": uow.now,
        }
        diff: dict[str, tuple[Any, Any]] = {
            "status": (row.status, "assigned"),
            "team_id": (row.team_id, team_id),
        }
        if not row.re_search:
            index = unit_index(uow)
            ground = ground_bng([row])[1]
            found = overlaps_with_stored(uow.conn, index, ground, exclude=(row.id,))
            found_list = found.get(0, [])
            if found_list and on_overlap is None:
                raise OverlapWarning({0: found_list})
            if found_list:
                diff["overlaps"] = (None, overlap_summary(found_list))
                diff["on_overlap"] = (None, on_overlap)
            if found_list and on_overlap == "keep":
                values["overlap_kept_reason"] = reason
            if found_list and on_overlap == "clip":
                values.update(clipped_values(index, ground[0], found_list))
                diff["outline"] = (
                    fw.outline_text(geom_of(row.geom)), fw.outline_text(values["geom"])
                )
        return values, diff, "assign"

    return change_sector(unit, sector_id, version, make, reason)


@writes
def start_sector(
    db: Database, /, actor: Actor, sector_id: int, *, version: int, at: datetime | None = None
) -> Sector:
    """The assigned team has started searching (``at`` defaults to now).

    Team leads: their own team's sectors only (the role table's ``own_team`` scope).
    """
    unit = UnitOfWork(db, actor, perm.SECTOR_PROGRESS)
    when = v.moment("started_at", at) if at is not None else None

    def make(uow: UnitOfWork, row: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
        check_transition(row, "in_progress")
        if row.team_id is None:
            raise InvalidInput(f"Sector {row.code} has no team; assign it first.")
        start = when or uow.now
        values = {"status": "in_progress", "status_changed_at": uow.now, "started_at": start}
        return values, {"status": (row.status, "in_progress"), "started_at": (None, start)}, (
            "start"
        )

    return change_sector(unit, sector_id, version, make)


@writes
def finish_sector(
    db: Database, /,
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

    One transaction: the sector's record, its pass (closed with the record, or
    made from it) and the POA update (:func:`casefile.passes.sync_after_finish`),
    or nothing at all. Team leads: their own team's sectors only (the role
    table's ``own_team`` scope), for their own team, and never the family's view.
    """
    unit = UnitOfWork(db, actor, perm.SECTOR_PROGRESS)
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

    def make(uow: UnitOfWork, row: Any) -> tuple[dict[str, Any], dict[str, Any], str]:
        check_transition(row, "searched")
        by = team_id if team_id is not None else row.team_id
        if by is not None and _team_case(uow.conn, by) != row.case_id:
            raise InvalidInput("That team works on another case.")
        values: dict[str, Any] = {
            "status": "searched",
            "status_changed_at": uow.now,
            "searched_at": when or uow.now,
            "searched_by_team_id": by,
            "search_type": search_type,
            "assurance": assurance,
            "not_searched_reason": not_searched_reason,
            "not_searched_geom": None,
        }
        if hole is not None:
            inside = shapely.intersection(hole, geom_of(row.geom))
            part = polygonal(inside)
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
            k: (audit_value(getattr(row, k)), audit_value(val))
            for k, val in values.items()
            if k not in ("status_changed_at", "not_searched_geom")
        }
        diff["not_searched"] = (
            None, fw.outline_text(values["not_searched_geom"])
            if values["not_searched_geom"] is not None else None
        )
        return values, diff, "finish"

    with unit as uow:
        row = uow.open(t.sectors, sector_id, what="sector")  # scope: a team lead's own team
        if uow.scope == "own_team" and team_id is not None and team_id != uow.link.team_id:
            raise PermissionDenied("A team lead records searches for their own team only.")
        check_version("sector", sector_id, row, version)
        if uow.scope == "own_team" and share_with_family is True:
            raise PermissionDenied("Only a coordinator decides what the family sees.")
        sector = save_sector(uow, row, make)
        passes.sync_after_finish(uow, row)
        return sector


@writes
def delete_sector(
    db: Database, /, actor: Actor, sector_id: int, *, version: int, reason: str | None = None
) -> None:
    """Remove a sector drawn by mistake (draft or ready only); its ID is never reused."""
    unit = UnitOfWork(db, actor, perm.SECTOR_WRITE)
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
    with unit as uow:
        row = uow.open(t.sectors, sector_id, what="sector", version=version)
        if row.status not in ("draft", "ready"):
            raise InvalidInput(
                f"Sector {row.code} is {fw.STATUS_LABELS[row.status]}: only draft or ready "
                "sectors can be deleted (suspend it instead)."
            )
        uow.remove(
            t.sectors,
            row,
            entity="sector",
            changes={
                "code": (row.code, None),
                "name": (row.name, None),
                "status": (row.status, None),
                "outline": (fw.outline_text(geom_of(row.geom)), None),
            },
            reason=reason,
        )
