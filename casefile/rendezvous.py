"""The rendezvous point: where the case's teams meet, set by a coordinator.

One point per case, typed the way the First hour page takes a place (a postcode,
``lat, lon`` or an OS grid reference, read by :func:`geo.coordinates.find_place`)
plus a few words for searchers ("Car park, north gate"). Coordinators set, move
and clear it (``rendezvous.write``); team leads read it (``rendezvous.read``): it
is on the team lead's phone, the coordinator's maps, every briefing pack and the
handover report. The family and partner views never show it (the family has no
part in the search's logistics; a partner unit gets it in the handover report).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import sqlalchemy as sa

from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.database import Database
from casefile.errors import InvalidInput
from casefile.permissions import Actor
from casefile.unit_of_work import UnitOfWork, writes
from geo.coordinates import find_place

__all__ = ["MAX_WORDS", "Rendezvous", "clear_rendezvous", "rendezvous", "rendezvous_of",
           "set_rendezvous"]

#: the longest description in words (characters)
MAX_WORDS: Final[int] = 200


@dataclass(frozen=True, slots=True)
class Rendezvous:
    """The case's rendezvous point: lon/lat (EPSG:4326), the place as read, the words."""

    case_id: int
    lat: float
    lon: float
    #: how the typed place was read ("OS grid reference TQ 29 79", "SW1V 2JP"…)
    place: str
    #: the description for searchers ("Car park, north gate"); may be empty
    words: str
    updated_at: datetime
    updated_by_name: str
    version: int

    def text(self) -> str:
        """The point in words for a sheet or a page: the description, else the place."""
        return self.words.strip() or self.place


@writes
def set_rendezvous(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    version: int,
    place: str,
    words: str = "",
) -> Rendezvous:
    """Set or move the rendezvous point (``version`` 0 when none is set yet).

    ``place`` is read as the First hour page reads one; an unreadable place or one
    outside the UK is refused with the reader's own message.
    """
    unit = UnitOfWork(db, actor, perm.RENDEZVOUS_WRITE)
    words = v.text("words", words, MAX_WORDS).strip()
    found = find_place(v.text("place", place, 100, required=True))
    if found.status != "found" or found.lat is None or found.lon is None:
        raise InvalidInput(found.message or "Type a postcode, lat, lon or OS grid reference.")
    lat, lon = v.point("place", (found.lat, found.lon)) or (found.lat, found.lon)
    label = (found.label or place.strip())[:100]
    with unit as uow:
        conn = uow.conn
        uow.enter_case(case_id)
        current = rendezvous_of(conn, case_id)
        held = current.version if current is not None else 0
        if held != version:
            raise InvalidInput(
                "The rendezvous point was changed by someone else; reload to see it.")
        before = (current.place, current.words) if current is not None else (None, None)
        if before == (label, words) and current is not None and (
                current.lat, current.lon) == (lat, lon):
            return current
        values = {"lat": lat, "lon": lon, "place": label, "words": words,
                  "updated_at": uow.now, "updated_by_name": actor.display_name,
                  "version": held + 1}
        if current is None:
            conn.execute(t.case_rendezvous.insert().values(case_id=case_id, **values))
        else:
            conn.execute(t.case_rendezvous.update()
                         .where(t.case_rendezvous.c.case_id == case_id).values(**values))
        uow.record("rendezvous", case_id, "set", {
            "place": (before[0], label),
            "point": (None if current is None else f"{current.lat:.6f}, {current.lon:.6f}",
                      f"{lat:.6f}, {lon:.6f}"),
            "words": (before[1], words),
        })
        out = rendezvous_of(conn, case_id)
        assert out is not None
        return out


@writes
def clear_rendezvous(db: Database, /, actor: Actor, case_id: int, *, version: int) -> None:
    """Take the rendezvous point away (packs then leave a line to write it on)."""
    unit = UnitOfWork(db, actor, perm.RENDEZVOUS_WRITE)
    with unit as uow:
        conn = uow.conn
        uow.enter_case(case_id)
        current = rendezvous_of(conn, case_id)
        if current is None:
            return
        if current.version != version:
            raise InvalidInput(
                "The rendezvous point was changed by someone else; reload to see it.")
        conn.execute(t.case_rendezvous.delete().where(t.case_rendezvous.c.case_id == case_id))
        uow.record("rendezvous", case_id, "clear", {
            "place": (current.place, None), "words": (current.words, None)})


def rendezvous(db: Database, /, actor: Actor, case_id: int) -> Rendezvous | None:
    """The case's rendezvous point, or None when none is set."""
    with UnitOfWork(db, actor, perm.RENDEZVOUS_READ, case_id=case_id, mode="read") as uow:
        return rendezvous_of(uow.conn, case_id)


def rendezvous_of(conn: sa.Connection, case_id: int) -> Rendezvous | None:
    """The rendezvous point of ``case_id`` (no permission check: callers do)."""
    row = conn.execute(sa.select(t.case_rendezvous)
                       .where(t.case_rendezvous.c.case_id == case_id)).first()
    if row is None:
        return None
    return Rendezvous(case_id=case_id, lat=float(row.lat), lon=float(row.lon),
                      place=str(row.place), words=str(row.words), updated_at=row.updated_at,
                      updated_by_name=str(row.updated_by_name), version=int(row.version))
