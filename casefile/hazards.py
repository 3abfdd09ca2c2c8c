"""Hazard and no-go areas: unsafe ground, do not search, preserve the scene.

Mixed into :class:`casefile.Store`. Coordinators draw them; every role that
may read the case map reads them (``hazard.read``). Outlines are lon/lat,
validated and repaired by :mod:`geo.shapes`; the note is free text and kept out
of the append-only audit values.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from casefile import fieldwork as fw
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile import versioned as vr
from casefile.errors import InvalidInput
from casefile.fieldwork import Hazard
from casefile.permissions import Actor
from casefile.sector_rows import _geom
from casefile.timefmt import utcnow
from casefile.versioned import retrying as _retrying
from casefile.versioned import store_module as _s


class HazardsMixin:
    """Hazard-area operations of :class:`casefile.Store`."""

    _writing: Any
    _reading: Any
    _authorize: Any
    _audit: Any
    _replay: Any
    _remember: Any
    _idempotent: Any
    _bump: Any

    @_retrying
    def add_hazard(
        self,
        actor: Actor,
        case_id: int,
        *,
        geometry: Any,
        kind: str,
        note: str = "",
        idempotency_key: str | None = None,
    ) -> Hazard:
        """Mark an area: ``kind`` is unsafe, do_not_search or preserve_scene."""
        s = _s()
        s._check_actor_shape(actor, perm.HAZARD_WRITE)
        kind = v.choice("kind", kind, fw.HAZARD_KINDS)
        note = v.text("note", note, fw.MAX_LEN["note"])
        key = v.idempotency_key(idempotency_key)
        lonlat, bng, _ = fw.clean_outlines([geometry], ["The hazard area"], what="area")
        now = utcnow()
        with self._idempotent(), self._writing() as conn:
            s._require_case(conn, case_id)
            self._authorize(conn, actor, perm.HAZARD_WRITE, case_id)
            existing = self._replay(conn, key, "hazard", actor)
            if existing is not None:
                return _hazard(fw.require_row(conn, t.hazards, existing, "hazard area"))
            hazard_id = vr.record_new(
                self, conn, actor, now, table=t.hazards, case_id=case_id,
                values={"kind": kind, "note": note, "geom": lonlat[0],
                        **fw.box_values(lonlat[0], bng[0])},
                entity="hazard", key=key,
                changes={
                    "kind": (None, kind),
                    "note": (None, note),
                    "outline": (None, fw.outline_text(lonlat[0])),
                },
            )
            return _hazard(fw.require_row(conn, t.hazards, hazard_id, "hazard area"))

    def update_hazard(
        self,
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
        s = _s()
        s._check_actor_shape(actor, perm.HAZARD_WRITE)
        values: dict[str, Any] = {}
        if kind is not None:
            values["kind"] = v.choice("kind", kind, fw.HAZARD_KINDS)
        if note is not None:
            values["note"] = v.text("note", note, fw.MAX_LEN["note"])
        if geometry is not None:
            lonlat, bng, _ = fw.clean_outlines([geometry], ["The hazard area"], what="area")
            values.update(geom=lonlat[0], **fw.box_values(lonlat[0], bng[0]))
        reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
        now = utcnow()
        with self._writing() as conn:
            row = vr.open_row(self, conn, actor, t.hazards, hazard_id, what="hazard area",
                              permission=perm.HAZARD_WRITE, version=version)
            diff: dict[str, tuple[Any, Any]] = {}
            out: dict[str, Any] = {}
            for k in ("kind", "note"):
                if k in values and getattr(row, k) != values[k]:
                    diff[k] = (getattr(row, k), values[k])
                    out[k] = values[k]
            if "geom" in values and not _geom(row.geom).equals(values["geom"]):
                diff["outline"] = (
                    fw.outline_text(_geom(row.geom)), fw.outline_text(values["geom"])
                )
                out.update({k: values[k] for k in ("geom", "minx", "miny", "maxx", "maxy",
                                                    "area_m2")})
            if not diff:
                return _hazard(row)
            vr.save_row(self, conn, actor, now, table=t.hazards, row=row, values=out,
                        entity="hazard", action="update", changes=diff, what="hazard area",
                        reason=reason)
            return _hazard(fw.require_row(conn, t.hazards, hazard_id, "hazard area"))

    def remove_hazard(
        self, actor: Actor, hazard_id: int, *, version: int, reason: str | None = None
    ) -> None:
        """Take a hazard area off the map (the audit log keeps what it was)."""
        s = _s()
        s._check_actor_shape(actor, perm.HAZARD_WRITE)
        reason = v.text("reason", reason, fw.MAX_LEN["reason"]) or None
        now = utcnow()
        with self._writing() as conn:
            row = vr.open_row(self, conn, actor, t.hazards, hazard_id, what="hazard area",
                              permission=perm.HAZARD_WRITE, version=version)
            vr.remove_row(
                self,
                conn,
                actor,
                now,
                table=t.hazards,
                row=row,
                entity="hazard",
                changes={
                    "kind": (row.kind, None),
                    "note": (row.note, None),
                    "outline": (fw.outline_text(_geom(row.geom)), None),
                },
                reason=reason,
            )

    def hazards(self, actor: Actor, case_id: int) -> list[Hazard]:
        """The case's hazard and no-go areas, oldest first."""
        s = _s()
        s._check_actor_shape(actor, perm.HAZARD_READ)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.HAZARD_READ, case_id)
            s._require_case(conn, case_id)
            rows = conn.execute(
                sa.select(t.hazards).where(t.hazards.c.case_id == case_id).order_by(t.hazards.c.id)
            ).all()
        return [_hazard(r) for r in rows]


def _hazard(row: Any) -> Hazard:
    if row is None:  # pragma: no cover
        raise InvalidInput("No hazard area.")
    return Hazard(
        id=row.id,
        case_id=row.case_id,
        kind=row.kind,
        note=row.note,
        geometry=_geom(row.geom),
        area_m2=float(row.area_m2),
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by_name=row.updated_by_name,
        version=row.version,
    )
