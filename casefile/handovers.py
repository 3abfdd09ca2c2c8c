"""Handovers between units (Met BCUs, police forces) and the per-unit handover view.

Mixed into :class:`casefile.Store`. A coordinator records a handover (from unit,
to unit, reason, attached sectors); the receiving unit acknowledges it — who
(a named person) and when. Until partner units have their own links, a
coordinator records the acknowledgement on their behalf through the same
method and permission (``handover.ack``); the record keeps both names.

The handover view lists the sectors searched, in progress or planned in a
unit's area or within a distance (m, British National Grid) of it. Units come
from the boundary layers (:func:`geo.boundaries.load_layer`): a BCU or force
code or name.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from casefile import fieldwork as fw
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile import versioned as vr
from casefile.errors import InvalidInput
from casefile.fieldwork import Handover, Unit, UnitSector
from casefile.permissions import Actor
from casefile.sector_rows import _sector, _statuses
from casefile.timefmt import utcnow
from casefile.versioned import retrying as _retrying
from casefile.versioned import store_module as _s

#: the furthest "near" reaches, m
MAX_WITHIN_M = 20_000.0


def resolve_unit(unit: str | Unit) -> Unit:
    """A BCU or force by code ("central-west", "E23000001") or name (any case).

    Raises :class:`InvalidInput` listing nothing secret when no unit matches.
    """
    from geo.boundaries import load_layer

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
def _unit_area(layer: str, code: str, within_m: float) -> tuple[BaseGeometry, BaseGeometry]:
    """(unit area, area widened by ``within_m``) in BNG, prepared; cached per process."""
    from geo.boundaries import load_layer

    gdf = load_layer(layer)
    area = gdf.geometry.to_numpy()[np.flatnonzero(gdf["code"].astype(str).to_numpy() == code)[0]]
    area = shapely.make_valid(area)
    wide = shapely.buffer(area, within_m) if within_m > 0 else area
    shapely.prepare(area)
    shapely.prepare(wide)
    return area, wide


class HandoversMixin:
    """Handover operations of :class:`casefile.Store`."""

    _writing: Any
    _reading: Any
    _authorize: Any
    _audit: Any
    _replay: Any
    _remember: Any
    _idempotent: Any
    _bump: Any
    _case_index: Any

    @_retrying
    def create_handover(
        self,
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
        s = _s()
        s._check_actor_shape(actor, perm.HANDOVER_WRITE)
        src, dst = resolve_unit(from_unit), resolve_unit(to_unit)
        if (src.layer, src.code) == (dst.layer, dst.code):
            raise InvalidInput(
                "A handover goes from one unit to another; pick two different units."
            )
        reason = v.text("reason", reason, fw.MAX_LEN["reason"], required=True)
        ids = _ids(sector_ids)
        key = v.idempotency_key(idempotency_key)
        now = utcnow()
        with self._idempotent(), self._writing() as conn:
            s._require_case(conn, case_id)
            self._authorize(conn, actor, perm.HANDOVER_WRITE, case_id)
            existing = self._replay(conn, key, "handover", actor)
            if existing is not None:
                return _load(conn, existing)
            found = dict(
                conn.execute(
                    sa.select(t.sectors.c.id, t.sectors.c.code).where(
                        t.sectors.c.id.in_(ids), t.sectors.c.case_id == case_id
                    )
                ).all()
            )
            if len(found) != len(ids):
                raise InvalidInput("Some of the attached sectors are not sectors of this case.")
            handover_id = vr.record_new(
                self, conn, actor, now, table=t.handovers, case_id=case_id,
                values={
                    "from_layer": src.layer,
                    "from_code": src.code,
                    "from_name": src.name,
                    "to_layer": dst.layer,
                    "to_code": dst.code,
                    "to_name": dst.name,
                    "reason": reason,
                },
                stamps={**vr.new_row_stamps(actor, now), "created_by_name": actor.display_name},
                entity="handover", key=key,
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
            return _load(conn, handover_id)

    def acknowledge_handover(
        self,
        actor: Actor,
        handover_id: int,
        *,
        by_name: str,
        version: int,
        at: datetime | None = None,
    ) -> Handover:
        """The receiving unit acknowledges: ``by_name`` (the person) at ``at`` (default now).

        Recorded by whoever acts (a coordinator on the unit's behalf for now).
        Acknowledging twice is refused, naming the first acknowledgement.
        """
        s = _s()
        s._check_actor_shape(actor, perm.HANDOVER_ACK)
        by_name = v.text("by_name", by_name, fw.MAX_LEN["by_name"], required=True)
        when = v.moment("acknowledged_at", at) if at is not None else None
        now = utcnow()
        with self._writing() as conn:
            row = vr.open_row(self, conn, actor, t.handovers, handover_id, what="handover",
                              permission=perm.HANDOVER_ACK, version=version)
            if row.acknowledged_at is not None:
                from casefile.timefmt import format_london

                raise InvalidInput(
                    f"This handover was already acknowledged by {row.acknowledged_by} at "
                    f"{format_london(row.acknowledged_at)}."
                )
            ack_at = when or now
            if ack_at < row.created_at:
                raise InvalidInput("A handover cannot be acknowledged before it was made.")
            vr.save_row(
                self, conn, actor, now, table=t.handovers, row=row,
                values={
                    "acknowledged_at": ack_at,
                    "acknowledged_by": by_name,
                    "acknowledged_recorded_by": actor.display_name,
                },
                entity="handover", action="acknowledge", what="handover",
                changes={
                    "acknowledged_by": (None, by_name),
                    "acknowledged_at": (None, ack_at),
                },
            )
            return _load(conn, handover_id)

    def get_handover(self, actor: Actor, handover_id: int) -> Handover:
        """One handover with its attached sectors."""
        s = _s()
        s._check_actor_shape(actor, perm.HANDOVER_READ)
        with self._reading() as conn:
            row = fw.require_row(conn, t.handovers, handover_id, "handover")
            self._authorize(conn, actor, perm.HANDOVER_READ, row.case_id)
            return _load(conn, handover_id)

    def handovers(
        self, actor: Actor, case_id: int, *, unit: str | Unit | None = None
    ) -> list[Handover]:
        """The case's handovers, newest first; ``unit``: only those to or from it."""
        s = _s()
        s._check_actor_shape(actor, perm.HANDOVER_READ)
        target = resolve_unit(unit) if unit is not None else None
        with self._reading() as conn:
            self._authorize(conn, actor, perm.HANDOVER_READ, case_id)
            s._require_case(conn, case_id)
            q = sa.select(t.handovers.c.id).where(t.handovers.c.case_id == case_id)
            if target is not None:
                q = q.where(
                    sa.or_(
                        t.handovers.c.to_code == target.code,
                        t.handovers.c.from_code == target.code,
                    )
                )
            ids = conn.execute(q.order_by(t.handovers.c.id.desc())).scalars().all()
            return [_load(conn, i) for i in ids]

    def sectors_near_unit(
        self,
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
        s = _s()
        s._check_actor_shape(actor, perm.HANDOVER_READ)
        target = resolve_unit(unit)
        try:
            within = float(within_m)
        except (TypeError, ValueError):
            raise InvalidInput("The distance must be a number of metres.") from None
        if not 0 <= within <= MAX_WITHIN_M:
            raise InvalidInput(f"The distance must be between 0 and {MAX_WITHIN_M:,.0f} m.")
        statuses = _statuses(status)
        area, wide = _unit_area(target.layer, target.code, within)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.HANDOVER_READ, case_id)
            s._require_case(conn, case_id)
            token = conn.execute(
                sa.select(t.case_change.c.n).where(t.case_change.c.case_id == case_id)
            ).scalar_one()
            index = self._case_index(conn, case_id, int(token))
            hits = index.index.query(wide)
            if not len(hits):
                return []
            geoms = index.index.geoms[hits]
            dist = shapely.distance(area, geoms)
            ids = [int(i) for i in index.ids[hits]]
            q = sa.select(t.sectors).where(t.sectors.c.id.in_(ids))
            if statuses is not None:
                q = q.where(t.sectors.c.status.in_(statuses))
            rows = {r.id: r for r in conn.execute(q).all()}
        out = []
        for sid, d in zip(ids, dist, strict=True):
            row = rows.get(sid)
            if row is None:
                continue
            sector = _sector(row)
            out.append(
                UnitSector(
                    sector=sector,
                    inside=bool(d <= 0.0),
                    distance_m=float(d),
                    share_in_unit=sector.share_in(target.code),
                )
            )
        out.sort(key=lambda u: (not u.inside, u.distance_m, int(u.sector.code[1:] or 0)))
        return out


def _ids(values: Sequence[int]) -> list[int]:
    out: list[int] = []
    for x in values:
        if isinstance(x, bool) or not isinstance(x, int):
            raise InvalidInput("Attached sectors must be chosen from the list.")
        if x not in out:
            out.append(x)
    return out


def _load(conn: sa.Connection, handover_id: int) -> Handover:
    row = fw.require_row(conn, t.handovers, handover_id, "handover")
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
