"""The team lead's phone: its own team's enquiry tasks, each a card to record the outcome.

A team lead sees only its own team's tasks (the store's ``own_team`` scope) with
the address it has to go to, and records each one done, no trace or not possible
with a note. A form loaded before someone else's change is refused with who made it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import streamlit as st

from casefile import Actor, LinkGone, Store, StoreError, Task, to_london
from layers.escape import markdown_text
from vocab import task_types as tt

#: what a team may record (the coordinator reopens or reassigns)
OUTCOMES: tuple[str, ...] = ("done", "no_trace", "not_possible")


def _where(task: Task) -> str:
    if task.street:
        return f"{task.street} ({tt.STREET_SIDES.get(task.side or '', '')})"
    return ", ".join(p for p in (task.address, task.postcode) if p)


def _window(task: Task) -> str:
    if task.window_start is None and task.window_end is None:
        return ""
    a = to_london(task.window_start).strftime("%d/%m %H:%M") if task.window_start else "…"
    b = to_london(task.window_end).strftime("%H:%M") if task.window_end else "…"
    return f"Footage {a}–{b}"


def team_tasks_section(db: Store, actor: Actor, case_id: int, tasks: list[Task],
                       gone: Callable[[], Any]) -> None:
    """The "Our tasks" cards: each open task with a form to record its outcome."""
    if not tasks:
        return
    st.subheader(f"Our tasks ({sum(1 for x in tasks if not x.finished)} to do)")
    for task in tasks:
        with st.container(border=True, key=f"team_task_{task.id}"):
            st.markdown(f"**{markdown_text(task.code)} · {markdown_text(task.kind_label)}** · "
                        f"{markdown_text(task.status_label)}")
            st.markdown(markdown_text(task.title))
            details = [x for x in (_where(task), _window(task)) if x]
            if details:
                st.caption(markdown_text(" · ".join(details)))
            if task.note:
                st.caption(markdown_text(task.note))
            if task.finished:
                if task.result_note:
                    st.caption("Result: " + markdown_text(task.result_note))
                continue
            with st.form(f"task_outcome_{task.id}_{task.version}"):
                outcome = st.radio("Outcome", OUTCOMES, format_func=tt.status_label,
                                   horizontal=True, index=None)
                note = st.text_input("Result note (needed when not possible)", max_chars=4000)
                if st.form_submit_button(f"Record {task.code}", type="primary",
                                         width="stretch"):
                    if outcome is None:
                        st.error("Choose the outcome.")
                        continue
                    try:
                        db.set_task_status(actor, task.id, outcome, version=task.version,
                                           result_note=note)
                    except LinkGone:
                        gone()
                    except StoreError as exc:
                        st.error(str(exc))
                    else:
                        st.rerun()
