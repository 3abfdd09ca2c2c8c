"""How a page reaches the store, and who is knocking (for the store's throttles).

The lowest of the widgets: the session, the cookie and the private-link entry all
build on it, and it builds on none of them.
"""

from __future__ import annotations

import streamlit as st
from shapely.geometry import box

from casefile import Store, open_store
from casefile.links import client_address
from geo import place_names
from vocab import settings

#: PostgreSQL pushes every change (``casefile.changes``, ``change_push``); SQLite polls
PUSHED: bool = settings.DATABASE_URL.strip().startswith(("postgresql", "postgres:"))


def live_every(polling_seconds: float) -> float:
    """Seconds between two looks of a live view at its case's counter, its safety net.

    On SQLite each look is a query and the only way a view learns of a change. On
    PostgreSQL changes are pushed to the page the moment they commit
    (:mod:`app_pages.widgets.change_push`); the look (a memory read there) only covers
    a listener that is down, an expired link and the clock
    (``WAYHOME_PUSHED_POLL_SECONDS`` sets it there when not 0)."""
    if PUSHED and settings.PUSHED_POLL_SECONDS > 0:
        return settings.PUSHED_POLL_SECONDS
    return polling_seconds


def live_note(polling_seconds: float) -> str:
    """How a live view keeps up, in words for its caption."""
    if PUSHED:
        return "changes show as they are saved"
    return f"checks for changes every {live_every(polling_seconds):g} s"


@st.cache_resource(show_spinner="Opening the case store…")
def store() -> Store:
    """The process-wide store (schema upgraded on first use).

    Also loads the place-name layers (wards, boroughs, postcodes: seconds of CPU)
    here, as the process's first page opens, rather than inside the first change to a
    case, where every open page of the process would wait behind it.
    """
    db = open_store()
    place_names([box(-0.1, 51.5, -0.099, 51.501)])  # a small lon/lat square in London
    return db


def client_key() -> str:
    """Who is knocking, for throttling (``casefile.links.client_address``): the peer's
    address, or the forwarded one when ``TRUSTED_PROXY_HOPS`` proxies stand in front."""
    try:
        forwarded = st.context.headers.get("X-Forwarded-For", "")
        peer = st.context.ip_address
    except Exception:
        return "local"
    return client_address(forwarded if isinstance(forwarded, str) else None,
                          peer if isinstance(peer, str) else None,
                          settings.TRUSTED_PROXY_HOPS)
