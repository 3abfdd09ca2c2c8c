"""GPS tracks and passes: what teams actually walked, and how well each sector was searched.

Operations of the :class:`casefile.Store` front (plain functions taking the
:class:`~casefile.database.Database` first).

* A **track** is one uploaded GPS file (GPX, KML/KMZ, CSV), read and cleaned by
  :func:`geo.read_tracks` in a child process with time and memory limits
  (:func:`geo.read_tracks_guarded`; impossible jumps, duplicates and points outside the UK
  dropped, and said so in its notes), optionally trimmed at both ends for a
  searcher's privacy, and stored as one lon/lat MultiLineString. It belongs to a
  case and a team, optionally a sector, and records how many searchers walked
  abreast on that line and their spacing. Uploading the same file again (same
  bytes, same case) returns the stored track: the upload is idempotent by hash.
* A **pass** is one search of a sector. It comes from the sector's "searched"
  record (team, search type, level of assurance, ground not searched) and/or
  from the tracks uploaded for the sector. Tracks uploaded while the sector is
  planned or being searched go to its *open* pass; finishing the sector closes
  that pass with the record; tracks uploaded after the finish join the pass of
  the current record. Every pass stores, in British National Grid, with sweep
  width W for its ground type (:func:`geo.sweep_width`, changeable per pass):
  effort coverage ``C = W·L/A`` on the ground searched, ``POD = 1 − e^(−C)``
  from tracks where it has tracks, else the reported assurance mapped to a
  number (planning assumption), both kept; ground marked "not searched" gets
  POD 0, so the pass's POD over the whole sector is ``POD × share searched``;
  and the swept ground (union of the tracks buffered by W/2) as m² and share.

Passes are recomputed in the unit of work that changes them (an upload, a
finished sector, a new sweep width), which also moves the case's change counter,
writes the audit records and brings the case's POA up to date — all through
:mod:`casefile.passes`, so the change and its passes are saved together or not
at all. Decision support, not a prediction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from casefile import fieldwork as fw
from casefile import passes as ps
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.audit_records import from_json
from casefile.database import Database
from casefile.errors import InvalidInput, PermissionDenied
from casefile.fieldwork import Sector
from casefile.passes import Pass, pass_figures, pass_ground_bng
from casefile.permissions import Actor
from casefile.sector_rows import code_number, sector_record
from casefile.unit_of_work import UnitOfWork, writes
from geo._sources import read_source
from geo.coverage import swept_ground
from geo.crs import BNG, LonLatGeometry, geoms_to_bng
from geo.detection import cumulative_pod
from geo.errors import InputError
from geo.guarded import read_tracks_guarded
from geo.track_files import trim_track_ends

#: (done 0-1, what is happening) — e.g. ``st.progress``'s value and text
ProgressFn = Callable[[float, str], None]
#: most searchers abreast on one line, longest spacing (m), longest privacy trim (m)
MAX_SEARCHERS: Final[int] = 200
MAX_SPACING_M: Final[float] = 1000.0
MAX_TRIM_M: Final[float] = 5000.0
MAX_FILE_NAME: Final[int] = 200


# ------------------------------------------------------------------ records


@dataclass(frozen=True, slots=True)
class Track:
    """One uploaded GPS track. ``geometry`` is a lon/lat MultiLineString; ``length_m``
    its ground length in metres (BNG, not multiplied by searchers)."""

    id: int
    case_id: int
    team_id: int | None
    sector_id: int | None
    pass_id: int | None
    file_name: str
    searchers: int
    spacing_m: float | None
    trim_m: float
    geometry: BaseGeometry
    length_m: float
    n_points: int
    n_segments: int
    start_at: datetime | None
    end_at: datetime | None
    notes: tuple[str, ...]
    created_at: datetime
    created_by_name: str


@dataclass(frozen=True, slots=True)
class TrackUpload:
    """What an upload did: the stored track, its pass (None without a sector), what
    cleaning said, and whether this file had been uploaded before (nothing new saved)."""

    track: Track
    pass_: Pass | None
    notes: tuple[str, ...]
    duplicate: bool


# ------------------------------------------------------------------ uploading


@writes
def upload_track(
    db: Database, /,
    actor: Actor,
    case_id: int,
    source: Any,
    *,
    team_id: int,
    sector_id: int | None = None,
    searchers: int = 1,
    spacing_m: float | str | None = None,
    trim_m: float = 0.0,
    sweep_type: str | None = None,
    progress: ProgressFn | None = None,
) -> TrackUpload:
    """Read, clean, store one GPS track and recompute its sector's pass and the POA.

    ``source``: a path or ``(file name, bytes)``. ``searchers``: people walking
    abreast on this line (1–200); ``spacing_m`` their spacing in metres (recorded;
    None or a blank form field: not recorded);
    ``trim_m``: metres cut off both ends of every segment before storing
    (privacy near a home). ``sweep_type``: ground type for W when this upload
    opens a new pass (default: :func:`geo.sweep_width`'s default). Team leads
    upload for their own team (and its sectors) only. The same file uploaded
    again to the same case returns the stored track (``duplicate=True``).
    Raises :class:`InvalidInput` with the reader's message for a bad file.
    """
    unit = UnitOfWork(db, actor, perm.TRACK_UPLOAD)

    def tick(done: float, what: str) -> None:
        if progress is not None:
            progress(min(max(done, 0.0), 1.0), what)

    searchers = v.integer("searchers", searchers, 1, MAX_SEARCHERS)  # type: ignore[assignment]
    spacing = None if spacing_m in (None, "") else _number("spacing_m", spacing_m, 0.0,
                                                          MAX_SPACING_M)
    trim = _number("trim_m", trim_m or 0.0, 0.0, MAX_TRIM_M)
    sweep = ps.sweep_of(sweep_type, None)
    tick(0.05, "Reading the file")
    try:
        name, data = read_source(source)
        gdf = read_tracks_guarded((name, data))
        if trim > 0:
            gdf = trim_track_ends(gdf, trim)
    except InputError as exc:
        raise InvalidInput(str(exc)) from None
    if gdf.empty:
        raise InvalidInput("Nothing is left of this track after trimming its ends.")
    digest = hashlib.sha256(data).hexdigest()
    name = str(name)[-MAX_FILE_NAME:]
    notes = tuple(str(n) for n in gdf.attrs.get("notes", []))
    tick(0.3, "Measuring the track")
    values = _track_values(gdf)
    with unit as uow:
        conn = uow.conn
        uow.enter_case(case_id)
        team = fw.require_row(conn, t.teams, team_id, "team")
        if team.case_id != case_id:
            raise InvalidInput("That team works on another case.")
        sector = None
        if sector_id is not None:
            sector = fw.require_row(conn, t.sectors, sector_id, "sector")
            if sector.case_id != case_id:
                raise InvalidInput("That sector belongs to another case.")
        _own_team_only(uow, team_id, sector)
        existing = conn.execute(
            sa.select(t.tracks).where(
                t.tracks.c.case_id == case_id, t.tracks.c.file_hash == digest
            )
        ).first()
        if existing is not None:  # nothing recorded: the unit saves nothing
            track = _track(existing)
            return TrackUpload(track, _pass_of(conn, track), notes, True)
        pass_id = None
        if sector is not None:
            pass_id = _pass_for_upload(uow, sector, team_id, sweep)
        track_id = conn.execute(
            t.tracks.insert().values(
                case_id=case_id,
                team_id=team_id,
                sector_id=sector_id,
                pass_id=pass_id,
                file_name=name,
                file_hash=digest,
                searchers=searchers,
                spacing_m=spacing,
                trim_m=trim,
                notes=list(notes),
                change_n=uow.change_n,
                created_at=uow.now,
                created_by_id=actor.user_id,
                created_by_name=actor.display_name,
                **values,
            ).returning(t.tracks.c.id)
        ).scalar_one()
        uow.record(
            "track", track_id, "upload",
            {
                "team_id": (None, team_id),
                "sector_id": (None, sector_id),
                "pass_id": (None, pass_id),
                "searchers": (None, searchers),
                "spacing_m": (None, spacing),
                "trim_m": (None, trim),
                "length_m": (None, round(values["length_m"], 1)),
                "n_points": (None, values["n_points"]),
                "file_hash": (None, digest),
                "file_name": (None, name),  # personal: kept in audit detail only
            },
        )
        tick(0.5, "Computing coverage and POD")
        if pass_id is not None:
            ps.recompute_passes(uow, [pass_id])
        tick(0.8, "Updating the probability of area")
        ps.refresh_poa(uow, case_id)
        track = _track(fw.require_row(conn, t.tracks, track_id, "track"))
        the_pass = None
        if pass_id is not None:
            the_pass = ps.pass_record(fw.require_row(conn, t.passes, pass_id, "pass"))
    tick(1.0, "Done")
    return TrackUpload(track, the_pass, notes, False)


def _own_team_only(uow: UnitOfWork, team_id: int, sector: Any | None) -> None:
    """A team lead uploads for its own team and that team's sectors only."""
    if uow.actor.role != "team_lead":
        return
    link = uow.link
    if link.team_id is None or link.team_id != team_id:
        raise PermissionDenied("A team lead uploads tracks for their own team only.")
    if sector is not None and link.team_id not in (sector.team_id, sector.searched_by_team_id):
        raise PermissionDenied(f"Sector {sector.code} is not your team's.")


def _pass_of(conn: sa.Connection, track: Track) -> Pass | None:
    if track.pass_id is None:
        return None
    row = conn.execute(sa.select(t.passes).where(t.passes.c.id == track.pass_id)).first()
    return None if row is None else ps.pass_record(row)


def _pass_for_upload(uow: UnitOfWork, sector: Any, team_id: int,
                     sweep: tuple[str, float]) -> int:
    """The pass a new track of ``sector`` joins: the current record's, else the open one."""
    ps.sync_sector_passes(uow, [sector])
    conn = uow.conn
    if sector.status in ps.RECORDED and sector.searched_at is not None:
        rows = conn.execute(
            sa.select(t.passes.c.id, t.passes.c.record_at).where(
                t.passes.c.sector_id == sector.id, t.passes.c.state == "closed"
            )
        ).all()
        for r in rows:
            if r.record_at == sector.searched_at:
                return int(r.id)
    row = conn.execute(
        sa.select(t.passes.c.id).where(
            t.passes.c.sector_id == sector.id, t.passes.c.state == "open"
        ).order_by(t.passes.c.id.desc())
    ).first()
    if row is not None:
        return int(row.id)
    return ps.insert_pass(uow, sector, state="open", team_id=team_id, sweep=sweep)


# ------------------------------------------------------------------ keeping up


@writes
def refresh_coverage(db: Database, /, actor: Actor, case_id: int) -> int:
    """Bring passes up to date with the sectors' "searched" records; update POA.

    Sectors finished without their pass (records older than finishing in one
    transaction) get it (closed with the record, or made from it), the figures of
    those passes are computed and the case's POA takes them in. Writes (and moves
    the change counter) only when something changed; returns the number of passes
    made or closed.
    """
    # A cheap read first: pages call this on every view, and almost always there
    # is nothing to do, so most calls never queue for the write lock.
    with UnitOfWork(db, actor, perm.TRACK_READ, case_id=case_id, mode="read") as uow:
        if not ps.needs_sync(uow.conn, case_id) and not ps.poa_behind(uow.conn, case_id):
            return 0
    with UnitOfWork(db, actor, perm.TRACK_READ, case_id=case_id) as uow:
        sectors = uow.conn.execute(
            sa.select(t.sectors).where(t.sectors.c.case_id == case_id,
                                       t.sectors.c.searched_at.is_not(None))
        ).all()
        changed = ps.sync_sector_passes(uow, sectors)
        ps.recompute_passes(uow, changed)
        ps.refresh_poa(uow, case_id)
    return len(changed)


@writes
def set_pass_sweep(
    db: Database, /,
    actor: Actor,
    pass_id: int,
    *,
    version: int,
    sweep_type: str | None = None,
    sweep_width_m: float | None = None,
    reason: str | None = None,
) -> Pass:
    """Change the ground type and/or sweep width W (m) of a pass; recompute it and POA.

    ``sweep_width_m`` None takes the default W of ``sweep_type``. Audited.
    """
    unit = UnitOfWork(db, actor, perm.POA_WRITE)
    sweep = ps.sweep_of(sweep_type, sweep_width_m)
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
    with unit as uow:
        row = uow.open(t.passes, pass_id, what="pass", version=version)
        if (row.sweep_type, row.sweep_width_m) == sweep:
            return ps.pass_record(row)
        uow.conn.execute(t.passes.update().where(t.passes.c.id == pass_id).values(
            sweep_type=sweep[0], sweep_width_m=sweep[1], change_n=uow.change_n,
            updated_at=uow.now, updated_by_name=actor.display_name, version=row.version + 1))
        uow.record("pass", pass_id, "sweep_width",
                   {"sweep_type": (row.sweep_type, sweep[0]),
                    "sweep_width_m": (row.sweep_width_m, sweep[1])},
                   reason=reason)
        ps.recompute_passes(uow, [pass_id])
        ps.refresh_poa(uow, row.case_id)
        return ps.pass_record(fw.require_row(uow.conn, t.passes, pass_id, "pass"))


@writes
def delete_track(db: Database, /, actor: Actor, track_id: int, *, reason: str) -> None:
    """Remove a track uploaded by mistake (coordinators); its pass is recomputed."""
    unit = UnitOfWork(db, actor, perm.POA_WRITE)
    reason = v.text("reason", reason, fw.MAX_LEN["reason"], required=True)
    with unit as uow:
        row = uow.open(t.tracks, track_id, what="track")
        uow.conn.execute(t.tracks.delete().where(t.tracks.c.id == track_id))
        uow.record("track", track_id, "delete",
                   {"pass_id": (row.pass_id, None), "length_m": (round(row.length_m, 1), None)},
                   reason=reason)
        if row.pass_id is not None:
            ps.recompute_passes(uow, [row.pass_id])
        ps.refresh_poa(uow, row.case_id)


# ------------------------------------------------------------------ reading


def tracks(db: Database, /, actor: Actor, case_id: int, *, team_id: int | None = None,
           sector_id: int | None = None) -> list[Track]:
    """The case's tracks, oldest upload first, optionally of one team or sector."""
    with UnitOfWork(db, actor, perm.TRACK_READ, case_id=case_id, mode="read") as uow:
        return tracks_of_case(uow.conn, case_id, team_id=team_id, sector_id=sector_id)


def passes(db: Database, /, actor: Actor, case_id: int, *,
           sector_id: int | None = None) -> list[Pass]:
    """The case's passes in the order they were made."""
    with UnitOfWork(db, actor, perm.TRACK_READ, case_id=case_id, mode="read") as uow:
        return passes_of_case(uow.conn, case_id, sector_id=sector_id)


def tracks_frame(db: Database, /, actor: Actor, case_id: int) -> gpd.GeoDataFrame:
    """Tracks as a lon/lat GeoDataFrame: ``track_id``, ``team_id``, ``team``,
    ``sector_id``, ``pass_id``, ``searchers``, ``start``, ``end``, ``length_m``,
    ``file_name`` (for maps and :mod:`geo.gaps`)."""
    with UnitOfWork(db, actor, perm.TRACK_READ, case_id=case_id, mode="read") as uow:
        items = tracks_of_case(uow.conn, case_id)
        names = _team_names(uow.conn, case_id)
    return gpd.GeoDataFrame(
        {
            "track_id": [x.id for x in items],
            "team_id": [x.team_id for x in items],
            "team": [names.get(x.team_id, "") if x.team_id else "" for x in items],
            "sector_id": [x.sector_id for x in items],
            "pass_id": [x.pass_id for x in items],
            "searchers": [x.searchers for x in items],
            "start": _utc_times([x.start_at for x in items]),
            "end": _utc_times([x.end_at for x in items]),
            "length_m": [x.length_m for x in items],
            "file_name": [x.file_name for x in items],
        },
        geometry=[x.geometry for x in items],
        crs="EPSG:4326",
    )


def sector_coverage(db: Database, /, actor: Actor, case_id: int) -> pd.DataFrame:
    """One row per sector of the case: its passes and how well it has been searched.

    Columns ``sector_id``, ``code``, ``name``, ``status``, ``passes``,
    ``cumulative_pod`` (``1 − Π(1 − PODᵢ)`` over every pass), ``last_pod``,
    ``last_basis``, ``last_track_pod``, ``last_assurance_pod``, ``effort_m``
    (all passes), ``swept_m2`` and ``swept_share`` (union over all passes,
    ground walked twice counted once), ``area_m2``.
    """
    with UnitOfWork(db, actor, perm.TRACK_READ, case_id=case_id, mode="read") as uow:
        sectors = _sectors_of_case(uow.conn, case_id)
        passes = passes_of_case(uow.conn, case_id)
        tracks = tracks_of_case(uow.conn, case_id)
    width = {p.id: p.sweep_width_m for p in passes}
    by_sector: dict[int, list[Pass]] = {}
    for p in passes:
        by_sector.setdefault(p.sector_id, []).append(p)
    rows = []
    swept = _swept_per_sector(sectors, tracks, width)
    for sec in sectors:
        mine = by_sector.get(sec.id, [])
        last = mine[-1] if mine else None
        rows.append({
            "sector_id": sec.id,
            "code": sec.code,
            "name": sec.name,
            "status": sec.status,
            "passes": len(mine),
            "cumulative_pod": cumulative_pod([p.pod for p in mine]),
            "last_pod": last.pod if last else np.nan,
            "last_basis": last.basis if last else "",
            "last_track_pod": _nan(last.track_pod if last else None),
            "last_assurance_pod": _nan(last.assurance_pod if last else None),
            "effort_m": float(sum(p.effort_m for p in mine)),
            "swept_m2": swept.get(sec.id, 0.0),
            "swept_share": swept.get(sec.id, 0.0) / sec.area_m2 if sec.area_m2 else 0.0,
            "area_m2": sec.area_m2,
        })
    return pd.DataFrame(rows, columns=[
        "sector_id", "code", "name", "status", "passes", "cumulative_pod", "last_pod",
        "last_basis", "last_track_pod", "last_assurance_pod", "effort_m", "swept_m2",
        "swept_share", "area_m2"])


def coverage_timeline(db: Database, /, actor: Actor, case_id: int) -> pd.DataFrame:
    """Passes in time order with the case's running figures, for plots.

    One row per pass: ``at`` is when it was walked — the finish for a closed
    pass; for a pass still open, the latest end time of its tracks (their own
    GPS times), else, for tracks without times, the upload time — and
    ``at_basis`` says which (``"finished"``, ``"track times"``, ``"upload time"``).
    Also ``pass_id``, ``sector_id``, ``code``, ``team_id``, ``team``, ``state``,
    ``pod``, ``basis``, ``effort_m``, ``sector_cumulative_pod`` (that sector after
    this pass), ``case_mean_pod`` (area-weighted mean cumulative POD over all
    sectors of the case after this pass), ``team_effort_m`` (that team's
    running effort) and ``team_mean_pod`` (area-weighted mean cumulative POD,
    from that team's passes only, over the sectors that team has searched).
    """
    with UnitOfWork(db, actor, perm.TRACK_READ, case_id=case_id, mode="read") as uow:
        sectors = {x.id: x for x in _sectors_of_case(uow.conn, case_id)}
        teams = _team_names(uow.conn, case_id)
        passes = passes_of_case(uow.conn, case_id)
        tracks = tracks_of_case(uow.conn, case_id)
    walked: dict[int, datetime] = {}
    for tr in tracks:
        last = tr.end_at or tr.start_at
        if tr.pass_id is not None and last is not None:
            walked[tr.pass_id] = max(walked.get(tr.pass_id, last), last)

    def when(p: Pass) -> tuple[datetime, str]:
        if p.state == "closed" and p.ended_at is not None:
            return p.ended_at, "finished"
        if p.id in walked:
            return walked[p.id], "track times"
        return p.updated_at, "upload time"

    timed = sorted(((when(p), p) for p in passes), key=lambda x: (x[0][0], x[1].id))
    total_area = sum(x.area_m2 for x in sectors.values()) or 1.0
    cum: dict[int, list[float]] = {}
    team_cum: dict[Any, dict[int, list[float]]] = {}
    team_effort: dict[Any, float] = {}
    rows = []
    for (at, at_basis), p in timed:
        cum.setdefault(p.sector_id, []).append(p.pod)
        sector_cum = cumulative_pod(cum[p.sector_id])
        mean = sum(cumulative_pod(v_) * sectors[k].area_m2 for k, v_ in cum.items()
                   if k in sectors) / total_area
        team_effort[p.team_id] = team_effort.get(p.team_id, 0.0) + p.effort_m
        mine = team_cum.setdefault(p.team_id, {})
        mine.setdefault(p.sector_id, []).append(p.pod)
        mine_area = sum(sectors[k].area_m2 for k in mine if k in sectors) or 1.0
        team_mean = sum(cumulative_pod(v_) * sectors[k].area_m2 for k, v_ in mine.items()
                        if k in sectors) / mine_area
        sec = sectors.get(p.sector_id)
        rows.append({
            "at": at, "at_basis": at_basis, "pass_id": p.id, "sector_id": p.sector_id,
            "code": sec.code if sec else "?", "team_id": p.team_id,
            "team": teams.get(p.team_id, "no team") if p.team_id else "no team",
            "state": p.state, "pod": p.pod, "basis": p.basis, "effort_m": p.effort_m,
            "sector_cumulative_pod": sector_cum, "case_mean_pod": mean,
            "team_effort_m": team_effort[p.team_id], "team_mean_pod": team_mean,
        })
    return pd.DataFrame(rows, columns=[
        "at", "at_basis", "pass_id", "sector_id", "code", "team_id", "team", "state",
        "pod", "basis", "effort_m", "sector_cumulative_pod", "case_mean_pod",
        "team_effort_m", "team_mean_pod"])


# ------------------------------------------------------------------ conn-level reads


def tracks_of_case(conn: sa.Connection, case_id: int, *, team_id: int | None = None,
                   sector_id: int | None = None) -> list[Track]:
    """The case's tracks, oldest upload first (no permission check: callers do)."""
    q = sa.select(t.tracks).where(t.tracks.c.case_id == case_id)
    if team_id is not None:
        q = q.where(t.tracks.c.team_id == team_id)
    if sector_id is not None:
        q = q.where(t.tracks.c.sector_id == sector_id)
    return [_track(r) for r in conn.execute(q.order_by(t.tracks.c.id)).all()]


def passes_of_case(conn: sa.Connection, case_id: int, *,
                   sector_id: int | None = None) -> list[Pass]:
    """The case's passes in the order they were made (no permission check: callers do)."""
    q = sa.select(t.passes).where(t.passes.c.case_id == case_id)
    if sector_id is not None:
        q = q.where(t.passes.c.sector_id == sector_id)
    return [ps.pass_record(r) for r in conn.execute(q.order_by(t.passes.c.id)).all()]


def _sectors_of_case(conn: sa.Connection, case_id: int) -> list[Sector]:
    """Every sector of the case by number (S1, S2…), as a coordinator reads them."""
    rows = conn.execute(sa.select(t.sectors).where(t.sectors.c.case_id == case_id)).all()
    return sorted((sector_record(r) for r in rows), key=lambda x: code_number(x.code))


def _team_names(conn: sa.Connection, case_id: int) -> dict[int, str]:
    return {int(r.id): str(r.name) for r in conn.execute(
        sa.select(t.teams.c.id, t.teams.c.name).where(t.teams.c.case_id == case_id))}


# ------------------------------------------------------------------ the figures


def _swept_per_sector(sectors: Sequence[Any], tracks: Sequence[Track],
                      width: dict[int, float]) -> dict[int, float]:
    """Swept m² per sector: union of its tracks buffered by each pass's W/2, in the sector."""
    by_sector: dict[int, list[tuple[Track, float]]] = {}  # sector -> (track, its pass's W)
    for tr in tracks:
        if tr.sector_id is None or tr.pass_id is None or tr.pass_id not in width:
            continue
        by_sector.setdefault(tr.sector_id, []).append((tr, width[tr.pass_id]))
    out: dict[int, float] = {}
    for sec in sectors:
        mine = by_sector.get(sec.id)
        if mine:
            lines = gpd.GeoDataFrame(geometry=[tr.geometry for tr, _ in mine], crs="EPSG:4326")
            out[sec.id] = float(shapely.area(swept_ground(
                lines, [w for _, w in mine],
                clip=geoms_to_bng(LonLatGeometry(shapely.make_valid(sec.geometry))))))
    return out


def _track_values(gdf: gpd.GeoDataFrame) -> dict[str, Any]:
    lines = [g for g in gdf.geometry.to_numpy() if g is not None and not g.is_empty]
    multi = shapely.MultiLineString(lines)
    minx, miny, maxx, maxy = multi.bounds
    start = pd.to_datetime(gdf["start"], utc=True).min() if "start" in gdf else pd.NaT
    end = pd.to_datetime(gdf["end"], utc=True).max() if "end" in gdf else pd.NaT
    return {
        "geom": multi,
        "minx": float(minx), "miny": float(miny), "maxx": float(maxx), "maxy": float(maxy),
        "length_m": float(gdf.to_crs(BNG).geometry.length.sum()),
        "n_points": int(shapely.get_num_coordinates(np.array(lines, dtype=object)).sum()),
        "n_segments": len(lines),
        "start_at": None if pd.isna(start) else start.to_pydatetime(),
        "end_at": None if pd.isna(end) else end.to_pydatetime(),
    }


def _number(field: str, value: Any, lo: float, hi: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field.replace('_', ' ')} must be a number.") from None
    if not (lo <= x <= hi):
        raise InvalidInput(f"{field.replace('_', ' ')} must be between {lo:g} and {hi:g}.")
    return x


def _utc_times(times: Sequence[datetime | None]) -> pd.DatetimeIndex:
    """Times as a UTC index, NaT where a time is missing (a track file without times)."""
    # pandas-stubs leave None out of to_datetime's list argument; pandas reads it as NaT
    return pd.to_datetime(cast("Sequence[datetime]", times), utc=True)


def _nan(x: float | None) -> float:
    return np.nan if x is None else float(x)


def _track(row: Any) -> Track:
    return Track(
        id=row.id, case_id=row.case_id, team_id=row.team_id, sector_id=row.sector_id,
        pass_id=row.pass_id, file_name=row.file_name, searchers=row.searchers,
        spacing_m=row.spacing_m, trim_m=row.trim_m, geometry=row.geom, length_m=row.length_m,
        n_points=row.n_points, n_segments=row.n_segments, start_at=row.start_at,
        end_at=row.end_at, notes=tuple(from_json(row.notes) or ()),
        created_at=row.created_at, created_by_name=row.created_by_name,
    )


__all__ = ["Pass", "Track", "TrackUpload", "pass_figures", "pass_ground_bng"]

