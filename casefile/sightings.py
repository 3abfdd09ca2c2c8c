"""Sightings in the store: record them (one or a batch), correct or remove them, and read them.

A sighting is a point (lat, lon) where and when someone saw the child, with its
source, confidence and status (unverified, verified or dismissed). Each new or
moved sighting is tagged with its borough, BCU, force and ward
(:func:`tag_points`). Verified sightings in time order are the child's known
path (:func:`path`); the latest one is the last known location, else the case's
IPP (:func:`last_known_location_of`). Who reported a sighting, how to reach them
and the description are personal: their values go only to the purgeable side of
the audit log."""

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
from casefile.database import Database
from casefile.errors import InvalidInput, NotFound
from casefile.permissions import Actor
from casefile.records import MAX_LEN, LastKnown, Sighting
from casefile.unit_of_work import UnitOfWork, writes
from geo import locate_many
from vocab.search import SIGHTING_CONFIDENCES, SIGHTING_SOURCES, SIGHTING_STATUSES

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
    """One sighting to add (see :func:`add_sightings`). Location is (lat, lon)."""

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
    """Borough / BCU / force / ward for each point (lat/lon degrees; None where outside
    every area)."""
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


@writes
def add_sighting(
    db: Database, /,
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
    return add_sightings(
        db,
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


@writes
def add_sightings(
    db: Database, /,
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
    unit = UnitOfWork(db, actor, perm.SIGHTING_WRITE)
    if not items:
        return []
    cleaned: list[dict[str, Any]] = []
    keys: list[str | None] = []
    for i, item in enumerate(items):
        try:
            cleaned.append(
                clean_sighting(
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
    reason = v.text("reason", reason, MAX_LEN["reason"]) or None
    tags = tag_points([c["location"][0] for c in cleaned], [c["location"][1] for c in cleaned])
    with unit as uow:
        uow.enter_case(case_id)
        conn = uow.conn
        replayed = uow.replay_many(keys, "sighting")
        fresh = [i for i, key in enumerate(keys) if key is None or key not in replayed]
        rows_in = [
            {
                "case_id": case_id,
                **sighting_columns(cleaned[i]),
                **tags[i],
                **uow.new_row_stamps(),
            }
            for i in fresh
        ]
        new_ids: list[int] = []
        if len(rows_in) == 1:
            new_ids = [conn.execute(
                t.sightings.insert().returning(t.sightings.c.id), rows_in[0]
            ).scalar_one()]
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
                "created_at": uow.now,
            }
            for i, sid in by_index.items()
            if keys[i] is not None
        ]
        if remembered:
            conn.execute(t.idempotency.insert(), remembered)
        for i, sid in by_index.items():
            uow.record(
                "sighting",
                sid,
                "create",
                {k: (None, cleaned[i][k]) for k in SIGHTING_FIELDS},
                reason=reason,
            )
        ids = [
            replayed[key] if key is not None and key in replayed else by_index[i]
            for i, key in enumerate(keys)
        ]
        rows = {
            r.id: r
            for r in conn.execute(
                sightings_select().where(t.sightings.c.id.in_(sorted(set(ids))))
            ).all()
        }
    missing = [i for i in ids if i not in rows]
    if missing:
        raise NotFound("This sighting was saved before and has since been deleted.")
    return [sighting_record(rows[i]) for i in ids]


@writes
def update_sighting(
    db: Database, /,
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
    unit = UnitOfWork(db, actor, perm.SIGHTING_WRITE)
    if "lat" in changes or "lon" in changes:
        raise InvalidInput("Move a sighting with location=(lat, lon).")
    unknown = set(changes) - set(SIGHTING_FIELDS)
    if unknown:
        raise InvalidInput(f"Sightings have no field(s) {', '.join(sorted(unknown))}.")
    clean = clean_sighting(changes, creating=False)
    reason = v.text("reason", reason, MAX_LEN["reason"]) or None
    tag = None
    if "location" in clean:
        tag = tag_points([clean["location"][0]], [clean["location"][1]])[0]
    with unit as uow:
        row = uow.open(t.sightings, sighting_id, what="sighting", version=version)
        current = sighting_record(row)
        before = sighting_values(current)
        diff = {k: (before[k], val) for k, val in clean.items() if before[k] != val}
        if not diff:
            return current
        values = sighting_columns({k: after for k, (_, after) in diff.items()})
        if "location" in diff and tag is not None:
            values.update(tag)
        uow.save(t.sightings, row, values, entity="sighting", action="update", changes=diff,
                 what="sighting", reason=reason)
        return sighting_record(require_sighting(uow.conn, sighting_id))


@writes
def delete_sighting(
    db: Database, /, actor: Actor, sighting_id: int, *, version: int, reason: str | None = None
) -> None:
    """Remove a sighting entered by mistake (a wrong one is better *dismissed*)."""
    unit = UnitOfWork(db, actor, perm.SIGHTING_WRITE)
    reason = v.text("reason", reason, MAX_LEN["reason"]) or None
    with unit as uow:
        row = uow.open(t.sightings, sighting_id, what="sighting", version=version)
        before = sighting_values(sighting_record(row))
        uow.remove(t.sightings, row, entity="sighting", reason=reason,
                   changes={k: (before[k], None) for k in SIGHTING_FIELDS})


def get_sighting(db: Database, /, actor: Actor, sighting_id: int) -> Sighting:
    """One sighting."""
    with UnitOfWork(db, actor, perm.SIGHTING_READ, mode="read") as uow:
        row = require_sighting(uow.conn, sighting_id)
        uow.enter_case(row.case_id)
        return sighting_record(row)


def sightings(
    db: Database, /, actor: Actor, case_id: int, *, status: str | None = None
) -> list[Sighting]:
    """The case's sightings in time seen order, optionally of one status."""
    unit = UnitOfWork(db, actor, perm.SIGHTING_READ, mode="read")
    if status is not None:
        v.choice("status", status, SIGHTING_STATUSES)
    with unit as uow:
        uow.enter_case(case_id)
        rows = uow.conn.execute(sightings_query(case_id, status)).all()
    return [sighting_record(r) for r in rows]


def path(db: Database, /, actor: Actor, case_id: int) -> list[Sighting]:
    """Verified sightings in time order: the route the child is known to have taken."""
    return sightings(db, actor, case_id, status="verified")


def last_known_location(db: Database, /, actor: Actor, case_id: int) -> LastKnown:
    """The latest verified sighting (by time seen), else the case's IPP."""
    with UnitOfWork(db, actor, perm.SIGHTING_READ, case_id=case_id, mode="read") as uow:
        return last_known_location_of(uow.conn, case_id)


def last_known_location_of(conn: sa.Connection, case_id: int) -> LastKnown:
    """Where the child of ``case_id`` was last known to be: the latest verified sighting
    (by time seen), else the case's IPP. No permission check: callers' units do."""
    row = conn.execute(
        sa.select(t.sightings.c.id, t.sightings.c.lat, t.sightings.c.lon, t.sightings.c.seen_at)
        .where(t.sightings.c.case_id == case_id, t.sightings.c.status == "verified")
        .order_by(t.sightings.c.seen_at.desc(), t.sightings.c.id.desc())
        .limit(1)
    ).first()
    if row is None:
        ipp = conn.execute(
            sa.select(t.cases.c.ipp_lat, t.cases.c.ipp_lon).where(t.cases.c.id == case_id)
        ).one()
        return LastKnown(ipp.ipp_lat, ipp.ipp_lon, None, "ipp", None)
    return LastKnown(row.lat, row.lon, row.seen_at, "sighting", row.id)


def sightings_select() -> sa.Select:
    """Every column of ``sightings`` but the geometry (lat/lon carry the point)."""
    return sa.select(*[c for c in t.sightings.c if c.name != "geom"])


def require_sighting(conn: sa.Connection, sighting_id: Any) -> Any:
    """The sighting row ``sighting_id`` or :class:`NotFound` (no permission check)."""
    if isinstance(sighting_id, bool) or not isinstance(sighting_id, int):
        raise NotFound("No sighting was chosen.")
    row = conn.execute(sightings_select().where(t.sightings.c.id == sighting_id)).first()
    if row is None:
        raise NotFound("This sighting does not exist (it may have been deleted).")
    return row


def sightings_query(case_id: int, status: str | None = None) -> sa.Select:
    """The case's sightings (optionally of one status) in time seen order."""
    q = sightings_select().where(t.sightings.c.case_id == case_id)
    if status is not None:
        q = q.where(t.sightings.c.status == status)
    return q.order_by(t.sightings.c.seen_at, t.sightings.c.id)


def clean_sighting(raw: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Checked sighting fields (see :data:`SIGHTING_FIELDS`); raises :class:`InvalidInput`."""
    cap = MAX_LEN
    checks = {
        "location": lambda x: v.point("location", x),
        "seen_at": lambda x: v.moment("seen_at", x),
        "source": lambda x: v.choice("source", x, SIGHTING_SOURCES),
        "confidence": lambda x: v.choice("confidence", x, SIGHTING_CONFIDENCES),
        "status": lambda x: v.choice("status", x, SIGHTING_STATUSES),
        "reported_by": lambda x: v.text("reported_by", x, cap["reported_by"]),
        "reporter_contact": lambda x: v.text("reporter_contact", x, cap["reporter_contact"]),
        "description": lambda x: v.text("description", x, cap["description"]),
    }
    return {name: checks[name](value) for name, value in raw.items()}


def sighting_columns(clean: Mapping[str, Any]) -> dict[str, Any]:
    """Column values of checked sighting fields (the location as geometry and lat/lon)."""
    values: dict[str, Any] = {}
    for name, value in clean.items():
        if name == "location":
            lat, lon = value
            values.update({"geom": Point(lon, lat), "lat": lat, "lon": lon})
        else:
            values[name] = value
    return values


def sighting_values(s: Sighting) -> dict[str, Any]:
    """A sighting's fields as :func:`clean_sighting` gives them (for diffs)."""
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


def sighting_record(row: Any) -> Sighting:
    """A :class:`Sighting` from its row."""
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
