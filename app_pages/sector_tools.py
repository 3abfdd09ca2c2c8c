"""Make sectors (coordinators): a grid, street blocks, wards or neighbourhoods, or a file —
previewed first.

Nothing is saved until the coordinator has seen the new sectors on the map and
in a table (with notes such as "CRS assumed"). Saving goes through the store in
one transaction with a progress bar; if new sectors overlap the case's sectors
(or each other) the store refuses and the page offers keep (with a reason,
audited), clip to the ground not yet covered, or cancel.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import streamlit as st

from app_pages.widgets.a11y import map_title
from app_pages.widgets.common import show_streets
from app_pages.widgets.forms import form_key, renew_form_key
from app_pages.widgets.live_map import feature_groups_script, live_folium
from app_pages.widgets.sector_common import (
    CASE_MARKS_KEY,
    base_url_path,
    case_marks,
    case_or_stop,
    case_view,
    picklist,
    sector_base_map,
)
from app_pages.widgets.session import require_actor, show_store_error, store
from app_pages.widgets.upload_fault import upload_fault
from casefile import NewSector, OverlapWarning, StoreError
from geo.boundaries import unit_outlines
from geo.errors import InputError
from geo.grid import make_grid
from geo.guarded import read_sector_files_guarded
from geo.jurisdiction import cutting_areas, unit_at
from geo.postcode_sectors import postcode_sectors
from geo.shapes import circle, shape_from_geojson
from geo.street_sectors import street_sectors
from layers.draw import clear_drawings_layer, is_drawing
from layers.escape import markdown_text
from layers.sectors import preview_layer, sectors_layer

PREVIEW_KEY = "tools_preview"
AREA_KEY = "tools_drawn_area"
MAP_KEY = "tools_map"
FLASH_KEY = "tools_flash"
UPLOAD_TYPES = ["geojson", "json", "kml", "kmz", "gpx", "zip", "gpkg",
                "shp", "shx", "dbf", "prj", "cpg"]
PICK_CLICK_KEY = "pick_by_click"
MAX_PREVIEW_ROWS = 500
#: what the preview says when Streets fell back to postcode cells
POSTCODE_FALLBACK_NOTE = (
    "No street extract is loaded for this area, so these sectors are postcode cells "
    "(the ground nearest each postcode), not blocks between streets. The server's "
    "operator loads streets with `wayhome streets import PATH`.")

actor = require_actor()
show_streets(actor)  # the street layer of a map without tiles
db = store()


def _on_map() -> None:
    value = st.session_state.get(MAP_KEY) or {}
    if not isinstance(value, dict):
        return
    feature = value.get("last_active_drawing")
    if is_drawing(feature):
        st.session_state[AREA_KEY] = feature["geometry"]
        return
    click = value.get("last_clicked")
    layer = st.session_state.get("pick_layer", "ward")
    if st.session_state.get(PICK_CLICK_KEY) and isinstance(click, dict):
        try:
            code = unit_at(layer, float(click["lat"]), float(click["lng"]))
        except (KeyError, TypeError, ValueError):
            return
        if code is None:
            return
        picked = list(st.session_state.get(f"pick_{layer}", []))
        # a second click on a picked unit takes it off the list
        picked = [c for c in picked if c != code] if code in picked else [*picked, code]
        st.session_state[f"pick_{layer}"] = picked
        _preview_units(layer, picked)


def _preview_units(layer: str, codes: list[str]) -> None:
    if not codes:
        st.session_state.pop(PREVIEW_KEY, None)
        return
    shapes = unit_outlines(layer, codes)
    _set_preview(layer, list(shapes.geometry), list(shapes["name"].astype(str)),
                 [f"{len(shapes)} {layer}s as sectors"])


def _set_preview(origin: str, geoms: list, names: list[str], notes: list[str]) -> None:
    st.session_state[PREVIEW_KEY] = {
        "origin": origin, "geoms": geoms, "names": names, "notes": notes,
        "key": form_key("tools_save"),
    }


def grid_tool(case_id: int) -> None:
    with st.form("grid"):
        c1, c2 = st.columns(2)
        shape = c1.radio("Cells", ["square", "hex", "streets"], horizontal=True,
                         format_func={"square": "squares", "hex": "hexagons",
                                      "streets": "streets"}.get,
                         help="Streets: blocks bounded by roads, railways and water (from "
                              "the loaded OpenStreetMap extract), merged to about cell size "
                              "squared each and named by their streets. Without a loaded "
                              "extract: postcode cells, named by their postcodes.")
        cell = c2.number_input("Cell size (metres)", min_value=25, max_value=5000, value=250,
                               step=25)
        over = st.radio(
            "Over",
            ["drawn", "ring", "borough", "bcu"],
            format_func={"drawn": "the polygon drawn on the map above",
                         "ring": "a ring round the last-known location",
                         "borough": "a borough", "bcu": "a BCU"}.get,
        )
        c1, c2 = st.columns(2)
        radius = c1.number_input("Ring radius (metres)", min_value=50, max_value=20_000,
                                 value=800, step=50)
        boroughs, bcus = picklist("borough"), picklist("bcu")
        unit = c2.selectbox("Borough or BCU", [*boroughs, *bcus],
                            format_func=lambda c: boroughs.get(c) or bcus.get(c, c))
        cut = st.checkbox("Cut at BCU and force boundaries (no cell straddles two)", value=True)
        go = st.form_submit_button("Preview the grid")
    if not go:
        return
    try:
        if over == "drawn":
            drawn = st.session_state.get(AREA_KEY)
            if not drawn:
                raise InputError("Draw the area on the map first (polygon or rectangle tool).")
            area, _ = shape_from_geojson(drawn, what="grid area")
        elif over == "ring":
            lk = db.load_case(actor, case_id).last_known()
            area = circle(lk.lat, lk.lon, radius)
        else:
            layer = "borough" if unit in boroughs else "bcu"
            area = unit_outlines(layer, [unit]).geometry.iloc[0]
        if shape == "streets":
            _street_preview(area, float(cell), cut)
            return
        with st.spinner("Making the grid…"):
            grid = make_grid(area, float(cell), shape=shape,
                             cut_by=cutting_areas() if cut else None)
    except (InputError, StoreError) as exc:
        show_store_error(exc)
        return
    names = [f"Grid {i}" for i in grid["id"].astype(str)]
    notes = [f"{len(grid):,} cells of {cell:g} m" + (", cut at BCU and force boundaries"
                                                     if cut else "")]
    _set_preview("grid", list(grid.geometry), names, notes)


def _street_preview(area: Any, cell: float, cut: bool) -> None:
    """Street-bounded sectors of about ``cell``² each over ``area`` (raises InputError);
    postcode-unit cells where no street extract is loaded for the area."""
    west, south, east, north = area.bounds
    pad = 0.01  # about 1 km: streets just outside still close the blocks at the edge
    lines = db.street_lines(actor, bbox=(west - pad, south - pad, east + pad, north + pad))
    cut_note = ", cut at BCU and force boundaries" if cut else ""
    if not len(lines):
        with st.spinner("No streets are loaded: dividing the ground into postcode cells…"):
            made = postcode_sectors(area, cell * cell, cut_by=cutting_areas() if cut else None)
        notes = [POSTCODE_FALLBACK_NOTE,
                 f"{len(made):,} sectors of postcode cells, about {cell * cell / 1e4:g} ha "
                 f"each, cut at ward edges{cut_note}",
                 *made.attrs.get("notes", []),
                 "Postcodes: OS Code-Point Open. Contains OS data © Crown copyright and "
                 "database right 2025. Contains Royal Mail data © Royal Mail copyright and "
                 "database right 2025."]
        _set_preview("grid", list(made.geometry), list(made["name"].astype(str)), notes)
        return
    with st.spinner("Dividing the ground along its streets…"):
        made = street_sectors(area, lines, cell * cell,
                              cut_by=cutting_areas() if cut else None)
    names = [name if name != "no named streets" else f"Block {code}"
             for code, name in zip(made["id"].astype(str), made["name"].astype(str),
                                   strict=True)]
    notes = [f"{len(made):,} sectors bounded by streets, about {cell * cell / 1e4:g} ha each"
             + cut_note,
             *made.attrs.get("notes", []),
             "Streets © OpenStreetMap contributors (ODbL)."]
    _set_preview("grid", list(made.geometry), names, notes)


def pick_tool() -> None:
    layer = st.radio("Ready-made areas", ["ward", "neighbourhood"], horizontal=True,
                     format_func={"ward": "wards (2018)",
                                  "neighbourhood": "Met neighbourhoods"}.get, key="pick_layer")
    st.toggle("Pick by clicking the map (click again to drop one)", key=PICK_CLICK_KEY)
    options = picklist(layer)
    codes = st.multiselect("Pick them", list(options), format_func=options.get,
                           key=f"pick_{layer}")
    if st.button("Preview the picked areas", disabled=not codes):
        _preview_units(layer, codes)


def import_tool() -> None:
    uploads = st.file_uploader(
        "GeoJSON, KML/KMZ, GPX, GeoPackage, a zipped shapefile or a shapefile's .shp, .shx, "
        ".dbf and .prj chosen together (any coordinate system)",
        type=UPLOAD_TYPES, key="tools_upload", accept_multiple_files=True,
    )
    if not uploads or not st.button("Preview the file"):
        return
    label = ", ".join(u.name for u in uploads[:4]) + (" …" if len(uploads) > 4 else "")
    files = [(u.name, u.getvalue()) for u in uploads]
    # Read in a child process under the time and memory limits; nothing is saved
    # here: the preview (with the reader's notes — e.g. slivers or duplicates
    # dropped) waits for "Save these sectors".
    try:
        with st.spinner(f"Reading {label}…"):
            gdf = read_sector_files_guarded(files)
    except InputError as exc:
        st.error(str(exc))
        return
    except Exception as exc:  # a bug, not the file: one plain message, logged without names
        upload_fault(exc, files)
        return
    names = [str(n) if n else f"Imported {i + 1}"
             for i, n in enumerate(gdf["name"] if "name" in gdf.columns else [""] * len(gdf))]
    _set_preview("imported", list(gdf.geometry), names,
                 [*gdf.attrs.get("notes", []), f"{len(gdf):,} polygons read from {label}"])


def _save(case_id: int, preview: dict[str, Any], on_overlap: str | None, reason: str) -> None:
    bar = st.progress(0.0, text="Saving…")

    def progress(done: int, total: int, stage: str) -> None:
        share = min(done / max(total, 1), 1.0)
        bar.progress(share, text=f"{stage.capitalize()}… {done:,}/{total:,}")

    items = [NewSector(geometry=g, name=n[:200], origin=preview["origin"],
                       idempotency_key=f"{preview['key'][:40]}-{i}")
             for i, (g, n) in enumerate(zip(preview["geoms"], preview["names"], strict=True))]
    try:
        saved = db.create_sectors(actor, case_id, items, on_overlap=on_overlap,
                                  reason=reason or None, progress=progress)
    except OverlapWarning as exc:
        bar.empty()
        preview["overlap"] = str(exc)
        preview["overlapping"] = len(exc.by_item)
        st.rerun()  # the preview box now says "Overlap — not saved" and asks what to do
    except (StoreError, InputError) as exc:
        bar.empty()
        show_store_error(exc)
        return
    kept = [s for s in saved if s is not None]
    st.session_state.pop(PREVIEW_KEY, None)
    renew_form_key("tools_save")
    codes = f"{kept[0].code}–{kept[-1].code}" if kept else "none"
    st.session_state[FLASH_KEY] = (
        f"Saved {len(kept):,} sectors ({codes})"
        + (f"; {len(saved) - len(kept)} clipped to nothing" if len(kept) < len(saved) else "")
        + "."
    )
    st.rerun()


def preview_panel(case_id: int) -> None:
    preview = st.session_state.get(PREVIEW_KEY)
    if not preview:
        return
    with st.container(border=True, key="tools_preview_box"):
        st.subheader(f"Preview: {len(preview['geoms']):,} new sectors (not saved)")
        for note in preview["notes"]:
            st.info(note)
        table = pd.DataFrame({"Name": preview["names"][:MAX_PREVIEW_ROWS]})
        st.dataframe(table, hide_index=True, height=180, use_container_width=True)
        if preview.get("overlap"):
            st.warning(f"**Overlap — not saved.** {markdown_text(preview['overlap'])}")
            choice = st.radio("What now?", ["keep", "clip", "cancel"], horizontal=True,
                              format_func={"keep": "keep them anyway (reason)",
                                           "clip": "clip to the ground not yet covered",
                                           "cancel": "cancel"}.get, key="tools_choice",
                              index=None)
            reason = st.text_input("Why cover this ground again?", key="tools_reason")
            if st.button("Confirm", type="primary"):
                if choice is None:
                    st.error("Choose keep, clip or cancel.")
                    return
                if choice == "cancel":
                    st.session_state.pop(PREVIEW_KEY, None)
                    st.rerun()
                _save(case_id, preview, choice, reason)
            return
        c1, c2 = st.columns(2)
        if c1.button("Save these sectors", type="primary"):
            _save(case_id, preview, None, "")
        if c2.button("Discard the preview"):
            st.session_state.pop(PREVIEW_KEY, None)
            st.rerun()


# ---------------------------------------------------------------------- page

case = case_or_stop(actor, "Make sectors")
st.title(f"Make sectors · {markdown_text(case.reference)}")
map_title("Map for making sectors")
# always one slot, so a message never shifts the map (a shift would remount it)
flash_slot = st.empty()
flash = st.session_state.pop(FLASH_KEY, None)
if flash:
    flash_slot.success(flash)

try:
    sectors = db.sectors(actor, case.id)
    case_file = db.load_case(actor, case.id)
except StoreError as exc:
    show_store_error(exc)
    st.stop()

map_col, side_col = st.columns([3, 2], gap="medium")
with side_col:
    tabs = st.tabs(["Grid", "Wards / neighbourhoods", "Import a file"])
    with tabs[0]:
        grid_tool(case.id)
    with tabs[1]:
        pick_tool()
    with tabs[2]:
        import_tool()
with map_col:
    preview = st.session_state.get(PREVIEW_KEY)
    groups = [sectors_layer(sectors, {}), *case_marks(case_file)]
    if preview:
        groups.append(preview_layer(preview["geoms"], preview["names"]))
    groups.append(clear_drawings_layer())
    st.toggle("Show the planning point, last-known location and sightings", value=True,
              key=CASE_MARKS_KEY)
    # opens fitted to the case's ground; later changes never move the viewer's map
    centre, zoom = st.session_state.setdefault(f"tools_view_{case.id}",
                                               case_view(sectors, case_file))
    live_folium(sector_base_map(base_url_path()), key=MAP_KEY, center=centre, zoom=zoom,
                feature_group_to_add=feature_groups_script(groups),
                # fixed for the life of the map (the component reads it once)
                returned_objects=["last_active_drawing", "last_clicked"],
                height=520, on_change=_on_map)
    if st.session_state.get(AREA_KEY):
        st.caption("Grid area drawn: choose “the polygon drawn on the map” and preview.")
preview_panel(case.id)
