"""Briefing packs: what a printed pack for one sector or one team carries, and its link.

A briefing pack is the sheet a search team takes into the field. Printing one is
a write: it issues the pack's own team-lead link (the QR code on the sheet), labelled
with the sectors, the time and who printed it, that stops working at the end of the
operational period (``settings.BRIEF_PERIOD_HOURS`` after printing, never later
than a printing team lead's own link) and can be revoked on its own like any link;
and the audit log records who printed which pack when.

A *period pack* (:func:`print_period_pack`) is every tasked sector's pack for one
operational period (``settings.BRIEF_PERIOD_HOURS`` long, counted from when the case
was opened) behind a cover sheet naming the teams, their sectors and the rendezvous
point; each sheet's link works until that period ends.

:func:`print_briefing` returns a :class:`Briefing` of plain records; the sheet
itself is drawn by :func:`layers.briefing.render_briefing`, which never sees the
database. What a pack carries is what the team may know, whoever prints it: the
child's first name or alias, age and description for searchers, the sectors and
their task, neighbouring sectors with their status, every hazard and no-go area,
the last-known location, the sightings the case shares with team leads (never who
reported them or how to reach them), and earlier searches of that ground (team,
when, how, POD), and the rendezvous point. Never the home, the case notes, or any contact detail.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

import numpy as np
import shapely
import sqlalchemy as sa

from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.database import Database
from casefile.errors import InvalidInput, NotFound, PermissionDenied
from casefile.fieldwork import Hazard, Sector
from casefile.hazards import hazards_of_case
from casefile.links import MAX_LABEL, IssuedLink, insert_link, sharing_of
from casefile.permissions import Actor
from casefile.records import LastKnown
from casefile.rendezvous import Rendezvous, rendezvous_of
from casefile.sector_rows import code_number, sector_record
from casefile.sightings import last_known_location_of, sightings_query
from casefile.tasks import Task, open_tasks_of_team
from casefile.timefmt import to_london
from casefile.tracks import passes_of_case
from casefile.unit_of_work import UnitOfWork, writes
from geo import near_and_shared
from geo.detection import load_search_data
from vocab import settings
from vocab import task_types as tt

__all__ = [
    "NEIGHBOUR_M", "ORIENTATIONS", "TASKED_STATUSES", "BriefNeighbour", "BriefPass",
    "BriefSighting", "Briefing", "PeriodPack", "PeriodTeam", "period_bounds", "period_of",
    "print_briefing", "print_period_pack",
]

#: sectors within this many metres of a pack's sectors are its neighbours
NEIGHBOUR_M: Final[float] = 300.0
#: the sheet's layouts (A4)
ORIENTATIONS: Final[tuple[str, ...]] = ("portrait", "landscape")
#: the words a period may be named by, and how many periods after the current one
PERIOD_WORDS: Final[dict[str, int]] = {"current": 0, "next": 1}
#: a sector with a team in one of these statuses is tasked: it gets a sheet in a period pack
TASKED_STATUSES: Final[tuple[str, ...]] = ("assigned", "in_progress", "needs_re_search")


@dataclass(frozen=True, slots=True)
class BriefNeighbour:
    """A sector near the pack's ground: its ID, status and outline (lon/lat)."""

    code: str
    status: str
    geometry: Any


@dataclass(frozen=True, slots=True)
class BriefTask:
    """One of the team's open enquiry tasks as the printed pack shows it. A visit to a
    person's address carries neither its title nor its address nor its place (the team
    lead's phone has them): paper travels further than a private link."""

    code: str
    kind_label: str
    status_label: str
    #: the task's title; empty for a visit to a person's address
    title: str
    street: str
    side: str | None
    route: str
    window_start: datetime | None
    window_end: datetime | None
    #: where it is (lon/lat EPSG:4326); None for a visit to a person's address
    point: tuple[float, float] | None
    personal: bool


def brief_task(task: Task) -> BriefTask:
    """A task as the pack prints it (see :class:`BriefTask`)."""
    personal = task.kind in tt.personal_types()
    point = None
    if task.geometry is not None and not personal:
        at = shapely.get_coordinates(task.geometry.representative_point())[0]
        point = (float(at[0]), float(at[1]))
    return BriefTask(task.code, task.kind_label, task.status_label,
                     "" if personal else task.title, task.street, task.side, task.route,
                     task.window_start, task.window_end, point, personal)


@dataclass(frozen=True, slots=True)
class BriefPass:
    """An earlier search of the pack's ground: which sector, who, when, how, POD."""

    sector_code: str
    team_name: str | None
    state: str
    started_at: datetime | None
    ended_at: datetime | None
    search_type: str | None
    assurance: str | None
    pod: float
    basis: str


@dataclass(frozen=True, slots=True)
class BriefSighting:
    """A sighting as a team may see it: where, when, how sure (no reporter, no contact)."""

    lat: float
    lon: float
    seen_at: datetime
    status: str
    confidence: str
    description: str


@dataclass(frozen=True, slots=True)
class Briefing:
    """Everything one briefing pack shows (plain records; see the module)."""

    reference: str
    case_status: str
    child_name: str
    age: int | None
    description: str
    reported_missing_at: datetime
    #: "sector" (one sector's pack) or "team" (every sector of one team)
    kind: str
    team_id: int | None
    team_name: str | None
    sectors: tuple[Sector, ...]
    neighbours: tuple[BriefNeighbour, ...]
    hazards: tuple[Hazard, ...]
    last_known: LastKnown
    sightings: tuple[BriefSighting, ...]
    passes: tuple[BriefPass, ...]
    #: the default sweep spacing: (ground type's words, metres, "planning assumption"…)
    sweep: tuple[str, float, str]
    printed_by: str
    printed_at: datetime
    period_ends: datetime
    orientation: str
    #: the pack's own team-lead link (None when the sector has no team yet)
    link: IssuedLink | None
    #: the case's rendezvous point (None when no coordinator has set one)
    rendezvous: Rendezvous | None = None
    #: the team's open enquiry tasks (house-to-house, CCTV, visits, checks)
    tasks: tuple[BriefTask, ...] = ()


@writes
def print_briefing(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    sector_code: str | None = None,
    team_name: str | None = None,
    orientation: str = "portrait",
) -> Briefing:
    """Print the pack of one sector (``sector_code``) or of one team (``team_name``).

    Issues the pack's own team-lead link (see the module) and records the printing
    in the audit log. A team lead prints only its own team's packs. Raises
    :class:`NotFound` naming the unknown sector or team.
    """
    unit = UnitOfWork(db, actor, perm.BRIEFING_PRINT)
    if (sector_code is None) == (team_name is None):
        raise InvalidInput("A briefing pack is for one sector or for one team.")
    orientation = v.choice("orientation", orientation, ORIENTATIONS)
    with unit as uow:
        case = uow.enter_case(case_id)
        own_team: int | None = None
        link_ends: datetime | None = None
        if uow.scope == "own_team":
            link = uow.link
            if link is None or link.case_id != case_id or link.team_id is None:
                raise PermissionDenied("This link is not for a team of this case.")
            own_team, link_ends = int(link.team_id), link.expires_at
        every, team_names = _sectors_and_teams(uow.conn, case_id)
        if sector_code is not None:
            code = str(sector_code).strip().upper()
            mine = [s for s in every if s.code == code]
            if not mine:
                raise NotFound(f"This case has no sector {sector_code!r}.")
            team_id = mine[0].team_id
            kind = "sector"
        else:
            wanted = str(team_name).strip()
            ids = [i for i, name in team_names.items() if name == wanted]
            if not ids:
                raise NotFound(f"This case has no team called {team_name!r}.")
            team_id = ids[0]
            mine = [s for s in every if s.team_id == team_id]
            kind = "team"
        if own_team is not None and team_id != own_team:
            raise PermissionDenied("A team lead prints briefing packs for its own team only.")
        ends = uow.now + timedelta(hours=float(settings.BRIEF_PERIOD_HOURS))
        if link_ends is not None:
            ends = min(ends, link_ends)
        return _brief_in(uow, case, every, team_names, mine, kind=kind, team_id=team_id,
                         ends=ends, orientation=orientation)


def _sectors_and_teams(conn: sa.Connection, case_id: int) -> tuple[list[Sector], dict[int, str]]:
    """Every sector of the case in code order, and its teams' names by ID."""
    rows = conn.execute(sa.select(t.sectors).where(t.sectors.c.case_id == case_id)).all()
    every = sorted((sector_record(r) for r in rows), key=lambda s: code_number(s.code))
    team_names = {int(r.id): str(r.name) for r in conn.execute(
        sa.select(t.teams.c.id, t.teams.c.name).where(t.teams.c.case_id == case_id)
        .order_by(t.teams.c.id))}
    return every, team_names


def _brief_in(uow: UnitOfWork, case: Any, every: list[Sector], team_names: dict[int, str],
              mine: list[Sector], *, kind: str, team_id: int | None, ends: datetime,
              orientation: str) -> Briefing:
    """One pack printed inside ``uow`` (its case entered, the printer's right checked):
    its own link when it has a team, its audit record, and its records."""
    conn, actor, now = uow.conn, uow.actor, uow.now
    others = [s for s in every if s.id not in {m.id for m in mine}]
    near, shared = near_and_shared(
        np.array([s.geometry for s in mine], dtype=object),
        np.array([s.geometry for s in others], dtype=object), NEIGHBOUR_M)
    neighbours = tuple(BriefNeighbour(s.code, s.status, s.geometry)
                       for s, n in zip(others, near, strict=True) if n)
    ground = {s.id: s.code for s in mine} | {
        s.id: s.code for s, sh in zip(others, shared, strict=True) if sh}
    passes = tuple(
        BriefPass(ground[p.sector_id], team_names.get(p.team_id) if p.team_id else None,
                  p.state, p.started_at, p.ended_at, p.search_type, p.assurance,
                  float(p.pod), p.basis)
        for p in passes_of_case(conn, case.id) if p.sector_id in ground
    )
    share = sharing_of(conn, case.id).team_sightings
    keep = {"none": (), "verified": ("verified",), "all": ("verified", "unverified")}[share]
    sightings = tuple(
        BriefSighting(r.lat, r.lon, r.seen_at, r.status, r.confidence, r.description or "")
        for r in conn.execute(sightings_query(case.id)).all() if r.status in keep
    )
    codes = ", ".join(s.code for s in mine)
    issued: IssuedLink | None = None
    if team_id is not None:
        what = f"Briefing {codes}" if codes else f"Briefing {team_names[team_id]}"
        label = (f"{what} · printed {to_london(now):%d %b %H:%M} by "
                 f"{actor.display_name}")
        if len(label) > MAX_LABEL:
            label = label[: MAX_LABEL - 1] + "…"
        issued = insert_link(uow, case.id, role="team_lead", label=label, team_id=team_id,
                             unit=None, expires=ends)
    uow.record("briefing", issued.link.id if issued else None, "print", {
        "kind": (None, kind),
        "sectors": (None, codes),
        "team_id": (None, team_id),
        "link_id": (None, issued.link.id if issued else None),
        "orientation": (None, orientation),
    })
    return Briefing(
        reference=case.reference,
        case_status=case.status,
        child_name=case.child_name or "",
        age=case.age,
        description=case.description or "",
        reported_missing_at=case.reported_missing_at,
        kind=kind,
        team_id=team_id,
        team_name=team_names.get(team_id) if team_id is not None else None,
        sectors=tuple(mine),
        neighbours=neighbours,
        hazards=tuple(hazards_of_case(conn, case.id)),
        last_known=last_known_location_of(conn, case.id),
        sightings=sightings,
        passes=passes,
        sweep=_default_sweep(),
        printed_by=actor.display_name,
        printed_at=now,
        period_ends=ends,
        orientation=orientation,
        link=issued,
        rendezvous=rendezvous_of(conn, case.id),
        tasks=tuple(brief_task(x) for x in open_tasks_of_team(conn, case.id, team_id))
        if team_id is not None else (),
    )


# ---------------------------------------------------------------------- operational periods


def period_of(opened_at: datetime, at: datetime) -> int:
    """The operational period (1, 2, …) holding ``at``: periods of
    ``settings.BRIEF_PERIOD_HOURS`` counted from when the case was opened."""
    hours = float(settings.BRIEF_PERIOD_HOURS)
    return max(1, int((at - opened_at).total_seconds() // (hours * 3600)) + 1)


def period_bounds(opened_at: datetime, n: int) -> tuple[datetime, datetime]:
    """Start and end (UTC) of operational period ``n`` of a case opened at ``opened_at``."""
    span = timedelta(hours=float(settings.BRIEF_PERIOD_HOURS))
    return opened_at + (n - 1) * span, opened_at + n * span


@dataclass(frozen=True, slots=True)
class PeriodTeam:
    """One team on a period pack's cover: its name and its sectors (code, status)."""

    name: str
    sectors: tuple[tuple[str, str], ...]


@dataclass(frozen=True, slots=True)
class PeriodPack:
    """The pack of one operational period: its cover and one sheet per tasked sector."""

    reference: str
    case_status: str
    period: int
    starts: datetime
    ends: datetime
    teams: tuple[PeriodTeam, ...]
    rendezvous: Rendezvous | None
    printed_by: str
    printed_at: datetime
    orientation: str
    #: one :class:`Briefing` per tasked sector, in code order, each with its own link
    sheets: tuple[Briefing, ...]


@writes
def print_period_pack(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    period: int | str = "current",
    orientation: str = "portrait",
) -> PeriodPack:
    """Print the pack of operational ``period``: a number (1 is the first), "current"
    or "next" (printed ahead of a shift change); earlier ones are over and are refused.

    Every tasked sector (one with a team, :data:`TASKED_STATUSES`) gets its own sheet
    and its own team-lead link, working until the period ends; one audit record names
    the period and the links. Coordinators only: it shows every team's ground.
    """
    unit = UnitOfWork(db, actor, perm.BRIEFING_PRINT)
    orientation = v.choice("orientation", orientation, ORIENTATIONS)
    ahead: int | None = PERIOD_WORDS.get(str(period).strip().lower())
    wanted: int | None = None
    if ahead is None:
        try:
            wanted = v.integer("period", period, 1, 100_000)
        except InvalidInput:
            raise InvalidInput(f"The operational period is a number from 1, 'current' or "
                               f"'next', not {str(period)[:20]!r}.") from None
    with unit as uow:
        case = uow.enter_case(case_id)
        if uow.scope == "own_team":
            raise PermissionDenied("A period pack covers every team: coordinators print it.")
        now = uow.now
        current = period_of(case.created_at, now)
        n = current + ahead if ahead is not None else int(wanted or 0)
        if n < current:
            raise InvalidInput(f"Operational period {n} is over (the current one is "
                               f"{current}); print the current or the next one.")
        if n > current + 1:
            raise InvalidInput(f"Operational period {n} has not come yet (the current one "
                               f"is {current}); print the current or the next one.")
        starts, ends = period_bounds(case.created_at, n)
        every, team_names = _sectors_and_teams(uow.conn, case_id)
        tasked = [s for s in every if s.team_id is not None and s.status in TASKED_STATUSES]
        sheets = tuple(
            _brief_in(uow, case, every, team_names, [s], kind="sector", team_id=s.team_id,
                      ends=ends, orientation=orientation)
            for s in tasked)
        teams = tuple(
            PeriodTeam(name, tuple((s.code, s.status) for s in tasked if s.team_id == tid))
            for tid, name in team_names.items())
        uow.record("briefing", None, "print_period", {
            "period": (None, n),
            "starts": (None, starts.isoformat()),
            "ends": (None, ends.isoformat()),
            "sectors": (None, ", ".join(s.code for s in tasked)),
            "link_ids": (None, ", ".join(str(b.link.link.id) for b in sheets if b.link)),
            "orientation": (None, orientation),
        })
        rv = rendezvous_of(uow.conn, case_id)
    return PeriodPack(reference=case.reference, case_status=case.status, period=n,
                      starts=starts, ends=ends, teams=teams, rendezvous=rv,
                      printed_by=actor.display_name, printed_at=now,
                      orientation=orientation, sheets=sheets)


def _default_sweep() -> tuple[str, float, str]:
    """The default ground type's sweep width: (its words, metres, its status)."""
    data = load_search_data("sweep_widths")
    entry = data["search_types"][data["default_search_type"]]
    return str(entry["label"]), float(entry["sweep_width_m"]), str(entry["status"])
