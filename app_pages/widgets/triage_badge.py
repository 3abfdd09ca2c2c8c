"""The Triage menu entry says what waits for a coordinator: "Triage · 2 new".

The count rides on the case's change counter, the same one that drives live maps:
each view's poll (``case_status.live_found_banner`` or the case map's own fragment)
calls :func:`recount` when the counter has moved, and a changed count reruns the
whole app once so the menu redraws. One small count query per change, none per poll.
"""

from __future__ import annotations

import streamlit as st

from app_pages.widgets.session import current_case_id, store
from casefile import Actor, StoreError

_KEY = "_wayhome_triage_count"  # (case_id, count of new tips and family searches)
_SHOWN_KEY = "_wayhome_triage_title"  # the title the menu was last drawn with


def _title(count: int) -> str:
    return f"Triage · {count} new" if count else "Triage"


def _count(actor: Actor, case_id: int) -> int | None:
    try:
        return store().triage_count(actor, case_id)
    except StoreError:
        return None


def triage_title(actor: Actor | None) -> str:
    """The menu title for Triage, with the number of new reports of the current case."""
    case_id = current_case_id()
    title = "Triage"
    if actor is not None and case_id is not None:
        held = st.session_state.get(_KEY)
        if not held or held[0] != case_id:
            n = _count(actor, case_id)
            held = None if n is None else (case_id, n)
            st.session_state[_KEY] = held
        if held:
            title = _title(held[1])
    st.session_state[_SHOWN_KEY] = title
    return title


def recount(actor: Actor, case_id: int) -> None:
    """Count again after a change; rerun the app when the menu's number is now wrong."""
    n = _count(actor, case_id)
    if n is None:
        return
    st.session_state[_KEY] = (case_id, n)
    if st.session_state.get(_SHOWN_KEY) not in (None, _title(n)):
        st.rerun(scope="app")
