"""Where an enquiry task is, as keys that find a repeat fast, and the repeat rules.

A task's place is a point (premises, an address) or a line (a street, a bus
route) in lon/lat; here it becomes British National Grid (EPSG:27700) metres and
three keys a database index can look up:

* the **premises key** — postcode (no spaces) + the normalised address
  ("Flat 3, 12 Union St." and "flat 3 12 union street" agree);
* the **street key** — the normalised street name (house-to-house) or ``route:<n>``
  for a bus route (CCTV);
* the **cell** — a :data:`CELL_M` square of the grid holding the point, so "within
  a few metres" is a look-up of the 3 × 3 cells around it, not a scan.

:func:`find_repeats` then decides among the few candidates those keys return
(vectorised shapely distances, no loop over pairs of geometries):

* ``premises`` (visits, checks): same premises key, or within :data:`SAME_PLACE_M`
  unless both carry different addresses (two flats under one postcode point);
* ``camera`` (CCTV): same camera place (as above) or the same bus route, *and*
  time windows that overlap (a task without a window overlaps every window);
* ``street`` (house-to-house): same street name, sides that meet (``both`` meets
  either), and lines within :data:`SAME_STREET_M` (London has many High Streets).

The distances are planning assumptions, not published figures: a postcode
centroid or a click is good to a few metres; the same-name street rule only has
to tell one High Street from another.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Final

import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

#: side of the grid cells the place index keys on, m (planning assumption)
CELL_M: Final[float] = 20.0
#: two points this close are the same premises, m (planning assumption)
SAME_PLACE_M: Final[float] = 15.0
#: two same-named streets this close are the same street, m (planning assumption)
SAME_STREET_M: Final[float] = 300.0

_ABBREVIATIONS: Final[dict[str, str]] = {
    "st": "street", "rd": "road", "ave": "avenue", "av": "avenue", "ln": "lane",
    "pl": "place", "sq": "square", "cres": "crescent", "cl": "close", "ct": "court",
    "dr": "drive", "gdns": "gardens", "gro": "grove", "ter": "terrace", "terr": "terrace",
    "hse": "house", "ho": "house", "blk": "block", "apt": "flat", "apartment": "flat",
    "est": "estate", "pk": "park", "stn": "station", "hosp": "hospital",
}
_EARLIEST: Final[datetime] = datetime.min.replace(tzinfo=UTC)
_LATEST: Final[datetime] = datetime.max.replace(tzinfo=UTC)
_NOT_WORD = re.compile(r"[^0-9a-z]+")
_POSTCODE_IN_TEXT = re.compile(r"\b[a-z]{1,2}[0-9][a-z0-9]?\s*[0-9][a-z]{2}\b")


def _words(text: str) -> list[str]:
    lowered = _POSTCODE_IN_TEXT.sub(" ", (text or "").casefold())
    return [w for w in _NOT_WORD.split(lowered) if w]


def normalise_address(text: str) -> str:
    """An address as a key: lower case, no punctuation or postcode, common words spelt
    out ("St" -> "street", "Apt" -> "flat"). Empty for an empty address."""
    return " ".join(_ABBREVIATIONS.get(w, w) for w in _words(text))


def normalise_street(text: str) -> str:
    """A street name as a key ("Union St." -> "union street"); "St" only becomes
    "street" at the end ("St Thomas St" -> "st thomas street")."""
    words = _words(text)
    out = [_ABBREVIATIONS.get(w, w) if (w != "st" or i == len(words) - 1) else w
           for i, w in enumerate(words)]
    return " ".join(out)


def normalise_postcode_key(postcode: str) -> str:
    """A postcode as a key: capitals, no spaces ("se1 9dt" -> "SE19DT")."""
    return re.sub(r"\s+", "", (postcode or "")).upper()


def premises_key(postcode: str, address: str) -> str | None:
    """``POSTCODE|normalised address``, or None when there is no address to match on."""
    addr = normalise_address(address)
    if not addr:
        return None
    return f"{normalise_postcode_key(postcode)}|{addr}"[:300]


def street_key(street: str = "", route: str = "") -> str | None:
    """The street key: ``route:<n>`` for a bus route, else the normalised street name."""
    r = "".join(_words(route))
    if r:
        return f"route:{r}"[:220]
    s = normalise_street(street)
    return s[:220] or None


def cell_of(x: float, y: float) -> int:
    """The :data:`CELL_M` cell holding a BNG point, as one integer (column-major)."""
    return int(np.floor(x / CELL_M)) * 1_000_000 + int(np.floor(y / CELL_M))


def cells_around(x: float, y: float) -> list[int]:
    """The 3 × 3 cells around a BNG point: every point within :data:`CELL_M` of it lies
    in one of them (and :data:`SAME_PLACE_M` < :data:`CELL_M`)."""
    cx, cy = int(np.floor(x / CELL_M)), int(np.floor(y / CELL_M))
    return [(cx + dx) * 1_000_000 + (cy + dy) for dx in (-1, 0, 1) for dy in (-1, 0, 1)]


def anchor(geom: BaseGeometry) -> tuple[float, float]:
    """The point a task is keyed and tagged on (any CRS): the point itself, or a line's
    midpoint along its length."""
    if geom.geom_type == "Point":
        xy = shapely.get_coordinates(geom)[0]
    else:
        mid = shapely.line_interpolate_point(np.array([geom], dtype=object), 0.5,
                                             normalized=True)
        xy = shapely.get_coordinates(mid)[0]
    return float(xy[0]), float(xy[1])


def sides_meet(a: str | None, b: str | None) -> bool:
    """Do two house-to-house sides share doors ("both" meets "odd" and "even")?"""
    a, b = a or "both", b or "both"
    return a == b or "both" in (a, b)


@dataclass(frozen=True, slots=True)
class TaskPlace:
    """What the repeat rules compare of one task (BNG metres, UTC windows)."""

    rule: str  # "premises", "camera" or "street"
    geom: BaseGeometry | None
    premises: str | None = None
    street: str | None = None
    side: str | None = None
    has_address: bool = False
    start: datetime | None = None
    end: datetime | None = None


def windows_overlap(a_start: datetime | None, a_end: datetime | None,
                    b_start: datetime | None, b_end: datetime | None) -> bool:
    """Do two time windows share a moment? An open end (None) reaches for ever; a task
    with no window at all overlaps every window (it may cover any time)."""
    if (a_start is None and a_end is None) or (b_start is None and b_end is None):
        return True
    lo_a, hi_a = a_start or _EARLIEST, a_end or _LATEST
    lo_b, hi_b = b_start or _EARLIEST, b_end or _LATEST
    return lo_a < hi_b and lo_b < hi_a


def find_repeats(new: TaskPlace, candidates: Sequence[TaskPlace]) -> list[int]:
    """Positions of ``candidates`` that repeat ``new`` under its rule (module docstring).

    Candidates of another rule never repeat it. Distances are one vectorised shapely
    call over the candidates (BNG metres).
    """
    if not candidates:
        return []
    n = len(candidates)
    same_rule = np.array([c.rule == new.rule for c in candidates])
    geoms = np.array([c.geom for c in candidates], dtype=object)
    dist = np.full(n, np.inf)
    has_geom = np.array([g is not None for g in geoms])
    if new.geom is not None and has_geom.any():
        dist[has_geom] = shapely.distance(new.geom, geoms[has_geom])
    if new.rule == "street":
        same_street = np.array([new.street is not None and c.street == new.street
                                for c in candidates])
        sides = np.array([sides_meet(new.side, c.side) for c in candidates])
        hit = same_rule & same_street & sides & (dist <= SAME_STREET_M)
    else:
        same_premises = np.array([new.premises is not None and c.premises == new.premises
                                  for c in candidates])
        both_addressed_apart = np.array(
            [new.has_address and c.has_address and not same for c, same
             in zip(candidates, same_premises, strict=True)])
        near = (dist <= SAME_PLACE_M) & ~both_addressed_apart
        place = same_premises | near
        if new.rule == "camera":
            same_route = np.array([new.street is not None and c.street == new.street
                                   for c in candidates])
            windows = np.array([windows_overlap(new.start, new.end, c.start, c.end)
                                for c in candidates])
            hit = same_rule & (place | same_route) & windows
        else:
            hit = same_rule & place
    return [int(i) for i in np.flatnonzero(hit)]
