"""The team lead's view (private link, phone first): my sectors as big cards.

Each card shows the sector's ID, status and what to do next: **Start** (assigned →
in progress) and **Finish** (search type, assurance, what was not searched and why,
notes). Downloads of the team's sectors as GPX (handheld GPS) and KML (phones), the
team's printable briefing pack (PDF, with its own QR link), and
an upload of the team's GPS tracks (``app_pages.widgets.track_upload``; the store accepts a
team lead's tracks for its own team and that team's sectors only).
Above them: who to look for (the child's description for searchers), the case
map with the team's sectors, the neighbouring sectors (faint, ID and status only),
every hazard area, the last-known location and sightings only as far as the
coordinator shares them (default: the last-known location and verified sightings),
and a "you are here" button (:mod:`layers.locate`; the position never leaves the
phone). Times always carry their day ("Missing since Sun 6 Dec 03:55").

The store narrows everything to the link's own team (``Store.team_sectors``,
``start_sector``/``finish_sector`` refuse other teams' sectors). When the
connection to the server drops, a red banner says "Not saved — reconnecting":
nothing pressed while it shows reaches the server.

Small updates: the team's sectors, the neighbouring sectors and the marks
(sightings, tasks, last-known location, rendezvous point) are keyed layers
(:mod:`app_pages.widgets.layer_feed`). After a change the map component is sent
unchanged and only the features that changed travel beside it (a sector's new
status: about 1 kB); the map is drawn in full only on first load, when the hazard
areas change, or when the map missed a change. What a change shows is read and
turned into map features once per process and counter for every phone of the
team (:mod:`app_pages.widgets.shared_view`), after the store has checked each
link at that counter.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import folium
import geopandas as gpd
import streamlit as st

from app_pages.widgets.a11y import map_title
from app_pages.widgets.briefing_download import briefing_button
from app_pages.widgets.change_watch import change_watch
from app_pages.widgets.connection import live_every
from app_pages.widgets.layer_feed import KeyedLayer, live_map_layers, map_feed
from app_pages.widgets.link_entry import current_link, gone_now
from app_pages.widgets.link_map import link_map
from app_pages.widgets.live_map import live_folium
from app_pages.widgets.pace_question import ask, hold, too_fast_message
from app_pages.widgets.session import store
from app_pages.widgets.shared_view import shared
from app_pages.widgets.team_tasks import team_tasks_section
from app_pages.widgets.track_upload import track_upload_form
from casefile import (
    ASSURANCE_LEVELS,
    SEARCH_TYPES,
    CaseBrief,
    Hazard,
    LastKnown,
    LinkGone,
    PermissionDenied,
    Sector,
    Sighting,
    StoreError,
    Task,
    format_london_dated,
    utcnow,
)
from geo.coordinates import grid_reference
from geo.exports import to_gpx, to_kml
from layers.case_features import field_marks, live_case_layer
from layers.escape import markdown_text
from layers.sectors import (
    hazards_layer,
    live_neighbours_layer,
    live_sectors_layer,
    neighbour_features,
    sector_features,
)
from layers.view import view_centre, view_zoom
from vocab.sector_statuses import label as status_label

POLL_SECONDS = live_every(10)
POLL_KEY = "team_counter"
#: session key: the map's keyed layers as this phone last got them
MAP_LAYERS_KEY = "team_map_layers"

#: shows a banner in the app page while Streamlit's connection is not CONNECTED: a file
#: the app serves (static/), since the Content-Security-Policy allows no inline script
RECONNECT_SCRIPT = "app/static/reconnect-banner.js"

link = current_link()
if link is None or link.role != "team_lead":
    gone_now()
actor, case_id = link.actor, link.case_id
db = store()
_base = (st.get_option("server.baseUrlPath") or "").strip("/")
st.html(  # our own fixed script, served by the app
    f'<script data-wayhome-script src="{"/" + _base if _base else ""}/{RECONNECT_SCRIPT}">'
    "</script>",
    unsafe_allow_javascript=True,
)


@st.fragment(run_every=POLL_SECONDS)
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
    change_watch(db, case_id, token, key="team_push")  # PostgreSQL: at once


@dataclass(frozen=True)
class TeamView:
    """What the team's phones show at one counter, with the map's keyed features."""

    brief: CaseBrief
    team: str
    mine: list[Sector]
    hazards: list[Hazard]
    seen: list[Sighting]
    near: list[Any]  # ID, status and outline only
    last_known: LastKnown | None
    meet: Any
    my_tasks: list[Task]
    sectors: dict[str, dict[str, Any]]
    neighbours: dict[str, dict[str, Any]]
    marks: dict[str, dict[str, Any]]


def _keyed(features: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["k"]: f for f in features}


def _team_view() -> TeamView:
    """The store's reads for this link's team and their map features (lon/lat, escaped)."""
    mine = db.team_sectors(actor, case_id)
    near = db.team_neighbours(actor, case_id)
    seen = db.shared_sightings(actor, case_id)
    last_known = db.team_last_known(actor, case_id)
    meet = db.rendezvous(actor, case_id)
    my_tasks = db.team_tasks(actor, case_id)
    return TeamView(
        brief=db.case_brief(actor, case_id), team=db.team_name(actor), mine=mine,
        hazards=db.team_hazards(actor, case_id), seen=seen, near=near,
        last_known=last_known, meet=meet, my_tasks=my_tasks,
        sectors=_keyed(sector_features(mine, {})),
        neighbours=_keyed(neighbour_features(near)),
        marks=field_marks(seen, last_known, rendezvous=meet, tasks=my_tasks),
    )


try:
    # the counter first: it re-checks the link at that counter; then the team's view at
    # that counter, computed once for every phone of the team in this process (after a
    # change they all run again at once)
    counter = db.link_poll(actor, case_id)
    view = shared(("team_view", case_id, link.team_id, counter), _team_view)
except (LinkGone, PermissionDenied):
    gone_now()
except StoreError as exc:
    st.error(str(exc))
    st.stop()
# what this run shows: a change committed since then makes the poll rerun the page
st.session_state[POLL_KEY] = counter
brief, team, mine, hazards = view.brief, view.team, view.mine, view.hazards
seen, near, last_known, meet, my_tasks = (view.seen, view.near, view.last_known, view.meet,
                                          view.my_tasks)

st.title(f"{team}: my sectors")
map_title("Map of your team's sectors, their neighbours and the last-known location")
_watch()
if brief.found:
    st.success("Found — stand down. Return to the rendezvous point.")
with st.expander("Who we are looking for", expanded=True):
    st.markdown(f"**{markdown_text(brief.child_name)}**, {brief.age or 'age unknown'}")
    st.markdown(markdown_text(brief.description or "No description yet."))
    if brief.reported_missing_at:
        st.caption("Missing since " + format_london_dated(brief.reported_missing_at))



def _keyed_layers() -> dict[str, KeyedLayer]:
    return {"neighbours": (view.neighbours, live_neighbours_layer),
            "sectors": (view.sectors, live_sectors_layer),
            "marks": (view.marks, live_case_layer)}


def _arrange(groups: dict[str, folium.FeatureGroup]) -> list[folium.FeatureGroup]:
    """Bottom to top: neighbours, hazard areas, the team's sectors, the marks."""
    return [groups["neighbours"], hazards_layer(hazards), groups["sectors"], groups["marks"]]


# drawn in full only when the view needs it; otherwise only what changed is sent
layers = live_map_layers(MAP_LAYERS_KEY, _keyed_layers, _arrange, version=counter,
                         view=(case_id, tuple(hazards)))
# open on the team's own sectors and their neighbours
ground = [s.geometry for s in mine] + [n.geometry for n in near]
live_folium(link_map("team"), key="team_map", feature_group_to_add=layers.script,
            returned_objects=[], height=360,
            zoom=view_zoom(ground, height_px=360),
            center=view_centre(ground, brief.ipp))
map_feed(layers)
st.caption(
    "Your sectors in colour; neighbouring sectors faint, with their ID and status. "
    "“Show where I am” puts a blue dot on the map: your position stays on this phone "
    "and is never sent."
)
if meet is not None:
    st.markdown(f"**Rendezvous point (RV on the map):** {markdown_text(meet.text())} · "
                f"{grid_reference(meet.lat, meet.lon, 8)}")
if last_known is not None:
    if last_known.kind == "sighting":
        st.markdown(f"**Last known location:** seen {format_london_dated(last_known.at)} "
                    "(red ring on the map)")
    else:
        st.markdown("**Last known location:** the planning point (red ring on the map); "
                    "no verified sighting yet")
if near:
    st.caption("Neighbouring sectors: " + ", ".join(
        f"{markdown_text(n.code)} {markdown_text(status_label(n.status))}" for n in near))
if seen:
    with st.expander(f"Sightings shared with teams ({len(seen)})"):
        for s in seen:
            st.markdown(f"- {markdown_text(format_london_dated(s.seen_at))}: "
                        f"{markdown_text(s.description or s.source)} ({s.status})")

if not mine:
    st.info("No sectors are assigned to your team yet. This page updates by itself.")


def _act(fn, *args, **kwargs) -> None:
    try:
        fn(*args, **kwargs)
    except LinkGone:
        gone_now()
    except StoreError as exc:  # stale, not yours, bad input: the store's own words
        st.error(str(exc))
        return
    st.rerun()


if mine:  # an h2 above the cards' h3 (screen readers move by heading level)
    st.header("What to do next")
for sector in mine:
    with st.container(border=True):
        st.markdown(f"### {markdown_text(sector.code)} · {markdown_text(sector.status_label)}")
        st.caption(markdown_text(sector.name))
        if sector.status == "assigned" or sector.status == "suspended":
            if st.button(f"Start searching {sector.code}", key=f"start{sector.id}",
                         type="primary", width="stretch"):
                _act(db.start_sector, actor, sector.id, version=sector.version)
        elif sector.status == "in_progress":
            st.caption("Started " + format_london_dated(sector.started_at))
            with st.form(f"finish{sector.id}"):
                kind = st.selectbox("Search type", SEARCH_TYPES, key=f"k{sector.id}")
                how = st.selectbox("How sure are you nothing was missed?", ASSURANCE_LEVELS,
                                   index=None, placeholder="Choose", key=f"a{sector.id}")
                missed = st.text_input("What was NOT searched, and why (locked, unsafe…)",
                                       key=f"m{sector.id}", max_chars=1000)
                notes = st.text_area("Notes", key=f"n{sector.id}", max_chars=4000)
                if st.form_submit_button(f"Finish {sector.code}", type="primary",
                                         width="stretch"):
                    if how is None:
                        st.error("Choose how sure you are that nothing was missed.")
                    else:
                        def record(sector=sector, kind=kind, how=how, missed=missed,
                                   notes=notes) -> None:
                            _act(db.finish_sector, actor, sector.id, version=sector.version,
                                 search_type=kind, assurance=how, not_searched_reason=missed,
                                 notes=notes or None)

                        question = too_fast_message(sector, None, utcnow())
                        if question:
                            hold(f"finish{sector.id}", question, record)
                        else:
                            record()
            ask(f"finish{sector.id}")
        elif sector.status == "searched":
            st.caption(f"Searched {format_london_dated(sector.searched_at)} · "
                       f"{sector.search_type} · "
                       f"assurance {sector.assurance}")

team_tasks_section(db, actor, case_id, my_tasks, gone_now)

if mine:
    frame = gpd.GeoDataFrame(
        {"id": [s.code for s in mine], "name": [s.name for s in mine],
         "status": [s.status for s in mine]},
        geometry=[s.geometry for s in mine], crs="EPSG:4326")
    c1, c2 = st.columns(2)
    c1.download_button("Download GPX (GPS)", to_gpx(frame), "my-sectors.gpx",
                       "application/gpx+xml", width="stretch")
    c2.download_button("Download KML (phone maps)", to_kml(frame, title=f"{team} sectors"),
                       "my-sectors.kml", "application/vnd.google-earth.kml+xml",
                       width="stretch")
briefing_button(db, actor, case_id, key="team_briefing", team_name=team,
                label="Download briefing pack (PDF)")

if mine:
    st.header("Upload a GPS track")
    st.caption("The track of your walk (from a phone or handheld GPS) shows how well the "
               "sector was covered. Choose the sector you walked.")
    if track_upload_form(db, actor, case_id, team_id=link.team_id, offered=mine) is not None:
        # this page's own change: the watch need not run the page again for it (that run
        # would take away what the upload says)
        try:
            st.session_state[POLL_KEY] = db.link_poll(actor, case_id)
        except StoreError:
            pass
