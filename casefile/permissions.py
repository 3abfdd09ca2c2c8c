"""Who may do what: actors, and the role -> permission map read from :mod:`vocab.roles`.

Every store call takes an :class:`Actor`. The store checks it in two steps, in
one place (``Store._authorize``):

1. the actor's role must hold the permission (:func:`role_allows`, from the role
   registry :data:`vocab.roles.ROLE_REGISTRY`), and
2. for anything about a case, the actor must hold that role *on that case*
   (a ``case_member`` row; later also a team or a private link), so a
   coordinator of case A can do nothing to case B.

Team leads, families and partner units act through private links
(:mod:`casefile.links`): each link is a principal of its own (a ``users`` row
that cannot sign in, with an expiry) holding its role on one case only, so the
same two steps apply to them; link-aware methods then narrow a team lead to its
team and a partner to its unit (the scopes in :mod:`vocab.roles`).

The permission names, :data:`ROLES`, :data:`LINK_ROLES`, :data:`ACCOUNT_ROLES`
and :data:`SYSTEM_CASE_PERMISSIONS` are re-exported from the registry for the
modules that import them from here.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Final, Literal

from vocab import roles as _roles
from vocab.roles import (
    AUDIT_READ,
    BRIEFING_PRINT,
    CASE_BRIEF,
    CASE_CREATE,
    CASE_MEMBERS,
    CASE_PURGE,
    CASE_READ,
    CASE_UPDATE,
    FAMILY_REPORT,
    FAMILY_VIEW,
    HANDOVER_ACK,
    HANDOVER_READ,
    HANDOVER_REPORT,
    HANDOVER_WRITE,
    HAZARD_READ,
    HAZARD_WRITE,
    LINK_MANAGE,
    LINK_POLL,
    PARTNER_VIEW,
    POA_READ,
    POA_WRITE,
    RENDEZVOUS_READ,
    RENDEZVOUS_WRITE,
    SECTOR_PROGRESS,
    SECTOR_READ,
    SECTOR_READ_SHARED,
    SECTOR_WRITE,
    SIGHTING_READ,
    SIGHTING_READ_SHARED,
    SIGHTING_WRITE,
    STREETS_LOAD,
    STREETS_READ,
    TASK_PROGRESS,
    TASK_READ,
    TASK_READ_TEAM,
    TASK_WRITE,
    TEAM_CONTACTS,
    TEAM_READ,
    TEAM_SECTORS,
    TEAM_WRITE,
    TRACK_READ,
    TRACK_UPLOAD,
    TRIAGE,
    USER_ADMIN,
)

__all__ = [
    "ACCOUNT_ROLES", "AUDIT_READ", "BRIEFING_PRINT", "CASE_BRIEF", "CASE_CREATE", "CASE_MEMBERS",
    "CASE_PURGE",
    "CASE_READ", "CASE_UPDATE", "FAMILY_REPORT", "FAMILY_VIEW", "HANDOVER_ACK", "HANDOVER_READ",
    "HANDOVER_REPORT",
    "HANDOVER_WRITE", "HAZARD_READ", "HAZARD_WRITE", "LINK_MANAGE", "LINK_POLL", "LINK_ROLES",
    "PARTNER_VIEW", "POA_READ", "POA_WRITE", "RENDEZVOUS_READ", "RENDEZVOUS_WRITE",
    "ROLES", "ROLE_PERMISSIONS", "SECTOR_PROGRESS",
    "SECTOR_READ", "SECTOR_READ_SHARED", "SECTOR_WRITE", "SIGHTING_READ", "SIGHTING_READ_SHARED",
    "SIGHTING_WRITE", "STREETS_LOAD", "STREETS_READ", "SYSTEM_CASE_PERMISSIONS",
    "TASK_PROGRESS", "TASK_READ", "TASK_READ_TEAM", "TASK_WRITE",
    "TEAM_CONTACTS", "TEAM_READ", "TEAM_SECTORS",
    "TEAM_WRITE", "TRACK_READ", "TRACK_UPLOAD", "TRIAGE", "USER_ADMIN", "Actor", "Role",
    "no_access_message", "role_allows",
]

Role = Literal["system", "coordinator", "team_lead", "family", "partner"]

#: every role name (as registered when the store was imported)
ROLES: Final[tuple[str, ...]] = _roles.names()
#: roles a user account (username + password) can hold
ACCOUNT_ROLES: Final[tuple[str, ...]] = _roles.account_roles()
#: roles that act through a private link (never a password)
LINK_ROLES: Final[tuple[str, ...]] = _roles.link_roles()
#: permissions the system actor holds on every case without membership
SYSTEM_CASE_PERMISSIONS: Final[frozenset[str]] = _roles.system_case_permissions()


class _RolePermissions(Mapping[str, frozenset[str]]):
    """Role -> permissions, read from the registry at each look-up (read-only: the
    one place to change what a role may do is :data:`vocab.roles.ROLE_REGISTRY`)."""

    def __getitem__(self, role: str) -> frozenset[str]:
        if role not in _roles.ROLE_REGISTRY:
            raise KeyError(role)
        return _roles.permissions_of(role)

    def __iter__(self) -> Iterator[str]:
        return iter(_roles.ROLE_REGISTRY)

    def __len__(self) -> int:
        return len(_roles.ROLE_REGISTRY)


#: role -> the permissions it holds (derived from :data:`vocab.roles.ROLE_REGISTRY`)
ROLE_PERMISSIONS: Final[Mapping[str, frozenset[str]]] = _RolePermissions()


def no_access_message(role: str) -> str:
    """What a switched-off, expired or unknown principal is told."""
    if role in _roles.link_roles():
        return "This link no longer works. Ask the coordinator who sent it for a new one."
    return "This account does not exist or is switched off."


def role_allows(role: str, permission: str) -> bool:
    """Does ``role`` hold ``permission`` at all (before any per-case check)?"""
    return permission in ROLE_PERMISSIONS.get(role, frozenset())


@dataclass(frozen=True, slots=True)
class Actor:
    """Who is acting: a signed-in user (id, name, role) or the command line.

    Pages build it from the login (``Store.authenticate`` returns one); the
    store re-checks the id, role and case membership against its own tables on
    every call, so a forged role gains nothing.
    """

    user_id: int | None
    display_name: str
    role: Role

    @classmethod
    def system(cls, what: str = "wayhome command line") -> Actor:
        """The operator running the ``wayhome`` command on the server."""
        return cls(user_id=None, display_name=what, role="system")
