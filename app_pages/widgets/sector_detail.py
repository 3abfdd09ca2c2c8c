"""The chosen sector on the Sectors page: its facts and what its status allows.

Assign, start, mark ready or back to draft, suspend, mark searched (with the part
not searched, described or drawn), edit, delete a sector drawn by mistake, ask for
a re-search. Every action goes through the store, which checks the version and the
status change again.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import streamlit as st

from app_pages.widgets.briefing_download import briefing_button
from app_pages.widgets.forms import london_moment, london_now
from app_pages.widgets.pace_question import ask, hold, too_fast_message
from app_pages.widgets.sector_state import (
    FLASH_KEY,
    HOLE_KEY,
    MODE_KEY,
    SELECTED_KEY,
    drop_hole,
    hole_shape,
    status_label,
    who,
)
from app_pages.widgets.track_upload import sector_search_facts
from casefile import (
    ASSURANCE_LEVELS,
    SEARCH_TYPES,
    SECTOR_TRANSITIONS,
    OverlapWarning,
    Sector,
    StoreError,
    format_london_full,
)
from casefile.fieldwork import NOT_SEARCHED_REASONS
from geo.errors import InputError
from layers.escape import markdown_text


def _act(fn: Any, *args: Any, done: str, **kwargs: Any) -> None:
    _, actor = who()
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
    s = _choose_sector(sectors)
    st.markdown("  \n".join(_facts(s, names)))
    db, actor = who()
    briefing_button(db, actor, s.case_id, key=f"brief_sector_{s.id}", sector_code=s.code,
                    label=f"Briefing pack for {s.code} (PDF)")
    allowed = SECTOR_TRANSITIONS.get(s.status, frozenset())
    k = f"act_{s.id}_{s.version}_"
    if "assigned" in allowed:
        _assign_form(s, names, teams, k)
    _status_buttons(s, allowed, k)
    if "searched" in allowed:
        sizes = {t.id: t.size for t in teams}
        _mark_searched_form(s, k, sizes.get(s.team_id) if s.team_id is not None else None)
    elif st.session_state.get(MODE_KEY) == "not_searched":
        st.caption("Only a sector in progress can be marked searched with a part not "
                   "searched; choose one, then draw the part.")
    _edit_form(s, k)
    if s.status in ("draft", "ready"):
        _delete_button(s, k)
    if "needs_re_search" in allowed:
        _re_search_form(s, k)


def _choose_sector(sectors: list[Sector]) -> Sector:
    """The sector picked in the box (or last clicked on the map)."""
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
                           status_label(by_id[i].status)))
        ),
    )
    st.session_state[SELECTED_KEY] = sid
    return by_id[sid]


def _facts(s: Sector, names: dict[int, str]) -> list[str]:
    """What is known about the sector, one Markdown line each (user text escaped)."""
    db, actor = who()
    facts = [f"**Status:** {status_label(s.status)}", f"**Area:** {s.area_m2:,.0f} m²"]
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
    return facts


def _assign_form(s: Sector, names: dict[int, str], teams: list, k: str) -> None:
    if not teams:
        st.caption("Create a team (Teams tab) to assign this sector.")
        return
    db, _ = who()
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


def _status_buttons(s: Sector, allowed: frozenset[str], k: str) -> None:
    """Start searching, mark ready, back to draft, suspend: as the status allows."""
    db, _ = who()
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
                 done=f"{s.code} is {status_label(status)}.")
            st.rerun()


def _mark_searched_form(s: Sector, k: str, team_size: int | None) -> None:
    """Mark searched, with the part not searched described or drawn on the map.

    No assurance is chosen for the person; a sector marked searched faster than its
    team could have walked it gets a plain question before it is recorded.
    """
    db, _ = who()
    hole = st.session_state.get(HOLE_KEY)
    hole = hole if hole and hole.get("sid") == s.id else None
    hole_geom = hole_shape(hole) if hole else None
    if hole and hole.get("error"):
        st.error(hole["error"])
    with st.container(key="mark_searched"), st.form(k + "searched"):
        st.markdown("**Mark searched**")
        c1, c2 = st.columns(2)
        search_type = c1.selectbox("Search type", SEARCH_TYPES)
        assurance = c2.selectbox("Assurance", ASSURANCE_LEVELS, index=None,
                                 placeholder="How sure is the team? Choose")
        day, at = london_now()
        c1, c2 = st.columns(2)
        day = c1.date_input("Searched on", value=day, format="DD/MM/YYYY")
        at = c2.time_input("At (London)", value=at, step=60)
        if hole_geom is not None:
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
                if hole_geom is not None and not reason:
                    raise InputError("Say why the part drawn on the map was not searched.")
                if assurance is None:
                    raise InputError("Choose the assurance: how sure the team is that "
                                     "nothing was missed.")
            except InputError as exc:
                st.session_state["action_error"] = str(exc)
            else:
                def record() -> None:
                    _act(db.finish_sector, s.id, version=s.version, search_type=search_type,
                         assurance=assurance, searched_at=when, not_searched_reason=reason,
                         not_searched=hole_geom, done=f"{s.code} marked searched.")
                    if "action_error" not in st.session_state:
                        drop_hole()

                question = too_fast_message(s, team_size, when)
                if question:
                    hold(k + "searched", question, record)
                else:
                    record()
            st.rerun()
    ask(k + "searched")
    if hole_geom is not None:
        st.button("Clear the part drawn as not searched", on_click=drop_hole,
                  key=k + "clear_hole")


def _edit_form(s: Sector, k: str) -> None:
    db, _ = who()
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


def _delete_button(s: Sector, k: str) -> None:
    db, _ = who()
    if st.button("Delete (drawn by mistake)", key=k + "delete"):
        _act(db.delete_sector, s.id, version=s.version, reason="drawn by mistake",
             done=f"{s.code} deleted (its ID is not reused; the audit log keeps it).")
        st.session_state.pop(SELECTED_KEY, None)
        st.rerun()


def _re_search_form(s: Sector, k: str) -> None:
    db, _ = who()
    with st.form(k + "research"):
        reason = st.text_input("Why search it again?")
        if st.form_submit_button("Needs re-search"):
            _act(db.set_sector_status, s.id, "needs_re_search", version=s.version,
                 reason=reason or None, done=f"{s.code} needs re-search.")
            st.rerun()
