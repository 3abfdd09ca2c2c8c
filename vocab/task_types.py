"""Every enquiry-task type and task status in one registry each.

A task is a place or a street a team goes to: house-to-house on one side of a
street, CCTV collected from a shop or a bus route for a time window, a visit to an
address investigators were given (a friend's, a relative's, a previous placement),
a hospital, station or other place check. Each type says:

* ``label`` — the words a coordinator reads;
* ``place`` — what locates it: ``"point"`` (premises, an address, a station),
  ``"street"`` (a street and its side) or ``"either"`` (a shop or a bus route);
* ``repeats`` — which rule finds a repeat of it (:mod:`geo.task_places`):
  ``"premises"`` (same address or within a few metres), ``"camera"`` (same camera
  location or bus route *and* an overlapping time window), ``"street"`` (same
  street and side);
* ``window`` — whether a time window matters (CCTV);
* ``personal`` — the place is a person's address: its point, address and postcode
  are personal data (shown to coordinators and the assigned team only, never in the
  audit values, purged with the case, never on family or partner views).

Adding a type or a status is one entry here plus an Alembic migration that widens
the ``tasks.kind`` / ``tasks.status`` CHECK constraint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

PlaceKind = Literal["point", "street", "either"]
RepeatRule = Literal["premises", "camera", "street"]


@dataclass(frozen=True, slots=True)
class TaskType:
    """One enquiry-task type: words, what locates it, its repeat rule, window, privacy."""

    name: str
    label: str
    place: PlaceKind
    repeats: RepeatRule
    window: bool = False
    personal: bool = False


TASK_TYPES: Final[dict[str, TaskType]] = {
    k.name: k
    for k in (
        TaskType("house_to_house", "House-to-house", "street", "street"),
        TaskType("cctv", "CCTV collection", "either", "camera", window=True),
        TaskType("visit_friend", "Visit: friend's address", "point", "premises", personal=True),
        TaskType("visit_relative", "Visit: relative's address", "point", "premises",
                 personal=True),
        TaskType("visit_placement", "Visit: previous placement", "point", "premises",
                 personal=True),
        TaskType("visit_other", "Visit: other address", "point", "premises", personal=True),
        TaskType("hospital_check", "Hospital check", "point", "premises"),
        TaskType("station_check", "Station check", "point", "premises"),
        TaskType("place_check", "Place check (shop, park, leisure centre…)", "point",
                 "premises"),
    )
}


@dataclass(frozen=True, slots=True)
class TaskStatus:
    """One task status: words, whether the task is finished, where it may move."""

    name: str
    label: str
    finished: bool
    moves_to: frozenset[str]


#: planned -> assigned -> done / no trace / not possible (a finished task may reopen)
TASK_STATUSES: Final[dict[str, TaskStatus]] = {
    s.name: s
    for s in (
        TaskStatus("planned", "planned", False,
                   frozenset({"assigned", "done", "no_trace", "not_possible"})),
        TaskStatus("assigned", "assigned", False,
                   frozenset({"planned", "done", "no_trace", "not_possible"})),
        TaskStatus("done", "done", True, frozenset({"assigned"})),
        TaskStatus("no_trace", "no trace", True, frozenset({"assigned"})),
        TaskStatus("not_possible", "not possible", True, frozenset({"assigned"})),
    )
}

#: which side of a street a house-to-house covers ("both" repeats either side)
STREET_SIDES: Final[dict[str, str]] = {
    "both": "both sides", "odd": "odd numbers", "even": "even numbers",
}

#: what a coordinator may do when a new task repeats others: keep it anyway (with a
#: reason), merge it into the one already there, or cancel (simply not save)
REPEAT_CHOICES: Final[tuple[str, ...]] = ("keep", "merge")


def names() -> tuple[str, ...]:
    """Every task type name, in registry order."""
    return tuple(TASK_TYPES)


def status_names() -> tuple[str, ...]:
    """Every task status name, in registry order."""
    return tuple(TASK_STATUSES)


def label(name: str) -> str:
    """The words for a task type (the name itself when unknown)."""
    entry = TASK_TYPES.get(str(name))
    return entry.label if entry is not None else str(name)


def status_label(name: str) -> str:
    """The words for a task status (the name itself when unknown)."""
    entry = TASK_STATUSES.get(str(name))
    return entry.label if entry is not None else str(name)


def finished_statuses() -> frozenset[str]:
    """Statuses of a task that has been carried out (done, no trace, not possible)."""
    return frozenset(s.name for s in TASK_STATUSES.values() if s.finished)


def personal_types() -> frozenset[str]:
    """Task types whose place is a person's address (personal data)."""
    return frozenset(k.name for k in TASK_TYPES.values() if k.personal)


#: The task a likely place (``geo.likely_places``, by its kind) becomes with one click:
#: a station or bus station is a station check, anything else a place check.
PLACE_TASK_KINDS: Final[dict[str, str]] = {"station": "station_check",
                                           "bus_station": "station_check"}


def task_kind_for_place(place_kind: str) -> str:
    """The task type that checks a likely place of kind ``place_kind``."""
    return PLACE_TASK_KINDS.get(place_kind, "place_check")
