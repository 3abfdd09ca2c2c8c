"""Keeping a coordinator signed in across reloads: the session cookie.

After a password sign-in the store issues an opaque session token (only its hash
is stored; valid ``SESSION_HOURS``). It travels to the browser in a cookie,
``wayhome_session`` — ``HttpOnly`` (no script in the page can read it),
``SameSite=Strict``, ``Secure`` over HTTPS, path ``/``, ``Max-Age`` the session's
life — and later sessions read it with ``st.context.cookies`` (the WebSocket's
handshake carries it). A cookie rather than the URL keeps the token out of
history, screenshots, shared links and Referer headers.

A page cannot send a ``Set-Cookie`` header, so the page shows a hidden image of
``<base>/_wayhome/session/<ticket>`` and the server's response sets the cookie
(:mod:`app_pages.widgets.http_security`). The ticket is random, works once and
only for :data:`TICKET_SECONDS`, and lives in this process's memory only: the
token itself never appears in a URL or a log. Sign-out ends the session
server-side and clears the cookie the same way.
"""

from __future__ import annotations

import secrets
import threading
import time

import streamlit as st

from app_pages.widgets.connection import client_key, store
from casefile import StoreError, TooManyAttempts
from vocab import settings

COOKIE = "wayhome_session"
_TOKEN_KEY = "wayhome_session_token"  # noqa: S105 - a session-state key
_COOKIE_PENDING = "wayhome_cookie_pending"
#: the path (below ``server.baseUrlPath``) whose response sets the cookie
COOKIE_PATH = "/_wayhome/session/"
#: how long a ticket waits for the browser to fetch it
TICKET_SECONDS = 60

# ticket -> (deadline on the monotonic clock, cookie value, Max-Age)
_tickets: dict[str, tuple[float, str, int]] = {}
_tickets_lock = threading.Lock()


def restore_session() -> object | None:
    """The coordinator of this browser's session cookie, if it is still valid."""
    try:
        token = st.context.cookies.get(COOKIE)
    except Exception:
        return None
    if not isinstance(token, str) or not token:
        return None
    try:
        actor = store().open_session(token, client_key=client_key())
    except (TooManyAttempts, StoreError):
        return None
    if actor is not None:
        st.session_state[_TOKEN_KEY] = token
    return actor


def remember_session(actor: object) -> None:
    """Issue a session token for ``actor`` and set the cookie (shown once to the browser)."""
    try:
        token = store().start_session(actor)  # type: ignore[arg-type]
    except StoreError:
        return
    st.session_state[_TOKEN_KEY] = token
    # set on the next run: the sign-in page reruns at once, which would drop the element
    st.session_state[_COOKIE_PENDING] = (token, int(settings.SESSION_HOURS * 3600))


def forget_session() -> None:
    """End the session server-side and clear the cookie."""
    token = st.session_state.get(_TOKEN_KEY)
    if token:
        try:
            store().end_session(token)
        except StoreError:
            pass


def clear_cookie_next_run() -> None:
    """After sign-out has cleared session state: clear the cookie on the next run."""
    st.session_state[_COOKIE_PENDING] = ("", 0)


def flush_cookie() -> None:
    """Set or clear the session cookie if a sign-in or sign-out asked for it."""
    pending = st.session_state.pop(_COOKIE_PENDING, None)
    if pending is not None:
        _set_cookie(*pending)


def _set_cookie(value: str, max_age: int) -> None:
    # no script: the image's response carries the Set-Cookie header
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    src = f"{'/' + base if base else ''}{COOKIE_PATH}{issue_ticket(value, max_age)}"
    st.html(f'<img src="{src}" alt="" width="1" height="1" hidden>')


def issue_ticket(value: str, max_age: int) -> str:
    """A single-use ticket that sets the cookie to ``value`` (``""`` with 0 clears it)."""
    ticket = secrets.token_urlsafe(32)
    now = time.monotonic()
    with _tickets_lock:
        for old in [t for t, (deadline, _, _) in _tickets.items() if deadline < now]:
            del _tickets[old]
        _tickets[ticket] = (now + TICKET_SECONDS, value, int(max_age))
    return ticket


def redeem_ticket(ticket: str) -> tuple[str, int] | None:
    """The cookie value and Max-Age a ticket stands for, once; None if unknown or late."""
    with _tickets_lock:
        entry = _tickets.pop(ticket, None)
    if entry is None or entry[0] < time.monotonic():
        return None
    return entry[1], entry[2]
