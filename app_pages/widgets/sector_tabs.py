"""The tabs under the Sectors page's map: list, teams, hazard areas, exports, duplication."""

from __future__ import annotations

from typing import Any

import altair as alt
import pandas as pd
import streamlit as st

from app_pages.widgets.briefing_download import briefing_button, period_button
from app_pages.widgets.forms import form_key, renew_form_key
from app_pages.widgets.sector_common import units
from app_pages.widgets.sector_state import (
    FLASH_KEY,
    HAZARD_LABELS,
    ORG_LABELS,
    status_label,
    who,
)
from app_pages.widgets.session import show_store_error
from casefile import (
    HAZARD_KINDS,
    SECTOR_STATUSES,
    TEAM_ORG_TYPES,
    Sector,
    StoreError,
    format_london_full,
)
from geo.coordinates import grid_reference
from geo.errors import InputError
from geo.exports import (
    case_export_layers,
    case_gpkg_bytes,
    export_boundaries,
    pick_sectors,
    to_geojson,
    to_gpx,
    to_kml,
)
from layers.escape import markdown_text


def sector_list(case_id: int, teams: list, names: dict[int, str]) -> None:
    db, actor = who()
    bcus, forces = units()["bcu"], units()["force"]
    c1, c2, c3, c4, c5 = st.columns([3, 2, 2, 2, 1])
    statuses = c1.multiselect("Status", SECTOR_STATUSES, format_func=status_label, key="f_status")
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
            "Status": status_label(s.status),
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
    db, actor = who()
    if teams:
        st.dataframe(pd.DataFrame([
            {"Team": t.name, "Organisation": ORG_LABELS.get(t.org_type, t.org_type),
             "Lead": t.lead_name, "Size": t.size, "Contact (coordinators only)": t.contact or ""}
            for t in teams
        ]), hide_index=True, use_container_width=True)
        with st.expander("Briefing packs (PDF) per team and per operational period"):
            period_button(db, actor, case_id, key="brief_period")
            for t in teams:
                briefing_button(db, actor, case_id, key=f"brief_team_{t.id}", team_name=t.name,
                                label=f"{markdown_text(t.name)}: briefing pack")
    rendezvous_form(case_id)
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


def rendezvous_form(case_id: int) -> None:
    """Where the teams meet: set, move or clear the case's rendezvous point (typed as on
    the First hour page). Team leads see it on their phone and every pack prints it."""
    db, actor = who()
    try:
        current = db.rendezvous(actor, case_id)
    except StoreError as exc:
        show_store_error(exc)
        return
    st.markdown("**Rendezvous point**")
    if current is not None:
        st.caption(f"Now: {markdown_text(current.text())} · "
                   f"{grid_reference(current.lat, current.lon, 8)} (set by "
                   f"{markdown_text(current.updated_by_name)}, "
                   f"{format_london_full(current.updated_at)}). Shown as RV on the maps, "
                   "the team leads' phones and every briefing pack; never to the family.")
    with st.form("rendezvous"):
        c1, c2 = st.columns([2, 3])
        place = c1.text_input("Where: postcode, lat, lon or OS grid reference",
                              value=current.place if current else "", max_chars=100,
                              placeholder="e.g. SW1V 2JP")
        words = c2.text_input("In words, for the teams", value=current.words if current else "",
                              max_chars=200, placeholder="e.g. Car park, north gate")
        save = st.form_submit_button("Set the rendezvous point")
    if save:
        try:
            db.set_rendezvous(actor, case_id, version=current.version if current else 0,
                              place=place, words=words)
        except StoreError as exc:
            show_store_error(exc)
        else:
            st.session_state[FLASH_KEY] = "Rendezvous point saved."
            st.rerun()
    if current is not None and st.button("Clear the rendezvous point", key="rendezvous_clear"):
        try:
            db.clear_rendezvous(actor, case_id, version=current.version)
        except StoreError as exc:
            show_store_error(exc)
        else:
            st.session_state[FLASH_KEY] = "Rendezvous point cleared."
            st.rerun()


def hazards_tab(hazards: list) -> None:
    db, actor = who()
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
    db, actor = who()
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
    """Sightings, teams (no contact details) and boundaries for the case GeoPackage.

    The coordinators' own export (this page is theirs): ``geo.exports`` decides
    which personal fields go in.
    """
    db, actor = who()
    layers = case_export_layers(db.sightings(actor, case_id), teams, coordinator=True,
                                org_labels=ORG_LABELS)
    return {**layers, "boundaries": export_boundaries()}


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
    if dup.unchecked_m2 > 0:
        st.caption(f"Family-reported ground not yet accepted lies on "
                   f"{dup.unchecked_m2 / 1e4:,.2f} ha of searched ground: shown apart, "
                   "counted only once a coordinator accepts the report (Triage).")
