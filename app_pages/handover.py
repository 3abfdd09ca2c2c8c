"""Handover (coordinators): what one BCU or force hands to another, and who acknowledged it.

Pick a unit (a Met BCU or a police force) and a distance: the page lists the
case's sectors searched, in progress or planned in that unit's area or within
that distance of it, and draws them on the map. A coordinator records a
handover (from unit, to unit, reason, attached sectors); the receiving unit's
acknowledgement (who, when) is recorded by a coordinator on its behalf, naming
the person, until receiving units have their own access.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd
import streamlit as st

from app_pages.widgets.a11y import map_title
from app_pages.widgets.common import show_streets
from app_pages.widgets.forms import form_key, london_moment, london_now, renew_form_key
from app_pages.widgets.live_map import feature_groups_script, live_folium
from app_pages.widgets.sector_common import (
    base_url_path,
    case_marks,
    case_or_stop,
    case_view,
    sector_base_map,
    units,
)
from app_pages.widgets.session import require_actor, show_store_error, store
from casefile import StoreError, format_london_full
from casefile.handovers import units_touched
from geo.errors import InputError
from layers.escape import markdown_text
from layers.handover_report import handover_gpkg_bytes, render_handover_report, report_file_stem
from layers.sectors import sectors_layer
from layers.tasks import tasks_layer
from vocab import sector_statuses

GROUPS = {
    "searched": tuple(sector_statuses.with_progress("searched")),
    "in progress": tuple(sector_statuses.with_progress("in_progress")),
    "planned": tuple(sector_statuses.with_progress("planned")),
}

actor = require_actor()
show_streets(actor)  # the street layer of a map without tiles
db = store()

case = case_or_stop(actor, "Handover")
st.title(f"Handover · {markdown_text(case.reference)}")
map_title("Map of the case's sectors and the units they touch")
# always one slot, so a message never shifts the map (a shift would remount it)
flash_slot = st.empty()
flash = st.session_state.pop("handover_flash", None)
if flash:
    flash_slot.success(flash)

all_units = {**units()["bcu"], **units()["force"]}
if "handover_unit" not in st.session_state:
    # open on the BCU holding most of the case's sectors
    try:
        codes = [s.bcu_code for s in db.sectors(actor, case.id) if s.bcu_code in all_units]
    except StoreError:
        codes = []
    if codes:
        st.session_state["handover_unit"] = max(set(codes), key=codes.count)
c1, c2 = st.columns([3, 1])
unit = c1.selectbox("BCU or police force", list(all_units), format_func=all_units.get,
                    key="handover_unit")
within = c2.number_input("…and within (metres)", min_value=0, max_value=20_000, value=500,
                         step=100, key="handover_within")
try:
    near = db.sectors_near_unit(actor, case.id, unit, within_m=float(within))
    near_tasks = db.tasks_near_unit(actor, case.id, unit, within_m=float(within))
    case_file = db.load_case(actor, case.id)
    teams = {t.id: t.name for t in db.teams(actor, case.id)}
except (StoreError, InputError) as exc:
    show_store_error(exc)
    st.stop()

cols = st.columns(3)
for col, (title, statuses) in zip(cols, GROUPS.items(), strict=True):
    col.metric(title.capitalize(), sum(1 for u in near if u.sector.status in statuses))

map_col, list_col = st.columns([3, 2], gap="medium")
with map_col:
    centre, zoom = case_view([u.sector for u in near], case_file, width_px=800,
                             height_px=480)
    live_folium(sector_base_map(base_url_path()), key="handover_map", center=centre, zoom=zoom,
                feature_group_to_add=feature_groups_script(
                    [sectors_layer([u.sector for u in near], teams),
                     tasks_layer([u.task for u in near_tasks]), *case_marks(case_file)]),
                returned_objects=[], height=480)
with list_col:
    if near:
        st.dataframe(pd.DataFrame([
            {
                "ID": u.sector.code,
                "Status": sector_statuses.label(u.sector.status),
                "Team": teams.get(u.sector.team_id, "") if u.sector.team_id else "",
                "Where": "inside" if u.inside else f"{u.distance_m:,.0f} m away",
                "Share in unit": f"{u.share_in_unit:.0%}",
                "Straddles": u.sector.straddles,
            }
            for u in near
        ]), hide_index=True, use_container_width=True, height=400)
    else:
        st.info(f"No sector of this case lies in {all_units[unit]} or within {within:,} m.")
    # enquiry tasks there too: what the receiving unit must not do again, and what is open
    open_tasks = sum(1 for u in near_tasks if not u.task.finished)
    st.markdown(f"**Tasks here:** {open_tasks} open · {len(near_tasks) - open_tasks} done")
    if near_tasks:
        st.dataframe(pd.DataFrame([
            {
                "Task": u.task.code,
                "Type": u.task.kind_label,
                "Title": u.task.title,
                "Status": u.task.status_label,
                "Team": u.task.team_name or "",
                "Where": "inside" if u.inside else f"{u.distance_m:,.0f} m away",
                "Result": u.task.result_note,
            }
            for u in near_tasks
        ]), hide_index=True, use_container_width=True, key="handover_tasks")

# the handover report for the unit chosen above: making one is audited, so on a click
wanted = (case.id, unit, float(within))
ready = st.session_state.get("handover_report")
if st.button(f"Make the handover report for {all_units[unit]} (PDF + GeoPackage)",
             key="handover_report_make"):
    try:
        report = db.make_handover_report(actor, case.id, unit, within_m=float(within))
        ready = (wanted, report_file_stem(report.reference, report.unit.code),
                 render_handover_report(report), handover_gpkg_bytes(report))
    except (StoreError, InputError, ValueError) as exc:
        show_store_error(exc)
    st.session_state["handover_report"] = ready
if ready is not None and ready[0] == wanted:
    stem = "".join(ch if ch.isalnum() or ch == "-" else "-" for ch in ready[1])[:80]
    d1, d2 = st.columns(2)
    d1.download_button("Download the handover report (PDF)", ready[2], f"{stem}.pdf",
                       "application/pdf", key="handover_report_pdf")
    d2.download_button("Download its GeoPackage (QGIS / ArcGIS)", ready[3], f"{stem}.gpkg",
                       "application/geopackage+sqlite3", key="handover_report_gpkg")

st.subheader("Record a handover")
try:
    case_sectors = db.sectors(actor, case.id)
except StoreError:
    case_sectors = []
touched = [code for code in units_touched(case_sectors) if code in all_units]
keys = touched + [code for code in all_units if code not in touched]


def _unit_label(code: str) -> str:
    return all_units[code] + (" · the case's ground is here" if code in touched else "")


with st.form("new_handover"):
    st.caption("Units the case's sectors touch come first. Nothing is chosen for you.")
    c1, c2 = st.columns(2)
    src = c1.selectbox("From", keys, format_func=_unit_label, index=None,
                       placeholder="The unit handing over")
    dst = c2.selectbox("To", keys, format_func=_unit_label, index=None,
                       placeholder="The unit taking over")
    reason = st.text_input("Reason", placeholder="e.g. child's route crossed into the City")
    attach = st.multiselect(f"Attach sectors (those in or near {all_units[unit]}, chosen above)",
                            [u.sector.id for u in near], default=[],
                            format_func={u.sector.id: u.sector.code for u in near}.get,
                            placeholder="None attached")
    if st.form_submit_button("Record handover", type="primary"):
        try:
            if src is None or dst is None:
                raise InputError("Choose the unit handing over (From) and the unit taking "
                                 "over (To).")
            h = db.create_handover(actor, case.id, from_unit=src, to_unit=dst, reason=reason,
                                   sector_ids=attach, idempotency_key=form_key("handover"))
        except (StoreError, InputError) as exc:
            show_store_error(exc)
        else:
            renew_form_key("handover")
            st.session_state["handover_flash"] = (
                f"Handover recorded: {h.from_unit.name} → {h.to_unit.name}, "
                f"{len(h.sector_codes)} sector(s)."
            )
            st.rerun()

st.subheader("Handovers of this case")
try:
    handovers = db.handovers(actor, case.id)
except StoreError as exc:
    show_store_error(exc)
    st.stop()
if not handovers:
    st.caption("None yet.")
for h in handovers:
    with st.container(border=True):
        st.markdown(
            f"**{markdown_text(h.from_unit.name)} → {markdown_text(h.to_unit.name)}** · "
            f"{format_london_full(h.created_at)} by {markdown_text(h.created_by_name)}  \n"
            f"{markdown_text(h.reason)}  \nSectors: "
            f"{markdown_text(', '.join(h.sector_codes) or 'none')}"
        )
        if h.acknowledged:
            st.success(
                f"Acknowledged by {markdown_text(h.acknowledged_by)} at "
                f"{format_london_full(h.acknowledged_at)} (recorded by "
                f"{markdown_text(h.acknowledged_recorded_by)})"
            )
            continue
        with st.form(f"ack_{h.id}_{h.version}"):
            c1, c2, c3 = st.columns([2, 1, 1])
            who = c1.text_input(f"Acknowledged for {h.to_unit.name} by (name)")
            day, at = london_now()
            day = c2.date_input("On", value=day, format="DD/MM/YYYY")
            at = c3.time_input("At (London)", value=at, step=60)
            if st.form_submit_button("Record acknowledgement"):
                try:
                    when = london_moment(day, at, "Acknowledged at")
                    if when <= h.created_at < when + timedelta(minutes=1):
                        when = None  # "this minute" (the form shows minutes): now
                    db.acknowledge_handover(actor, h.id, by_name=who, version=h.version, at=when)
                except (StoreError, InputError) as exc:
                    show_store_error(exc)
                else:
                    st.session_state["handover_flash"] = "Acknowledgement recorded."
                    st.rerun()
