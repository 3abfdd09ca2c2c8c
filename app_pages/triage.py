"""Triage (coordinators): tips and "we searched here" reports from families, newest first.

A tip arrives as an unverified "family" sighting; accepting verifies it,
dismissing dismisses it. A family search arrives as searched, volunteer-reported
ground that already counts in the duplicate checks; dismissing marks it "needs
re-search" so its ground counts as unsearched again. Every decision is audited.

The page refreshes itself when the case changes (the case's change counter, polled
like the live maps), shows every report on a map with the number it has in the
list, and says for each where it is (borough, BCU, ward) and what each button does.
"""

from __future__ import annotations

import streamlit as st
from shapely.geometry import Point

from app_pages.widgets.a11y import map_title
from app_pages.widgets.change_watch import change_watch
from app_pages.widgets.common import london_map
from app_pages.widgets.live_map import RenderedMap, feature_groups_script, live_folium, render_base
from app_pages.widgets.sector_common import case_or_stop
from app_pages.widgets.session import require_actor, show_store_error, store
from casefile import StoreError, format_london, format_london_full
from casefile.tips import Report
from geo.boundaries import locate
from geo.errors import InputError
from layers.escape import markdown_text
from layers.triage import triage_layer
from layers.view import view_centre, view_zoom

#: seconds between two checks of the case's change counter
POLL_SECONDS = 4
_SEEN_KEY = "_triage_seen"

#: what each decision does, said on its button
DECISIONS = {
    "tip": (("accepted", "Accept: mark the sighting verified"),
            ("dismissed", "Dismiss: mark the sighting dismissed")),
    "search": (("accepted", "Accept: keep it as searched ground"),
               ("dismissed", "Dismiss: its ground counts as unsearched again")),
}


@st.cache_resource(show_spinner="Preparing the map…")
def triage_base(base_url_path: str) -> RenderedMap:
    """The London map the Triage page draws its reports on (built once per process)."""
    return render_base(london_map(legend_open=False)[0])


def _where(r: Report) -> str:
    """Borough, BCU and ward of a tip's point or a search's centre, in words."""
    if r.kind == "tip" and r.lat is not None and r.lon is not None:
        lat, lon = r.lat, r.lon
    elif r.geometry is not None:
        centre = r.geometry.representative_point()
        lat, lon = centre.y, centre.x
    else:
        return ""
    try:
        place = locate(lat, lon)
    except InputError:
        return ""
    parts = [f"{place['ward']} ward" if place.get("ward") else None, place.get("borough"),
             f"BCU {place['bcu']}" if place.get("bcu") else None,
             None if place.get("force") == "Metropolitan Police Service" else place.get("force")]
    return ", ".join(p for p in parts if p) or "outside London's boundaries"


@st.fragment(run_every=POLL_SECONDS)
def _watch(case_id: int) -> None:
    """Redraw the page when anything in the case changed (a new tip, a decision)."""
    try:
        token = db.change_token(actor, case_id)
    except StoreError:
        return
    if st.session_state.get(_SEEN_KEY) not in (None, token):
        st.session_state[_SEEN_KEY] = token
        st.rerun()
    st.session_state[_SEEN_KEY] = token
    change_watch(db, case_id, token, key="triage_push")  # PostgreSQL: at once


actor = require_actor()
case = case_or_stop(actor, "Triage")
db = store()
st.title(f"Triage · {markdown_text(case.reference)}")
map_title("Map of the reports waiting for triage")
_watch(case.id)
show_all = st.toggle("Show reports already handled")
try:
    queue = db.triage_queue(actor, case.id, include_reviewed=show_all)
except StoreError as exc:
    show_store_error(exc)
    st.stop()
if not queue:
    st.info("Nothing waiting. New tips and family searches appear here by themselves.")
    st.stop()

numbers = {r.id: n for n, r in enumerate(queue, start=1)}
shapes = [r.geometry if r.geometry is not None else Point(r.lon, r.lat) for r in queue
          if r.geometry is not None or (r.lat is not None and r.lon is not None)]
live_folium(triage_base(st.get_option("server.baseUrlPath") or ""), key="triage_map",
            feature_group_to_add=feature_groups_script([triage_layer(queue, numbers)]),
            returned_objects=[], height=360,
            center=view_centre(shapes, case.ipp), zoom=min(15, view_zoom(shapes, height_px=360)))
st.caption("Purple numbered pins: tips. Dashed green outlines: ground a family searched. "
           "The numbers match the list below.")

for r in queue:
    n = numbers[r.id]
    with st.container(border=True, key=f"report_{r.id}"):
        where = _where(r)
        if r.kind == "tip":
            st.markdown(f"**#{n} · Tip** from {markdown_text(r.from_name)} · seen "
                        f"{markdown_text(format_london_full(r.seen_at))}")
        else:
            st.markdown(f"**#{n} · Family search** {markdown_text(r.sector_code or '')} from "
                        f"{markdown_text(r.from_name)} · sent "
                        f"{markdown_text(format_london_full(r.created_at))}")
        if where:
            st.markdown("Where: " + markdown_text(where))
        if r.kind == "tip":
            if r.note:
                st.markdown(markdown_text(r.note))
            st.markdown(markdown_text(r.text))
            if r.contact:
                st.markdown("Contact: " + markdown_text(r.contact))
        else:
            if r.note:
                st.markdown(markdown_text(r.note))
            for o in r.overlaps:
                st.markdown(f"Overlaps {markdown_text(o.get('code'))} "
                            f"({markdown_text(o.get('status'))}): "
                            f"{float(o.get('overlap_m2', 0)):,.0f} m², "
                            f"{float(o.get('share', 0)):.0%} of the reported area")
        if r.status != "new":
            st.markdown(f"*{markdown_text(r.status)} by {markdown_text(r.reviewed_by_name)} "
                        f"at {format_london(r.reviewed_at)}*")
            continue
        cols = st.columns(2)
        for col, (decision, label) in zip(cols, DECISIONS[r.kind], strict=True):
            if col.button(label, key=f"{decision}{r.id}", width="stretch"):
                try:
                    db.review_report(actor, r.id, decision, version=r.version)
                    st.rerun()
                except StoreError as exc:
                    show_store_error(exc)
