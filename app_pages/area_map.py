"""Public page: a London map that answers "who is responsible here?".

Click the map, or type a postcode, "lat, lon" or an OS grid reference: the page
names the borough, Met Basic Command Unit, police force and ward. No login and
no personal data: boundaries only.
"""

from __future__ import annotations

import streamlit as st

import geo
from app_pages.widgets.a11y import map_title
from app_pages.widgets.common import london_map, map_resources
from app_pages.widgets.live_map import RenderedMap, live_folium, render_base
from geo.coordinates import Place, find_place
from layers.basemap import clicked_point, place_layer
from layers.escape import markdown_text

MAP_KEY = "area_map"

#: (answer key, label, layer kind, what it says when there is no answer)
ANSWER_ROWS = (
    ("borough", "Borough", "borough", "not in a London borough"),
    ("bcu", "Met Basic Command Unit", "bcu", "none (not policed by a Met BCU)"),
    ("force", "Police force", "force", "none of the forces Wayhome covers"),
    ("ward", "Ward", "ward", "not in a London ward"),
)
#: Layers whose date matters to the answer (the structure may have changed since).
DATED = ("bcu", "ward")


def _on_map_click() -> None:
    # Runs before the rerun, so the marker is drawn in the same pass as the answer.
    point = clicked_point(st.session_state.get(MAP_KEY))
    if point is not None:
        lat, lon = point
        label = f"{lat:.5f}, {lon:.5f}"
        message = f"Point clicked on the map: {label}"
        st.session_state.place = Place("found", message, lat, lon, label)


@st.cache_resource(show_spinner="Preparing the map…")
def _area_base_map(base_url_path: str) -> RenderedMap:
    """The public London map, rendered once per process (it is the same for everyone)."""
    del base_url_path  # part of the cache key: assets are served under it
    m, _ = london_map()
    return render_base(m)


def _on_search() -> None:
    st.session_state.place = find_place(st.session_state.get("where_text", ""))


def _answer(place: Place, vintages: dict[str, str]) -> None:
    if not place.found:
        (st.warning if place.status == "invalid" else st.info)(place.message)
        return
    st.markdown(f"**{markdown_text(place.message)}**")
    found = geo.locate(place.lat, place.lon)
    if not any(found.get(key) for key, *_ in ANSWER_ROWS):
        st.info(
            "This point is outside London's 33 boroughs and the police force areas "
            "Wayhome covers (Metropolitan, City of London, Thames Valley, "
            "Hertfordshire, Essex, Kent and Surrey)."
        )
        return
    lines = []
    for key, label, kind, missing in ANSWER_ROWS:
        value = found.get(key)
        if key == "borough" and value and found.get("borough_code"):
            value = f"{value} ({found['borough_code']})"
        when = vintages.get(kind) if kind in DATED else None
        title = f"{label} ({when})" if when else label
        lines.append(f"- **{markdown_text(title)}:** {markdown_text(value or missing)}")
    with st.container(key="responsible_answer"):
        st.markdown("\n".join(lines))


st.title("Who is responsible here?")
map_title("Map of London's boroughs, police areas and wards")
st.caption(
    "Click the map, or type a postcode, coordinates (51.5074, -0.1278) or an "
    "OS grid reference (TQ 301 803)."
)

base_url_path = st.get_option("server.baseUrlPath") or ""
res = map_resources(base_url_path)
base = _area_base_map(base_url_path)
place: Place | None = st.session_state.get("place")

map_col, answer_col = st.columns([3, 1], gap="medium")
with answer_col:
    st.text_input(
        "Postcode, lat/lon or grid reference",
        key="where_text",
        placeholder="SE1 7PB  ·  51.5074, -0.1278  ·  TQ 301 803",
        on_change=_on_search,
    )
    st.button("Look up", on_click=_on_search, type="primary")
    if place is not None:
        _answer(place, dict(res.boundaries.vintages))
    else:
        st.info("Click anywhere on the map to see whose area it is.")

with map_col:
    marker = (
        place_layer(place.lat, place.lon, place.label)
        if place is not None and place.found
        else place_layer()
    )
    live_folium(
        base,
        key=MAP_KEY,
        height=620,
        returned_objects=["last_clicked"],
        feature_group_to_add=[marker],
        on_change=_on_map_click,
    )

with st.expander("About this map's data"):
    vintages = res.boundaries.vintages
    st.markdown(
        "\n".join(
            f"- **{label}:** {markdown_text(vintages.get(kind, 'date not stated'))}"
            for _, label, kind, _ in ANSWER_ROWS
        )
    )
    st.caption(markdown_text(res.boundaries.attribution))
    st.caption(
        "Met BCU structure as announced in 2018 and rolled out by early 2019; check it is "
        "still current before relying on it operationally. Ward boundaries are the GLA's "
        "2018 edition (before the May 2022 re-warding)."
    )
