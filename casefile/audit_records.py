"""What the audit trail keeps of a change, and the one function that appends it.

Only :class:`~casefile.unit_of_work.UnitOfWork` calls :func:`append_records`,
at commit, in the same transaction as the change it records. The append-only
``audit_log`` gets who, when, what and the names of the fields changed, with
before/after values only for fields that are not personal
(:data:`PERSONAL_FIELDS`); the personal values and the reason go to
``audit_detail``, keyed by case, so a purge can remove them while the record of
who did what stays. Accounts' values are never recorded at all
(:data:`NAMES_ONLY_ENTITIES`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casefile import schema as t
from casefile.permissions import Actor

#: fields whose values never enter the append-only audit log (purgeable side table only)
PERSONAL_FIELDS: dict[str, frozenset[str]] = {
    "case": frozenset({"child_name", "age", "home", "description", "notes",
                       "family_name", "liaison_name", "liaison_phone"}),
    "sighting": frozenset({"reported_by", "reporter_contact", "description"}),
    "member": frozenset(),
    # a sector's name can be an address (a home, a possible scene): purgeable
    "sector": frozenset(
        {"name", "notes", "outline", "not_searched", "not_searched_reason", "re_search_reason"}
    ),
    # a team's name can be a family's ("Hughes family"): purgeable like its lead's name
    "team": frozenset({"name", "lead_name", "contact"}),
    "hazard": frozenset({"note", "outline"}),
    "handover": frozenset({"reason", "acknowledged_by"}),
    "link": frozenset({"label"}),
    "report": frozenset({"note"}),
    # a GPS file's name often carries a person's name ("Robin walk.gpx")
    "track": frozenset({"file_name"}),
    # a rendezvous point's words or place can name a home ("outside number 12")
    "rendezvous": frozenset({"place", "point", "words"}),
    # an enquiry task's place can be a person's home (a friend's, a relative's address)
    "task": frozenset({"title", "note", "result_note", "place", "address", "postcode",
                       "street", "route"}),
}

#: entities whose values are never recorded at all (field names only)
NAMES_ONLY_ENTITIES: frozenset[str] = frozenset({"user"})


@dataclass(frozen=True, slots=True)
class Change:
    """One changed entity, as the audit trail records it."""

    case_id: int | None
    entity: str
    entity_id: int | None
    action: str
    changes: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    reason: str | None = None


def append_records(
    conn: sa.Connection, actor: Actor, at: datetime, entries: Sequence[Change]
) -> None:
    """Append one audit record per entry (one ``audit_log`` row, maybe an ``audit_detail``)."""
    if not entries:
        return
    rows: list[dict[str, Any]] = []
    details: list[dict[str, Any] | None] = []
    for entry in entries:
        personal_names = PERSONAL_FIELDS.get(entry.entity, frozenset())
        public: dict[str, Any] = {}
        personal: dict[str, Any] = {}
        if entry.entity not in NAMES_ONLY_ENTITIES:
            for name, (before, after) in entry.changes.items():
                pair = [_jsonable(before), _jsonable(after)]
                (personal if name in personal_names else public)[name] = pair
        rows.append(
            {
                "at": at,
                "actor_id": actor.user_id,
                "actor_name": actor.display_name,
                "actor_role": actor.role,
                "case_id": entry.case_id,
                "entity": entry.entity,
                "entity_id": entry.entity_id,
                "action": entry.action,
                "fields": sorted(entry.changes),
                "changes": public,
            }
        )
        details.append(
            {"case_id": entry.case_id, "reason": entry.reason or None,
             "personal": personal or None}
            if personal or entry.reason
            else None
        )
    if len(rows) == 1:
        ids = [conn.execute(t.audit_log.insert().returning(t.audit_log.c.id), rows[0]).scalar_one()]
    else:
        ids = list(
            conn.execute(
                t.audit_log.insert().returning(t.audit_log.c.id, sort_by_parameter_order=True),
                rows,
            ).scalars()
        )
    detail_rows = [
        {"audit_id": audit_id, **detail}
        for audit_id, detail in zip(ids, details, strict=True)
        if detail is not None
    ]
    if detail_rows:
        conn.execute(t.audit_detail.insert(), detail_rows)


def from_json(value: Any) -> Any:
    """A JSON column's value (SQLite hands JSON back as text, PostgreSQL as objects)."""
    if isinstance(value, str):
        return json.loads(value)
    return value


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value
