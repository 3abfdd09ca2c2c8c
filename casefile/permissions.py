"""Who may do what: actors, roles and the one role -> permission map.

Every store call takes an :class:`Actor`. The store checks it in two steps, in
one place (``Store._authorize``):

1. the actor's role must hold the permission (:data:`ROLE_PERMISSIONS`), and
2. for anything about a case, the actor must hold that role *on that case*
   (a ``case_member`` row; later also a team or a private link), so a
   coordinator of case A can do nothing to case B.

Team leads, families and partner units act through private links
(:mod:`casefile.links`): each link is a principal of its own (a ``users`` row
that cannot sign in, with an expiry) holding its role on one case only, so the
same two steps apply to them; link-aware methods then narrow a team lead to its
team and a partner to its unit.
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
# private links (casefile.links, casefile.tips, casefile.purge)
LINK_MANAGE = "link.manage"  # issue, list and revoke a case's private links
LINK_POLL = "link.poll"  # the link's own case change counter (live views)
CASE_BRIEF = "case.brief"  # reference and status; for searchers also the child's description
TEAM_SECTORS = "sector.read_team"  # the link's own team's sectors, with hazard areas
SIGHTING_READ_SHARED = "sighting.read_shared"  # sightings as far as the coordinator shares
FAMILY_VIEW = "family.view"  # searched / being searched / planned ground shared with family
FAMILY_REPORT = "family.report"  # send a tip; record "we searched here"
TRIAGE = "triage"  # read and close the queue of tips and family searches
PARTNER_VIEW = "partner.view"  # handovers and sectors of the link's own unit
CASE_PURGE = "case.purge"  # remove every personal value of a closed case
# GPS tracks, passes and probability of area (casefile.tracks, casefile.probability)
TRACK_READ = "track.read"  # every track and pass of the case, coverage and POD
TRACK_UPLOAD = "track.upload"  # upload a GPS track (team leads: for their own team only)
POA_READ = "poa.read"  # probability of area, its history and the ranked sectors
POA_WRITE = "poa.write"  # set up or reset POA, change a pass's sweep width

ROLE_PERMISSIONS: Final[dict[str, frozenset[str]]] = {
    # the command line run by whoever operates the server: accounts only
    "system": frozenset({USER_ADMIN, CASE_MEMBERS, LINK_MANAGE, CASE_PURGE}),
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
            LINK_MANAGE,
            TRIAGE,
            CASE_BRIEF,
            FAMILY_VIEW,
            TRACK_READ,
            TRACK_UPLOAD,
            POA_READ,
            POA_WRITE,
        }
    ),
    # Private-link roles. Their reads are narrowed to the link's team or unit by the
    # link-aware methods (casefile.links): a team lead gets no case-wide sector,
    # sighting or team reads, a family reads only the family view, a partner unit
    # reads only what concerns its own unit.
    "team_lead": frozenset(
        {
            LINK_POLL,
            CASE_BRIEF,
            TEAM_SECTORS,
            SECTOR_PROGRESS,
            HAZARD_READ,
            SIGHTING_READ_SHARED,
            TRACK_UPLOAD,  # narrowed to the link's own team by casefile.tracks
        }
    ),
    "family": frozenset({LINK_POLL, CASE_BRIEF, FAMILY_VIEW, FAMILY_REPORT}),
    "partner": frozenset({LINK_POLL, CASE_BRIEF, PARTNER_VIEW, HANDOVER_ACK}),
}

#: roles that act through a private link (never a password)
LINK_ROLES: Final[tuple[str, ...]] = ("team_lead", "family", "partner")

#: Permissions the system actor holds on every case without membership.
SYSTEM_CASE_PERMISSIONS: Final[frozenset[str]] = frozenset(
    {CASE_MEMBERS, LINK_MANAGE, CASE_PURGE}
)


def no_access_message(role: str) -> str:
    """What a switched-off, expired or unknown principal is told."""
    if role in LINK_ROLES:
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
