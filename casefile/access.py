"""Who may touch what: the role rules the unit of work consults.

The rules are one table, :data:`vocab.roles.ROLE_REGISTRY` (a role's
permissions and the scope of each); this module applies it.

Two questions, asked in this order by :class:`~casefile.unit_of_work.UnitOfWork`:

1. **May this role do this at all, and on how much of a case?** The role's
   permissions and, for each, its *scope* (``vocab.roles.ROLE_REGISTRY``, read live):

   ``case``        anything of a case the actor is a member of (coordinators);
   ``own_team``    only the records of the private link's own team (team leads);
   ``own_unit``    only what is addressed to the link's own partner unit;
   ``shared``      only what the coordinator shares with that role (the read
                   functions filter by the case's sharing settings);
   ``own_reports`` only reports the link made itself (families);
   ``any``         the command-line operator: no case membership needed.

2. **Is this actor on this case, with that role?** (:func:`authorize`): the
   account is active and unexpired, holds the role it claims, and has a
   ``case_member`` row for the case (private links are members of one case).

Row-level scopes (``own_team``, ``own_unit``) are checked on every row a unit of
work opens for a write (:func:`check_row`), so no operation has to remember to,
and no rule rests on the order in which code happens to run.
"""

from __future__ import annotations

from typing import Any, Final

import sqlalchemy as sa

from casefile import permissions as perm
from casefile import schema as t
from casefile.errors import LinkGone, NotFound, PermissionDenied
from casefile.permissions import Actor
from casefile.timefmt import utcnow
from vocab import roles

#: the scopes :func:`check_row` enforces on a row, by the column that decides them
ROW_SCOPES: Final[dict[str, str]] = {"own_team": "team_id", "own_unit": "to_code"}


def scope_of(role: str, permission: str) -> str | None:
    """The scope ``role`` holds ``permission`` with, or None when it does not hold it."""
    return roles.scope_of(role, permission)


def check_actor_shape(actor: Any, permission: str | None) -> None:
    """No actor, a malformed one, or a role without the permission: refuse before any I/O."""
    if actor is None:
        raise PermissionDenied("No one is signed in: every change needs an actor.")
    if not isinstance(actor, Actor):
        raise PermissionDenied("The actor must be a casefile.Actor.")
    if actor.role not in roles.ROLE_REGISTRY:
        raise PermissionDenied(f"Unknown role {actor.role!r}.")
    if actor.role == "system":
        if actor.user_id is not None:
            raise PermissionDenied("The command-line actor has no user id.")
    elif not isinstance(actor.user_id, int) or isinstance(actor.user_id, bool):
        raise PermissionDenied("The actor has no user id.")
    if permission is not None and scope_of(actor.role, permission) is None:
        raise PermissionDenied(f"A {actor.role.replace('_', ' ')} may not do this ({permission}).")


def require_case(conn: sa.Connection, case_id: Any, *, lock: bool = False) -> Any:
    """The case row, or :class:`NotFound`."""
    if isinstance(case_id, bool) or not isinstance(case_id, int):
        raise NotFound("No case was chosen.")
    q = sa.select(t.cases).where(t.cases.c.id == case_id)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise NotFound("This case does not exist.")
    return row


def authorize(
    conn: sa.Connection, actor: Actor, permission: str, case_id: int | None = None
) -> None:
    """The one membership check: the actor's account, then its role on the case."""
    check_actor_shape(actor, permission)
    if actor.role == "system":
        if case_id is not None and permission not in roles.system_case_permissions():
            raise PermissionDenied("The command line cannot do that on a case.")
        return
    query = (
        sa.select(t.users.c.active, t.users.c.role, t.case_member.c.role, t.users.c.expires_at)
        .select_from(
            t.users.outerjoin(
                t.case_member,
                sa.and_(
                    t.case_member.c.user_id == t.users.c.id,
                    t.case_member.c.case_id == (case_id if case_id is not None else -1),
                ),
            )
        )
        .where(t.users.c.id == actor.user_id)
    )
    row = conn.execute(query).first()
    if row is None or not row[0] or (row[3] is not None and row[3] <= utcnow()):
        raise PermissionDenied(perm.no_access_message(actor.role))
    if row[1] != actor.role:
        raise PermissionDenied(f"This account is not a {actor.role.replace('_', ' ')}.")
    if case_id is not None and row[2] != actor.role:
        require_case(conn, case_id)
        raise PermissionDenied(
            f"{actor.display_name} is not on this case as a {actor.role.replace('_', ' ')}. "
            "Ask a coordinator of the case to add you."
        )


def link_row(conn: sa.Connection, actor: Actor) -> Any:
    """The working private link behind a link actor (raises :class:`LinkGone`)."""
    row = conn.execute(
        sa.select(t.access_links, t.users.c.display_name, t.users.c.active)
        .join(t.users, t.users.c.id == t.access_links.c.user_id)
        .where(t.access_links.c.user_id == actor.user_id)
    ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or (
        not row.active
    ) or row.role != actor.role:
        raise LinkGone()
    return row


def check_row(scope: str, link: Any, table: sa.Table, row: Any, what: str) -> None:
    """Refuse a row outside the actor's scope (``own_team``: its team; ``own_unit``: its unit)."""
    if scope not in ROW_SCOPES:
        return
    if link is None or row.case_id != link.case_id:
        raise PermissionDenied(f"This {what} belongs to another case.")
    if scope == "own_team":
        if link.team_id is None or getattr(row, "team_id", None) != link.team_id:
            name = f"Sector {row.code}" if table is t.sectors else f"This {what}"
            raise PermissionDenied(
                f"{name} is not your team's: only its own team can record it."
            )
    elif scope == "own_unit" and (
        link.unit_code is None or getattr(row, "to_code", None) != link.unit_code
    ):
        raise PermissionDenied(f"Only the unit a {what} is addressed to can acknowledge it.")
