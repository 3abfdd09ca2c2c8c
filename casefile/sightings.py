"""Sightings in the store: record them (one or a batch), correct or remove them, and read them.

Mixed into :class:`casefile.Store`. A sighting is a point (lat, lon) where and
when someone saw the child, with its source, confidence and status
(unverified, verified or dismissed). Each new or moved sighting is tagged with
its borough, BCU, force and ward (:func:`tag_points`). Verified sightings in
time order are the child's known path (:meth:`SightingsMixin.path`); the latest
one is the last known location, else the case's IPP. Who reported a sighting,
how to reach them and the description are personal: their values go only to
the purgeable side of the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa
from shapely import Point

from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile import versioned as vr
from casefile.errors import InvalidInput, NotFound
from casefile.permissions import Actor
from casefile.records import LastKnown, Sighting
from casefile.timefmt import utcnow
from casefile.versioned import retrying as _retrying
from casefile.versioned import store_module as _s

#: a sighting's fields (``location`` is (lat, lon)): what add and update take
SIGHTING_FIELDS: tuple[str, ...] = (
    "location",
    "seen_at",
    "source",
    "confidence",
    "status",
    "reported_by",
    "reporter_contact",
    "description",
)
_TAGS: tuple[str, ...] = ("borough", "borough_code", "bcu", "force", "ward")


@dataclass(frozen=True, slots=True)
class NewSighting:
    """One sighting to add (see :meth:`Store.add_sightings`). Location is (lat, lon)."""

    lat: float
    lon: float
    seen_at: datetime
    source: str
    confidence: str = "medium"
    status: str = "unverified"
    reported_by: str = ""
    reporter_contact: str = ""
    description: str = ""
    idempotency_key: str | None = None


def tag_points(lats: Sequence[float], lons: Sequence[float]) -> list[dict[str, str | None]]:
    """Borough / BCU / force / ward for each point (None where outside every area)."""
    from geo import locate_many

    frame = locate_many(np.asarray(lats, dtype=float), np.asarray(lons, dtype=float))
    columns = {
        tag: frame[tag].tolist() if tag in frame.columns else [None] * len(frame) for tag in _TAGS
    }
    out = [
        {
            tag: None
            if columns[tag][i] is None or pd.isna(columns[tag][i])
            else str(columns[tag][i])
            for tag in _TAGS
        }
        for i in range(len(frame))
    ]
    return out


class SightingsMixin:
    """Sighting operations of :class:`casefile.Store` (see the module docstring)."""

    # provided by Store
    _writing: Any
    _reading: Any
    _authorize: Any
    _audit: Any
    _audit_many: Any
    _bump: Any
    _replay_many: Any
    _idempotent: Any

    def add_sighting(
        self,
        actor: Actor,
        case_id: int,
        *,
        lat: float,
        lon: float,
        seen_at: datetime,
        source: str,
        confidence: str = "medium",
        status: str = "unverified",
        reported_by: str = "",
        reporter_contact: str = "",
        description: str = "",
        idempotency_key: str | None = None,
        reason: str | None = None,
    ) -> Sighting:
        """Record one sighting (tagged with its borough, BCU, force and ward)."""
        return self.add_sightings(
            actor,
            case_id,
            [
                NewSighting(
                    lat=lat,
                    lon=lon,
                    seen_at=seen_at,
                    source=source,
                    confidence=confidence,
                    status=status,
                    reported_by=reported_by,
                    reporter_contact=reporter_contact,
                    description=description,
                    idempotency_key=idempotency_key,
                )
            ],
            reason=reason,
        )[0]

    @_retrying
    def add_sightings(
        self,
        actor: Actor,
        case_id: int,
        items: Sequence[NewSighting],
        *,
        reason: str | None = None,
    ) -> list[Sighting]:
        """Record several sightings in one transaction (one audit record each).

        All or nothing: one bad item rejects the lot, naming the item.
        Items whose idempotency key was saved before come back as saved then.
        """
        s = _s()
        s._check_actor_shape(actor, perm.SIGHTING_WRITE)
        if not items:
            return []
        cleaned: list[dict[str, Any]] = []
        keys: list[str | None] = []
        for i, item in enumerate(items):
            try:
                cleaned.append(
                    _clean_sighting(
                        {
                            "location": (item.lat, item.lon),
                            "seen_at": item.seen_at,
                            "source": item.source,
                            "confidence": item.confidence,
                            "status": item.status,
                            "reported_by": item.reported_by,
                            "reporter_contact": item.reporter_contact,
                            "description": item.description,
                        },
                        creating=True,
                    )
                )
                keys.append(v.idempotency_key(item.idempotency_key))
            except InvalidInput as exc:
                if len(items) == 1:
                    raise
                raise InvalidInput(f"Sighting {i + 1}: {exc}") from None
        reason = v.text("reason", reason, s.MAX_LEN["reason"]) or None
        tags = tag_points([c["location"][0] for c in cleaned], [c["location"][1] for c in cleaned])
        now = utcnow()
        with self._idempotent(), self._writing() as conn:
            s._require_case(conn, case_id)
            self._authorize(conn, actor, perm.SIGHTING_WRITE, case_id)
            replayed = self._replay_many(conn, keys, "sighting", actor)
            fresh = [i for i, key in enumerate(keys) if key is None or key not in replayed]
            rows_in = [
                {
                    "case_id": case_id,
                    **_sighting_columns(cleaned[i]),
                    **tags[i],
                    **vr.new_row_stamps(actor, now),
                }
                for i in fresh
            ]
            new_ids: list[int] = []
            if len(rows_in) == 1:
                new_ids = [conn.execute(t.sightings.insert(), rows_in[0]).inserted_primary_key[0]]
            elif rows_in:
                new_ids = list(
                    conn.execute(
                        t.sightings.insert().returning(
                            t.sightings.c.id, sort_by_parameter_order=True
                        ),
                        rows_in,
                    ).scalars()
                )
            by_index = dict(zip(fresh, new_ids, strict=True))
            remembered = [
                {
                    "key": keys[i],
                    "entity": "sighting",
                    "entity_id": sid,
                    "case_id": case_id,
                    "actor_id": actor.user_id,
                    "created_at": now,
                }
                for i, sid in by_index.items()
                if keys[i] is not None
            ]
            if remembered:
                conn.execute(t.idempotency.insert(), remembered)
            if by_index:
                self._audit_many(
                    conn,
                    actor,
                    now,
                    [
                        (
                            case_id,
                            "sighting",
                            sid,
                            "create",
                            {k: (None, cleaned[i][k]) for k in SIGHTING_FIELDS},
                        )
                        for i, sid in by_index.items()
                    ],
                    reason=reason,
                )
            ids = [by_index[i] if i in by_index else replayed[keys[i]] for i in range(len(keys))]
            wrote = bool(by_index)
            if wrote:
                self._bump(conn, case_id)
            rows = {
                r.id: r
                for r in conn.execute(
                    _sightings_select().where(t.sightings.c.id.in_(sorted(set(ids))))
                ).all()
            }
        missing = [i for i in ids if i not in rows]
        if missing:
            raise NotFound("This sighting was saved before and has since been deleted.")
        return [_sighting(rows[i]) for i in ids]

    def update_sighting(
        self,
        actor: Actor,
        sighting_id: int,
        *,
        version: int,
        reason: str | None = None,
        **changes: Any,
    ) -> Sighting:
        """Change fields of a sighting saved at ``version`` (e.g. status="verified").

        Fields: location=(lat, lon), seen_at, source, confidence, status,
        reported_by, reporter_contact, description.
        """
        s = _s()
        s._check_actor_shape(actor, perm.SIGHTING_WRITE)
        if "lat" in changes or "lon" in changes:
            raise InvalidInput("Move a sighting with location=(lat, lon).")
        unknown = set(changes) - set(SIGHTING_FIELDS)
        if unknown:
            raise InvalidInput(f"Sightings have no field(s) {', '.join(sorted(unknown))}.")
        clean = _clean_sighting(changes, creating=False)
        reason = v.text("reason", reason, s.MAX_LEN["reason"]) or None
        tag = None
        if "location" in clean:
            tag = tag_points([clean["location"][0]], [clean["location"][1]])[0]
        now = utcnow()
        with self._writing() as conn:
            row = vr.open_row(self, conn, actor, t.sightings, sighting_id, what="sighting",
                              permission=perm.SIGHTING_WRITE, version=version)
            current = _sighting(row)
            before = _sighting_values(current)
            diff = {k: (before[k], val) for k, val in clean.items() if before[k] != val}
            if not diff:
                return current
            values = _sighting_columns({k: after for k, (_, after) in diff.items()})
            if "location" in diff and tag is not None:
                values.update(tag)
            vr.save_row(self, conn, actor, now, table=t.sightings, row=row, values=values,
                        entity="sighting", action="update", changes=diff, what="sighting",
                        reason=reason)
            return _sighting(_require_sighting(conn, sighting_id))

    def delete_sighting(
        self, actor: Actor, sighting_id: int, *, version: int, reason: str | None = None
    ) -> None:
        """Remove a sighting entered by mistake (a wrong one is better *dismissed*)."""
        s = _s()
        s._check_actor_shape(actor, perm.SIGHTING_WRITE)
        reason = v.text("reason", reason, s.MAX_LEN["reason"]) or None
        now = utcnow()
        with self._writing() as conn:
            row = vr.open_row(self, conn, actor, t.sightings, sighting_id, what="sighting",
                              permission=perm.SIGHTING_WRITE, version=version)
            before = _sighting_values(_sighting(row))
            vr.remove_row(self, conn, actor, now, table=t.sightings, row=row,
                          entity="sighting", reason=reason,
                          changes={k: (before[k], None) for k in SIGHTING_FIELDS})

    def get_sighting(self, actor: Actor, sighting_id: int) -> Sighting:
        """One sighting."""
        s = _s()
        s._check_actor_shape(actor, perm.SIGHTING_READ)
        with self._reading() as conn:
            row = _require_sighting(conn, sighting_id)
            self._authorize(conn, actor, perm.SIGHTING_READ, row.case_id)
            return _sighting(row)

    def sightings(self, actor: Actor, case_id: int, *, status: str | None = None) -> list[Sighting]:
        """The case's sightings in time seen order, optionally of one status."""
        s = _s()
        s._check_actor_shape(actor, perm.SIGHTING_READ)
        if status is not None:
            v.choice("status", status, v.SIGHTING_STATUSES)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.SIGHTING_READ, case_id)
            s._require_case(conn, case_id)
            rows = conn.execute(_sightings_query(case_id, status)).all()
        return [_sighting(r) for r in rows]

    def path(self, actor: Actor, case_id: int) -> list[Sighting]:
        """Verified sightings in time order: the route the child is known to have taken."""
        return self.sightings(actor, case_id, status="verified")

    def last_known_location(self, actor: Actor, case_id: int) -> LastKnown:
        """The latest verified sighting (by time seen), else the case's IPP."""
        s = _s()
        s._check_actor_shape(actor, perm.SIGHTING_READ)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.SIGHTING_READ, case_id)
            case = s._require_case(conn, case_id)
            row = conn.execute(
                sa.select(
                    t.sightings.c.id, t.sightings.c.lat, t.sightings.c.lon, t.sightings.c.seen_at
                )
                .where(t.sightings.c.case_id == case_id, t.sightings.c.status == "verified")
                .order_by(t.sightings.c.seen_at.desc(), t.sightings.c.id.desc())
                .limit(1)
            ).first()
        if row is None:
            return LastKnown(case.ipp_lat, case.ipp_lon, None, "ipp", None)
        return LastKnown(row.lat, row.lon, row.seen_at, "sighting", row.id)


def _sightings_select() -> sa.Select:
    return sa.select(*[c for c in t.sightings.c if c.name != "geom"])


def _require_sighting(conn: sa.Connection, sighting_id: Any) -> Any:
    if isinstance(sighting_id, bool) or not isinstance(sighting_id, int):
        raise NotFound("No sighting was chosen.")
    row = conn.execute(_sightings_select().where(t.sightings.c.id == sighting_id)).first()
    if row is None:
        raise NotFound("This sighting does not exist (it may have been deleted).")
    return row


def _sightings_query(case_id: int, status: str | None = None) -> sa.Select:
    q = _sightings_select().where(t.sightings.c.case_id == case_id)
    if status is not None:
        q = q.where(t.sightings.c.status == status)
    return q.order_by(t.sightings.c.seen_at, t.sightings.c.id)


def _clean_sighting(raw: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    cap = _s().MAX_LEN
    checks = {
        "location": lambda x: v.point("location", x),
        "seen_at": lambda x: v.moment("seen_at", x),
        "source": lambda x: v.choice("source", x, v.SIGHTING_SOURCES),
        "confidence": lambda x: v.choice("confidence", x, v.SIGHTING_CONFIDENCES),
        "status": lambda x: v.choice("status", x, v.SIGHTING_STATUSES),
        "reported_by": lambda x: v.text("reported_by", x, cap["reported_by"]),
        "reporter_contact": lambda x: v.text("reporter_contact", x, cap["reporter_contact"]),
        "description": lambda x: v.text("description", x, cap["description"]),
    }
    return {name: checks[name](value) for name, value in raw.items()}


def _sighting_columns(clean: Mapping[str, Any]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for name, value in clean.items():
        if name == "location":
            lat, lon = value
            values.update({"geom": Point(lon, lat), "lat": lat, "lon": lon})
        else:
            values[name] = value
    return values


def _sighting_values(s: Sighting) -> dict[str, Any]:
    return {
        "location": (s.lat, s.lon),
        "seen_at": s.seen_at,
        "source": s.source,
        "confidence": s.confidence,
        "status": s.status,
        "reported_by": s.reported_by,
        "reporter_contact": s.reporter_contact,
        "description": s.description,
    }


def _sighting(row: Any) -> Sighting:
    return Sighting(
        id=row.id,
        case_id=row.case_id,
        lat=row.lat,
        lon=row.lon,
        seen_at=row.seen_at,
        source=row.source,
        confidence=row.confidence,
        status=row.status,
        reported_by=row.reported_by,
        reporter_contact=row.reporter_contact,
        description=row.description,
        borough=row.borough,
        borough_code=row.borough_code,
        bcu=row.bcu,
        force=row.force,
        ward=row.ward,
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by_name=row.updated_by_name,
        version=row.version,
    )
