"""What the coordinator's sector pages share: the map with drawing tools, the case, units.

* :func:`sector_base_map` — the London base map plus Leaflet.draw (served by
  the app) and the sector legend, rendered ONCE per process: it is identical on
  every run, so the map stays mounted and a drawing not yet saved survives
  reruns. Sectors, hazards and previews travel in ``feature_group_to_add``.
* :func:`drawing_key` — the idempotency key of one drawing in one browser
  session: a hash of its geometry, so a drawing that streamlit-folium hands
  back again on a later rerun is saved once.
* :func:`case_or_stop`, :func:`units`, :func:`team_names` — small lookups.

UI plumbing only: geometry is checked by ``geo`` and saved by the store.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

import streamlit as st

from app_pages.widgets.case_status import live_found_banner
from app_pages.widgets.common import london_map
from app_pages.widgets.connection import live_every
from app_pages.widgets.live_map import RenderedMap, render_base
from app_pages.widgets.session import current_case_id, show_store_error, store
from casefile import Actor, Case, CaseFile, StoreError, Team
from geo.boundaries import load_layer
from layers.assets import draw_urls, static_url
from layers.draw import SectorDraw
from layers.legend import Legend
from layers.sectors import LiveLayerSupport, sector_legend_html
from layers.sightings import case_layers
from layers.view import view_centre, view_zoom

#: seconds between two checks of the case's change counter (per open sector map)
POLL_SECONDS = live_every(5)
_SESSION_KEY = "_sector_session_id"


@st.cache_resource(show_spinner="Preparing the map…")
def sector_base_map(base_url_path: str) -> RenderedMap:
    """The London map with drawing tools and the sector legend, rendered once per process."""
    m, _ = london_map()
    SectorDraw(draw_urls(base_url_path)).add_to(m)
    LiveLayerSupport(static_url(base_url_path)).add_to(m)  # small sector updates
    Legend(sector_legend_html(open_=False), position="bottomright").add_to(m)
    return render_base(m)


def base_url_path() -> str:
    return st.get_option("server.baseUrlPath") or ""


def geometry_hash(geometry: Any) -> str:
    """sha256 of a GeoJSON geometry written canonically (sorted keys, no spaces)."""
    text = json.dumps(geometry, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def drawing_key(geometry: Any, purpose: str = "draw") -> str:
    """Idempotency key of a drawing in this browser session (8–64 safe characters)."""
    session = st.session_state.setdefault(_SESSION_KEY, uuid.uuid4().hex[:12])
    return f"{purpose[:8]}-{session}-{geometry_hash(geometry)[:40]}"


def case_or_stop(actor: Actor, title: str) -> Case:
    """The case chosen on the Cases page (or the coordinator's most recent open case),
    else a pointer to the Cases page and stop."""
    case_id = current_case_id()
    if case_id is None:
        st.title(title)
        st.info("Choose a case first.")
        st.page_link("app_pages/cases.py", label="Go to your cases", icon=":material/folder_open:")
        st.stop()
    try:
        case = store().get_case(actor, case_id)
    except StoreError as exc:
        st.title(title)
        show_store_error(exc)
        st.stop()
    if st.query_params.get("case") != str(case_id):
        st.query_params["case"] = str(case_id)
    live_found_banner(case.id)  # "Found — stand down" on this view too, within seconds
    return case


#: session key of the "show the planning point, last-known location and sightings" toggle
CASE_MARKS_KEY = "show_case_marks"


def case_view(sectors: Sequence[Any], case_file: CaseFile, *, width_px: int = 800,
              height_px: int = 520) -> tuple[tuple[float, float], int]:
    """Where a planning map opens: fitted to the case's sectors, else on the last-known
    location at street zoom. ``((lat, lon), zoom)``."""
    shapes = [s.geometry for s in sectors]
    if shapes:
        centre = view_centre(shapes)
        if centre is not None:
            return centre, view_zoom(shapes, width_px=width_px, height_px=height_px,
                                     min_zoom=11, max_zoom=17)
    lk = case_file.last_known()
    return (lk.lat, lk.lon), 15


def case_marks(case_file: CaseFile) -> list[Any]:
    """The case's planning point, home, verified path, sightings and last-known location,
    when the coordinator has them shown (the toggle under :data:`CASE_MARKS_KEY`)."""
    if not st.session_state.get(CASE_MARKS_KEY, True):
        return []
    cf = case_file
    return case_layers(cf.case, cf.sightings, cf.last_known(), show_dismissed=False)


def team_names(teams: list[Team]) -> dict[int, str]:
    return {t.id: t.name for t in teams}


@st.cache_data(show_spinner=False)
def units() -> dict[str, dict[str, str]]:
    """BCUs and police forces a handover or filter can name: layer -> {code: name}."""
    out: dict[str, dict[str, str]] = {}
    for layer in ("bcu", "force"):
        gdf = load_layer(layer)
        out[layer] = dict(sorted(zip(gdf["code"].astype(str), gdf["name"].astype(str),
                                     strict=True), key=lambda kv: kv[1]))
    return out


@st.cache_data(show_spinner=False)
def picklist(layer: str) -> dict[str, str]:
    """Boroughs, BCUs, wards or neighbourhoods by code -> "name (borough)" for a pick list."""
    gdf = load_layer(layer)
    names = gdf["name"].astype(str)
    if "borough" in gdf.columns:
        names = names + " (" + gdf["borough"].astype(str) + ")"
    return dict(sorted(zip(gdf["code"].astype(str), names, strict=True), key=lambda kv: kv[1]))
