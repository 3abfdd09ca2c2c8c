"""Cases: the coordinator's case list, switching case, opening a new one, editing one.

Every change goes through the store with the version the form was shown at, so
two coordinators editing the same case cannot overwrite each other: the second
save gets the store's "changed by X at 14:05 — reload" message and nothing is
written.
"""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from app_pages.widgets.case_status import live_found_banner
from app_pages.widgets.forms import (
    form_key,
    london_moment,
    london_now,
    point_from_text,
    point_text,
    renew_form_key,
)
from app_pages.widgets.session import (
    choose_case,
    current_case_id,
    require_actor,
    show_store_error,
    store,
)
from casefile import CASE_STATUSES, Case, StaleVersion, StoreError, format_london_full, to_london
from geo.errors import InputError
from layers.escape import markdown_text
from vocab import settings

actor = require_actor()
db = store()

st.title("Cases")

try:
    summaries = db.list_cases(actor)
    cases: dict[int, Case] = {s.id: db.get_case(actor, s.id) for s in summaries}
except StoreError as exc:
    show_store_error(exc)
    st.stop()

case_id = current_case_id()
if case_id not in cases:
    case_id = summaries[0].id if summaries else None
    choose_case(case_id)
if case_id is not None:
    live_found_banner(case_id)  # whoever marks it found, this page says so within seconds

#: how long "Saved case …" and the like stay on the page, s
FLASH_S = 20.0

flash = st.session_state.get("cases_flash")
if flash:
    # shown for FLASH_S even if the page runs again meanwhile (a live change elsewhere
    # may redraw it at once), then gone
    text, shown_at = flash
    if time.monotonic() - shown_at < FLASH_S:
        st.success(text)
    else:
        del st.session_state["cases_flash"]

# ------------------------------------------------------------------ the list

if summaries:
    table = pd.DataFrame(
        [
            {
                "Reference": c.reference,
                "Name or alias": c.child_name,
                "Age": c.age,
                "Risk": c.risk,
                "Status": c.status.upper() if c.status == "found" else c.status,
                "Reported missing (London)": format_london_full(c.reported_missing_at),
                "Last change (London)": format_london_full(c.updated_at),
            }
            for c in (cases[s.id] for s in summaries)
        ]
    )
    st.dataframe(table, hide_index=True, width="stretch")
else:
    st.info("You are not on any case yet. Open a new case below.")

if summaries:
    ids = [s.id for s in summaries]
    chosen = st.selectbox(
        "Work on case",
        ids,
        index=ids.index(case_id) if case_id in ids else 0,
        format_func=lambda i: f"{cases[i].reference} — {cases[i].child_name} ({cases[i].status})",
    )
    if chosen != case_id:
        choose_case(chosen)
        st.rerun()
    if st.button("Open the case map", type="primary", icon=":material/pin_drop:"):
        st.switch_page("app_pages/case_map.py", query_params={"case": str(chosen)})

# ------------------------------------------------------------------ the chosen case


def _edit_version_key(cid: int) -> str:
    return f"case_edit_version_{cid}"


def _reset_edit_form(cid: int) -> None:
    for key in list(st.session_state.keys()):
        if key.startswith(f"edit_{cid}_") or key == _edit_version_key(cid):
            del st.session_state[key]


def _edit_case(case: Case) -> None:
    """The edit form, shown with (and saved against) the version first displayed."""
    vkey = _edit_version_key(case.id)
    if vkey not in st.session_state:
        st.session_state[vkey] = case.version
    shown_version = st.session_state[vkey]
    if shown_version != case.version:
        st.warning(
            f"Someone ({case.updated_by_name}) changed this case since you opened the form. "
            "Reload the form to see their change before saving yours."
        )
        if st.button("Reload the form"):
            _reset_edit_form(case.id)
            st.rerun()
    reported = to_london(case.reported_missing_at)
    k = f"edit_{case.id}_"
    with st.form(f"edit_case_{case.id}"):
        c1, c2, c3 = st.columns(3)
        reference = c1.text_input("Case reference", value=case.reference, key=k + "ref")
        child_name = c2.text_input(
            "Child's first name or alias", value=case.child_name, key=k + "name"
        )
        age = c3.number_input(
            "Age", min_value=0, max_value=120, step=1, value=case.age or 0, key=k + "age"
        )
        c1, c2, c3, c4 = st.columns(4)
        risks = list(settings.RISK_GRADES)
        risk = c1.selectbox(
            "Risk grade",
            risks,
            index=risks.index(case.risk) if case.risk in risks else 0,
            key=k + "risk",
        )
        status = c2.selectbox(
            "Status", CASE_STATUSES, index=CASE_STATUSES.index(case.status), key=k + "status"
        )
        day = c3.date_input(
            "Reported missing (date)", value=reported.date(), format="DD/MM/YYYY", key=k + "day"
        )
        at = c4.time_input(
            "Time (London)",
            value=reported.time().replace(second=0, microsecond=0),
            step=60,
            key=k + "time",
        )
        c1, c2 = st.columns(2)
        ipp = c1.text_input(
            "Initial planning point (postcode or lat, lon)",
            value=point_text(case.ipp),
            key=k + "ipp",
        )
        home = c2.text_input(
            "Home (postcode or lat, lon; optional)", value=point_text(case.home), key=k + "home"
        )
        description = st.text_area(
            "Description for searchers", value=case.description, key=k + "desc"
        )
        notes = st.text_area("Notes", value=case.notes, key=k + "notes")
        st.markdown("**The family's page**")
        c1, c2, c3 = st.columns(3)
        family_name = c1.text_input(
            "Name the family page uses (empty: the first name)", value=case.family_name,
            max_chars=80, key=k + "fname",
        )
        liaison_name = c2.text_input(
            "Family liaison officer", value=case.liaison_name, max_chars=120, key=k + "fli",
        )
        liaison_phone = c3.text_input(
            "Liaison officer's phone", value=case.liaison_phone, max_chars=40, key=k + "flp",
        )
        reason = st.text_input("Reason for the change (kept in the audit log)", key=k + "reason")
        saved = st.form_submit_button("Save changes")
    if saved:
        try:
            ipp_point = point_from_text("Initial planning point", ipp, required=True)
            home_point = point_from_text("Home", home, required=False)
            # unchanged points keep their stored precision
            if point_text(ipp_point) == point_text(case.ipp):
                ipp_point = case.ipp
            if home_point is not None and point_text(home_point) == point_text(case.home):
                home_point = case.home
            updated = db.update_case(
                actor,
                case.id,
                version=shown_version,
                reason=reason or None,
                reference=reference,
                child_name=child_name,
                age=int(age),
                risk=risk,
                status=status,
                reported_missing_at=london_moment(day, at, "Time reported missing"),
                ipp=ipp_point,
                home=home_point,
                description=description,
                notes=notes,
                family_name=family_name,
                liaison_name=liaison_name,
                liaison_phone=liaison_phone,
            )
        except StaleVersion as exc:
            show_store_error(exc)
        except (StoreError, InputError) as exc:
            show_store_error(exc)
        else:
            _reset_edit_form(case.id)
            st.session_state["cases_flash"] = (f"Saved case {updated.reference}.", time.monotonic())
            st.rerun()


def _mark_found(case: Case) -> None:
    if case.is_found:
        return  # the live banner at the top of the page says so
    with st.form(f"found_{case.id}"):
        st.markdown(
            "**The child has been found?** Every open view of this case will say "
            "*Found — stand down* within seconds."
        )
        confirm = st.checkbox("Yes, the child has been found safe or located")
        reason = st.text_input("Who found them, how (kept in the audit log)")
        go = st.form_submit_button("Mark FOUND — stand down", type="primary")
    if go:
        if not confirm:
            st.error("Tick the box to confirm the child has been found.")
            return
        try:
            db.update_case(
                actor,
                case.id,
                version=st.session_state.get(_edit_version_key(case.id), case.version),
                status="found",
                reason=reason or "Marked found",
            )
        except StoreError as exc:
            show_store_error(exc)
        else:
            _reset_edit_form(case.id)
            st.session_state["cases_flash"] = (f"Case {case.reference} marked FOUND.",
                                               time.monotonic())
            st.rerun()


if case_id is not None:
    case = cases[case_id]
    st.subheader(f"Case {markdown_text(case.reference)} · {markdown_text(case.child_name)}")
    st.caption(
        f"Version {case.version} · last changed by {markdown_text(case.updated_by_name)} "
        f"at {format_london_full(case.updated_at)}"
    )
    _mark_found(case)
    with st.expander("Edit this case", expanded=False):
        _edit_case(case)

# ------------------------------------------------------------------ a new case

with st.expander("Open a new case", expanded=not summaries):
    today, now_time = london_now()
    with st.form("new_case"):
        c1, c2, c3, c4 = st.columns(4)
        reference = c1.text_input("Case reference", max_chars=40)
        child_name = c2.text_input("Child's first name or alias", max_chars=80)
        age = c3.number_input("Age", min_value=0, max_value=120, step=1, value=None)
        risk = c4.selectbox("Risk grade", settings.RISK_GRADES)
        c1, c2 = st.columns(2)
        day = c1.date_input("Reported missing (date)", value=today, format="DD/MM/YYYY")
        at = c2.time_input("Time (London)", value=now_time, step=60)
        c1, c2 = st.columns(2)
        ipp = c1.text_input(
            "Initial planning point (postcode or lat, lon)", placeholder="SW9 9SL · 51.47, -0.12"
        )
        home = c2.text_input("Home (postcode or lat, lon; optional)")
        description = st.text_area(
            "Description for searchers", placeholder="Clothing, height, hair, what they carry"
        )
        notes = st.text_area("Notes")
        create = st.form_submit_button("Open case", type="primary")
    if create:
        try:
            new = db.create_case(
                actor,
                reference=reference,
                child_name=child_name,
                age=None if age is None else int(age),
                risk=risk,
                reported_missing_at=london_moment(day, at, "Time reported missing"),
                ipp=point_from_text("Initial planning point", ipp, required=True),
                home=point_from_text("Home", home, required=False),
                description=description,
                notes=notes,
                idempotency_key=form_key("new_case"),
            )
        except (StoreError, InputError) as exc:
            show_store_error(exc)
        else:
            renew_form_key("new_case")
            choose_case(new.id)
            st.session_state["cases_flash"] = (f"Opened case {new.reference}.", time.monotonic())
            st.rerun()
