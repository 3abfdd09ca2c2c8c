"""The store: cases, sightings, accounts and the audit log, on SQLite or PostGIS.

One :class:`Store` over one SQLAlchemy engine. Every public method takes the
acting :class:`~casefile.permissions.Actor` first and checks it here, whatever
page calls. Every write is one transaction that

* checks the actor's role and case membership,
* refuses a stale ``version`` (:class:`StaleVersion`: who changed it, when),
* writes the entity,
* bumps the case's change counter (``case_change.n``) that live views poll,
* appends an audit record (field names; non-personal before/after values; the
  personal ones and the reason go to the purgeable ``audit_detail``),

or writes nothing at all. Creating calls take an ``idempotency_key`` so a form
or drawing handed back again by a rerun is saved once.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from shapely import Point

from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.accounts import AccountsMixin
from casefile.audit import NAMES_ONLY_ENTITIES, PERSONAL_FIELDS, AuditMixin, _json
from casefile.engine import describe_url, make_engine, resolve_url, upgrade
from casefile.errors import InvalidInput, NotFound, PermissionDenied, StaleVersion, StoreError
from casefile.handovers import HandoversMixin
from casefile.hazards import HazardsMixin
from casefile.links import LinksMixin
from casefile.permissions import Actor
from casefile.probability import PoaMixin
from casefile.purge import PurgeMixin
from casefile.records import (
    Case,
    CaseFile,
    CaseSummary,
)
from casefile.sectors import SectorsMixin
from casefile.sightings import (
    SIGHTING_FIELDS,
    NewSighting,
    SightingsMixin,
    _clean_sighting,
    _sighting,
    _sighting_columns,
    _sightings_query,
    tag_points,
)
from casefile.teams import TeamsMixin
from casefile.timefmt import utcnow
from casefile.tips import TipsMixin
from casefile.tracks import TracksMixin

__all__ = [  # the store, and the helpers other store modules reach through ``_s()``
    "MAX_LEN", "NAMES_ONLY_ENTITIES", "PERSONAL_FIELDS", "SIGHTING_FIELDS", "NewSighting", "Store",
    "_RetryIdempotent", "_check_actor_shape", "_check_version", "_clean_sighting", "_json",
    "_sighting", "_sighting_columns", "_sightings_query", "open_store", "tag_points",
]

#: text length caps (characters)
MAX_LEN: dict[str, int] = {
    "reference": 40,
    "child_name": 80,
    "description": 4000,
    "notes": 10_000,
    "reported_by": 120,
    "reporter_contact": 200,
    "reason": 1000,
    "display_name": 120,
    "password": 1024,
}
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
)
def _risk_grades() -> tuple[str, ...]:
    from wayhome import settings

    return settings.RISK_GRADES


class Store(
    LinksMixin, TracksMixin, PoaMixin, SectorsMixin, HazardsMixin, TeamsMixin, HandoversMixin,
    TipsMixin, PurgeMixin, SightingsMixin, AccountsMixin, AuditMixin
):
    """Cases, sightings, accounts and audit over one database. Thread-safe; share one.

    Sectors, hazard areas, teams and handovers come from the mixins (one module each);
    private links, family tips and searches, and the case purge likewise. LinksMixin
    comes first: it narrows team leads' and partner units' writes to their own team
    or unit before the general method runs.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = resolve_url(url)
        self.engine = make_engine(self.url)
        self.backend = "postgis" if self.engine.dialect.name == "postgresql" else "sqlite"
        self._write_engine = self.engine.execution_options(wayhome_write=True)
        if self.backend == "postgis":
            self._poll_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            self._poll_engine = self.engine.execution_options(wayhome_nobegin=True)
        if migrate:
            try:
                upgrade(self.engine)
            except sa.exc.DBAPIError as exc:
                self.engine.dispose()
                raise StoreError(
                    f"Cannot open or prepare the database at {describe_url(self.url)}: "
                    f"{str(exc.orig).strip().splitlines()[0]}"
                ) from exc

    def __repr__(self) -> str:
        return f"Store({describe_url(self.url)!r})"

    def close(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()

    # ------------------------------------------------------------------ plumbing

    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        try:
            with self._write_engine.begin() as conn:
                yield conn
        except sa.exc.IntegrityError as exc:
            raise _integrity_message(exc) from exc

    @contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        with self.engine.connect() as conn, conn.begin():
            yield conn

    def _authorize(
        self,
        conn: sa.Connection,
        actor: Actor | None,
        permission: str,
        case_id: int | None = None,
    ) -> None:
        """The one permission check: role map, then the actor's account, then the case."""
        _check_actor_shape(actor, permission)
        assert actor is not None
        if actor.role == "system":
            if case_id is not None and permission not in perm.SYSTEM_CASE_PERMISSIONS:
                raise PermissionDenied("The command line cannot do that on a case.")
            return
        query = (
            sa.select(
                t.users.c.active, t.users.c.role, t.case_member.c.role, t.users.c.expires_at
            )
            .select_from(
                t.users.outerjoin(
                    t.case_member,
                    sa.and_(
                        t.case_member.c.user_id == t.users.c.id,
                        t.case_member.c.case_id == (case_id if case_id is not None else -1),
                    ),
                )
            )
            .where(t.users.c.id == actor.user_id)
        )
        row = conn.execute(query).first()
        if row is None or not row[0] or (row[3] is not None and row[3] <= utcnow()):
            raise PermissionDenied(perm.no_access_message(actor.role))
        if row[1] != actor.role:
            raise PermissionDenied(f"This account is not a {actor.role.replace('_', ' ')}.")
        if case_id is not None and row[2] != actor.role:
            _require_case(conn, case_id)
            raise PermissionDenied(
                f"{actor.display_name} is not on this case as a {actor.role.replace('_', ' ')}. "
                "Ask a coordinator of the case to add you."
            )

    def _bump(self, conn: sa.Connection, case_id: int) -> None:
        conn.execute(
            t.case_change.update()
            .where(t.case_change.c.case_id == case_id)
            .values(n=t.case_change.c.n + 1)
        )

    def _replay(
        self, conn: sa.Connection, key: str | None, entity: str, actor: Actor
    ) -> int | None:
        """The id already saved under ``key``, if this form was submitted before."""
        if key is None:
            return None
        row = conn.execute(
            sa.select(
                t.idempotency.c.entity, t.idempotency.c.entity_id, t.idempotency.c.actor_id
            ).where(t.idempotency.c.key == key)
        ).first()
        if row is None:
            return None
        if row.entity != entity or row.actor_id != actor.user_id:
            raise InvalidInput("This form was already used for something else; reload the page.")
        return int(row.entity_id)

    def _replay_many(
        self, conn: sa.Connection, keys: Sequence[str | None], entity: str, actor: Actor
    ) -> dict[str, int]:
        """{key: id} for the keys already saved (forms handed back again)."""
        wanted = sorted({k for k in keys if k is not None})
        if not wanted:
            return {}
        found: dict[str, int] = {}
        for row in conn.execute(
            sa.select(
                t.idempotency.c.key,
                t.idempotency.c.entity,
                t.idempotency.c.entity_id,
                t.idempotency.c.actor_id,
            ).where(t.idempotency.c.key.in_(wanted))
        ):
            if row.entity != entity or row.actor_id != actor.user_id:
                raise InvalidInput(
                    "This form was already used for something else; reload the page."
                )
            found[row.key] = int(row.entity_id)
        if len(set(keys) - {None}) != sum(k is not None for k in keys):
            raise InvalidInput("Two items of one save carry the same form key.")
        return found

    def _remember(
        self,
        conn: sa.Connection,
        key: str | None,
        entity: str,
        entity_id: int,
        case_id: int | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        if key is not None:
            conn.execute(
                t.idempotency.insert().values(
                    key=key,
                    entity=entity,
                    entity_id=entity_id,
                    case_id=case_id,
                    actor_id=actor.user_id,
                    created_at=at,
                )
            )

    # ------------------------------------------------------------------ cases

    def create_case(
        self,
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
        _check_actor_shape(actor, perm.CASE_CREATE)
        clean = _clean_case(
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
        now = utcnow()
        with self._idempotent(), self._writing() as conn:
            self._authorize(conn, actor, perm.CASE_CREATE)
            existing = self._replay(conn, key, "case", actor)
            if existing is not None:
                return _case(_require_case(conn, existing))
            if conn.execute(
                sa.select(t.cases.c.id).where(t.cases.c.reference == clean["reference"])
            ).first():
                raise InvalidInput(f"A case with reference {clean['reference']!r} already exists.")
            values = _case_columns(clean)
            case_id = conn.execute(
                t.cases.insert().values(
                    **values,
                    status_changed_at=now,
                    created_at=now,
                    created_by_id=actor.user_id,
                    updated_at=now,
                    updated_by_id=actor.user_id,
                    updated_by_name=actor.display_name,
                    version=1,
                )
            ).inserted_primary_key[0]
            conn.execute(t.case_change.insert().values(case_id=case_id, n=1))
            conn.execute(
                t.case_member.insert().values(
                    case_id=case_id,
                    user_id=actor.user_id,
                    role=actor.role,
                    added_at=now,
                    added_by_name=actor.display_name,
                )
            )
            self._remember(conn, key, "case", case_id, case_id, actor, now)
            self._audit(
                conn,
                actor,
                now,
                case_id=case_id,
                entity="case",
                entity_id=case_id,
                action="create",
                changes={k: (None, clean[k]) for k in CASE_FIELDS if k in clean},
                reason=reason,
            )
            return _case(_require_case(conn, case_id))

    def update_case(
        self,
        actor: Actor,
        case_id: int,
        *,
        version: int,
        reason: str | None = None,
        **changes: Any,
    ) -> Case:
        """Change some fields of a case saved at ``version``; raises StaleVersion if not current.

        Fields: reference, child_name, age, risk, reported_missing_at, home, ipp,
        status (open / found / closed), description, notes. A change that sets
        every field to what it already is writes nothing.
        """
        _check_actor_shape(actor, perm.CASE_UPDATE)
        unknown = set(changes) - set(CASE_FIELDS)
        if unknown:
            raise InvalidInput(f"Cases have no field(s) {', '.join(sorted(unknown))}.")
        clean = _clean_case(changes, creating=False)
        reason = v.text("reason", reason, MAX_LEN["reason"]) or None
        now = utcnow()
        with self._writing() as conn:
            row = _require_case(conn, case_id, lock=True)
            self._authorize(conn, actor, perm.CASE_UPDATE, case_id)
            _check_version("case", case_id, row, version)
            current = _case(row)
            before = {
                "reference": current.reference,
                "child_name": current.child_name,
                "age": current.age,
                "risk": current.risk,
                "reported_missing_at": current.reported_missing_at,
                "home": current.home,
                "ipp": current.ipp,
                "status": current.status,
                "description": current.description,
                "notes": current.notes,
            }
            diff = {k: (before[k], val) for k, val in clean.items() if before[k] != val}
            if not diff:
                return current
            if (
                "reference" in diff
                and conn.execute(
                    sa.select(t.cases.c.id).where(
                        t.cases.c.reference == clean["reference"], t.cases.c.id != case_id
                    )
                ).first()
            ):
                raise InvalidInput(f"A case with reference {clean['reference']!r} already exists.")
            values = _case_columns({k: after for k, (_, after) in diff.items()})
            if "status" in diff:
                values["status_changed_at"] = now
            result = conn.execute(
                t.cases.update()
                .where(t.cases.c.id == case_id, t.cases.c.version == version)
                .values(
                    **values,
                    updated_at=now,
                    updated_by_id=actor.user_id,
                    updated_by_name=actor.display_name,
                    version=version + 1,
                )
            )
            if result.rowcount != 1:  # pragma: no cover - the row lock makes this unreachable
                raise StoreError("The case changed while saving; reload and try again.")
            self._bump(conn, case_id)
            self._audit(
                conn,
                actor,
                now,
                case_id=case_id,
                entity="case",
                entity_id=case_id,
                action="update",
                changes=diff,
                reason=reason,
            )
            return _case(_require_case(conn, case_id))

    def add_case_member(
        self, actor: Actor, case_id: int, username: str, *, role: str = "coordinator"
    ) -> None:
        """Let another account act on this case (a coordinator of it, or the command line)."""
        _check_actor_shape(actor, perm.CASE_MEMBERS)
        role = v.choice("role", role, perm.ACCOUNT_ROLES)
        now = utcnow()
        with self._writing() as conn:
            _require_case(conn, case_id)
            self._authorize(conn, actor, perm.CASE_MEMBERS, case_id)
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
                    added_at=now,
                    added_by_name=actor.display_name,
                )
            )
            self._bump(conn, case_id)
            self._audit(
                conn,
                actor,
                now,
                case_id=case_id,
                entity="member",
                entity_id=user.id,
                action="add",
                changes={"role": (None, role)},
            )

    def case_id_for(self, actor: Actor, reference: str) -> int:
        """The id of the case with this reference (for the command line and links)."""
        _check_actor_shape(actor, perm.CASE_MEMBERS)
        with self._reading() as conn:
            case_id = conn.execute(
                sa.select(t.cases.c.id).where(t.cases.c.reference == reference)
            ).scalar()
            if case_id is None:
                raise NotFound(f"There is no case {reference!r}.")
            self._authorize(conn, actor, perm.CASE_MEMBERS, int(case_id))
            return int(case_id)

    def list_cases(self, actor: Actor) -> list[CaseSummary]:
        """The cases this actor is on, most recently changed first."""
        _check_actor_shape(actor, perm.CASE_READ)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.CASE_READ)
            rows = conn.execute(
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

    def get_case(self, actor: Actor, case_id: int) -> Case:
        """One case (without sightings)."""
        _check_actor_shape(actor, perm.CASE_READ)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.CASE_READ, case_id)
            return _case(_require_case(conn, case_id))

    def find_case(self, actor: Actor, reference: str) -> Case:
        """A case by its reference (must be on it)."""
        _check_actor_shape(actor, perm.CASE_READ)
        with self._reading() as conn:
            row = conn.execute(
                sa.select(t.cases.c.id).where(t.cases.c.reference == reference)
            ).first()
            if row is None:
                raise NotFound(f"There is no case {reference!r}.")
            self._authorize(conn, actor, perm.CASE_READ, row.id)
            return _case(_require_case(conn, row.id))

    def load_case(self, actor: Actor, case_id: int) -> CaseFile:
        """A case, all its sightings in time order and its change token, read consistently."""
        _check_actor_shape(actor, perm.SIGHTING_READ)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.SIGHTING_READ, case_id)
            case = _case(_require_case(conn, case_id))
            token = conn.execute(
                sa.select(t.case_change.c.n).where(t.case_change.c.case_id == case_id)
            ).scalar_one()
            rows = conn.execute(_sightings_query(case_id)).all()
        return CaseFile(case=case, sightings=tuple(_sighting(r) for r in rows), token=int(token))

    def change_token(self, actor: Actor, case_id: int) -> int:
        """The case's change counter: one indexed query; any write to the case moves it.

        Also re-checks that the actor is still on the case and their account is on,
        so a view polling this stops when access is taken away (PermissionDenied).
        """
        _check_actor_shape(actor, perm.CASE_READ)
        if actor.role == "system":
            raise PermissionDenied("The command line does not poll cases.")
        with self._poll_engine.connect() as conn:
            n = conn.execute(
                _token_query(), {"case_id": case_id, "user_id": actor.user_id, "role": actor.role}
            ).scalar()
        if n is None:
            raise PermissionDenied("This case is not available to you (any more).")
        return int(n)

    # ------------------------------------------------------------------ operations

    def backup(self, dest_dir: str | Path) -> Path:
        """A consistent copy of the whole store in ``dest_dir`` (timestamped file).

        SQLite: the online backup API (safe while the app runs). PostgreSQL:
        ``pg_dump --format=custom`` (restore with ``pg_restore``).
        """
        dest = Path(dest_dir)
        dest.mkdir(parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        if self.backend == "sqlite":
            import sqlite3

            src_path = sa.engine.make_url(self.url).database
            target = dest / f"wayhome-{stamp}.sqlite3"
            src = sqlite3.connect(str(src_path))
            try:
                dst = sqlite3.connect(str(target))
                try:
                    src.backup(dst)
                finally:
                    dst.close()
            finally:
                src.close()
            return target
        pg_dump = shutil.which("pg_dump")
        if pg_dump is None:
            raise StoreError(
                "pg_dump is not installed on this machine; install the PostgreSQL client "
                "tools (e.g. postgresql-client) or back the database up on its server."
            )
        target = dest / f"wayhome-{stamp}.dump"
        libpq_url = sa.engine.make_url(self.url).set(drivername="postgresql")
        done = subprocess.run(  # noqa: S603 - fixed argv, no shell
            [
                pg_dump,
                "--format=custom",
                f"--file={target}",
                f"--dbname={libpq_url.render_as_string(hide_password=False)}",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            target.unlink(missing_ok=True)
            raise StoreError(f"pg_dump failed: {done.stderr.strip()[:500]}")
        return target

    @contextmanager
    def _idempotent(self) -> Iterator[None]:
        """Turn a lost race on an idempotency key (two reruns at once) into a retry."""
        try:
            yield
        except StoreError as exc:
            if (
                isinstance(exc.__cause__, sa.exc.IntegrityError)
                and "idempotency" in str(exc.__cause__.orig).lower()
            ):
                raise _RetryIdempotent() from exc
            raise


class _RetryIdempotent(StoreError):
    """Internal: a concurrent save with the same key won; read what it saved."""


def _retrying(method: Any) -> Any:
    """Run a creating method again once if a concurrent call with its key won."""
    import functools

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except _RetryIdempotent:
            return method(*args, **kwargs)

    return wrapper


Store.create_case = _retrying(Store.create_case)  # type: ignore[method-assign]



# ---------------------------------------------------------------------- helpers


def _check_actor_shape(actor: Any, permission: str | None) -> None:
    """No actor, a malformed one, or a role without the permission: refuse before any I/O."""
    if actor is None:
        raise PermissionDenied("No one is signed in: every change needs an actor.")
    if not isinstance(actor, Actor):
        raise PermissionDenied("The actor must be a casefile.Actor.")
    if actor.role not in perm.ROLES:
        raise PermissionDenied(f"Unknown role {actor.role!r}.")
    if actor.role == "system":
        if actor.user_id is not None:
            raise PermissionDenied("The command-line actor has no user id.")
    elif not isinstance(actor.user_id, int) or isinstance(actor.user_id, bool):
        raise PermissionDenied("The actor has no user id.")
    if permission is not None and not perm.role_allows(actor.role, permission):
        raise PermissionDenied(f"A {actor.role.replace('_', ' ')} may not do this ({permission}).")


def _check_version(entity: str, entity_id: int, row: Any, version: Any) -> None:
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInput("The version the form was loaded at is missing; reload the page.")
    if row.version != version:
        raise StaleVersion(entity, entity_id, row.updated_by_name, row.updated_at, row.version)


def _integrity_message(exc: sa.exc.IntegrityError) -> StoreError:
    text = str(exc.orig).lower()
    if "idempotency" in text:
        return StoreError("This form is being saved twice at once; reload the page.")
    if "reference" in text:
        return InvalidInput("A case with this reference already exists.")
    return StoreError("The change conflicts with what is stored; reload and try again.")


def _require_case(conn: sa.Connection, case_id: Any, *, lock: bool = False) -> Any:
    if isinstance(case_id, bool) or not isinstance(case_id, int):
        raise NotFound("No case was chosen.")
    q = sa.select(t.cases).where(t.cases.c.id == case_id)
    if lock:
        q = q.with_for_update()
    row = conn.execute(q).first()
    if row is None:
        raise NotFound("This case does not exist.")
    return row


_TOKEN_QUERY: sa.Select | None = None


def _token_query() -> sa.Select:
    global _TOKEN_QUERY
    if _TOKEN_QUERY is None:
        _TOKEN_QUERY = (
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
    return _TOKEN_QUERY


def _clean_case(raw: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    checks = {
        "reference": lambda x: v.text("reference", x, MAX_LEN["reference"], required=True),
        "child_name": lambda x: v.text("child_name", x, MAX_LEN["child_name"], required=True),
        "age": lambda x: v.integer("age", x, 0, 120, required=False),
        "risk": lambda x: v.choice("risk", x, _risk_grades()),
        "reported_missing_at": lambda x: v.moment("reported_missing_at", x),
        "home": lambda x: v.point("home", x, required=False),
        "ipp": lambda x: v.point("ipp", x),
        "status": lambda x: v.choice("status", x, v.CASE_STATUSES),
        "description": lambda x: v.text("description", x, MAX_LEN["description"]),
        "notes": lambda x: v.text("notes", x, MAX_LEN["notes"]),
    }
    for name, value in raw.items():
        out[name] = checks[name](value)
    if creating and out.get("age") is None:
        raise InvalidInput("Age is required (your best estimate if unknown).")
    return out


def _case_columns(clean: Mapping[str, Any]) -> dict[str, Any]:
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


def _case(row: Any) -> Case:
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
    )


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open the store named by ``url`` (default: ``DATABASE_URL`` / the SQLite file).

    Brings the schema up to date first unless ``migrate=False``.
    """
    return Store(url, migrate=migrate)
