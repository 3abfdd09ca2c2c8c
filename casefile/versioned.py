"""Versioned records: the one way cases, sightings, sectors, teams, hazards and handovers change.

Every change to one of these rows follows the same steps, in one transaction:
lock the row, check the actor may act on its case, check the form was loaded at
the row's current ``version``, write the new values with ``version + 1`` and
who/when, move the case's change counter (so every open view redraws), and
append an audit record. :func:`open_row` and :func:`save_row` are those steps
(:func:`remove_row` for a deletion);
:func:`new_row_stamps` and :func:`record_new` do the same for a new row. The
store methods in :mod:`casefile.sectors`, :mod:`casefile.teams`,
:mod:`casefile.hazards`, :mod:`casefile.handovers` and :mod:`casefile.sightings`
use them, so the rules live in one place. A case row is its own case (it has no
``case_id``): :meth:`~casefile.cases.CasesMixin.update_case` locks and checks it
with the case lookup every store method shares, then saves it with
:func:`save_row` (``case_id=``).
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from casefile import fieldwork as fw
from casefile.errors import StoreError
from casefile.permissions import Actor


def store_module() -> Any:
    """The store module's helpers (imported late: the store imports the mixins)."""
    from casefile import store

    return store


def retrying(method: Any) -> Any:
    """Run a creating method again once if a concurrent call with the same key won."""

    @functools.wraps(method)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return method(*args, **kwargs)
        except store_module()._RetryIdempotent:
            return method(*args, **kwargs)

    return wrapper


def new_row_stamps(actor: Actor, now: datetime) -> dict[str, Any]:
    """Who-and-when columns of a row being created (version 1)."""
    return {
        "created_at": now,
        "created_by_id": actor.user_id,
        "updated_at": now,
        "updated_by_id": actor.user_id,
        "updated_by_name": actor.display_name,
        "version": 1,
    }


def open_row(
    store: Any,
    conn: sa.Connection,
    actor: Actor,
    table: sa.Table,
    row_id: Any,
    *,
    what: str,
    permission: str,
    version: Any,
) -> Any:
    """Lock row ``row_id`` of ``table``, authorise ``actor`` on its case, check ``version``.

    ``what`` names the record in messages ("sector", "hazard area"). Raises
    :class:`NotFound`, :class:`PermissionDenied` or :class:`StaleVersion`.
    """
    row = fw.require_row(conn, table, row_id, what, lock=True)
    store._authorize(conn, actor, permission, row.case_id)
    store_module()._check_version(what, row_id, row, version)
    return row


def save_row(
    store: Any,
    conn: sa.Connection,
    actor: Actor,
    now: datetime,
    *,
    table: sa.Table,
    row: Any,
    values: Mapping[str, Any],
    entity: str,
    action: str,
    changes: Mapping[str, tuple[Any, Any]],
    what: str,
    reason: str | None = None,
    bump: bool = True,
    case_id: int | None = None,
) -> None:
    """Write ``values`` to a row opened by :func:`open_row`: version + 1, counter, audit.

    ``changes`` (field -> (before, after)) goes to the audit log as
    ``entity``/``action``. ``bump=False`` when the caller already moved the
    case's change counter (sector writes move it first, to serialise them).
    ``case_id`` names the case when the row has no ``case_id`` column because
    it is the case itself (default: ``row.case_id``).
    """
    if case_id is None:
        case_id = row.case_id
    result = conn.execute(
        table.update()
        .where(table.c.id == row.id, table.c.version == row.version)
        .values(
            **values,
            updated_at=now,
            updated_by_id=actor.user_id,
            updated_by_name=actor.display_name,
            version=row.version + 1,
        )
    )
    if result.rowcount != 1:  # pragma: no cover - the row lock makes this unreachable
        raise StoreError(f"The {what} changed while saving; reload and try again.")
    _record(store, conn, actor, now, case_id, entity, row.id, action, changes, reason, bump)


def remove_row(
    store: Any,
    conn: sa.Connection,
    actor: Actor,
    now: datetime,
    *,
    table: sa.Table,
    row: Any,
    entity: str,
    changes: Mapping[str, tuple[Any, Any]],
    reason: str | None = None,
    bump: bool = True,
) -> None:
    """Delete a row opened by :func:`open_row`, move the counter and audit what it was.

    ``changes`` (field -> (before, None)) is what the audit log keeps of the row.
    ``bump=False`` when the caller already moved the case's change counter.
    """
    conn.execute(table.delete().where(table.c.id == row.id, table.c.version == row.version))
    _record(store, conn, actor, now, row.case_id, entity, row.id, "delete", changes, reason, bump)


def record_new(
    store: Any,
    conn: sa.Connection,
    actor: Actor,
    now: datetime,
    *,
    table: sa.Table,
    case_id: int,
    values: Mapping[str, Any],
    entity: str,
    changes: Mapping[str, tuple[Any, Any]],
    key: str | None = None,
    stamps: Mapping[str, Any] | None = None,
) -> int:
    """Insert a new row of a case (who/when stamps, version 1), remember its form key,
    move the change counter and audit the creation. Returns the new id."""
    row_id = conn.execute(
        table.insert().values(
            case_id=case_id, **values, **(stamps or new_row_stamps(actor, now))
        )
    ).inserted_primary_key[0]
    store._remember(conn, key, entity, row_id, case_id, actor, now)
    _record(store, conn, actor, now, case_id, entity, row_id, "create", changes)
    return int(row_id)


def _record(
    store: Any,
    conn: sa.Connection,
    actor: Actor,
    now: datetime,
    case_id: int,
    entity: str,
    entity_id: int,
    action: str,
    changes: Mapping[str, tuple[Any, Any]],
    reason: str | None = None,
    bump: bool = True,
) -> None:
    """The last two steps of every change: move the case's counter, append the audit record."""
    if bump:
        store._bump(conn, case_id)
    store._audit(conn, actor, now, case_id=case_id, entity=entity, entity_id=entity_id,
                 action=action, changes=changes, reason=reason)
