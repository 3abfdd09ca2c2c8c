"""A child who moves: each case's motion model, its POA replayed under it, and stale ground.

A case's POA is **stationary** by default: the land-search assumption that the child
stays put, kept exactly as :mod:`casefile.probability` stores it (the prior updated
by every closed pass). A coordinator may choose **moving** for a case (not for a
young child or a child with limited mobility): its POA is then *replayed* from the
prior, in time order, with a motion step (:func:`geo.advance_poa`) between events —

* each closed pass's per-cell POD, as already stored (``pass_cell_pods``), at the
  time the pass ended (Bayes' rule for an unsuccessful search);
* each sighting seen since the POA's origin: a **verified** one re-centres the POA on
  it (the child was there then), an **unverified** one mixes in without erasing the
  rest (:func:`geo.recentre_on_sighting`);

and finally moved on to "now" (to the :data:`REPLAY_STEP`). Because the replay runs
over every event in time order each time, a late track or a back-dated sighting
lands where it belongs. It is computed outside any write transaction: one read unit
loads what it needs, the motion steps run after it closed, and nothing is saved —
the replay follows from stored rows and the clock. It is kept per case, change
counter and :data:`REPLAY_STEP` in ``Database.caches``, so a page polling an
unchanged case does not recompute it.

**Stale ground**: under the moving model each searched sector carries the share of
what its latest search ruled out that may have flowed back since
(:func:`geo.motion.stale_share`'s measure); past :data:`geo.motion.STALE_THRESHOLD`
it shows "search again?" — a suggestion to the coordinator, never a status change.
Under the stationary model nothing flows back.

The simulation in ``bench/moving_target_sim.py`` found that the walk alone, and the
walk with jumps to London's town centres and transport hubs, find no more children
than the stationary POA (and fewer when the child does stay put), while a moving
model that knows a likely place the child goes to finds many more: so stationary
stays the default and moving is a choice per case. Decision support, not a
prediction: every parameter is a stated planning assumption
(``data/search_science/motion.json``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

from casefile import fieldwork as fw
from casefile import passes as ps
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.audit_records import from_json
from casefile.database import Database
from casefile.errors import InvalidInput
from casefile.permissions import Actor
from casefile.sector_rows import geom_of
from casefile.timefmt import format_london, utcnow
from casefile.unit_of_work import UnitOfWork, writes
from geo.crs import lonlat_to_bng
from geo.errors import InputError
from geo.motion import (
    JUMP_PER_HOUR,
    LEAK_PER_HOUR,
    LEG_MINUTES,
    MOVING_SHARE,
    STALE_THRESHOLD,
    WALK_SPEED_MS,
    MotionModel,
    advance_poa,
    recentre_on_sighting,
)
from geo.probability import PoaGrid, sector_poa, update_poa_grid
from vocab.search import DEFAULT_MOTION_MODEL, MOTION_MODELS, MOTION_REGISTRY

#: the moving model's parameters as a coordinator first sees them (geo.motion's defaults)
DEFAULT_PARAMS: Final[Mapping[str, float | bool]] = {
    "walk_speed_ms": WALK_SPEED_MS,
    "moving_share": MOVING_SHARE,
    "leg_minutes": LEG_MINUTES,
    "leak_per_hour": LEAK_PER_HOUR,
    "jump_per_hour": JUMP_PER_HOUR,
    "to_home": True,
}
#: each number parameter's allowed range (inclusive) and what it means on the page
PARAM_LIMITS: Final[Mapping[str, tuple[float, float, str]]] = {
    "walk_speed_ms": (0.0, 3.0, "walking speed (m/s)"),
    "moving_share": (0.0, 1.0, "share of the time moving"),
    "leg_minutes": (1.0, 120.0, "minutes before changing direction"),
    "leak_per_hour": (0.0, 0.5, "share leaving the area each hour"),
    "jump_per_hour": (0.0, 0.5, "share going to places each hour"),
}
#: a sighting's location error (m) by the reporter's confidence (planning assumption)
SIGHTING_ERROR_M: Final[Mapping[str, float]] = {"high": 100.0, "medium": 250.0, "low": 500.0}
#: the replay is worked out to "now" rounded down to this (and cached per step)
REPLAY_STEP: Final[timedelta] = timedelta(minutes=10)
#: the per-process cache of replays in ``Database.caches``, and its size cap
REPLAY_CACHE: Final[str] = "poa_replay"
_REPLAY_CACHE_MAX: Final[int] = 64


@dataclass(frozen=True)
class CaseMotion:
    """A case's motion model as chosen (``version`` 0: never chosen, stationary)."""

    case_id: int
    model: str = DEFAULT_MOTION_MODEL
    params: Mapping[str, Any] = field(default_factory=lambda: dict(DEFAULT_PARAMS))
    updated_at: datetime | None = None
    updated_by_name: str = ""
    version: int = 0

    @property
    def moving(self) -> bool:
        return self.model == "moving"

    @property
    def label(self) -> str:
        return MOTION_REGISTRY[self.model].label


@dataclass(frozen=True)
class StaleSector:
    """One searched sector under the case's motion model (see the module docstring).

    ``removed``: the POA its latest search took out of it; ``flowed_back``: how much
    of that may have come back by ``as_of``; ``stale`` = flowed_back / removed;
    ``search_again``: the suggestion (moving model only); ``why``: it in words.
    """

    sector_id: int
    code: str
    name: str
    pass_id: int
    searched_at: datetime
    hours: float
    removed: float
    flowed_back: float
    stale: float
    search_again: bool
    why: str


@dataclass(frozen=True)
class PoaReplay:
    """The case's POA as of ``as_of`` under its motion model, and its stale ground.

    ``grid`` is None before POA is set up. ``assumptions`` lists the model in words
    (:meth:`geo.MotionModel.describe`); ``notes`` what the replay could not use.
    """

    case_id: int
    motion: CaseMotion
    as_of: datetime
    grid: PoaGrid | None
    assumptions: tuple[str, ...]
    stale: tuple[StaleSector, ...]
    notes: tuple[str, ...] = ()


# ---------------------------------------------------------------------- the choice


def motion_model(db: Database, /, actor: Actor, case_id: int) -> CaseMotion:
    """The case's motion model (stationary when never chosen)."""
    with UnitOfWork(db, actor, perm.POA_READ, case_id=case_id, mode="read") as uow:
        return motion_of(uow.conn, case_id)


@writes
def set_motion_model(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    version: int,
    model: str,
    reason: str | None = None,
    **params: Any,
) -> CaseMotion:
    """Choose the case's motion model (``stationary`` or ``moving``) and its parameters.

    ``params`` (moving only; the rest keep their stored or default values):
    ``walk_speed_ms``, ``moving_share``, ``leg_minutes``, ``leak_per_hour``,
    ``jump_per_hour`` (see :data:`PARAM_LIMITS`) and ``to_home`` (the child's home,
    when the case records one, is a likely place). Version-checked (``version`` 0
    for a case that never chose); audited with the model and every parameter.
    """
    unit = UnitOfWork(db, actor, perm.POA_WRITE)
    if model not in MOTION_MODELS:
        raise InvalidInput(f"Choose a motion model: {', '.join(MOTION_MODELS)}.")
    unknown = set(params) - set(DEFAULT_PARAMS)
    if unknown:
        raise InvalidInput(f"Unknown motion parameter(s): {', '.join(sorted(unknown))}.")
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
    with unit as uow:
        conn = uow.conn
        case = uow.enter_case(case_id)
        current = motion_of(conn, case_id)
        if current.version != version:
            raise InvalidInput(
                "The motion model was changed by someone else; reload to see it."
            )
        new_params = clean_params({**current.params, **params})
        model_for(CaseMotion(case_id, model, new_params), case)  # refuses what geo refuses
        diff: dict[str, tuple[Any, Any]] = {}
        if current.model != model:
            diff["model"] = (current.model, model)
        for k, x in new_params.items():
            if current.params.get(k) != x:
                diff[k] = (current.params.get(k), x)
        if not diff:
            return current
        values = {"model": model, "params": new_params, "updated_at": uow.now,
                  "updated_by_name": actor.display_name, "version": version + 1}
        if version == 0:
            conn.execute(t.case_motion.insert().values(case_id=case_id, **values))
        else:
            conn.execute(t.case_motion.update().where(t.case_motion.c.case_id == case_id)
                         .values(**values))
        # the model and every parameter as they now stand, changed or not
        changes = {"model": (current.model, model),
                   **{k: (current.params.get(k), x) for k, x in new_params.items()}}
        uow.record("motion_model", case_id, "update", changes, reason=reason)
        return motion_of(conn, case_id)


def clean_params(params: Mapping[str, Any]) -> dict[str, Any]:
    """The motion parameters checked against :data:`PARAM_LIMITS` (plain floats, a flag)."""
    out: dict[str, Any] = {}
    for k, (lo, hi, what) in PARAM_LIMITS.items():
        raw = params.get(k, DEFAULT_PARAMS[k])
        try:
            x = float(raw)
        except (TypeError, ValueError):
            raise InvalidInput(f"The {what} must be a number.") from None
        if isinstance(raw, bool) or not (math.isfinite(x) and lo <= x <= hi):
            raise InvalidInput(f"The {what} must be between {lo:g} and {hi:g}.")
        out[k] = x
    out["to_home"] = bool(params.get("to_home", DEFAULT_PARAMS["to_home"]))
    return out


def motion_of(conn: sa.Connection, case_id: int) -> CaseMotion:
    """The case's motion model as stored (defaults when never chosen; no permission check)."""
    row = conn.execute(sa.select(t.case_motion).where(t.case_motion.c.case_id == case_id)).first()
    if row is None:
        return CaseMotion(case_id)
    return CaseMotion(case_id, row.model, {**DEFAULT_PARAMS, **(from_json(row.params) or {})},
                      row.updated_at, row.updated_by_name, int(row.version))


def model_for(motion: CaseMotion, case: Any) -> MotionModel:
    """The :class:`geo.MotionModel` of a case's choice (its home as a likely place, BNG)."""
    if not motion.moving:
        return MotionModel.stationary()
    p = motion.params
    dests: tuple[tuple[float, float, float], ...] = ()
    if p.get("to_home") and case.home_lat is not None and case.home_lon is not None:
        x, y = lonlat_to_bng(float(case.home_lon), float(case.home_lat))
        dests = ((float(x), float(y), 1.0),)
    try:
        return MotionModel(
            walk_speed_ms=float(p["walk_speed_ms"]), moving_share=float(p["moving_share"]),
            leg_minutes=float(p["leg_minutes"]), leak_per_hour=float(p["leak_per_hour"]),
            jump_per_hour=float(p["jump_per_hour"]), destinations=dests,
        )
    except InputError as exc:
        raise InvalidInput(str(exc)) from None


def assumptions(motion: CaseMotion, model: MotionModel) -> tuple[str, ...]:
    """The model in words for every POA figure (no address: "the child's home")."""
    lines = list(model.describe(likely_places="the child's home"))
    if motion.moving:
        lines.append(f"“Search again?” once {STALE_THRESHOLD:.0%} of what a search ruled out "
                     "may have flowed back (planning assumption).")
    return tuple(lines)


# ---------------------------------------------------------------------- the replay


@dataclass(frozen=True)
class ReplayEvent:
    at: datetime
    order: int  # passes before sightings at the same instant, then by id
    id: int
    pods: Mapping[str, float] | None = None  # a pass
    sector_id: int | None = None
    lat: float = 0.0  # a sighting
    lon: float = 0.0
    error_m: float = 0.0
    verified: bool = False


def poa_replay(db: Database, /, actor: Actor, case_id: int, *,
               as_of: datetime | None = None) -> PoaReplay:
    """The case's POA as of ``as_of`` (default now) under its motion model, with stale
    ground (see the module docstring). Stationary: the stored POA, nothing stale."""
    return replay_of(db, actor, case_id, as_of)


def stale_ground(db: Database, /, actor: Actor, case_id: int, *,
                 as_of: datetime | None = None) -> list[StaleSector]:
    """Every searched sector with its latest search and how stale it may be, those to
    "search again?" first. Empty under the stationary model (nothing flows back)."""
    rp = replay_of(db, actor, case_id, as_of)
    return sorted(rp.stale, key=lambda s: (not s.search_again, -s.stale, s.code))


def replay_of(db: Database, actor: Actor, case_id: int, as_of: datetime | None
              ) -> PoaReplay:
    """Load in one read unit, compute after it closed, keep per case / counter / step."""
    when = _step(as_of or utcnow())
    with UnitOfWork(db, actor, perm.POA_READ, case_id=case_id, mode="read") as uow:
        conn = uow.conn
        n = int(conn.execute(sa.select(t.case_change.c.n).where(
            t.case_change.c.case_id == case_id)).scalar_one())
        motion = motion_of(conn, case_id)
        row, row_key = ps.read_active_poa_row(uow, case_id)
        model = model_for(motion, uow.case_row)
        words = assumptions(motion, model)
        if row is None:
            return PoaReplay(case_id, motion, when, None, words, ())
        if not motion.moving:  # today's POA, exactly as stored
            grid = ps.cached_grid(db, row_key, "current", row.current, float(row.cell_m))
            return PoaReplay(case_id, motion, when, grid, words, ())
        key = (case_id, int(row.id), n, when)
        with db.cache_lock:
            cache: dict[Any, PoaReplay] = db.caches.setdefault(REPLAY_CACHE, {})
            hit = cache.get(key)
        if hit is not None:
            return hit
        loaded = _load(uow, row)
    replay = _compute(case_id, motion, model, words, row, loaded, when)
    with db.cache_lock:
        if len(cache) >= _REPLAY_CACHE_MAX:
            cache.clear()
        cache[key] = replay
    return replay


@dataclass(frozen=True)
class _Loaded:
    events: list[ReplayEvent]
    sectors: dict[int, Any]
    start: datetime


def _load(uow: UnitOfWork, row: Any) -> _Loaded:
    """Passes (with their per-cell POD), sightings and searched sectors, in ``uow``."""
    conn = uow.conn
    case_id = int(row.case_id)
    cell_m = float(row.cell_m)
    passes = conn.execute(
        sa.select(t.passes).where(t.passes.c.case_id == case_id, t.passes.c.state == "closed")
        .order_by(t.passes.c.ended_at, t.passes.c.id)
    ).all()
    pods = ps.passes_cell_pods(uow, passes, cell_m, write=False)
    events = [
        ReplayEvent(p.ended_at or p.updated_at, 0, int(p.id), pods=d, sector_id=int(p.sector_id))
        for p, d in zip(passes, pods, strict=True)
    ]
    origin_at: datetime | None = None
    if row.origin_kind == "sighting" and row.origin_sighting_id is not None:
        origin_at = conn.execute(sa.select(t.sightings.c.seen_at).where(
            t.sightings.c.id == row.origin_sighting_id)).scalar()
    for s in conn.execute(
        sa.select(t.sightings.c.id, t.sightings.c.lat, t.sightings.c.lon,
                  t.sightings.c.seen_at, t.sightings.c.confidence, t.sightings.c.status)
        .where(t.sightings.c.case_id == case_id,
               t.sightings.c.status.in_(("verified", "unverified")))
        .order_by(t.sightings.c.seen_at, t.sightings.c.id)
    ):
        if s.id == row.origin_sighting_id or (origin_at is not None and s.seen_at <= origin_at):
            continue  # the prior already stands on it
        events.append(ReplayEvent(s.seen_at, 1, int(s.id), lat=float(s.lat), lon=float(s.lon),
                             error_m=SIGHTING_ERROR_M.get(s.confidence, 250.0),
                             verified=s.status == "verified"))
    ids = sorted({e.sector_id for e in events if e.sector_id is not None})
    sectors = {int(r.id): r for r in conn.execute(
        sa.select(t.sectors.c.id, t.sectors.c.code, t.sectors.c.name, t.sectors.c.geom)
        .where(t.sectors.c.id.in_(ids)))} if ids else {}
    events.sort(key=lambda e: (e.at, e.order, e.id))
    return _Loaded(events, sectors, row.created_at)


def replay_grid(
    prior: PoaGrid,
    start: datetime,
    events: Sequence[ReplayEvent],
    model: MotionModel,
    as_of: datetime,
    centre: tuple[float, float],
) -> tuple[PoaGrid, dict[int, tuple[PoaGrid, float, datetime, int]], list[str]]:
    """Replay the events (sorted by time) over ``prior`` standing at ``start``.

    Returns ``(grid as of as_of, {sector id: (hole, removed, when, pass id)} of each
    sector's latest pass, notes)``: ``removed`` is the probability that pass ruled out
    (before − after where positive: its searched cells) and ``hole`` those cells as a
    grid holding its shares (summing to 1), so only a few cells are kept per sector.
    Motion runs between events; a verified sighting
    replaces the grid and the clock restarts at its time; a pass or an unverified
    sighting before the clock applies where the grid stands (no motion backwards).
    """
    grid, clock = prior, start
    snaps: dict[int, tuple[PoaGrid, float, datetime, int]] = {}
    notes: list[str] = []
    lookup = _CellLookup()
    for e in events:
        if e.pods is None and e.verified:
            try:
                grid = recentre_on_sighting(grid, e.lat, e.lon, e.error_m, True, centre=centre)
            except InputError as exc:
                notes.append(f"Sighting at {format_london(e.at)} not used: {exc}")
                continue
            clock = e.at
            snaps.clear()  # earlier searches say nothing after the child was seen
            continue
        if e.at > clock:
            grid = advance_poa(grid, _hours(e.at - clock), model, centre=centre)
            clock = e.at
        if e.pods is not None:
            before = grid
            grid = _apply_pass(grid, e.pods, lookup)
            if e.sector_id is not None:
                snaps[e.sector_id] = (*_hole(before, grid), e.at, e.id)
        else:
            try:
                grid = recentre_on_sighting(grid, e.lat, e.lon, e.error_m, False, centre=centre)
            except InputError as exc:
                notes.append(f"Sighting at {format_london(e.at)} not used: {exc}")
    if as_of > clock:
        grid = advance_poa(grid, _hours(as_of - clock), model, centre=centre)
    return grid, snaps, notes


class _CellLookup:
    """Where each cell id sits in the grids of one replay.

    Within a replay the grid only grows (cells are added, never dropped) and each
    step keeps the order of the cells it had, so grids with the same number of cells
    hold the same cells in the same order: the index is rebuilt only when the grid
    grew (the first and last ids are checked too).
    """

    def __init__(self) -> None:
        self._key: tuple[int, str, str] | None = None
        self._index: pd.Index | None = None

    def positions(self, grid: PoaGrid, ids: list[str]) -> np.ndarray:
        cells = grid.cells["cell"]
        key = (len(cells), str(cells.iloc[0]), str(cells.iloc[-1])) if len(cells) else (0, "", "")
        if key != self._key or self._index is None:
            self._key, self._index = key, pd.Index(np.asarray(cells, dtype=object))
        out: np.ndarray = self._index.get_indexer(pd.Index(ids, dtype=object))
        return out


def _apply_pass(grid: PoaGrid, pods: Mapping[str, float],
                lookup: _CellLookup | None = None) -> PoaGrid:
    """One unsuccessful pass (Bayes, as :func:`geo.probability.apply_passes`) on ``grid``.

    Vectorised: the pass's cells are found in the grid by one index lookup; cells it
    names outside the grid (rest of the world) are ignored, as there.
    """
    if not pods:
        return grid
    at = (lookup or _CellLookup()).positions(grid, list(pods))
    ok = at >= 0
    pod = np.zeros(len(grid.cells))
    pod[at[ok]] = np.fromiter(pods.values(), float, len(pods))[ok]
    return update_poa_grid(grid, pod)


def _compute(case_id: int, motion: CaseMotion, model: MotionModel, words: tuple[str, ...],
             row: Any, loaded: _Loaded, as_of: datetime) -> PoaReplay:
    x, y = lonlat_to_bng(float(row.origin_lon), float(row.origin_lat))
    centre = (float(x), float(y))
    prior = PoaGrid.from_dict(from_json(row.prior), float(row.cell_m))
    try:
        grid, snaps, notes = replay_grid(prior, loaded.start, loaded.events, model, as_of,
                                         centre)
    except InputError as exc:
        raise InvalidInput(str(exc)) from None
    stale = tuple(
        _stale(loaded.sectors[sid], hole, total, at, pid, as_of, model, centre)
        for sid, (hole, total, at, pid) in snaps.items() if sid in loaded.sectors
    )
    return PoaReplay(case_id, motion, as_of, grid, words, stale, tuple(notes))


def _hole(before: PoaGrid, after: PoaGrid) -> tuple[PoaGrid, float]:
    """What a pass ruled out: ``(its cells as a grid of shares summing to 1, total)``.

    ``before − after`` is positive only on the cells the pass searched (Bayes' rule
    raises every other cell), so the hole is a handful of cells, not the whole grid.
    """
    hole = np.clip(before.cells["poa"].to_numpy(float) - after.cells["poa"].to_numpy(float),
                   0.0, None)
    total = float(hole.sum())
    keep = hole > 0 if total > 1e-15 else np.zeros(len(hole), bool)
    part = PoaGrid(before.cells[keep].reset_index(drop=True), 0.0, before.cell_m)
    return part.with_poa(hole[keep] / total if total > 1e-15 else hole[keep], 0.0), total


def _stale(sector: Any, part: PoaGrid, total: float, at: datetime, pass_id: int,
           as_of: datetime, model: MotionModel, centre: tuple[float, float]) -> StaleSector:
    """How much of what one search took out of its sector may have flowed back by ``as_of``.

    The motion step is linear, so the search's effect (``part``, the probability the
    search ruled out, ``total`` in all: see :func:`_hole`) is moved on by itself, and
    what is left of it inside the sector is still ruled out.
    """
    frame = gpd.GeoDataFrame({"id": [sector.code]}, geometry=[geom_of(sector.geom)],
                             crs="EPSG:4326")
    hours = max(_hours(as_of - at), 0.0)
    removed = still = 0.0
    if total > 1e-15 and len(part.cells):
        removed = float(sector_poa(part, frame)["poa"].iloc[0]) * total
        moved = advance_poa(part, hours, model, centre=centre) if hours > 0 else part
        still = min(float(sector_poa(moved, frame)["poa"].iloc[0]) * total, removed)
    flowed = max(removed - still, 0.0)
    stale = flowed / removed if removed > 0 else 0.0
    again = (not model.is_stationary) and removed > 0 and stale >= STALE_THRESHOLD
    why = (f"searched at {format_london(at)}; about {stale:.0%} of what that search ruled "
           f"out may have flowed back in the {hours:.1f} h since (moving model)")
    return StaleSector(int(sector.id), sector.code, sector.name, pass_id, at, hours, removed,
                       flowed, stale, again, why)


def _hours(d: timedelta) -> float:
    return d.total_seconds() / 3600.0


def _step(when: datetime) -> datetime:
    """``when`` rounded down to the :data:`REPLAY_STEP` (the replay's and the cache's clock)."""
    step = REPLAY_STEP.total_seconds()
    return datetime.fromtimestamp(math.floor(when.timestamp() / step) * step, tz=when.tzinfo)


__all__ = ["DEFAULT_PARAMS", "CaseMotion", "PoaReplay", "StaleSector", "motion_of"]
