"""Probability of area (POA) per case: set-up, updates after every pass, resets, history.

Operations of the :class:`casefile.Store` front. A case has at most one *active* POA state:

* the **prior**, set up by a coordinator on a fixed grid of square cells
  (:func:`geo.initial_poa`, 100 m by default) either from distance rings around the
  last-known location (the IPP if there is none) for the child's age band — the
  published table, or the coordinator's own distances — or from a consensus split
  of planners over non-overlapping sectors (:func:`geo.consensus_poa`);
* the **current** grid: the prior after every unsuccessful closed pass, cell by cell
  with that pass's POD (:func:`geo.probability.apply_passes`; POD from tracks per
  cell, else the reported assurance over the ground searched; ground not searched
  gets 0). Passes are applied in the order they ended; Bayes' rule makes the result
  the same in any order. When a pass changes (a late track, a new sweep width) the
  current grid is rebuilt from the prior; each pass's per-cell POD is kept per pass
  version (``pass_cell_pods``), so only the changed pass is worked out again.

Both grids are stored as ``PoaGrid.to_dict()`` JSON (``{cell id: poa, …,
"rest_of_world": p}``; a cell id carries its corner in BNG metres). Each applied
pass leaves a row in ``poa_updates`` (the history). When the last-known location
moves, nothing happens on its own: the coordinator may **reset** POA around the
new place — an audited choice with a reason; the old state is kept, inactive.

The child's exact age is not stored here (only the age band's ring distances),
so a case purge has nothing personal to find. Decision support, not a prediction.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import sqlalchemy as sa

from casefile import fieldwork as fw
from casefile import motion as mo
from casefile import passes as ps
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.audit_records import from_json
from casefile.database import Database
from casefile.errors import InvalidInput
from casefile.passes import pass_cell_pods
from casefile.permissions import Actor
from casefile.records import LastKnown
from casefile.sector_rows import code_number, sector_record
from casefile.unit_of_work import UnitOfWork, writes
from geo.crs import lonlat_to_bng
from geo.errors import InputError
from geo.probability import (
    PoaGrid,
    consensus_poa,
    consensus_split,
    describe_rings,
    initial_poa,
    override_rings,
    sector_poas,
)

POA_METHODS: tuple[str, ...] = ("rings", "consensus")
#: a last-known location further than this (m) from the POA's origin counts as moved
MOVED_M = 25.0


@dataclass(frozen=True)
class PoaState:
    """A case's POA: the prior as set up and the current grid after the passes applied.

    ``params`` says how it was set up (ring distances and their source, or the
    consensus split); ``applied`` maps pass id → the pass version taken in.
    """

    id: int
    case_id: int
    active: bool
    method: str
    origin_kind: str
    origin_lat: float
    origin_lon: float
    origin_sighting_id: int | None
    params: dict[str, Any]
    cell_m: float
    prior: dict[str, float]
    current: dict[str, float]
    rest_of_world: float
    applied: dict[int, int]
    created_at: datetime
    created_by_name: str
    replaced_at: datetime | None
    updated_at: datetime
    version: int
    #: the case's motion model; under "moving" ``current`` is the replay as of ``as_of``
    motion_model: str = "stationary"
    as_of: datetime | None = None
    #: (store, row key) it was read from: its grids are built once per row version
    #: (:func:`casefile.passes.cached_grid`)
    source: tuple[Database, tuple[Any, ...]] | None = field(
        default=None, compare=False, repr=False)

    def grid(self, which: str = "current") -> PoaGrid:
        """The :class:`geo.PoaGrid` of the prior (``"prior"``) or the current POA."""
        poa = self.prior if which == "prior" else self.current
        if self.source is None or (which != "prior" and self.motion_model != "stationary"):
            return PoaGrid.from_dict(poa, self.cell_m)
        db, key = self.source
        return ps.cached_grid(db, key, which, poa, self.cell_m)


@dataclass(frozen=True, slots=True)
class PoaUpdate:
    """One pass taken into a POA: ``found`` = Σ POA·POD over the cells before it."""

    poa_id: int
    pass_id: int | None
    sector_code: str
    pod: float
    found: float
    rest_of_world: float
    at: datetime


# ------------------------------------------------------------------ setting up


@writes
def set_up_poa(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    method: str = "rings",
    age: float | None = None,
    domain: str = "urban",
    rings: Sequence[float] | Mapping[int, float] | None = None,
    consensus: Sequence[Mapping[str, float]] | None = None,
    cell_m: float = 100.0,
    radius_m: float | None = None,
    reason: str | None = None,
) -> PoaState:
    """Set up (or reset) the case's POA and apply every closed pass to it.

    ``method="rings"``: rings around the last-known location (latest verified
    sighting, else the IPP) for ``age`` (default: the case's age) in ``domain``,
    or the coordinator's own ``rings`` (25/50/75/95 % distances in metres).
    ``method="consensus"``: ``consensus`` is a list of planners' splits, each
    ``{sector code: percent, …, "rest_of_world": percent}`` summing to 100 with
    no 0 (Mattson), over sectors that do not overlap. A case that already has
    POA is **reset**: a ``reason`` is required and the old state is kept,
    inactive. Audited.
    """
    unit = UnitOfWork(db, actor, perm.POA_WRITE)
    method = v.choice("method", method, POA_METHODS)
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
    try:
        cell = float(cell_m)
    except (TypeError, ValueError):
        raise InvalidInput("The grid cell size must be a number of metres.") from None
    if not (25.0 <= cell <= 1000.0):
        raise InvalidInput("Grid cells must be between 25 m and 1,000 m across.")
    with unit as uow:
        conn = uow.conn
        case = uow.enter_case(case_id)
        old = ps.active_poa_row(conn, case_id)
        if old is not None and not reason:
            raise InvalidInput(
                "This case already has POA: say why it is being reset (a reason is needed)."
            )
        origin = _last_known(conn, case)
        try:
            if method == "rings":
                if rings is not None:
                    vals = [rings[q] for q in (25, 50, 75, 95)] if isinstance(
                        rings, Mapping) else list(rings)
                    if len(vals) != 4:
                        raise InvalidInput("Give four ring distances (25, 50, 75, 95 %).")
                    chosen = override_rings(*vals)
                    params: dict[str, Any] = {
                        "rings_m": {str(k): x for k, x in chosen.items()},
                        "source": "the coordinator's own distances for this case",
                        "basis": "coordinator override", "domain": domain,
                    }
                else:
                    a = case.age if age is None else age
                    if a is None:
                        raise InvalidInput("Give the child's age (or your own ring distances).")
                    info = describe_rings(float(a), domain)
                    chosen = info["rings"]
                    params = {
                        "rings_m": {str(k): x for k, x in chosen.items()},
                        "source": info["source"], "basis": info["basis"],
                        "category": info["category"], "label": info["label"],
                        "domain": domain,
                    }
                grid = initial_poa(origin.lat, origin.lon, chosen,
                                   radius_m=radius_m, cell_m=cell)
            else:
                if not consensus:
                    raise InvalidInput("Enter at least one planner's split.")
                split = consensus_split(list(consensus))
                codes = [k for k in split if k != "rest_of_world"]
                rows = conn.execute(
                    sa.select(t.sectors.c.code, t.sectors.c.geom).where(
                        t.sectors.c.case_id == case_id, t.sectors.c.code.in_(codes))
                ).all()
                missing = set(codes) - {r.code for r in rows}
                if missing:
                    raise InvalidInput(
                        f"No sector {', '.join(sorted(missing))} in this case.")
                regions = gpd.GeoDataFrame({"id": [r.code for r in rows]},
                                           geometry=[r.geom for r in rows], crs="EPSG:4326")
                grid = consensus_poa(regions, split, cell_m=cell)
                params = {"split": split, "planners": len(consensus),
                          "basis": "consensus (Mattson)"}
        except InputError as exc:
            raise InvalidInput(str(exc)) from None
        now = uow.now
        if old is not None:
            conn.execute(t.poa_states.update().where(t.poa_states.c.id == old.id).values(
                active=False, replaced_at=now, updated_at=now, version=old.version + 1))
        prior = grid.to_dict()
        poa_id = int(conn.execute(t.poa_states.insert().values(
            case_id=case_id, active=True, method=method, origin_kind=origin.kind,
            origin_lat=origin.lat, origin_lon=origin.lon,
            origin_sighting_id=origin.sighting_id, params=params, cell_m=cell,
            prior=prior, current=prior, rest_of_world=float(grid.rest_of_world),
            applied={}, created_at=now, created_by_id=actor.user_id,
            created_by_name=actor.display_name, updated_at=now, version=1,
        ).returning(t.poa_states.c.id)).scalar_one())
        uow.record(
            "poa", poa_id, "reset" if old is not None else "set_up",
            {
                "method": (old.method if old is not None else None, method),
                "origin": (_origin_text(old) if old is not None else None,
                           f"{origin.kind} {origin.lat:.5f},{origin.lon:.5f}"),
                "cell_m": (old.cell_m if old is not None else None, cell),
                "rings_m": (None, params.get("rings_m")),
                "rest_of_world": (None, round(float(grid.rest_of_world), 6)),
            },
            reason=reason,
        )
        ps.refresh_poa(uow, case_id)
        return _state(fw.require_row(conn, t.poa_states, poa_id, "POA"))


# ------------------------------------------------------------------ reading


def poa_state(db: Database, /, actor: Actor, case_id: int) -> PoaState | None:
    """The case's active POA (None until a coordinator sets it up).

    Under the case's moving model ``current`` is the POA replayed to now
    (:mod:`casefile.motion`); under the stationary model it is as stored.
    """
    with UnitOfWork(db, actor, perm.POA_READ, case_id=case_id, mode="read") as uow:
        row, key = ps.read_active_poa_row(uow, case_id)
        moving = mo.motion_of(uow.conn, case_id).moving
        state = None if row is None else _state(row, uow.db, key)
    return _moved(db, actor, state) if moving and state is not None else state


def _moved(db: Database, actor: Actor, state: PoaState) -> PoaState:
    """``state`` with its current grid replaced by the replay under the moving model."""
    rp = mo.replay_of(db, actor, state.case_id, None)
    if rp.grid is None:  # pragma: no cover - POA was reset away in between
        return state
    return replace(state, current=rp.grid.to_dict(), rest_of_world=rp.grid.rest_of_world,
                   motion_model=rp.motion.model, as_of=rp.as_of,
                   # the prior is still the row's own; the current grid is the replay
                   source=state.source if rp.motion.model != "stationary" else None)


def poa_history(db: Database, /, actor: Actor, case_id: int) -> list[PoaUpdate]:
    """Every pass taken into this case's POA grids, oldest first."""
    with UnitOfWork(db, actor, perm.POA_READ, case_id=case_id, mode="read") as uow:
        rows = uow.conn.execute(sa.select(t.poa_updates).where(
            t.poa_updates.c.case_id == case_id).order_by(t.poa_updates.c.id)).all()
    return [PoaUpdate(r.poa_id, r.pass_id, r.sector_code, r.pod, r.found, r.rest_of_world,
                      r.at) for r in rows]


def poa_origin_moved(db: Database, /, actor: Actor, case_id: int) -> LastKnown | None:
    """The new last-known location if it has moved since POA was set up, else None.

    Returns a :class:`casefile.LastKnown`; the coordinator may reset POA there.
    """
    with UnitOfWork(db, actor, perm.POA_READ, case_id=case_id, mode="read") as uow:
        row, _ = ps.read_active_poa_row(uow, case_id)
        if row is None:
            return None
        lk = _last_known(uow.conn, uow.case_row)
    x0, y0 = lonlat_to_bng(row.origin_lon, row.origin_lat)
    x1, y1 = lonlat_to_bng(lk.lon, lk.lat)
    if math.hypot(float(x1) - float(x0), float(y1) - float(y0)) > MOVED_M:
        return lk
    return None


def sector_poa_table(db: Database, /, actor: Actor, case_id: int) -> pd.DataFrame:
    """POA of every sector before any pass (prior) and now, ranked by density now.

    Columns: ``code``, ``sector_id``, ``name``, ``status``, ``poa_prior``,
    ``poa``, ``area_m2``, ``density_per_km2``, ``rank`` (1 = search next). Sectors
    overlap, so their POAs may add up to more than 1. Empty without POA.
    """
    with UnitOfWork(db, actor, perm.POA_READ, case_id=case_id, mode="read") as uow:
        row, key = ps.read_active_poa_row(uow, case_id)
        moving = mo.motion_of(uow.conn, case_id).moving
        state = None if row is None else _state(row, uow.db, key)
        rows = uow.conn.execute(
            sa.select(t.sectors).where(t.sectors.c.case_id == case_id)).all()
    if moving and state is not None:
        state = _moved(db, actor, state)
    sectors = sorted((sector_record(r) for r in rows), key=lambda x: code_number(x.code))
    cols = ["code", "sector_id", "name", "status", "poa_prior", "poa", "area_m2",
            "density_per_km2", "rank"]
    if state is None or not sectors:
        return pd.DataFrame(columns=cols)
    frame = gpd.GeoDataFrame({"id": [x.code for x in sectors]},
                             geometry=[x.geometry for x in sectors], crs="EPSG:4326")
    now, prior = sector_poas([state.grid("current"), state.grid("prior")], frame)
    before = prior.set_index("id")["poa"]
    info = {x.code: x for x in sectors}
    now["poa_prior"] = now["id"].map(before)
    now["sector_id"] = now["id"].map(lambda c: info[c].id)
    now["name"] = now["id"].map(lambda c: info[c].name)
    now["status"] = now["id"].map(lambda c: info[c].status)
    return now.rename(columns={"id": "code"})[cols]


def cell_pods(db: Database, /, actor: Actor, case_id: int
              ) -> tuple[PoaGrid, pd.DataFrame, np.ndarray]:
    """Every pass's POD in every cell of the active POA grid (for gaps and waste).

    Returns ``(grid, passes, pods)``: the current :class:`geo.PoaGrid`, a frame of
    the passes (``pass_id``, ``sector_id``, ``team_id``, ``state``, ``ended_at``)
    and an array passes × cells. Open passes count too (feet went there).
    Raises :class:`InvalidInput` when the case has no POA yet.
    """
    with UnitOfWork(db, actor, perm.POA_READ, case_id=case_id, mode="read") as uow:
        row, key = ps.read_active_poa_row(uow, case_id)
        if row is None:
            raise InvalidInput("Set up the probability of area first: it lays down the grid.")
        grid = ps.cached_grid(uow.db, key, "current", row.current, float(row.cell_m))
        rows = uow.conn.execute(sa.select(t.passes).where(t.passes.c.case_id == case_id)
                                .order_by(t.passes.c.id)).all()
        sparse = ps.passes_cell_pods(uow, rows, grid.cell_m, write=False)
    index = {c: i for i, c in enumerate(grid.cells["cell"])}
    pods = np.zeros((len(rows), len(grid.cells)))
    for i, cells in enumerate(sparse):
        for c, d in cells.items():
            j = index.get(c)
            if j is not None:
                pods[i, j] = d
    frame = pd.DataFrame({
        "pass_id": [p.id for p in rows], "sector_id": [p.sector_id for p in rows],
        "team_id": [p.team_id for p in rows], "state": [p.state for p in rows],
        "ended_at": pd.to_datetime([p.ended_at or p.updated_at for p in rows], utc=True),
    })
    return grid, frame, pods


# ------------------------------------------------------------------ helpers


def _last_known(conn: sa.Connection, case: Any) -> LastKnown:
    """The latest verified sighting by time seen, else the IPP (LastKnown's rule)."""
    row = conn.execute(
        sa.select(t.sightings.c.id, t.sightings.c.lat, t.sightings.c.lon, t.sightings.c.seen_at)
        .where(t.sightings.c.case_id == case.id, t.sightings.c.status == "verified")
        .order_by(t.sightings.c.seen_at.desc(), t.sightings.c.id.desc()).limit(1)
    ).first()
    if row is None:
        return LastKnown(float(case.ipp_lat), float(case.ipp_lon), None, "ipp", None)
    return LastKnown(float(row.lat), float(row.lon), row.seen_at, "sighting", int(row.id))


def _origin_text(row: Any) -> str:
    return f"{row.origin_kind} {row.origin_lat:.5f},{row.origin_lon:.5f}"


def _state(row: Any, db: Database | None = None, key: tuple[Any, ...] | None = None
           ) -> PoaState:
    j = from_json
    return PoaState(
        id=row.id, case_id=row.case_id, active=bool(row.active), method=row.method,
        origin_kind=row.origin_kind, origin_lat=row.origin_lat, origin_lon=row.origin_lon,
        origin_sighting_id=row.origin_sighting_id, params=dict(j(row.params) or {}),
        cell_m=float(row.cell_m), prior=dict(j(row.prior)), current=dict(j(row.current)),
        rest_of_world=float(row.rest_of_world), applied=ps.applied_versions(row),
        created_at=row.created_at, created_by_name=row.created_by_name,
        replaced_at=row.replaced_at, updated_at=row.updated_at, version=row.version,
        source=None if db is None or key is None else (db, key),
    )


__all__ = ["POA_METHODS", "PoaState", "PoaUpdate", "pass_cell_pods"]
