"""Pushed changes all the way to the browser: a live view re-runs the moment its case changes.

Why: on PostgreSQL each app process already knows every case's change counter from
the database's notifications (:mod:`casefile.changes`). Live views used to look at
it on a timer (``st.fragment(run_every=1)``), and every look is a script run:
Streamlit starts a thread, runs the fragment, sends its elements. With 25 open pages
on a replica that was 25 runs a second doing nothing, and when a case changed its
pages were still up to a second behind, then queued behind each other's idle looks.

Here the browser waits for the change instead (PostgreSQL only):

* :func:`app_pages.widgets.change_watch.change_watch`, called inside a live fragment
  once the store has confirmed the viewer may see the case at counter ``seen``,
  registers an opaque watch token
  for that case (process memory only; it expires :data:`TOKEN_TTL_SECONDS` after the
  last confirmation) and draws a component with no face
  (``change_watch_frontend/``: a static page and script, no inline script);
* the component asks ``<base path>/_wayhome/changes?n=<seen>`` with the token in
  the ``X-Wayhome-Watch`` header
  (:class:`ChangePush`, an ASGI middleware answering on the event loop, no thread
  per request), which answers as soon as the counter differs from ``seen``, or after
  :data:`WAIT_SECONDS` with the same counter;
* a different counter becomes the component's value, which makes the browser re-run
  that fragment with its real widget states (a form being typed into is untouched),
  exactly as its timer would have, only at once.

The fragment's own timer stays as the safety net (a feed that is down, an expired
link, a clock-driven change) at the interval SQLite uses. The answer says only the
counter of the token's case: no ids of anything else, no values. The token travels
in a header, never in an address (nginx's error log quotes a failed request's whole
address), and is never stored. A replica that never issued the token answers 410;
the page's reconnection to that replica draws the component again with a new token.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Final
from urllib.parse import parse_qs

from starlette.types import ASGIApp, Receive, Scope, Send

from app_pages.widgets.http_security import app_path
from casefile.changes import ChangeFeed
from vocab import settings

__all__ = [
    "CHANGES_PATH", "TOKEN_HEADER", "ChangePush", "acknowledge_change", "confirm_watch",
    "hold_watch", "release_watch", "wait_for_change",
]

#: the endpoint, below the app's base path
CHANGES_PATH: Final[str] = "/_wayhome/changes"
#: the request header carrying the watch token
TOKEN_HEADER: Final[str] = "X-Wayhome-Watch"  # noqa: S105 - a header's name
#: longest a request waits for a change before answering "no change" (nginx waits 120 s)
WAIT_SECONDS: Final[float] = 25.0
#: a token's life after the store last confirmed its viewer's access
TOKEN_TTL_SECONDS: Final[float] = settings.ACCESS_RECHECK_SECONDS + 60.0
#: most tokens a process keeps (the oldest expire first); most requests waiting at once
MAX_TOKENS: Final[int] = 20_000
MAX_WAITING: Final[int] = 5_000

class _Watches:
    """Opaque token -> (case id, feed, expiry on the monotonic clock); thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[int, ChangeFeed, float]] = {}
        self._acked: dict[str, int] = {}
        self._held: dict[str, int] = {}
        self._waiting: dict[str, asyncio.Event] = {}
        self._loops: dict[str, asyncio.AbstractEventLoop] = {}

    def confirm(self, token: str, case_id: int, feed: ChangeFeed) -> None:
        now = time.monotonic()
        with self._lock:
            self._tokens.pop(token, None)  # re-insert: dicts keep order, oldest first
            self._tokens[token] = (case_id, feed, now + TOKEN_TTL_SECONDS)
            while len(self._tokens) > MAX_TOKENS:
                oldest = next(iter(self._tokens))
                del self._tokens[oldest]
                self._acked.pop(oldest, None)

    def acknowledge(self, token: str, n: int) -> None:
        with self._lock:
            if token in self._tokens:
                self._acked[token] = max(n, self._acked.get(token, n))

    def acked(self, token: str) -> int | None:
        with self._lock:
            return self._acked.get(token)

    def hold(self, token: str) -> None:
        with self._lock:
            self._held[token] = self._held.get(token, 0) + 1

    def release(self, token: str) -> None:
        with self._lock:
            left = self._held.get(token, 0) - 1
            if left > 0:
                self._held[token] = left
            else:
                self._held.pop(token, None)
            waiting, loop = self._waiting.get(token), self._loops.get(token)
        if waiting is not None and loop is not None:
            loop.call_soon_threadsafe(waiting.set)  # look again now

    def held(self, token: str) -> bool:
        with self._lock:
            return token in self._held

    def find(self, token: str) -> tuple[int, ChangeFeed] | None:
        with self._lock:
            found = self._tokens.get(token)
            if found is None:
                return None
            if found[2] <= time.monotonic():
                del self._tokens[token]
                self._acked.pop(token, None)
                return None
            return found[0], found[1]

    def begin_wait(self, token: str, stop: asyncio.Event) -> bool:
        """One waiting request per token (a newer one ends the older); bounded."""
        with self._lock:
            older = self._waiting.pop(token, None)
            if older is None and len(self._waiting) >= MAX_WAITING:
                return False
            self._waiting[token] = stop
            self._loops[token] = asyncio.get_running_loop()
        if older is not None:
            older.set()
        return True

    def is_waiting(self, token: str, stop: asyncio.Event) -> bool:
        """Is ``stop`` still the token's waiting request (no newer one came)?"""
        with self._lock:
            return self._waiting.get(token) is stop

    def end_wait(self, token: str, stop: asyncio.Event) -> None:
        with self._lock:
            if self._waiting.get(token) is stop:
                del self._waiting[token]
                self._loops.pop(token, None)

    def clear(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._acked.clear()
            self._held.clear()
            self._waiting.clear()
            self._loops.clear()


_watches = _Watches()


def hold_watch(token: str) -> None:
    """The token's page is about to save a change: its waiting request does not answer
    until :func:`release_watch` (by then the page has acknowledged its own change)."""
    _watches.hold(token)


def release_watch(token: str) -> None:
    """The save :func:`hold_watch` announced is over (done or not): answer as usual."""
    _watches.release(token)


def acknowledge_change(token: str, n: int) -> None:
    """The token's page made the change that moved the counter to ``n`` and shows it
    already: a wait does not answer for counters up to ``n``."""
    _watches.acknowledge(token, n)


def confirm_watch(token: str, case_id: int, feed: ChangeFeed) -> None:
    """The store has just confirmed that ``token``'s viewer may see ``case_id``: the
    token may wait for that case's changes for :data:`TOKEN_TTL_SECONDS` from now."""
    _watches.confirm(token, case_id, feed)


async def _answer(send: Send, status: int, body: dict[str, object]) -> None:
    data = json.dumps(body).encode()
    await send({
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(data)).encode()),
            (b"cache-control", b"no-store"),
        ],
    })
    await send({"type": "http.response.body", "body": data})


async def wait_for_change(token: str, seen: int, *, wait_s: float = WAIT_SECONDS,
                          ) -> tuple[int, dict[str, object]]:
    """The answer to one request: (HTTP status, JSON body). 200 ``{"n": counter}``
    once the token's case counter differs from ``seen`` (and is past what the page
    acknowledged as its own change, :func:`acknowledge_change`) or ``wait_s`` passed (the
    counter then may equal ``seen``; ``null`` while the feed is down); 410 for a
    token this process does not know (or no longer); 503 when too many wait."""
    found = _watches.find(token)
    if found is None:
        return 410, {"gone": True}
    case_id, feed = found
    loop = asyncio.get_running_loop()
    woke = asyncio.Event()
    if not _watches.begin_wait(token, woke):
        return 503, {"busy": True}

    def wake() -> None:
        loop.call_soon_threadsafe(woke.set)

    feed.add_watcher(wake)
    deadline = loop.time() + wait_s
    try:
        while True:
            woke.clear()  # before the look: a change after it sets the event again
            n = feed.counter(case_id)
            acked = _watches.acked(token)
            if (n is not None and n != seen and (acked is None or n > acked)
                    and not _watches.held(token)):
                return 200, {"n": n}
            if _watches.find(token) is None:
                return 410, {"gone": True}
            left = deadline - loop.time()
            if left <= 0:  # no news: the page's own counter (or null while the feed is down)
                return 200, {"n": None if n is None else seen}
            try:
                await asyncio.wait_for(woke.wait(), left)
            except TimeoutError:
                pass
            if not _watches.is_waiting(token, woke):
                return 200, {"n": seen}  # the newer request tells what is new
    finally:
        feed.remove_watcher(wake)
        _watches.end_wait(token, woke)


class ChangePush:
    """ASGI middleware: answers ``<base path>/_wayhome/changes`` (see the module)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or app_path(scope) != CHANGES_PATH:
            await self.app(scope, receive, send)
            return
        if scope.get("method") != "GET":
            await _answer(send, 405, {"error": "GET only"})
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        header = TOKEN_HEADER.lower().encode("latin-1")
        token = next((value.decode("latin-1") for name, value in scope.get("headers", [])
                      if name == header), "")
        try:
            seen = int((query.get("n") or [""])[0])
        except ValueError:
            await _answer(send, 400, {"error": "n must be a number"})
            return
        if not token or len(token) > 64:
            await _answer(send, 410, {"gone": True})
            return
        status, body = await wait_for_change(token, seen)
        await _answer(send, status, body)


def forget_all() -> None:
    """Forget every token (tests)."""
    _watches.clear()
