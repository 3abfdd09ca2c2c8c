"""Sector rows: from stored rows to :class:`Sector` records, and the checks on sector fields.

Shared by the sector store methods (:mod:`casefile.sectors`), the warm overlap
index (:mod:`casefile.sector_index`), handovers, tips and links. Outlines are
lon/lat (EPSG:4326) as stored.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from casefile import fieldwork as fw
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.errors import InvalidInput, NotFound
from casefile.fieldwork import NewSector, Overlap, Sector
from geo.shapes import polygonal_part


def decode(values: Sequence[Any]) -> np.ndarray:
    """Shapely geometries from raw WKB (vectorised) or as already decoded."""
    if values and isinstance(values[0], BaseGeometry):
        return np.array(values, dtype=object)
    return shapely.from_wkb(np.array([bytes(x) for x in values], dtype=object))


def geom_of(value: Any) -> BaseGeometry:
    """A stored outline (raw WKB or already decoded) as shapely, lon/lat."""
    if isinstance(value, BaseGeometry):
        return value
    return shapely.from_wkb(bytes(value))


def polygonal(geom: BaseGeometry) -> BaseGeometry | None:
    """The areal part of ``geom`` (any CRS), or None when it has no area."""
    part = polygonal_part(np.array([geom], dtype=object))[0]
    if part is None or part.is_empty or part.area == 0:
        return None
    return part


def code_number(code: str) -> int:
    """The number of a sector's short ID ("S12" -> 12; 0 when there is none), to sort by."""
    try:
        return int(code[1:])
    except ValueError:
        return 0


def statuses(status: str | Iterable[str] | None) -> list[str] | None:
    """A status filter (one status or several) checked against the vocabulary."""
    if status is None:
        return None
    items = [status] if isinstance(status, str) else list(status)
    return [v.choice("status", x, fw.SECTOR_STATUSES) for x in items]


def audit_value(value: Any) -> Any:
    """A column value as the audit log keeps it (outlines as WKT)."""
    if isinstance(value, BaseGeometry):
        return fw.outline_text(value)
    return value


def overlap_summary(overlaps: Sequence[Overlap]) -> list[dict[str, Any]]:
    """Overlaps as the audit log keeps them (code, status, m² and share, rounded)."""
    return [
        {
            "code": o.code if o.code is not None else f"new #{(o.batch_index or 0) + 1}",
            "status": o.status,
            "overlap_m2": round(o.overlap_m2, 1),
            "share": round(o.share, 4),
        }
        for o in overlaps
    ]


def check_transition(row: Any, new: str) -> None:
    """Refuse a status change the lifecycle does not allow, naming what it allows."""
    allowed = fw.SECTOR_TRANSITIONS.get(row.status, frozenset())
    if new not in allowed:
        options = ", ".join(fw.STATUS_LABELS[x] for x in fw.SECTOR_STATUSES if x in allowed)
        raise InvalidInput(
            f"Sector {row.code} is {fw.STATUS_LABELS[row.status]}; it cannot become "
            f"{fw.STATUS_LABELS[new]}" + (f" (it can become: {options})." if options else ".")
        )


def clean_fields(raw: Mapping[str, Any]) -> dict[str, Any]:
    """The editable sector fields given, checked (name, priority, notes, sharing, origin)."""
    checks: dict[str, Callable[[Any], Any]] = {
        "name": lambda x: v.text("name", x, fw.MAX_LEN["name"]),
        "priority": lambda x: v.integer("priority", x, *fw.PRIORITY_RANGE),
        "notes": lambda x: v.text("notes", x, fw.MAX_LEN["notes"]),
        "share_with_family": lambda x: fw.flag("share_with_family", x),
        "origin": lambda x: v.choice("origin", x, fw.SECTOR_ORIGINS),
    }
    return {k: checks[k](x) for k, x in raw.items()}


def clean_new_sector(item: Any, i: int, total: int) -> dict[str, Any]:
    """The fields of item ``i`` of ``total`` new sectors, checked (not its outline)."""
    if not isinstance(item, NewSector):
        raise InvalidInput("Each sector to save must be a casefile.NewSector.")
    try:
        out = clean_fields(
            {
                "name": item.name,
                "priority": item.priority,
                "notes": item.notes,
                "origin": item.origin,
            }
        )
        search_type = item.search_type
        if search_type is not None:
            search_type = v.choice("search_type", search_type, fw.SEARCH_TYPES)
        share = item.share_with_family
        if share is None:
            share = search_type not in fw.PRIVATE_SEARCH_TYPES
        out["share_with_family"] = fw.flag("share_with_family", share)
        out["search_type"] = search_type
        out["re_search_reason"] = v.text(
            "re_search_reason", item.re_search_reason, fw.MAX_LEN["reason"]
        )
        out["key"] = v.idempotency_key(item.idempotency_key)
    except InvalidInput as exc:
        if total == 1:
            raise
        raise InvalidInput(f"Sector {i + 1}: {exc}") from None
    return out


def sector_record(row: Any) -> Sector:
    """A :class:`Sector` from its stored row."""
    juris = row.jurisdiction
    if isinstance(juris, str):
        juris = json.loads(juris)
    return Sector(
        id=row.id,
        case_id=row.case_id,
        code=row.code,
        name=row.name,
        origin=row.origin,
        priority=row.priority,
        notes=row.notes,
        share_with_family=bool(row.share_with_family),
        status=row.status,
        status_changed_at=row.status_changed_at,
        team_id=row.team_id,
        assigned_at=row.assigned_at,
        started_at=row.started_at,
        searched_at=row.searched_at,
        searched_by_team_id=row.searched_by_team_id,
        search_type=row.search_type,
        assurance=row.assurance,
        not_searched=geom_of(row.not_searched_geom) if row.not_searched_geom is not None else None,
        not_searched_reason=row.not_searched_reason,
        re_search=bool(row.re_search),
        re_search_reason=row.re_search_reason,
        overlap_kept_reason=row.overlap_kept_reason,
        geometry=geom_of(row.geom),
        area_m2=float(row.area_m2),
        bounds=(row.minx, row.miny, row.maxx, row.maxy),
        borough_code=row.borough_code,
        bcu_code=row.bcu_code,
        force_code=row.force_code,
        straddles_bcu=bool(row.straddles_bcu),
        straddles_force=bool(row.straddles_force),
        jurisdiction=juris or {},
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by_name=row.updated_by_name,
        version=row.version,
    )


def for_reader(sector: Sector, permission: str, *, missing_ok: bool = True) -> Sector | None:
    """What a reader with ``permission`` may see of a sector (family: shared ones, pared down)."""
    if permission == perm.SECTOR_READ:
        return sector
    if not sector.share_with_family:
        if missing_ok:
            return None
        raise NotFound("This sector does not exist (it may have been deleted).")
    return pared_down(sector)


def pared_down(sector: Sector) -> Sector:
    """A sector without its notes, teams, reasons and editor: what outsiders may see."""
    return replace(
        sector,
        notes="",
        team_id=None,
        searched_by_team_id=None,
        not_searched_reason="",
        re_search_reason="",
        overlap_kept_reason="",
        updated_by_name="",
    )


def sectors_by_id(conn: sa.Connection, ids: Sequence[int]) -> list[Sector]:
    """The sectors ``ids`` in that order (ids that are gone are left out)."""
    if not ids:
        return []
    rows: list[Any] = []
    for start in range(0, len(ids), 5000):
        rows.extend(
            conn.execute(
                sa.select(t.sectors).where(t.sectors.c.id.in_(list(ids[start : start + 5000])))
            ).all()
        )
    by_id = {r.id: sector_record(r) for r in rows}
    return [by_id[i] for i in ids if i in by_id]


def take_codes(conn: sa.Connection, case_id: int, count: int) -> int:
    """Reserve ``count`` short IDs of the case; returns the first number ("S<n>").

    IDs are never reused, even after a deletion. The per-case counter is
    bookkeeping: the sector rows that take the IDs are what gets audited.
    """
    counter = conn.execute(
        sa.select(t.sector_counter.c.next_n).where(t.sector_counter.c.case_id == case_id)
    ).scalar()
    if counter is None:
        conn.execute(t.sector_counter.insert().values(case_id=case_id, next_n=1))
        counter = 1
    conn.execute(
        t.sector_counter.update()
        .where(t.sector_counter.c.case_id == case_id)
        .values(next_n=int(counter) + count)
    )
    return int(counter)
