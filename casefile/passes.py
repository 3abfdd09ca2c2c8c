"""Passes of a search over a sector, and the case's POA kept up with them.

A **pass** is one search of a sector (see :mod:`casefile.tracks` for how tracks
join one). This module holds what every operation that changes a pass shares —
finishing a sector, uploading or deleting a track, a new sweep width, setting
up POA — as helpers that work inside the caller's
:class:`~casefile.unit_of_work.UnitOfWork`: they write through its connection
and record through it, so the pass, its figures and the POA update land in the
same transaction as the change that caused them, or not at all.

Figures are measured in British National Grid (EPSG:27700) from lon/lat
outlines and tracks; sweep width W and areas are metres and m².
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from casefile import fieldwork as fw
from casefile import schema as t
from casefile.audit_records import from_json
from casefile.database import Database
from casefile.errors import InvalidInput
from casefile.unit_of_work import UnitOfWork
from geo.coverage import not_searched_split, track_coverage
from geo.crs import BNG, WGS84, BngGeometry, LonLatGeometry, geoms_to_bng
from geo.detection import (
    check_sweep_width,
    load_search_data,
    pass_pod,
    sweep_width,
    sweep_widths,
)
from geo.errors import InputError
from geo.gaps import pass_cell_pod
from geo.probability import PoaGrid, apply_passes, cell_pod, cells_over
from vocab import sector_statuses

#: sector statuses whose current "searched" record new tracks join
RECORDED: Final[tuple[str, ...]] = tuple(sorted(sector_statuses.with_progress("searched")))
#: the per-process cache of per-cell PODs in ``Database.caches``, and its size cap
CELL_POD_CACHE: Final[str] = "pass_cell_pods"
_CELL_POD_CACHE_MAX: Final[int] = 5000


@dataclass(frozen=True, slots=True)
class Pass:
    """One search of a sector and how well it went (see :mod:`casefile.tracks`).

    ``pod`` is the POD that counts over the whole sector (``pod_searched`` ×
    ``searched_share``); ``basis`` says where it came from: ``"tracks"``,
    ``"assurance"`` or ``"none"``. ``track_pod`` and ``assurance_pod`` are both
    kept (None where unknown) so a page can show both. ``coverage`` is C on the
    ground searched; ``effort_m`` the track length inside it × searchers (m).
    """

    id: int
    case_id: int
    sector_id: int
    team_id: int | None
    state: str  # "open" (being searched, or tracks before a finish) | "closed"
    record_at: datetime | None
    started_at: datetime | None
    ended_at: datetime | None
    search_type: str | None
    assurance: str | None
    not_searched: BaseGeometry | None
    sweep_type: str
    sweep_width_m: float
    area_m2: float
    searched_share: float
    n_tracks: int
    effort_m: float
    coverage: float | None
    track_pod: float | None
    assurance_pod: float | None
    pod_searched: float
    pod: float
    basis: str
    swept_m2: float | None
    swept_share: float | None
    updated_at: datetime
    updated_by_name: str
    version: int


# ------------------------------------------------------------------ finishing a sector


def sync_after_finish(uow: UnitOfWork, sector_row: Any) -> None:
    """The pass of a sector just recorded as searched, and the POA update, in ``uow``.

    Called by ``finish_sector`` after it saved the sector, inside the same unit:
    the open pass is closed with the record (or a closed pass is made from the
    record alone), its figures computed and the case's POA brought up to date.
    Any failure fails the whole unit, so the sector is never "searched" without
    its pass. ``sector_row`` is re-read here, so the row as opened will do.
    """
    row = uow.conn.execute(sa.select(t.sectors).where(t.sectors.c.id == sector_row.id)).one()
    try:
        changed = sync_sector_passes(uow, [row])
        recompute_passes(uow, changed)
        refresh_poa(uow, row.case_id)
    except InputError as exc:
        raise InvalidInput(str(exc)) from None


# ------------------------------------------------------------------ writing passes


def sync_sector_passes(uow: UnitOfWork, sectors: Sequence[Any]) -> list[int]:
    """Make sure each sector's current "searched" record has its (closed) pass.

    The open pass (tracks uploaded before the finish) is closed with the record;
    with no open pass a closed pass is made from the record alone. Returns the
    ids of passes created or closed (their figures need recomputing).
    """
    done: list[int] = []
    recorded = [x for x in sectors if x.searched_at is not None]
    if not recorded:
        return done
    ids = [x.id for x in recorded]
    rows = uow.conn.execute(
        sa.select(t.passes.c.id, t.passes.c.sector_id, t.passes.c.state,
                  t.passes.c.record_at, t.passes.c.version)
        .where(t.passes.c.sector_id.in_(ids))
        .order_by(t.passes.c.id)
    ).all()
    for sector in recorded:
        mine = [r for r in rows if r.sector_id == sector.id]
        if any(r.record_at == sector.searched_at for r in mine):
            continue
        open_ = [r for r in mine if r.state == "open"]
        if open_:
            r = open_[-1]
            uow.conn.execute(
                t.passes.update().where(t.passes.c.id == r.id).values(
                    state="closed", change_n=uow.change_n, updated_at=uow.now,
                    updated_by_name=uow.actor.display_name, version=r.version + 1,
                    **record_values(sector),
                )
            )
            uow.record("pass", int(r.id), "close",
                       {"state": ("open", "closed"), "assurance": (None, sector.assurance)},
                       case_id=sector.case_id)
            done.append(int(r.id))
        else:
            done.append(insert_pass(
                uow, sector, state="closed", team_id=sector.searched_by_team_id,
                sweep=sweep_of(None, None), record=True,
            ))
    return done


def insert_pass(uow: UnitOfWork, sector: Any, *, state: str, team_id: int | None,
                sweep: tuple[str, float], record: bool = False) -> int:
    """A new pass of ``sector`` (``state`` open or closed; ``record``: from its
    "searched" record), with no figures yet. Returns its id."""
    values: dict[str, Any] = {
        "case_id": sector.case_id,
        "sector_id": sector.id,
        "team_id": team_id,
        "state": state,
        "sweep_type": sweep[0],
        "sweep_width_m": sweep[1],
        "area_m2": float(sector.area_m2),
        "searched_share": 1.0,
        "n_tracks": 0,
        "effort_m": 0.0,
        "pod_searched": 0.0,
        "pod": 0.0,
        "basis": "none",
        "change_n": uow.change_n,
        "created_at": uow.now,
        "updated_at": uow.now,
        "updated_by_name": uow.actor.display_name,
        "version": 1,
        "started_at": sector.started_at,
    }
    if record:
        values.update(record_values(sector))
    pass_id = int(uow.conn.execute(
        t.passes.insert().values(**values).returning(t.passes.c.id)
    ).scalar_one())
    uow.record("pass", pass_id, "open" if state == "open" else "record",
               {"sector_id": (None, sector.id), "state": (None, state),
                "sweep_width_m": (None, sweep[1])},
               case_id=sector.case_id)
    return pass_id


def recompute_passes(uow: UnitOfWork, pass_ids: Sequence[int]) -> None:
    """Coverage, POD and swept ground of each pass from its tracks and record."""
    conn = uow.conn
    for pid in dict.fromkeys(pass_ids):
        row = fw.require_row(conn, t.passes, pid, "pass")
        sector = fw.require_row(conn, t.sectors, row.sector_id, "sector")
        tracks = conn.execute(
            sa.select(t.tracks.c.geom, t.tracks.c.searchers).where(t.tracks.c.pass_id == pid)
        ).all()
        fig = pass_figures(
            sector.geom, row.not_searched_geom, [r.geom for r in tracks],
            [r.searchers for r in tracks], row.sweep_width_m, row.assurance,
        )
        changed = {k: x for k, x in fig.items() if not _same(getattr(row, k), x)}
        if not changed:
            continue
        conn.execute(
            t.passes.update().where(t.passes.c.id == pid).values(
                **fig, change_n=uow.change_n, updated_at=uow.now,
                updated_by_name=uow.actor.display_name, version=row.version + 1,
            )
        )
        uow.record("pass", pid, "compute",
                   {k: (_round(getattr(row, k)), _round(x)) for k, x in changed.items()
                    if k in ("pod", "basis", "coverage", "n_tracks", "swept_share")},
                   case_id=row.case_id)


def needs_sync(conn: sa.Connection, case_id: int) -> bool:
    """Has a sector of the case a "searched" record without its pass?"""
    rows = conn.execute(
        sa.select(t.sectors.c.id, t.sectors.c.searched_at).where(
            t.sectors.c.case_id == case_id, t.sectors.c.searched_at.is_not(None)
        )
    ).all()
    if not rows:
        return False
    have: dict[int, set[Any]] = {}
    for r in conn.execute(
        sa.select(t.passes.c.sector_id, t.passes.c.record_at).where(
            t.passes.c.case_id == case_id, t.passes.c.record_at.is_not(None)
        )
    ):
        have.setdefault(r.sector_id, set()).add(r.record_at)
    return any(r.searched_at not in have.get(r.id, ()) for r in rows)


def pass_record(row: Any) -> Pass:
    """A :class:`Pass` from its row."""
    return Pass(
        id=row.id, case_id=row.case_id, sector_id=row.sector_id, team_id=row.team_id,
        state=row.state, record_at=row.record_at, started_at=row.started_at,
        ended_at=row.ended_at, search_type=row.search_type, assurance=row.assurance,
        not_searched=row.not_searched_geom, sweep_type=row.sweep_type,
        sweep_width_m=row.sweep_width_m, area_m2=row.area_m2,
        searched_share=row.searched_share, n_tracks=row.n_tracks, effort_m=row.effort_m,
        coverage=row.coverage, track_pod=row.track_pod, assurance_pod=row.assurance_pod,
        pod_searched=row.pod_searched, pod=row.pod, basis=row.basis, swept_m2=row.swept_m2,
        swept_share=row.swept_share, updated_at=row.updated_at,
        updated_by_name=row.updated_by_name, version=row.version,
    )


def record_values(sector: Any) -> dict[str, Any]:
    """The pass columns that come from a sector's "searched" record."""
    return {
        "record_at": sector.searched_at,
        "ended_at": sector.searched_at,
        "started_at": sector.started_at,
        "team_id": sector.searched_by_team_id,
        "search_type": sector.search_type,
        "assurance": sector.assurance,
        "not_searched_geom": sector.not_searched_geom,
    }


def sweep_of(sweep_type: str | None, sweep_width_m: Any) -> tuple[str, float]:
    """(ground type, W in m): the type's default W unless a width is given."""
    try:
        if sweep_type in (None, ""):
            sweep_type = str(load_search_data("sweep_widths")["default_search_type"])
        if sweep_type not in sweep_widths():
            raise InvalidInput(f"Unknown ground type {sweep_type!r} for the sweep width.")
        w = sweep_width(sweep_type) if sweep_width_m in (None, "") else check_sweep_width(
            sweep_width_m)
    except InputError as exc:
        raise InvalidInput(str(exc)) from None
    return str(sweep_type), float(w)


# ------------------------------------------------------------------ the figures


def pass_figures(
    sector_ll: BaseGeometry,
    not_searched_ll: BaseGeometry | None,
    tracks_ll: Sequence[BaseGeometry],
    searchers: Sequence[int],
    sweep_width_m: float,
    assurance: str | None,
) -> dict[str, Any]:
    """The stored figures of one pass (column values of ``passes``); see
    :mod:`casefile.tracks`. Inputs are lon/lat; everything is measured in BNG."""
    sec = gpd.GeoDataFrame({"id": [0]}, geometry=[sector_ll], crs=WGS84)
    ns = None
    if not_searched_ll is not None and not shapely.is_empty(not_searched_ll):
        ns = gpd.GeoSeries([not_searched_ll], crs=WGS84)
    split = not_searched_split(sec, ns)
    area = float(split["searched_m2"].iloc[0] + split["not_searched_m2"].iloc[0])
    share = float(split["searched_share"].iloc[0])
    out: dict[str, Any] = {
        "area_m2": area, "searched_share": share, "n_tracks": len(tracks_ll),
        "effort_m": 0.0, "coverage": None, "track_pod": None, "swept_m2": None,
        "swept_share": None,
    }
    if tracks_ll and share > 1e-9:
        tr = gpd.GeoDataFrame({"searchers": list(searchers)}, geometry=list(tracks_ll), crs=WGS84)
        ground = split[["id", "geometry"]].set_crs(BNG, allow_override=True)
        table = track_coverage(tr, ground, sweep_width_m)
        row = table.iloc[0]
        out.update(
            effort_m=float(row["length_m"]), coverage=float(row["coverage"]),
            track_pod=float(row["pod"]), swept_m2=float(row["swept_m2"]),
            swept_share=float(row["swept_m2"]) / area,
        )
    elif tracks_ll:
        out.update(effort_m=0.0, coverage=0.0, track_pod=0.0, swept_m2=0.0, swept_share=0.0)
    try:
        which = pass_pod(out["track_pod"], assurance)
    except InputError as exc:  # pragma: no cover - assurance levels are checked on finish
        raise InvalidInput(str(exc)) from None
    out.update(assurance_pod=which["assurance_pod"], pod_searched=float(which["pod"]),
               basis=which["basis"], pod=float(which["pod"]) * share)
    return out


def pass_ground_bng(sector_ll: LonLatGeometry, not_searched_ll: LonLatGeometry | None
                    ) -> BngGeometry:
    """The ground a pass searched (BNG) from the stored lon/lat outlines: the sector minus
    what was not searched."""
    ground = geoms_to_bng(LonLatGeometry(shapely.make_valid(sector_ll)))
    if not_searched_ll is not None and not shapely.is_empty(not_searched_ll):
        not_searched = geoms_to_bng(LonLatGeometry(shapely.make_valid(not_searched_ll)))
        ground = BngGeometry(shapely.difference(ground, not_searched))
    return ground


def pass_cell_pods(cell_m: float, sector_ll: Any, not_searched_ll: Any, basis: str,
                   tracks_ll: Sequence[Any], searchers: Sequence[int], sweep_width_m: float,
                   pod_searched: float) -> dict[str, float]:
    """POD of one pass in each cell of the fixed ``cell_m`` grid it reached (BNG).

    ``{cell id: POD}`` with only the cells where POD > 0 (every other cell: 0). From
    tracks: effort coverage per cell of the track length inside the ground searched
    (the sector minus what was not searched). From assurance: the pass's POD spread
    over the ground searched (:func:`geo.cell_pod`). Otherwise nothing.
    """
    if basis not in ("tracks", "assurance"):
        return {}
    ground = pass_ground_bng(sector_ll, not_searched_ll)
    cells = cells_over(ground, cell_m)
    if cells.empty:
        return {}
    if basis == "tracks":
        if not tracks_ll:
            return {}
        lines = shapely.intersection(
            geoms_to_bng(np.array(list(tracks_ll), dtype=object)), ground)
        frame = gpd.GeoDataFrame({"searchers": list(searchers)}, geometry=list(lines), crs=BNG)
        frame = frame[~frame.geometry.is_empty]
        if frame.empty:
            return {}
        pods = pass_cell_pod(frame, cells, sweep_width_m)
    else:
        pods = cell_pod(cells, ground, float(pod_searched))
    keep = pods > 0
    return dict(zip(cells["cell"].to_numpy()[keep].tolist(), pods[keep].astype(float).tolist(),
                    strict=True))


# ------------------------------------------------------------------ keeping POA up


def refresh_poa(uow: UnitOfWork, case_id: int) -> bool:
    """Bring the active POA up to date with the closed passes, in ``uow``. Returns
    True when it changed.

    The current grid is rebuilt from the prior with every closed pass's per-cell
    POD (:func:`geo.probability.apply_passes`, sparse). Those PODs are kept per
    pass version (``pass_cell_pods``), so only passes that changed since they were
    last worked out (a late track, a new sweep width) are computed again.
    """
    conn = uow.conn
    row = active_poa_row(conn, case_id)
    if row is None:
        return False
    wanted = closed_versions(conn, case_id)
    before = applied_versions(row)
    if wanted == before:
        return False
    passes = conn.execute(
        sa.select(t.passes, t.sectors.c.code)
        .join(t.sectors, t.sectors.c.id == t.passes.c.sector_id)
        .where(t.passes.c.case_id == case_id, t.passes.c.state == "closed")
        .order_by(t.passes.c.ended_at, t.passes.c.id)
    ).all()
    pods = passes_cell_pods(uow, passes, float(row.cell_m), write=True)
    try:
        current, found, rest = apply_passes(from_json(row.prior), pods)
    except InputError as exc:
        raise InvalidInput(str(exc)) from None
    updates = [
        {"case_id": case_id, "poa_id": row.id, "pass_id": p.id, "sector_code": p.code,
         "pod": float(p.pod), "found": found[i], "rest_of_world": rest[i], "at": uow.now}
        for i, p in enumerate(passes) if before.get(p.id) != p.version
    ]
    if updates:
        conn.execute(t.poa_updates.insert(), updates)
    row_after = float(current["rest_of_world"])
    conn.execute(t.poa_states.update().where(t.poa_states.c.id == row.id).values(
        current=current, rest_of_world=row_after,
        applied={str(k): x for k, x in wanted.items()}, updated_at=uow.now,
        version=row.version + 1))
    uow.record("poa", row.id, "update",
               {"passes": (len(before), len(wanted)),
                "rest_of_world": (round(float(row.rest_of_world), 6), round(row_after, 6))},
               case_id=case_id)
    return True


#: ``Database.caches`` key of :func:`cached_grid`'s grids
POA_GRID_CACHE: Final = "poa_grids"


def cached_grid(db: Database, key: tuple[Any, ...] | None, which: str, poa: Any,
                cell_m: float) -> PoaGrid:
    """``PoaGrid.from_dict(poa, cell_m)`` for the ``which`` grid ("prior" or "current")
    of the row :func:`read_active_poa_row` keyed ``key``: built once per store and row
    version, handed out as a copy (callers may change their frame). ``key=None``: not
    kept."""
    if key is None:
        return PoaGrid.from_dict(from_json(poa), cell_m)
    with db.cache_lock:
        cache: dict[tuple[Any, ...], PoaGrid] = db.caches.setdefault(POA_GRID_CACHE, {})
        grid = cache.get((key, which))
    if grid is None:
        grid = PoaGrid.from_dict(from_json(poa), cell_m)
        with db.cache_lock:
            if len(cache) >= 2 * POA_ROWS_KEPT:
                cache.pop(next(iter(cache)))
            cache[(key, which)] = grid
    return PoaGrid(grid.cells.copy(), grid.rest_of_world, grid.cell_m)


def poa_behind(conn: sa.Connection, case_id: int) -> bool:
    """Has a closed pass changed since the case's active POA took it in?"""
    c = t.poa_states.c
    row = conn.execute(  # only the versions taken in, not the grids
        sa.select(c.applied).where(c.case_id == case_id, c.active.is_(True))
        .order_by(c.id.desc())
    ).first()
    if row is None:
        return False
    return applied_versions(row) != closed_versions(conn, case_id)


def passes_cell_pods(uow: UnitOfWork, passes: Sequence[Any], cell_m: float,
                     *, write: bool) -> list[dict[str, float]]:
    """``{cell id: POD}`` of each pass on the ``cell_m`` grid, oldest work reused.

    Looked up in memory (the database's per-process cache), then in
    ``pass_cell_pods`` (same pass version and cell size); computed only when
    missing or out of date, and then kept (stored when ``write``: ``uow`` writes).
    """
    db = uow.db
    with db.cache_lock:
        cache: dict[tuple[int, int, float], dict[str, float]] = db.caches.setdefault(
            CELL_POD_CACHE, {})
    out: list[dict[str, float] | None] = []
    missing: list[int] = []
    for i, p in enumerate(passes):
        got = cache.get((p.id, p.version, cell_m))
        out.append(got)
        if got is None:
            missing.append(i)
    if not missing:
        return [x or {} for x in out]
    conn = uow.conn
    ids = [passes[i].id for i in missing]
    stored = {
        r.pass_id: r for r in conn.execute(
            sa.select(t.pass_cell_pods).where(t.pass_cell_pods.c.pass_id.in_(ids),
                                              t.pass_cell_pods.c.cell_m == cell_m))
    }
    for i in missing:
        p = passes[i]
        r = stored.get(p.id)
        if r is not None and r.pass_version == p.version:
            got = {str(k): float(x) for k, x in (from_json(r.cells) or {}).items()}
        else:
            got = compute_pass_cell_pods(conn, p, cell_m)
            if write:
                conn.execute(t.pass_cell_pods.delete().where(
                    t.pass_cell_pods.c.pass_id == p.id, t.pass_cell_pods.c.cell_m == cell_m))
                conn.execute(t.pass_cell_pods.insert().values(
                    pass_id=p.id, cell_m=cell_m, case_id=p.case_id,
                    pass_version=p.version, cells=got))
        with db.cache_lock:
            if len(cache) > _CELL_POD_CACHE_MAX:
                cache.clear()
            cache[(p.id, p.version, cell_m)] = got
        out[i] = got
    return [x or {} for x in out]


def compute_pass_cell_pods(conn: sa.Connection, p: Any, cell_m: float) -> dict[str, float]:
    """Work out one pass's per-cell POD from its sector, record and tracks."""
    sector = fw.require_row(conn, t.sectors, p.sector_id, "sector")
    tracks: Sequence[sa.Row[Any, Any]] = []
    if p.basis == "tracks":
        tracks = conn.execute(sa.select(t.tracks.c.geom, t.tracks.c.searchers)
                              .where(t.tracks.c.pass_id == p.id)).all()
    return pass_cell_pods(cell_m, sector.geom, p.not_searched_geom, p.basis,
                          [r.geom for r in tracks], [r.searchers for r in tracks],
                          p.sweep_width_m, p.pod_searched)


def active_poa_row(conn: sa.Connection, case_id: int) -> Any:
    """The case's active ``poa_states`` row (None before POA is set up)."""
    return conn.execute(
        sa.select(t.poa_states).where(t.poa_states.c.case_id == case_id,
                                      t.poa_states.c.active.is_(True))
        .order_by(t.poa_states.c.id.desc())
    ).first()


#: ``Database.caches`` key of :func:`read_active_poa_row`'s rows
POA_ROW_CACHE: Final = "poa_rows"
#: active POA rows kept decoded per store, one per case being worked on (a row and its
#: two grids are a few MB at 10,000 cells)
POA_ROWS_KEPT: Final = 16


def poa_row_key(uow: UnitOfWork, case_id: int) -> tuple[Any, ...] | None:
    """What an active POA row's content depends on: (case, row id, version, times), or
    None before POA is set up. Every write of a ``poa_states`` row bumps ``version``
    or makes a new row, and a reset makes another row the active one."""
    c = t.poa_states.c
    k = uow.conn.execute(
        sa.select(c.id, c.version, c.created_at, c.updated_at)
        .where(c.case_id == case_id, c.active.is_(True)).order_by(c.id.desc())
    ).first()
    return None if k is None else (case_id, int(k.id), int(k.version), k.created_at,
                                   k.updated_at)


def read_active_poa_row(uow: UnitOfWork, case_id: int) -> tuple[Any, tuple[Any, ...] | None]:
    """:func:`active_poa_row` for reading, and its :func:`poa_row_key`.

    Decoding a row's grids (JSON of every cell, twice) cost more than any query of a
    Where next run, which reads the row about six times. A row is decoded once per
    store and version; the key is read every time, in the caller's unit of work,
    after its access check. The row's values are shared: callers only read them.
    """
    key = poa_row_key(uow, case_id)
    if key is None:
        return None, None
    db = uow.db
    with db.cache_lock:
        cache: dict[tuple[Any, ...], Any] = db.caches.setdefault(POA_ROW_CACHE, {})
        row = cache.get(key)
    if row is None:
        row = uow.conn.execute(sa.select(t.poa_states).where(t.poa_states.c.id == key[1])
                               ).first()
        if row is None or (row.version, row.updated_at) != (key[2], key[4]):
            return active_poa_row(uow.conn, case_id), None  # changed in between: not kept
        with db.cache_lock:
            if len(cache) >= POA_ROWS_KEPT:
                cache.pop(next(iter(cache)))
            cache[key] = row
    return row, key


def applied_versions(row: Any) -> dict[int, int]:
    """{pass id: pass version} a POA state has taken in."""
    return {int(k): int(x) for k, x in (from_json(row.applied) or {}).items()}


def closed_versions(conn: sa.Connection, case_id: int) -> dict[int, int]:
    """{pass id: version} of the case's closed passes (what POA should have taken in)."""
    return {int(r.id): int(r.version) for r in conn.execute(
        sa.select(t.passes.c.id, t.passes.c.version).where(
            t.passes.c.case_id == case_id, t.passes.c.state == "closed"))}


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return a == b


def _round(x: Any) -> Any:
    return round(x, 6) if isinstance(x, float) else x
