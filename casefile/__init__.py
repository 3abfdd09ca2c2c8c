"""The Wayhome store: cases, sightings, accounts and the audit log.

SQLite file by default, PostgreSQL + PostGIS when ``DATABASE_URL`` is
``postgresql://…``; one interface either way::

    from casefile import open_store, Actor
    store = open_store()                          # migrates to the newest schema
    me = store.authenticate("demo.coordinator", password)
    case = store.create_case(me, reference=..., ...)
    store.add_sighting(me, case.id, lat=51.5, lon=-0.1, seen_at=..., source="public")
    store.change_token(me, case.id)               # poll: one indexed query

No Streamlit and no folium here: pages call the store, ``layers`` draws.
"""

from __future__ import annotations

from casefile.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    StaleVersion,
    StoreError,
)
from casefile.fieldwork import (
    ASSURANCE_LEVELS,
    HAZARD_KINDS,
    SEARCH_TYPES,
    SECTOR_ORIGINS,
    SECTOR_STATUSES,
    SECTOR_TRANSITIONS,
    TEAM_ORG_TYPES,
    Handover,
    Hazard,
    NewSector,
    Overlap,
    OverlapWarning,
    Sector,
    Team,
    Unit,
    UnitSector,
)
from casefile.handovers import resolve_unit
from casefile.permissions import ROLE_PERMISSIONS, Actor
from casefile.records import (
    AuditRecord,
    Case,
    CaseFile,
    CaseSummary,
    LastKnown,
    Sighting,
    User,
)
from casefile.store import PERSONAL_FIELDS, NewSighting, Store, open_store
from casefile.timefmt import format_london, format_london_full, from_london, to_london, utcnow
from casefile.validate import (
    CASE_STATUSES,
    SIGHTING_CONFIDENCES,
    SIGHTING_SOURCES,
    SIGHTING_STATUSES,
)

__all__ = [
    "ASSURANCE_LEVELS",
    "CASE_STATUSES",
    "HAZARD_KINDS",
    "PERSONAL_FIELDS",
    "ROLE_PERMISSIONS",
    "SEARCH_TYPES",
    "SECTOR_ORIGINS",
    "SECTOR_STATUSES",
    "SECTOR_TRANSITIONS",
    "SIGHTING_CONFIDENCES",
    "SIGHTING_SOURCES",
    "SIGHTING_STATUSES",
    "TEAM_ORG_TYPES",
    "Actor",
    "AuditRecord",
    "Case",
    "CaseFile",
    "CaseSummary",
    "Handover",
    "Hazard",
    "InvalidInput",
    "LastKnown",
    "NewSector",
    "NewSighting",
    "NotFound",
    "Overlap",
    "OverlapWarning",
    "PermissionDenied",
    "Sector",
    "Sighting",
    "StaleVersion",
    "Store",
    "StoreError",
    "Team",
    "Unit",
    "UnitSector",
    "User",
    "format_london",
    "format_london_full",
    "from_london",
    "open_store",
    "resolve_unit",
    "to_london",
    "utcnow",
]
