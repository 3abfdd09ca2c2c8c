"""Tasks (coordinators): enquiries at places and on streets, never done twice.

A coordinator adds a task — house-to-house on one side of a street, CCTV from a
shop or a bus route for a time window, a visit to an address investigators were
given, a hospital, station or place check — placed by postcode, ``lat, lon`` or a
grid reference. Before it is saved the store looks for a repeat in the case
(whatever BCU or force holds it): the same premises or address, the same street and
side, the same camera with an overlapping window. A repeat is shown with who has it,
where and its status, and three choices, as for overlapping sectors: keep it anyway
(a reason is needed and audited), merge it into the task already there, or cancel.

Below: the case's tasks on a map and in a list, and a form to assign a task or
record what came of it. Addresses are personal data: shown here and to the team
that goes there, never to the family or a partner unit.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

import pandas as pd
import streamlit as st
from shapely.geometry import Point

from app_pages.widgets.a11y import map_title
from app_pages.widgets.forms import form_key, london_moment, london_now, renew_form_key
from app_pages.widgets.live_map import feature_groups_script, live_folium
from app_pages.widgets.sector_common import (
    base_url_path,
    case_marks,
    case_or_stop,
    case_view,
    sector_base_map,
)
from app_pages.widgets.session import require_actor, show_store_error, store
from casefile import StoreError, TaskRepeatWarning, format_london_full, to_london
from geo import find_place
from geo.errors import InputError
from layers.escape import markdown_text
from layers.tasks import tasks_layer
from vocab import task_types as tt

PENDING_KEY = "tasks_pending"  # the task waiting for a decision on its repeats
REPEATS_KEY = "tasks_repeats"
FLASH_KEY = "tasks_flash"

actor = require_actor()
db = store()

case = case_or_stop(actor, "Tasks")
st.title(f"Tasks · {markdown_text(case.reference)}")
flash_slot = st.empty()
flash = st.session_state.pop(FLASH_KEY, None)
if flash:
    flash_slot.success(flash)

try:
    teams = {t.id: t.name for t in db.teams(actor, case.id)}
    tasks = db.tasks(actor, case.id)
    case_file = db.load_case(actor, case.id)
except StoreError as exc:
    show_store_error(exc)
    st.stop()


def _window_text(start: Any, end: Any) -> str:
    if start is None and end is None:
        return ""
    a = to_london(start).strftime("%d/%m %H:%M") if start is not None else "…"
    b = to_london(end).strftime("%H:%M") if end is not None else "…"
    return f"{a}–{b}"


def _clock(text: str, label: str) -> time | None:
    """A typed London wall-clock time ("14:00", "1400", "14.00"), or None when empty."""
    raw = (text or "").strip().replace(".", ":")
    if not raw:
        return None
    if raw.isdigit() and len(raw) in (3, 4):
        raw = f"{raw[:-2]}:{raw[-2:]}"
    try:
        return datetime.strptime(raw, "%H:%M").time()
    except ValueError:
        raise InputError(f"{label}: type a time such as 14:00.") from None


def _saved(task: Any, merged: bool = False) -> None:
    renew_form_key("task")
    st.session_state.pop(PENDING_KEY, None)
    st.session_state.pop(REPEATS_KEY, None)
    st.session_state[FLASH_KEY] = (
        f"Merged into {task.code} ({task.kind_label})." if merged
        else f"Task {task.code} saved: {task.kind_label}.")
    st.rerun()


def _try_save(kwargs: dict[str, Any], **decision: Any) -> None:
    """Save the task (the store checks for repeats first); a repeat is kept for a decision."""
    try:
        task = db.add_task(actor, case.id, **kwargs, **decision,
                           idempotency_key=form_key("task"))
    except TaskRepeatWarning as warning:
        st.session_state[PENDING_KEY] = kwargs
        st.session_state[REPEATS_KEY] = warning.repeats
        return
    except (StoreError, InputError) as exc:
        show_store_error(exc)
        return
    _saved(task, merged=decision.get("on_repeat") == "merge")


# ---------------------------------------------------------------------- new task
st.subheader("Add a task")
kind = st.selectbox("Type of task", tt.names(), format_func=tt.label, key="task_kind")
entry = tt.TASK_TYPES[kind]
with st.form("new_task", border=True):
    title = st.text_input("Title (what the team reads)",
                          placeholder="e.g. CCTV at Union Street Express")
    place_text = st.text_input("Place: postcode, lat, lon or grid reference",
                               placeholder="SE1 0NS · 51.5040, -0.0950 · TQ 32265 80024")
    address = postcode = street = route = ""
    side = None
    day: date | None = None
    start_text = end_text = ""
    if entry.repeats == "premises" or kind == "cctv":
        c1, c2 = st.columns([3, 1])
        address = c1.text_input("Address or premises" + (" (personal data)" if entry.personal
                                                          else ""),
                                placeholder="e.g. Flat 3, 14 Redcross Way")
        postcode = c2.text_input("Postcode of the address", placeholder="SE1 9HR")
    if entry.repeats == "street":
        c1, c2 = st.columns([3, 1])
        street = c1.text_input("Street", placeholder="Union Street")
        side = c2.selectbox("Side", list(tt.STREET_SIDES), format_func=tt.STREET_SIDES.get)
    if kind == "cctv":
        route = st.text_input("Bus route (CCTV on a bus; leave empty for premises)",
                              placeholder="e.g. 344")
        c1, c2, c3 = st.columns(3)
        day = c1.date_input("Footage of (date)", value=london_now()[0], format="DD/MM/YYYY")
        start_text = c2.text_input("From (London, HH:MM)", placeholder="14:00")
        end_text = c3.text_input("To (London, HH:MM)", placeholder="16:00")
    team_id = st.selectbox("Team", [None, *teams], format_func=lambda i: "No team yet"
                           if i is None else teams[i])
    note = st.text_area("Instructions for the team", height=80)
    submitted = st.form_submit_button("Check and save", type="primary")
if submitted:
    place = find_place(place_text)
    try:
        if not place.found:
            raise InputError(place.message)
        window: dict[str, Any] = {}
        start_at, end_at = _clock(start_text, "From"), _clock(end_text, "To")
        if kind == "cctv" and (start_at is not None or end_at is not None):
            window = {"window_start": london_moment(day, start_at, "The footage window") if
                      start_at is not None else None,
                      "window_end": london_moment(day, end_at, "The footage window") if
                      end_at is not None else None}
        kwargs = {"kind": kind, "title": title, "place_lonlat": Point(place.lon, place.lat),
                  "address": address, "postcode": postcode or (
                      place.label if not place.message.startswith(
                      ("Latitude", "OS grid", "Easting")) else ""),
                  "street": street, "side": side, "route": route, "team_id": team_id,
                  "note": note, **window}
    except InputError as exc:
        show_store_error(exc)
    else:
        st.session_state.pop(REPEATS_KEY, None)
        _try_save(kwargs)

repeats = st.session_state.get(REPEATS_KEY)
pending = st.session_state.get(PENDING_KEY)
if repeats and pending:
    with st.container(border=True, key="task_repeat_warning"):
        st.warning(f"This task repeats {len(repeats)} task(s) of this case. Nothing is "
                   "saved yet.", icon=":material/content_copy:")
        st.dataframe(pd.DataFrame([{
            "Task": r.code,
            "Type": tt.label(r.kind),
            "Title": r.title,
            "Status": tt.status_label(r.status),
            "Who has it": r.team_name or "no team yet",
            "BCU / force": r.bcu_code or r.force_code or "",
            "Window": _window_text(r.window_start, r.window_end),
            "Distance": "" if r.distance_m is None else f"{r.distance_m:,.0f} m",
        } for r in repeats]), hide_index=True, width="stretch")
        reason = st.text_input("Reason to do it again (needed to keep it)", key="task_reason")
        b1, b2, b3 = st.columns(3)
        if b1.button("Keep anyway", key="task_keep"):
            _try_save(pending, on_repeat="keep", reason=reason)
        target = repeats[0]
        if b2.button(f"Merge into {target.code}", key="task_merge"):
            _try_save(pending, on_repeat="merge", merge_into=target.task_id, reason=reason or None)
        if b3.button("Cancel", key="task_cancel"):
            st.session_state.pop(PENDING_KEY, None)
            st.session_state.pop(REPEATS_KEY, None)
            st.rerun()

# ---------------------------------------------------------------------- the case's tasks
st.subheader(f"Tasks of this case ({len(tasks)})")
finished = sum(1 for x in tasks if x.finished)
st.caption(f"{finished} finished, {len(tasks) - finished} to do. Addresses are personal data: "
           "never shown to the family or partner units.")
centre, zoom = case_view([x for x in tasks if x.geometry is not None], case_file,
                         width_px=800, height_px=420)
map_title("Map of the case's enquiry tasks")
live_folium(sector_base_map(base_url_path()), key="tasks_map", center=centre, zoom=zoom,
            feature_group_to_add=feature_groups_script([tasks_layer(tasks),
                                                        *case_marks(case_file)]),
            returned_objects=[], height=420)
if tasks:
    st.dataframe(pd.DataFrame([{
        "Task": x.code,
        "Type": x.kind_label,
        "Title": x.title,
        "Status": x.status_label,
        "Team": x.team_name or "",
        "Address": ", ".join(p for p in (x.address, x.postcode) if p) or (
            f"{x.street} ({tt.STREET_SIDES.get(x.side or '', '')})" if x.street else ""),
        "Window": _window_text(x.window_start, x.window_end),
        "BCU": x.bcu_code or "",
        "Result": x.result_note,
        "Kept with reason": x.repeat_kept_reason,
    } for x in tasks]), hide_index=True, width="stretch")

    st.subheader("Assign a task or record what came of it")
    by_id = {x.id: x for x in tasks}
    chosen = st.selectbox("Task", list(by_id), format_func=lambda i: (
        f"{by_id[i].code} · {by_id[i].kind_label} · {by_id[i].title}"), key="task_pick")
    task = by_id[chosen]
    with st.form(f"task_change_{task.id}_{task.version}"):
        c1, c2 = st.columns(2)
        team_pick = c1.selectbox("Team", [None, *teams], index=([None, *teams].index(
            task.team_id) if task.team_id in teams else 0), format_func=lambda i: "No team"
            if i is None else teams[i])
        moves = [task.status, *sorted(tt.TASK_STATUSES[task.status].moves_to)]
        status = c2.selectbox("Status", moves, format_func=tt.status_label)
        result = st.text_input("Result note", value=task.result_note)
        if st.form_submit_button("Save"):
            try:
                if team_pick != task.team_id:
                    task = db.assign_task(actor, task.id, team_pick, version=task.version)
                if status != task.status or result != task.result_note:
                    db.set_task_status(actor, task.id, status, version=task.version,
                                       result_note=result)
            except StoreError as exc:
                show_store_error(exc)
            else:
                st.session_state[FLASH_KEY] = f"Task {task.code} saved."
                st.rerun()
    st.caption(f"Last changed {format_london_full(task.updated_at)} by "
               f"{markdown_text(task.updated_by_name)}.")
