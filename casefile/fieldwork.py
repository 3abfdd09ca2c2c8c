"""Search sectors, teams, hazard areas and handovers: records, vocabularies, shared plumbing.

The operations live in :mod:`casefile.sectors`, :mod:`casefile.hazards`,
:mod:`casefile.teams` and :mod:`casefile.handovers`; this module holds what they
share: the frozen records they hand back, the allowed values and the sector
status table, and helpers that clean outlines (through :mod:`geo.shapes`), tag
them with boroughs, BCUs and forces (through :mod:`geo.jurisdiction`).

Outlines come and go in lon/lat (EPSG:4326); areas and distances are m² / m in
British National Grid (EPSG:27700).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from casefile.errors import InvalidInput, NotFound, StoreError
from casefile.timefmt import format_london
from geo.boundaries import load_layer
from geo.crs import BNG
from geo.errors import InputError
from geo.jurisdiction import Jurisdictions
from geo.shapes import clean_shapes
from vocab import sector_statuses
from vocab.boundary_layers import UNIT_LAYERS
from vocab.limits import MAX_BULK, MAX_LEN
from vocab.search import (
    ASSURANCE_LEVELS,
    HAZARD_KINDS,
    NOT_SEARCHED_REASONS,
    PRIVATE_SEARCH_TYPES,
    SEARCH_TYPES,
    SECTOR_ORIGINS,
    TEAM_ORG_TYPES,
    VOLUNTEER_ORIGIN,
)

__all__ = [
    "ASSURANCE_LEVELS", "DEFAULT_PRIORITY", "HAZARD_KINDS", "MAX_BULK", "MAX_LEN",
    "NOT_SEARCHED_REASONS", "OVERLAP_CHECKED_STATUSES", "OVERLAP_CHOICES", "PRIORITY_RANGE",
    "PRIVATE_SEARCH_TYPES", "SEARCH_TYPES", "SECTOR_ORIGINS", "SECTOR_STATUSES",
    "SECTOR_TRANSITIONS", "STATUS_LABELS", "TEAM_ORG_TYPES", "UNIT_LAYERS", "VOLUNTEER_ORIGIN",
    "Handover", "Hazard", "NewSector", "Overlap", "OverlapWarning", "Sector", "Team", "Unit",
    "UnitSector", "box_values", "clean_outlines", "flag", "jurisdiction_rows",
    "outline_text", "require_row", "wkb_column",
]

# ------------------------------------------------------------------ vocabularies
# The vocabularies live in the bottom floor (``vocab``); these names stay here for
# the modules and pages that import them from the store.

SECTOR_STATUSES: tuple[str, ...] = sector_statuses.names()
#: status -> statuses it may move to (anything else is refused with a message)
SECTOR_TRANSITIONS: dict[str, frozenset[str]] = sector_statuses.transitions()
#: words a coordinator sees for each status
STATUS_LABELS: dict[str, str] = {s.name: s.label for s in sector_statuses.STATUSES.values()}
#: statuses a new, imported or re-assigned sector is checked against for overlaps:
#: all of them — planned (draft, ready), assigned, in progress, searched, paused and
#: due again. Planned sectors drawn over each other are how agencies end up in the
#: same streets.
OVERLAP_CHECKED_STATUSES: frozenset[str] = frozenset(SECTOR_STATUSES)
PRIORITY_RANGE: tuple[int, int] = (1, 5)  # 1 = search first
DEFAULT_PRIORITY = 3
OVERLAP_CHOICES: tuple[str, ...] = ("keep", "clip")


# ------------------------------------------------------------------ records


@dataclass(frozen=True, slots=True)
class Sector:
    """A search sector. ``geometry``/``not_searched`` are lon/lat (Multi)Polygons.

    ``jurisdiction`` maps "borough", "bcu", "force" to lists of
    ``{"code", "name", "share"}`` (shares of the sector's area, summing to 1 per
    layer; ``"outside"`` for ground in no unit).
    """

    id: int
    case_id: int
    code: str
    name: str
    origin: str
    priority: int
    notes: str
    share_with_family: bool
    status: str
    status_changed_at: datetime
    team_id: int | None
    assigned_at: datetime | None
    started_at: datetime | None
    searched_at: datetime | None
    searched_by_team_id: int | None
    search_type: str | None
    assurance: str | None
    not_searched: BaseGeometry | None
    not_searched_reason: str
    re_search: bool
    re_search_reason: str
    overlap_kept_reason: str
    geometry: BaseGeometry
    area_m2: float
    bounds: tuple[float, float, float, float]
    borough_code: str | None
    bcu_code: str | None
    force_code: str | None
    straddles_bcu: bool
    straddles_force: bool
    jurisdiction: dict[str, list[dict[str, Any]]]
    created_at: datetime
    updated_at: datetime
    updated_by_name: str
    version: int

    @property
    def straddles(self) -> bool:
        """Lies in more than one BCU or more than one force (beyond a small tolerance)."""
        return self.straddles_bcu or self.straddles_force

    @property
    def status_label(self) -> str:
        return sector_statuses.label(self.status)

    def share_in(self, code: str) -> float:
        """Share (0-1) of the sector's area in the borough, BCU or force ``code``."""
        for rows in self.jurisdiction.values():
            for row in rows:
                if row.get("code") == code:
                    return float(row.get("share", 0.0))
        return 0.0


@dataclass(frozen=True, slots=True)
class NewSector:
    """One sector to create (see ``Store.create_sectors``). ``geometry`` is lon/lat.

    ``geometry`` may be a shapely (Multi)Polygon or a GeoJSON geometry (dict or
    text) as the map's draw tool returns it. ``share_with_family=None`` means the
    default: on, except for property and specialist searches. A
    ``re_search_reason`` marks a deliberate re-search: its overlaps are expected.
    """

    geometry: Any
    name: str = ""
    origin: str = "drawn"
    priority: int = DEFAULT_PRIORITY
    notes: str = ""
    share_with_family: bool | None = None
    search_type: str | None = None
    re_search_reason: str = ""
    idempotency_key: str | None = None


@dataclass(frozen=True, slots=True)
class Overlap:
    """An existing sector (or another item of the same import) a candidate overlaps.

    ``overlap_m2`` is m² (EPSG:27700); ``share`` the fraction (0-1) of the
    *candidate's* area. ``at`` is the time that matters for the status: searched,
    started, assigned, else created. ``sector_id``/``code`` are None for another
    item of the same import (``batch_index`` is then its position).
    """

    sector_id: int | None
    code: str | None
    name: str
    status: str
    team_id: int | None
    team_name: str | None
    at: datetime | None
    overlap_m2: float
    share: float
    batch_index: int | None = None
    #: ground a family reported that no coordinator has accepted yet (not checked)
    unchecked: bool = False

    def describe(self) -> str:
        who = f" by {self.team_name}" if self.team_name else ""
        label = self.code
        if label is None:
            label = f"item {(self.batch_index or 0) + 1} of this import"
        if self.unchecked:
            who += ", family-reported, unchecked"

        when = f" at {format_london(self.at)}" if self.at is not None else ""
        return (
            f"{label} ({sector_statuses.label(self.status)}{who}{when}): "
            f"{self.overlap_m2:,.0f} m², {self.share:.0%} of the new sector"
        )


class OverlapWarning(StoreError):
    """The sector overlaps other sectors of the case; nothing was saved.

    ``overlaps`` lists them for a single sector; ``by_item`` maps each item of a
    bulk create (its position) to its overlaps. Save again with
    ``on_overlap="keep"`` and a reason, or ``on_overlap="clip"``, or cancel.
    """

    def __init__(self, by_item: Mapping[int, Sequence[Overlap]], total: int = 1) -> None:
        self.by_item: dict[int, tuple[Overlap, ...]] = {
            k: tuple(v) for k, v in by_item.items() if v
        }
        first = next(iter(self.by_item.values()), ())
        self.overlaps: tuple[Overlap, ...] = first if total == 1 else tuple(
            o for v in self.by_item.values() for o in v
        )
        if total == 1:
            lines = "; ".join(o.describe() for o in first[:5])
            more = f"; and {len(first) - 5} more" if len(first) > 5 else ""
            msg = f"This sector overlaps {len(first)} other sector(s): {lines}{more}."
        else:
            msg = f"{len(self.by_item)} of the {total} new sectors overlap other sectors."
        super().__init__(
            msg + " Keep it anyway (give a reason), clip it to the ground not yet covered, "
            "or cancel."
        )


@dataclass(frozen=True, slots=True)
class Team:
    """A search team. ``contact`` is None when the reader may not see contact details."""

    id: int
    case_id: int
    name: str
    org_type: str
    lead_name: str
    size: int | None
    contact: str | None
    created_at: datetime
    updated_at: datetime
    updated_by_name: str
    version: int


@dataclass(frozen=True, slots=True)
class Hazard:
    """A hazard or no-go area (lon/lat outline) every team is shown."""

    id: int
    case_id: int
    kind: str
    note: str
    geometry: BaseGeometry
    area_m2: float
    created_at: datetime
    updated_at: datetime
    updated_by_name: str
    version: int


@dataclass(frozen=True, slots=True)
class Unit:
    """A Met BCU or a police force, as named in the boundary layers."""

    layer: str
    code: str
    name: str


@dataclass(frozen=True, slots=True)
class Handover:
    """Sectors handed from one unit to another, and the receiving unit's acknowledgement."""

    id: int
    case_id: int
    from_unit: Unit
    to_unit: Unit
    reason: str
    sector_ids: tuple[int, ...]
    sector_codes: tuple[str, ...]
    created_at: datetime
    created_by_name: str
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    acknowledged_recorded_by: str | None
    updated_at: datetime
    updated_by_name: str
    version: int

    @property
    def acknowledged(self) -> bool:
        return self.acknowledged_at is not None


@dataclass(frozen=True, slots=True)
class UnitSector:
    """A sector in or near a unit's area (the handover view).

    ``inside``: touches the unit's area itself; ``distance_m``: metres from the
    unit's area (0 when inside); ``share_in_unit``: share (0-1) of the sector's
    area inside the unit.
    """

    sector: Sector
    inside: bool
    distance_m: float
    share_in_unit: float


# ------------------------------------------------------------------ outlines


def clean_outlines(
    geoms: Sequence[Any], labels: Sequence[str], *, what: str = "sector"
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Lon/lat outlines (shapely or GeoJSON) -> (lon/lat, BNG, notes) via :mod:`geo.shapes`.

    Raises :class:`InvalidInput` with geo's message (empty, not an area, outside
    the UK, too big, crossing edges that cannot be repaired).
    """
    shapes: list[Any] = []
    for geom, label in zip(geoms, labels, strict=True):
        if isinstance(geom, dict | str):
            try:
                text = geom if isinstance(geom, str) else json.dumps(geom)
                geom = shapely.from_geojson(text)
            except (shapely.errors.GEOSException, TypeError, ValueError):
                raise InvalidInput(f"{label}: the outline could not be read as a shape.") from None
        elif geom is not None and not isinstance(geom, BaseGeometry):
            raise InvalidInput(f"{label}: the outline must be a shape (lon/lat) or GeoJSON.")
        shapes.append(geom)
    try:
        return clean_shapes(np.array(shapes, dtype=object), list(labels), what=what)
    except InputError as exc:
        raise InvalidInput(str(exc)) from None


def box_values(lonlat: BaseGeometry, bng: BaseGeometry) -> dict[str, float]:
    """The bounding-box (degrees) and area (m², BNG) columns of an outline."""
    minx, miny, maxx, maxy = shapely.bounds(lonlat)
    return {
        "minx": float(minx),
        "miny": float(miny),
        "maxx": float(maxx),
        "maxy": float(maxy),
        "area_m2": float(shapely.area(bng)),
    }


@cache
def _unit_names(layer: str) -> dict[str, str]:
    gdf = load_layer(layer)
    return dict(zip(gdf["code"].astype(str), gdf["name"].astype(str), strict=True))


def _name_of(layer: str, code: str) -> str:
    if code == "outside":
        return "outside"
    return _unit_names(layer).get(code, code)


def jurisdiction_rows(bng: np.ndarray) -> list[dict[str, Any]]:
    """Column values for each BNG outline: main borough/BCU/force, shares, straddle flags.

    Uses :class:`geo.jurisdiction.Jurisdictions` (the real boundary layers,
    prepared once per process).
    """
    if len(bng) == 0:
        return []
    tags = Jurisdictions().tags(gpd.GeoSeries(np.asarray(bng, dtype=object), crs=BNG))
    out: list[dict[str, Any]] = []
    for row in tags.itertuples(index=False):
        shares: dict[str, list[dict[str, Any]]] = {}
        for layer in ("borough", "bcu", "force"):
            got = getattr(row, f"{layer}_shares", None) or {}
            shares[layer] = [
                {"code": code, "name": _name_of(layer, code), "share": round(float(s), 6)}
                for code, s in sorted(got.items(), key=lambda kv: -kv[1])
            ]

        def main(layer: str, row: Any = row) -> str | None:
            code = getattr(row, layer, None)
            return None if code in (None, "outside") else str(code)

        out.append(
            {
                "borough_code": main("borough"),
                "bcu_code": main("bcu"),
                "force_code": main("force"),
                "straddles_bcu": bool(row.straddles_bcu),
                "straddles_force": bool(row.straddles_force),
                "jurisdiction": shares,
            }
        )
    return out


def outline_text(geom: BaseGeometry) -> str:
    """An outline for the audit history (WKT, lon/lat to 6 decimals ≈ 0.1 m)."""
    return shapely.to_wkt(geom, rounding_precision=6)


def wkb_column(col: sa.ColumnElement, backend: str) -> sa.ColumnElement:
    """A geometry column as raw WKB bytes (for vectorised decoding of many rows)."""
    if backend == "postgis":
        return sa.func.ST_AsBinary(sa.type_coerce(col, sa.LargeBinary)).label(col.name)
    return sa.type_coerce(col, sa.LargeBinary).label(col.name)


# ------------------------------------------------------------------ row plumbing


def require_row(
    conn: sa.Connection, table: sa.Table, row_id: Any, what: str, *, lock: bool = False
) -> Any:
    """The row ``row_id`` of ``table`` or :class:`NotFound` naming ``what``."""
    if isinstance(row_id, bool) or not isinstance(row_id, int):
        raise NotFound(f"No {what} was chosen.")
    q = sa.select(table).where(table.c.id == row_id)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise NotFound(f"This {what} does not exist (it may have been deleted).")
    return row


def flag(field: str, value: Any) -> bool:
    """A yes/no switch."""
    if not isinstance(value, bool):
        raise InvalidInput(f"{field.replace('_', ' ').capitalize()} must be yes or no.")
    return value
