"""Likely places (coordinators): which places near the last-known location to check first.

The places within reach of the last-known location (latest verified sighting, else
the IPP) ranked by type weight (where children were traced, Grampian 12–14) × the
distance kernel of the child's age band (``geo.likely_places``), as a table and as
numbered markers on the map. Decision support with its assumptions on the page.

Coordinators only: the page is in no family, partner or team view, and it says so
if anyone else reaches it. Each place becomes an enquiry task with one click (a
station check or a place check, planned, no team yet); a place the case already has
a task for is not saved twice.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pandas as pd
import streamlit as st
from shapely.geometry import Point

from app_pages.widgets.a11y import map_title
from app_pages.widgets.common import london_map
from app_pages.widgets.forms import form_key, renew_form_key
from app_pages.widgets.live_map import RenderedMap, live_folium, render_base
from app_pages.widgets.sector_common import base_url_path, case_marks, case_or_stop
from app_pages.widgets.session import require_actor, show_store_error, store
from casefile import StoreError, TaskRepeatWarning, format_london
from geo.errors import InputError
from geo.likely_places import KIND_LABELS, likely_places
from geo.places import ALL_KINDS, place_sources
from layers.escape import markdown_text
from layers.legend import Legend, legend_html
from layers.likely_places import KIND_COLOURS, likely_places_layer
from vocab import task_types as tt

MAP_KEY = "likely_places_map"
KINDS_KEY = "likely_places_kinds"
FLASH_KEY = "likely_places_flash"

actor = require_actor()
if actor.role != "coordinator":
    st.title("Likely places")
    st.info("The likely places are for the case's coordinators.")
    st.stop()
db = store()


@st.cache_resource(show_spinner="Preparing the map…")
def likely_base_map(base_url_path: str) -> RenderedMap:
    """The London base map with the kinds of place in the legend, rendered once per process."""
    del base_url_path  # part of the cache key: assets are served under it
    m, _ = london_map(legend_open=False)
    labels = {**KIND_LABELS, "station": "Station or bus station"}
    rows = [(KIND_COLOURS[k], labels[k], "dot") for k in ALL_KINDS if k != "bus_station"]
    Legend(legend_html([], extra=rows, title="Likely places"), position="bottomright").add_to(m)
    return render_base(m)


case = case_or_stop(actor, "Likely places")
st.title("Likely places")
st.caption(f"Case {markdown_text(case.reference)} · decision support: places to check "
           "first, not a prediction for this child.")
try:
    case_file = db.load_case(actor, case.id)
except StoreError as exc:
    show_store_error(exc)
    st.stop()
lk = case_file.last_known()
since = lk.at or case.reported_missing_at
hours_since = max((datetime.now(UTC) - since).total_seconds() / 3600.0, 0.0)
where = ("the latest verified sighting" if lk.kind == "sighting"
         else "the initial planning point (no verified sighting yet)")
st.markdown(f"Around **{where}** ({lk.lat:.5f}, {lk.lon:.5f}), last known "
            f"{format_london(since)}.")

c1, c2, c3 = st.columns([1, 1, 3])
age_default = int(case.age) if case.age is not None and 1 <= int(case.age) <= 17 else 12
age = c1.number_input("Age (years)", 1, 17, age_default, key="likely_places_age",
                      help="The case's age; change it to see another age band's list.")
hours = c2.number_input("Hours since last known", 0.0, 240.0,
                        round(min(hours_since, 240.0), 1), step=0.5,
                        key="likely_places_hours")
kinds = c3.multiselect("Kinds of place", list(ALL_KINDS), default=list(ALL_KINDS),
                       format_func=KIND_LABELS.get, key=KINDS_KEY)
try:
    result = likely_places(lk.lon, lk.lat, float(age), float(hours) * 3600.0,
                           kinds=tuple(kinds))
except InputError as exc:
    show_store_error(exc)
    st.stop()
places = result.places

map_title("Map of the likely places to check, numbered by rank, round the last-known location")
live_folium(likely_base_map(base_url_path()), key=MAP_KEY, center=(lk.lat, lk.lon), zoom=15,
            feature_group_to_add=[*case_marks(case_file), likely_places_layer(places)],
            returned_objects=[], height=480)



def _make_task(rank: int) -> None:
    """Make the place at ``rank`` an enquiry task (planned, no team yet), unless the
    case already has a task there: then say whose it is and save nothing."""
    place = result.record(rank)
    kind = tt.task_kind_for_place(place.kind)
    try:
        task = db.add_task(actor, case.id, kind=kind, title=f"Check {place.name}"[:200],
                           place_lonlat=Point(place.lon, place.lat), postcode=place.postcode,
                           note=f"From the likely places list (#{rank}, {place.key}).",
                           idempotency_key=form_key("likely_task"))
    except TaskRepeatWarning as warning:
        first = warning.repeats[0]
        st.session_state[FLASH_KEY] = ("warning", (
            f"{place.name} already has task {first.code} ({tt.label(first.kind)}, "
            f"{tt.status_label(first.status)}, {first.team_name or 'no team yet'}): "
            "nothing saved. To check it again, add it on the Tasks page with a reason."))
        return
    except (StoreError, InputError) as exc:
        show_store_error(exc)
        return
    renew_form_key("likely_task")
    st.session_state[FLASH_KEY] = ("success", f"Task {task.code} saved: {task.kind_label} — "
                                              f"{place.name}. Assign a team on the Tasks page.")


def _task_buttons() -> None:
    """One button per place: each place becomes a task with one click."""
    flash = st.session_state.pop(FLASH_KEY, None)
    if flash is not None:
        (st.success if flash[0] == "success" else st.warning)(markdown_text(flash[1]))
    with st.expander("Make a task of a place (one click each)", expanded=True):
        cols = st.columns(3)
        for i, row in enumerate(places.itertuples()):
            cols[i % 3].button(f"{row.rank} · {row.name}"[:60], key=f"likely_task_{row.key}",
                               on_click=_make_task, args=(int(row.rank),),
                               help=f"Make a {tt.label(tt.task_kind_for_place(row.kind))} "
                                    "task of this place", width="stretch")


if places.empty:
    st.info(f"No place of the chosen kinds within {result.reach_m:,.0f} m.")
else:
    st.markdown(f"**{len(places)} places to check first** within {result.reach_m:,.0f} m, "
                "best first (the numbers on the map)")
    st.dataframe(pd.DataFrame({
        "#": places["rank"],
        "Type": places["kind_label"],
        "Name": places["name"],  # a table cell is plain text, never markup
        "Distance (m)": places["distance_m"].round().astype(int),
        "Postcode": places["postcode"],
        "Why": places["why"],
        "Score (% of the best)": places["relative"],
    }), hide_index=True, width="stretch")
    _task_buttons()
for line in result.assumptions:
    st.caption(markdown_text(line))
shown = sorted(set(places["kind"])) if len(places) else []
sources = place_sources()
if shown:
    st.caption("Places: " + markdown_text(" · ".join(
        dict.fromkeys(sources[k]["attribution"] for k in shown))))
