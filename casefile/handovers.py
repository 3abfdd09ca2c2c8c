"""Handovers between units (Met BCUs, police forces) and the per-unit handover view.

A coordinator records a handover (from unit, to unit, reason, attached
sectors); the receiving unit acknowledges it — who (a named person) and when —
through its partner link, or a coordinator records the acknowledgement on its
behalf with the same operation and permission (``handover.ack``); the record
keeps both names.

The handover view lists the sectors searched, in progress or planned in a
unit's area or within a distance (m, British National Grid) of it. Units come
from the boundary layers (:func:`geo.boundaries.load_layer`): a BCU or force
code or name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache

import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from casefile import fieldwork as fw
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.database import Database
from casefile.errors import InvalidInput, NotFound
from casefile.fieldwork import Handover, Unit, UnitSector
from casefile.permissions import Actor
from casefile.sector_index import case_index
from casefile.sector_rows import code_number, sector_record, statuses
from casefile.timefmt import format_london
from casefile.unit_of_work import UnitOfWork, writes
from geo.boundaries import load_layer


def units_touched(sectors: Iterable[fw.Sector]) -> list[str]:
    """BCU and force codes the sectors' ground lies in, most ground first (by m²).

    What a handover form proposes first: the units a case's ground actually touches.
    """
    ground: dict[str, float] = {}
    for sector in sectors:
        for layer in ("bcu", "force"):
            for row in sector.jurisdiction.get(layer, []):
                code = str(row.get("code", ""))
                if code and code != "outside":
                    share = float(row.get("share", 0.0))
                    ground[code] = ground.get(code, 0.0) + share * sector.area_m2
    return sorted(ground, key=lambda code: (-ground[code], code))


#: the furthest "near" reaches, m
MAX_WITHIN_M = 20_000.0


def resolve_unit(unit: str | Unit) -> Unit:
    """A BCU or force by code ("central-west", "E23000001") or name (any case).

    Raises :class:`InvalidInput` listing nothing secret when no unit matches.
    """
    if isinstance(unit, Unit):
        unit = unit.code
    text = v.text("unit", unit, fw.MAX_LEN["unit"], required=True).strip()
    wanted = text.casefold()
    for layer in fw.UNIT_LAYERS:
        gdf = load_layer(layer)
        for col in ("code", "name", "short_name"):
            if col not in gdf.columns:
                continue
            values = gdf[col].astype(str).str.casefold()
            hit = np.flatnonzero(values.to_numpy() == wanted)
            if len(hit):
                row = gdf.iloc[int(hit[0])]
                return Unit(layer=layer, code=str(row["code"]), name=str(row["name"]))
    raise InvalidInput(
        f"No Met BCU or police force is called {text[:60]!r}; pick one from the list."
    )


@lru_cache(maxsize=64)
def unit_area(layer: str, code: str, within_m: float) -> tuple[BaseGeometry, BaseGeometry]:
    """(unit area, area widened by ``within_m``) in BNG, prepared; cached per process."""
    gdf = load_layer(layer)
    area = gdf.geometry.to_numpy()[np.flatnonzero(gdf["code"].astype(str).to_numpy() == code)[0]]
    area = shapely.make_valid(area)
    wide = shapely.buffer(area, within_m) if within_m > 0 else area
    shapely.prepare(area)
    shapely.prepare(wide)
    return area, wide


@writes
def create_handover(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    from_unit: str | Unit,
    to_unit: str | Unit,
    reason: str,
    sector_ids: Sequence[int] = (),
    idempotency_key: str | None = None,
) -> Handover:
    """Record a handover of ``sector_ids`` (sectors of this case) from one unit to another."""
    unit = UnitOfWork(db, actor, perm.HANDOVER_WRITE)
    src, dst = resolve_unit(from_unit), resolve_unit(to_unit)
    if (src.layer, src.code) == (dst.layer, dst.code):
        raise InvalidInput(
            "A handover goes from one unit to another; pick two different units."
        )
    reason = v.text("reason", reason, fw.MAX_LEN["reason"], required=True)
    ids = _ids(sector_ids)
    key = v.idempotency_key(idempotency_key)
    with unit as uow:
        uow.enter_case(case_id)
        conn = uow.conn
        existing = uow.replay(key, "handover")
        if existing is not None:
            return load_handover(conn, existing)
        found = dict(
            conn.execute(
                sa.select(t.sectors.c.id, t.sectors.c.code).where(
                    t.sectors.c.id.in_(ids), t.sectors.c.case_id == case_id
                )
            ).all()
        )
        if len(found) != len(ids):
            raise InvalidInput("Some of the attached sectors are not sectors of this case.")
        handover_id = uow.insert(
            t.handovers,
            {
                "from_layer": src.layer,
                "from_code": src.code,
                "from_name": src.name,
                "to_layer": dst.layer,
                "to_code": dst.code,
                "to_name": dst.name,
                "reason": reason,
            },
            stamps={**uow.new_row_stamps(), "created_by_name": actor.display_name},
            entity="handover",
            key=key,
            changes={
                "from_unit": (None, src.code),
                "to_unit": (None, dst.code),
                "reason": (None, reason),
                "sectors": (None, [found[i] for i in ids]),
            },
        )
        if ids:
            conn.execute(
                t.handover_sectors.insert(),
                [{"handover_id": handover_id, "sector_id": i} for i in ids],
            )
        return load_handover(conn, handover_id)


@writes
def acknowledge_handover(
    db: Database, /,
    actor: Actor,
    handover_id: int,
    *,
    by_name: str,
    version: int,
    at: datetime | None = None,
) -> Handover:
    """The receiving unit acknowledges: ``by_name`` (the person) at ``at`` (default now).

    Recorded by whoever acts: a coordinator on the unit's behalf, or the unit's own
    partner link — only for handovers addressed to its unit (the role table's
    ``own_unit`` scope, on the handover's ``to_code``). Acknowledging twice is
    refused, naming the first acknowledgement.
    """
    unit = UnitOfWork(db, actor, perm.HANDOVER_ACK)
    by_name = v.text("by_name", by_name, fw.MAX_LEN["by_name"], required=True)
    when = v.moment("acknowledged_at", at) if at is not None else None
    with unit as uow:
        row = uow.open(t.handovers, handover_id, what="handover", version=version)
        if row.acknowledged_at is not None:
            raise InvalidInput(
                f"This handover was already acknowledged by {row.acknowledged_by} at "
                f"{format_london(row.acknowledged_at)}."
            )
        ack_at = when or uow.now
        if ack_at < row.created_at:
            raise InvalidInput("A handover cannot be acknowledged before it was made.")
        uow.save(
            t.handovers,
            row,
            {
                "acknowledged_at": ack_at,
                "acknowledged_by": by_name,
                "acknowledged_recorded_by": actor.display_name,
            },
            entity="handover",
            action="acknowledge",
            what="handover",
            changes={
                "acknowledged_by": (None, by_name),
                "acknowledged_at": (None, ack_at),
            },
        )
        return load_handover(uow.conn, handover_id)


def get_handover(db: Database, /, actor: Actor, handover_id: int) -> Handover:
    """One handover with its attached sectors."""
    with UnitOfWork(db, actor, perm.HANDOVER_READ, mode="read") as uow:
        row = uow.open(t.handovers, handover_id, what="handover")
        return load_handover(uow.conn, row.id)


def handovers(
    db: Database, /, actor: Actor, case_id: int, *, unit: str | Unit | None = None
) -> list[Handover]:
    """The case's handovers, newest first; ``unit``: only those to or from it."""
    work = UnitOfWork(db, actor, perm.HANDOVER_READ, mode="read")
    target = resolve_unit(unit) if unit is not None else None
    with work as uow:
        uow.enter_case(case_id)
        return handovers_of_case(uow.conn, case_id, target)


def handovers_of_case(
    conn: sa.Connection, case_id: int, unit: Unit | None = None, *, to_only: bool = False
) -> list[Handover]:
    """The case's handovers, newest first: all, or those to (or from) ``unit``.

    No permission check: callers do (a partner link reads those to its unit).
    """
    q = sa.select(t.handovers.c.id).where(t.handovers.c.case_id == case_id)
    if unit is not None:
        to = t.handovers.c.to_code == unit.code
        q = q.where(to if to_only else sa.or_(to, t.handovers.c.from_code == unit.code))
    ids = conn.execute(q.order_by(t.handovers.c.id.desc())).scalars().all()
    return [load_handover(conn, i) for i in ids]


def sectors_near_unit(
    db: Database, /,
    actor: Actor,
    case_id: int,
    unit: str | Unit,
    *,
    within_m: float = 0.0,
    status: str | Iterable[str] | None = None,
) -> list[UnitSector]:
    """Sectors in a BCU's or force's area or within ``within_m`` metres of it.

    Inside first, then by distance, then by ID. ``status`` narrows the
    statuses (default: all — searched, in progress and planned ground).
    Uses the case's warm spatial index; distances are BNG metres.
    """
    work = UnitOfWork(db, actor, perm.HANDOVER_READ, mode="read")
    target = resolve_unit(unit)
    try:
        within = float(within_m)
    except (TypeError, ValueError):
        raise InvalidInput("The distance must be a number of metres.") from None
    wanted = statuses(status)
    with work as uow:
        uow.enter_case(case_id)
        return sectors_near(db, uow.conn, case_id, target, within, wanted)


def sectors_near(
    db: Database,
    conn: sa.Connection,
    case_id: int,
    unit: Unit,
    within_m: float,
    wanted: Sequence[str] | None = None,
) -> list[UnitSector]:
    """Sectors of the case in ``unit``'s area or within ``within_m`` m of it (BNG), from
    the warm index: inside first, then by distance, then by number. ``wanted``: only
    these statuses. No permission check: callers do."""
    if not 0 <= within_m <= MAX_WITHIN_M:
        raise InvalidInput(f"The distance must be between 0 and {MAX_WITHIN_M:,.0f} m.")
    area, wide = unit_area(unit.layer, unit.code, within_m)
    index = case_index(db, conn, case_id)
    hits = index.query(wide)
    if not len(hits):
        return []
    dist = shapely.distance(area, index.geoms[hits])
    ids = [int(i) for i in index.ids[hits]]
    q = sa.select(t.sectors).where(t.sectors.c.id.in_(ids))
    if wanted is not None:
        q = q.where(t.sectors.c.status.in_(list(wanted)))
    rows = {r.id: r for r in conn.execute(q).all()}
    out = []
    for sid, d in zip(ids, dist, strict=True):
        row = rows.get(sid)
        if row is None:
            continue
        sector = sector_record(row)
        out.append(
            UnitSector(
                sector=sector,
                inside=bool(d <= 0.0),
                distance_m=float(d),
                share_in_unit=sector.share_in(unit.code),
            )
        )
    out.sort(key=lambda u: (not u.inside, u.distance_m, code_number(u.sector.code)))
    return out


def _ids(values: Sequence[int]) -> list[int]:
    out: list[int] = []
    for x in values:
        if isinstance(x, bool) or not isinstance(x, int):
            raise InvalidInput("Attached sectors must be chosen from the list.")
        if x not in out:
            out.append(x)
    return out


def load_handover(conn: sa.Connection, handover_id: int) -> Handover:
    """A :class:`Handover` with its attached sectors (no permission check: callers do)."""
    row = conn.execute(sa.select(t.handovers).where(t.handovers.c.id == handover_id)).first()
    if row is None:
        raise NotFound("This handover does not exist (it may have been deleted).")
    attached = conn.execute(
        sa.select(t.sectors.c.id, t.sectors.c.code)
        .join(t.handover_sectors, t.handover_sectors.c.sector_id == t.sectors.c.id)
        .where(t.handover_sectors.c.handover_id == handover_id)
        .order_by(t.sectors.c.id)
    ).all()
    return Handover(
        id=row.id,
        case_id=row.case_id,
        from_unit=Unit(row.from_layer, row.from_code, row.from_name),
        to_unit=Unit(row.to_layer, row.to_code, row.to_name),
        reason=row.reason,
        sector_ids=tuple(a.id for a in attached),
        sector_codes=tuple(a.code for a in attached),
        created_at=row.created_at,
        created_by_name=row.created_by_name,
        acknowledged_at=row.acknowledged_at,
        acknowledged_by=row.acknowledged_by,
        acknowledged_recorded_by=row.acknowledged_recorded_by,
        updated_at=row.updated_at,
        updated_by_name=row.updated_by_name,
        version=row.version,
    )
