"""Who may do what: actors, roles and the one role -> permission map.

Every store call takes an :class:`Actor`. The store checks it in two steps, in
one place (``Store._authorize``):

1. the actor's role must hold the permission (:data:`ROLE_PERMISSIONS`), and
2. for anything about a case, the actor must hold that role *on that case*
   (a ``case_member`` row; later also a team or a private link), so a
   coordinator of case A can do nothing to case B.

Later roles (team lead, family, partner unit) are listed already with no
permissions: they gain them by editing this map, not by adding checks in pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Role = Literal["system", "coordinator", "team_lead", "family", "partner"]

ROLES: Final[tuple[str, ...]] = ("system", "coordinator", "team_lead", "family", "partner")

#: Roles a user account (username + password) can hold. Team leads, families
#: and partner units will act through private links (a later migration).
ACCOUNT_ROLES: Final[tuple[str, ...]] = ("coordinator",)

#: Permissions. "case.*" and "sighting.*", "audit.read" are checked against a case.
CASE_CREATE = "case.create"
CASE_READ = "case.read"
CASE_UPDATE = "case.update"
CASE_MEMBERS = "case.members"
SIGHTING_READ = "sighting.read"
SIGHTING_WRITE = "sighting.write"
AUDIT_READ = "audit.read"
USER_ADMIN = "user.admin"
# sectors, hazard areas, teams and handovers (checked against a case)
SECTOR_READ = "sector.read"  # every sector of the case, every field
SECTOR_READ_SHARED = "sector.read_shared"  # only sectors shared with the family, no notes
SECTOR_WRITE = "sector.write"  # create, import, edit, assign, change status, delete
SECTOR_PROGRESS = "sector.progress"  # start and finish searching a sector
HAZARD_READ = "hazard.read"
HAZARD_WRITE = "hazard.write"
TEAM_READ = "team.read"
TEAM_WRITE = "team.write"
TEAM_CONTACTS = "team.contacts"  # see teams' contact details
HANDOVER_READ = "handover.read"
HANDOVER_WRITE = "handover.write"
HANDOVER_ACK = "handover.ack"  # acknowledge a handover on the receiving unit's behalf

ROLE_PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    # the command line run by whoever operates the server: accounts only
    "system": frozenset({USER_ADMIN, CASE_MEMBERS}),
    "coordinator": frozenset(
        {
            CASE_CREATE,
            CASE_READ,
            CASE_UPDATE,
            CASE_MEMBERS,
            SIGHTING_READ,
            SIGHTING_WRITE,
            AUDIT_READ,
            SECTOR_READ,
            SECTOR_READ_SHARED,
            SECTOR_WRITE,
            SECTOR_PROGRESS,
            HAZARD_READ,
            HAZARD_WRITE,
            TEAM_READ,
            TEAM_WRITE,
            TEAM_CONTACTS,
            HANDOVER_READ,
            HANDOVER_WRITE,
            HANDOVER_ACK,
        }
    ),
    # filled in by the private-links work; until then they may do nothing
    "team_lead": frozenset(),
    "family": frozenset(),
    "partner": frozenset(),
}

#: Permissions the system actor holds on every case without membership.
SYSTEM_CASE_PERMISSIONS: Final[frozenset[str]] = frozenset({CASE_MEMBERS})


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
