"""One database behind the store: its engines, its backend, and what a process keeps warm.

A :class:`Database` is opened once per process and shared by every operation
(it is thread-safe: SQLAlchemy pools the connections). Operations never open
connections themselves: they open a :class:`~casefile.unit_of_work.UnitOfWork`
on it, which is the only way to read or write.

Three engines over one pool:

* ``engine``: reads (a plain transaction);
* ``write_engine``: writes (``BEGIN IMMEDIATE`` on SQLite, so writers queue for
  the single write lock instead of failing half-way);
* ``poll_engine``: the change-counter poll of live views (autocommit on
  PostgreSQL, no transaction at all on SQLite: one indexed read).

``caches`` holds per-process warm state keyed by name (the per-case sector
index), so it lives as long as the database object and no longer.

On PostgreSQL, :meth:`Database.notify_channel` names the channel every write
announces its case on, and :meth:`Database.change_feed` starts (once) the process's listener
that keeps each case's counter in memory (:mod:`casefile.changes`).
"""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from casefile.changes import ChangeFeed, channel_for
from casefile.engine import create_private_file, describe_url, make_engine, resolve_url, upgrade
from casefile.errors import StoreError
from casefile.timefmt import utcnow


class Database:
    """The engines of one store database (SQLite file or PostgreSQL + PostGIS)."""

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.url = resolve_url(url)
        self.engine = make_engine(self.url)
        self.backend = "postgis" if self.engine.dialect.name == "postgresql" else "sqlite"
        self.write_engine = self.engine.execution_options(wayhome_write=True)
        if self.backend == "postgis":
            self.poll_engine = self.engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            self.poll_engine = self.engine.execution_options(wayhome_nobegin=True)
        sa.event.listen(self.engine, "before_cursor_execute", _watch)
        #: per-process warm state (e.g. the per-case sector index), see the module docstring
        self.caches: dict[str, Any] = {}
        self.cache_lock = threading.Lock()
        self._feed: ChangeFeed | None = None
        self._channel: str | None = None
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
        return f"Database({describe_url(self.url)!r})"

    def rewrite_tables(self, names: list[str]) -> None:
        """PostgreSQL: rewrite ``names`` (``VACUUM FULL``) so values removed from them
        leave no copy in the table files (a plain ``VACUUM`` leaves dead rows' bytes in
        the pages). Outside any transaction; each table is locked while it is copied.
        Nothing on SQLite (``secure_delete`` and a checkpoint do that there)."""
        if self.backend != "postgis" or not names:
            return
        quote = self.engine.dialect.identifier_preparer.quote
        with self.poll_engine.connect() as conn:  # autocommit: VACUUM runs in no transaction
            for name in sorted(set(names)):
                conn.exec_driver_sql(f"VACUUM (FULL, ANALYZE) {quote(name)}")

    def notify_channel(self, conn: sa.Connection | None = None) -> str | None:
        """PostgreSQL: the channel this store's writes are announced on (per schema; read
        once, on ``conn`` if given); None on SQLite."""
        if self.backend != "postgis":
            return None
        if self._channel is None:
            if conn is None:
                with self.poll_engine.connect() as own:
                    schema = own.exec_driver_sql("SELECT current_schema()").scalar()
            else:
                schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
            self._channel = channel_for(str(schema))
        return self._channel

    def change_feed(self) -> ChangeFeed | None:
        """The process's listener for pushed changes, started on first use (PostgreSQL
        only; None on SQLite, whose views poll the database)."""
        channel = self.notify_channel()
        if channel is None:
            return None
        with self.cache_lock:
            if self._feed is None:
                libpq = sa.engine.make_url(self.url).set(drivername="postgresql")
                self._feed = ChangeFeed(
                    libpq.render_as_string(hide_password=False), channel
                ).start()
            return self._feed

    def saw_commit(self, bumped: dict[int, int]) -> None:
        """A unit of this process committed these counters: tell the running listener."""
        if self._feed is not None:
            self._feed.saw(bumped)

    def close(self) -> None:
        """Stop the change listener and close every pooled connection."""
        if self._feed is not None:
            self._feed.stop()
        self.engine.dispose()

    def backup(self, dest_dir: str | Path) -> Path:
        """A consistent copy of the whole store in ``dest_dir`` (timestamped file).

        SQLite: the online backup API (safe while the app runs). PostgreSQL:
        ``pg_dump --format=custom`` (restore with ``pg_restore``). The copy is
        readable by its owner only (0600; a folder made here is 0700).
        """
        dest = Path(dest_dir)
        if not dest.exists():
            dest.mkdir(mode=0o700, parents=True, exist_ok=True)
        stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
        if self.backend == "sqlite":
            src_path = sa.engine.make_url(self.url).database
            target = dest / f"wayhome-{stamp}.sqlite3"
            create_private_file(target)  # owner-only before a byte is written
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
        create_private_file(target)  # pg_dump writes into it, keeping 0600
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


def _watch(
    conn: sa.Connection, cursor: Any, statement: str, parameters: Any, context: Any,
    executemany: bool,
) -> None:
    """Hand every statement to the unit of work running on ``conn`` (it checks writes)."""
    unit = conn.info.get("wayhome_unit")
    if unit is not None:
        unit.saw_statement(statement)
