"""Hazard and no-go areas: unsafe ground, do not search, preserve the scene.

Coordinators draw them; every role that may read the case map reads them
(``hazard.read``). Outlines are lon/lat, validated and repaired by
:mod:`geo.shapes`; the note is free text and kept out of the append-only audit
values.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from casefile import fieldwork as fw
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.database import Database
from casefile.errors import InvalidInput
from casefile.fieldwork import Hazard
from casefile.permissions import Actor
from casefile.sector_rows import geom_of
from casefile.unit_of_work import UnitOfWork, writes


@writes
def add_hazard(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    geometry: Any,
    kind: str,
    note: str = "",
    idempotency_key: str | None = None,
) -> Hazard:
    """Mark an area: ``kind`` is unsafe, do_not_search or preserve_scene."""
    unit = UnitOfWork(db, actor, perm.HAZARD_WRITE)
    kind = v.choice("kind", kind, fw.HAZARD_KINDS)
    note = v.text("note", note, fw.MAX_LEN["note"])
    key = v.idempotency_key(idempotency_key)
    lonlat, bng, _ = fw.clean_outlines([geometry], ["The hazard area"], what="area")
    with unit as uow:
        uow.enter_case(case_id)
        existing = uow.replay(key, "hazard")
        if existing is not None:
            return hazard_record(uow.open(t.hazards, existing, what="hazard area"))
        hazard_id = uow.insert(
            t.hazards,
            {"kind": kind, "note": note, "geom": lonlat[0], **fw.box_values(lonlat[0], bng[0])},
            entity="hazard",
            key=key,
            changes={
                "kind": (None, kind),
                "note": (None, note),
                "outline": (None, fw.outline_text(lonlat[0])),
            },
        )
        return hazard_record(uow.open(t.hazards, hazard_id, what="hazard area"))


@writes
def update_hazard(
    db: Database, /,
    actor: Actor,
    hazard_id: int,
    *,
    version: int,
    kind: str | None = None,
    note: str | None = None,
    geometry: Any = None,
    reason: str | None = None,
) -> Hazard:
    """Change the kind, note or outline of a hazard area saved at ``version``."""
    unit = UnitOfWork(db, actor, perm.HAZARD_WRITE)
    values: dict[str, Any] = {}
    if kind is not None:
        values["kind"] = v.choice("kind", kind, fw.HAZARD_KINDS)
    if note is not None:
        values["note"] = v.text("note", note, fw.MAX_LEN["note"])
    if geometry is not None:
        lonlat, bng, _ = fw.clean_outlines([geometry], ["The hazard area"], what="area")
        values.update(geom=lonlat[0], **fw.box_values(lonlat[0], bng[0]))
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
    with unit as uow:
        row = uow.open(t.hazards, hazard_id, what="hazard area", version=version)
        diff: dict[str, tuple[Any, Any]] = {}
        out: dict[str, Any] = {}
        for k in ("kind", "note"):
            if k in values and getattr(row, k) != values[k]:
                diff[k] = (getattr(row, k), values[k])
                out[k] = values[k]
        if "geom" in values and not geom_of(row.geom).equals(values["geom"]):
            diff["outline"] = (fw.outline_text(geom_of(row.geom)), fw.outline_text(values["geom"]))
            out.update({k: values[k] for k in ("geom", "minx", "miny", "maxx", "maxy", "area_m2")})
        if not diff:
            return hazard_record(row)
        uow.save(t.hazards, row, out, entity="hazard", action="update", changes=diff,
                 what="hazard area", reason=reason)
        return hazard_record(uow.open(t.hazards, hazard_id, what="hazard area"))


@writes
def remove_hazard(
    db: Database, /, actor: Actor, hazard_id: int, *, version: int, reason: str | None = None
) -> None:
    """Take a hazard area off the map (the audit log keeps what it was)."""
    unit = UnitOfWork(db, actor, perm.HAZARD_WRITE)
    reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
    with unit as uow:
        row = uow.open(t.hazards, hazard_id, what="hazard area", version=version)
        uow.remove(
            t.hazards,
            row,
            entity="hazard",
            changes={
                "kind": (row.kind, None),
                "note": (row.note, None),
                "outline": (fw.outline_text(geom_of(row.geom)), None),
            },
            reason=reason,
        )


def hazards(db: Database, /, actor: Actor, case_id: int) -> list[Hazard]:
    """The case's hazard and no-go areas, oldest first."""
    with UnitOfWork(db, actor, perm.HAZARD_READ, case_id=case_id, mode="read") as uow:
        return hazards_of_case(uow.conn, case_id)


def hazards_of_case(conn: sa.Connection, case_id: int) -> list[Hazard]:
    """Every hazard area of ``case_id``, oldest first (no permission check: callers do)."""
    rows = conn.execute(
        sa.select(t.hazards).where(t.hazards.c.case_id == case_id).order_by(t.hazards.c.id)
    ).all()
    return [hazard_record(r) for r in rows]


def hazard_record(row: Any) -> Hazard:
    """A :class:`Hazard` from its row."""
    if row is None:  # pragma: no cover
        raise InvalidInput("No hazard area.")
    return Hazard(
        id=row.id,
        case_id=row.case_id,
        kind=row.kind,
        note=row.note,
        geometry=geom_of(row.geom),
        area_m2=float(row.area_m2),
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by_name=row.updated_by_name,
        version=row.version,
    )
