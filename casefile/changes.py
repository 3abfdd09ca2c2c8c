"""Pushed changes on PostgreSQL: one listener per process keeps every case's counter in memory.

Every writing unit of work moves its case's change counter (``case_change.n``)
and, on PostgreSQL, sends ``pg_notify(channel, "<case id> <counter>")`` in the
same transaction (:func:`notify`), so the notice goes out at commit and never for
a rolled-back change. It carries ids and a number only, never a value.

Each app process runs ONE :class:`ChangeFeed` thread (started on first use by
:meth:`~casefile.database.Database.change_feed`): an autocommit psycopg
connection that ``LISTEN``\\ s on the channel, reads every case's counter once,
then applies each notice to an in-memory ``{case id: counter}``. Live views then
compare against memory instead of asking the database every few seconds
(:func:`casefile.cases.change_token`, :func:`casefile.links.link_poll`).

Notices sent while the listener is disconnected are lost, so on any failure it
marks itself down (callers fall back to querying the database), reconnects with a
growing pause, and re-reads every counter after ``LISTEN`` before it says it is
up again. An idle connection is pinged, so a silently dead one is noticed too.

The channel is per database schema (:func:`channel_for`): two stores in one
database never hear each other. SQLite has no feed; its views keep polling.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, Final

import psycopg
import sqlalchemy as sa
from psycopg import sql

log = logging.getLogger(__name__)

#: seconds an idle listener waits for a notice before it pings its connection
PING_SECONDS: Final[float] = 10.0
#: longest wait for notices in one go (how soon the thread sees it should stop)
WAKE_SECONDS: Final[float] = 1.0
#: pause before the first reconnection attempt; doubles up to RECONNECT_MAX_SECONDS
RECONNECT_FIRST_SECONDS: Final[float] = 0.2
RECONNECT_MAX_SECONDS: Final[float] = 10.0
#: TCP keepalives on the listening connection: a vanished server is noticed in ~1 min
KEEPALIVES: Final[str] = "keepalives=1 keepalives_idle=30 keepalives_interval=10 keepalives_count=3"
#: most (actor, case) access checks remembered per process (see :meth:`ChangeFeed.vouch`)
MAX_VOUCHED: Final[int] = 20_000


def channel_for(schema: str) -> str:
    """The notification channel of the store in ``schema`` (at most 63 bytes)."""
    name = f"wayhome_changes:{schema}"
    if len(name.encode()) <= 63:
        return name
    return "wayhome_changes:" + hashlib.sha256(schema.encode()).hexdigest()[:40]


def notify(conn: sa.Connection, channel: str, bumped: dict[int, int]) -> None:
    """Within the writing transaction: announce each moved counter (delivered at commit)."""
    for case_id, n in sorted(bumped.items()):
        conn.execute(
            sa.select(sa.func.pg_notify(channel, f"{int(case_id)} {int(n)}"))
        )


class ChangeFeed:
    """The process's listener (see the module docstring). Thread-safe."""

    def __init__(self, conninfo: str, channel: str) -> None:
        self._conninfo = psycopg.conninfo.make_conninfo(
            conninfo, **psycopg.conninfo.conninfo_to_dict(KEEPALIVES))
        self.channel = channel
        self._counters: dict[int, int] = {}
        self._live = False
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._vouched: dict[tuple[Any, ...], tuple[int, float]] = {}
        self._remembered: dict[tuple[Any, ...], tuple[int, int, float, Any]] = {}
        #: how many times the listener has (re)connected and re-read the counters
        self.connects = 0
        #: the listening connection's server process id (None while down)
        self.backend_pid: int | None = None
        self._watchers: set[Callable[[], None]] = set()

    # ------------------------------------------------------------------ the thread

    def start(self) -> ChangeFeed:
        """Start the listener thread (once; later calls do nothing)."""
        with self._changed:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="wayhome-change-feed", daemon=True
                )
                self._thread.start()
        return self

    def stop(self, timeout: float = 2.0) -> None:
        """Stop listening (the thread ends within :data:`WAKE_SECONDS`)."""
        self._stop.set()
        thread = self._thread
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        pause = RECONNECT_FIRST_SECONDS
        while not self._stop.is_set():
            try:
                with psycopg.connect(self._conninfo, autocommit=True) as conn:
                    self._listen(conn)
                    pause = RECONNECT_FIRST_SECONDS
                    heard = time.monotonic()
                    while not self._stop.is_set():
                        for note in conn.notifies(timeout=WAKE_SECONDS):
                            self._apply(note.payload)
                            heard = time.monotonic()
                        if time.monotonic() - heard >= PING_SECONDS:
                            conn.execute("SELECT 1")  # idle: is the connection still there?
                            heard = time.monotonic()
            except (psycopg.Error, OSError) as exc:
                # the type only: a server message could quote a value
                log.warning("change feed lost its connection (%s); reconnecting",
                            type(exc).__name__)
            finally:
                self._set_down()
            self._stop.wait(pause)
            pause = min(pause * 2, RECONNECT_MAX_SECONDS)

    def _listen(self, conn: psycopg.Connection[Any]) -> None:
        # LISTEN first, then read: a change committed in between is in the read, its
        # notice queued, and counters only move up, so nothing is missed either way
        conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self.channel)))
        rows = conn.execute("SELECT case_id, n FROM case_change").fetchall()
        with self._changed:
            for case_id, n in rows:
                self._counters[int(case_id)] = max(int(n), self._counters.get(int(case_id), 0))
            self._live = True
            self.connects += 1
            self.backend_pid = conn.info.backend_pid
            self._changed.notify_all()
        self._wake_watchers()

    def _apply(self, payload: str) -> None:
        try:
            case_text, n_text = payload.split()
            case_id, n = int(case_text), int(n_text)
        except ValueError:
            log.warning("change feed ignored a malformed notice")
            return
        with self._changed:
            if n > self._counters.get(case_id, 0):
                self._counters[case_id] = n
            self._changed.notify_all()
        self._wake_watchers()

    def saw(self, bumped: dict[int, int]) -> None:
        """Counters this process has just committed (its own writes are seen at once,
        before their notice comes back)."""
        with self._changed:
            for case_id, n in bumped.items():
                if n > self._counters.get(case_id, 0):
                    self._counters[case_id] = n
            self._changed.notify_all()
        self._wake_watchers()

    def _set_down(self) -> None:
        with self._changed:
            self._live = False
            self.backend_pid = None
            self._changed.notify_all()
        self._wake_watchers()

    # ------------------------------------------------------------------ watchers

    def add_watcher(self, wake: Callable[[], None]) -> None:
        """Call ``wake()`` (from the listener's thread, without blocking) after every
        counter move and every connection change, until :meth:`remove_watcher`: for
        waiters that are not threads (an event loop's request waiting for a change)."""
        with self._changed:
            self._watchers.add(wake)

    def remove_watcher(self, wake: Callable[[], None]) -> None:
        """Stop calling ``wake`` (nothing happens if it was not watching)."""
        with self._changed:
            self._watchers.discard(wake)

    def _wake_watchers(self) -> None:
        with self._changed:
            watchers = list(self._watchers)
        for wake in watchers:
            try:
                wake()
            except Exception:  # one broken waiter must not stop the listener
                log.exception("a change watcher failed")

    # ------------------------------------------------------------------ readers

    @property
    def live(self) -> bool:
        """Listening now (counters current)? False while connecting or reconnecting."""
        return self._live

    def counter(self, case_id: int) -> int | None:
        """The case's counter as pushed, or None while the feed is down or the case unknown."""
        with self._changed:
            if not self._live:
                return None
            return self._counters.get(case_id)

    def wait_until(self, case_id: int, at_least: int, timeout: float) -> int | None:
        """Block until the case's pushed counter reaches ``at_least`` (or ``timeout``
        seconds pass); returns the counter (None while down)."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                n = self._counters.get(case_id) if self._live else None
                left = deadline - time.monotonic()
                if (n is not None and n >= at_least) or left <= 0:
                    return n
                self._changed.wait(left)

    def wait_live(self, timeout: float) -> bool:
        """Block until the listener is up (or ``timeout``); returns whether it is."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while not self._live:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    # ------------------------------------------------------------------ access checks

    def confirmed(self, key: tuple[Any, ...], case_id: int, max_age: float) -> int | None:
        """The case's pushed counter, if the database confirmed ``key``'s access (an
        actor on this case) at that same counter less than ``max_age`` seconds ago;
        else None: ask the database (any change to the case means asking again)."""
        with self._changed:
            n = self._counters.get(case_id) if self._live else None
            seen = self._vouched.get(key)
        if n is None or seen is None or seen[0] != n or time.monotonic() - seen[1] >= max_age:
            return None
        return n

    def vouch(self, key: tuple[Any, ...], n: int) -> None:
        """The database has just confirmed ``key``'s access, at counter ``n``."""
        now = time.monotonic()
        with self._changed:
            if len(self._vouched) >= MAX_VOUCHED:
                self._vouched.clear()  # only costs one query per view; bounded memory
            self._vouched[key] = (n, now)

    def remember(self, key: tuple[Any, ...], case_id: int, n: int, value: Any) -> None:
        """The database has just given ``value`` for ``key``, read together with the
        case's counter ``n`` (one statement): :meth:`recall` returns it while that
        counter stands. For answers about a case that every relevant write moves the
        counter of (a link's row: revoking it does)."""
        now = time.monotonic()
        with self._changed:
            if len(self._remembered) >= MAX_VOUCHED:
                self._remembered.clear()  # only costs one query per view; bounded memory
            self._remembered[key] = (case_id, n, now, value)

    def recall(self, key: tuple[Any, ...], max_age: float) -> Any | None:
        """What :meth:`remember` kept for ``key``, if its case's pushed counter has not
        moved since and it is younger than ``max_age`` seconds; else None (ask)."""
        with self._changed:
            found = self._remembered.get(key)
            if found is None or not self._live:
                return None
            case_id, n, when, value = found
            if self._counters.get(case_id) != n or time.monotonic() - when >= max_age:
                return None
            return value
