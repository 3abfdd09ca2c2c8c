"""Search teams of a case: who they are, how many, and how to reach them (coordinators only).

Contact details and the lead's name are personal: their values never enter the
append-only audit log (only the purgeable ``audit_detail``), and readers
without the ``team.contacts`` permission get ``contact=None``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from casefile import fieldwork as fw
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.database import Database
from casefile.errors import InvalidInput
from casefile.fieldwork import Team
from casefile.permissions import Actor
from casefile.unit_of_work import UnitOfWork, writes

TEAM_FIELDS: tuple[str, ...] = ("name", "org_type", "lead_name", "size", "contact")


@writes
def create_team(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    name: str,
    org_type: str,
    lead_name: str = "",
    size: int | None = None,
    contact: str = "",
    idempotency_key: str | None = None,
) -> Team:
    """A new team on the case. ``org_type``: met_bcu, city_of_london_police,
    other_force, volunteer_group or family. Team names are unique in a case."""
    unit = UnitOfWork(db, actor, perm.TEAM_WRITE)
    clean = clean_team(
        {
            "name": name,
            "org_type": org_type,
            "lead_name": lead_name,
            "size": size,
            "contact": contact,
        }
    )
    key = v.idempotency_key(idempotency_key)
    with unit as uow:
        uow.enter_case(case_id)
        existing = uow.replay(key, "team")
        if existing is not None:
            return team_record(fw.require_row(uow.conn, t.teams, existing, "team"), True)
        unique_name(uow.conn, case_id, clean["name"])
        team_id = uow.insert(
            t.teams, clean, entity="team", key=key,
            changes={k: (None, clean[k]) for k in TEAM_FIELDS},
        )
        return team_record(fw.require_row(uow.conn, t.teams, team_id, "team"), True)


@writes
def update_team(
    db: Database, /,
    actor: Actor,
    team_id: int,
    *,
    version: int,
    reason: str | None = None,
    **changes: Any,
) -> Team:
    """Change fields of a team saved at ``version``.

    Fields: name, org_type, lead_name, size, contact.
    """
    unit = UnitOfWork(db, actor, perm.TEAM_WRITE)
    unknown = set(changes) - set(TEAM_FIELDS)
    if unknown:
        raise InvalidInput(f"Teams have no field(s) {', '.join(sorted(unknown))}.")
    clean = clean_team(changes)
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
    with unit as uow:
        row = uow.open(t.teams, team_id, what="team", version=version)
        diff = {k: (getattr(row, k), x) for k, x in clean.items() if getattr(row, k) != x}
        if not diff:
            return team_record(row, True)
        if "name" in diff:
            unique_name(uow.conn, row.case_id, clean["name"], other_than=team_id)
        uow.save(
            t.teams, row, {k: after for k, (_, after) in diff.items()},
            entity="team", action="update", changes=diff, what="team", reason=reason,
        )
        return team_record(fw.require_row(uow.conn, t.teams, team_id, "team"), True)


def get_team(db: Database, /, actor: Actor, team_id: int) -> Team:
    """One team; ``contact`` is None unless the actor may see contact details."""
    with UnitOfWork(db, actor, perm.TEAM_READ, mode="read") as uow:
        row = fw.require_row(uow.conn, t.teams, team_id, "team")
        uow.enter_case(row.case_id)
        return team_record(row, uow.allows(perm.TEAM_CONTACTS))


def teams(db: Database, /, actor: Actor, case_id: int) -> list[Team]:
    """The case's teams by name; ``contact`` is None unless the actor may see contacts."""
    with UnitOfWork(db, actor, perm.TEAM_READ, case_id=case_id, mode="read") as uow:
        rows = uow.conn.execute(
            sa.select(t.teams).where(t.teams.c.case_id == case_id).order_by(t.teams.c.name)
        ).all()
        contacts = uow.allows(perm.TEAM_CONTACTS)
    return [team_record(r, contacts) for r in rows]


def unique_name(conn: sa.Connection, case_id: int, name: str, other_than: int | None = None
                ) -> None:
    """Refuse a second team of one case with the same name."""
    q = sa.select(t.teams.c.id).where(t.teams.c.case_id == case_id, t.teams.c.name == name)
    if other_than is not None:
        q = q.where(t.teams.c.id != other_than)
    if conn.execute(q).first() is not None:
        raise InvalidInput(f"This case already has a team called {name!r}.")


def clean_team(raw: Mapping[str, Any]) -> dict[str, Any]:
    """Checked team fields (see :data:`TEAM_FIELDS`); raises :class:`InvalidInput`."""
    checks: dict[str, Callable[[Any], Any]] = {
        "name": lambda x: v.text("name", x, fw.MAX_LEN["team_name"], required=True),
        "org_type": lambda x: v.choice("org_type", x, fw.TEAM_ORG_TYPES),
        "lead_name": lambda x: v.text("lead_name", x, fw.MAX_LEN["lead_name"]),
        "size": lambda x: v.integer("size", x, 1, 500, required=False),
        "contact": lambda x: v.text("contact", x, fw.MAX_LEN["contact"]),
    }
    return {k: checks[k](x) for k, x in raw.items()}


def team_record(row: Any, contacts: bool) -> Team:
    """A :class:`Team` from its row; ``contacts``: may the reader see contact details."""
    return Team(
        id=row.id,
        case_id=row.case_id,
        name=row.name,
        org_type=row.org_type,
        lead_name=row.lead_name,
        size=row.size,
        contact=row.contact if contacts else None,
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by_name=row.updated_by_name,
        version=row.version,
    )
