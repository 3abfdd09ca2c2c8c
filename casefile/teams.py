"""Search teams of a case: who they are, how many, and how to reach them (coordinators only).

Mixed into :class:`casefile.Store`. Contact details and the lead's name are
personal: their values never enter the append-only audit log (only the
purgeable ``audit_detail``), and readers without the ``team.contacts``
permission get ``contact=None``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import sqlalchemy as sa

from casefile import fieldwork as fw
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile import versioned as vr
from casefile.errors import InvalidInput
from casefile.fieldwork import Team
from casefile.permissions import Actor
from casefile.timefmt import utcnow
from casefile.versioned import retrying as _retrying
from casefile.versioned import store_module as _s

TEAM_FIELDS: tuple[str, ...] = ("name", "org_type", "lead_name", "size", "contact")


class TeamsMixin:
    """Team operations of :class:`casefile.Store`."""

    _writing: Any
    _reading: Any
    _authorize: Any
    _audit: Any
    _replay: Any
    _remember: Any
    _idempotent: Any
    _bump: Any

    @_retrying
    def create_team(
        self,
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
        s = _s()
        s._check_actor_shape(actor, perm.TEAM_WRITE)
        clean = _clean_team(
            {
                "name": name,
                "org_type": org_type,
                "lead_name": lead_name,
                "size": size,
                "contact": contact,
            }
        )
        key = v.idempotency_key(idempotency_key)
        now = utcnow()
        with self._idempotent(), self._writing() as conn:
            s._require_case(conn, case_id)
            self._authorize(conn, actor, perm.TEAM_WRITE, case_id)
            existing = self._replay(conn, key, "team", actor)
            if existing is not None:
                return _team(fw.require_row(conn, t.teams, existing, "team"), True)
            _unique_name(conn, case_id, clean["name"])
            team_id = vr.record_new(
                self, conn, actor, now, table=t.teams, case_id=case_id, values=clean,
                entity="team", key=key, changes={k: (None, clean[k]) for k in TEAM_FIELDS},
            )
            return _team(fw.require_row(conn, t.teams, team_id, "team"), True)

    def update_team(
        self,
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
        _s()._check_actor_shape(actor, perm.TEAM_WRITE)
        unknown = set(changes) - set(TEAM_FIELDS)
        if unknown:
            raise InvalidInput(f"Teams have no field(s) {', '.join(sorted(unknown))}.")
        clean = _clean_team(changes)
        reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
        now = utcnow()
        with self._writing() as conn:
            row = vr.open_row(self, conn, actor, t.teams, team_id, what="team",
                              permission=perm.TEAM_WRITE, version=version)
            diff = {k: (getattr(row, k), x) for k, x in clean.items() if getattr(row, k) != x}
            if not diff:
                return _team(row, True)
            if "name" in diff:
                _unique_name(conn, row.case_id, clean["name"], other_than=team_id)
            vr.save_row(
                self, conn, actor, now, table=t.teams, row=row,
                values={k: after for k, (_, after) in diff.items()},
                entity="team", action="update", changes=diff, what="team", reason=reason,
            )
            return _team(fw.require_row(conn, t.teams, team_id, "team"), True)

    def get_team(self, actor: Actor, team_id: int) -> Team:
        """One team; ``contact`` is None unless the actor may see contact details."""
        s = _s()
        s._check_actor_shape(actor, perm.TEAM_READ)
        with self._reading() as conn:
            row = fw.require_row(conn, t.teams, team_id, "team")
            self._authorize(conn, actor, perm.TEAM_READ, row.case_id)
            return _team(row, perm.role_allows(actor.role, perm.TEAM_CONTACTS))

    def teams(self, actor: Actor, case_id: int) -> list[Team]:
        """The case's teams by name; ``contact`` is None unless the actor may see contacts."""
        s = _s()
        s._check_actor_shape(actor, perm.TEAM_READ)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.TEAM_READ, case_id)
            s._require_case(conn, case_id)
            rows = conn.execute(
                sa.select(t.teams).where(t.teams.c.case_id == case_id).order_by(t.teams.c.name)
            ).all()
        contacts = perm.role_allows(actor.role, perm.TEAM_CONTACTS)
        return [_team(r, contacts) for r in rows]


def _unique_name(conn: sa.Connection, case_id: int, name: str, other_than: int | None = None
                 ) -> None:
    q = sa.select(t.teams.c.id).where(t.teams.c.case_id == case_id, t.teams.c.name == name)
    if other_than is not None:
        q = q.where(t.teams.c.id != other_than)
    if conn.execute(q).first() is not None:
        raise InvalidInput(f"This case already has a team called {name!r}.")


def _clean_team(raw: Mapping[str, Any]) -> dict[str, Any]:
    checks: dict[str, Callable[[Any], Any]] = {
        "name": lambda x: v.text("name", x, fw.MAX_LEN["team_name"], required=True),
        "org_type": lambda x: v.choice("org_type", x, fw.TEAM_ORG_TYPES),
        "lead_name": lambda x: v.text("lead_name", x, fw.MAX_LEN["lead_name"]),
        "size": lambda x: v.integer("size", x, 1, 500, required=False),
        "contact": lambda x: v.text("contact", x, fw.MAX_LEN["contact"]),
    }
    return {k: checks[k](x) for k, x in raw.items()}


def _team(row: Any, contacts: bool) -> Team:
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
