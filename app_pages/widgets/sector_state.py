"""What the Sectors page's parts share: session keys, labels, the flash message, the drawn hole.

Widget modules are imported once per server process and shared by every browser
session, so nothing here holds an actor or a store: :func:`who` asks for them on
each call.
"""

from __future__ import annotations

import time
from typing import Any

import streamlit as st

from app_pages.widgets.session import require_actor, store
from casefile import Actor, Store
from geo.errors import InputError
from geo.shapes import shape_from_geojson
from vocab import sector_statuses
from vocab.search import HAZARD_LABELS as HAZARD_LABELS
from vocab.search import ORG_LABELS as ORG_LABELS

MAP_KEY = "sector_map"
LIVE_KEY = "sector_map_live"
PENDING_KEY = "sector_pending"  # the drawing waiting for a decision
SEEN_KEY = "sector_seen_drawings"  # hashes of drawings already taken
SELECTED_KEY = "sector_selected"
MODE_KEY = "sector_draw_mode"
FLASH_KEY = "sector_flash"
#: How long the last action's message stays up. The page reruns more than once after
#: an action (the map hands back its state), so a message kept for one run only
#: could vanish before anyone reads it.
FLASH_SECONDS = 12.0
REFRESH_KEY = "_sector_refresh_page"
HOLE_KEY = "sector_not_searched_drawn"  # ground drawn as NOT searched, for the chosen sector
MODES = {"sector": "a search sector", "hazard": "a hazard / no-go area",
         "not_searched": "the part of the chosen sector NOT searched"}


def who() -> tuple[Store, Actor]:
    """The store and this browser session's signed-in actor (asked for on every call)."""
    return store(), require_actor()


def status_label(status: str) -> str:
    """A sector status in words (the map legend's label)."""
    return sector_statuses.label(status)


def drop_pending(message: str | None = None) -> None:
    st.session_state.pop(PENDING_KEY, None)
    if message:
        st.session_state[FLASH_KEY] = message


def take_flash() -> str | None:
    """The last action's message while it is fresh (see :data:`FLASH_SECONDS`)."""
    value = st.session_state.get(FLASH_KEY)
    if value is None:
        return None
    if isinstance(value, str):  # just set by an action: start its clock
        value = (value, time.monotonic())
        st.session_state[FLASH_KEY] = value
    text, since = value
    if time.monotonic() - since > FLASH_SECONDS:
        del st.session_state[FLASH_KEY]
        return None
    return text


def hole_shape(hole: dict[str, Any]) -> Any:
    """The drawn not-searched ground as a clean lon/lat shape (None, with the error kept)."""
    if "shape" not in hole:
        try:
            hole["shape"], _ = shape_from_geojson(hole["geometry"], what="part not searched")
            hole["error"] = None
        except InputError as exc:
            hole["shape"], hole["error"] = None, str(exc)
    return hole["shape"]


def drop_hole() -> None:
    st.session_state.pop(HOLE_KEY, None)
