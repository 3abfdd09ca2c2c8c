"""What the store hands back: plain, frozen records (no database session attached).

Coordinates are ``lat``/``lon`` in degrees (EPSG:4326); times are aware UTC
datetimes (format them with :func:`casefile.format_london`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

import pandas as pd

from vocab.limits import MAX_LEN as MAX_LEN  # the caps of every record, one home


@dataclass(frozen=True, slots=True)
class User:
    id: int
    username: str
    display_name: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None
    version: int


def family_page_name(family_name: str | None, child_name: str) -> str:
    """The name the family page uses: the coordinator's choice, else the first name."""
    chosen = (family_name or "").strip()
    if chosen:
        return chosen
    words = (child_name or "").split()
    return words[0] if words else ""


@dataclass(frozen=True, slots=True)
class Case:
    id: int
    reference: str
    child_name: str
    age: int | None
    risk: str
    reported_missing_at: datetime
    home_lat: float | None
    home_lon: float | None
    ipp_lat: float
    ipp_lon: float
    status: str
    status_changed_at: datetime | None
    description: str
    notes: str
    created_at: datetime
    updated_at: datetime
    updated_by_name: str
    version: int
    #: the family page: the child's name there ("" = first word of child_name) and
    #: the family liaison contact (personal, purged with the case)
    family_name: str = ""
    liaison_name: str = ""
    liaison_phone: str = ""

    @property
    def family_page_name(self) -> str:
        """The child's name as the family page shows it (the coordinator's choice)."""
        return family_page_name(self.family_name, self.child_name)

    @property
    def ipp(self) -> tuple[float, float]:
        """The initial planning point as (lat, lon)."""
        return (self.ipp_lat, self.ipp_lon)

    @property
    def home(self) -> tuple[float, float] | None:
        """Home as (lat, lon), or None when not recorded."""
        if self.home_lat is None or self.home_lon is None:
            return None
        return (self.home_lat, self.home_lon)

    @property
    def is_found(self) -> bool:
        """True once the child is found: every view shows "Found — stand down"."""
        return self.status == "found"


@dataclass(frozen=True, slots=True)
class CaseSummary:
    """A line of the case list."""

    id: int
    reference: str
    child_name: str
    risk: str
    status: str
    reported_missing_at: datetime
    updated_at: datetime
    my_role: str


@dataclass(frozen=True, slots=True)
class Sighting:
    id: int
    case_id: int
    lat: float
    lon: float
    seen_at: datetime
    source: str
    confidence: str
    status: str
    reported_by: str
    reporter_contact: str
    description: str
    borough: str | None
    borough_code: str | None
    bcu: str | None
    force: str | None
    ward: str | None
    created_at: datetime
    updated_at: datetime
    updated_by_name: str
    version: int


SIGHTING_COLUMNS: tuple[str, ...] = tuple(f.name for f in fields(Sighting))


@dataclass(frozen=True, slots=True)
class LastKnown:
    """Where the child was last known to be: the latest verified sighting, else the IPP."""

    lat: float
    lon: float
    at: datetime | None
    kind: Literal["sighting", "ipp"]
    sighting_id: int | None


def last_known_of(case: Case, sightings: tuple[Sighting, ...] | list[Sighting]) -> LastKnown:
    """The rule, in one place: latest verified sighting by time seen (then id), else IPP."""
    best: Sighting | None = None
    for s in sightings:
        if s.status != "verified":
            continue
        if best is None or (s.seen_at, s.id) > (best.seen_at, best.id):
            best = s
    if best is None:
        return LastKnown(case.ipp_lat, case.ipp_lon, None, "ipp", None)
    return LastKnown(best.lat, best.lon, best.seen_at, "sighting", best.id)


@dataclass(frozen=True, slots=True)
class CaseFile:
    """A case with all its sightings (time order) and the change token they were read at."""

    case: Case
    sightings: tuple[Sighting, ...]
    token: int

    def last_known(self) -> LastKnown:
        return last_known_of(self.case, self.sightings)

    def path(self) -> tuple[Sighting, ...]:
        """Verified sightings in time order: the route the child is known to have taken."""
        return tuple(s for s in self.sightings if s.status == "verified")

    def sightings_frame(self) -> pd.DataFrame:
        """The sightings as a DataFrame (one row each, columns as :class:`Sighting`)."""
        return pd.DataFrame(
            [[getattr(s, c) for c in SIGHTING_COLUMNS] for s in self.sightings],
            columns=list(SIGHTING_COLUMNS),
        )


@dataclass(frozen=True, slots=True)
class AuditRecord:
    """One line of the audit log.

    ``fields`` names every field the action set or changed; ``changes`` holds
    before/after values of the non-personal ones only. ``personal`` (before/after
    of personal fields) and ``reason`` come from the purgeable side table and are
    empty once the case is purged.
    """

    id: int
    at: datetime
    actor_id: int | None
    actor_name: str
    actor_role: str
    case_id: int | None
    entity: str
    entity_id: int | None
    action: str
    fields: tuple[str, ...]
    changes: dict[str, Any]
    reason: str | None
    personal: dict[str, Any] | None
