"""The browser's half of pushed changes: a component that re-runs its fragment on a change.

Declared here, not in :mod:`app_pages.widgets.change_push`: that module is imported
by ``app.py`` before Streamlit's runtime exists, and a component declared then is
never served. See :mod:`app_pages.widgets.change_push` for the whole design.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import streamlit as st
import streamlit.components.v1 as components

from app_pages.widgets.change_push import (
    CHANGES_PATH,
    acknowledge_change,
    confirm_watch,
    hold_watch,
    release_watch,
)
from casefile import Store

__all__ = ["change_watch", "saving", "seen_own_change"]

_FRONTEND = components.declare_component(
    "change_watch", path=str(Path(__file__).resolve().parent / "change_watch_frontend")
)


def change_watch(db: Store, case_id: int, seen: int, *, key: str) -> None:
    """Inside a live fragment, after the store confirmed access at counter ``seen``:
    re-run this fragment as soon as the case's counter moves past ``seen``.

    Does nothing on SQLite (no feed: the fragment's timer polls the database).
    """
    feed = db.change_feed()
    if feed is None:
        return
    token_key = _token_key(key)
    token = st.session_state.get(token_key)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(24)
        st.session_state[token_key] = token
    confirm_watch(token, case_id, feed)
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    _FRONTEND(
        url=(f"/{base}" if base else "") + CHANGES_PATH,
        token=token,
        seen=int(seen),
        key=f"change_watch_{key}",  # the prefix takes it out of the page's flow (a11y.py)
        default=None,
    )


def _token_key(key: str) -> str:
    return f"_change_watch_token_{key}"


def seen_own_change(key: str, n: int) -> None:
    """This page has just saved a change that moved its case's counter to ``n`` and shows
    it: the watch ``key`` does not re-run the page for it (a run that would take away
    what the page says about the save)."""
    token = st.session_state.get(_token_key(key))
    if isinstance(token, str):
        acknowledge_change(token, n)


@contextmanager
def saving(key: str) -> Iterator[None]:
    """Around a page's own save: the watch ``key`` tells the browser nothing until the
    block ends, by when the page has called :func:`seen_own_change`. Else the save's
    own change could come back as a push and re-run the page mid-run, before it said
    "saved"."""
    token = st.session_state.get(_token_key(key))
    if not isinstance(token, str):
        yield
        return
    hold_watch(token)
    try:
        yield
    finally:
        release_watch(token)
