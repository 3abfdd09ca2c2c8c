"""A new drawing on the Sectors page: checked, warned about, then saved or dropped.

The drawn shape is cleaned by ``geo``; the store says which sectors it overlaps and
``geo`` which hazard areas it covers. The coordinator is WARNED BEFORE SAVING and
chooses: keep anyway (with a reason, audited), clip to the ground not yet covered,
or cancel. A drawing in hazard mode becomes a hazard area, or the new outline of one.
"""

from __future__ import annotations

from typing import Any

import geopandas as gpd
import pandas as pd
import streamlit as st

from app_pages.widgets.sector_common import drawing_key
from app_pages.widgets.sector_state import (
    HAZARD_LABELS,
    LIVE_KEY,
    PENDING_KEY,
    SELECTED_KEY,
    drop_pending,
    status_label,
    who,
)
from casefile import HAZARD_KINDS, Overlap, OverlapWarning, StoreError, format_london
from geo.errors import InputError
from geo.overlap import hazard_overlaps
from geo.shapes import shape_from_geojson
from layers.escape import markdown_text


def _hazard_hits(shape: Any, hazards: list) -> list[str]:
    """Hazard / no-go areas a drawn sector covers, in words (geo measures the overlap)."""
    if not hazards:
        return []
    frame = gpd.GeoDataFrame({"kind": [h.kind for h in hazards], "note": [h.note for h in hazards]},
                             geometry=[h.geometry for h in hazards], crs="EPSG:4326")
    found = hazard_overlaps(shape, frame)
    return [
        f"{HAZARD_LABELS.get(kind, kind)}{': ' + note[:80] if note else ''} — "
        f"{m2:,.0f} m² ({share:.0%} of the new sector)"
        for kind, note, m2, share in zip(found["kind"], found["note"], found["overlap_m2"],
                                         found["share"], strict=True)
    ]


def _overlap_table(overlaps: list[Overlap] | tuple[Overlap, ...]) -> pd.DataFrame:
    return pd.DataFrame([
        {
            "Sector": o.code or f"item {(o.batch_index or 0) + 1}",
            "Name": o.name,
            "Status": status_label(o.status)
            + (" (family-reported, unchecked)" if o.unchecked else ""),
            "Team": o.team_name or "",
            "When (London)": format_london(o.at) if o.at else "",
            "Overlap m²": round(o.overlap_m2),
            "% of new sector": round(100 * o.share, 1),
        }
        for o in overlaps
    ])


def _check(case_id: int, pending: dict[str, Any]) -> None:
    """Clean the drawn shape and ask the store what it overlaps (once per drawing)."""
    db, actor = who()
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
    db, actor = who()
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
    drop_pending(f"Saved sector {saved.code}{how} — {saved.area_m2:,.0f} m².")
    ss[SELECTED_KEY] = saved.id
    for key in ("new_sector_name", "new_sector_notes", "overlap_reason", "new_sector_family"):
        ss.pop(key, None)


def _save_hazard(case_id: int, pending: dict[str, Any]) -> None:
    db, actor = who()
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
    drop_pending(f"Saved hazard area ({HAZARD_LABELS.get(hazard.kind, hazard.kind)}).")
    ss.pop("new_hazard_note", None)


def _reshape_hazard(pending: dict[str, Any], hazards: list) -> None:
    """Use the drawing as the new outline of an existing hazard area (version-checked)."""
    db, actor = who()
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
    drop_pending(f"New outline saved for the hazard area "
                  f"({HAZARD_LABELS.get(chosen.kind, chosen.kind)}).")


def pending_panel(case_id: int) -> None:
    """The drawing waiting for a decision: its problems, its form, the overlap warning."""
    pending = st.session_state.get(PENDING_KEY)
    if not pending:
        return
    _check(case_id, pending)
    error = st.session_state.pop("sector_error", None)
    with st.container(border=True, key="pending_drawing"):
        if pending.get("error"):
            st.error(pending["error"])
            if st.button("Discard the drawing", key="discard_bad"):
                drop_pending()
                st.rerun()
            return
        for note in pending.get("notes", []):
            st.info(note)
        if error:
            st.error(error)
        if pending["mode"] == "hazard":
            _hazard_form(case_id, pending)
        elif _sector_form(case_id, pending):
            _overlap_decision(case_id, pending)


def _hazard_form(case_id: int, pending: dict[str, Any]) -> None:
    """Save the drawing as a hazard area, or as the new outline of one."""
    st.subheader("New hazard area")
    st.selectbox("Kind", HAZARD_KINDS, key="new_hazard_kind",
                 format_func=lambda k: HAZARD_LABELS.get(k, k))
    st.text_area("Note for every team", key="new_hazard_note", height=70)
    c1, c2 = st.columns(2)
    c1.button("Save hazard area", type="primary", on_click=_save_hazard,
              args=(case_id, pending))
    c2.button("Cancel", on_click=drop_pending, args=("Drawing discarded.",),
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


def _sector_form(case_id: int, pending: dict[str, Any]) -> bool:
    """The new sector's fields; saves at once without overlaps. True: overlaps to decide."""
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
        c2.button("Cancel", on_click=drop_pending, args=("Drawing discarded.",),
                  key="cancel_sector")
        return False
    return True


def _overlap_decision(case_id: int, pending: dict[str, Any]) -> None:
    """Overlap — not saved yet: keep (with a reason), clip or cancel."""
    overlaps = pending.get("overlaps", [])
    names = ", ".join(
        f"{o.code or 'another new sector'} ({status_label(o.status)}"
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
        index=None,  # nothing chosen for the coordinator
    )
    reason = ""
    if choice == "keep":
        reason = st.text_input("Why cover this ground again?", key="overlap_reason",
                               placeholder="e.g. different search type; CCTV lead")
    if st.button("Confirm", type="primary", key="overlap_confirm"):
        if choice is None:
            st.session_state["sector_error"] = "Choose keep, clip or cancel."
        elif choice == "cancel":
            drop_pending("Drawing discarded; nothing was saved.")
        elif choice == "keep" and not reason.strip():
            st.session_state["sector_error"] = "Give a reason to keep the overlap."
        else:
            _save_sector(case_id, pending, choice, reason)
        st.rerun()
