"""The family's view (private link, phone first): where has been searched, and two forms.

Plain language, no personal data: searched today / being searched now / planned
areas of sectors the coordinator shares, the time each was last searched, one
line on what "searched" means, a map, and two forms — "we searched here" (draw
on the map or upload the track of a walk) and "send a tip". The store decides
what a family link may see (``Store.family_view``); this page only shows it.
A 10-second poll notices changes, and a revoked link, without a reload.
"""

from __future__ import annotations

import uuid
from datetime import datetime, time, timedelta

import streamlit as st

from app_pages.widgets.connection import live_every
from app_pages.widgets.link_entry import current_link, gone_now
from app_pages.widgets.link_map import link_map
from app_pages.widgets.live_map import live_folium
from app_pages.widgets.sector_common import drawing_key
from app_pages.widgets.session import store
from app_pages.widgets.upload_fault import upload_fault
from casefile import (
    FAMILY_GROUP_LABELS,
    SEARCHED_MEANS,
    LinkGone,
    PermissionDenied,
    StoreError,
    format_london,
    from_london,
    to_london,
    utcnow,
)
from geo import lookup_postcode
from layers.draw import clear_drawings_layer, is_drawing
from layers.escape import markdown_text
from layers.family import family_layer
from layers.view import view_centre, view_zoom

POLL_SECONDS = live_every(10)
MAP_KEY = "family_map"
DRAWN_KEY = "family_drawn"
POLL_KEY = "family_counter"

link = current_link()
if link is None or link.role != "family":
    gone_now()
actor, case_id = link.actor, link.case_id
db = store()


def _when(area) -> str:
    if area.last_searched_at is not None:
        return "last searched " + format_london(area.last_searched_at)
    return "since " + format_london(area.since)


@st.fragment(run_every=POLL_SECONDS)
def _watch() -> None:
    """A cheap poll: rerun the page when the case changed or the link stopped working."""
    try:
        token = db.link_poll(actor, case_id)
    except (LinkGone, PermissionDenied):
        st.rerun()
        return
    if st.session_state.get(POLL_KEY) not in (None, token):
        st.session_state[POLL_KEY] = token
        st.rerun()
    st.session_state[POLL_KEY] = token
    st.caption(f"Up to date · checks every {POLL_SECONDS:g} seconds")


def _seen_own_change() -> None:
    """After this page saved something: the poll need not rerun the page for it (a rerun
    would wipe the thank-you message and could race the next form)."""
    try:
        st.session_state[POLL_KEY] = db.link_poll(actor, case_id)
    except StoreError:
        pass


def _on_map() -> None:
    value = st.session_state.get(MAP_KEY) or {}
    feature = value.get("last_active_drawing") if isinstance(value, dict) else None
    if is_drawing(feature):
        st.session_state[DRAWN_KEY] = feature["geometry"]


try:
    view = db.family_view(actor, case_id)
    mine = db.my_reports(actor, case_id)
except (LinkGone, PermissionDenied):
    gone_now()
except StoreError as exc:
    st.error(str(exc))
    st.stop()

st.title("Search progress")
if view.status == "found":
    st.success("Found — the search has stood down.")
_watch()

groups = {g: [a for a in view.areas if a.group == g] for g in FAMILY_GROUP_LABELS}
# one short line, not three big numbers: on a phone the map should be on the first screen
st.markdown(
    f"**Searched today:** {len(groups['searched_today'])} · "
    f"**Being searched now:** {len(groups['in_progress'])} · "
    f"**Planned:** {len(groups['planned'])}"
)

layer = family_layer(view.areas, [_when(a) for a in view.areas], view.hazards, view.last_known)
# open on the shared ground and the hazard areas (places to keep away from)
ground = [a.geometry for a in view.areas] + [h.geometry for h in view.hazards]
live_folium(
    link_map("family"),
    key=MAP_KEY,
    feature_group_to_add=[layer, clear_drawings_layer()],
    returned_objects=["last_active_drawing"],
    height=380,
    center=view_centre(ground, view.last_known),
    zoom=view_zoom(ground, height_px=380),
    on_change=_on_map,
)
st.caption("Tap “Key” on the map for what the colours and lines mean. Tap an area for when "
           "it was searched. To record where you searched, draw it with the shape tools "
           "(top left of the map).")
st.caption(SEARCHED_MEANS)
if view.moving:
    st.caption("Teams may search here again as time passes: a child can move, so ground "
               "searched earlier is not clear for good. (Decision support: "
               + markdown_text(" ".join(view.motion_notes)) + ")")

for key, label in FAMILY_GROUP_LABELS.items():
    st.subheader(label)
    if not groups[key]:
        st.caption("None yet." if key != "searched_earlier" else "None.")
        continue
    for area in groups[key]:
        extra = " — reported by a family or volunteer, not checked" if area.volunteer else ""
        when = _when(area)
        if area.last_searched_at is not None:
            when = "searched at " + format_london(area.last_searched_at)
            if view.moving:
                when += " — teams may search here again as time passes"
        st.markdown(f"**Area {markdown_text(area.code)}** · {markdown_text(when)}"
                    f"{markdown_text(extra)}")

st.divider()
st.subheader("We searched here")
drawn = st.session_state.get(DRAWN_KEY)
with st.form("family_search", clear_on_submit=True):
    if drawn:
        st.info("Using the area you drew on the map.")
    track = st.file_uploader("…or upload the track of your walk (GPX)", type=["gpx"],
                             max_upload_size=5)
    now = to_london(utcnow())
    day = st.date_input("Day", value=now.date(), max_value=now.date())
    at = st.time_input("About what time?", value=time(now.hour, 0))
    note = st.text_input("Anything to add (optional)", max_chars=1000)
    sent = st.form_submit_button("Save where we searched", type="primary")
if sent:
    when = from_london(day, at)
    if when > utcnow():
        when = utcnow() - timedelta(minutes=1)
    try:
        if track is not None:
            report = db.report_family_search(
                actor, case_id, searched_at=when, track=(track.name, track.getvalue()),
                note=note, idempotency_key="fs-" + uuid.uuid4().hex)
        elif drawn:
            report = db.report_family_search(
                actor, case_id, searched_at=when, geometry=drawn, note=note,
                idempotency_key=drawing_key(drawn, "family"))
        else:
            st.warning("Draw the area on the map first, or upload a track.")
            report = None
        if report is not None:
            st.session_state.pop(DRAWN_KEY, None)
            _seen_own_change()
            st.success(f"Thank you — saved as area {report.sector_code}. The coordinator "
                       "will check it.")
    except (LinkGone, PermissionDenied):
        gone_now()
    except StoreError as exc:
        st.error(str(exc))
    except Exception as exc:  # a bug while reading the walk's track: logged without its name
        if track is None:
            raise
        upload_fault(exc, [(track.name, track.getvalue())])

st.subheader("Send a tip")
with st.form("family_tip", clear_on_submit=True):
    postcode = st.text_input("Where? A postcode", max_chars=10)
    now = to_london(utcnow())
    tday = st.date_input("When? Day", value=now.date(), max_value=now.date(), key="tip_day")
    tat = st.time_input("Time", value=time(now.hour, 0), key="tip_time")
    text = st.text_area("What did you see or hear?", max_chars=2000)
    contact = st.text_input("How can we reach you? (optional)", max_chars=200)
    tip_sent = st.form_submit_button("Send the tip", type="primary")
if tip_sent:
    found = lookup_postcode(postcode or "")
    if found.status != "found":
        st.error(found.message)
    else:
        seen: datetime = from_london(tday, tat)
        if seen > utcnow():
            seen = utcnow() - timedelta(minutes=1)
        try:
            db.send_tip(actor, case_id, lat=found.lat, lon=found.lon, seen_at=seen,
                        text=text, contact=contact,
                        idempotency_key="tip-" + uuid.uuid4().hex)
            _seen_own_change()
            st.success("Thank you — the coordinator has your tip.")
        except (LinkGone, PermissionDenied):
            gone_now()
        except StoreError as exc:
            st.error(str(exc))

if mine:
    st.caption(f"You have sent {len(mine)} report(s); "
               f"{sum(r.status != 'new' for r in mine)} checked by the coordinator.")
