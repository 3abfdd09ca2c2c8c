"""Connecting to the store: which backend, its connection settings, migrations.

``DATABASE_URL`` empty -> the SQLite file at ``settings.SQLITE_PATH``;
``postgresql://…`` (or ``postgres://…``) -> PostgreSQL + PostGIS through the
psycopg 3 driver. SQLite connections use WAL, foreign keys, a busy timeout, and
``BEGIN IMMEDIATE`` for every write transaction, so concurrent writers queue up
for the single write lock instead of failing half-way through.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Engine

from casefile.errors import StoreError
from vocab import settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
#: milliseconds a SQLite connection waits for another writer before giving up
SQLITE_BUSY_TIMEOUT_MS = 30_000
#: PostgreSQL advisory lock key taken while migrating (two app processes starting together)
_MIGRATE_LOCK_KEY = 0x57415948  # "WAYH"


def resolve_url(url: str | None = None) -> str:
    """The SQLAlchemy URL for ``url`` (default: settings' DATABASE_URL / SQLite file)."""
    if url is None:
        url = settings.DATABASE_URL or ""
        if not url:
            return f"sqlite:///{Path(settings.SQLITE_PATH).expanduser().resolve()}"
    url = url.strip()
    if not url:
        return resolve_url(None)
    for prefix in ("postgresql://", "postgres://", "postgresql+psycopg2://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("postgresql+psycopg://", "sqlite:///")):
        return url
    raise StoreError(
        "DATABASE_URL must look like postgresql://user@host:5432/dbname "
        "(or be empty for the built-in SQLite file)."
    )


def describe_url(url: str) -> str:
    """The URL with any password hidden, for messages and logs."""
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Manage transactions ourselves (see _sqlite_on_begin); pysqlite's implicit
    # BEGIN would start deferred transactions that fail on lock upgrade.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA journal_mode = WAL")
    cur.execute("PRAGMA synchronous = NORMAL")
    cur.execute("PRAGMA foreign_keys = ON")
    cur.close()


def _sqlite_on_begin(conn: sa.Connection) -> None:
    if conn.get_execution_options().get("wayhome_write"):
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        conn.exec_driver_sql("BEGIN")


def create_private_file(path: Path) -> None:
    """Create ``path`` (and its folder) readable by this user only, unless it exists.

    The store and its backups hold every personal value of every case: the file is
    made 0600 and a folder the app makes 0700. SQLite gives the write-ahead log and
    shared-memory files the database file's permissions. An existing file or folder
    keeps the permissions its operator gave it.
    """
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def make_engine(url: str) -> Engine:
    """An engine for ``url`` (already resolved) with the backend's settings applied.

    ``hide_parameters``: a failing statement's message and log carry no parameter
    values (they include token hashes and personal values). PostgreSQL pings a
    pooled connection before handing it out, so a dropped connection is replaced
    instead of failing the page.
    """
    if url.startswith("sqlite"):
        path = sa.engine.make_url(url).database
        if path and path != ":memory:":
            create_private_file(Path(path))
        engine = sa.create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            pool_size=8,
            max_overflow=16,
            hide_parameters=True,
        )
        sa.event.listen(engine, "connect", _sqlite_on_connect)
        sa.event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    return sa.create_engine(
        url,
        pool_size=8,
        max_overflow=16,
        pool_recycle=1800,
        pool_pre_ping=True,
        hide_parameters=True,
        connect_args={"connect_timeout": 10, "application_name": "wayhome"},
    )


def _alembic_config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


def head_revision() -> str:
    """The newest migration shipped with this code."""
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def migration_revisions() -> list[str]:
    """Every migration shipped with this code, oldest first."""
    script = ScriptDirectory.from_config(_alembic_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def version_table_schema(conn: sa.Connection) -> str | None:
    """Where the schema version lives: PostgreSQL's current schema (first on search_path).

    Naming it stops a version table in a later schema of the search path (e.g.
    ``public``) from passing for this schema's.
    """
    if conn.dialect.name == "postgresql":
        return conn.exec_driver_sql("SELECT current_schema()").scalar()
    return None


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at (None for an empty database)."""
    with engine.connect() as conn:
        opts = {"version_table_schema": version_table_schema(conn)}
        return MigrationContext.configure(conn, opts=opts).get_current_revision()


def _migrate(engine: Engine, step: Callable[[Config], None]) -> None:
    """Run one Alembic command on a write connection, serialised across processes."""
    cfg = _alembic_config()
    write = engine.execution_options(wayhome_write=True)
    with write.connect() as conn:
        if conn.dialect.name == "postgresql":
            # serialise concurrent start-ups; released at the end of the transaction
            with conn.begin():
                conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": _MIGRATE_LOCK_KEY})
                cfg.attributes["connection"] = conn
                step(cfg)
        else:
            cfg.attributes["connection"] = conn
            step(cfg)
            if conn.in_transaction():
                conn.commit()


def upgrade(engine: Engine) -> str:
    """Bring the schema to the newest migration; safe when several processes start at once."""
    if current_revision(engine) == head_revision():
        return head_revision()
    _migrate(engine, lambda cfg: command.upgrade(cfg, "head"))
    return head_revision()


def downgrade(engine: Engine, revision: str) -> str | None:
    """Take the schema back to ``revision`` ("base": no tables at all).

    For operators undoing a release, and for the test that every migration can be
    undone and redone; it drops whatever the undone migrations created, data included.
    """
    _migrate(engine, lambda cfg: command.downgrade(cfg, revision))
    return current_revision(engine)
