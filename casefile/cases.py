"""Cases in the store: open one, change it, add members, find and read it, poll it.

A case is what every other record hangs from: opening one also starts its
change counter (``case_change``) and makes the opening coordinator its first
member. Any write to a case or its records moves the counter (the unit of work
does, at commit), so :func:`change_token` is the one cheap, indexed query a
live view polls; :func:`load_case` reads the case, its sightings and the counter
consistently. The child's name, age, home, description and notes are personal:
their values go only to the purgeable side of the audit log.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from shapely import Point

from casefile import access
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.database import Database
from casefile.errors import InvalidInput, NotFound, PermissionDenied
from casefile.permissions import Actor
from casefile.records import MAX_LEN, Case, CaseFile, CaseSummary
from casefile.sightings import sighting_record, sightings_query
from casefile.unit_of_work import UnitOfWork, check_version, writes
from vocab import settings
from vocab.search import CASE_STATUSES

#: a case's fields: what create and update take (``home`` and ``ipp`` are (lat, lon))
CASE_FIELDS: tuple[str, ...] = (
    "reference",
    "child_name",
    "age",
    "risk",
    "reported_missing_at",
    "home",
    "ipp",
    "status",
    "description",
    "notes",
    "family_name",
    "liaison_name",
    "liaison_phone",
)


@writes
def create_case(
    db: Database, /,
    actor: Actor,
    *,
    reference: str,
    child_name: str,
    age: int | None,
    risk: str,
    reported_missing_at: datetime,
    ipp: tuple[float, float],
    home: tuple[float, float] | None = None,
    description: str = "",
    notes: str = "",
    status: str = "open",
    idempotency_key: str | None = None,
    reason: str | None = None,
) -> Case:
    """Open a case; the creating coordinator becomes a member of it.

    Points are (lat, lon) in degrees. ``reported_missing_at`` must be aware.
    """
    unit = UnitOfWork(db, actor, perm.CASE_CREATE)
    clean = clean_case(
        {
            "reference": reference,
            "child_name": child_name,
            "age": age,
            "risk": risk,
            "reported_missing_at": reported_missing_at,
            "home": home,
            "ipp": ipp,
            "status": status,
            "description": description,
            "notes": notes,
        },
        creating=True,
    )
    key = v.idempotency_key(idempotency_key)
    reason = v.text("reason", reason, MAX_LEN["reason"]) or None
    with unit as uow:
        conn = uow.conn
        access.authorize(conn, actor, perm.CASE_CREATE)
        existing = uow.replay(key, "case")
        if existing is not None:
            return case_record(access.require_case(conn, existing))
        if conn.execute(
            sa.select(t.cases.c.id).where(t.cases.c.reference == clean["reference"])
        ).first():
            raise InvalidInput(f"A case with reference {clean['reference']!r} already exists.")
        case_id = int(
            conn.execute(
                t.cases.insert().values(
                    **case_columns(clean), status_changed_at=uow.now, **uow.new_row_stamps()
                ).returning(t.cases.c.id)
            ).scalar_one()
        )
        # the counter starts at 0: the unit moves it to 1 at commit, with the record
        conn.execute(t.case_change.insert().values(case_id=case_id, n=0))
        conn.execute(
            t.case_member.insert().values(
                case_id=case_id,
                user_id=actor.user_id,
                role=actor.role,
                added_at=uow.now,
                added_by_name=actor.display_name,
            )
        )
        uow.remember(key, "case", case_id, case_id)
        uow.record(
            "case",
            case_id,
            "create",
            {k: (None, clean[k]) for k in CASE_FIELDS if k in clean},
            reason=reason,
            case_id=case_id,
        )
        return case_record(access.require_case(conn, case_id))


@writes
def update_case(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    version: int,
    reason: str | None = None,
    **changes: Any,
) -> Case:
    """Change some fields of a case saved at ``version``; raises StaleVersion if not current.

    Fields: reference, child_name, age, risk, reported_missing_at, home, ipp,
    status (open / found / closed), description, notes, family_name,
    liaison_name, liaison_phone (the family page's). A change that sets
    every field to what it already is writes nothing.
    """
    unit = UnitOfWork(db, actor, perm.CASE_UPDATE)
    unknown = set(changes) - set(CASE_FIELDS)
    if unknown:
        raise InvalidInput(f"Cases have no field(s) {', '.join(sorted(unknown))}.")
    clean = clean_case(changes, creating=False)
    reason = v.text("reason", reason, MAX_LEN["reason"]) or None
    with unit as uow:
        uow.enter_case(case_id)
        # the row is the case itself (no case_id column): locked and checked here
        row = access.require_case(uow.conn, case_id, lock=True)
        check_version("case", case_id, row, version)
        current = case_record(row)
        before = {k: getattr(current, k) for k in CASE_FIELDS}
        diff = {k: (before[k], val) for k, val in clean.items() if before[k] != val}
        if not diff:
            return current
        if (
            "reference" in diff
            and uow.conn.execute(
                sa.select(t.cases.c.id).where(
                    t.cases.c.reference == clean["reference"], t.cases.c.id != case_id
                )
            ).first()
        ):
            raise InvalidInput(f"A case with reference {clean['reference']!r} already exists.")
        values = case_columns({k: after for k, (_, after) in diff.items()})
        if "status" in diff:
            values["status_changed_at"] = uow.now
        uow.save(t.cases, row, values, entity="case", action="update", changes=diff,
                 what="case", reason=reason, case_id=case_id)
        return case_record(access.require_case(uow.conn, case_id))


@writes
def add_case_member(
    db: Database, /, actor: Actor, case_id: int, username: str, *, role: str = "coordinator"
) -> None:
    """Let another account act on this case (a coordinator of it, or the command line)."""
    unit = UnitOfWork(db, actor, perm.CASE_MEMBERS)
    role = v.choice("role", role, perm.ACCOUNT_ROLES)
    with unit as uow:
        uow.enter_case(case_id)
        conn = uow.conn
        user = conn.execute(
            sa.select(t.users.c.id, t.users.c.role).where(t.users.c.username == username)
        ).first()
        if user is None:
            raise NotFound(f"There is no account called {username!r}.")
        if user.role != role:
            raise InvalidInput(f"{username} is not a {role} account.")
        exists = conn.execute(
            sa.select(t.case_member.c.role).where(
                t.case_member.c.case_id == case_id, t.case_member.c.user_id == user.id
            )
        ).first()
        if exists is not None:
            return
        conn.execute(
            t.case_member.insert().values(
                case_id=case_id,
                user_id=user.id,
                role=role,
                added_at=uow.now,
                added_by_name=actor.display_name,
            )
        )
        uow.record("member", user.id, "add", {"role": (None, role)})


def case_id_for(db: Database, /, actor: Actor, reference: str) -> int:
    """The id of the case with this reference (for the command line and links)."""
    with UnitOfWork(db, actor, perm.CASE_MEMBERS, mode="read") as uow:
        case_id = case_id_by_reference(uow.conn, reference)
        uow.enter_case(case_id)
        return case_id


def list_cases(db: Database, /, actor: Actor) -> list[CaseSummary]:
    """The cases this actor is on, most recently changed first."""
    with UnitOfWork(db, actor, perm.CASE_READ, mode="read") as uow:
        access.authorize(uow.conn, actor, perm.CASE_READ)
        rows = uow.conn.execute(
            sa.select(
                t.cases.c.id,
                t.cases.c.reference,
                t.cases.c.child_name,
                t.cases.c.risk,
                t.cases.c.status,
                t.cases.c.reported_missing_at,
                t.cases.c.updated_at,
                t.case_member.c.role,
            )
            .join(t.case_member, t.case_member.c.case_id == t.cases.c.id)
            .where(t.case_member.c.user_id == actor.user_id)
            .order_by(t.cases.c.updated_at.desc(), t.cases.c.id.desc())
        ).all()
    return [CaseSummary(*r) for r in rows]


def get_case(db: Database, /, actor: Actor, case_id: int) -> Case:
    """One case (without sightings)."""
    with UnitOfWork(db, actor, perm.CASE_READ, case_id=case_id, mode="read") as uow:
        return case_record(uow.case_row)


def find_case(db: Database, /, actor: Actor, reference: str) -> Case:
    """A case by its reference (must be on it)."""
    with UnitOfWork(db, actor, perm.CASE_READ, mode="read") as uow:
        return case_record(uow.enter_case(case_id_by_reference(uow.conn, reference)))


def load_case(db: Database, /, actor: Actor, case_id: int) -> CaseFile:
    """A case, all its sightings in time order and its change token, read consistently."""
    with UnitOfWork(db, actor, perm.SIGHTING_READ, case_id=case_id, mode="read") as uow:
        case = case_record(uow.case_row)
        token = uow.conn.execute(
            sa.select(t.case_change.c.n).where(t.case_change.c.case_id == case_id)
        ).scalar_one()
        rows = uow.conn.execute(sightings_query(case_id)).all()
    return CaseFile(case=case, sightings=tuple(sighting_record(r) for r in rows), token=int(token))


def change_token(db: Database, /, actor: Actor, case_id: int) -> int:
    """The case's change counter: one indexed query; any write to the case moves it.

    Also re-checks that the actor is still on the case and their account is on,
    so a view polling this stops when access is taken away (PermissionDenied).

    The one hot read of the store, so no unit of work: the actor's shape is
    checked as a unit would, then :func:`token_query` runs alone on the poll
    engine (no transaction), doing the membership check in the same query.
    On PostgreSQL the counter comes from the process's listener instead
    (:mod:`casefile.changes`) while the database's last yes for this actor and
    case was at that same counter and is younger than ``ACCESS_RECHECK_SECONDS``:
    an idle view then costs no query at all.
    """
    access.check_actor_shape(actor, perm.CASE_READ)
    if actor.role == "system":
        raise PermissionDenied("The command line does not poll cases.")
    key = ("token", actor.user_id, actor.role, case_id)
    feed = db.change_feed()  # PostgreSQL: the process's listener; None on SQLite
    if feed is not None:
        pushed = feed.confirmed(key, case_id, settings.ACCESS_RECHECK_SECONDS)
        if pushed is not None:
            return pushed  # no query: nothing changed since the database last said yes
    with db.poll_engine.connect() as conn:
        n = conn.execute(
            token_query(), {"case_id": case_id, "user_id": actor.user_id, "role": actor.role}
        ).scalar()
    if n is None:
        raise PermissionDenied("This case is not available to you (any more).")
    if feed is not None:
        feed.vouch(key, int(n))
    return int(n)


def case_id_by_reference(conn: sa.Connection, reference: str) -> int:
    """The id of the case with ``reference``, or :class:`NotFound`."""
    case_id = conn.execute(
        sa.select(t.cases.c.id).where(t.cases.c.reference == reference)
    ).scalar()
    if case_id is None:
        raise NotFound(f"There is no case {reference!r}.")
    return int(case_id)


@functools.cache
def token_query() -> sa.Select:
    """The poll: the case's counter, only while the actor is an active member of it
    in the role it claims (binds ``case_id``, ``user_id``, ``role``; one indexed join)."""
    return (
        sa.select(t.case_change.c.n)
        .select_from(
            t.case_change.join(
                t.case_member, t.case_member.c.case_id == t.case_change.c.case_id
            ).join(t.users, t.users.c.id == t.case_member.c.user_id)
        )
        .where(
            t.case_change.c.case_id == sa.bindparam("case_id"),
            t.case_member.c.user_id == sa.bindparam("user_id"),
            t.case_member.c.role == sa.bindparam("role"),
            t.users.c.role == sa.bindparam("role"),
            t.users.c.active.is_(True),
        )
    )


def clean_case(raw: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """Checked case fields (see :data:`CASE_FIELDS`); raises :class:`InvalidInput`."""
    cap = MAX_LEN
    out: dict[str, Any] = {}
    checks = {
        "reference": lambda x: v.text("reference", x, cap["reference"], required=True),
        "child_name": lambda x: v.text("child_name", x, cap["child_name"], required=True),
        "age": lambda x: v.integer("age", x, 0, 120, required=False),
        "risk": lambda x: v.choice("risk", x, settings.RISK_GRADES),
        "reported_missing_at": lambda x: v.moment("reported_missing_at", x),
        "home": lambda x: v.point("home", x, required=False),
        "ipp": lambda x: v.point("ipp", x),
        "status": lambda x: v.choice("status", x, CASE_STATUSES),
        "description": lambda x: v.text("description", x, cap["description"]),
        "notes": lambda x: v.text("notes", x, cap["notes"]),
        "family_name": lambda x: v.text("family_name", x, cap["family_name"]),
        "liaison_name": lambda x: v.text("liaison_name", x, cap["liaison_name"]),
        "liaison_phone": lambda x: v.text("liaison_phone", x, cap["liaison_phone"]),
    }
    for name, value in raw.items():
        out[name] = checks[name](value)
    if creating and out.get("age") is None:
        raise InvalidInput("Age is required (your best estimate if unknown).")
    return out


def case_columns(clean: Mapping[str, Any]) -> dict[str, Any]:
    """Column values of checked case fields (points as geometry and lat/lon columns)."""
    values: dict[str, Any] = {}
    for name, value in clean.items():
        if name in ("home", "ipp"):
            if value is None:
                values.update({f"{name}_geom": None, f"{name}_lat": None, f"{name}_lon": None})
            else:
                lat, lon = value
                values.update(
                    {f"{name}_geom": Point(lon, lat), f"{name}_lat": lat, f"{name}_lon": lon}
                )
        else:
            values[name] = value
    return values


def case_record(row: Any) -> Case:
    """A :class:`Case` from its row."""
    return Case(
        id=row.id,
        reference=row.reference,
        child_name=row.child_name,
        age=row.age,
        risk=row.risk,
        reported_missing_at=row.reported_missing_at,
        home_lat=row.home_lat,
        home_lon=row.home_lon,
        ipp_lat=row.ipp_lat,
        ipp_lon=row.ipp_lon,
        status=row.status,
        status_changed_at=row.status_changed_at,
        description=row.description,
        notes=row.notes,
        created_at=row.created_at,
        updated_at=row.updated_at,
        updated_by_name=row.updated_by_name,
        version=row.version,
        family_name=row.family_name or "",
        liaison_name=row.liaison_name or "",
        liaison_phone=row.liaison_phone or "",
    )
