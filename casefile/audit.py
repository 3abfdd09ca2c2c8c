"""The audit log as coordinators read it (the writing half is :mod:`casefile.audit_records`).

Every write of the store appends its records through the unit of work, at
commit, in the same transaction as the change; this module only reads them.
"""

from __future__ import annotations

import sqlalchemy as sa

from casefile import permissions as perm
from casefile import schema as t
from casefile.audit_records import NAMES_ONLY_ENTITIES, PERSONAL_FIELDS, from_json
from casefile.database import Database
from casefile.permissions import Actor
from casefile.records import AuditRecord
from casefile.unit_of_work import UnitOfWork

__all__ = ["NAMES_ONLY_ENTITIES", "PERSONAL_FIELDS", "audit_log"]


def audit_log(
    db: Database, /,
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
    unit = UnitOfWork(db, actor, perm.AUDIT_READ, mode="read")
    limit = max(1, min(int(limit), 5000))
    with unit as uow:
        uow.enter_case(case_id)
        conn = uow.conn
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
            fields=tuple(from_json(r.fields) or ()),
            changes=from_json(r.changes) or {},
            reason=r.reason,
            personal=from_json(r.personal),
        )
        for r in rows
    ]
