"""GPS tracks and passes: what teams actually walked, and how well each sector was searched.

Mixed into :class:`casefile.Store`.

* A **track** is one uploaded GPS file (GPX, KML/KMZ, CSV), read and cleaned by
  :func:`geo.read_tracks` (impossible jumps, duplicates and points outside the UK
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

Passes are recomputed in the transaction that changes them (an upload, a
finished sector, a new sweep width), which also bumps the case's change counter,
writes the audit record and brings the case's POA up to date
(:mod:`casefile.probability`). Decision support, not a prediction.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
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
from casefile.errors import InvalidInput, PermissionDenied, StoreError
from casefile.permissions import Actor
from casefile.sectors import _s
from casefile.timefmt import utcnow
from geo.coverage import swept_ground
from geo.errors import InputError
from vocab import sector_statuses

#: (done 0-1, what is happening) — e.g. ``st.progress``'s value and text
ProgressFn = Callable[[float, str], None]
#: most searchers abreast on one line, longest spacing (m), longest privacy trim (m)
MAX_SEARCHERS = 200
MAX_SPACING_M = 1000.0
MAX_TRIM_M = 5000.0
MAX_FILE_NAME = 200
#: sector statuses whose current "searched" record new tracks join
_RECORDED = tuple(sorted(sector_statuses.with_progress("searched")))


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
class Pass:
    """One search of a sector and how well it went (see the module docstring).

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


@dataclass(frozen=True, slots=True)
class TrackUpload:
    """What an upload did: the stored track, its pass (None without a sector), what
    cleaning said, and whether this file had been uploaded before (nothing new saved)."""

    track: Track
    pass_: Pass | None
    notes: tuple[str, ...]
    duplicate: bool


# ------------------------------------------------------------------ the mixin


class TracksMixin:
    """Track and pass operations of :class:`casefile.Store`."""

    backend: str
    _writing: Any
    _reading: Any
    _authorize: Any
    _audit: Any
    _link: Any
    _refresh_poa: Any

    # ---------------------------------------------------------------- uploading

    def upload_track(
        self,
        actor: Actor,
        case_id: int,
        source: Any,
        *,
        team_id: int,
        sector_id: int | None = None,
        searchers: int = 1,
        spacing_m: float | None = None,
        trim_m: float = 0.0,
        sweep_type: str | None = None,
        progress: ProgressFn | None = None,
    ) -> TrackUpload:
        """Read, clean, store one GPS track and recompute its sector's pass and the POA.

        ``source``: a path or ``(file name, bytes)``. ``searchers``: people walking
        abreast on this line (1–200); ``spacing_m`` their spacing (recorded);
        ``trim_m``: metres cut off both ends of every segment before storing
        (privacy near a home). ``sweep_type``: ground type for W when this upload
        opens a new pass (default: :func:`geo.sweep_width`'s default). Team leads
        upload for their own team (and its sectors) only. The same file uploaded
        again to the same case returns the stored track (``duplicate=True``).
        Raises :class:`InvalidInput` with the reader's message for a bad file.
        """
        from geo._sources import read_source
        from geo.track_files import read_tracks, trim_track_ends

        s = _s()
        s._check_actor_shape(actor, perm.TRACK_UPLOAD)

        def tick(done: float, what: str) -> None:
            if progress is not None:
                progress(min(max(done, 0.0), 1.0), what)

        searchers = v.integer("searchers", searchers, 1, MAX_SEARCHERS)  # type: ignore[assignment]
        spacing = None if spacing_m in (None, "") else _number("spacing_m", spacing_m, 0.0,
                                                              MAX_SPACING_M)
        trim = _number("trim_m", trim_m or 0.0, 0.0, MAX_TRIM_M)
        sweep = _sweep(sweep_type, None)
        tick(0.05, "Reading the file")
        try:
            name, data = read_source(source)
            gdf = read_tracks((name, data))
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
        now = utcnow()
        with self._writing() as conn:
            s._require_case(conn, case_id)
            self._authorize(conn, actor, perm.TRACK_UPLOAD, case_id)
            team = fw.require_row(conn, t.teams, team_id, "team")
            if team.case_id != case_id:
                raise InvalidInput("That team works on another case.")
            sector = None
            if sector_id is not None:
                sector = fw.require_row(conn, t.sectors, sector_id, "sector")
                if sector.case_id != case_id:
                    raise InvalidInput("That sector belongs to another case.")
            self._own_team_only(conn, actor, team_id, sector)
            existing = conn.execute(
                sa.select(t.tracks).where(
                    t.tracks.c.case_id == case_id, t.tracks.c.file_hash == digest
                )
            ).first()
            if existing is not None:
                conn.rollback()
                track = _track(existing)
                return TrackUpload(track, self._pass_of(track), notes, True)
            n = fw.bump_now(conn, case_id)
            pass_id = None
            if sector is not None:
                pass_id = self._pass_for_upload(conn, sector, team_id, sweep, n, actor, now)
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
                    change_n=n,
                    created_at=now,
                    created_by_id=actor.user_id,
                    created_by_name=actor.display_name,
                    **values,
                )
            ).inserted_primary_key[0]
            self._audit(
                conn, actor, now, case_id=case_id, entity="track", entity_id=track_id,
                action="upload",
                changes={
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
                self._recompute_passes(conn, [pass_id], n, actor, now)
            tick(0.8, "Updating the probability of area")
            self._refresh_poa(conn, case_id, actor, now)
            track = _track(fw.require_row(conn, t.tracks, track_id, "track"))
            the_pass = None
            if pass_id is not None:
                the_pass = _pass(fw.require_row(conn, t.passes, pass_id, "pass"))
        tick(1.0, "Done")
        return TrackUpload(track, the_pass, notes, False)

    def _own_team_only(self, conn: sa.Connection, actor: Actor, team_id: int,
                       sector: Any | None) -> None:
        """A team lead uploads for its own team and that team's sectors only."""
        if actor.role != "team_lead":
            return
        link = self._link(conn, actor)
        if link.team_id is None or link.team_id != team_id:
            raise PermissionDenied("A team lead uploads tracks for their own team only.")
        if sector is not None and link.team_id not in (sector.team_id,
                                                       sector.searched_by_team_id):
            raise PermissionDenied(f"Sector {sector.code} is not your team's.")

    def _pass_of(self, track: Track) -> Pass | None:
        if track.pass_id is None:
            return None
        with self._reading() as conn:
            row = conn.execute(sa.select(t.passes).where(t.passes.c.id == track.pass_id)).first()
        return None if row is None else _pass(row)

    def _pass_for_upload(self, conn: sa.Connection, sector: Any, team_id: int, sweep: tuple,
                         n: int, actor: Actor, now: datetime) -> int:
        """The pass a new track of ``sector`` joins: the current record's, else the open one."""
        self._sync_sector_passes(conn, [sector], n, actor, now)
        if sector.status in _RECORDED and sector.searched_at is not None:
            row = conn.execute(
                sa.select(t.passes.c.id, t.passes.c.record_at).where(
                    t.passes.c.sector_id == sector.id, t.passes.c.state == "closed"
                )
            ).all()
            for r in row:
                if r.record_at == sector.searched_at:
                    return int(r.id)
        row = conn.execute(
            sa.select(t.passes.c.id).where(
                t.passes.c.sector_id == sector.id, t.passes.c.state == "open"
            ).order_by(t.passes.c.id.desc())
        ).first()
        if row is not None:
            return int(row.id)
        return self._insert_pass(conn, sector, n, actor, now, state="open", team_id=team_id,
                                 sweep=sweep)

    def _insert_pass(self, conn: sa.Connection, sector: Any, n: int, actor: Actor,
                     now: datetime, *, state: str, team_id: int | None,
                     sweep: tuple[str, float], record: bool = False) -> int:
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
            "change_n": n,
            "created_at": now,
            "updated_at": now,
            "updated_by_name": actor.display_name,
            "version": 1,
            "started_at": sector.started_at,
        }
        if record:
            values.update(_record_values(sector))
        pass_id = int(conn.execute(t.passes.insert().values(**values)).inserted_primary_key[0])
        self._audit(conn, actor, now, case_id=sector.case_id, entity="pass", entity_id=pass_id,
                    action="open" if state == "open" else "record",
                    changes={"sector_id": (None, sector.id), "state": (None, state),
                             "sweep_width_m": (None, sweep[1])})
        return pass_id

    def _sync_sector_passes(self, conn: sa.Connection, sectors: Sequence[Any], n: int,
                            actor: Actor, now: datetime) -> list[int]:
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
        rows = conn.execute(
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
                conn.execute(
                    t.passes.update().where(t.passes.c.id == r.id).values(
                        state="closed", change_n=n, updated_at=now,
                        updated_by_name=actor.display_name, version=r.version + 1,
                        **_record_values(sector),
                    )
                )
                self._audit(conn, actor, now, case_id=sector.case_id, entity="pass",
                            entity_id=r.id, action="close",
                            changes={"state": ("open", "closed"),
                                     "assurance": (None, sector.assurance)})
                done.append(int(r.id))
            else:
                done.append(self._insert_pass(
                    conn, sector, n, actor, now, state="closed",
                    team_id=sector.searched_by_team_id, sweep=_sweep(None, None), record=True,
                ))
        return done

    def _recompute_passes(self, conn: sa.Connection, pass_ids: Sequence[int], n: int,
                          actor: Actor, now: datetime) -> None:
        """Coverage, POD and swept ground of each pass from its tracks and record."""
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
                    **fig, change_n=n, updated_at=now, updated_by_name=actor.display_name,
                    version=row.version + 1,
                )
            )
            self._audit(conn, actor, now, case_id=row.case_id, entity="pass", entity_id=pid,
                        action="compute",
                        changes={k: (_round(getattr(row, k)), _round(x))
                                 for k, x in changed.items()
                                 if k in ("pod", "basis", "coverage", "n_tracks",
                                          "swept_share")})

    # ---------------------------------------------------------------- keeping up

    def refresh_coverage(self, actor: Actor, case_id: int) -> int:
        """Bring passes up to date with the sectors' "searched" records; update POA.

        Sectors finished since the last look get their pass (closed with the
        record, or made from it), the figures of those passes are computed and the
        case's POA takes them in. Writes (and bumps the change counter) only when
        something changed; returns the number of passes made or closed.
        """
        s = _s()
        s._check_actor_shape(actor, perm.TRACK_READ)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.TRACK_READ, case_id)
            s._require_case(conn, case_id)
            if not self._needs_sync(conn, case_id) and not self._poa_behind(conn, case_id):
                return 0
        now = utcnow()
        with self._writing() as conn:
            self._authorize(conn, actor, perm.TRACK_READ, case_id)
            n = fw.bump_now(conn, case_id)
            sectors = conn.execute(
                sa.select(t.sectors).where(t.sectors.c.case_id == case_id,
                                           t.sectors.c.searched_at.is_not(None))
            ).all()
            changed = self._sync_sector_passes(conn, sectors, n, actor, now)
            self._recompute_passes(conn, changed, n, actor, now)
            poa_changed = self._refresh_poa(conn, case_id, actor, now)
            if not changed and not poa_changed:
                conn.rollback()
        return len(changed)

    def _needs_sync(self, conn: sa.Connection, case_id: int) -> bool:
        rows = conn.execute(
            sa.select(t.sectors.c.id, t.sectors.c.searched_at).where(
                t.sectors.c.case_id == case_id, t.sectors.c.searched_at.is_not(None)
            )
        ).all()
        if not rows:
            return False
        have: dict[int, set] = {}
        for r in conn.execute(
            sa.select(t.passes.c.sector_id, t.passes.c.record_at).where(
                t.passes.c.case_id == case_id, t.passes.c.record_at.is_not(None)
            )
        ):
            have.setdefault(r.sector_id, set()).add(r.record_at)
        return any(r.searched_at not in have.get(r.id, ()) for r in rows)

    def finish_sector(self, actor: Actor, sector_id: int, *, version: int, **kw: Any) -> Any:
        """Record a sector as searched (see SectorsMixin.finish_sector), then its pass.

        The pass (and the POA update) is written right after the sector's record;
        should that fail, :meth:`refresh_coverage` makes it later from the record.
        """
        sector = super().finish_sector(actor, sector_id, version=version, **kw)  # type: ignore[misc]
        try:
            now = utcnow()
            with self._writing() as conn:
                row = fw.require_row(conn, t.sectors, sector_id, "sector")
                n = fw.bump_now(conn, row.case_id)
                changed = self._sync_sector_passes(conn, [row], n, actor, now)
                self._recompute_passes(conn, changed, n, actor, now)
                self._refresh_poa(conn, row.case_id, actor, now)
        except (StoreError, InputError):  # pragma: no cover - refresh_coverage catches up
            pass
        return sector

    def set_pass_sweep(
        self,
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
        s = _s()
        s._check_actor_shape(actor, perm.POA_WRITE)
        sweep = _sweep(sweep_type, sweep_width_m)
        reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
        now = utcnow()
        with self._writing() as conn:
            row = fw.require_row(conn, t.passes, pass_id, "pass", lock=True)
            self._authorize(conn, actor, perm.POA_WRITE, row.case_id)
            s._check_version("pass", pass_id, row, version)
            if (row.sweep_type, row.sweep_width_m) == sweep:
                return _pass(row)
            n = fw.bump_now(conn, row.case_id)
            conn.execute(t.passes.update().where(t.passes.c.id == pass_id).values(
                sweep_type=sweep[0], sweep_width_m=sweep[1], change_n=n, updated_at=now,
                updated_by_name=actor.display_name, version=row.version + 1))
            self._audit(conn, actor, now, case_id=row.case_id, entity="pass", entity_id=pass_id,
                        action="sweep_width",
                        changes={"sweep_type": (row.sweep_type, sweep[0]),
                                 "sweep_width_m": (row.sweep_width_m, sweep[1])},
                        reason=reason)
            self._recompute_passes(conn, [pass_id], n, actor, now)
            self._refresh_poa(conn, row.case_id, actor, now)
            return _pass(fw.require_row(conn, t.passes, pass_id, "pass"))

    def delete_track(self, actor: Actor, track_id: int, *, reason: str) -> None:
        """Remove a track uploaded by mistake (coordinators); its pass is recomputed."""
        s = _s()
        s._check_actor_shape(actor, perm.POA_WRITE)
        reason = v.text("reason", reason, fw.MAX_LEN["reason"], required=True)
        now = utcnow()
        with self._writing() as conn:
            row = fw.require_row(conn, t.tracks, track_id, "track", lock=True)
            self._authorize(conn, actor, perm.POA_WRITE, row.case_id)
            n = fw.bump_now(conn, row.case_id)
            conn.execute(t.tracks.delete().where(t.tracks.c.id == track_id))
            self._audit(conn, actor, now, case_id=row.case_id, entity="track",
                        entity_id=track_id, action="delete",
                        changes={"pass_id": (row.pass_id, None),
                                 "length_m": (round(row.length_m, 1), None)},
                        reason=reason)
            if row.pass_id is not None:
                self._recompute_passes(conn, [row.pass_id], n, actor, now)
            self._refresh_poa(conn, row.case_id, actor, now)

    # ---------------------------------------------------------------- reading

    def tracks(self, actor: Actor, case_id: int, *, team_id: int | None = None,
               sector_id: int | None = None) -> list[Track]:
        """The case's tracks, oldest upload first, optionally of one team or sector."""
        s = _s()
        s._check_actor_shape(actor, perm.TRACK_READ)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.TRACK_READ, case_id)
            s._require_case(conn, case_id)
            q = sa.select(t.tracks).where(t.tracks.c.case_id == case_id)
            if team_id is not None:
                q = q.where(t.tracks.c.team_id == team_id)
            if sector_id is not None:
                q = q.where(t.tracks.c.sector_id == sector_id)
            return [_track(r) for r in conn.execute(q.order_by(t.tracks.c.id)).all()]

    def passes(self, actor: Actor, case_id: int, *, sector_id: int | None = None) -> list[Pass]:
        """The case's passes in the order they were made."""
        s = _s()
        s._check_actor_shape(actor, perm.TRACK_READ)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.TRACK_READ, case_id)
            s._require_case(conn, case_id)
            q = sa.select(t.passes).where(t.passes.c.case_id == case_id)
            if sector_id is not None:
                q = q.where(t.passes.c.sector_id == sector_id)
            return [_pass(r) for r in conn.execute(q.order_by(t.passes.c.id)).all()]

    def tracks_frame(self, actor: Actor, case_id: int) -> gpd.GeoDataFrame:
        """Tracks as a lon/lat GeoDataFrame: ``track_id``, ``team_id``, ``team``,
        ``sector_id``, ``pass_id``, ``searchers``, ``start``, ``end``, ``length_m``,
        ``file_name`` (for maps and :mod:`geo.gaps`)."""
        items = self.tracks(actor, case_id)
        with self._reading() as conn:
            names = dict(conn.execute(
                sa.select(t.teams.c.id, t.teams.c.name).where(t.teams.c.case_id == case_id)
            ).all())
        return gpd.GeoDataFrame(
            {
                "track_id": [x.id for x in items],
                "team_id": [x.team_id for x in items],
                "team": [names.get(x.team_id, "") if x.team_id else "" for x in items],
                "sector_id": [x.sector_id for x in items],
                "pass_id": [x.pass_id for x in items],
                "searchers": [x.searchers for x in items],
                "start": pd.to_datetime([x.start_at for x in items], utc=True),
                "end": pd.to_datetime([x.end_at for x in items], utc=True),
                "length_m": [x.length_m for x in items],
                "file_name": [x.file_name for x in items],
            },
            geometry=[x.geometry for x in items],
            crs="EPSG:4326",
        )

    def sector_coverage(self, actor: Actor, case_id: int) -> pd.DataFrame:
        """One row per sector of the case: its passes and how well it has been searched.

        Columns ``sector_id``, ``code``, ``name``, ``status``, ``passes``,
        ``cumulative_pod`` (``1 − Π(1 − PODᵢ)`` over every pass), ``last_pod``,
        ``last_basis``, ``last_track_pod``, ``last_assurance_pod``, ``effort_m``
        (all passes), ``swept_m2`` and ``swept_share`` (union over all passes,
        ground walked twice counted once), ``area_m2``.
        """
        from geo.detection import cumulative_pod

        sectors = self.sectors(actor, case_id)  # type: ignore[attr-defined]
        passes = self.passes(actor, case_id)
        tracks = self.tracks(actor, case_id)
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

    def coverage_timeline(self, actor: Actor, case_id: int) -> pd.DataFrame:
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
        from geo.detection import cumulative_pod

        sectors = {x.id: x for x in self.sectors(actor, case_id)}  # type: ignore[attr-defined]
        teams = {x.id: x.name for x in self.teams(actor, case_id)}  # type: ignore[attr-defined]
        passes = self.passes(actor, case_id)
        walked: dict[int, datetime] = {}
        for tr in self.tracks(actor, case_id):
            when = tr.end_at or tr.start_at
            if tr.pass_id is not None and when is not None:
                walked[tr.pass_id] = max(walked.get(tr.pass_id, when), when)

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


# ------------------------------------------------------------------ the figures


def pass_figures(
    sector_ll: BaseGeometry,
    not_searched_ll: BaseGeometry | None,
    tracks_ll: Sequence[BaseGeometry],
    searchers: Sequence[int],
    sweep_width_m: float,
    assurance: str | None,
) -> dict[str, Any]:
    """The stored figures of one pass (column values of ``passes``); see the module docstring.

    Inputs are lon/lat; everything is measured in British National Grid.
    """
    from geo.coverage import not_searched_split, track_coverage
    from geo.crs import BNG, WGS84
    from geo.detection import pass_pod

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


def pass_ground_bng(sector_ll: BaseGeometry, not_searched_ll: BaseGeometry | None
                    ) -> BaseGeometry:
    """The ground a pass searched (BNG): the sector minus what was not searched."""
    from geo.crs import geoms_to_bng

    ground = geoms_to_bng(shapely.make_valid(sector_ll))
    if not_searched_ll is not None and not shapely.is_empty(not_searched_ll):
        ground = shapely.difference(ground, geoms_to_bng(shapely.make_valid(not_searched_ll)))
    return ground


def _swept_per_sector(sectors: Sequence[Any], tracks: Sequence[Track],
                      width: dict[int, float]) -> dict[int, float]:
    """Swept m² per sector: union of its tracks buffered by each pass's W/2, in the sector."""
    from geo.crs import geoms_to_bng

    by_sector: dict[int, list[Track]] = {}
    for tr in tracks:
        if tr.sector_id is None or tr.pass_id not in width:
            continue
        by_sector.setdefault(tr.sector_id, []).append(tr)
    out: dict[int, float] = {}
    for sec in sectors:
        mine = by_sector.get(sec.id)
        if mine:
            lines = gpd.GeoDataFrame(geometry=[tr.geometry for tr in mine], crs="EPSG:4326")
            out[sec.id] = float(shapely.area(swept_ground(
                lines, [width[tr.pass_id] for tr in mine],
                clip=geoms_to_bng(shapely.make_valid(sec.geometry)))))
    return out


def _track_values(gdf: gpd.GeoDataFrame) -> dict[str, Any]:
    from geo.crs import BNG

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


def _record_values(sector: Any) -> dict[str, Any]:
    return {
        "record_at": sector.searched_at,
        "ended_at": sector.searched_at,
        "started_at": sector.started_at,
        "team_id": sector.searched_by_team_id,
        "search_type": sector.search_type,
        "assurance": sector.assurance,
        "not_searched_geom": sector.not_searched_geom,
    }


def _sweep(sweep_type: str | None, sweep_width_m: float | None) -> tuple[str, float]:
    """(ground type, W in m): the type's default W unless a width is given."""
    from geo.detection import check_sweep_width, sweep_width, sweep_widths

    try:
        if sweep_type in (None, ""):
            from geo.detection import load_search_data

            sweep_type = str(load_search_data("sweep_widths")["default_search_type"])
        if sweep_type not in sweep_widths():
            raise InvalidInput(f"Unknown ground type {sweep_type!r} for the sweep width.")
        w = sweep_width(sweep_type) if sweep_width_m in (None, "") else check_sweep_width(
            sweep_width_m)
    except InputError as exc:
        raise InvalidInput(str(exc)) from None
    return str(sweep_type), float(w)


def _number(field: str, value: Any, lo: float, hi: float) -> float:
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise InvalidInput(f"{field.replace('_', ' ')} must be a number.") from None
    if not (lo <= x <= hi):
        raise InvalidInput(f"{field.replace('_', ' ')} must be between {lo:g} and {hi:g}.")
    return x


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return a is b
        return abs(float(a) - float(b)) <= 1e-9 * max(1.0, abs(float(a)))
    return a == b


def _round(x: Any) -> Any:
    return round(x, 6) if isinstance(x, float) else x


def _nan(x: float | None) -> float:
    return np.nan if x is None else float(x)


def _track(row: Any) -> Track:
    return Track(
        id=row.id, case_id=row.case_id, team_id=row.team_id, sector_id=row.sector_id,
        pass_id=row.pass_id, file_name=row.file_name, searchers=row.searchers,
        spacing_m=row.spacing_m, trim_m=row.trim_m, geometry=row.geom, length_m=row.length_m,
        n_points=row.n_points, n_segments=row.n_segments, start_at=row.start_at,
        end_at=row.end_at, notes=tuple(_s()._json(row.notes) or ()),
        created_at=row.created_at, created_by_name=row.created_by_name,
    )


def _pass(row: Any) -> Pass:
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


__all__ = ["Pass", "Track", "TrackUpload", "TracksMixin", "pass_figures", "pass_ground_bng"]
