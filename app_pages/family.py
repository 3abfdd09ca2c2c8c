"""The family's view (private link, phone first): where has been searched, and two forms.

Plain language, no personal data: searched today / being searched now / planned
areas of sectors the coordinator shares, named by their streets or ward and
postcode, the day and time each was last searched, one line on what "searched"
means, a map, and two forms — "we searched here" (choose streets from a list
where a street layer is loaded, type postcodes and a distance, draw on the map or
upload the track of a walk) and "send a tip". The store decides
what a family link may see (``Store.family_view``); this page only shows it.
Changes, and a revoked link, show without a reload: pushed at once on PostgreSQL,
within a 10-second poll on SQLite.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import datetime, time
from time import monotonic
from typing import Any, TypeVar

import streamlit as st

from app_pages.widgets.a11y import map_title
from app_pages.widgets.change_watch import change_watch, saving, seen_own_change
from app_pages.widgets.connection import live_every, live_note
from app_pages.widgets.link_entry import current_link, gone_now
from app_pages.widgets.link_map import link_map
from app_pages.widgets.live_map import feature_groups_script, live_folium
from app_pages.widgets.sector_common import drawing_key
from app_pages.widgets.session import store
from app_pages.widgets.shared_view import shared
from app_pages.widgets.upload_fault import upload_fault
from casefile import (
    FAMILY_GROUP_LABELS,
    SEARCHED_MEANS,
    FamilyStreets,
    LinkGone,
    PermissionDenied,
    StoreError,
    format_london,
    format_london_day,
    from_london,
    to_london,
    utcnow,
)
from geo import InputError, lookup_postcode, postcode_circles
from geo.street_ground import MAX_STREETS
from layers.basemap import parse_tiles
from layers.draw import clear_drawings_layer, is_drawing
from layers.escape import markdown_text, safe_text
from layers.family import family_layer, street_layer
from layers.view import view_centre, view_zoom
from vocab import settings

POLL_SECONDS = live_every(10)
MAP_KEY = "family_map"
DRAWN_KEY = "family_drawn"
POLL_KEY = "family_counter"
WATCH_KEY = "family_push"
THANKS_KEY = "family_thanks"
#: seconds a "Thank you — saved" stays on the page, through any run a change pushes
THANKS_S = 20.0
PENDING_KEY = "family_pending_search"
SEARCH_TIME_KEY = "family_search_default_time"
TIP_TIME_KEY = "family_tip_default_time"
#: the longest note a report keeps (the store's limit)
MAX_NOTE = 1000
T = TypeVar("T")

link = current_link()
if link is None or link.role != "family":
    gone_now()
actor, case_id = link.actor, link.case_id
db = store()


def _when(area) -> str:
    if area.last_searched_at is not None:
        return "searched on " + format_london_day(area.last_searched_at)
    return "since " + format_london_day(area.since)


def _place(area) -> str:
    return area.place or "A place on the map"


def _tel(phone: str) -> str:
    """A ``tel:`` address: the digits and a leading + only (never markup)."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return ("+" if phone.strip().startswith("+") else "") + digits


def _call_999(name: str) -> None:
    """The first thing on the page: big, high-contrast, a tap calls 999."""
    who = safe_text(name) if name else "them"
    st.html(
        '<div role="alert" style="background:#8b0000;color:#ffffff;padding:12px 14px;'
        'border-radius:8px;font-size:1.35rem;font-weight:700;line-height:1.3">'
        f'If you see {who}, call <a href="tel:999" style="color:#ffffff;'
        'text-decoration:underline">999</a></div>'
    )


def _liaison(name: str, phone: str) -> None:
    if not (name or phone):
        return
    line = "Your family liaison officer: "
    if name:
        line += f"<strong>{safe_text(name)}</strong>"
    tel = _tel(phone)
    if phone and tel:
        line += (f' · <a href="tel:{safe_text(tel)}" style="color:#1a4b8c;white-space:nowrap">'
                 f"{safe_text(phone)}</a>")
    elif phone:
        line += f" · {safe_text(phone)}"
    st.html(f'<p style="font-size:1.05rem;margin:0">{line}</p>')


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
    st.caption(f"Up to date · {live_note(10)}")


def _seen_own_change() -> None:
    """After this page saved something: the poll need not rerun the page for it (a rerun
    would wipe the thank-you message and could race the next form)."""
    try:
        st.session_state[POLL_KEY] = db.link_poll(actor, case_id)
    except StoreError:
        return
    seen_own_change(WATCH_KEY, st.session_state[POLL_KEY])


def _thank(kind: str, text: str) -> None:
    """Say thank you for a save now and for :data:`THANKS_S` seconds: a change pushed
    meanwhile runs the page again (even mid-run), and the family must still see it."""
    st.session_state[f"{THANKS_KEY}_{kind}"] = (text, monotonic())
    _show_thanks(kind)


def _show_thanks(kind: str) -> None:
    found = st.session_state.get(f"{THANKS_KEY}_{kind}")
    if found is None:
        return
    if monotonic() - found[1] >= THANKS_S:
        st.session_state.pop(f"{THANKS_KEY}_{kind}", None)
        return
    st.success(found[0])


def _on_map() -> None:
    value = st.session_state.get(MAP_KEY) or {}
    feature = value.get("last_active_drawing") if isinstance(value, dict) else None
    if is_drawing(feature):
        st.session_state[DRAWN_KEY] = feature["geometry"]


try:
    # the counter first: it re-checks the link (a memory read on PostgreSQL while nothing
    # changed), then the view at that counter, computed once for every open page of the
    # case in this process (after a change they all re-run at once)
    seen = db.link_poll(actor, case_id)
    view = shared(("family_view", case_id, seen), lambda: db.family_view(actor, case_id))
except (LinkGone, PermissionDenied):
    gone_now()
except StoreError as exc:
    st.error(str(exc))
    st.stop()
# what this run shows: a change committed since then makes the poll below rerun the page
# (were the newer counter recorded instead, that change would wait for the next one)
st.session_state[POLL_KEY] = seen
# PostgreSQL: the page runs again the moment the case changes (the poll is its safety net)
change_watch(db, case_id, seen, key=WATCH_KEY)

map_title("Map of the areas searched, being searched and planned")
name = view.child_name
st.title("Search progress")
_call_999(name)
_liaison(view.liaison_name, view.liaison_phone)
active = view.status == "open"
if view.status == "found":
    st.success("Found — the search has stood down. Thank you for everything you did.")
elif not active:
    st.info("This search has ended.")
_watch()

groups = {g: [a for a in view.areas if a.group == g] for g in FAMILY_GROUP_LABELS}
# one short line, not three big numbers: on a phone the map should be on the first screen
st.markdown(
    f"**Searched today:** {len(groups['searched_today'])} · "
    f"**Being searched now:** {len(groups['in_progress'])} · "
    f"**Planned:** {len(groups['planned'])}"
)
# enquiries (visits, CCTV, house-to-house) as one count: never where, never whose address
try:
    checked = shared(("family_tasks", case_id, seen),
                     lambda: db.task_counts(actor, case_id)).checked
except StoreError:
    checked = 0
if checked:
    st.markdown(f"**{checked} place{'s have' if checked != 1 else ' has'} been checked** "
                "by police enquiries.")


def _family_layers() -> str:
    layers = [family_layer(view.areas, [_when(a) for a in view.areas], view.hazards,
                           view.last_known), clear_drawings_layer()]
    if parse_tiles(settings.TILES, settings.TILES_ATTRIBUTION) is None:
        # no tiles (a network that blocks tile servers): the loaded streets make it a map
        layers.insert(0, street_layer(db.family_map_streets(actor, case_id)))
    return feature_groups_script(layers)


# the same script for the same view: every page shares the work, and a browser that
# shows it already is not redrawn (folium gives popups new ids on every render)
try:
    layer_script = shared(("family_layer", case_id, seen, view.as_of), _family_layers)
except (LinkGone, PermissionDenied):
    gone_now()
# open on the shared ground and the hazard areas (places to keep away from)
ground = [a.geometry for a in view.areas] + [h.geometry for h in view.hazards]
live_folium(
    link_map("family" if active else "family_view"),
    key=MAP_KEY,
    feature_group_to_add=layer_script,
    returned_objects=["last_active_drawing"],
    height=380,
    center=view_centre(ground, view.last_known),
    zoom=view_zoom(ground, height_px=380),
    on_change=_on_map,
)
st.caption("Tap “Key” on the map for what the colours and lines mean. Tap an area for when "
           "it was searched."
           + (" To record where you searched, choose streets or type postcodes below, or "
              "draw it with the shape tools (top left of the map)." if active else ""))
st.caption(SEARCHED_MEANS)
if view.moving:
    st.caption("Teams may search here again as time passes: a child can move, so ground "
               "searched earlier is not clear for good. (Decision support: "
               + markdown_text(" ".join(view.motion_notes)) + ")")

st.header("Where teams are searching")
for key, label in FAMILY_GROUP_LABELS.items():
    st.subheader(label)
    if not groups[key]:
        st.caption("None yet." if key != "searched_earlier" else "None.")
        continue
    for area in groups[key]:
        extra = (" — " + markdown_text("reported by a family or volunteer, not checked")
                 if area.volunteer else "")
        when = _when(area)
        if area.last_searched_at is not None and view.moving:
            when += " — teams may search here again as time passes"
        st.markdown(f"**{markdown_text(_place(area))}** · {markdown_text(when)} · "
                    f"area {markdown_text(area.code)}{extra}")


def _default_time(key: str) -> time:
    """The time a form opens with: now to the minute, fixed until that form is sent.

    A default that moved with the clock would make Streamlit see a new widget at the
    next minute and drop what the family typed; so it is kept in the session.
    """
    if key not in st.session_state:
        now = to_london(utcnow())
        st.session_state[key] = time(now.hour, now.minute)
    return st.session_state[key]


def _typed_time(day, at) -> datetime:
    """The London day and time the family typed, to the minute (never rounded)."""
    return from_london(day, at.replace(second=0, microsecond=0))


def _attempt(action: Callable[[], T], pending: dict[str, Any]) -> tuple[bool, T | None]:
    """Run one step of "we searched here" with the page's one way of failing.

    ``(True, result)``, or ``(False, None)`` after saying why in plain words: a typed
    place or the store refused it (its message), the link stopped working (the "no
    longer works" page), or reading the walk's track hit a bug (logged without the
    file's name, a generic message). Any other exception is a bug and is raised.
    """
    try:
        return True, action()
    except (LinkGone, PermissionDenied):
        gone_now()
    except (InputError, StoreError) as exc:
        st.error(str(exc))
    except Exception as exc:  # a bug while reading the walk's track: logged without its name
        if pending.get("track") is None:
            raise
        upload_fault(exc, [pending["track"]])
    return False, None


def _save_search(pending: dict) -> None:
    """Save a "we searched here" report (it goes to the coordinator's triage queue)."""
    note = pending["note"]
    if pending.get("why"):
        note = (note + " — " if note else "") + "We went again because: " + pending["why"]
    shape = ({"track": pending["track"]} if pending.get("track") is not None
             else {"geometry": pending["geometry"]})
    with saving(WATCH_KEY):  # its own change is not pushed back to this page
        ok, report = _attempt(lambda: db.report_family_search(
            actor, case_id, searched_at=pending["when"], note=note[:MAX_NOTE],
            idempotency_key=pending["key"], **shape), pending)
        if ok and report is not None:
            _seen_own_change()
    if not ok or report is None:
        return
    st.session_state.pop(DRAWN_KEY, None)
    st.session_state.pop(SEARCH_TIME_KEY, None)
    _thank("search", f"Thank you — saved as area {report.sector_code}. The coordinator "
           "will check it.")


def _ask_before_saving(pending: dict) -> None:
    """Police searched most of it: say so, and let the family choose."""
    at = pending["repeat_at"]
    today = to_london(utcnow()).date() == to_london(at).date()
    when = format_london(at) + (" today" if today else "")
    st.warning(f"Police searched most of this at {when} — search somewhere else, "
               "or tell us why you went again.")
    with st.form("family_repeat"):
        why = st.text_input("Why did you go again? (optional)", max_chars=300)
        c1, c2 = st.columns(2)
        again = c1.form_submit_button("Save it anyway", type="primary")
        drop = c2.form_submit_button("Don't save — we'll search somewhere else")
    if again:
        st.session_state.pop(PENDING_KEY, None)
        _save_search({**pending, "why": why})
    elif drop:
        st.session_state.pop(PENDING_KEY, None)
        st.session_state.pop(DRAWN_KEY, None)
        st.info("Not saved. Thank you — the map shows where teams have not been yet.")


def _streets_choice() -> FamilyStreets | None:
    """The streets the family may choose from (None when the store could not say)."""
    # the same for every family link of the case at this counter: computed once per process
    ok, streets = _attempt(
        lambda: shared(("family_streets", case_id, seen),
                       lambda: db.family_streets(actor, case_id)),
        {},
    )
    return streets if ok else None


def _search_form() -> None:
    st.header("We searched here")
    pending = st.session_state.get(PENDING_KEY)
    if pending is not None:
        _ask_before_saving(pending)
        return
    drawn = st.session_state.get(DRAWN_KEY)
    streets = _streets_choice()
    names = list(streets.names) if streets is not None else []
    with st.form("family_search", clear_on_submit=True):
        if drawn:
            st.info("Using the area you drew on the map.")
        chosen: list[str] = []
        if names:
            assert streets is not None
            chosen = st.multiselect(
                "Streets you searched (type to find one)", names,
                max_selections=MAX_STREETS, placeholder="Type a street name")
            st.caption(f"Each street counts as searched {streets.half_width_m:g} metres either "
                       "side of its middle, near the search only. Or type postcodes:")
        elif streets is not None and streets.loaded:
            st.caption("Streets can be chosen here once the coordinator shares an area with "
                       "you. Until then, type the postcodes of where you searched.")
        else:
            st.caption("Type the postcodes of where you searched (no street list is loaded "
                       "here), draw it on the map, or upload the track of your walk.")
        postcodes = st.text_input("Postcodes of where you searched (a comma between them)",
                                  max_chars=200, placeholder="e.g. SE1 9DT, SE1 9DA")
        radius = st.number_input("How far around them? (metres)", min_value=10,
                                 max_value=2000, value=100, step=10)
        track = st.file_uploader("…or upload the track of your walk (GPX)", type=["gpx"],
                                 max_upload_size=5)
        now = to_london(utcnow())
        day = st.date_input("Day", value=now.date(), max_value=now.date())
        at = st.time_input("About what time?", value=_default_time(SEARCH_TIME_KEY), step=60)
        note = st.text_input("Anything to add (optional)", max_chars=1000)
        sent = st.form_submit_button("Save where we searched", type="primary")
    if not sent:
        _show_thanks("search")
        return
    pending: dict = {"when": _typed_time(day, at), "note": note}
    if chosen:
        # the coordinator reads which streets the family chose, beside the shape
        pending["note"] = ("Streets: " + ", ".join(chosen) + (" — " + note if note else ""))
        ok, shape = _attempt(lambda: db.family_street_ground(
            actor, case_id, chosen, postcodes=postcodes, radius_m=float(radius))[0], pending)
        if not ok:
            return
        pending.update(geometry=shape, key="fs-" + uuid.uuid4().hex)
    elif postcodes.strip():
        ok, shape = _attempt(lambda: postcode_circles(postcodes, float(radius))[0], pending)
        if not ok:
            return
        pending.update(geometry=shape, key="fs-" + uuid.uuid4().hex)
    elif track is not None:
        pending.update(track=(track.name, track.getvalue()), key="fs-" + uuid.uuid4().hex)
    elif drawn:
        pending.update(geometry=drawn, key=drawing_key(drawn, "family"))
    else:
        st.warning("Choose streets, type the postcodes, draw the area on the map, or upload "
                   "a track." if names else
                   "Type the postcodes, draw the area on the map, or upload a track.")
        return
    ok, repeat = _attempt(lambda: db.family_search_check(
        actor, case_id, geometry=pending.get("geometry"), track=pending.get("track")), pending)
    if not ok:
        return
    if repeat is not None:
        st.session_state[PENDING_KEY] = {**pending, "repeat_at": repeat.searched_at}
        st.rerun()
    _save_search(pending)


def _tip_form() -> None:
    st.header("Send a tip")
    with st.form("family_tip", clear_on_submit=True):
        postcode = st.text_input("Where? A postcode", max_chars=10)
        now = to_london(utcnow())
        tday = st.date_input("When? Day", value=now.date(), max_value=now.date(),
                             key="tip_day")
        tat = st.time_input("Time", value=_default_time(TIP_TIME_KEY), step=60, key="tip_time")
        text = st.text_area("What did you see or hear?", max_chars=2000)
        contact = st.text_input("How can we reach you? (optional)", max_chars=200)
        tip_sent = st.form_submit_button("Send the tip", type="primary")
    if not tip_sent:
        _show_thanks("tip")
        return
    found = lookup_postcode(postcode or "")
    if found.status != "found":
        st.error(found.message)
        return
    try:
        with saving(WATCH_KEY):  # its own change is not pushed back to this page
            db.send_tip(actor, case_id, lat=found.lat, lon=found.lon,
                        seen_at=_typed_time(tday, tat), text=text, contact=contact,
                        place=postcode, idempotency_key="tip-" + uuid.uuid4().hex)
            _seen_own_change()
        st.session_state.pop(TIP_TIME_KEY, None)
        _thank("tip", "Thank you — the coordinator has your tip.")
    except (LinkGone, PermissionDenied):
        gone_now()
    except StoreError as exc:
        st.error(str(exc))


if active:
    st.divider()
    _search_form()
    _tip_form()

# read after the forms, so a report sent in this run is counted
try:
    mine = db.my_reports(actor, case_id)
except (LinkGone, PermissionDenied):
    gone_now()
if mine:
    checked = sum(r.status != "new" for r in mine)
    st.caption(f"You have sent {len(mine)} report{'s' if len(mine) != 1 else ''}; "
               f"{checked} checked by the coordinator.")
