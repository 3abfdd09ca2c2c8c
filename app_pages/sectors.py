"""Sectors (coordinators): the case's sectors on a map, drawing new ones, the list, actions.

One walk through the house: the coordinator draws a polygon or rectangle on
the map; the page takes the drawing (GeoJSON, lon/lat), ``geo`` checks and
repairs it, the store checks it against every sector of the case and — if it
overlaps — the page WARNS BEFORE SAVING: which sectors, their status, team,
time and how much (m² and %), with three choices: keep anyway (with a reason,
audited), clip to the ground not yet covered, or cancel. A drawing handed back
again by the map on a later rerun is saved once: its idempotency key is a hash
of its geometry and this browser session.

Live: the map sits in a fragment that checks the case's change counter every
:data:`POLL_SECONDS`. When only sectors changed, the open map is sent just those
sectors, as data (:mod:`app_pages.widgets.layer_feed`); the layers are drawn in
full only when the view needs it (first load, the case marks toggled, hazards or
sightings changed, this page's own preview changed).
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app_pages.widgets.a11y import map_title
from app_pages.widgets.change_watch import change_watch
from app_pages.widgets.common import show_streets
from app_pages.widgets.connection import live_note
from app_pages.widgets.layer_feed import LiveSectorUpdate, layer_feed, live_sector_update
from app_pages.widgets.live_map import feature_groups_script, live_folium
from app_pages.widgets.sector_common import (
    CASE_MARKS_KEY,
    POLL_SECONDS,
    base_url_path,
    case_marks,
    case_or_stop,
    case_view,
    geometry_hash,
    sector_base_map,
    team_names,
)
from app_pages.widgets.sector_detail import sector_panel
from app_pages.widgets.sector_drawing import pending_panel
from app_pages.widgets.sector_state import (
    HOLE_KEY,
    LIVE_KEY,
    MAP_KEY,
    MODE_KEY,
    MODES,
    PENDING_KEY,
    REFRESH_KEY,
    SEEN_KEY,
    SELECTED_KEY,
    hole_shape,
    status_label,
    take_flash,
)
from app_pages.widgets.sector_tabs import (
    duplication_tab,
    exports_tab,
    hazards_tab,
    sector_list,
    teams_tab,
)
from app_pages.widgets.session import require_actor, show_store_error, store
from casefile import SECTOR_STATUSES, StoreError
from layers.draw import clear_drawings_layer, is_drawing
from layers.escape import markdown_text
from layers.sectors import candidate_layer, hazards_layer
from layers.sightings import rendezvous_layer

actor = require_actor()
show_streets(actor)  # the street layer of a map without tiles
db = store()
#: session keys: the sectors layer as this browser's map last drew it; the layer feed
SECTOR_LAYER_KEY = "sector_map_layer"
FEED_KEY = "sector_map_feed"
REDRAW_KEY = "sector_map_redraw"


# ---------------------------------------------------------------------- the map


def _on_map_event() -> None:
    """A drawing finished, or a sector clicked: remember it before the page reruns."""
    value = st.session_state.get(MAP_KEY) or {}
    feature = value.get("last_active_drawing") if isinstance(value, dict) else None
    if is_drawing(feature):
        geometry = feature["geometry"]
        digest = geometry_hash(geometry)
        seen: set[str] = st.session_state.setdefault(SEEN_KEY, set())
        if digest in seen:  # the same drawing handed back again
            return
        seen.add(digest)
        if st.session_state.get(MODE_KEY) == "not_searched":
            st.session_state[HOLE_KEY] = {"geometry": geometry, "hash": digest,
                                          "sid": st.session_state.get(SELECTED_KEY)}
            st.session_state[REFRESH_KEY] = True
            return
        st.session_state[PENDING_KEY] = {
            "geometry": geometry,
            "hash": digest,
            "mode": st.session_state.get(MODE_KEY, "sector"),
        }
        st.session_state[REFRESH_KEY] = True
        return
    props = (feature or {}).get("properties") if isinstance(feature, dict) else None
    if isinstance(props, dict) and isinstance(props.get("sid"), int):
        if st.session_state.get(SELECTED_KEY) != props["sid"]:
            st.session_state[SELECTED_KEY] = props["sid"]
            st.session_state[REFRESH_KEY] = True


def _read_case(case_id: int) -> dict[str, Any]:
    """Sectors, hazards and teams as last read; read again only when the case changed."""
    token = db.change_token(actor, case_id)
    live = st.session_state.get(LIVE_KEY)
    if live is None or live["case_id"] != case_id or live["token"] != token:
        teams = db.teams(actor, case_id)
        live = {
            "case_id": case_id,
            "token": token,
            "sectors": db.sectors(actor, case_id),
            "file": db.load_case(actor, case_id),  # IPP, sightings, last-known location
            "hazards": db.hazards(actor, case_id),
            "rendezvous": db.rendezvous(actor, case_id),
            "teams": teams,
            "names": team_names(teams),
            "dup": None,  # the duplication figure, worked out on the next full page run
        }
        st.session_state[LIVE_KEY] = live
    return live


def _map_layers(live: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The layers' JavaScript and the sectors' change message for the feed.

    The JavaScript is rebuilt only when the view needs a full draw (see
    :mod:`app_pages.widgets.layer_feed`); a change of the sectors alone becomes a
    message of the changed sectors, and the map component is sent unchanged.
    """
    pending = st.session_state.get(PENDING_KEY)
    hole = st.session_state.get(HOLE_KEY)
    marks = bool(st.session_state.get(CASE_MARKS_KEY, True))
    cf = live["file"]
    # everything but the sectors: hazards, the rendezvous point, the case marks, a drawing
    # waiting to be saved
    view = (live["case_id"], marks, tuple(live["hazards"]), live["rendezvous"],
            (cf.case, cf.sightings) if marks else None,
            pending["hash"] if pending else None,
            pending.get("shape") is not None if pending else False,
            tuple(pending.get("overlap_ids", ())) if pending else (),
            hole["hash"] if hole else None)
    state: dict[str, Any] | None = st.session_state.get(SECTOR_LAYER_KEY)
    previous: LiveSectorUpdate | None = state["update"] if state else None
    redraw = bool(st.session_state.pop(REDRAW_KEY, False))
    if (previous is not None and previous.version == live["token"] and previous.view == view
            and not redraw):
        return state["script"], previous.message  # type: ignore[index]
    update = live_sector_update(previous, live["sectors"], live["names"],
                                version=live["token"], view=view, redraw=redraw)
    if update.full or state is None:
        groups = [hazards_layer(live["hazards"]), update.group]
        groups += case_marks(cf)
        groups.append(rendezvous_layer(live["rendezvous"]))
        if pending and pending.get("shape") is not None:
            ids = set(pending.get("overlap_ids", ()))
            hit = [s for s in live["sectors"] if s.id in ids]
            what = "New hazard area (not saved)" if pending["mode"] == "hazard" else (
                "New sector (not saved)")
            groups.append(candidate_layer(pending["shape"], hit, label=what))
        if hole and hole_shape(hole) is not None:
            groups.append(candidate_layer(hole_shape(hole), label="Not searched (not saved)"))
        groups.append(clear_drawings_layer())
        script = feature_groups_script(groups)
        update.group = None  # rendered: only the features are kept, for the next diff
    else:
        script = state["script"]
    st.session_state[SECTOR_LAYER_KEY] = {"update": update, "script": script}
    return script, update.message


@st.fragment(run_every=POLL_SECONDS)
def sector_map(case_id: int, view: tuple[tuple[float, float], int]) -> None:
    try:
        live = _read_case(case_id)
    except StoreError as exc:
        show_store_error(exc)
        return
    script, message = _map_layers(live)
    live_folium(
        sector_base_map(base_url_path()),
        key=MAP_KEY,
        center=view[0],
        zoom=view[1],
        feature_group_to_add=script,
        returned_objects=["last_active_drawing"],
        height=600,
        on_change=_on_map_event,
    )
    # the sectors changed since the last message; a map that missed one asks for a redraw
    if layer_feed(message, key=FEED_KEY):
        st.session_state[REDRAW_KEY] = True
        st.rerun(scope="fragment")
    # PostgreSQL: this map runs again the moment the case changes (the timer is the net)
    change_watch(db, case_id, live["token"], key="sector_map_push")
    if st.session_state.pop(REFRESH_KEY, False):
        st.rerun()  # the whole page: the side panel shows the drawing or the sector
    counts = pd.Series([s.status for s in live["sectors"]]).value_counts()
    summary = " · ".join(f"{counts[k]} {status_label(k)}" for k in SECTOR_STATUSES if k in counts)
    st.caption(
        f"{len(live['sectors'])} sectors ({summary or 'none yet'}) · "
        f"{len(live['hazards'])} hazard areas · live: {live_note(5)}"
    )


# ---------------------------------------------------------------------- page

case = case_or_stop(actor, "Sectors")
st.title(f"Sectors · {markdown_text(case.reference)}")
map_title("Map of the case's search sectors")
# always one slot each, so a message never shifts the map (a shift would remount it)
flash_slot, error_slot = st.empty(), st.empty()
flash = take_flash()
if flash:
    flash_slot.success(flash)
error = st.session_state.pop("action_error", None)
if error:
    error_slot.error(error)

try:
    live = _read_case(case.id)
except StoreError as exc:
    show_store_error(exc)
    st.stop()

if live["dup"] is None:  # once per change of the case, never in the map's polls
    try:
        live["dup"] = db.duplication_figure(actor, case.id)
    except StoreError as exc:
        show_store_error(exc)
        st.stop()
dup = live["dup"]
st.caption(
    f"Ground searched more than once: **{dup.repeated_m2 / 1e4:,.2f} ha** "
    f"({dup.repeated_share:.1%} of {dup.searched_m2 / 1e4:,.2f} ha searched) — "
    f"{dup.deliberate_m2 / 1e4:,.2f} ha deliberate re-search, "
    f"{dup.accidental_m2 / 1e4:,.2f} ha accidental overlap (details: Duplication tab)."
    + (f" Not counted until accepted: {dup.unchecked_m2 / 1e4:,.2f} ha of searched ground "
       "that families reported searching again (unchecked, see Triage)."
       if dup.unchecked_m2 > 0 else "")
)
map_col, side_col = st.columns([3, 2], gap="medium")
with side_col:
    st.radio("Drawing on the map makes", list(MODES), format_func=MODES.get, key=MODE_KEY,
             horizontal=True)
    pending_panel(case.id)
    if not st.session_state.get(PENDING_KEY):
        st.caption("Draw with the polygon or rectangle tool (top left of the map); click the "
                   "first corner again to finish a polygon.")
    st.divider()
    sector_panel(live["sectors"], live["names"], live["teams"])
with map_col:
    st.toggle("Show the planning point, last-known location and sightings", value=True,
              key=CASE_MARKS_KEY)
    # opens fitted to the case's ground; later changes never move the viewer's map
    view = st.session_state.setdefault(f"sector_view_{case.id}",
                                       case_view(live["sectors"], live["file"], height_px=600))
    sector_map(case.id, view)

tabs = st.tabs(["Sector list", "Teams", "Hazard areas", "Exports", "Duplication"])
with tabs[0], st.container(key="sector_list"):
    sector_list(case.id, live["teams"], live["names"])
with tabs[1]:
    teams_tab(case.id, live["teams"])
with tabs[2]:
    hazards_tab(live["hazards"])
with tabs[3]:
    exports_tab(case.id, live["sectors"], live["teams"], case.reference)
with tabs[4]:
    duplication_tab(live["dup"])
