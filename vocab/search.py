"""The search vocabularies: search types, assurance, hazards, teams, origins, sightings, cases.

Each stored vocabulary column (``sectors.search_type``, ``hazards.kind``,
``sightings.source``, …) takes exactly the names listed here; the database holds
it to them with a CHECK constraint (``casefile/schema.py``). Adding a value is an
entry here plus an Alembic migration that widens that constraint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# ---------------------------------------------------------------------- search types


@dataclass(frozen=True, slots=True)
class SearchType:
    """How a sector was searched; ``private`` ones (homes, scenes) are not shown to the
    family unless the coordinator shares them."""

    name: str
    private: bool = False


SEARCH_TYPE_REGISTRY: Final[dict[str, SearchType]] = {
    s.name: s
    for s in (
        SearchType("hasty"),
        SearchType("thorough"),
        SearchType("specialist", private=True),
        SearchType("property", private=True),
    )
}
SEARCH_TYPES: Final[tuple[str, ...]] = tuple(SEARCH_TYPE_REGISTRY)
#: search types whose sectors are not shared with the family unless asked (homes, scenes)
PRIVATE_SEARCH_TYPES: Final[frozenset[str]] = frozenset(
    s.name for s in SEARCH_TYPE_REGISTRY.values() if s.private
)

#: how sure a team is that nothing was missed (mapped to a POD by data/search_science)
ASSURANCE_LEVELS: Final[tuple[str, ...]] = ("high", "medium", "low")
#: why part of a sector was not searched (or "other" with a description)
NOT_SEARCHED_REASONS: Final[tuple[str, ...]] = ("access refused", "locked", "unsafe", "other")

# ---------------------------------------------------------------------- sectors

#: how a sector came to be (a family's "we searched here" is :data:`VOLUNTEER_ORIGIN`)
SECTOR_ORIGINS: Final[tuple[str, ...]] = (
    "drawn", "grid", "ward", "neighbourhood", "imported", "proposed",
)
#: origin of ground a family or volunteer reported searching: unverified
VOLUNTEER_ORIGIN: Final[str] = "volunteer"
#: every value ``sectors.origin`` may hold
STORED_SECTOR_ORIGINS: Final[tuple[str, ...]] = (*SECTOR_ORIGINS, VOLUNTEER_ORIGIN)

# ---------------------------------------------------------------------- hazards


@dataclass(frozen=True, slots=True)
class HazardKind:
    """A kind of hazard or no-go area: the coordinator's label and the family's words."""

    name: str
    label: str
    family_words: str


HAZARD_REGISTRY: Final[dict[str, HazardKind]] = {
    h.name: h
    for h in (
        HazardKind("unsafe", "Unsafe", "Unsafe — please keep away"),
        HazardKind("do_not_search", "Do not search", "Please do not search here"),
        HazardKind("preserve_scene", "Preserve the scene", "Police area — please keep away"),
    )
}
HAZARD_KINDS: Final[tuple[str, ...]] = tuple(HAZARD_REGISTRY)
HAZARD_LABELS: Final[dict[str, str]] = {h.name: h.label for h in HAZARD_REGISTRY.values()}

# ---------------------------------------------------------------------- teams and units


@dataclass(frozen=True, slots=True)
class OrgType:
    """Who a search team belongs to."""

    name: str
    label: str


ORG_TYPE_REGISTRY: Final[dict[str, OrgType]] = {
    o.name: o
    for o in (
        OrgType("met_bcu", "Met BCU"),
        OrgType("city_of_london_police", "City of London Police"),
        OrgType("other_force", "Another force"),
        OrgType("volunteer_group", "Volunteer group"),
        OrgType("family", "Family"),
    )
}
TEAM_ORG_TYPES: Final[tuple[str, ...]] = tuple(ORG_TYPE_REGISTRY)
ORG_LABELS: Final[dict[str, str]] = {o.name: o.label for o in ORG_TYPE_REGISTRY.values()}

# ---------------------------------------------------------------------- cases and sightings

CASE_STATUSES: Final[tuple[str, ...]] = ("open", "found", "closed")
#: default risk grades, highest first (College of Policing APP continuum; forces
#: differ on the lowest label, so ``WAYHOME_RISK_GRADES`` may replace them)
DEFAULT_RISK_GRADES: Final[tuple[str, ...]] = ("high", "medium", "low", "no apparent risk")

SIGHTING_SOURCES: Final[tuple[str, ...]] = (
    "police", "family", "public", "CCTV", "school", "transport", "other",
)
SIGHTING_CONFIDENCES: Final[tuple[str, ...]] = ("high", "medium", "low")
SIGHTING_STATUSES: Final[tuple[str, ...]] = ("unverified", "verified", "dismissed")

# ---------------------------------------------------------------------- links and reports

#: which sightings a team lead's link shows: none, verified only, all but dismissed
TEAM_SIGHTINGS: Final[tuple[str, ...]] = ("none", "verified", "all")
#: what a family sends: a tip (a sighting) or ground they searched
REPORT_KINDS: Final[tuple[str, ...]] = ("tip", "search")
#: where a family's report stands in the coordinator's triage queue
REPORT_STATUSES: Final[tuple[str, ...]] = ("new", "accepted", "dismissed")
#: a pass (one search of a sector) is open while tracks may still come in
PASS_STATES: Final[tuple[str, ...]] = ("open", "closed")
#: what a pass's POD rests on: GPS tracks (effort), the team's assurance, or nothing yet
PASS_BASES: Final[tuple[str, ...]] = ("tracks", "assurance", "none")
#: how a case's probability of area was set up: distance rings or planners' consensus
POA_METHODS: Final[tuple[str, ...]] = ("rings", "consensus")
#: what a POA grid is centred on: the latest verified sighting or the planning point (IPP)
POA_ORIGIN_KINDS: Final[tuple[str, ...]] = ("sighting", "ipp")
#: what a failed attempt was counted against by the throttle
SIGN_IN_KINDS: Final[tuple[str, ...]] = ("password", "oidc", "session", "link")

# ---------------------------------------------------------------------- motion models


@dataclass(frozen=True, slots=True)
class MotionKind:
    """How a case's probability of area treats the child between searches."""

    name: str
    label: str
    means: str


MOTION_REGISTRY: Final[dict[str, MotionKind]] = {
    "stationary": MotionKind(
        "stationary", "Stationary (the child stays put)",
        "Searched ground keeps what its search ruled out; the land-search default.",
    ),
    "moving": MotionKind(
        "moving", "Moving (the child walks, rides, goes to likely places)",
        "Probability flows back into searched ground as time passes; sightings re-centre it.",
    ),
}
#: the motion model a case's POA uses (stationary unless a coordinator chooses moving)
MOTION_MODELS: Final[tuple[str, ...]] = tuple(MOTION_REGISTRY)
DEFAULT_MOTION_MODEL: Final[str] = "stationary"

#: What a line of an OpenStreetMap extract is to a search (``geo.read_streets``,
#: the ``street_lines`` table): a road, a path, a railway or water.
STREET_KINDS: Final[tuple[str, ...]] = ("road", "path", "rail", "water")
