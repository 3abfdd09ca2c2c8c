"""A plain question before a sector is recorded as searched faster than a team could walk it.

Decision support, never a block: when the time between a sector's start (or its
assignment) and "searched" is under the stated share of the fastest plausible time
(``geo.searched_too_fast``: area, team size, sweep width and walking pace, planning
assumptions in ``data/search_science/search_pace.json``), the form holds the record
and asks "was all of it searched?" with a button that records it as it was entered
and one that goes back to the form.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import streamlit as st

from casefile import Sector
from geo.detection import load_search_data, searched_too_fast, sweep_width

PENDING_KEY = "pace_question"


def _duration(seconds: float) -> str:
    minutes = max(1, round(seconds / 60))
    if minutes < 60:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def too_fast_message(sector: Sector, team_size: int | None, finished_at: datetime) -> str | None:
    """The question to ask, or None when the time taken is plausible (or unknown)."""
    start, since = sector.started_at, "it was started"
    if start is None:
        start, since = sector.assigned_at, "it was assigned"
    if start is None:
        return None
    # the forms give times to the minute: a finish in the start's own minute reads as 0 s
    taken = max(0.0, (finished_at - start).total_seconds())
    fastest = searched_too_fast(sector.area_m2, taken, team_size)
    if fastest is None:
        return None
    pace = load_search_data("search_pace")
    n = team_size if team_size and team_size > 0 else int(pace["default_team_size"])
    return (
        f"{sector.code} covers {sector.area_m2 / 10_000:,.1f} ha. A team of {n} walking "
        f"non-stop {sweep_width():.0f} m apart at {pace['walking_speed_ms']} m/s needs at "
        f"least about {_duration(fastest)} to cover it once (planning assumptions), but it "
        f"is being marked searched {_duration(taken)} after {since}. "
        "Was all of it searched? If only part was, say which part in the form."
    )


def hold(form_key: str, message: str, record: Callable[[], None]) -> None:
    """Keep a record back until the person answers the question."""
    st.session_state[PENDING_KEY] = (form_key, message, record)


def is_held(form_key: str) -> bool:
    held = st.session_state.get(PENDING_KEY)
    return bool(held and held[0] == form_key)


def ask(form_key: str) -> None:
    """Draw the held question for this form, if any: record as entered, or go back."""
    held = st.session_state.get(PENDING_KEY)
    if not held or held[0] != form_key:
        return
    _, message, record = held
    with st.container(border=True, key=f"pace_{form_key}"):
        st.warning(message)
        c1, c2 = st.columns(2)
        if c1.button("Yes, all of it was searched: record it", key=f"pace_yes_{form_key}",
                     type="primary"):
            st.session_state.pop(PENDING_KEY, None)
            record()
            st.rerun()
        if c2.button("No, go back to the form", key=f"pace_no_{form_key}"):
            st.session_state.pop(PENDING_KEY, None)
            st.rerun()
