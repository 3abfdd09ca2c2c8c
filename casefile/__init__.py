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

from casefile.audit_records import PERSONAL_FIELDS
from casefile.errors import (
    LINK_GONE,
    InvalidInput,
    LinkGone,
    NotFound,
    PermissionDenied,
    StaleVersion,
    StoreError,
    TooManyAttempts,
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
from casefile.links import (
    CaseBrief,
    IssuedLink,
    LinkSession,
    PrivateLink,
    Sharing,
)
from casefile.motion import CaseMotion, PoaReplay, StaleSector
from casefile.permissions import ROLE_PERMISSIONS, Actor
from casefile.probability import POA_METHODS, PoaState, PoaUpdate
from casefile.purge import PurgeResult, purge_due_at
from casefile.records import (
    AuditRecord,
    Case,
    CaseFile,
    CaseSummary,
    LastKnown,
    Sighting,
    User,
)
from casefile.sightings import NewSighting
from casefile.store import Store, open_store
from casefile.tasks import (
    PartnerTask,
    Task,
    TaskCounts,
    TaskRepeat,
    TaskRepeatWarning,
    UnitTask,
)
from casefile.timefmt import (
    format_london,
    format_london_dated,
    format_london_day,
    format_london_full,
    from_london,
    to_london,
    utcnow,
)
from casefile.tips import (
    FAMILY_GROUP_LABELS,
    SEARCHED_MEANS,
    FamilyArea,
    FamilyStreets,
    FamilyView,
    RepeatSearch,
    Report,
)
from casefile.tracks import Pass, Track, TrackUpload
from vocab.search import (
    CASE_STATUSES,
    SIGHTING_CONFIDENCES,
    SIGHTING_SOURCES,
    SIGHTING_STATUSES,
)

__all__ = [
    "ASSURANCE_LEVELS",
    "CASE_STATUSES",
    "FAMILY_GROUP_LABELS",
    "HAZARD_KINDS",
    "LINK_GONE",
    "PERSONAL_FIELDS",
    "POA_METHODS",
    "ROLE_PERMISSIONS",
    "SEARCHED_MEANS",
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
    "CaseBrief",
    "CaseFile",
    "CaseMotion",
    "CaseSummary",
    "FamilyArea",
    "FamilyStreets",
    "FamilyView",
    "Handover",
    "Hazard",
    "InvalidInput",
    "IssuedLink",
    "LastKnown",
    "LinkGone",
    "LinkSession",
    "NewSector",
    "NewSighting",
    "NotFound",
    "Overlap",
    "OverlapWarning",
    "PartnerTask",
    "Pass",
    "PermissionDenied",
    "PoaReplay",
    "PoaState",
    "PoaUpdate",
    "PrivateLink",
    "PurgeResult",
    "RepeatSearch",
    "Report",
    "Sector",
    "Sharing",
    "Sighting",
    "StaleSector",
    "StaleVersion",
    "Store",
    "StoreError",
    "Task",
    "TaskCounts",
    "TaskRepeat",
    "TaskRepeatWarning",
    "Team",
    "TooManyAttempts",
    "Track",
    "TrackUpload",
    "Unit",
    "UnitSector",
    "UnitTask",
    "User",
    "format_london",
    "format_london_dated",
    "format_london_day",
    "format_london_full",
    "from_london",
    "open_store",
    "purge_due_at",
    "resolve_unit",
    "to_london",
    "utcnow",
]
