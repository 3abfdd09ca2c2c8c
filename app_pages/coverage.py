"""Coverage and POD (coordinators): how well each sector was searched, from what teams walked.

The map shows every GPS track by team, the swept ground and the sectors coloured
by cumulative POD with the number on each. Below: the table per sector (both
PODs where a pass has tracks and a reported assurance), the track upload, plots
of coverage and POD over time for the case and per team, the passes (with their
sweep width, changeable) and the effort spent on ground already cleared.

Every figure here is decision support, not a prediction; sweep widths and the
assurance-to-POD mapping are planning assumptions and are labelled so.
"""

from __future__ import annotations

from typing import Any

import altair as alt
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from app_pages.widgets.a11y import map_title
from app_pages.widgets.common import london_map, show_streets
from app_pages.widgets.live_map import RenderedMap, live_folium, render_base
from app_pages.widgets.sector_common import base_url_path, case_marks, case_or_stop
from app_pages.widgets.session import require_actor, show_store_error, store
from app_pages.widgets.track_upload import show_upload_result, track_upload_form
from casefile import StoreError, format_london
from geo.coverage import pass_sweep_widths, swept_ground
from geo.crs import geoms_to_lonlat
from geo.detection import assurance_pods, sweep_widths
from geo.errors import InputError
from geo.gaps import cleared_effort_summary, effort_on_cleared_ground
from geo.probability import DECISION_SUPPORT_NOTE
from layers.coverage import coverage_legend_html, pod_sectors_layer, swept_layer, tracks_layer
from layers.escape import markdown_text
from layers.legend import Legend
from vocab import london_time

MAP_KEY = "coverage_map"
TARGET_KEY = "coverage_target_pod"
LAST_UPLOAD_KEY = "coverage_last_upload"
DELETED_KEY = "coverage_track_deleted"

actor = require_actor()
show_streets(actor)  # the street layer of a map without tiles
db = store()


@st.cache_resource(show_spinner="Preparing the map…")
def coverage_base_map(base_url_path: str) -> RenderedMap:
    """The London base map with the coverage legend, rendered once per process."""
    del base_url_path  # part of the cache key: assets are served under it
    m, _ = london_map()
    Legend(coverage_legend_html(), position="bottomright").add_to(m)
    return render_base(m)


def planning_assumptions() -> None:
    """The figures behind the numbers, with their status (published or assumed)."""
    with st.expander("Planning assumptions behind these numbers"):
        rows = [{"Ground type": x["label"], "Sweep width W (m)": x["sweep_width_m"],
                 "Status": x["status"]} for x in sweep_widths().values()]
        st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")
        st.caption("Reported assurance → POD where a pass has no tracks: " + ", ".join(
            f"{k} {v:.0%}" for k, v in assurance_pods().items()) + " (planning assumptions).")
        st.caption("Coverage C = W·L/A (L = track length inside the sector × searchers "
                   "abreast, A = sector area); POD = 1 − e^(−C); passes combine as "
                   "1 − Π(1 − PODᵢ). Sources: data/search_science.")


def _pct(x: Any) -> str:
    return "–" if x is None or (isinstance(x, float) and np.isnan(x)) else f"{100 * x:.0f} %"


def swept_union(tracks: Any, passes: list) -> Any:
    """Swept ground of every track (lon/lat): buffered by its pass's W/2 (default W)."""
    widths = pass_sweep_widths(tracks["pass_id"], {p.id: p.sweep_width_m for p in passes})
    return geoms_to_lonlat(swept_ground(tracks, widths))


def coverage_map(case_id: int, sectors: list, table: pd.DataFrame, tracks: Any,
                 passes: list) -> None:
    cov = table.set_index("sector_id").to_dict("index") if len(table) else {}
    groups = [swept_layer(swept_union(tracks, passes)), pod_sectors_layer(sectors, cov),
              tracks_layer(tracks), *case_marks(db.load_case(actor, case_id))]
    if sectors:
        c = shapely.centroid(shapely.union_all([s.geometry for s in sectors]))
        view = (c.y, c.x)
    else:
        lk = db.last_known_location(actor, case_id)
        view = (lk.lat, lk.lon)
    live_folium(coverage_base_map(base_url_path()), key=MAP_KEY, center=view, zoom=15,
                feature_group_to_add=groups, returned_objects=[], height=520)


def sector_table(table: pd.DataFrame) -> None:
    if table.empty:
        st.info("No sectors yet: make them on the Sectors page.")
        return
    show = pd.DataFrame({
        "Sector": table["code"],
        "Name": table["name"].map(markdown_text),
        "Status": table["status"].str.replace("_", " "),
        "Passes": table["passes"],
        "Cumulative POD": table["cumulative_pod"].map(_pct),
        "Last pass POD": table["last_pod"].map(_pct),
        "POD from": table["last_basis"].replace({"": "–"}),
        "POD from tracks": table["last_track_pod"].map(_pct),
        "POD from assurance": table["last_assurance_pod"].map(_pct),
        "Swept ground": table["swept_share"].map(_pct),
        "Effort (km × searchers)": (table["effort_m"] / 1000).round(2),
    })
    st.dataframe(show, hide_index=True, width="stretch")


#: how each pass is placed in time on the plots (the timeline's ``at_basis``)
WHEN_LABELS = {
    "finished": "sector finished",
    "track times": "GPS times (open)",
    "upload time": "upload (no GPS times)",
}


def plots(case_id: int) -> None:
    line = db.coverage_timeline(actor, case_id)
    if line.empty:
        st.info("No passes yet: plots appear after the first upload or finished sector.")
        return
    line = line.assign(
        at=pd.to_datetime(line["at"], utc=True).dt.tz_convert(london_time.LONDON_NAME)
        .dt.tz_localize(None),
        when=line["at_basis"].map(WHEN_LABELS),
    )
    x = alt.X("at:T", title="Time walked or finished (London)",
              axis=alt.Axis(format="%d %b %H:%M"))
    when = alt.Shape("when:N", title="Placed in time by",
                     scale=alt.Scale(domain=list(WHEN_LABELS.values()),
                                     range=["circle", "triangle-up", "cross"]))
    timing = alt.Tooltip("when:N", title="Placed by")
    case_base = alt.Chart(line).encode(
        x=x,
        y=alt.Y("case_mean_pod:Q", title="Mean POD",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        tooltip=[alt.Tooltip("code:N", title="Sector"), alt.Tooltip("team:N", title="Team"),
                 alt.Tooltip("pod:Q", title="Pass POD", format=".0%"),
                 alt.Tooltip("case_mean_pod:Q", title="Case", format=".0%"), timing],
    )
    case_chart = alt.layer(
        case_base.mark_line(), case_base.mark_point(filled=True, size=70).encode(shape=when),
    ).properties(height=240)
    team_pod = alt.Chart(line).mark_line(point=True).encode(
        x=x,
        y=alt.Y("team_mean_pod:Q", title="Mean POD",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("team:N", title="Team", scale=alt.Scale(scheme="tableau10")),
        strokeDash=alt.StrokeDash("team:N", title="Team"),
        tooltip=["team:N", "code:N", alt.Tooltip("team_mean_pod:Q", format=".0%"), timing],
    ).properties(height=240)
    team_chart = alt.Chart(line).mark_line(point=True).encode(
        x=x,
        y=alt.Y("team_effort_m:Q", title="m × searchers"),
        color=alt.Color("team:N", title="Team", scale=alt.Scale(scheme="tableau10")),
        strokeDash=alt.StrokeDash("team:N", title="Team"),
        tooltip=["team:N", alt.Tooltip("team_effort_m:Q", format=",.0f"), timing],
    ).properties(height=240)
    sector_chart = alt.Chart(line).mark_line(point=True, interpolate="step-after").encode(
        x=x,
        y=alt.Y("sector_cumulative_pod:Q", title="POD",
                axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1])),
        color=alt.Color("code:N", title="Sector"),
        tooltip=["code:N", "team:N", alt.Tooltip("sector_cumulative_pod:Q", format=".0%"),
                 timing],
    ).properties(height=240)
    # titles as text above the charts: a Vega title is clipped beside a long axis title
    st.markdown("**Case: how well the sectors have been searched** — mean cumulative POD "
                "over all sectors, weighted by area")
    st.altair_chart(case_chart, width="stretch")
    c1, c2 = st.columns(2)
    c1.markdown("**Per team: POD of the sectors it searched** — that team's passes only")
    c1.altair_chart(team_pod, width="stretch")
    c2.markdown("**Per team: search effort over time** — track length × searchers abreast")
    c2.altair_chart(team_chart, width="stretch")
    st.markdown("**POD per sector over time** — cumulative over its passes")
    st.altair_chart(sector_chart, width="stretch")
    counts = line["at_basis"].value_counts()
    parts = [f"{n} pass(es) by {WHEN_LABELS[k]}" for k, n in counts.items()]
    st.caption("Each pass is placed at its finish, or while the sector is still being "
               "searched at the latest GPS time of its tracks; only tracks without times "
               "fall back to the upload time. "
               + "; ".join(parts) + ". " + DECISION_SUPPORT_NOTE)


def passes_tab(case_id: int, passes: list, sectors: list, teams: dict[int, str]) -> None:
    if not passes:
        st.info("No passes yet.")
        return
    codes = {s.id: s.code for s in sectors}
    st.dataframe(pd.DataFrame([{
        "Pass": p.id, "Sector": codes.get(p.sector_id, "?"),
        "Team": markdown_text(teams.get(p.team_id, "–")) if p.team_id else "–",
        "State": p.state, "Ended": format_london(p.ended_at) if p.ended_at else "–",
        "Tracks": p.n_tracks, "W (m)": p.sweep_width_m, "C": round(p.coverage or 0, 3),
        "POD": _pct(p.pod), "From": p.basis, "From tracks": _pct(p.track_pod),
        "From assurance": _pct(p.assurance_pod),
        "Searched share": _pct(p.searched_share),
    } for p in passes]), hide_index=True, width="stretch")
    types = sweep_widths()
    with st.form("pass_sweep"):
        st.markdown("**Change the sweep width of a pass** (recomputes its POD and the POA)")
        c1, c2, c3 = st.columns(3)
        names = {p.id: f"{p.id} ({codes.get(p.sector_id, '?')})" for p in passes}
        pid = c1.selectbox("Pass", list(names), format_func=names.get)
        kind = c2.selectbox("Ground type", list(types), format_func=lambda k: types[k]["label"])
        width = c3.number_input("W (m), 0 = the ground type's default", 0.0, 1000.0, 0.0)
        reason = st.text_input("Why")
        if st.form_submit_button("Change W"):
            p = next(p for p in passes if p.id == pid)
            try:
                db.set_pass_sweep(actor, p.id, version=p.version, sweep_type=kind,
                                  sweep_width_m=width or None, reason=reason)
                st.rerun()
            except StoreError as exc:
                show_store_error(exc)


def wasted_effort(case_id: int, tracks: Any, teams: dict[int, str]) -> None:
    target = st.slider("Ground counts as cleared from POD", 0.1, 0.95, 0.6, 0.05,
                       key=TARGET_KEY, format="%.2f")
    if len(tracks) == 0:
        st.info("No tracks yet.")
        return
    try:
        grid, frame, pods = db.cell_pods(actor, case_id)
    except StoreError as exc:
        show_store_error(exc)
        return
    closed = (frame["state"] == "closed").to_numpy()
    tr = tracks.assign(team=tracks["team_id"].map(lambda t: teams.get(t, "no team")),
                       case="this case", id=tracks["track_id"])
    # a track never counts as wasted on ground that its own pass cleared
    row_of_pass = {pid: i for i, pid in enumerate(frame.loc[closed, "pass_id"])}
    own = [row_of_pass.get(pid, -1) for pid in tr["pass_id"]]
    per = effort_on_cleared_ground(tr, grid, pods[closed], frame.loc[closed, "ended_at"],
                                   target, own_pass=own)
    for by, title in (("team", "Per team"), ("case", "Whole case")):
        summary = cleared_effort_summary(per, by)
        if summary.empty:
            continue
        st.markdown(f"**{title}**")
        st.dataframe(summary.assign(**{
            by: summary[by].map(markdown_text),
            "length_m": summary["length_m"].round(0),
            "cleared_m": summary["cleared_m"].round(0),
            "cleared_share": summary["cleared_share"].map(_pct),
        }).rename(columns={by: title, "tracks": "Tracks", "length_m": "Walked (m)",
                           "cleared_m": "On cleared ground (m)",
                           "cleared_share": "Share on cleared ground"}),
            hide_index=True, width="stretch")
    missing = int(per["cleared_m"].isna().sum())
    if missing:
        st.caption(f"{missing} track(s) without times are left out (when they were walked "
                   "is unknown).")
    st.caption("Share of each track walked over ground that had already reached the target "
               "POD before the track started. " + DECISION_SUPPORT_NOTE)


def delete_track_form(case_id: int, teams: dict[int, str], sectors: list) -> None:
    """Remove a track uploaded by mistake (e.g. one that starts at a volunteer's home).

    Coordinators only (this page is theirs, and the store checks again); the reason
    is required and kept in the audit log; the track's pass and the POA are recomputed.
    """
    try:
        items = db.tracks(actor, case_id)
    except StoreError as exc:
        show_store_error(exc)
        return
    if not items:
        st.info("No tracks yet.")
        return
    codes = {s.id: s.code for s in sectors}
    labels = {
        t.id: " · ".join((
            f"Track {t.id}", t.file_name or "no file name",
            teams.get(t.team_id, "no team") if t.team_id else "no team",
            codes.get(t.sector_id, "no sector") if t.sector_id else "no sector",
            f"{t.length_m:,.0f} m", f"uploaded {format_london(t.created_at)}",
        ))
        for t in items
    }
    with st.form("delete_track"):
        st.markdown("**Delete a track uploaded by mistake** (its pass and the POA are "
                    "recomputed; the audit log keeps the reason)")
        track_id = st.selectbox("Track", list(labels), format_func=labels.get)
        reason = st.text_input("Why delete it (required)", max_chars=500)
        if st.form_submit_button("Delete the track"):
            try:
                db.delete_track(actor, int(track_id), reason=reason)
            except (StoreError, InputError) as exc:
                show_store_error(exc)
            else:
                st.session_state[DELETED_KEY] = f"Track {track_id} deleted."
                st.rerun()


# ---------------------------------------------------------------------- the page

case = case_or_stop(actor, "Coverage and POD")
st.title("Coverage and POD")
map_title("Map of the case's sectors and GPS tracks")
st.caption(f"Case {markdown_text(case.reference)} · {DECISION_SUPPORT_NOTE}")
try:
    db.refresh_coverage(actor, case.id)
    sectors = db.sectors(actor, case.id)
    table = db.sector_coverage(actor, case.id)
    tracks = db.tracks_frame(actor, case.id)
    passes = db.passes(actor, case.id)
    teams = {x.id: x.name for x in db.teams(actor, case.id)}
except StoreError as exc:
    show_store_error(exc)
    st.stop()
planning_assumptions()
coverage_map(case.id, sectors, table, tracks, passes)
st.caption(f"{len(tracks)} track(s) · {len(passes)} pass(es) · sectors labelled with their "
           "cumulative POD; colour is never the only cue.")
tab_sectors, tab_upload, tab_tracks, tab_plots, tab_passes, tab_waste = st.tabs(
    ["POD per sector", "Upload a track", "Tracks", "Plots", "Passes", "Effort on cleared ground"])
with tab_sectors:
    sector_table(table)
with tab_upload:
    last = st.session_state.pop(LAST_UPLOAD_KEY, None)
    if last is not None:
        show_upload_result(last)
    uploaded = track_upload_form(db, actor, case.id)
    if uploaded is not None:
        st.session_state[LAST_UPLOAD_KEY] = uploaded
        st.rerun()  # the map, the table and the plots take the new pass in
with tab_tracks:
    deleted = st.session_state.pop(DELETED_KEY, None)
    if deleted:
        st.success(deleted)
    delete_track_form(case.id, teams, sectors)
with tab_plots:
    plots(case.id)
with tab_passes:
    passes_tab(case.id, passes, sectors, teams)
with tab_waste:
    wasted_effort(case.id, tracks, teams)
