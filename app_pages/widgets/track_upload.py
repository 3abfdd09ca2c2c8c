"""A GPS track upload form any page can show (coordinator coverage page, team-lead page).

:func:`track_upload_form` asks for the file, the team (unless given), the sector
(optional), how many searchers walked abreast and their spacing, an optional
privacy trim and the ground type that sets the sweep width; it uploads through
the store with a progress bar and shows what cleaning dropped and the pass's POD.
UI only: the file is read by ``geo``, stored and measured by the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import streamlit as st

from app_pages.widgets.session import show_store_error
from app_pages.widgets.upload_fault import upload_fault
from casefile import Actor, Store, StoreError, TrackUpload
from geo.detection import cumulative_pod, sweep_widths
from layers.escape import markdown_text

UPLOAD_TYPES = ["gpx", "kml", "kmz", "csv"]
#: files above this size get a progress bar with every stage named
BIG_BYTES = 200_000


def _sweep_labels() -> dict[str, str]:
    return {k: f"{x['label']} — W {x['sweep_width_m']:g} m ({x['status']})"
            for k, x in sweep_widths().items()}


def _pct(x: float | None) -> str:
    return "–" if x is None else f"{100 * x:.0f} %"


def show_upload_result(up: TrackUpload) -> None:
    """What the upload did, in words: kept points, notes, and the pass's POD."""
    tr = up.track
    if up.duplicate:
        st.info(f"This file was uploaded before ({markdown_text(tr.file_name)}); "
                "nothing new was saved.")
    else:
        st.success(f"Saved {markdown_text(tr.file_name)}: {tr.n_points:,} points in "
                   f"{tr.n_segments} segment(s), {tr.length_m:,.0f} m walked × "
                   f"{tr.searchers} searcher(s).")
    for note in up.notes:
        st.caption(markdown_text(note))
    p = up.pass_
    if p is None:
        st.caption("No sector chosen: the track is on the map but counts towards no pass.")
        return
    both = ""
    if p.track_pod is not None and p.assurance_pod is not None:
        both = f" (the team reported an assurance worth {_pct(p.assurance_pod)})"
    st.metric("POD of this pass for the sector", _pct(p.pod),
              help="From tracks: POD = 1 − e^(−C), C = W·L/A on the ground searched; ground "
                   "marked not searched counts 0.")
    st.caption(
        f"Coverage C = {p.coverage or 0:.2f} with W = {p.sweep_width_m:g} m (planning "
        f"assumption) · POD from {p.basis}{both} · swept ground {_pct(p.swept_share)} of "
        "the sector. Decision support, not a prediction."
    )


def sector_search_facts(store: Store, actor: Actor, case_id: int, sector_id: int) -> str | None:
    """One markdown line for a sector panel: cumulative POD over its passes, where the
    last pass's POD came from (both PODs when a pass has tracks and a reported
    assurance) and the swept ground. None before the sector's first pass."""
    try:
        passes = store.passes(actor, case_id, sector_id=sector_id)
    except StoreError:
        return None
    if not passes:
        return None
    last = passes[-1]
    both = ""
    if last.track_pod is not None and last.assurance_pod is not None:
        both = (f"; from tracks {_pct(last.track_pod)}, from the reported assurance "
                f"{_pct(last.assurance_pod)}")
    swept = "" if last.swept_share is None else f" · swept ground {_pct(last.swept_share)}"
    return (f"**How well searched:** POD {_pct(cumulative_pod([p.pod for p in passes]))} "
            f"over {len(passes)} pass(es) (last from {last.basis}{both}){swept} — "
            "planning assumptions, decision support, not a prediction")


def track_upload_form(
    store: Store,
    actor: Actor,
    case_id: int,
    team_id: int | None = None,
    sector_id: int | None = None,
    offered: Sequence[Any] | None = None,
) -> TrackUpload | None:
    """Show the upload form; returns what was saved when the coordinator or lead uploads.

    ``team_id`` / ``sector_id`` fix the team or sector (a team lead's own team and
    sector card); otherwise the form offers the case's teams and sectors, or
    ``offered``: the sectors the page has read already (a team lead's own).
    """
    prefix = f"trk_{case_id}_{team_id or 0}_{sector_id or 0}"
    try:
        teams: dict[int, str] = {}
        if team_id is None:
            teams = {x.id: x.name for x in store.teams(actor, case_id)}
        sectors: dict[int | None, str] = {None: "no sector (map only)"}
        if sector_id is None:
            if offered is not None:
                items: list[Any] = list(offered)
            elif actor.role == "team_lead":
                items = store.team_sectors(actor, case_id)
            else:
                items = store.sectors(actor, case_id)
            sectors.update({x.id: f"{x.code} — {x.name}" for x in items})
    except StoreError as exc:
        show_store_error(exc)
        return None
    if team_id is None and not teams:
        st.info("Add a team first (Sectors page, Teams tab): every track belongs to a team.")
        return None
    labels = _sweep_labels()
    with st.form(f"{prefix}_form", clear_on_submit=False):
        upload = st.file_uploader("GPS track (GPX, KML/KMZ or CSV with lat/lon/time)",
                                  type=UPLOAD_TYPES, key=f"{prefix}_file")
        c1, c2 = st.columns(2)
        chosen_team = team_id if team_id is not None else c1.selectbox(
            "Team", list(teams), format_func=teams.get, key=f"{prefix}_team")
        chosen_sector = sector_id if sector_id is not None else c2.selectbox(
            "Sector", list(sectors), format_func=sectors.get, key=f"{prefix}_sector")
        c1, c2, c3 = st.columns(3)
        searchers = c1.number_input("Searchers abreast on this line", 1, 200, 1,
                                    key=f"{prefix}_n",
                                    help="One phone often stands for a line of people.")
        spacing = c2.number_input("Spacing between them (m)", 0.0, 1000.0, 0.0, step=1.0,
                                  key=f"{prefix}_spacing")
        trim = c3.number_input("Trim each end for privacy (m)", 0.0, 5000.0, 0.0, step=50.0,
                               key=f"{prefix}_trim",
                               help="Cuts the first and last stretch (near a home) before "
                                    "anything is stored.")
        ground = st.selectbox("Ground type (sets the sweep width W)", list(labels),
                              format_func=labels.get, key=f"{prefix}_ground")
        go = st.form_submit_button("Upload the track", type="primary")
    if not go:
        return None
    if upload is None:
        st.warning("Choose a file first.")
        return None
    data = upload.getvalue()
    bar = st.progress(0.0, text="Reading the file") if len(data) > BIG_BYTES else None

    def progress(done: float, what: str) -> None:
        if bar is not None:
            bar.progress(done, text=what)

    try:
        with st.spinner("Computing coverage and POD…"):
            up = store.upload_track(
                actor, case_id, (upload.name, data), team_id=int(chosen_team),
                sector_id=None if chosen_sector is None else int(chosen_sector),
                searchers=int(searchers), spacing_m=float(spacing) or None,
                trim_m=float(trim), sweep_type=ground, progress=progress)
    except StoreError as exc:
        if bar is not None:
            bar.empty()
        show_store_error(exc)
        return None
    except Exception as exc:  # a bug while reading the file: logged without its name
        if bar is not None:
            bar.empty()
        upload_fault(exc, [(upload.name, data)])
        return None
    if bar is not None:
        bar.empty()
    show_upload_result(up)
    return up
