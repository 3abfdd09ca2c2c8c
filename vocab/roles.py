"""Every role in one registry: its words, how it signs in, where it lands, what it may do.

A role's permissions are a mapping permission -> *scope*, the part of a case the
permission reaches:

* ``"case"`` — anything of a case the principal is a member of;
* ``"own_team"`` — only the records of its own team (a team lead's link);
* ``"shared"`` — only what the coordinator shares with it (a family's link);
* ``"own_reports"`` — only the reports it made itself;
* ``"own_unit"`` — only what concerns its own partner unit (a BCU or force);
* ``"any"`` — the system actor (the command line): no case membership needed.

The store checks the permission (:func:`role_allows`), then the case membership,
then narrows by the scope (:func:`scope_of`). Adding a role is one entry in
:data:`ROLE_REGISTRY` plus an Alembic migration that widens the role columns'
CHECK constraints.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final, Literal

Scope = Literal["case", "own_team", "shared", "own_reports", "own_unit", "any"]
SignIn = Literal["password", "private_link", "command_line"]

SCOPES: Final[tuple[str, ...]] = ("case", "own_team", "shared", "own_reports", "own_unit", "any")

# ---------------------------------------------------------------------- permissions
#: Permissions. "case.*" and "sighting.*", "audit.read" are checked against a case.
CASE_CREATE: Final = "case.create"
CASE_READ: Final = "case.read"
CASE_UPDATE: Final = "case.update"
CASE_MEMBERS: Final = "case.members"
SIGHTING_READ: Final = "sighting.read"
SIGHTING_WRITE: Final = "sighting.write"
AUDIT_READ: Final = "audit.read"
USER_ADMIN: Final = "user.admin"
# sectors, hazard areas, teams and handovers (checked against a case)
SECTOR_READ: Final = "sector.read"  # every sector of the case, every field
SECTOR_READ_SHARED: Final = "sector.read_shared"  # only sectors shared with the family, no notes
SECTOR_WRITE: Final = "sector.write"  # create, import, edit, assign, change status, delete
SECTOR_PROGRESS: Final = "sector.progress"  # start and finish searching a sector
HAZARD_READ: Final = "hazard.read"
HAZARD_WRITE: Final = "hazard.write"
TEAM_READ: Final = "team.read"
TEAM_WRITE: Final = "team.write"
TEAM_CONTACTS: Final = "team.contacts"  # see teams' contact details
HANDOVER_READ: Final = "handover.read"
HANDOVER_WRITE: Final = "handover.write"
HANDOVER_ACK: Final = "handover.ack"  # acknowledge a handover on the receiving unit's behalf
# private links (casefile.links, casefile.tips, casefile.purge)
LINK_MANAGE: Final = "link.manage"  # issue, list and revoke a case's private links
LINK_POLL: Final = "link.poll"  # the link's own case change counter (live views)
CASE_BRIEF: Final = "case.brief"  # reference and status; for searchers the child's description
TEAM_SECTORS: Final = "sector.read_team"  # the link's own team's sectors, with hazard areas
SIGHTING_READ_SHARED: Final = "sighting.read_shared"  # sightings as far as the coordinator shares
FAMILY_VIEW: Final = "family.view"  # searched / being searched / planned ground shared with family
FAMILY_REPORT: Final = "family.report"  # send a tip; record "we searched here"
TRIAGE: Final = "triage"  # read and close the queue of tips and family searches
PARTNER_VIEW: Final = "partner.view"  # handovers and sectors of the link's own unit
CASE_PURGE: Final = "case.purge"  # remove every personal value of a closed case
# GPS tracks, passes and probability of area (casefile.tracks, casefile.probability)
TRACK_READ: Final = "track.read"  # every track and pass of the case, coverage and POD
TRACK_UPLOAD: Final = "track.upload"  # upload a GPS track (team leads: own team only)
POA_READ: Final = "poa.read"  # probability of area, its history and the ranked sectors
POA_WRITE: Final = "poa.write"  # set up or reset POA, change a pass's sweep width
# briefing packs (casefile.briefings): print one, which issues its QR code's own link
BRIEFING_PRINT: Final = "briefing.print"  # team leads: their own team's sectors only
# streets from an OpenStreetMap extract (casefile.streets): reference data of no case
STREETS_LOAD: Final = "streets.load"  # replace the loaded streets (the command line)
STREETS_READ: Final = "streets.read"  # read the loaded streets (street maps and sectors)
# handover reports (casefile.handover_reports): make one for a BCU or force
HANDOVER_REPORT: Final = "handover.report"
# the rendezvous point (casefile.rendezvous): where the case's teams meet
RENDEZVOUS_READ: Final = "rendezvous.read"
RENDEZVOUS_WRITE: Final = "rendezvous.write"  # set, move or clear it (coordinators)
# enquiry tasks (casefile.tasks): house-to-house, CCTV, visits, checks
TASK_READ: Final = "task.read"  # every task of the case, addresses included
TASK_WRITE: Final = "task.write"  # create, edit, assign, merge, change status, delete
TASK_READ_TEAM: Final = "task.read_team"  # the link's own team's tasks (it goes there)
TASK_PROGRESS: Final = "task.progress"  # record a task done / no trace / not possible
#: permissions never checked against a case (accounts; a case that does not exist yet;
#: the streets, which belong to no case)
CASE_FREE_PERMISSIONS: Final[frozenset[str]] = frozenset({USER_ADMIN, CASE_CREATE,
                                                          STREETS_LOAD, STREETS_READ})


@dataclass(frozen=True, slots=True)
class Role:
    """One role: words, sign-in, landing page key and permission -> scope."""

    name: str
    label: str  # what people read ("Team lead")
    sign_in: SignIn
    landing_page: str | None  # the page key it opens on (None: no page, command line)
    permissions: Mapping[str, Scope]

    def __post_init__(self) -> None:
        bad = sorted(s for s in self.permissions.values() if s not in SCOPES)
        if bad:
            raise ValueError(f"role {self.name!r}: unknown scope(s) {bad}")


def _case(*perms: str) -> dict[str, Scope]:
    return dict.fromkeys(perms, "case")


#: role name -> entry
ROLE_REGISTRY: Final[dict[str, Role]] = {
    r.name: r
    for r in (
        # the command line run by whoever operates the server: accounts, links, teams, streets
        Role("system", "Command line", "command_line", None, MappingProxyType({
            USER_ADMIN: "any", CASE_MEMBERS: "any", LINK_MANAGE: "any", CASE_PURGE: "any",
            BRIEFING_PRINT: "any", HANDOVER_REPORT: "any", TEAM_WRITE: "any",
            STREETS_LOAD: "any", STREETS_READ: "any",
        })),
        Role("coordinator", "Coordinator", "password", "cases", MappingProxyType(_case(
            CASE_CREATE, CASE_READ, CASE_UPDATE, CASE_MEMBERS, SIGHTING_READ, SIGHTING_WRITE,
            AUDIT_READ, SECTOR_READ, SECTOR_READ_SHARED, SECTOR_WRITE, SECTOR_PROGRESS,
            HAZARD_READ, HAZARD_WRITE, TEAM_READ, TEAM_WRITE, TEAM_CONTACTS, HANDOVER_READ,
            HANDOVER_WRITE, HANDOVER_ACK, LINK_MANAGE, TRIAGE, CASE_BRIEF, FAMILY_VIEW,
            TRACK_READ, TRACK_UPLOAD, POA_READ, POA_WRITE, BRIEFING_PRINT, STREETS_READ,
            HANDOVER_REPORT, RENDEZVOUS_READ, RENDEZVOUS_WRITE,
            TASK_READ, TASK_WRITE, TASK_PROGRESS,
        ))),
        # Private-link roles: a team lead gets no case-wide sector, sighting or team
        # reads, a family reads only the family view, a partner unit only what
        # concerns its own unit.
        Role("team_lead", "Team lead", "private_link", "team", MappingProxyType({
            LINK_POLL: "case",
            CASE_BRIEF: "case",
            TEAM_SECTORS: "own_team",
            SECTOR_PROGRESS: "own_team",
            HAZARD_READ: "case",
            SIGHTING_READ_SHARED: "shared",
            TRACK_UPLOAD: "own_team",
            BRIEFING_PRINT: "own_team",
            RENDEZVOUS_READ: "case",
            TASK_READ_TEAM: "own_team",
            TASK_PROGRESS: "own_team",
        })),
        Role("family", "Family", "private_link", "family", MappingProxyType({
            LINK_POLL: "case",
            CASE_BRIEF: "case",
            FAMILY_VIEW: "shared",
            FAMILY_REPORT: "own_reports",
        })),
        Role("partner", "Partner unit", "private_link", "partner", MappingProxyType({
            LINK_POLL: "case",
            CASE_BRIEF: "case",
            PARTNER_VIEW: "own_unit",
            HANDOVER_ACK: "own_unit",
        })),
    )
}


def names() -> tuple[str, ...]:
    """Every role name, in registry order (read now: a test may add one)."""
    return tuple(ROLE_REGISTRY)


def link_roles() -> tuple[str, ...]:
    """Roles that act through a private link (never a password)."""
    return tuple(r.name for r in ROLE_REGISTRY.values() if r.sign_in == "private_link")


def account_roles() -> tuple[str, ...]:
    """Roles a user account (username + password) can hold."""
    return tuple(r.name for r in ROLE_REGISTRY.values() if r.sign_in == "password")


def label(role: str) -> str:
    """The words for ``role`` (the name itself when unknown)."""
    entry = ROLE_REGISTRY.get(str(role))
    return entry.label if entry is not None else str(role)


def permissions_of(role: str) -> frozenset[str]:
    """Every permission ``role`` holds (empty for an unknown role)."""
    entry = ROLE_REGISTRY.get(str(role))
    return frozenset(entry.permissions) if entry is not None else frozenset()


def role_allows(role: str, permission: str) -> bool:
    """Does ``role`` hold ``permission`` at all (before any per-case check)?"""
    entry = ROLE_REGISTRY.get(str(role))
    return entry is not None and permission in entry.permissions


def scope_of(role: str, permission: str) -> str | None:
    """How far ``permission`` reaches for ``role`` (see the module), or None if not held."""
    entry = ROLE_REGISTRY.get(str(role))
    if entry is None:
        return None
    return entry.permissions.get(permission)


def system_case_permissions() -> frozenset[str]:
    """Case permissions held on every case without membership (scope ``"any"``)."""
    return frozenset(
        p
        for r in ROLE_REGISTRY.values()
        for p, scope in r.permissions.items()
        if scope == "any" and p not in CASE_FREE_PERMISSIONS
    )
