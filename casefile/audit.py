"""The audit log: what every write appends, and the coordinators' reader of it.

Mixed into :class:`casefile.Store`. Every write of the store appends one record
per changed entity in the same transaction as the change (:meth:`AuditMixin._audit`,
:meth:`AuditMixin._audit_many`). The append-only ``audit_log`` gets who, when,
what and the names of the fields changed, with before/after values only for
fields that are not personal (:data:`PERSONAL_FIELDS`); the personal values and
the reason go to ``audit_detail``, keyed by case, so a purge can remove them
while the record of who did what stays. Accounts' values are never recorded at
all (:data:`NAMES_ONLY_ENTITIES`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casefile import permissions as perm
from casefile import schema as t
from casefile.permissions import Actor
from casefile.records import AuditRecord
from casefile.versioned import store_module as _s

#: fields whose values never enter the append-only audit log (purgeable side table only)
PERSONAL_FIELDS: dict[str, frozenset[str]] = {
    "case": frozenset({"child_name", "age", "home", "description", "notes"}),
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
}
#: entities whose values are never recorded at all (field names only)
NAMES_ONLY_ENTITIES: frozenset[str] = frozenset({"user"})


class AuditMixin:
    """Audit writing and reading of :class:`casefile.Store` (see the module docstring)."""

    # provided by Store
    _reading: Any
    _authorize: Any

    def _audit(
        self,
        conn: sa.Connection,
        actor: Actor,
        at: datetime,
        *,
        case_id: int | None,
        entity: str,
        entity_id: int | None,
        action: str,
        changes: Mapping[str, tuple[Any, Any]],
        reason: str | None = None,
    ) -> None:
        self._audit_many(
            conn, actor, at, [(case_id, entity, entity_id, action, changes)], reason=reason
        )

    def _audit_many(
        self,
        conn: sa.Connection,
        actor: Actor,
        at: datetime,
        entries: Sequence[tuple[int | None, str, int | None, str, Mapping[str, tuple[Any, Any]]]],
        *,
        reason: str | None = None,
    ) -> None:
        """Append audit records: (case_id, entity, entity_id, action, {field: (before, after)}).

        Field names go to the append-only ``audit_log`` with the before/after of
        non-personal fields; personal before/after and the reason go to
        ``audit_detail`` (keyed by case, so a purge can remove them).
        """
        rows: list[dict[str, Any]] = []
        details: list[dict[str, Any] | None] = []
        for case_id, entity, entity_id, action, changes in entries:
            personal_names = PERSONAL_FIELDS.get(entity, frozenset())
            public: dict[str, Any] = {}
            personal: dict[str, Any] = {}
            if entity not in NAMES_ONLY_ENTITIES:
                for name, (before, after) in changes.items():
                    pair = [_jsonable(before), _jsonable(after)]
                    (personal if name in personal_names else public)[name] = pair
            rows.append(
                {
                    "at": at,
                    "actor_id": actor.user_id,
                    "actor_name": actor.display_name,
                    "actor_role": actor.role,
                    "case_id": case_id,
                    "entity": entity,
                    "entity_id": entity_id,
                    "action": action,
                    "fields": sorted(changes),
                    "changes": public,
                }
            )
            details.append(
                {"case_id": case_id, "reason": reason or None, "personal": personal or None}
                if personal or reason
                else None
            )
        if len(rows) == 1:
            ids = [conn.execute(t.audit_log.insert(), rows[0]).inserted_primary_key[0]]
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

    def audit_log(
        self,
        actor: Actor,
        case_id: int,
        *,
        entity: str | None = None,
        entity_id: int | None = None,
        person_id: int | None = None,
        limit: int = 500,
        before_id: int | None = None,
    ) -> list[AuditRecord]:
        """The case's audit records, newest first (coordinators of the case only).

        Filter by ``entity`` ("case", "sighting", "member"…), ``entity_id`` and
        ``person_id`` (the acting user's id); page with ``before_id``.
        """
        _s()._check_actor_shape(actor, perm.AUDIT_READ)
        limit = max(1, min(int(limit), 5000))
        with self._reading() as conn:
            self._authorize(conn, actor, perm.AUDIT_READ, case_id)
            q = (
                sa.select(t.audit_log, t.audit_detail.c.reason, t.audit_detail.c.personal)
                .select_from(
                    t.audit_log.outerjoin(
                        t.audit_detail, t.audit_detail.c.audit_id == t.audit_log.c.id
                    )
                )
                .where(t.audit_log.c.case_id == case_id)
            )
            if entity is not None:
                q = q.where(t.audit_log.c.entity == entity)
            if entity_id is not None:
                q = q.where(t.audit_log.c.entity_id == entity_id)
            if person_id is not None:
                q = q.where(t.audit_log.c.actor_id == person_id)
            if before_id is not None:
                q = q.where(t.audit_log.c.id < before_id)
            rows = conn.execute(q.order_by(t.audit_log.c.id.desc()).limit(limit)).all()
        return [
            AuditRecord(
                id=r.id,
                at=r.at,
                actor_id=r.actor_id,
                actor_name=r.actor_name,
                actor_role=r.actor_role,
                case_id=r.case_id,
                entity=r.entity,
                entity_id=r.entity_id,
                action=r.action,
                fields=tuple(_json(r.fields) or ()),
                changes=_json(r.changes) or {},
                reason=r.reason,
                personal=_json(r.personal),
            )
            for r in rows
        ]


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return list(value)
    return value


def _json(value: Any) -> Any:
    if isinstance(value, str):
        return json.loads(value)
    return value
