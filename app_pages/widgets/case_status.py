""""Found — stand down" on every coordinator view of a case, live.

When a case is marked found, everyone still looking at it — on the case map, the
case list, the sectors or handover pages, the audit log — must be told to stop
within seconds, without reloading. :func:`live_found_banner` is a small
``st.fragment`` that re-runs every :data:`POLL_SECONDS`: it asks the store for
the case's change counter (one indexed query) and reads the case again only
when the counter has moved. An idle poll draws one banner or nothing.

Pages that already poll the case (the case map's live fragment) call
:func:`show_found_banner` from their own fragment instead of adding a second poll.
"""

from __future__ import annotations

from typing import Any

import streamlit as st

from app_pages.widgets.connection import live_every
from app_pages.widgets.session import current_actor, store
from app_pages.widgets.triage_badge import recount
from casefile import StoreError, format_london_full
from layers.escape import markdown_text

#: seconds between two checks of the case's change counter (per open view)
POLL_SECONDS = live_every(4)
#: the heading every view shows once the child is found
FOUND_HEADING = "Found — stand down"
_STATE_KEY = "_wayhome_case_status"


def show_found_banner(case: Any) -> None:
    """The banner for a found case (``case`` is a :class:`casefile.Case`); nothing otherwise."""
    if not case.is_found:
        return
    when = format_london_full(case.status_changed_at)
    # the last editor is the one who marked it found only if nothing changed since
    who = (
        f" by {markdown_text(case.updated_by_name)}"
        if case.status_changed_at is not None and case.status_changed_at == case.updated_at
        else ""
    )
    with st.container(key="found_banner"):
        st.success(
            f"### {FOUND_HEADING}\n"
            f"Case {markdown_text(case.reference)} was marked found at {when}{who}. "
            "Stop searching and return to the rendezvous point.",
            icon=":material/verified:",
        )


@st.fragment(run_every=POLL_SECONDS)
def live_found_banner(case_id: int) -> None:
    """Show "Found — stand down" for ``case_id`` as soon as it is marked found.

    Silent when the actor may no longer read the case: the page around it says
    why on its next run.
    """
    actor = current_actor()
    if actor is None:
        return
    db = store()
    try:
        token = db.change_token(actor, case_id)
        seen = st.session_state.get(_STATE_KEY)
        if not seen or seen[0] != case_id or seen[1] != token:
            before = seen[2] if seen and seen[0] == case_id else None
            seen = (case_id, token, db.get_case(actor, case_id))
            st.session_state[_STATE_KEY] = seen
            if actor.role == "coordinator":
                recount(actor, case_id)  # the menu's "Triage · N new"
            if before is not None and before.is_found != seen[2].is_found:
                # found (or reopened) while open: redraw the whole page once, so
                # nothing on it still offers to search or to mark the child found
                st.rerun()
    except StoreError:
        return
    show_found_banner(seen[2])
