"""What a team lead's phone shows beyond its own sectors: neighbours and the last-known location.

* :func:`team_neighbours`: the case's other sectors within
  :data:`casefile.briefings.NEIGHBOUR_M` of the team's own — ID, status and outline
  only (no team, notes or times of other teams), the same neighbours a briefing pack
  shows;
* :func:`team_last_known`: the last-known location (latest verified sighting, else the
  IPP) when the case shares it with team leads (``Sharing.team_lkl``, on by default);
  a place and a time, never who reported it.
"""

from __future__ import annotations

import numpy as np
import sqlalchemy as sa

from casefile import permissions as perm
from casefile import schema as t
from casefile.briefings import NEIGHBOUR_M, BriefNeighbour
from casefile.database import Database
from casefile.links import sharing_of, team_link_of
from casefile.permissions import Actor
from casefile.records import LastKnown
from casefile.sector_rows import code_number, sector_record
from casefile.sightings import last_known_location_of
from casefile.unit_of_work import UnitOfWork
from geo import near_and_shared

__all__ = ["team_last_known", "team_neighbours"]


def team_neighbours(db: Database, /, actor: Actor, case_id: int) -> list[BriefNeighbour]:
    """Sectors near a team lead's own sectors: ID, status and outline only, by ID."""
    with UnitOfWork(db, actor, perm.TEAM_SECTORS, case_id=case_id, mode="read") as uow:
        link = team_link_of(uow, case_id)
        rows = uow.conn.execute(
            sa.select(t.sectors).where(t.sectors.c.case_id == case_id)
        ).all()
        team_id = int(link.team_id)
    every = [sector_record(r) for r in rows]
    mine = [s for s in every if team_id in (s.team_id, s.searched_by_team_id)]
    others = [s for s in every if team_id not in (s.team_id, s.searched_by_team_id)]
    near, _shared = near_and_shared(
        np.array([s.geometry for s in mine], dtype=object),
        np.array([s.geometry for s in others], dtype=object), NEIGHBOUR_M)
    out = [BriefNeighbour(s.code, s.status, s.geometry)
           for s, n in zip(others, near, strict=True) if n]
    out.sort(key=lambda x: code_number(x.code))
    return out


def team_last_known(db: Database, /, actor: Actor, case_id: int) -> LastKnown | None:
    """The last-known location as team leads may see it, or ``None`` when not shared."""
    with UnitOfWork(db, actor, perm.SIGHTING_READ_SHARED, case_id=case_id, mode="read") as uow:
        if not sharing_of(uow.conn, case_id).team_lkl:
            return None
        return last_known_location_of(uow.conn, case_id)
