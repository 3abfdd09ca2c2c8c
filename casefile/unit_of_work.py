"""The unit of work: the only way any store operation reads or writes.

One :class:`UnitOfWork` is opened per operation (``with UnitOfWork(db, actor,
permission, case_id=...) as uow:``). It holds the connection, the actor, the
time and the case, and keeps the store's rules by construction:

* **permission once**: the actor's shape and the role table
  (:mod:`casefile.access`) before any I/O; membership of the case when the
  case is entered; the role's row scope (a team lead's own team, a partner's
  own unit) on every row opened for a change;
* **locks in one order**: a writing unit takes the case's change-counter row
  first (moving the counter), then rows by id — so two writers of one case
  queue instead of deadlocking;
* **versions**: :meth:`UnitOfWork.open` refuses a row saved since the form
  was loaded (:class:`~casefile.errors.StaleVersion`);
* **every change recorded**: :meth:`insert`, :meth:`save`, :meth:`remove` and
  :meth:`record` collect audit entries; at commit they are appended in the same
  transaction. A connection hook watches every statement the unit runs: a write
  to any table that is not bookkeeping without an audit entry fails the whole
  unit, and a read-only unit cannot write at all. A unit that changed nothing
  rolls back, so the counter only moves when something was recorded;
* **pushed**: on PostgreSQL the moved counters are announced (``pg_notify``, case
  id and counter only) in the same transaction, so every process's listener
  hears of a change at its commit and never of one rolled back
  (:mod:`casefile.changes`).

Operations are plain functions taking the :class:`~casefile.database.Database`
first, positional-only (``def fn(db: Database, /, actor: Actor, ...)``);
:class:`operation` turns one into a method of the thin
:class:`~casefile.store.Store` front, which retries a transaction the database
aborted for a deadlock or a serialization failure (idempotency keys make the
retry safe) and turns any other database error into a plain
:class:`~casefile.errors.StoreError`.
"""

from __future__ import annotations

import functools
import logging
import random
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from types import TracebackType
from typing import Any, Concatenate, Final, Generic, ParamSpec, TypeVar, overload

import sqlalchemy as sa

from casefile import access
from casefile import schema as t
from casefile.audit_records import Change, append_records
from casefile.changes import notify
from casefile.database import Database
from casefile.errors import (
    InvalidInput,
    NotFound,
    PermissionDenied,
    RetryIdempotent,
    StaleVersion,
    StoreError,
)
from casefile.permissions import LINK_ROLES, Actor
from casefile.timefmt import utcnow

log = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

#: tables a writing unit may change without an audit entry of their own: the audit
#: trail itself, the change counter, form keys, and per-case code counters
BOOKKEEPING: Final[frozenset[str]] = frozenset(
    {"audit_log", "audit_detail", "case_change", "idempotency", "sector_counter"}
)

#: how often a transaction aborted by a deadlock or a serialization failure is run again
MAX_ATTEMPTS: Final[int] = 6

_DML = re.compile(r'^\s*(?:INSERT\s+INTO|UPDATE|DELETE\s+FROM)\s+(?:"?\w+"?\.)?"?(\w+)"?', re.I)
#: PostgreSQL SQLSTATEs worth running the whole transaction again for
_RETRY_SQLSTATES: Final[frozenset[str]] = frozenset({"40P01", "40001", "55P03"})
_NOT_GIVEN: Any = object()


class UnitOfWork:
    """One store operation (see the module docstring).

    ``mode``: ``"write"`` (audited changes; the case's counter moves at commit),
    ``"read"`` (no write of any kind), or ``"bookkeeping"`` (writes only to the
    tables named in ``unaudited``, e.g. a link's last-used time or a sign-in
    failure, never audited and never moving the counter).
    """

    def __init__(
        self,
        db: Database,
        actor: Actor,
        permission: str | None,
        *,
        case_id: int | None = None,
        mode: str = "write",
        unaudited: Iterable[str] = (),
    ) -> None:
        if mode not in ("write", "read", "bookkeeping"):
            raise ValueError(f"unknown unit-of-work mode {mode!r}")
        access.check_actor_shape(actor, permission)
        self.db = db
        self.actor = actor
        self.permission = permission
        self.mode = mode
        self.backend = db.backend
        self.scope: str | None = (
            access.scope_of(actor.role, permission) if permission is not None else None
        )
        self._unaudited = frozenset(unaudited) | BOOKKEEPING
        self._first_case = case_id
        self.case_id: int | None = None
        self.case_row: Any = None
        #: the counter value this unit writes for its case (rows record it as change_n)
        self.change_n: int | None = None
        self._link: Any = None
        self._changes: list[Change] = []
        self._written: set[str] = set()
        self._bumped: dict[int, int] = {}
        self.now = utcnow()
        self._conn_cm: Any = None
        self.conn: sa.Connection

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> UnitOfWork:
        engine = self.db.engine if self.mode == "read" else self.db.write_engine
        self.conn = engine.connect()
        self.conn.info["wayhome_unit"] = self
        self.conn.begin()
        try:
            if self._first_case is not None:
                self.enter_case(self._first_case)
        except BaseException:
            self._close(commit=False)
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is not None:
            self._close(commit=False)
            if isinstance(exc, sa.exc.IntegrityError):
                raise _integrity_error(exc) from None  # its text can quote values
            return
        try:
            self._finish()
        except sa.exc.IntegrityError as error:
            self._close(commit=False)
            raise _integrity_error(error) from None
        except BaseException:
            self._close(commit=False)
            raise
        self._close(commit=True)

    def _finish(self) -> None:
        """Commit time: audited writes get their records and the counter; nothing else does."""
        unrecorded = self._written - self._unaudited
        if unrecorded and not self._changes:
            raise StoreError(
                "Internal error: a change was about to be saved without an audit record "
                f"({', '.join(sorted(unrecorded))}); nothing was saved."
            )
        if self.mode == "write" and not self._changes and not (self._written - BOOKKEEPING):
            self.conn.rollback()  # nothing changed: the counter stays where it was
            return
        for case_id in sorted({c.case_id for c in self._changes if c.case_id is not None}):
            if case_id not in self._bumped:
                self._bump(case_id)
        append_records(self.conn, self.actor, self.now, self._changes)
        channel = self.db.notify_channel(self.conn)
        if channel is not None:  # PostgreSQL: delivered at commit, ids only
            notify(self.conn, channel, self._bumped)

    def _close(self, *, commit: bool) -> None:
        committed = False
        try:
            if self.conn.in_transaction():
                if commit:
                    self.conn.commit()
                    committed = True
                else:
                    self.conn.rollback()
        finally:
            self.conn.info.pop("wayhome_unit", None)
            self.conn.close()
        if committed and self._bumped and self._changes:
            # this process's own views see its write at once, not when the notice is back
            self.db.saw_commit(self._bumped)

    # ------------------------------------------------------------------ the case

    def enter_case(self, case_id: Any) -> Any:
        """Authorise the actor on ``case_id`` and, for a write, lock and move its counter.

        Returns the case row. A unit works on one case; entering it again is free.
        """
        if self.case_id is not None:
            if case_id != self.case_id:
                raise StoreError("Internal error: one change touched two cases; nothing was saved.")
            return self.case_row
        assert self.permission is not None
        access.authorize(self.conn, self.actor, self.permission, case_id)
        self.case_row = access.require_case(self.conn, case_id)
        self.case_id = case_id
        if self.mode == "write":
            self.change_n = self._bump(case_id)
        return self.case_row

    @property
    def link(self) -> Any:
        """The working private link behind a link actor (its team, unit and case), read
        on first use; None for coordinators and the command line. Raises
        :class:`~casefile.errors.LinkGone` when the link no longer works."""
        if self._link is None and self.actor.role in LINK_ROLES:
            self._link = access.link_row(self.conn, self.actor)
        return self._link

    def _bump(self, case_id: int) -> int:
        """Move the case's change counter (taking its row lock) and return the new value."""
        self.conn.execute(
            t.case_change.update()
            .where(t.case_change.c.case_id == case_id)
            .values(n=t.case_change.c.n + 1)
        )
        n = int(
            self.conn.execute(
                sa.select(t.case_change.c.n).where(t.case_change.c.case_id == case_id)
            ).scalar_one()
        )
        self._bumped[case_id] = n
        return n

    def allows(self, permission: str) -> bool:
        """Does the actor's role hold ``permission`` too (checked against the role table)?"""
        return access.scope_of(self.actor.role, permission) is not None

    # ------------------------------------------------------------------ rows

    def open(
        self,
        table: sa.Table,
        row_id: Any,
        *,
        what: str,
        version: Any = _NOT_GIVEN,
        lock: bool | None = None,
    ) -> Any:
        """Row ``row_id`` of ``table``, checked: its case entered, the actor's scope, ``version``.

        A writing unit locks the row (after the case's counter). ``version``
        omitted: no version check (a read, or a change that needs none).
        """
        if isinstance(row_id, bool) or not isinstance(row_id, int):
            raise NotFound(f"No {what} was chosen.")
        if lock is None:
            lock = self.mode == "write"
        if self.case_id is None:
            case_id = self.conn.execute(
                sa.select(table.c.case_id).where(table.c.id == row_id)
            ).scalar()
            if case_id is None:
                raise NotFound(f"This {what} does not exist (it may have been deleted).")
            self.enter_case(case_id)
        q = sa.select(table).where(table.c.id == row_id)
        if lock:
            q = q.with_for_update()
        row = self.conn.execute(q).first()
        if row is None:
            raise NotFound(f"This {what} does not exist (it may have been deleted).")
        if row.case_id != self.case_id:
            raise PermissionDenied(f"This {what} belongs to another case.")
        if self.scope in access.ROW_SCOPES:
            access.check_row(self.scope, self.link, table, row, what)
        if version is not _NOT_GIVEN:
            check_version(what, row_id, row, version)
        return row

    def insert(
        self,
        table: sa.Table,
        values: Mapping[str, Any],
        *,
        entity: str,
        changes: Mapping[str, tuple[Any, Any]],
        key: str | None = None,
        stamps: Mapping[str, Any] | None = None,
        case_id: int | None = None,
    ) -> int:
        """Insert a new row of the case (who/when stamps, version 1), remember its form
        key and record its creation. Returns the new id."""
        case_id = self.case_id if case_id is None else case_id
        if case_id is None:  # pragma: no cover - programming error
            raise StoreError("Internal error: a new row with no case; nothing was saved.")
        row_id = int(
            self.conn.execute(
                table.insert().values(
                    case_id=case_id, **values, **(stamps or self.new_row_stamps())
                ).returning(table.c.id)
            ).scalar_one()
        )
        self.remember(key, entity, row_id, case_id)
        self.record(entity, row_id, "create", changes, case_id=case_id)
        return row_id

    def save(
        self,
        table: sa.Table,
        row: Any,
        values: Mapping[str, Any],
        *,
        entity: str,
        action: str,
        changes: Mapping[str, tuple[Any, Any]],
        what: str,
        reason: str | None = None,
        case_id: int | None = None,
    ) -> None:
        """Write ``values`` to a row from :meth:`open`: version + 1, who/when, audit entry.

        ``case_id`` names the case when the row is the case itself.
        """
        result = self.conn.execute(
            table.update()
            .where(table.c.id == row.id, table.c.version == row.version)
            .values(
                **values,
                updated_at=self.now,
                updated_by_id=self.actor.user_id,
                updated_by_name=self.actor.display_name,
                version=row.version + 1,
            )
        )
        if result.rowcount != 1:  # pragma: no cover - the row lock makes this unreachable
            raise StoreError(f"The {what} changed while saving; reload and try again.")
        self.record(entity, row.id, action, changes, reason=reason,
                    case_id=row.case_id if case_id is None else case_id)

    def remove(
        self,
        table: sa.Table,
        row: Any,
        *,
        entity: str,
        changes: Mapping[str, tuple[Any, Any]],
        reason: str | None = None,
    ) -> None:
        """Delete a row from :meth:`open` and record what it was."""
        self.conn.execute(
            table.delete().where(table.c.id == row.id, table.c.version == row.version)
        )
        self.record(entity, row.id, "delete", changes, reason=reason, case_id=row.case_id)

    def record(
        self,
        entity: str,
        entity_id: int | None,
        action: str,
        changes: Mapping[str, tuple[Any, Any]],
        *,
        reason: str | None = None,
        case_id: int | None = _NOT_GIVEN,
    ) -> None:
        """Record one change for the audit trail (appended at commit). ``case_id``
        defaults to the unit's case; None for what belongs to no case (accounts)."""
        if self.mode != "write":
            raise StoreError("Internal error: a read tried to record a change.")
        self._changes.append(
            Change(
                case_id=self.case_id if case_id is _NOT_GIVEN else case_id,
                entity=entity,
                entity_id=entity_id,
                action=action,
                changes=dict(changes),
                reason=reason,
            )
        )

    def new_row_stamps(self) -> dict[str, Any]:
        """Who-and-when columns of a row being created (version 1)."""
        return {
            "created_at": self.now,
            "created_by_id": self.actor.user_id,
            "updated_at": self.now,
            "updated_by_id": self.actor.user_id,
            "updated_by_name": self.actor.display_name,
            "version": 1,
        }

    # ------------------------------------------------------------------ form keys

    def replay(self, key: str | None, entity: str) -> int | None:
        """The id already saved under ``key``, if this form was submitted before."""
        if key is None:
            return None
        row = self.conn.execute(
            sa.select(
                t.idempotency.c.entity, t.idempotency.c.entity_id, t.idempotency.c.actor_id
            ).where(t.idempotency.c.key == key)
        ).first()
        if row is None:
            return None
        if row.entity != entity or row.actor_id != self.actor.user_id:
            raise InvalidInput("This form was already used for something else; reload the page.")
        return int(row.entity_id)

    def replay_many(self, keys: Sequence[str | None], entity: str) -> dict[str, int]:
        """{key: id} for the keys already saved (forms handed back again)."""
        wanted = sorted({k for k in keys if k is not None})
        if not wanted:
            return {}
        found: dict[str, int] = {}
        for row in self.conn.execute(
            sa.select(
                t.idempotency.c.key,
                t.idempotency.c.entity,
                t.idempotency.c.entity_id,
                t.idempotency.c.actor_id,
            ).where(t.idempotency.c.key.in_(wanted))
        ):
            if row.entity != entity or row.actor_id != self.actor.user_id:
                raise InvalidInput(
                    "This form was already used for something else; reload the page."
                )
            found[row.key] = int(row.entity_id)
        if len(set(keys) - {None}) != sum(k is not None for k in keys):
            raise InvalidInput("Two items of one save carry the same form key.")
        return found

    def remember(
        self, key: str | None, entity: str, entity_id: int, case_id: int | None = _NOT_GIVEN
    ) -> None:
        """Keep ``key`` -> ``entity_id`` so the same form handed back again is saved once."""
        if key is None:
            return
        self.conn.execute(
            t.idempotency.insert().values(
                key=key,
                entity=entity,
                entity_id=entity_id,
                case_id=self.case_id if case_id is _NOT_GIVEN else case_id,
                actor_id=self.actor.user_id,
                created_at=self.now,
            )
        )

    # ------------------------------------------------------------------ the hook

    def saw_statement(self, statement: str) -> None:
        """Every statement of this unit's connection passes here (see :mod:`casefile.database`)."""
        match = _DML.match(statement)
        if match is None:
            return
        table = match.group(1).lower()
        if self.mode == "read":
            raise StoreError("Internal error: a read tried to change the store; nothing was saved.")
        if self.mode == "bookkeeping" and table not in self._unaudited:
            raise StoreError(
                f"Internal error: an unaudited write to {table}; nothing was saved."
            )
        self._written.add(table)


def check_version(entity: str, entity_id: int, row: Any, version: Any) -> None:
    """Refuse a change made from a form loaded at another version (who changed it, when)."""
    if isinstance(version, bool) or not isinstance(version, int):
        raise InvalidInput("The version the form was loaded at is missing; reload the page.")
    if row.version != version:
        raise StaleVersion(entity, entity_id, row.updated_by_name, row.updated_at, row.version)


def _integrity_error(exc: sa.exc.IntegrityError) -> StoreError:
    text = str(exc.orig).lower()
    if "idempotency" in text:
        return RetryIdempotent("This form is being saved twice at once; reload the page.")
    if "reference" in text:
        return InvalidInput("A case with this reference already exists.")
    return StoreError("The change conflicts with what is stored; reload and try again.")


# ---------------------------------------------------------------------- the front's methods


def writes(fn: Callable[P, R]) -> Callable[P, R]:
    """Mark an operation that changes the store (enumerated by the audit-failure test)."""
    fn.__dict__["wayhome_writes"] = True
    return fn


def _sqlstate(exc: sa.exc.DBAPIError) -> str | None:
    code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
    return str(code) if code else None


def _retryable(exc: sa.exc.DBAPIError) -> bool:
    if _sqlstate(exc) in _RETRY_SQLSTATES:
        return True
    text = str(exc.orig).lower()
    return "database is locked" in text or "deadlock detected" in text


def run(fn: Callable[Concatenate[Database, P], R], db: Database,
        *args: P.args, **kwargs: P.kwargs) -> R:
    """Run one operation: again after a deadlock, a serialization failure or a lost race
    on a form key (bounded, with jittered back-off); any other database error becomes
    a plain :class:`StoreError` (nothing was saved)."""
    idempotent_retried = False
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            return fn(db, *args, **kwargs)
        except RetryIdempotent:
            if idempotent_retried:
                raise StoreError(
                    "This form is being saved twice at once; reload the page."
                ) from None
            idempotent_retried = True
        except sa.exc.DBAPIError as exc:
            if _retryable(exc) and attempt < MAX_ATTEMPTS:
                time.sleep(random.uniform(0.005, 0.02) * 2**attempt)  # noqa: S311 - jitter
                continue
            # the driver's text can quote stored values (PostgreSQL's DETAIL: "Failing
            # row contains ..."): the log and the error chain get its type and code only
            log.warning("store operation %s failed: %s (SQLSTATE %s)", fn.__name__,
                        type(exc.orig).__name__, _sqlstate(exc))
            raise StoreError(_database_message(exc)) from None
    raise StoreError(  # pragma: no cover - the loop returns or raises
        "The database was too busy to save this; try again."
    )


def _database_message(exc: sa.exc.DBAPIError) -> str:
    if _retryable(exc):
        return "The database was too busy to save this; nothing was saved. Try again."
    if exc.connection_invalidated:
        return ("The connection to the database dropped; reconnecting. Nothing was saved: "
                "try again in a moment.")
    if isinstance(exc, sa.exc.OperationalError):
        return "The database cannot be reached just now; nothing was saved. Try again shortly."
    return "The database refused this change; nothing was saved. Reload and try again."


class operation(Generic[P, R]):
    """A store operation ``fn(db, /, ...)`` as a method of the front: ``front.fn(...)``.

    The front must have a ``db`` attribute. Calls run through :func:`run`. ``db`` is
    positional-only in every operation, so an operation taking ``**changes`` types
    cleanly (no ``db`` keyword can clash) and the method keeps the real signature.
    """

    def __init__(self, fn: Callable[Concatenate[Database, P], R]) -> None:
        self.fn = fn
        self.writes: bool = bool(getattr(fn, "wayhome_writes", False))
        functools.update_wrapper(self, fn)  # type: ignore[arg-type]

    @overload
    def __get__(self, obj: None, owner: type[Any]) -> operation[P, R]: ...
    @overload
    def __get__(self, obj: object, owner: type[Any]) -> Callable[P, R]: ...
    def __get__(self, obj: object | None, owner: type[Any]) -> Any:
        if obj is None:
            return self
        return functools.partial(run, self.fn, obj.db)  # type: ignore[attr-defined]
