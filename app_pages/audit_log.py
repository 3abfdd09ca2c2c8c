"""Audit log (coordinators of the case): who changed what, when, and why.

Read-only and append-only. Filter by what was changed (case, sighting, member)
and by who changed it. Times are Europe/London. Personal values (names,
descriptions, contact details) are held apart so a case purge can remove them;
they are shown here only while they exist.
"""

from __future__ import annotations

import json

import pandas as pd
import streamlit as st

from app_pages.widgets.case_status import live_found_banner
from app_pages.widgets.session import (
    choose_case,
    current_case_id,
    require_actor,
    show_store_error,
    store,
)
from casefile import StoreError, format_london_full

actor = require_actor()
db = store()

st.title("Audit log")

try:
    summaries = db.list_cases(actor)
except StoreError as exc:
    show_store_error(exc)
    st.stop()
if not summaries:
    st.info("You are not on any case yet.")
    st.stop()

ids = [s.id for s in summaries]
labels = {s.id: f"{s.reference} — {s.child_name}" for s in summaries}
current = current_case_id()
c1, c2, c3 = st.columns([2, 1, 1])
case_id = c1.selectbox(
    "Case", ids, index=ids.index(current) if current in ids else 0, format_func=labels.get
)
if case_id != current:
    choose_case(case_id)
live_found_banner(case_id)

try:
    everything = db.audit_log(actor, case_id, limit=5000)
except StoreError as exc:
    show_store_error(exc)
    st.stop()

# a team lead link acts under a neutral name ("Team lead link 3 — team 2": team names
# can be personal and the log is append-only); while the link exists, name its team
try:
    link_teams = {k.user_id: k.team_name for k in db.links(actor, case_id) if k.team_name}
except StoreError:
    link_teams = {}


def _who(actor_id: int | None, name: str) -> str:
    team = link_teams.get(actor_id) if actor_id is not None else None
    return f"{name} ({team})" if team else name


entities = sorted({r.entity for r in everything})
people = {r.actor_id: f"{_who(r.actor_id, r.actor_name)} ({r.actor_role})"
          for r in everything}
entity = c2.selectbox("What changed", ["everything", *entities])
person = c3.selectbox(
    "Who",
    [None, *people],
    format_func=lambda p: "everyone" if p is None else people.get(p, str(p)),
)

try:
    records = db.audit_log(
        actor,
        case_id,
        entity=None if entity == "everything" else entity,
        person_id=person,
        limit=5000,
    )
except StoreError as exc:
    show_store_error(exc)
    st.stop()


def _changes(changes: dict, personal: dict | None) -> str:
    both = {**changes, **(personal or {})}
    return "; ".join(
        f"{k}: {json.dumps(v[0], ensure_ascii=False)} → {json.dumps(v[1], ensure_ascii=False)}"
        for k, v in sorted(both.items())
    )


st.caption(f"{len(records)} of {len(everything)} records, newest first.")
st.dataframe(
    pd.DataFrame(
        [
            {
                "When (London)": format_london_full(r.at),
                "Who": _who(r.actor_id, r.actor_name),
                "Role": r.actor_role,
                "What": r.entity,
                "#": r.entity_id,
                "Action": r.action,
                "Fields": ", ".join(r.fields),
                "Changes": _changes(r.changes, r.personal),
                "Reason": r.reason or "",
            }
            for r in records
        ],
        columns=[
            "When (London)",
            "Who",
            "Role",
            "What",
            "#",
            "Action",
            "Fields",
            "Changes",
            "Reason",
        ],
    ),
    hide_index=True,
    width="stretch",
)
