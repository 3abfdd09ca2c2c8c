"""Where next (coordinators): probability of area, the ranked "search next" list and the gaps.

* **Set up POA** on a fixed grid: distance rings around the last-known location
  (the IPP if none) for the child's age band — published table, or the
  coordinator's own distances — or a consensus split of planners over sectors.
  When the last-known location moves the page says so and offers a **reset**
  (a reason is required; audited). Nothing happens on its own.
* **Ranked list and choropleth**: sectors by probability density after every
  unsuccessful pass, with POA before and after the passes.
* **Gaps**: ground not yet searched to a chosen POD on the map; one click
  proposes grid sectors over them, which go through the usual overlap check.
* **Motion model** per case: stationary (the default) or moving, with its
  assumptions in words; under moving the POA is replayed to now and searched
  sectors where probability has flowed back show "search again?" (a suggestion,
  never a status change).

Decision support, not a prediction: ring distances are population averages and
sweep widths are planning assumptions.
"""

from __future__ import annotations

import zlib

import altair as alt
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
import streamlit as st

from app_pages.widgets.a11y import map_title
from app_pages.widgets.common import london_map
from app_pages.widgets.forms import form_key, renew_form_key
from app_pages.widgets.live_map import RenderedMap, live_folium, render_base
from app_pages.widgets.sector_common import base_url_path, case_marks, case_or_stop
from app_pages.widgets.session import require_actor, show_store_error, store
from casefile import NewSector, OverlapWarning, StoreError, format_london
from casefile.motion import DEFAULT_PARAMS, PARAM_LIMITS
from geo.crs import geoms_to_lonlat
from geo.detection import cumulative_pod_array, load_search_data
from geo.gaps import area_of_interest, unsearched_ground
from geo.grid import make_grid
from geo.probability import DECISION_SUPPORT_NOTE
from layers.coverage import coverage_legend_html, gaps_layer, poa_layer, pod_sectors_layer
from layers.escape import markdown_text
from layers.legend import Legend
from vocab.search import MOTION_MODELS, MOTION_REGISTRY

#: under every result on this page
ASSUMPTIONS_NOTE = (
    "Sectors overlap, so their POAs can add up to more than 100 %; the grid cells do not. "
    "Ring distances are population averages for the age band; sweep widths and the "
    "assurance-to-POD mapping are planning assumptions. " + DECISION_SUPPORT_NOTE
)
#: why stationary stays the default (bench/moving_target_sim.py)
MOTION_EVIDENCE = (
    "Stationary is the default: in our simulation a walking model alone, or with jumps to "
    "town centres and stations, found no more children than the stationary POA (fewer when "
    "the child stayed put), while a moving model that knows a likely place the child goes "
    "to (such as the child's home) found many more. Choose moving for a case where the child is "
    "likely to be on the move — not for a young child or a child with limited mobility."
)
MAP_KEY = "poa_map"
GAPS_KEY = "poa_gaps"
PROPOSE_KEY = "poa_propose"

actor = require_actor()
db = store()


@st.cache_resource(show_spinner="Preparing the map…")
def coverage_map_base(base_url_path: str) -> RenderedMap:
    """The London base map with the coverage legend, rendered once per process."""
    del base_url_path  # part of the cache key: assets are served under it
    m, _ = london_map()
    Legend(coverage_legend_html(), position="bottomright").add_to(m)
    return render_base(m)


def _pct(x: float) -> str:
    return f"{100 * float(x):.1f} %"


def setup_form(case, state) -> None:
    domains = load_search_data("ring_distances")["domains"]
    resetting = state is not None
    sectors = db.sectors(actor, case.id)
    codes = [s.code for s in sectors]
    st.markdown("**Consensus split (Mattson)** — if you set POA up from planners' estimates: "
                "each planner, alone, splits 100 % over the chosen sectors and the rest of the "
                "world (no sector at 0 %); the planners are averaged.")
    c1, c2 = st.columns([1, 3])
    n_planners = int(c1.number_input("Planners", 1, 8, 1, key="poa_planners"))
    regions = c2.multiselect("Sectors in the split (they must not overlap)", codes,
                             default=codes, key="poa_regions")
    with st.form("poa_setup"):
        method = st.radio("How", ["rings", "consensus"], horizontal=True,
                          format_func={"rings": "Distance rings for the age band",
                                       "consensus": "Planners' consensus split"}.get)
        c1, c2, c3 = st.columns(3)
        age = c1.number_input("Age (years)", 1, 17, int(case.age or 12) if
                              1 <= int(case.age or 12) <= 17 else 12)
        domain = c2.selectbox("Terrain", list(domains), format_func=domains.get)
        cell = c3.number_input("Grid cell (m)", 25, 1000, 100, step=25)
        own = st.checkbox("Use our own ring distances for this case")
        r = st.columns(4)
        rings = [r[i].number_input(f"{q} % within (m)", 10, 50_000, d, step=50)
                 for i, (q, d) in enumerate(zip((25, 50, 75, 95), (400, 900, 1600, 3000),
                                                strict=True))]
        st.caption("Consensus: one column per planner, percentages per sector and the rest "
                   "of the world; each column sums to 100 and no cell may be 0.")
        even = round(90 / max(len(regions), 1), 1)
        base = pd.DataFrame({"region": [*regions, "rest_of_world"], **{
            f"planner {k}": [even] * len(regions) + [round(100 - even * len(regions), 1)]
            for k in range(1, n_planners + 1)}})
        split = st.data_editor(
            base, num_rows="fixed", hide_index=True, disabled=["region"],
            key=f"poa_split_{n_planners}_{zlib.crc32(','.join(regions).encode())}")
        reason = st.text_input("Why reset" if resetting else "Note (optional)")
        go = st.form_submit_button("Reset POA" if resetting else "Set up POA", type="primary")
    if not go:
        return
    try:
        if method == "rings":
            state = db.set_up_poa(actor, case.id, age=age, domain=domain, cell_m=cell,
                                  rings=rings if own else None, reason=reason or None)
        else:
            planners = [dict(zip(split["region"], split[c].astype(float), strict=True))
                        for c in split.columns if c != "region"]
            state = db.set_up_poa(actor, case.id, method="consensus", consensus=planners,
                                  cell_m=cell, reason=reason or None)
    except StoreError as exc:
        show_store_error(exc)
        return
    st.rerun()


def describe(state) -> None:
    p = state.params
    if state.method == "rings":
        rings = ", ".join(f"{k} %: {float(v):,.0f} m" for k, v in p.get("rings_m", {}).items())
        basis = p.get("basis", "")
        label = "labelled: interpolated log-linearly between published points" if (
            basis == "interpolated") else basis
        st.caption(f"Rings around the {state.origin_kind.replace('ipp', 'IPP')} "
                   f"({state.origin_lat:.5f}, {state.origin_lon:.5f}) — {rings}. Source: "
                   f"{markdown_text(p.get('source', ''))} ({markdown_text(label)}).")
    else:
        st.caption(f"Consensus of {p.get('planners')} planner(s) (Mattson).")
    st.caption(f"Set up by {markdown_text(state.created_by_name)} at "
               f"{format_london(state.created_at)} · {state.cell_m:g} m cells · "
               f"{len(state.applied)} pass(es) taken in · rest of the world "
               f"{_pct(state.rest_of_world)}.")


def ranked(case_id: int) -> pd.DataFrame:
    table = db.sector_poa_table(actor, case_id)
    if table.empty:
        st.info("No sectors yet.")
        return table
    st.markdown("**Search next** — sectors by probability density (POA ÷ area)")
    st.dataframe(pd.DataFrame({
        "Rank": table["rank"], "Sector": table["code"],
        "Name": table["name"].map(markdown_text),
        "Status": table["status"].str.replace("_", " "),
        "POA now": table["poa"].map(_pct), "POA before passes": table["poa_prior"].map(_pct),
        "Density (% per km²)": (100 * table["density_per_km2"]).round(2),
    }), hide_index=True, width="stretch")
    long = table.melt(id_vars=["code"], value_vars=["poa_prior", "poa"], var_name="when",
                      value_name="POA").replace({"poa_prior": "before passes", "poa": "now"})
    chart = alt.Chart(long).mark_bar().encode(
        x=alt.X("code:N", title="Sector", sort=list(table["code"])),
        xOffset="when:N",
        y=alt.Y("POA:Q", axis=alt.Axis(format="%")),
        color=alt.Color("when:N", title="", scale=alt.Scale(range=["#999999", "#0072B2"])),
        tooltip=["code:N", "when:N", alt.Tooltip("POA:Q", format=".2%")],
    ).properties(title="POA per sector before and after the passes", height=260)
    st.altair_chart(chart, width="stretch")
    st.caption(ASSUMPTIONS_NOTE)
    return table


#: where to look for gaps (the area of interest)
AOI_LABELS = {
    "searched": "inside sectors searched at least once (patches missed)",
    "sectors": "inside all the case's sectors",
    "ring50": "within the 50 % ring around the last-known location",
    "ring75": "within the 75 % ring",
    "ring95": "within the 95 % ring",
    "grid": "the whole POA grid",
}


def gaps_panel(case_id: int, state, sectors: list, coverage: pd.DataFrame
               ) -> tuple[float, object, bool]:
    """The target POD and area-of-interest choice, and the gaps in it (BNG rows).

    Returns ``(target, gaps, anything_searched)``.
    """
    grid, _, pods = db.cell_pods(actor, case_id)
    searched_ids = set(coverage.loc[coverage["passes"] > 0, "sector_id"]) if len(
        coverage) else set()
    rings = state.params.get("rings_m", {}) if state.method == "rings" else {}
    choices = [k for k in AOI_LABELS if not k.startswith("ring") or k[4:] in rings]
    if not sectors:
        choices = [k for k in choices if k not in ("searched", "sectors")]
    default = "searched" if searched_ids else ("ring50" if "ring50" in choices else choices[0])
    c1, c2 = st.columns([1, 2])
    target = c1.slider("Target POD (ground below it is a gap)", 0.1, 0.95, 0.6, 0.05,
                       key=f"{GAPS_KEY}_target")
    where = c2.selectbox("Look for gaps", choices, index=choices.index(default),
                         format_func=AOI_LABELS.get, key=f"{GAPS_KEY}_where")
    cum = cumulative_pod_array(pods, axis=0) if len(pods) else np.zeros(len(grid.cells))
    kw: dict = {}
    if where in ("searched", "sectors"):
        chosen = [x for x in sectors if where == "sectors" or x.id in searched_ids]
        kw["regions"] = gpd.GeoSeries([x.geometry for x in chosen], crs="EPSG:4326")
    elif where.startswith("ring"):
        kw.update(centre=(state.origin_lat, state.origin_lon),
                  radius_m=float(rings[where[4:]]))
    gaps = unsearched_ground(grid, cum, target, aoi=area_of_interest(grid, **kw))
    anything = bool(len(pods)) and bool((pods > 0).any())
    area_km2 = gaps["area_m2"].sum() / 1e6
    if where == "searched" and not searched_ids:
        st.info("No sector has been searched yet, so there are no missed patches to show. "
                "Choose another area to look for gaps in.")
    elif not anything:
        st.info(f"Nothing has been searched yet: all {area_km2:,.2f} km² "
                f"{AOI_LABELS[where]} is a gap. It is shown as one area; once passes come in "
                "only the ground still below the target POD remains.")
    else:
        st.caption(f"{len(gaps)} gap(s), {area_km2:,.2f} km² below POD {target:.0%} "
                   f"{AOI_LABELS[where]}.")
    st.caption("POD per cell comes from the tracks (C = W·L/A, W a planning assumption) or "
               "the reported assurance (planning assumption). " + DECISION_SUPPORT_NOTE)
    return target, gaps, anything


def propose(case_id: int, gaps) -> None:
    c1, c2 = st.columns(2)
    cell = c1.number_input("Proposed sector size (m)", 100, 2000, 400, step=50)
    largest = c2.number_input("From the largest gaps (how many)", 1, 50, 3)
    if st.button("Propose sectors over the gaps", disabled=len(gaps) == 0):
        area = geoms_to_lonlat(shapely.union_all(gaps.geometry.to_numpy()[: int(largest)]))
        try:
            grid = make_grid(area, float(cell))
        except Exception as exc:  # geo.InputError: too many cells, nothing left
            show_store_error(exc)
            return
        st.session_state[PROPOSE_KEY] = {
            "geoms": list(grid.geometry), "names": [f"Gap {i}" for i in grid["id"]],
            "key": form_key("poa_propose"),
        }
    pending = st.session_state.get(PROPOSE_KEY)
    if not pending:
        return
    st.write(f"{len(pending['geoms'])} proposed sector(s) ready to save.")
    choice = st.radio("If they overlap existing sectors", ["ask", "clip", "keep"],
                      horizontal=True,
                      format_func={"ask": "warn me first", "clip": "clip to new ground",
                                   "keep": "keep anyway (give a reason)"}.get)
    reason = st.text_input("Reason to keep overlaps", key="poa_keep_reason")
    if st.button("Save proposed sectors", type="primary"):
        items = [NewSector(geometry=g, name=n, origin="proposed",
                           idempotency_key=f"{pending['key'][:40]}-{i}")
                 for i, (g, n) in enumerate(zip(pending["geoms"], pending["names"],
                                                strict=True))]
        try:
            saved = db.create_sectors(actor, case_id, items,
                                      on_overlap=None if choice == "ask" else choice,
                                      reason=reason or None)
        except OverlapWarning as exc:
            st.warning(markdown_text(str(exc)))
            return
        except StoreError as exc:
            show_store_error(exc)
            return
        st.session_state.pop(PROPOSE_KEY, None)
        renew_form_key("poa_propose")
        st.success(f"Saved {sum(x is not None for x in saved)} proposed sector(s).")


def motion_panel(case_id: int, rp) -> None:
    """The case's motion model, its assumptions, the choice, and "search again?"."""
    motion = rp.motion
    as_of = f" (worked out to {format_london(rp.as_of)})" if motion.moving else ""
    st.markdown(f"**Motion model: {markdown_text(motion.label)}**{as_of} — decision support")
    for line in rp.assumptions:
        st.caption(markdown_text(line))
    for line in rp.notes:
        st.warning(markdown_text(line))
    if motion.moving:
        stale = db.stale_ground(actor, case_id)
        again = [s for s in stale if s.search_again]
        if again:
            st.markdown("**Search again?** — a suggestion, not a change of status")
            st.dataframe(pd.DataFrame({
                "Sector": [s.code for s in again],
                "Name": [markdown_text(s.name) for s in again],
                "Searched at": [format_london(s.searched_at) for s in again],
                "Flowed back": [_pct(s.stale) for s in again],
                "Why": [s.why for s in again],
            }), hide_index=True, width="stretch")
        elif stale:
            st.caption("No searched sector needs searching again yet: less than the threshold "
                       "of what each search ruled out has flowed back.")
    st.caption(MOTION_EVIDENCE)
    with st.form("poa_motion"):
        model = st.radio("Motion model", list(MOTION_MODELS),
                         index=list(MOTION_MODELS).index(motion.model), horizontal=True,
                         format_func=lambda m: MOTION_REGISTRY[m].label)
        cols = st.columns(len(PARAM_LIMITS))
        params: dict = {}
        for col, (k, (lo, hi, what)) in zip(cols, PARAM_LIMITS.items(), strict=True):
            params[k] = col.number_input(what.capitalize(), float(lo), float(hi),
                                         float(motion.params.get(k, DEFAULT_PARAMS[k])),
                                         key=f"poa_motion_{k}")
        params["to_home"] = st.checkbox("The child's home is a likely place",
                                        value=bool(motion.params.get("to_home", True)))
        reason = st.text_input("Why (optional)", key="poa_motion_reason")
        go = st.form_submit_button("Use this model")
    if not go:
        return
    try:
        db.set_motion_model(actor, case_id, version=motion.version, model=model,
                            reason=reason or None, **params)
    except StoreError as exc:
        show_store_error(exc)
        return
    st.rerun()


# ---------------------------------------------------------------------- the page

case = case_or_stop(actor, "Where next")
st.title("Where next")
map_title("Map of where to search next")
st.caption(f"Case {markdown_text(case.reference)} · {DECISION_SUPPORT_NOTE}")
try:
    db.refresh_coverage(actor, case.id)
    state = db.poa_state(actor, case.id)
    moved = db.poa_origin_moved(actor, case.id)
except StoreError as exc:
    show_store_error(exc)
    st.stop()

if state is None:
    st.info("No probability of area yet. Set it up below.")
    setup_form(case, None)
    st.stop()

describe(state)
try:
    replay = db.poa_replay(actor, case.id)
except StoreError as exc:
    show_store_error(exc)
    st.stop()
st.caption(f"Motion model: {markdown_text(replay.motion.label)}. "
           + markdown_text(" ".join(replay.assumptions))
           + " Decision support: see the “Motion model” tab to change it.")
if moved is not None:
    st.warning(f"The last-known location has moved (now {moved.lat:.5f}, {moved.lon:.5f}, "
               f"{'verified sighting' if moved.kind == 'sighting' else 'IPP'}). The rings "
               "still sit on the old place: reset POA below if the search should follow.")
sectors = db.sectors(actor, case.id)
coverage = db.sector_coverage(actor, case.id)
cov = coverage.set_index("sector_id").to_dict("index") if len(coverage) else {}
target, gaps, _searched = gaps_panel(case.id, state, sectors, coverage)
view = (state.origin_lat, state.origin_lon)
if sectors:  # between the last-known location and the sectors, so both are in sight
    lon_lat = shapely.bounds(shapely.union_all([x.geometry for x in sectors]))
    view = ((view[0] + (lon_lat[1] + lon_lat[3]) / 2) / 2,
            (view[1] + (lon_lat[0] + lon_lat[2]) / 2) / 2)
live_folium(coverage_map_base(base_url_path()), key=MAP_KEY, center=view, zoom=14,
            feature_group_to_add=[poa_layer(state.grid("current")),
                                  pod_sectors_layer(sectors, cov), gaps_layer(gaps, target),
                                  *case_marks(db.load_case(actor, case.id))],
            returned_objects=[], height=520)
tab_rank, tab_motion, tab_gaps, tab_history, tab_setup = st.tabs(
    ["Search next", "Motion model", "Gaps → sectors", "History", "Reset POA"])
with tab_rank:
    ranked(case.id)
with tab_motion:
    motion_panel(case.id, replay)
with tab_gaps:
    propose(case.id, gaps)
with tab_history:
    hist = db.poa_history(actor, case.id)
    if hist:
        st.dataframe(pd.DataFrame([{
            "When": format_london(h.at), "Sector": h.sector_code, "Pass POD": _pct(h.pod),
            "Σ POA·POD": _pct(h.found), "Rest of world after": _pct(h.rest_of_world),
        } for h in hist]), hide_index=True, width="stretch")
        st.caption("Σ POA·POD is each pass's probability of success (POS) before it. "
                   + ASSUMPTIONS_NOTE)
    else:
        st.info("No pass has been taken in yet: POA moves when a sector is finished.")
with tab_setup:
    setup_form(case, state)
