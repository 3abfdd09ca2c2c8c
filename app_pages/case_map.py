"""The coordinator's case view: live map of sightings, adding and checking sightings.

Live: the map, the "Found — stand down" banner, the timeline and the sightings
table sit in one ``st.fragment`` that re-runs every :data:`POLL_SECONDS`. Each
run asks the store for the case's change counter (one indexed query). Only
when it has moved is the case read again and the case layers rebuilt; the base
map is rendered once per process and re-sent as the same component, so the
browser keeps the map, its pan and its zoom. The case's marks (sightings, path,
last-known location, IPP, home, rendezvous point, enquiry tasks) are one keyed
layer: drawn in full only when the view needs it (first load, the dismissed
toggle, a clicked place, a map that missed a change); otherwise a new or changed
sighting or task travels beside the unchanged map as a small message
(:mod:`app_pages.widgets.layer_feed`). An idle poll sends exactly what it sent
last time.

Adding a sighting: click the map (fills in the place), or type a postcode,
"lat, lon" or an OS grid reference. Each form submission carries its own
idempotency key, renewed only after a successful save, so a submission handed
back again is saved once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pandas as pd
import streamlit as st

from app_pages.widgets.a11y import map_title
from app_pages.widgets.case_status import show_found_banner
from app_pages.widgets.change_watch import change_watch
from app_pages.widgets.common import london_map, show_streets
from app_pages.widgets.connection import live_every, live_note
from app_pages.widgets.forms import (
    form_key,
    london_moment,
    london_now,
    point_from_text,
    point_text,
    renew_form_key,
)
from app_pages.widgets.layer_feed import LiveLayerUpdate, layer_feed, live_layer_update
from app_pages.widgets.live_map import RenderedMap, feature_groups_script, live_folium, render_base
from app_pages.widgets.session import current_case_id, require_actor, show_store_error, store
from app_pages.widgets.triage_badge import recount
from casefile import (
    SIGHTING_CONFIDENCES,
    SIGHTING_SOURCES,
    SIGHTING_STATUSES,
    CaseFile,
    NotFound,
    PermissionDenied,
    StoreError,
    format_london,
    format_london_full,
)
from geo.errors import InputError
from layers.assets import static_url
from layers.basemap import clicked_point, place_layer
from layers.case_features import case_features, live_case_layer
from layers.escape import markdown_text
from layers.legend import Legend, legend_html
from layers.sectors import LiveLayerSupport
from layers.sightings import sighting_legend_rows
from layers.timeline import timeline_chart

#: seconds between two checks of the case's change counter (per open view; often on
#: PostgreSQL, where the counter is pushed to each process and read from memory)
POLL_SECONDS = live_every(4)
#: zoom the case map opens at (about 2 km across a 900-pixel map)
OPENING_ZOOM = 14
MAP_KEY = "case_map"
LIVE_KEY = "case_map_live"
WHERE_KEY = "sighting_where"
PICKED_KEY = "case_map_picked"
FEED_KEY = "case_map_feed"
REDRAW_KEY = "case_map_redraw"
UPDATE_KEY = "case_map_marks"
SCRIPT_KEY = "case_map_script"
SIGHTING_FORM = "new_sighting"

actor = require_actor()
show_streets(actor)  # the street layer of a map without tiles
db = store()


@st.cache_resource(show_spinner="Preparing the map…")
def case_base_map(base_url_path: str) -> RenderedMap:
    """The London base map plus the case legend, rendered once per process."""
    # the sightings matter more than line styles here: the boundary legend starts folded
    m, _ = london_map(legend_open=False)
    Legend(
        legend_html([], extra=sighting_legend_rows(), title="Case"),
        position="bottomright",
    ).add_to(m)
    LiveLayerSupport(static_url(base_url_path)).add_to(m)  # small updates of the case's marks
    return render_base(m)


def _live(case_id: int, show_dismissed: bool) -> dict[str, Any]:
    """The case as last read, re-read only when its change counter has moved."""
    token = db.change_token(actor, case_id)
    picked = st.session_state.get(PICKED_KEY)
    live = st.session_state.get(LIVE_KEY)
    if live is None or live["case_id"] != case_id or live["token"] != token:
        if live is not None:
            recount(actor, case_id)  # the menu's "Triage · N new"
        cf = db.load_case(actor, case_id)
        chart = timeline_chart(cf.sightings, cf.case.reported_missing_at)
        live = {
            "case_id": case_id,
            "token": cf.token,
            "file": cf,
            "rendezvous": db.rendezvous(actor, case_id),
            # built once per change: altair's validation costs more than the poll
            "chart": None if chart is None else chart.to_dict(),
            "table": _sightings_table(cf),
            # enquiry tasks (visits, CCTV, house-to-house) drawn with the case
            "tasks": db.tasks(actor, case_id),
        }
    # the case's marks as keyed features: a change is sent as the marks it touches
    view = (case_id, show_dismissed, picked)
    redraw = bool(st.session_state.pop(REDRAW_KEY, False))
    # kept beside the case as read: a new read still diffs against what the map has
    previous: LiveLayerUpdate | None = st.session_state.get(UPDATE_KEY)
    if (previous is None or previous.version != live["token"] or previous.view != view
            or redraw):
        cf = live["file"]
        features = case_features(cf.case, cf.sightings, cf.last_known(),
                                 rendezvous=live["rendezvous"], tasks=live.get("tasks", []),
                                 show_dismissed=show_dismissed)
        update = live_layer_update(previous, features, live_case_layer, version=live["token"],
                                   view=view, layer="case", redraw=redraw)
        if update.full or SCRIPT_KEY not in st.session_state:
            groups = [update.group]
            if picked is not None:
                groups.append(place_layer(picked[0], picked[1], "New sighting goes here"))
            st.session_state[SCRIPT_KEY] = feature_groups_script(groups)
            update.group = None  # rendered: only the features are kept, for the next diff
        st.session_state[UPDATE_KEY] = update
    live["script"] = st.session_state[SCRIPT_KEY]
    live["update"] = st.session_state[UPDATE_KEY]
    st.session_state[LIVE_KEY] = live
    return live


def _opening_view(cf: CaseFile) -> tuple[float, float]:
    lk = cf.last_known()
    return (lk.lat, lk.lon)


def _on_map_click() -> None:
    point = clicked_point(st.session_state.get(MAP_KEY))
    if point is None:
        return
    st.session_state[PICKED_KEY] = point
    st.session_state[WHERE_KEY] = point_text(point)
    st.session_state["_case_map_refresh_form"] = True


def _sightings_table(cf: CaseFile) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "#": s.id,
                "Seen (London)": format_london_full(s.seen_at),
                "Status": s.status,
                "Source": s.source,
                "Confidence": s.confidence,
                "Borough": s.borough or "",
                "BCU": s.bcu or "",
                "Force": s.force or "",
                "Reported by": s.reported_by,
                "Description": s.description,
            }
            for s in reversed(cf.sightings)
        ]
    )


def _check_sighting(cf: CaseFile) -> None:
    """Verify, dismiss or reopen one sighting, saved against the version shown."""
    if not cf.sightings:
        return
    by_id = {s.id: s for s in cf.sightings}
    ids = [s.id for s in reversed(cf.sightings)]
    if st.session_state.get("check_sighting") not in by_id:
        st.session_state.pop("check_sighting", None)
    chosen = st.selectbox(
        "Sighting",
        ids,
        key="check_sighting",
        format_func=lambda i: (
            f"#{i} · {format_london(by_id[i].seen_at)} · {by_id[i].source} · {by_id[i].status}"
        ),
    )
    s = by_id[chosen]
    reason = st.text_input("Reason (kept in the audit log)", key="check_reason")
    cols = st.columns(3)
    actions = (("verified", "Verify"), ("dismissed", "Dismiss"), ("unverified", "Reopen"))
    for col, (status, label) in zip(cols, actions, strict=True):
        if col.button(label, key=f"check_{status}", disabled=s.status == status):
            try:
                db.update_sighting(
                    actor, s.id, version=s.version, status=status, reason=reason or None
                )
            except StoreError as exc:
                show_store_error(exc)
            else:
                st.session_state["case_map_flash"] = f"Sighting #{s.id} is now {status}."
                st.rerun(scope="fragment")


@st.fragment(run_every=POLL_SECONDS)
def live_view(case_id: int, show_dismissed: bool) -> None:
    try:
        live = _live(case_id, show_dismissed)
    except (PermissionDenied, NotFound) as exc:
        show_store_error(exc)
        return
    cf: CaseFile = live["file"]
    c = cf.case
    st.caption(
        f"Age {c.age if c.age is not None else 'unknown'} · risk {markdown_text(c.risk)} · "
        f"status **{markdown_text(c.status.upper())}** · reported missing "
        f"{format_london_full(c.reported_missing_at)}"
    )
    show_found_banner(cf.case)
    # open on the last-known location; later changes do not move the viewer's map
    view = st.session_state.setdefault(f"case_map_view_{case_id}", _opening_view(cf))
    live_folium(
        case_base_map(st.get_option("server.baseUrlPath") or ""),
        key=MAP_KEY,
        center=view,
        zoom=OPENING_ZOOM,
        feature_group_to_add=live["script"],
        returned_objects=["last_clicked"],
        height=560,
        on_change=_on_map_click,
    )
    # the marks changed since the last message; a map that missed one asks for a redraw
    if layer_feed(live["update"].message, key=FEED_KEY):
        st.session_state[REDRAW_KEY] = True
        st.rerun(scope="fragment")
    # PostgreSQL: this view runs again the moment the case changes (the timer is the net)
    change_watch(db, case_id, live["token"], key="case_map_push")
    if st.session_state.pop("_case_map_refresh_form", False):
        st.rerun()  # the whole page: the sighting form shows the clicked point
    lk = cf.last_known()
    lk_text = (
        f"latest verified sighting, seen {format_london(lk.at)}"
        if lk.kind == "sighting"
        else "the IPP (no verified sighting yet)"
    )
    st.caption(
        f"{len(cf.sightings)} sightings · last-known location: {lk_text} · "
        f"live: {live_note(4)}"
    )
    flash = st.session_state.pop("case_map_flash", None)
    if flash:
        st.success(flash)
    chart_col, check_col = st.columns([3, 2], gap="medium")
    with chart_col:
        if live["chart"] is not None:
            st.vega_lite_chart(live["chart"], width="stretch")
    with check_col:
        _check_sighting(cf)
    if cf.sightings:
        with st.expander(f"All sightings ({len(cf.sightings)})"):
            st.dataframe(live["table"], hide_index=True, width="stretch")


def _save_sighting(case_id: int) -> None:
    """Form callback: save once per form key; keep the typed values if it fails."""
    ss = st.session_state
    try:
        lat, lon = point_from_text("Where", ss.get(WHERE_KEY, ""), required=True)  # type: ignore[misc]
        seen_at: datetime = london_moment(
            ss.get("sighting_day"), ss.get("sighting_time"), "Time seen"
        )
        saved = db.add_sighting(
            actor,
            case_id,
            lat=lat,
            lon=lon,
            seen_at=seen_at,
            source=ss.get("sighting_source"),
            confidence=ss.get("sighting_confidence"),
            status=ss.get("sighting_status"),
            reported_by=ss.get("sighting_reported_by", ""),
            reporter_contact=ss.get("sighting_contact", ""),
            description=ss.get("sighting_description", ""),
            idempotency_key=form_key(SIGHTING_FORM),
        )
    except (StoreError, InputError) as exc:
        ss["sighting_error"] = str(exc)
        return
    renew_form_key(SIGHTING_FORM)
    area = " · ".join(p for p in (saved.borough, saved.bcu, saved.force) if p)
    ss["sighting_saved"] = (
        f"Saved sighting #{saved.id} ({saved.status}, seen {format_london(saved.seen_at)})"
        f" — {area or 'outside the London areas Wayhome knows'}."
    )
    for key in (WHERE_KEY, "sighting_reported_by", "sighting_contact", "sighting_description"):
        ss[key] = ""
    ss.pop(PICKED_KEY, None)


def _sighting_form(case_id: int) -> None:
    ss = st.session_state
    if "sighting_day" not in ss:
        ss["sighting_day"], ss["sighting_time"] = london_now()
    error = ss.pop("sighting_error", None)
    if error:
        st.error(error)
    saved = ss.pop("sighting_saved", None)
    if saved:
        st.success(saved)
    with st.form(SIGHTING_FORM):
        st.text_input(
            "Where — click the map, or type a postcode or lat, lon",
            key=WHERE_KEY,
            placeholder="SW9 9SL · 51.4703, -0.1176 · TQ 305 765",
        )
        c1, c2 = st.columns(2)
        c1.date_input("Date seen", key="sighting_day", format="DD/MM/YYYY")
        c2.time_input("Time seen (London)", key="sighting_time", step=60)
        c1, c2 = st.columns(2)
        c1.selectbox("Source", SIGHTING_SOURCES, key="sighting_source", index=2)
        c2.selectbox("Confidence", SIGHTING_CONFIDENCES, key="sighting_confidence", index=1)
        c1, c2 = st.columns(2)
        c1.selectbox("Status", SIGHTING_STATUSES, key="sighting_status", index=0)
        c2.text_input("Reported by", key="sighting_reported_by", max_chars=120)
        st.text_input("Their contact details (kept off the map)", key="sighting_contact")
        st.text_area("What was seen", key="sighting_description", height=80)
        st.form_submit_button(
            "Save sighting", type="primary", on_click=_save_sighting, args=(case_id,)
        )


# ---------------------------------------------------------------------------- page

case_id = current_case_id()
if case_id is None:
    st.title("Case map")
    st.info("Choose a case first.")
    st.page_link("app_pages/cases.py", label="Go to your cases", icon=":material/folder_open:")
    st.stop()

try:
    case = db.get_case(actor, case_id)
except StoreError as exc:
    st.title("Case map")
    show_store_error(exc)
    st.page_link("app_pages/cases.py", label="Go to your cases", icon=":material/folder_open:")
    st.stop()
if st.query_params.get("case") != str(case_id):
    st.query_params["case"] = str(case_id)

st.title(f"{markdown_text(case.reference)} · {markdown_text(case.child_name)}")
map_title("Map of the case: sightings, last-known location and sectors")
if case.description:
    st.markdown(f"**Description for searchers:** {markdown_text(case.description)}")

map_col, form_col = st.columns([5, 2], gap="medium")
with form_col:
    st.header("Add a sighting")
    _sighting_form(case_id)
    show_dismissed = st.toggle("Show dismissed sightings", value=True, key="show_dismissed")
with map_col:
    live_view(case_id, show_dismissed)
