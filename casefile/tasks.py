"""Enquiry tasks: places and streets a team goes to, never done twice.

A task is house-to-house on one side of a street, CCTV collected from a shop or a
bus route for a time window, a visit to an address investigators were given, or a
hospital, station or place check (:mod:`vocab.task_types`). It has a team, a status
(planned -> assigned -> done / no trace / not possible) and a result note.

**Repeats are flagged before saving.** Every task stores three index keys
(:mod:`geo.task_places`): the premises key (postcode + normalised address), the
street key (street name, or ``route:<n>`` for a bus route) and the grid cell of its
point. A new task looks up its keys and the 3 × 3 cells around it — three indexed
look-ups within the case, never a scan — and the repeat rules decide among the few
rows found. Matched within the case across all its BCUs and forces, never across
cases. :func:`add_task` raises :class:`TaskRepeatWarning` (nothing saved) unless the
caller decides, exactly as for sector overlaps: ``on_repeat="keep"`` with a reason
(audited) or ``on_repeat="merge"`` (the new task is folded into the one already
there: its note added, the time windows joined). Cancelling is not saving. The
check runs inside the write, under the case's counter lock, so two coordinators
adding the same task at the same moment cannot both slip through.

**Personal data.** A visit's address, postcode and point are a person's home:
the address, postcode, title and notes of every task — and the place of a visit —
go to the purgeable audit detail, never the append-only audit values; the purge
clears them (and the place of every visit); family and partner views never carry
them (the family reads only counts).

Team leads see and update only their own team's tasks (the role table's
``own_team`` scope); partner units see tasks in and near their unit without
addresses, titles or notes, and without the place of a visit.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from casefile import fieldwork as fw
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.database import Database
from casefile.errors import InvalidInput, LinkGone, PermissionDenied, StoreError
from casefile.fieldwork import Unit
from casefile.handovers import MAX_WITHIN_M, resolve_unit, unit_area
from casefile.permissions import Actor
from casefile.sector_rows import geom_of
from casefile.unit_of_work import UnitOfWork, writes
from geo import task_places as tp
from geo.boundaries import locate_many
from geo.crs import geoms_to_bng, geoms_to_lonlat
from geo.uk import in_uk
from vocab import task_types as tt

#: text caps (characters)
MAX_TITLE: Final[int] = 200
MAX_ADDRESS: Final[int] = 300
MAX_STREET: Final[int] = 200
MAX_ROUTE: Final[int] = 40
MAX_NOTE: Final[int] = 4000
#: the longest street or route line a task may follow, m
MAX_LINE_M: Final[float] = 10_000.0
#: how far "near" a partner's unit reaches by default, m
PARTNER_NEAR_M: Final[float] = 1000.0
#: what a purged text field reads
PURGED: Final[str] = "recorded (purged)"


# ---------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class Task:
    """One enquiry task as a coordinator (or its own team) sees it. ``geometry`` is
    lon/lat (EPSG:4326): a Point or a LineString; None once a visit's place is purged."""

    id: int
    case_id: int
    number: int
    kind: str
    title: str
    status: str
    team_id: int | None
    team_name: str | None
    note: str
    result_note: str
    address: str
    postcode: str
    street: str
    side: str | None
    route: str
    window_start: datetime | None
    window_end: datetime | None
    geometry: BaseGeometry | None
    borough_code: str | None
    bcu_code: str | None
    force_code: str | None
    repeat_kept_reason: str
    status_changed_at: datetime
    created_at: datetime
    updated_at: datetime
    updated_by_name: str
    version: int

    @property
    def code(self) -> str:
        """The task's short ID within its case ("T3")."""
        return f"T{self.number}"

    @property
    def kind_label(self) -> str:
        return tt.label(self.kind)

    @property
    def status_label(self) -> str:
        return tt.status_label(self.status)

    @property
    def finished(self) -> bool:
        return self.status in tt.finished_statuses()


@dataclass(frozen=True, slots=True)
class TaskRepeat:
    """A stored task a new one would repeat: who has it, where, with what status."""

    task_id: int
    number: int
    kind: str
    title: str
    status: str
    team_name: str | None
    borough_code: str | None
    bcu_code: str | None
    force_code: str | None
    window_start: datetime | None
    window_end: datetime | None
    distance_m: float | None
    version: int

    @property
    def code(self) -> str:
        return f"T{self.number}"

    def describe(self) -> str:
        """One line for the warning (no address: the title is the coordinator's own)."""
        who = self.team_name or "no team yet"
        where = self.bcu_code or self.force_code or "outside London's BCUs"
        return (f"{self.code} {tt.label(self.kind)} — {tt.status_label(self.status)}, "
                f"{who}, {where}")


class TaskRepeatWarning(StoreError):
    """The new task repeats tasks of the case; nothing was saved.

    Save again with ``on_repeat="keep"`` and a reason, or ``on_repeat="merge"``
    (optionally ``merge_into=`` one of ``repeats``' ``task_id``), or cancel.
    """

    def __init__(self, repeats: list[TaskRepeat]) -> None:
        self.repeats: tuple[TaskRepeat, ...] = tuple(repeats)
        lines = "; ".join(r.describe() for r in repeats[:5])
        more = f"; and {len(repeats) - 5} more" if len(repeats) > 5 else ""
        super().__init__(
            f"This task repeats {len(repeats)} task(s) of the case: {lines}{more}. "
            "Keep it anyway (give a reason), merge it into the one already there, or cancel."
        )


@dataclass(frozen=True, slots=True)
class TaskCounts:
    """What a family reads: how many places have been checked, how many are still to do."""

    checked: int
    to_do: int


@dataclass(frozen=True, slots=True)
class PartnerTask:
    """A task in or near a partner's unit, without address, title, notes or team;
    ``geometry`` is None for a visit (its place is a person's address)."""

    number: int
    kind: str
    status: str
    bcu_code: str | None
    force_code: str | None
    geometry: BaseGeometry | None
    inside: bool
    distance_m: float

    @property
    def code(self) -> str:
        return f"T{self.number}"


@dataclass(frozen=True, slots=True)
class UnitTask:
    """A task in or near a unit, for the coordinator's Handover page."""

    task: Task
    inside: bool
    distance_m: float


# ---------------------------------------------------------------------- input


@dataclass(frozen=True, slots=True)
class _Place:
    kind: str
    lonlat: BaseGeometry
    bng: BaseGeometry
    address: str
    postcode: str
    street: str
    side: str | None
    route: str
    start: datetime | None
    end: datetime | None
    premises_key: str | None
    street_key: str | None
    cell: int
    anchor_bng: tuple[float, float]

    def repeat_place(self) -> tp.TaskPlace:
        return tp.TaskPlace(
            rule=tt.TASK_TYPES[self.kind].repeats, geom=self.bng, premises=self.premises_key,
            street=self.street_key, side=self.side, has_address=bool(self.premises_key),
            start=self.start, end=self.end,
        )


def _geometry(value: Any) -> BaseGeometry:
    if isinstance(value, dict | str):
        try:
            value = shapely.from_geojson(value if isinstance(value, str) else json.dumps(value))
        except (shapely.errors.GEOSException, TypeError, ValueError):
            raise InvalidInput("The task's place could not be read.") from None
    if not isinstance(value, BaseGeometry) or value.geom_type not in ("Point", "LineString"):
        raise InvalidInput("A task's place is a point (lon/lat) or a line along a street.")
    if value.is_empty or not value.is_valid:
        raise InvalidInput("The task's place is empty or not a valid shape.")
    coords = shapely.get_coordinates(value)
    if not np.isfinite(coords).all() or not bool(np.all(in_uk(coords[:, 0], coords[:, 1]))):
        raise InvalidInput("The task's place is outside the UK (give lon/lat, EPSG:4326).")
    return shapely.force_2d(value)


def _window(kind: str, start: Any, end: Any) -> tuple[datetime | None, datetime | None]:
    if start is None and end is None:
        return None, None
    if not tt.TASK_TYPES[kind].window:
        raise InvalidInput(f"A {tt.label(kind).lower()} task has no time window.")
    out: list[datetime | None] = []
    for name, value in (("window_start", start), ("window_end", end)):
        if value is None:
            out.append(None)
            continue
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise InvalidInput(f"The {name.replace('_', ' ')} must be a date and time with its "
                               "time zone (London times: casefile.from_london()).")
        out.append(value.astimezone(UTC))
    if out[0] is not None and out[1] is not None and out[1] <= out[0]:
        raise InvalidInput("The time window must end after it starts.")
    return out[0], out[1]


def _clean_place(kind: str, place_lonlat: Any, *, address: str, postcode: str, street: str,
                 side: str | None, route: str, window_start: Any, window_end: Any) -> _Place:
    kind = v.choice("kind", kind, tt.names())
    entry = tt.TASK_TYPES[kind]
    lonlat = _geometry(place_lonlat)
    if entry.place == "point" and lonlat.geom_type != "Point":
        raise InvalidInput(f"A {entry.label.lower()} task is at one place: give a point.")
    bng: BaseGeometry = geoms_to_bng(np.array([lonlat], dtype=object))[0]
    if bng.geom_type == "LineString" and bng.length > MAX_LINE_M:
        raise InvalidInput(f"A task's line may be at most {MAX_LINE_M / 1000:.0f} km long.")
    address = v.text("address", address, MAX_ADDRESS).strip()
    postcode = tp.normalise_postcode_key(v.text("postcode", postcode, 10))
    if len(postcode) > 8:
        raise InvalidInput("That postcode is too long.")
    if len(postcode) >= 5:  # written as people read it: "SE1 9HR"
        postcode = f"{postcode[:-3]} {postcode[-3:]}"
    street = v.text("street", street, MAX_STREET).strip()
    route = v.text("route", route, MAX_ROUTE).strip()
    if entry.repeats == "street":
        if not tp.normalise_street(street):
            raise InvalidInput("A house-to-house task needs the street's name.")
        side = v.choice("side", side or "both", tuple(tt.STREET_SIDES))
    else:
        if side is not None:
            raise InvalidInput("Only a house-to-house task has a side of the street.")
        street = ""
    if kind != "cctv":
        route = ""
    if entry.personal and not tp.normalise_address(address):
        raise InvalidInput("A visit needs the address (it is kept as personal data).")
    start, end = _window(kind, window_start, window_end)
    anchor = tp.anchor(bng)
    return _Place(
        kind=kind, lonlat=lonlat, bng=bng, address=address, postcode=postcode, street=street,
        side=side, route=route, start=start, end=end,
        premises_key=tp.premises_key(postcode, address),
        street_key=tp.street_key(street=street, route=route),
        cell=tp.cell_of(*anchor), anchor_bng=anchor,
    )


def _tags(place: _Place) -> dict[str, str | None]:
    """Borough, BCU and force at the task's point (a line: its midpoint)."""
    lon, lat = tp.anchor(place.lonlat)
    row = locate_many([lat], [lon], codes=True).iloc[0]

    def code(name: str) -> str | None:
        value = row.get(name)
        return None if value is None or (isinstance(value, float) and np.isnan(value)) else str(
            value)

    return {"borough_code": code("borough_code"), "bcu_code": code("bcu_code"),
            "force_code": code("force_code")}


# ---------------------------------------------------------------------- the repeat check


def _task_query() -> sa.Select[Any]:
    return sa.select(t.tasks, t.teams.c.name.label("team_name")).select_from(
        t.tasks.outerjoin(t.teams, t.teams.c.id == t.tasks.c.team_id))


def find_repeats(conn: sa.Connection, case_id: int, place: _Place,
                 exclude: tuple[int, ...] = ()) -> list[TaskRepeat]:
    """Stored tasks of ``case_id`` that ``place`` would repeat (no permission check).

    Three indexed look-ups (premises key, street key, the 3 × 3 cells), then the
    rules of :func:`geo.task_places.find_repeats` on the few rows they return.
    """
    keys: list[sa.ColumnElement[bool]] = [t.tasks.c.cell.in_(tp.cells_around(*place.anchor_bng))]
    if place.premises_key:
        keys.append(t.tasks.c.premises_key == place.premises_key)
    if place.street_key:
        keys.append(t.tasks.c.street_key == place.street_key)
    # one indexed select per key, joined by UNION: an OR of them makes SQLite scan the case
    ids = sa.union(*(sa.select(t.tasks.c.id).where(t.tasks.c.case_id == case_id, key)
                     for key in keys)).subquery()
    q = _task_query().where(t.tasks.c.id.in_(sa.select(ids.c.id)))
    if exclude:
        q = q.where(t.tasks.c.id.not_in(list(exclude)))
    rows = conn.execute(q).all()
    if not rows:
        return []
    lonlat = [geom_of(r.geom) if r.geom is not None else None for r in rows]
    present = [i for i, g in enumerate(lonlat) if g is not None]
    bng: list[BaseGeometry | None] = [None] * len(rows)
    if present:
        for i, g in zip(present, geoms_to_bng(np.array([lonlat[i] for i in present],
                                                       dtype=object)), strict=True):
            bng[i] = g
    candidates = [
        tp.TaskPlace(rule=tt.TASK_TYPES[r.kind].repeats if r.kind in tt.TASK_TYPES else "",
                     geom=g, premises=r.premises_key, street=r.street_key, side=r.side,
                     has_address=bool(r.premises_key), start=r.window_start, end=r.window_end)
        for r, g in zip(rows, bng, strict=True)
    ]
    hits = tp.find_repeats(place.repeat_place(), candidates)
    out = []
    for i in hits:
        r = rows[i]
        g = bng[i]
        out.append(TaskRepeat(
            task_id=r.id, number=r.number, kind=r.kind, title=r.title, status=r.status,
            team_name=r.team_name, borough_code=r.borough_code, bcu_code=r.bcu_code,
            force_code=r.force_code, window_start=r.window_start, window_end=r.window_end,
            distance_m=None if g is None else round(float(shapely.distance(place.bng, g)), 1),
            version=r.version,
        ))
    out.sort(key=lambda x: x.number)
    return out


def task_repeats(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    kind: str,
    place_lonlat: Any,
    address: str = "",
    postcode: str = "",
    street: str = "",
    side: str | None = None,
    route: str = "",
    window_start: datetime | None = None,
    window_end: datetime | None = None,
) -> list[TaskRepeat]:
    """The tasks of the case a task with these details would repeat (nothing saved).

    What a form shows before saving; :func:`add_task` runs the same check again
    inside its write. Arguments as for :func:`add_task`.
    """
    unit = UnitOfWork(db, actor, perm.TASK_READ, mode="read")
    place = _clean_place(kind, place_lonlat, address=address, postcode=postcode, street=street,
                         side=side, route=route, window_start=window_start,
                         window_end=window_end)
    with unit as uow:
        uow.enter_case(case_id)
        return find_repeats(uow.conn, case_id, place)


# ---------------------------------------------------------------------- writing


def _audit_place(place: _Place) -> dict[str, tuple[Any, Any]]:
    return {
        "place": (None, fw.outline_text(place.lonlat)),
        "address": (None, place.address),
        "postcode": (None, place.postcode),
        "street": (None, place.street),
        "side": (None, place.side),
        "route": (None, place.route),
        "window_start": (None, place.start),
        "window_end": (None, place.end),
    }


def _team_of_case(conn: sa.Connection, case_id: int, team_id: Any) -> int | None:
    if team_id is None:
        return None
    row = fw.require_row(conn, t.teams, team_id, "team")
    if row.case_id != case_id:
        raise PermissionDenied("That team belongs to another case.")
    return int(row.id)


@writes
def add_task(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    kind: str,
    title: str,
    place_lonlat: Any,
    address: str = "",
    postcode: str = "",
    street: str = "",
    side: str | None = None,
    route: str = "",
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    team_id: int | None = None,
    note: str = "",
    on_repeat: str | None = None,
    reason: str | None = None,
    merge_into: int | None = None,
    idempotency_key: str | None = None,
) -> Task:
    """Save one enquiry task, or raise :class:`TaskRepeatWarning` (nothing saved).

    ``kind``: a :data:`vocab.task_types.TASK_TYPES` name. ``title``: what the team
    reads ("CCTV at Tesco Express"). ``place_lonlat``: a shapely Point or LineString
    (or its GeoJSON) in lon/lat, EPSG:4326 — a premises, an address, or a street or
    bus route. ``address`` / ``postcode``: the premises (required for a visit;
    personal data). ``street`` and ``side`` ("both", "odd", "even"): house-to-house.
    ``route``: a bus route for CCTV. ``window_start`` / ``window_end``: aware
    datetimes, CCTV only. ``team_id``: a team of the case (the task is then
    assigned). ``on_repeat``: None (raise on a repeat), ``"keep"`` (``reason``
    required, audited) or ``"merge"`` (fold into ``merge_into``, default the first
    repeat; returns that task).
    """
    unit = UnitOfWork(db, actor, perm.TASK_WRITE)
    place = _clean_place(kind, place_lonlat, address=address, postcode=postcode, street=street,
                         side=side, route=route, window_start=window_start,
                         window_end=window_end)
    title = v.text("title", title, MAX_TITLE).strip() or tt.label(place.kind)
    note = v.text("note", note, MAX_NOTE)
    if on_repeat is not None:
        v.choice("on_repeat", on_repeat, tt.REPEAT_CHOICES)
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]).strip() or None
    if on_repeat == "keep" and not reason:
        raise InvalidInput("Say why this should be done again (a reason is needed).")
    key = v.idempotency_key(idempotency_key)
    tags = _tags(place)
    with unit as uow:
        uow.enter_case(case_id)
        existing = uow.replay(key, "task")
        if existing is not None:
            return _load(uow.conn, existing)
        team = _team_of_case(uow.conn, case_id, team_id)
        repeats = find_repeats(uow.conn, case_id, place)
        if repeats and on_repeat is None:
            raise TaskRepeatWarning(repeats)
        if repeats and on_repeat == "merge":
            return _merge(uow, repeats, merge_into, place, title, note, reason, key)
        number = int(uow.conn.execute(
            sa.select(sa.func.coalesce(sa.func.max(t.tasks.c.number), 0))
            .where(t.tasks.c.case_id == case_id)).scalar_one()) + 1
        anchor_lon, anchor_lat = tp.anchor(place.lonlat)
        status = "assigned" if team is not None else "planned"
        kept = reason if repeats else None
        changes: dict[str, tuple[Any, Any]] = {
            "number": (None, number), "kind": (None, place.kind), "title": (None, title),
            "status": (None, status), "team_id": (None, team), "note": (None, note),
            **_audit_place(place), **{k: (None, val) for k, val in tags.items()},
        }
        if repeats:
            changes["repeats"] = (None, [r.code for r in repeats])
            changes["on_repeat"] = (None, "keep")
        task_id = int(uow.conn.execute(t.tasks.insert().values(
            case_id=case_id, number=number, kind=place.kind, title=title, status=status,
            status_changed_at=uow.now, team_id=team, note=note, result_note="",
            address=place.address, postcode=place.postcode, street=place.street,
            side=place.side, route=place.route, window_start=place.start,
            window_end=place.end, geom=place.lonlat, lon=anchor_lon, lat=anchor_lat,
            premises_key=place.premises_key, street_key=place.street_key, cell=place.cell,
            **tags, repeat_kept_reason=kept or "", change_n=uow.change_n,
            **uow.new_row_stamps(),
        ).returning(t.tasks.c.id)).scalar_one())
        uow.remember(key, "task", task_id)
        uow.record("task", task_id, "create", changes, reason=kept)
        return _load(uow.conn, task_id)


def _merge(uow: UnitOfWork, repeats: list[TaskRepeat], merge_into: int | None, place: _Place,
           title: str, note: str, reason: str | None, key: str | None) -> Task:
    """Fold a new task into one it repeats: its title and note are added to the note,
    the time windows joined (earliest start, latest end). Audited as a merge."""
    target_id = repeats[0].task_id if merge_into is None else merge_into
    if target_id not in {r.task_id for r in repeats}:
        raise InvalidInput("Merge only into a task the new one repeats.")
    row = uow.open(t.tasks, target_id, what="task")
    added = f"Merged: {title}" + (f" — {note}" if note else "")
    new_note = (row.note + "\n" if row.note else "") + added
    values: dict[str, Any] = {"note": new_note[:MAX_NOTE]}
    changes: dict[str, tuple[Any, Any]] = {"note": (row.note, values["note"]),
                                          "merged": (None, tt.label(place.kind))}
    if row.window_start is not None and place.start is not None and place.start < row.window_start:
        values["window_start"] = place.start
        changes["window_start"] = (row.window_start, place.start)
    if row.window_end is not None and place.end is not None and place.end > row.window_end:
        values["window_end"] = place.end
        changes["window_end"] = (row.window_end, place.end)
    uow.save(t.tasks, row, values, entity="task", action="merge", changes=changes, what="task",
             reason=reason)
    uow.remember(key, "task", target_id)
    return _load(uow.conn, target_id)


@writes
def update_task(
    db: Database, /,
    actor: Actor,
    task_id: int,
    *,
    version: int,
    title: str | None = None,
    note: str | None = None,
    window_start: datetime | None = None,
    window_end: datetime | None = None,
    reason: str | None = None,
) -> Task:
    """Change a task's title, note or time window (saved at ``version``; a task saved
    since is refused with who changed it, never silently overwritten)."""
    unit = UnitOfWork(db, actor, perm.TASK_WRITE)
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]).strip() or None
    with unit as uow:
        row = uow.open(t.tasks, task_id, what="task", version=version)
        values: dict[str, Any] = {}
        if title is not None:
            values["title"] = v.text("title", title, MAX_TITLE).strip() or tt.label(row.kind)
        if note is not None:
            values["note"] = v.text("note", note, MAX_NOTE)
        if window_start is not None or window_end is not None:
            start, end = _window(row.kind, window_start or row.window_start,
                                 window_end or row.window_end)
            values.update(window_start=start, window_end=end)
        diff = {k: (getattr(row, k), val) for k, val in values.items() if getattr(row, k) != val}
        if not diff:
            return _load(uow.conn, task_id)
        uow.save(t.tasks, row, {k: values[k] for k in diff}, entity="task", action="update",
                 changes=diff, what="task", reason=reason)
        return _load(uow.conn, task_id)


@writes
def assign_task(db: Database, /, actor: Actor, task_id: int, team_id: int | None, *,
                version: int) -> Task:
    """Give a task to a team of the case (None: take it back to planned)."""
    unit = UnitOfWork(db, actor, perm.TASK_WRITE)
    with unit as uow:
        row = uow.open(t.tasks, task_id, what="task", version=version)
        team = _team_of_case(uow.conn, row.case_id, team_id)
        status = row.status
        if row.status in ("planned", "assigned"):
            status = "assigned" if team is not None else "planned"
        values: dict[str, Any] = {"team_id": team, "status": status}
        diff = {k: (getattr(row, k), val) for k, val in values.items() if getattr(row, k) != val}
        if not diff:
            return _load(uow.conn, task_id)
        if "status" in diff:
            values["status_changed_at"] = uow.now
        uow.save(t.tasks, row, values, entity="task", action="assign", changes=diff, what="task")
        return _load(uow.conn, task_id)


@writes
def set_task_status(
    db: Database, /,
    actor: Actor,
    task_id: int,
    status: str,
    *,
    version: int,
    result_note: str = "",
) -> Task:
    """Record a task done, no trace or not possible (with a result note), or reopen it.

    Coordinators may make any move the registry allows; a team lead only finishes
    its own team's tasks (the ``own_team`` scope). "Not possible" needs a note.
    """
    permission = (perm.TASK_WRITE if perm.role_allows(getattr(actor, "role", ""),
                                                       perm.TASK_WRITE) else perm.TASK_PROGRESS)
    unit = UnitOfWork(db, actor, permission)
    status = v.choice("status", status, tt.status_names())
    result_note = v.text("result_note", result_note, MAX_NOTE).strip()
    if status == "not_possible" and not result_note:
        raise InvalidInput("Say why the task was not possible (a note is needed).")
    if permission == perm.TASK_PROGRESS and status not in tt.finished_statuses():
        raise PermissionDenied("A team records a task done, no trace or not possible; "
                               "the coordinator reopens or reassigns it.")
    with unit as uow:
        row = uow.open(t.tasks, task_id, what="task", version=version)
        if status != row.status and status not in tt.TASK_STATUSES[row.status].moves_to:
            raise InvalidInput(f"A task that is {tt.status_label(row.status)} cannot become "
                               f"{tt.status_label(status)}.")
        values: dict[str, Any] = {"status": status}
        if result_note or status in tt.finished_statuses():
            values["result_note"] = result_note
        diff = {k: (getattr(row, k), val) for k, val in values.items() if getattr(row, k) != val}
        if not diff:
            return _load(uow.conn, task_id)
        values["status_changed_at"] = uow.now
        uow.save(t.tasks, row, values, entity="task", action="status", changes=diff,
                 what="task")
        return _load(uow.conn, task_id)


@writes
def delete_task(db: Database, /, actor: Actor, task_id: int, *, version: int,
                reason: str | None = None) -> None:
    """Take a task off the list (the audit log keeps that it was there)."""
    unit = UnitOfWork(db, actor, perm.TASK_WRITE)
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]).strip() or None
    with unit as uow:
        row = uow.open(t.tasks, task_id, what="task", version=version)
        uow.remove(t.tasks, row, entity="task", reason=reason, changes={
            "kind": (row.kind, None), "title": (row.title, None), "status": (row.status, None),
            "address": (row.address, None)})


# ---------------------------------------------------------------------- reading


def tasks(db: Database, /, actor: Actor, case_id: int) -> list[Task]:
    """Every task of the case, by number (coordinators)."""
    with UnitOfWork(db, actor, perm.TASK_READ, case_id=case_id, mode="read") as uow:
        rows = uow.conn.execute(
            _task_query().where(t.tasks.c.case_id == case_id).order_by(t.tasks.c.number)).all()
    return [task_record(r) for r in rows]


def get_task(db: Database, /, actor: Actor, task_id: int) -> Task:
    """One task (coordinators)."""
    with UnitOfWork(db, actor, perm.TASK_READ, mode="read") as uow:
        uow.open(t.tasks, task_id, what="task")
        return _load(uow.conn, task_id)


def team_tasks(db: Database, /, actor: Actor, case_id: int) -> list[Task]:
    """A team lead's own team's tasks, by number (with their addresses: the team goes
    there)."""
    with UnitOfWork(db, actor, perm.TASK_READ_TEAM, case_id=case_id, mode="read") as uow:
        link = uow.link
        if link is None:
            raise LinkGone()
        if link.case_id != case_id or link.team_id is None:
            raise PermissionDenied("This link is not for a team of this case.")
        rows = uow.conn.execute(
            _task_query().where(t.tasks.c.case_id == case_id,
                                t.tasks.c.team_id == link.team_id)
            .order_by(t.tasks.c.number)).all()
    return [task_record(r) for r in rows]


def open_tasks_of_team(conn: sa.Connection, case_id: int, team_id: int) -> list[Task]:
    """A team's unfinished tasks in the case, by number, inside an operation that has
    checked its own permission (the briefing pack prints them for that team)."""
    rows = conn.execute(
        _task_query().where(t.tasks.c.case_id == case_id, t.tasks.c.team_id == team_id,
                            t.tasks.c.status.not_in(sorted(tt.finished_statuses())))
        .order_by(t.tasks.c.number)).all()
    return [task_record(r) for r in rows]


def task_counts(db: Database, /, actor: Actor, case_id: int) -> TaskCounts:
    """How many places have been checked (done or no trace) and how many are to do —
    counts only, what the family reads."""
    with UnitOfWork(db, actor, perm.FAMILY_VIEW, case_id=case_id, mode="read") as uow:
        rows = uow.conn.execute(
            sa.select(t.tasks.c.status, sa.func.count())
            .where(t.tasks.c.case_id == case_id).group_by(t.tasks.c.status)).all()
    by = {str(s): int(n) for s, n in rows}
    checked = by.get("done", 0) + by.get("no_trace", 0)
    to_do = sum(n for s, n in by.items() if s in ("planned", "assigned"))
    return TaskCounts(checked=checked, to_do=to_do)


def _near(conn: sa.Connection, case_id: int, unit: Unit, within_m: float) -> list[
        tuple[Any, bool, float]]:
    if not 0 <= within_m <= MAX_WITHIN_M:
        raise InvalidInput(f"The distance must be between 0 and {MAX_WITHIN_M:,.0f} m.")
    area, wide = unit_area(unit.layer, unit.code, within_m)
    minx, miny, maxx, maxy = shapely.bounds(geoms_to_lonlat_box(wide))
    rows = conn.execute(
        _task_query().where(t.tasks.c.case_id == case_id, t.tasks.c.lon.is_not(None),
                            t.tasks.c.lon.between(minx, maxx), t.tasks.c.lat.between(miny, maxy))
    ).all()
    if not rows:
        return []
    geoms = geoms_to_bng(np.array([geom_of(r.geom) for r in rows], dtype=object))
    close = shapely.intersects(wide, geoms)
    dist = shapely.distance(area, geoms)
    out = [(r, bool(d <= 0.0), float(d)) for r, c, d in zip(rows, close, dist, strict=True) if c]
    out.sort(key=lambda x: (not x[1], x[2], x[0].number))
    return out


def geoms_to_lonlat_box(wide_bng: BaseGeometry) -> BaseGeometry:
    """The lon/lat bounding box of a BNG area (for a quick window query on lon/lat)."""
    box: BaseGeometry = geoms_to_lonlat(np.array([shapely.envelope(wide_bng)], dtype=object))[0]
    return box


def tasks_near_unit(db: Database, /, actor: Actor, case_id: int, unit: str | Unit, *,
                    within_m: float = 0.0) -> list[UnitTask]:
    """Tasks (open and done) in a BCU's or force's area or within ``within_m`` m of it,
    inside first, then by distance (the coordinator's Handover page)."""
    work = UnitOfWork(db, actor, perm.HANDOVER_READ, mode="read")
    target = resolve_unit(unit)
    with work as uow:
        uow.enter_case(case_id)
        if not uow.allows(perm.TASK_READ):
            raise PermissionDenied("Only a coordinator sees the case's tasks.")
        found = _near(uow.conn, case_id, target, float(within_m))
    return [UnitTask(task=task_record(r), inside=i, distance_m=d) for r, i, d in found]


def partner_tasks(db: Database, /, actor: Actor, case_id: int, *,
                  within_m: float = PARTNER_NEAR_M) -> list[PartnerTask]:
    """Tasks in and within ``within_m`` m of the partner link's unit, without address,
    title, notes or team, and without the place of a visit (a person's address)."""
    with UnitOfWork(db, actor, perm.PARTNER_VIEW, case_id=case_id, mode="read") as uow:
        link = uow.link
        if link is None:
            raise LinkGone()
        if link.case_id != case_id or link.unit_code is None:
            raise PermissionDenied("This link is not for a unit on this case.")
        found = _near(uow.conn, case_id, Unit(link.unit_layer, link.unit_code, link.unit_name),
                      float(within_m))
    return _pared(found)


def tasks_near(conn: sa.Connection, case_id: int, unit: Unit,
               within_m: float) -> list[PartnerTask]:
    """Tasks of the case in ``unit``'s area or within ``within_m`` m of it, pared down as a
    partner sees them (no address, title, note or team; a visit without its place). For
    the handover report; no permission check: callers do."""
    return _pared(_near(conn, case_id, unit, float(within_m)))


def _pared(found: list[tuple[Any, bool, float]]) -> list[PartnerTask]:
    personal = tt.personal_types()
    return [
        PartnerTask(number=r.number, kind=r.kind, status=r.status, bcu_code=r.bcu_code,
                    force_code=r.force_code,
                    geometry=None if r.kind in personal else geom_of(r.geom),
                    inside=i, distance_m=round(d, 1))
        for r, i, d in found
    ]


def _load(conn: sa.Connection, task_id: int) -> Task:
    row = conn.execute(_task_query().where(t.tasks.c.id == task_id)).first()
    if row is None:  # pragma: no cover - callers opened it
        raise InvalidInput("No such task.")
    return task_record(row)


def task_record(row: Any) -> Task:
    """A :class:`Task` from a row joined with its team's name."""
    return Task(
        id=row.id, case_id=row.case_id, number=row.number, kind=row.kind, title=row.title,
        status=row.status, team_id=row.team_id, team_name=getattr(row, "team_name", None),
        note=row.note, result_note=row.result_note, address=row.address,
        postcode=row.postcode, street=row.street, side=row.side, route=row.route,
        window_start=row.window_start, window_end=row.window_end,
        geometry=None if row.geom is None else geom_of(row.geom),
        borough_code=row.borough_code, bcu_code=row.bcu_code, force_code=row.force_code,
        repeat_kept_reason=row.repeat_kept_reason, status_changed_at=row.status_changed_at,
        created_at=row.created_at, updated_at=row.updated_at,
        updated_by_name=row.updated_by_name, version=row.version,
    )
