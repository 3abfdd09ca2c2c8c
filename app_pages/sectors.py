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
:data:`POLL_SECONDS`; only when it moves (or this page's own preview changes)
are the sector and hazard layers rebuilt and swapped into the mounted map.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import altair as alt
import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages.forms import form_key, london_moment, london_now, renew_form_key
from app_pages.live_map import feature_groups_script, live_folium
from app_pages.sector_common import (
    POLL_SECONDS,
    base_url_path,
    case_or_stop,
    drawing_key,
    geometry_hash,
    sector_base_map,
    team_names,
    units,
)
from app_pages.session import require_actor, show_store_error, store
from app_pages.track_upload import sector_search_facts
from casefile import (
    ASSURANCE_LEVELS,
    HAZARD_KINDS,
    SEARCH_TYPES,
    SECTOR_STATUSES,
    SECTOR_TRANSITIONS,
    TEAM_ORG_TYPES,
    Overlap,
    OverlapWarning,
    Sector,
    StoreError,
    format_london,
    format_london_full,
)
from casefile.fieldwork import NOT_SEARCHED_REASONS
from geo.errors import InputError
from geo.exports import case_gpkg_bytes, pick_sectors, to_geojson, to_gpx, to_kml
from geo.overlap import find_overlaps
from geo.shapes import shape_from_geojson
from layers.draw import clear_drawings_layer, is_drawing
from layers.escape import markdown_text
from layers.sectors import candidate_layer, hazards_layer, sectors_layer
from vocab import sector_statuses
from vocab.search import HAZARD_LABELS, ORG_LABELS

MAP_KEY = "sector_map"
LIVE_KEY = "sector_map_live"
PENDING_KEY = "sector_pending"  # the drawing waiting for a decision
SEEN_KEY = "sector_seen_drawings"  # hashes of drawings already taken
SELECTED_KEY = "sector_selected"
MODE_KEY = "sector_draw_mode"
FLASH_KEY = "sector_flash"
#: How long the last action's message stays up. The page reruns more than once after
#: an action (the map hands back its state), so a message kept for one run only
#: could vanish before anyone reads it.
FLASH_SECONDS = 12.0
REFRESH_KEY = "_sector_refresh_page"
HOLE_KEY = "sector_not_searched_drawn"  # ground drawn as NOT searched, for the chosen sector
OPENING_ZOOM = 14
MODES = {"sector": "a search sector", "hazard": "a hazard / no-go area",
         "not_searched": "the part of the chosen sector NOT searched"}

actor = require_actor()
db = store()


def _label(status: str) -> str:
    return sector_statuses.label(status)


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
            "hazards": db.hazards(actor, case_id),
            "teams": teams,
            "names": team_names(teams),
            "dup": None,  # the duplication figure, worked out on the next full page run
            "script_for": None,
        }
        st.session_state[LIVE_KEY] = live
    return live


def _map_script(live: dict[str, Any]) -> str:
    """The changing layers as JavaScript; rebuilt only when their inputs change."""
    pending = st.session_state.get(PENDING_KEY)
    hole = st.session_state.get(HOLE_KEY)
    want = (live["token"], pending["hash"] if pending else None,
            pending.get("shape") is not None if pending else False,
            tuple(pending.get("overlap_ids", ())) if pending else (),
            hole["hash"] if hole else None)
    if live["script_for"] != want:
        groups = [hazards_layer(live["hazards"]), sectors_layer(live["sectors"], live["names"])]
        if pending and pending.get("shape") is not None:
            ids = set(pending.get("overlap_ids", ()))
            hit = [s for s in live["sectors"] if s.id in ids]
            what = "New hazard area (not saved)" if pending["mode"] == "hazard" else (
                "New sector (not saved)")
            groups.append(candidate_layer(pending["shape"], hit, label=what))
        if hole and _hole_shape(hole) is not None:
            groups.append(candidate_layer(_hole_shape(hole), label="Not searched (not saved)"))
        groups.append(clear_drawings_layer())
        live["script"] = feature_groups_script(groups)
        live["script_for"] = want
    return live["script"]


@st.fragment(run_every=POLL_SECONDS)
def sector_map(case_id: int, view: tuple[float, float]) -> None:
    try:
        live = _read_case(case_id)
    except StoreError as exc:
        show_store_error(exc)
        return
    live_folium(
        sector_base_map(base_url_path()),
        key=MAP_KEY,
        center=view,
        zoom=OPENING_ZOOM,
        feature_group_to_add=_map_script(live),
        returned_objects=["last_active_drawing"],
        height=600,
        on_change=_on_map_event,
    )
    if st.session_state.pop(REFRESH_KEY, False):
        st.rerun()  # the whole page: the side panel shows the drawing or the sector
    counts = pd.Series([s.status for s in live["sectors"]]).value_counts()
    summary = " · ".join(f"{counts[k]} {_label(k)}" for k in SECTOR_STATUSES if k in counts)
    st.caption(
        f"{len(live['sectors'])} sectors ({summary or 'none yet'}) · "
        f"{len(live['hazards'])} hazard areas · live: checks for changes every {POLL_SECONDS} s"
    )


def _hole_shape(hole: dict[str, Any]) -> Any:
    """The drawn not-searched ground as a clean lon/lat shape (None, with the error kept)."""
    if "shape" not in hole:
        try:
            hole["shape"], _ = shape_from_geojson(hole["geometry"], what="part not searched")
            hole["error"] = None
        except InputError as exc:
            hole["shape"], hole["error"] = None, str(exc)
    return hole["shape"]


def _drop_hole() -> None:
    st.session_state.pop(HOLE_KEY, None)


def _hazard_hits(shape: Any, hazards: list) -> list[str]:
    """Hazard / no-go areas a drawn sector covers, in words (geo measures the overlap)."""
    if not hazards:
        return []
    frame = gpd.GeoDataFrame({"id": list(range(len(hazards)))},
                             geometry=[h.geometry for h in hazards], crs="EPSG:4326")
    found = find_overlaps(shape, frame)
    return [
        f"{HAZARD_LABELS.get(hazards[int(i)].kind, hazards[int(i)].kind)}"
        f"{': ' + hazards[int(i)].note[:80] if hazards[int(i)].note else ''} — "
        f"{m2:,.0f} m² ({share:.0%} of the new sector)"
        for i, m2, share in zip(found["id"], found["overlap_m2"], found["share"], strict=True)
    ]


# ---------------------------------------------------------------------- a new drawing


def _drop_pending(message: str | None = None) -> None:
    st.session_state.pop(PENDING_KEY, None)
    if message:
        st.session_state[FLASH_KEY] = message


def _overlap_table(overlaps: list[Overlap] | tuple[Overlap, ...]) -> pd.DataFrame:
    return pd.DataFrame([
        {
            "Sector": o.code or f"item {(o.batch_index or 0) + 1}",
            "Name": o.name,
            "Status": _label(o.status),
            "Team": o.team_name or "",
            "When (London)": format_london(o.at) if o.at else "",
            "Overlap m²": round(o.overlap_m2),
            "% of new sector": round(100 * o.share, 1),
        }
        for o in overlaps
    ])


def _check(case_id: int, pending: dict[str, Any]) -> None:
    """Clean the drawn shape and ask the store what it overlaps (once per drawing)."""
    if "shape" in pending:
        return
    try:
        shape, notes = shape_from_geojson(pending["geometry"])
    except InputError as exc:
        pending.update(shape=None, error=str(exc), notes=[], overlaps=[], overlap_ids=[])
        return
    pending.update(shape=shape, notes=notes, error=None)
    overlaps: list[Overlap] = []
    if pending["mode"] == "sector":
        try:
            overlaps = db.check_overlaps(actor, case_id, shape)
        except StoreError as exc:
            pending.update(shape=None, error=str(exc))
            return
    pending["overlaps"] = overlaps
    pending["overlap_ids"] = [o.sector_id for o in overlaps if o.sector_id is not None]
    live = st.session_state.get(LIVE_KEY) or {}
    pending["hazards"] = (_hazard_hits(shape, live.get("hazards", []))
                          if pending["mode"] == "sector" else [])


def _save_sector(case_id: int, pending: dict[str, Any], on_overlap: str | None,
                 reason: str) -> None:
    ss = st.session_state
    try:
        saved = db.create_sector(
            actor,
            case_id,
            geometry=pending["shape"],
            name=ss.get("new_sector_name", ""),
            origin="drawn",
            priority=int(ss.get("new_sector_priority", 3)),
            notes=ss.get("new_sector_notes", ""),
            share_with_family=bool(ss.get("new_sector_family", True)),
            on_overlap=on_overlap,
            reason=reason or None,
            idempotency_key=drawing_key(pending["geometry"]),
        )
    except OverlapWarning as exc:  # someone saved an overlapping sector meanwhile
        pending["overlaps"] = list(exc.overlaps)
        pending["overlap_ids"] = [o.sector_id for o in exc.overlaps if o.sector_id is not None]
        ss["sector_error"] = str(exc)
        return
    except (StoreError, InputError) as exc:
        ss["sector_error"] = str(exc)
        return
    how = {None: "", "keep": " (overlap kept, reason audited)",
           "clip": " (clipped to the ground not yet covered)"}[on_overlap]
    _drop_pending(f"Saved sector {saved.code}{how} — {saved.area_m2:,.0f} m².")
    ss[SELECTED_KEY] = saved.id
    for key in ("new_sector_name", "new_sector_notes", "overlap_reason", "new_sector_family"):
        ss.pop(key, None)


def _save_hazard(case_id: int, pending: dict[str, Any]) -> None:
    ss = st.session_state
    try:
        hazard = db.add_hazard(
            actor,
            case_id,
            geometry=pending["shape"],
            kind=ss.get("new_hazard_kind", "unsafe"),
            note=ss.get("new_hazard_note", ""),
            idempotency_key=drawing_key(pending["geometry"], "hazard"),
        )
    except (StoreError, InputError) as exc:
        ss["sector_error"] = str(exc)
        return
    _drop_pending(f"Saved hazard area ({HAZARD_LABELS.get(hazard.kind, hazard.kind)}).")
    ss.pop("new_hazard_note", None)


def _reshape_hazard(pending: dict[str, Any], hazards: list) -> None:
    """Use the drawing as the new outline of an existing hazard area (version-checked)."""
    ss = st.session_state
    by_id = {h.id: h for h in hazards}
    chosen = by_id.get(ss.get("reshape_hazard"))
    if chosen is None:
        ss["sector_error"] = "Choose the hazard area to redraw."
        return
    try:
        db.update_hazard(actor, chosen.id, version=chosen.version, geometry=pending["shape"],
                         reason="outline redrawn")
    except (StoreError, InputError) as exc:
        ss["sector_error"] = str(exc)
        return
    _drop_pending(f"New outline saved for the hazard area "
                  f"({HAZARD_LABELS.get(chosen.kind, chosen.kind)}).")


def pending_panel(case_id: int) -> None:
    pending = st.session_state.get(PENDING_KEY)
    if not pending:
        return
    _check(case_id, pending)
    error = st.session_state.pop("sector_error", None)
    with st.container(border=True, key="pending_drawing"):
        if pending.get("error"):
            st.error(pending["error"])
            if st.button("Discard the drawing", key="discard_bad"):
                _drop_pending()
                st.rerun()
            return
        for note in pending.get("notes", []):
            st.info(note)
        if error:
            st.error(error)
        if pending["mode"] == "hazard":
            st.subheader("New hazard area")
            st.selectbox("Kind", HAZARD_KINDS, key="new_hazard_kind",
                         format_func=lambda k: HAZARD_LABELS.get(k, k))
            st.text_area("Note for every team", key="new_hazard_note", height=70)
            c1, c2 = st.columns(2)
            c1.button("Save hazard area", type="primary", on_click=_save_hazard,
                      args=(case_id, pending))
            c2.button("Cancel", on_click=_drop_pending, args=("Drawing discarded.",),
                      key="cancel_hazard")
            hazards = (st.session_state.get(LIVE_KEY) or {}).get("hazards", [])
            if hazards:
                st.caption("…or use this drawing as the new outline of a hazard area:")
                c1, c2 = st.columns([3, 2])
                c1.selectbox(
                    "Hazard area to redraw", [h.id for h in hazards], key="reshape_hazard",
                    label_visibility="collapsed",
                    format_func=lambda i: next(
                        f"{HAZARD_LABELS.get(h.kind, h.kind)} · {h.area_m2:,.0f} m² · "
                        f"{h.note[:40]}" for h in hazards if h.id == i))
                c2.button("Replace its outline", on_click=_reshape_hazard,
                          args=(pending, hazards))
            return
        overlaps = pending.get("overlaps", [])
        st.subheader("New sector")
        st.text_input("Name (optional; the ID is given on saving)", key="new_sector_name",
                      max_chars=200)
        c1, c2 = st.columns([1, 2])
        c1.number_input("Priority (1 = first)", 1, 5, 3, key="new_sector_priority")
        c2.text_input("Notes", key="new_sector_notes")
        st.toggle("Family sees it (switch off for homes and possible scenes)", value=True,
                  key="new_sector_family")
        for hit in pending.get("hazards", []):
            st.warning(f"**Covers a hazard / no-go area** — {markdown_text(hit)}. Teams "
                       "must not search it; clip or redraw the sector, or brief the team.")
        if not overlaps:
            st.success("No overlap with the case's other sectors.")
            c1, c2 = st.columns(2)
            c1.button("Save sector", type="primary", on_click=_save_sector,
                      args=(case_id, pending, None, ""))
            c2.button("Cancel", on_click=_drop_pending, args=("Drawing discarded.",),
                      key="cancel_sector")
            return
        names = ", ".join(
            f"{o.code or 'another new sector'} ({_label(o.status)}"
            f"{' by ' + o.team_name if o.team_name else ''})"
            for o in overlaps[:6]
        )
        total_share = min(sum(o.share for o in overlaps), 1.0)
        total_m2 = sum(o.overlap_m2 for o in overlaps)
        st.warning(
            f"**Overlap — not saved yet.** This sector overlaps {len(overlaps)} other "
            f"sector(s): {markdown_text(names)}. About {total_m2:,.0f} m² "
            f"({total_share:.0%} of it) is ground already planned, assigned or searched "
            "(ringed in red on the map)."
        )
        st.dataframe(_overlap_table(overlaps), hide_index=True, use_container_width=True)
        choice = st.radio(
            "What now?",
            ["keep", "clip", "cancel"],
            format_func={
                "keep": "Keep it anyway (give a reason; it is audited)",
                "clip": "Clip it to the ground not yet covered",
                "cancel": "Cancel (discard the drawing)",
            }.get,
            key="overlap_choice",
        )
        reason = ""
        if choice == "keep":
            reason = st.text_input("Why cover this ground again?", key="overlap_reason",
                                   placeholder="e.g. different search type; CCTV lead")
        if st.button("Confirm", type="primary", key="overlap_confirm"):
            if choice == "cancel":
                _drop_pending("Drawing discarded; nothing was saved.")
            elif choice == "keep" and not reason.strip():
                st.session_state["sector_error"] = "Give a reason to keep the overlap."
            else:
                _save_sector(case_id, pending, choice, reason)
            st.rerun()


# ---------------------------------------------------------------------- one sector


def _act(fn: Any, *args: Any, done: str, **kwargs: Any) -> None:
    try:
        fn(actor, *args, **kwargs)
    except OverlapWarning as exc:
        st.session_state["action_overlap"] = str(exc)
        st.session_state["action_error"] = (
            "Not assigned: " + str(exc) + " Choose keep (with a reason) or clip below."
        )
        return
    except (StoreError, InputError) as exc:
        st.session_state["action_error"] = str(exc)
        return
    st.session_state.pop("action_overlap", None)
    st.session_state[FLASH_KEY] = done


def sector_panel(sectors: list[Sector], names: dict[int, str], teams: list) -> None:
    """Details of the chosen sector (clicked on the map or picked) and what its status allows."""
    if not sectors:
        st.info("No sectors yet: draw one on the map (polygon or rectangle tool, top left), "
                "or make a grid, pick wards or import a file on **Make sectors**.")
        return
    by_id = {s.id: s for s in sectors}
    ids = list(by_id)
    chosen = st.session_state.get(SELECTED_KEY)
    # The choice lives in its own session key, not as the widget's key: the option
    # labels carry the status, and a label change makes Streamlit treat the box as a
    # new widget, which would jump back to the first sector after every action.
    sid = st.selectbox(
        "Sector (or click one on the map)",
        ids,
        index=ids.index(chosen) if chosen in by_id else 0,
        format_func=lambda i: " · ".join(
            dict.fromkeys((by_id[i].code, by_id[i].name or by_id[i].code,
                           _label(by_id[i].status)))
        ),
    )
    st.session_state[SELECTED_KEY] = sid
    s = by_id[sid]
    facts = [f"**Status:** {_label(s.status)}", f"**Area:** {s.area_m2:,.0f} m²"]
    if s.team_id is not None:
        facts.append(f"**Team:** {markdown_text(names.get(s.team_id, s.team_id))}")
    if s.searched_at:
        facts.append(f"**Searched:** {format_london_full(s.searched_at)} "
                     f"({markdown_text(s.search_type)}, {markdown_text(s.assurance)} assurance)")
    if s.straddles:
        which = " and ".join(w for w, f in (("BCU", s.straddles_bcu),
                                               ("force", s.straddles_force)) if f)
        facts.append(f"**Straddles a {which} boundary** — hand over or agree who searches")
    if s.overlap_kept_reason:
        facts.append(f"**Overlap kept:** {markdown_text(s.overlap_kept_reason)}")
    if s.not_searched_reason or s.not_searched is not None:
        drawn = " (drawn on the map)" if s.not_searched is not None else ""
        facts.append(f"**Not searched{drawn}:** {markdown_text(s.not_searched_reason)}")
    facts.append(f"**Family sees it:** {'yes' if s.share_with_family else 'no'}")
    searched = sector_search_facts(db, actor, s.case_id, s.id)  # POD, both numbers, swept
    if searched:
        facts.append(searched)
    for layer, title in (("borough", "Borough"), ("bcu", "BCU"), ("force", "Force")):
        rows = s.jurisdiction.get(layer) or []
        if rows:
            text = ", ".join(f"{r.get('name', r.get('code'))} {100 * float(r['share']):.0f} %"
                             for r in rows)
            facts.append(f"**{title}:** {markdown_text(text)}")
    st.markdown("  \n".join(facts))
    allowed = SECTOR_TRANSITIONS.get(s.status, frozenset())
    k = f"act_{s.id}_{s.version}_"
    if "assigned" in allowed and teams:
        with st.form(k + "assign"):
            team = st.selectbox("Assign to team", [t.id for t in teams],
                                format_func=lambda i: names.get(i, str(i)))
            choice = st.radio("If it overlaps other sectors", ["ask", "keep", "clip"],
                              horizontal=True,
                              format_func={"ask": "warn me", "keep": "keep (reason)",
                                           "clip": "clip"}.get)
            reason = st.text_input("Reason (needed to keep an overlap)")
            if st.form_submit_button("Assign"):
                _act(db.assign_sector, s.id, team, version=s.version,
                     on_overlap=None if choice == "ask" else choice, reason=reason or None,
                     done=f"{s.code} assigned to {names.get(team, team)}.")
                st.rerun()
    elif "assigned" in allowed:
        st.caption("Create a team (Teams tab) to assign this sector.")
    cols = st.columns(3)
    if "in_progress" in allowed and s.team_id is not None and cols[0].button(
            "Start searching", key=k + "start"):
        _act(db.start_sector, s.id, version=s.version, done=f"{s.code} is in progress.")
        st.rerun()
    moves = (("ready", "Mark ready", cols[1]), ("draft", "Back to draft", cols[1]),
             ("suspended", "Suspend", cols[2]))
    for status, label, col in moves:
        if status in allowed and status != s.status and col.button(label, key=k + status):
            _act(db.set_sector_status, s.id, status, version=s.version,
                 done=f"{s.code} is {_label(status)}.")
            st.rerun()
    if "searched" in allowed:
        hole = st.session_state.get(HOLE_KEY)
        hole = hole if hole and hole.get("sid") == s.id else None
        hole_shape = _hole_shape(hole) if hole else None
        if hole and hole.get("error"):
            st.error(hole["error"])
        with st.container(key="mark_searched"), st.form(k + "searched"):
            st.markdown("**Mark searched**")
            c1, c2 = st.columns(2)
            search_type = c1.selectbox("Search type", SEARCH_TYPES)
            assurance = c2.selectbox("Assurance", ASSURANCE_LEVELS)
            day, at = london_now()
            c1, c2 = st.columns(2)
            day = c1.date_input("Searched on", value=day, format="DD/MM/YYYY")
            at = c2.time_input("At (London)", value=at, step=60)
            if hole_shape is not None:
                st.info("The part NOT searched is drawn on the map (yellow); it is kept "
                        "only inside the sector and stays unsearched ground.")
            else:
                st.caption("Part of it not searched? Describe it below, and/or choose "
                           "“the part of the chosen sector NOT searched” above the map and "
                           "draw it.")
            c1, c2 = st.columns([1, 2])
            why = c1.selectbox("Why not searched", ["", *NOT_SEARCHED_REASONS],
                               format_func=lambda r: r or "all of it was searched")
            missed = c2.text_input("What was NOT searched inside it",
                                   placeholder="e.g. back gardens 12–20")
            if st.form_submit_button("Mark searched", type="primary"):
                reason = " — ".join(x for x in (why, missed.strip()) if x)
                try:
                    when: datetime = london_moment(day, at, "Time searched")
                    if hole_shape is not None and not reason:
                        raise InputError("Say why the part drawn on the map was not searched.")
                except InputError as exc:
                    st.session_state["action_error"] = str(exc)
                else:
                    _act(db.finish_sector, s.id, version=s.version, search_type=search_type,
                         assurance=assurance, searched_at=when, not_searched_reason=reason,
                         not_searched=hole_shape, done=f"{s.code} marked searched.")
                    if "action_error" not in st.session_state:
                        _drop_hole()
                st.rerun()
        if hole_shape is not None:
            st.button("Clear the part drawn as not searched", on_click=_drop_hole,
                      key=k + "clear_hole")
    elif st.session_state.get(MODE_KEY) == "not_searched":
        st.caption("Only a sector in progress can be marked searched with a part not "
                   "searched; choose one, then draw the part.")
    with st.expander("Edit name, priority, notes, family sharing"), st.form(k + "edit"):
        name = st.text_input("Name", value=s.name, max_chars=200)
        c1, c2 = st.columns([1, 2])
        priority = c1.number_input("Priority (1 = first)", 1, 5, int(s.priority))
        family = c2.toggle("Family sees it", value=s.share_with_family)
        notes = st.text_area("Notes", value=s.notes, height=70)
        if st.form_submit_button("Save changes"):
            _act(db.update_sector, s.id, version=s.version, name=name, priority=int(priority),
                 notes=notes, share_with_family=family, done=f"{s.code} updated.")
            st.rerun()
    if s.status in ("draft", "ready") and st.button(
            "Delete (drawn by mistake)", key=k + "delete"):
        _act(db.delete_sector, s.id, version=s.version, reason="drawn by mistake",
             done=f"{s.code} deleted (its ID is not reused; the audit log keeps it).")
        st.session_state.pop(SELECTED_KEY, None)
        st.rerun()
    if "needs_re_search" in allowed:
        with st.form(k + "research"):
            reason = st.text_input("Why search it again?")
            if st.form_submit_button("Needs re-search"):
                _act(db.set_sector_status, s.id, "needs_re_search", version=s.version,
                     reason=reason or None, done=f"{s.code} needs re-search.")
                st.rerun()


# ---------------------------------------------------------------------- tabs


def sector_list(case_id: int, teams: list, names: dict[int, str]) -> None:
    bcus, forces = units()["bcu"], units()["force"]
    c1, c2, c3, c4, c5 = st.columns([3, 2, 2, 2, 1])
    statuses = c1.multiselect("Status", SECTOR_STATUSES, format_func=_label, key="f_status")
    team = c2.selectbox("Team", [None, *[t.id for t in teams]], key="f_team",
                        format_func=lambda i: "any team" if i is None else names.get(i, str(i)))
    bcu = c3.selectbox("BCU", [None, *bcus], key="f_bcu",
                       format_func=lambda c: "any BCU" if c is None else bcus[c])
    force = c4.selectbox("Force", [None, *forces], key="f_force",
                         format_func=lambda c: "any force" if c is None else forces[c])
    straddling = c5.toggle("Straddling only", key="f_straddle")
    try:
        rows = db.sectors(actor, case_id, status=statuses or None, team_id=team, bcu=bcu,
                          force=force, straddling=True if straddling else None)
    except StoreError as exc:
        show_store_error(exc)
        return
    st.caption(f"{len(rows)} sector(s) match: {', '.join(s.code for s in rows[:40])}"
               f"{' …' if len(rows) > 40 else ''}" if rows else "No sector matches.")
    if not rows:
        return
    table = pd.DataFrame([
        {
            "ID": s.code,
            "Name": s.name,
            "Status": _label(s.status),
            "Team": names.get(s.team_id, "") if s.team_id else "",
            "BCU": bcus.get(s.bcu_code or "", s.bcu_code or ""),
            "Force": forces.get(s.force_code or "", s.force_code or ""),
            "Straddles": ("BCU " if s.straddles_bcu else "") + ("force" if s.straddles_force
                                                                 else ""),
            "Area m²": round(s.area_m2),
            "Priority": s.priority,
            "Origin": s.origin,
            "Searched (London)": format_london_full(s.searched_at) if s.searched_at else "",
            "Type": s.search_type or "",
            "Assurance": s.assurance or "",
            "Not searched": s.not_searched_reason,
            "Family sees it": s.share_with_family,
        }
        for s in rows
    ])
    st.dataframe(table, hide_index=True, use_container_width=True)


def teams_tab(case_id: int, teams: list) -> None:
    if teams:
        st.dataframe(pd.DataFrame([
            {"Team": t.name, "Organisation": ORG_LABELS.get(t.org_type, t.org_type),
             "Lead": t.lead_name, "Size": t.size, "Contact (coordinators only)": t.contact or ""}
            for t in teams
        ]), hide_index=True, use_container_width=True)
    with st.form("new_team"):
        c1, c2, c3, c4 = st.columns([3, 2, 2, 1])
        name = c1.text_input("Team name", max_chars=120)
        org = c2.selectbox("Organisation", TEAM_ORG_TYPES, format_func=ORG_LABELS.get)
        lead = c3.text_input("Lead", max_chars=120)
        size = c4.number_input("Size", min_value=1, max_value=500, value=None, step=1)
        contact = st.text_input("Contact details (shown to coordinators only)")
        if st.form_submit_button("Add team"):
            try:
                team = db.create_team(actor, case_id, name=name, org_type=org, lead_name=lead,
                                      size=None if size is None else int(size), contact=contact,
                                      idempotency_key=form_key("new_team"))
            except (StoreError, InputError) as exc:
                show_store_error(exc)
            else:
                renew_form_key("new_team")
                st.session_state[FLASH_KEY] = f"Added team {team.name}."
                st.rerun()


def hazards_tab(hazards: list) -> None:
    st.caption("To mark an area, choose “a hazard / no-go area” above the map and draw it. "
               "Every team sees hazard areas on its map.")
    st.caption("To change an outline, draw the new one in hazard mode and choose "
               "“Replace its outline”.")
    for h in hazards:
        c1, c2 = st.columns([5, 1])
        c1.markdown(f"**{HAZARD_LABELS.get(h.kind, h.kind)}** · {h.area_m2:,.0f} m² · "
                    f"{markdown_text(h.note)}")
        if c2.button("Remove", key=f"rm_hazard_{h.id}_{h.version}"):
            try:
                db.remove_hazard(actor, h.id, version=h.version)
            except StoreError as exc:
                show_store_error(exc)
            else:
                st.session_state[FLASH_KEY] = "Hazard area removed (kept in the audit log)."
                st.rerun()
        with st.expander("Edit"), st.form(f"edit_hazard_{h.id}_{h.version}"):
            kind = st.selectbox("Kind", HAZARD_KINDS, index=HAZARD_KINDS.index(h.kind),
                                format_func=lambda k: HAZARD_LABELS.get(k, k))
            note = st.text_area("Note for every team", value=h.note, height=70)
            if st.form_submit_button("Save changes"):
                try:
                    db.update_hazard(actor, h.id, version=h.version, kind=kind, note=note)
                except (StoreError, InputError) as exc:
                    show_store_error(exc)
                else:
                    st.session_state[FLASH_KEY] = "Hazard area updated."
                    st.rerun()


def exports_tab(case_id: int, sectors: list[Sector], teams: list, ref: str) -> None:
    if not sectors:
        st.caption("Nothing to export yet.")
        return
    c1, c2, c3 = st.columns([2, 2, 1])
    which = c1.radio("Export", ["all", "one", "team"], horizontal=True,
                     format_func={"all": "all sectors", "one": "one sector",
                                  "team": "a team's sectors"}.get, key="x_which")
    fmt = c3.selectbox("Format", ["GPX", "KML", "GeoJSON"], key="x_fmt")
    try:
        frame = db.sectors_frame(actor, case_id)
        pick = frame
        label = "all"
        if which == "one":
            code = c2.selectbox("Sector", [s.code for s in sectors], key="x_one")
            pick, label = pick_sectors(frame, ids=[code]), code
        elif which == "team":
            names = sorted({t.name for t in teams})
            if not names:
                st.caption("No teams yet.")
                return
            team = c2.selectbox("Team", names, key="x_team")
            pick, label = pick_sectors(frame, team=team), team
        text = {"GPX": to_gpx, "KML": to_kml, "GeoJSON": to_geojson}[fmt](pick)
    except (StoreError, InputError) as exc:
        show_store_error(exc)
        return
    ext = {"GPX": "gpx", "KML": "kml", "GeoJSON": "geojson"}[fmt]
    mime = {"GPX": "application/gpx+xml", "KML": "application/vnd.google-earth.kml+xml",
            "GeoJSON": "application/geo+json"}[fmt]
    safe = "".join(ch if ch.isalnum() else "-" for ch in f"{ref}-{label}")[:60]
    st.download_button(f"Download {len(pick)} sector(s) as {fmt}", text, f"{safe}.{ext}", mime)
    if st.toggle("Prepare the whole case as a GeoPackage (QGIS / ArcGIS)", key="x_gpkg"):
        try:
            data = case_gpkg_bytes(frame, **_case_layers(case_id, teams))
        except (InputError, StoreError, ValueError) as exc:
            show_store_error(exc)
        else:
            safe_ref = "".join(ch if ch.isalnum() else "-" for ch in ref)[:40]
            st.download_button("Download the case GeoPackage", data, f"{safe_ref}.gpkg",
                               "application/geopackage+sqlite3")


def _case_layers(case_id: int, teams: list) -> dict[str, Any]:
    """Sightings, teams (no contact details) and boundaries for the case GeoPackage."""
    from geo.boundaries import load_layer

    sightings = db.sightings(actor, case_id)
    points = gpd.GeoDataFrame(
        {
            "id": [x.id for x in sightings],
            "seen_at": [x.seen_at for x in sightings],
            "status": [x.status for x in sightings],
            "confidence": [x.confidence for x in sightings],
            "source": [x.source for x in sightings],
            "description": [x.description for x in sightings],
            "borough": [x.borough for x in sightings],
            "bcu": [x.bcu for x in sightings],
            "force": [x.force for x in sightings],
        },
        geometry=gpd.points_from_xy([x.lon for x in sightings], [x.lat for x in sightings]),
        crs="EPSG:4326",
    )
    team_table = pd.DataFrame(
        {
            "id": [t.id for t in teams],
            "name": [t.name for t in teams],
            "organisation": [ORG_LABELS.get(t.org_type, t.org_type) for t in teams],
            "org_type": [t.org_type for t in teams],
            "lead": [t.lead_name for t in teams],
            "size": [t.size for t in teams],
        }
    )
    boundaries = {name: load_layer(name) for name in ("borough", "bcu", "force", "ward")}
    return {"sightings": points, "teams": team_table, "boundaries": boundaries}


def duplication_tab(dup: Any) -> None:
    c1, c2, c3, c4 = st.columns(4)
    c1.metric("Ground searched", f"{dup.searched_m2 / 1e4:,.2f} ha")
    c2.metric("Searched more than once", f"{dup.repeated_m2 / 1e4:,.2f} ha",
              f"{dup.repeated_share:.1%} of searched", delta_color="off")
    c3.metric("Deliberate re-search", f"{dup.deliberate_m2 / 1e4:,.2f} ha")
    c4.metric("Accidental overlap", f"{dup.accidental_m2 / 1e4:,.2f} ha")
    if dup.repeated_m2 > 0:
        frame = pd.DataFrame({"Kind": ["Deliberate re-search", "Accidental overlap"],
                              "Hectares": [dup.deliberate_m2 / 1e4, dup.accidental_m2 / 1e4]})
        st.altair_chart(
            alt.Chart(frame, height=90).mark_bar().encode(
                x=alt.X("Hectares:Q"), y=alt.Y("Kind:N", title=None),
                color=alt.Color("Kind:N", legend=None, scale=alt.Scale(
                    domain=["Deliberate re-search", "Accidental overlap"],
                    range=["#0072b2", "#d55e00"])),
            ),
            use_container_width=True,
        )
    st.caption("Area of the union of ground searched twice or more (not a sum of pairs); "
               "ground recorded as not searched is left out.")


def _take_flash() -> str | None:
    """The last action's message while it is fresh (see :data:`FLASH_SECONDS`)."""
    value = st.session_state.get(FLASH_KEY)
    if value is None:
        return None
    if isinstance(value, str):  # just set by an action: start its clock
        value = (value, time.monotonic())
        st.session_state[FLASH_KEY] = value
    text, since = value
    if time.monotonic() - since > FLASH_SECONDS:
        del st.session_state[FLASH_KEY]
        return None
    return text


# ---------------------------------------------------------------------- page

case = case_or_stop(actor, "Sectors")
st.title(f"Sectors · {markdown_text(case.reference)}")
# always one slot each, so a message never shifts the map (a shift would remount it)
flash_slot, error_slot = st.empty(), st.empty()
flash = _take_flash()
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
    view = st.session_state.setdefault(f"sector_view_{case.id}", case.ipp)
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
