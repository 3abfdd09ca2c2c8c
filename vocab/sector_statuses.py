"""Every sector status in one registry: its words, its look on the map, what it means.

A sector moves through statuses (draft -> ready -> assigned -> in progress ->
searched, with suspended and needs re-search on the side). Each entry says:

* ``label`` — the words a coordinator reads;
* the map style (``colour``, outline ``dash``, ``weight``, ``fill_opacity`` and
  ``pattern``, the non-colour cue in words) — colours from the Okabe–Ito
  colour-blind-safe palette, plus a neutral grey for drafts;
* ``progress`` — what it counts as in summaries and overlap warnings:
  ``"planned"``, ``"in_progress"`` or ``"searched"``;
* ``family`` — which group of the family's map it falls in (``"planned"``,
  ``"in_progress"``, ``"searched"``, split into today / before today by
  :func:`family_group`), or None when a family does not see it;
* ``moves_to`` — the statuses it may change to (anything else is refused).

Adding a status is one entry in :data:`STATUSES` plus an Alembic migration that
widens the ``sectors.status`` CHECK constraint. Everything else (store checks,
map style and legend, family map, summaries) reads this registry.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

Progress = Literal["planned", "in_progress", "searched"]

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DASH = re.compile(r"^[0-9 ]*$")


@dataclass(frozen=True, slots=True)
class SectorStatus:
    """One sector status: words, map style (CSS pixels, 0-1 opacity), meaning, moves."""

    name: str
    label: str
    colour: str  # #rrggbb
    dash: str  # SVG dash pattern of the outline, "" = solid
    weight: float  # outline width, CSS pixels
    fill_opacity: float  # 0-1
    pattern: str  # the non-colour cue in words (legend)
    progress: Progress
    family: Progress | None
    moves_to: frozenset[str]

    def __post_init__(self) -> None:
        # these strings reach SVG attributes and Leaflet options: keep them inert
        if not _COLOUR.match(self.colour):
            raise ValueError(f"colour must be #rrggbb, not {self.colour!r}")
        if not _DASH.match(self.dash):
            raise ValueError(f"dash must be numbers and spaces, not {self.dash!r}")


#: status name -> entry, in the order a coordinator's lists show them
STATUSES: Final[dict[str, SectorStatus]] = {
    s.name: s
    for s in (
        SectorStatus("draft", "draft", "#7a7a7a", "2 5", 2, 0.04,
                     "dotted outline, almost no fill", "planned", None,
                     frozenset({"ready", "assigned"})),
        SectorStatus("ready", "ready", "#56b4e9", "10 5", 2.5, 0.10,
                     "long dashes, light fill", "planned", "planned",
                     frozenset({"draft", "assigned", "suspended"})),
        SectorStatus("assigned", "assigned", "#0072b2", "", 2.5, 0.18,
                     "solid outline", "planned", "planned",
                     frozenset({"assigned", "ready", "in_progress", "suspended"})),
        SectorStatus("in_progress", "in progress", "#e69f00", "", 4, 0.30,
                     "heavy solid outline, medium fill", "in_progress", "in_progress",
                     frozenset({"searched", "suspended"})),
        SectorStatus("searched", "searched", "#009e73", "", 2, 0.45,
                     "thin outline, strong fill", "searched", "searched",
                     frozenset({"needs_re_search"})),
        SectorStatus("suspended", "suspended", "#000000", "3 3", 2.5, 0.08,
                     "short black dashes", "planned", None,
                     frozenset({"ready", "assigned", "in_progress"})),
        SectorStatus("needs_re_search", "needs re-search", "#cc79a7", "12 4 3 4", 3.5, 0.25,
                     "dash-dot outline", "searched", "planned",
                     frozenset({"ready", "assigned"})),
    )
}


def names() -> tuple[str, ...]:
    """Every status name, in registry order (read now: a test may add one)."""
    return tuple(STATUSES)


def get(name: str) -> SectorStatus | None:
    """The entry for ``name``, or None for a status this version does not know."""
    return STATUSES.get(str(name))


def label(name: str) -> str:
    """The words for ``name`` (the name itself when unknown)."""
    entry = STATUSES.get(str(name))
    return entry.label if entry is not None else str(name)


def transitions() -> dict[str, frozenset[str]]:
    """Status -> statuses it may move to."""
    return {s.name: s.moves_to for s in STATUSES.values()}


def with_progress(progress: Progress) -> frozenset[str]:
    """Statuses that count as ``progress`` ("planned", "in_progress" or "searched")."""
    return frozenset(s.name for s in STATUSES.values() if s.progress == progress)


def family_statuses() -> tuple[str, ...]:
    """Statuses a family sees (the others — drafts, paused ground — are not shown)."""
    return tuple(s.name for s in STATUSES.values() if s.family is not None)


# ---------------------------------------------------------------------- the family's map


@dataclass(frozen=True, slots=True)
class FamilyGroup:
    """One group of the family's map: plain words, legend words and look (0-1 opacity)."""

    key: str
    label: str  # what a family reads on an area ("Searched today")
    legend: str  # what the family map's key says
    colour: str  # #rrggbb, Okabe–Ito
    dash: str  # outline dash pattern, "" = solid
    fill_opacity: float


#: family group key -> entry, in the order the family page shows them
FAMILY_GROUPS: Final[dict[str, FamilyGroup]] = {
    g.key: g
    for g in (
        FamilyGroup("searched_today", "Searched today", "Searched today",
                    "#009E73", "", 0.45),  # bluish green, solid
        FamilyGroup("in_progress", "Being searched now", "Being searched now (dashes)",
                    "#E69F00", "8 4", 0.40),  # orange, dashed
        FamilyGroup("planned", "Planned", "Planned (faint dots)",
                    "#999999", "2 6", 0.15),  # grey, dotted, faint
        FamilyGroup("searched_earlier", "Searched before today", "Searched before today",
                    "#56B4E9", "", 0.30),  # sky blue, solid
    )
}


def family_group(status: str, *, searched_today: bool) -> str | None:
    """The family-map group of a sector in ``status`` (None: the family does not see it).

    Searched ground is split by the London day it was searched on:
    ``searched_today`` says whether that is today.
    """
    entry = STATUSES.get(str(status))
    if entry is None or entry.family is None:
        return None
    if entry.family == "searched":
        return "searched_today" if searched_today else "searched_earlier"
    return entry.family
