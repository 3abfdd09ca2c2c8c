"""A partner unit's view (private link for one BCU or force): its handovers and nearby ground.

The handover list (to and from the unit) with one write — acknowledging a
handover addressed to this unit, naming who acknowledges — and a map of sectors
in and near the unit's area with their status; the map opens fitted to the unit's
outline and the case's ground in and near it. The store narrows both to the
link's own unit (``Store.partner_handovers``, ``Store.partner_sectors``,
``acknowledge_handover``).

Small updates: the sectors and the enquiry tasks on the map are keyed layers
(:mod:`app_pages.widgets.layer_feed`); after a change only the features that
changed are sent beside the unchanged map, drawn in full only on first load or
when the map missed a change. The features are the same as before: a sector's
status, times and shape (the store leaves team names and notes out), a task's
type and status, never its title or address.
"""

from __future__ import annotations

import folium
import shapely
import streamlit as st

from app_pages.widgets.a11y import map_title
from app_pages.widgets.change_watch import change_watch
from app_pages.widgets.connection import live_every
from app_pages.widgets.layer_feed import KeyedLayer, live_map_layers, map_feed
from app_pages.widgets.link_entry import current_link, gone_now
from app_pages.widgets.link_map import link_map
from app_pages.widgets.live_map import live_folium
from app_pages.widgets.session import store
from casefile import LinkGone, PermissionDenied, StoreError, format_london
from geo.boundaries import unit_outlines
from layers.case_features import field_marks, live_case_layer
from layers.escape import markdown_text, safe_text
from layers.sectors import live_sectors_layer, sector_features
from layers.view import view_centre, view_zoom
from vocab.task_types import label as task_label
from vocab.task_types import status_label as task_status_label

POLL_KEY = "partner_counter"
#: session key: the map's keyed layers as this phone last got them
MAP_LAYERS_KEY = "partner_map_layers"


@st.cache_data(show_spinner=False, max_entries=64)
def _unit_outline(layer: str, code: str) -> dict | None:
    """The unit's own outline as GeoJSON (lon/lat, simplified to about 10 m), or None."""
    found = unit_outlines(layer, [code])
    if found.empty:
        return None
    return shapely.geometry.mapping(shapely.simplify(found.geometry.iloc[0], 0.0001))


def _unit_layer(outline: dict | None, name: str):
    group = folium.FeatureGroup(name="Your area", control=False)
    if outline is not None:
        folium.GeoJson(
            outline,
            style_function=lambda _f: {"color": "#1f2933", "weight": 3, "fill": False,
                                       "dashArray": "10 6", "interactive": False},
            tooltip=folium.Tooltip(safe_text(name)),
        ).add_to(group)
    return group

link = current_link()
if link is None or link.role != "partner" or link.unit is None:
    gone_now()
actor, case_id, unit = link.actor, link.case_id, link.unit
db = store()


@st.fragment(run_every=live_every(10))
def _watch() -> None:
    try:
        token = db.link_poll(actor, case_id)
    except (LinkGone, PermissionDenied):
        st.rerun()
        return
    if st.session_state.get(POLL_KEY) not in (None, token):
        st.session_state[POLL_KEY] = token
        st.rerun()
    st.session_state[POLL_KEY] = token
    change_watch(db, case_id, token, key="partner_push")  # PostgreSQL: at once


try:
    counter = db.link_poll(actor, case_id)
    brief = db.case_brief(actor, case_id)
    handovers = db.partner_handovers(actor, case_id)
    near = db.partner_sectors(actor, case_id, within_m=1000)
    near_tasks = db.partner_tasks(actor, case_id, within_m=1000)
except (LinkGone, PermissionDenied):
    gone_now()
except StoreError as exc:
    st.error(str(exc))
    st.stop()

# what this run shows: a change committed since then makes the poll rerun the page
st.session_state[POLL_KEY] = counter

st.title(f"Handovers for {unit.name}")
map_title("Map of your area and the case's sectors in and near it")
st.caption(f"Case {brief.reference} · status {brief.status}")
_watch()
if brief.found:
    st.success("Found — stand down.")

st.header("Handovers")
if not handovers:
    st.caption("No handovers to or from your unit yet.")
for h in handovers:
    incoming = h.to_unit.code == unit.code
    with st.container(border=True):
        st.markdown(
            f"**{'To you' if incoming else 'From you'}** · from {markdown_text(h.from_unit.name)}"
            f" to {markdown_text(h.to_unit.name)} · {markdown_text(format_london(h.created_at))}"
        )
        st.markdown(markdown_text(h.reason))
        st.caption("Sectors: " + (", ".join(h.sector_codes) or "none"))
        if h.acknowledged:
            st.success(f"Acknowledged by {h.acknowledged_by} at "
                       f"{format_london(h.acknowledged_at)}")
        elif incoming:
            with st.form(f"ack{h.id}"):
                who = st.text_input("Your name and rank", max_chars=120, key=f"who{h.id}")
                if st.form_submit_button("Acknowledge this handover", type="primary"):
                    try:
                        db.acknowledge_handover(actor, h.id, by_name=who, version=h.version)
                        st.rerun()
                    except LinkGone:
                        gone_now()
                    except StoreError as exc:
                        st.error(str(exc))

st.header("Sectors in and within 1 km of your area")
st.caption(f"Black dashed line: the edge of {markdown_text(unit.name)}.")
outline = _unit_outline(unit.layer, unit.code)
# open fitted to the unit's own area and the case's ground in and near it
ground = ([shapely.geometry.shape(outline)] if outline is not None else []) + [
    u.sector.geometry for u in near]


def _keyed_layers() -> dict[str, KeyedLayer]:
    sectors = sector_features([u.sector for u in near], {})
    # a task's type and status only: never its title (tasks_layer's with_titles=False)
    marks = field_marks([], None, tasks=near_tasks, with_titles=False)
    return {"sectors": ({f["properties"]["k"]: f for f in sectors}, live_sectors_layer),
            "marks": (marks, live_case_layer)}


def _arrange(groups: dict[str, folium.FeatureGroup]) -> list[folium.FeatureGroup]:
    return [_unit_layer(outline, unit.name), groups["sectors"], groups["marks"]]


# drawn in full only when the view needs it; otherwise only what changed is sent
layers = live_map_layers(MAP_LAYERS_KEY, _keyed_layers, _arrange, version=counter,
                         view=(case_id, unit.layer, unit.code))
live_folium(link_map("field"), key="partner_map", feature_group_to_add=layers.script,
            returned_objects=[], height=420,
            zoom=view_zoom(ground, height_px=420, default=14, min_zoom=9),
            center=view_centre(ground))
map_feed(layers)
for u in near:
    where = "inside" if u.inside else f"{u.distance_m:,.0f} m away"
    unchecked = (" (family-reported, not checked)"
                 if u.sector.origin == "volunteer" and u.sector.status == "searched" else "")
    st.markdown(f"- **{markdown_text(u.sector.code)}** · {markdown_text(u.sector.status_label)}"
                f"{unchecked} · {where}")

# enquiry tasks in and near the unit: type, status and where — never an address, a
# title or a note, and a visit (a person's home) is not drawn at all
st.subheader("Enquiry tasks in and within 1 km of your area")
if not near_tasks:
    st.caption("None.")
for x in near_tasks:
    where = "inside" if x.inside else f"{x.distance_m:,.0f} m away"
    st.markdown(f"- **{markdown_text(x.code)}** · {markdown_text(task_label(x.kind))} · "
                f"{markdown_text(task_status_label(x.status))} · {where}")

