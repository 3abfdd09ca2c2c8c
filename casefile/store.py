"""The store: one :class:`Store` over SQLite or PostGIS, and the rules every write keeps.

One :class:`Store` over one SQLAlchemy engine. Every public method takes the
acting :class:`~casefile.permissions.Actor` first and checks it, whatever page
calls. Every write is one transaction that

* checks the actor's role and case membership,
* refuses a stale ``version`` (:class:`StaleVersion`: who changed it, when),
* writes the entity,
* bumps the case's change counter (``case_change.n``) that live views poll,
* appends an audit record (field names; non-personal before/after values; the
  personal ones and the reason go to the purgeable ``audit_detail``),

or writes nothing at all. Creating calls take an ``idempotency_key`` so a form
or drawing handed back again by a rerun is saved once.

This module holds what those rules share: the connection and transaction
plumbing, the permission check, the idempotency keys, the version check and the
text caps, plus backup and :func:`open_store`. The operations come from one
mixin module each: :mod:`casefile.cases`, :mod:`casefile.sightings`,
:mod:`casefile.accounts`, :mod:`casefile.audit`, :mod:`casefile.sectors`,
:mod:`casefile.teams`, :mod:`casefile.hazards`, :mod:`casefile.handovers`,
:mod:`casefile.links`, :mod:`casefile.tips`, :mod:`casefile.tracks`,
:mod:`casefile.probability` and :mod:`casefile.purge`. Those modules reach the
shared helpers here at call time (``versioned.store_module()``, ``_s()``),
because this module imports them; the helpers they define themselves are
re-exported here under their old names.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from casefile import permissions as perm
from casefile import schema as t
from casefile.accounts import AccountsMixin
from casefile.audit import NAMES_ONLY_ENTITIES, PERSONAL_FIELDS, AuditMixin, _json
from casefile.cases import CASE_FIELDS, CasesMixin, _require_case, _token_query
from casefile.engine import describe_url, make_engine, resolve_url, upgrade
from casefile.errors import InvalidInput, PermissionDenied, StaleVersion, StoreError
from casefile.handovers import HandoversMixin
from casefile.hazards import HazardsMixin
from casefile.links import LinksMixin
from casefile.permissions import Actor
from casefile.probability import PoaMixin
from casefile.purge import PurgeMixin
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
from vocab.limits import MAX_LEN

__all__ = [  # the store, and the helpers other store modules reach through ``_s()``
    "CASE_FIELDS", "MAX_LEN", "NAMES_ONLY_ENTITIES", "PERSONAL_FIELDS", "SIGHTING_FIELDS",
    "NewSighting", "Store", "_RetryIdempotent", "_check_actor_shape", "_check_version",
    "_clean_sighting", "_json", "_require_case", "_sighting", "_sighting_columns",
    "_sightings_query", "_token_query", "open_store", "tag_points",
]



class Store(
    LinksMixin, TracksMixin, PoaMixin, SectorsMixin, HazardsMixin, TeamsMixin, HandoversMixin,
    TipsMixin, PurgeMixin, CasesMixin, SightingsMixin, AccountsMixin, AuditMixin
):
    """Cases, sightings, accounts and audit over one database. Thread-safe; share one.

    Every operation comes from a mixin (one module each, see the module docstring);
    the class itself holds the connections and the plumbing they share. LinksMixin
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


class _RetryIdempotent(StoreError):
    """Internal: a concurrent save with the same key won; read what it saved."""


# ---------------------------------------------------------------------- helpers


def _check_actor_shape(actor: Any, permission: str | None) -> None:
    """No actor, a malformed one, or a role without the permission: refuse before any I/O."""
    if actor is None:
        raise PermissionDenied("No one is signed in: every change needs an actor.")
    if not isinstance(actor, Actor):
        raise PermissionDenied("The actor must be a casefile.Actor.")
    if actor.role not in perm.ROLE_PERMISSIONS:
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


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open the store named by ``url`` (default: ``DATABASE_URL`` / the SQLite file).

    Brings the schema up to date first unless ``migrate=False``.
    """
    return Store(url, migrate=migrate)
