"""The handover report for a neighbouring BCU or force: one A4 PDF and one GeoPackage.

Drawn from plain records (a :class:`casefile.handover_reports.HandoverReport` or
any object with its attributes), without the database, the network or map tiles:

* the PDF — "OFFICIAL-SENSITIVE" at the top and bottom of every page (the
  briefing pack's sheet, :mod:`layers.briefing`); the case reference and the
  receiving unit; how many sectors are searched, in progress and planned in and
  near its area; a map on the British National Grid at a stated scale with the
  unit's outline, those sectors with their status, hazard and no-go areas and the
  numbered sightings; then tables with grid references: the sectors, the
  sightings, the hazards and the handover records with their acknowledgement.
* the GeoPackage — the same ground for QGIS/ArcGIS users, written by
  :func:`geo.exports.write_case_gpkg` under the personal-data rule of an export
  shared beyond the coordinators (:func:`geo.exports.case_export_layers` with
  ``coordinator=False``): sectors (code, status, where, grid reference; never
  their free-text names or notes), the unit's boundary, sightings (when, status,
  confidence; never who reported them, how to reach them or the free text),
  hazards (kind and grid reference, no note) and the handovers (units and times;
  no names, no reason).

Every string that came from a person goes through :func:`layers.escape.pdf_text`.
"""

from __future__ import annotations

import io
import math
import tempfile
from pathlib import Path
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from fpdf import FPDF
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle
from shapely.geometry.base import BaseGeometry

from geo.crs import BNG, WGS84, LonLatGeometry, geoms_to_bng, lonlat_to_bng
from geo.exports import case_export_layers, write_case_gpkg
from layers.briefing import (
    MAP_DPI,
    MapFrame,
    _background,
    _dash,
    _grid_labels,
    _grid_ref,
    _grid_ref_of,
    _heading,
    _label_point,
    _new_sheet,
    _patches,
    _scale_bar,
    _short_when,
    _status,
    _table,
    _when,
    _word,
    choose_frame,
    draw_rendezvous,
    draw_sightings,
    rendezvous_words,
)
from layers.escape import pdf_text
from vocab import sector_statuses
from vocab.search import HAZARD_LABELS
from vocab.task_types import label as task_label
from vocab.task_types import status_label as task_status_label

__all__ = ["GROUPS", "handover_gpkg_bytes", "render_handover_report", "report_file_stem",
           "write_handover_gpkg"]

#: how the report counts sectors: searched, in progress, planned
GROUPS: Final[dict[str, frozenset[str]]] = {
    "searched": sector_statuses.with_progress("searched"),
    "in progress": sector_statuses.with_progress("in_progress"),
    "planned": sector_statuses.with_progress("planned"),
}
_UNIT_COLOUR = "#6a1b9a"
_HAZARD_COLOUR = "#d00000"


def report_file_stem(reference: str, unit_code: str) -> str:
    """``<REF>-handover-<UNIT_CODE>`` (the file name without its suffix)."""
    return f"{reference}-handover-{unit_code}"


def _where(u: Any) -> str:
    return "inside" if u.inside else f"{u.distance_m:,.0f} m away"


# ---------------------------------------------------------------------- the map


def _map_png(report: Any, frame: MapFrame) -> bytes:
    fig = Figure(figsize=(frame.width_mm / 25.4, frame.height_mm / 25.4), dpi=MAP_DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(frame.x0, frame.x1)
    ax.set_ylim(frame.y0, frame.y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.add_patch(Rectangle((frame.x0, frame.y0), frame.x1 - frame.x0, frame.y1 - frame.y0,
                           facecolor="#fbfaf7", edgecolor="none"))
    box = shapely.box(frame.x0, frame.y0, frame.x1, frame.y1)
    text_kw: dict[str, Any] = {"parse_math": False, "clip_on": True}
    for layer, geom, _name in _background(frame):
        ward = layer == "ward"
        for patch in _patches(geom, facecolor="none", edgecolor="#9a9a9a" if ward else "#6d6d6d",
                              linewidth=0.4 if ward else 1.0, linestyle=":" if ward else "-"):
            ax.add_patch(patch)
    step = frame.grid_m
    for x in np.arange(math.ceil(frame.x0 / step) * step, frame.x1, step):
        ax.axvline(x, color="#1f5fa8", linewidth=0.35, alpha=0.7)
    for y in np.arange(math.ceil(frame.y0 / step) * step, frame.y1, step):
        ax.axhline(y, color="#1f5fa8", linewidth=0.35, alpha=0.7)
    # the receiving unit: a heavy purple outline, its name inside
    unit_geom = shapely.make_valid(report.unit_area_bng)
    for patch in _patches(unit_geom, facecolor="none", edgecolor=_UNIT_COLOUR, linewidth=2.6):
        ax.add_patch(patch)
    for hz in report.hazards:
        geom = geoms_to_bng(hz.geometry)
        for patch in _patches(geom, facecolor="none", edgecolor=_HAZARD_COLOUR, hatch="////",
                              linewidth=1.4):
            ax.add_patch(patch)
        p = _label_point(geom, box)
        if p is not None:
            ax.text(p.x, p.y, f"HAZARD: {HAZARD_LABELS.get(hz.kind, 'hazard')}", fontsize=6,
                    color=_HAZARD_COLOUR, weight="bold", ha="center", va="center",
                    bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6}, **text_kw)
    for u in report.sectors:
        entry = sector_statuses.STATUSES.get(u.sector.status)
        colour = entry.colour if entry else "#555555"
        geom = geoms_to_bng(u.sector.geometry)
        for patch in _patches(geom, facecolor=colour, alpha=(entry.fill_opacity if entry else 0.1),
                              edgecolor="none"):
            ax.add_patch(patch)
        for patch in _patches(geom, facecolor="none", edgecolor=colour, linewidth=1.2,
                              linestyle=_dash(entry.dash if entry else "")):
            ax.add_patch(patch)
        p = _label_point(geom, box)
        if p is not None:
            ax.text(p.x, p.y, f"{pdf_text(u.sector.code, 12)} · {_status(u.sector.status)}",
                    fontsize=6.5, color="#111111", ha="center", va="center", weight="bold",
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.5},
                    **text_kw)
    draw_sightings(ax, report.sightings, text_kw)
    draw_rendezvous(ax, getattr(report, "rendezvous", None))
    p = _label_point(unit_geom, box)
    if p is not None:
        ax.text(p.x, p.y, pdf_text(report.unit.name, 60), fontsize=8, color=_UNIT_COLOUR,
                style="italic", ha="center", va="center", alpha=0.8, **text_kw)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=MAP_DPI)
    return buf.getvalue()


def _bounds(report: Any) -> tuple[float, float, float, float]:
    """What the map shows: the sectors, sightings and hazards; else the unit's area."""
    parts: list[BaseGeometry] = [geoms_to_bng(u.sector.geometry) for u in report.sectors]
    parts += [geoms_to_bng(h.geometry) for h in report.hazards]
    for sg in report.sightings:
        x, y = lonlat_to_bng(sg.lon, sg.lat)
        parts.append(shapely.Point(float(x), float(y)))
    if not parts:
        parts = [report.unit_area_bng]
    x0, y0, x1, y1 = shapely.union_all(parts).bounds
    return float(x0), float(y0), float(x1), float(y1)


# ---------------------------------------------------------------------- the PDF


def render_handover_report(report: Any) -> bytes:
    """The report as PDF bytes (A4 portrait)."""
    pdf = _new_sheet("portrait")
    pdf.set_title("Handover report")
    ref = pdf_text(report.reference, 40)
    unit = f"{pdf_text(report.unit.name, 80)} ({pdf_text(report.unit.code, 20)})"
    pdf.footer_text = f"Handover report {ref} · for {unit}"[:160]
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 13)
    pdf.multi_cell(0, 6.5, f"Handover report · {ref} · for {unit}", new_x="LMARGIN",
                   new_y="NEXT")
    pdf.set_font("DejaVu", "", 7.5)
    within = (f"in its area or within {report.within_m:,.0f} m of it" if report.within_m
              else "in its area")
    pdf.multi_cell(0, 3.8, f"Made {_when(report.made_at)} by {pdf_text(report.made_by, 80)} · "
                   f"the case's ground {within} · case {pdf_text(report.case_status, 20)}",
                   new_x="LMARGIN", new_y="NEXT")
    counts = " · ".join(
        f"{title}: {sum(1 for u in report.sectors if u.sector.status in statuses)}"
        for title, statuses in GROUPS.items())
    other = sum(1 for u in report.sectors
                if not any(u.sector.status in statuses for statuses in GROUPS.values()))
    if other:
        counts += f" · not yet planned (draft, paused): {other}"
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(0, 5, f"Sectors {counts} · sightings: {len(report.sightings)} · "
             f"hazard areas: {len(report.hazards)}", new_x="LMARGIN", new_y="NEXT")
    meet = rendezvous_words(getattr(report, "rendezvous", None), "")
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(0, 4.2, f"Rendezvous point of the case's teams: {meet or 'not set'}",
                   new_x="LMARGIN", new_y="NEXT")
    if not report.sectors:
        pdf.set_font("DejaVu", "", 8)
        pdf.cell(0, 4.5, f"No sector of this case lies {within}.", new_x="LMARGIN",
                 new_y="NEXT")
    map_w, map_h = 182.0, 170.0
    left, top = 16.0, pdf.get_y() + 4
    frame = choose_frame(_bounds(report), map_w, map_h)
    pdf.image(io.BytesIO(_map_png(report, frame)), x=left, y=top, w=map_w, h=map_h)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.4)
    pdf.rect(left, top, map_w, map_h)
    _grid_labels(pdf, frame, left, top)
    _scale_bar(pdf, frame, left, top + map_h + 4.5)
    pdf.set_xy(left, top + map_h + 9.5)
    pdf.set_font("DejaVu", "", 6.3)
    pdf.multi_cell(
        map_w, 3, "Key: heavy purple outline = the receiving unit's area · coloured = the "
        "case's sectors with their status · red hatching = HAZARD / no-go · blue numbered dots "
        "= sightings (solid verified, hollow unverified) · black triangle = the teams' rendezvous "
        "point (RV) · grey lines = borough (solid) and "
        "ward (dotted) boundaries.", new_x="LMARGIN", new_y="NEXT")
    pdf.add_page()
    _tables(pdf, report, frame)
    return bytes(pdf.output())


def _tables(pdf: FPDF, report: Any, frame: MapFrame) -> None:
    sectors = [[
        pdf_text(u.sector.code, 12), _status(u.sector.status), _where(u),
        f"{u.share_in_unit:.0%}", _grid_ref_of(geoms_to_bng(u.sector.geometry)),
        f"{u.sector.area_m2 / 10_000:,.2f} ha", _word(u.sector.search_type),
        _word(u.sector.assurance), _short_when(u.sector.searched_at),
    ] for u in report.sectors]
    _table(pdf, "Sectors searched, in progress and planned (grid reference of a point inside)",
           ["Sector", "Status", "Where", "In unit", "Grid ref", "Area", "Search type",
            "Assurance", "Searched"], sectors, (14, 22, 22, 13, 28, 18, 22, 22, 29),
           "No sector of this case lies in or near this unit's area.")
    sightings = [[str(i), _grid_ref(sg.lat, sg.lon), _when(sg.seen_at),
                  f"{_word(sg.status)}, {_word(sg.confidence)} confidence",
                  pdf_text(sg.description, 300) or "—"]
                 for i, sg in enumerate(report.sightings, start=1)]
    _table(pdf, "Sightings in or near the unit's area (as shared with search teams)",
           ["#", "Grid ref", "Seen", "Status", "What was seen"], sightings,
           (10, 30, 38, 36, 76), "No shared sighting lies in or near this unit's area.")
    hazards = [[HAZARD_LABELS.get(h.kind, "hazard"), _grid_ref_of(geoms_to_bng(h.geometry)),
                pdf_text(h.note, 300) or "—"] for h in report.hazards]
    _table(pdf, "Open hazard and no-go areas in or near the unit's area",
           ["Kind", "Grid ref", "Note"], hazards, (30, 32, 128), "No hazard area recorded here.")
    tasks = [[pdf_text(x.code, 12), pdf_text(task_label(x.kind), 60),
              pdf_text(task_status_label(x.status), 30),
              "inside" if x.inside else f"{x.distance_m:,.0f} m away",
              "— (a person's address)" if x.geometry is None else _grid_ref_of(
                  geoms_to_bng(x.geometry))]
             for x in getattr(report, "tasks", ())]
    _table(pdf, "Enquiry tasks in or near the unit's area (done ones are not to be repeated)",
           ["Task", "Type", "Status", "Where", "Grid ref"], tasks, (16, 60, 26, 28, 60),
           "No enquiry task of this case lies in or near this unit's area.")
    handovers = []
    for h in report.handovers:
        ack = (f"{pdf_text(h.acknowledged_by, 80)} at {_when(h.acknowledged_at)} (recorded by "
               f"{pdf_text(h.acknowledged_recorded_by, 80)})" if h.acknowledged_at
               else "NOT YET ACKNOWLEDGED")
        handovers.append([
            f"{pdf_text(h.from_unit.name, 60)} → {pdf_text(h.to_unit.name, 60)}",
            f"{_when(h.created_at)} by {pdf_text(h.created_by_name, 80)}",
            pdf_text(h.reason, 300), pdf_text(", ".join(h.sector_codes), 200) or "none", ack,
        ])
    _table(pdf, "Handovers to or from this unit and their acknowledgement",
           ["Units", "Made", "Reason", "Sectors", "Acknowledged"], handovers,
           (38, 36, 46, 20, 50), "No handover to or from this unit is recorded yet.")
    _heading(pdf, "Notes", 8)
    pdf.set_font("DejaVu", "", 6.5)
    pdf.multi_cell(
        0, 3.2, f"Map: scale 1:{frame.scale:,}, British National Grid; boundaries © Crown "
        "copyright and database right (OS, ONS, GLA), Open Government Licence v3.0. Grid "
        "references are 8 or 10 figures. This report carries no contact details, no home "
        "address and never who reported a sighting.", new_x="LMARGIN", new_y="NEXT")


# ---------------------------------------------------------------------- the GeoPackage


def _frames(report: Any) -> tuple[gpd.GeoDataFrame, dict[str, Any]]:
    sectors = gpd.GeoDataFrame({
        "code": [u.sector.code for u in report.sectors],
        "status": [u.sector.status for u in report.sectors],
        "status_label": [_status(u.sector.status) for u in report.sectors],
        "inside_unit": [bool(u.inside) for u in report.sectors],
        "distance_m": [round(float(u.distance_m), 1) for u in report.sectors],
        "share_in_unit": [round(float(u.share_in_unit), 4) for u in report.sectors],
        "area_ha": [round(u.sector.area_m2 / 10_000, 3) for u in report.sectors],
        "search_type": [u.sector.search_type for u in report.sectors],
        "assurance": [u.sector.assurance for u in report.sectors],
        "searched_at": [u.sector.searched_at.isoformat() if u.sector.searched_at else None
                        for u in report.sectors],
        "grid_ref": [_grid_ref_of(geoms_to_bng(u.sector.geometry)) for u in report.sectors],
    }, geometry=[u.sector.geometry for u in report.sectors], crs=WGS84)
    # the shared export's rule: no reporter, no contact, no free text
    shared = case_export_layers(
        [{"id": i, "seen_at": sg.seen_at.isoformat(), "status": sg.status,
          "confidence": sg.confidence, "source": "", "description": sg.description,
          "borough": None, "bcu": None, "force": None, "lon": sg.lon, "lat": sg.lat}
         for i, sg in enumerate(report.sightings, start=1)], [], coordinator=False)
    return sectors, shared


def write_handover_gpkg(path: str | Path, report: Any) -> None:
    """The report's GeoPackage (British National Grid): layers ``sectors``,
    ``boundary_unit``, ``sightings`` (when any), ``hazards`` (when any) and the
    table ``handovers`` (when any). ``path`` is program-chosen, never user text."""
    path = Path(path)
    sectors, shared = _frames(report)
    unit = gpd.GeoDataFrame({"code": [report.unit.code], "name": [report.unit.name],
                             "layer": [report.unit.layer]},
                            geometry=[report.unit_area_bng], crs=BNG).to_crs(WGS84)
    x0, y0, x1, y1 = _bounds(report)
    area_bng = shapely.union_all([shapely.box(x0, y0, x1, y1), report.unit_area_bng])
    area = LonLatGeometry(gpd.GeoSeries([shapely.envelope(area_bng).buffer(500.0)],
                                        crs=BNG).to_crs(WGS84).iloc[0])
    write_case_gpkg(path, sectors, boundaries={"unit": unit}, sightings=shared["sightings"],
                    area=area)
    if report.hazards:
        hazards = gpd.GeoDataFrame({
            "kind": [h.kind for h in report.hazards],
            "kind_label": [HAZARD_LABELS.get(h.kind, "hazard") for h in report.hazards],
            "grid_ref": [_grid_ref_of(geoms_to_bng(h.geometry)) for h in report.hazards],
        }, geometry=[h.geometry for h in report.hazards], crs=WGS84).to_crs(BNG)
        hazards.to_file(path, layer="hazards", driver="GPKG", engine="pyogrio", mode="a")
    if report.handovers:
        table = pd.DataFrame({
            "from_code": [h.from_unit.code for h in report.handovers],
            "from_unit": [h.from_unit.name for h in report.handovers],
            "to_code": [h.to_unit.code for h in report.handovers],
            "to_unit": [h.to_unit.name for h in report.handovers],
            "made_at": [h.created_at.isoformat() for h in report.handovers],
            "sectors": [", ".join(h.sector_codes) for h in report.handovers],
            "acknowledged": [bool(h.acknowledged_at) for h in report.handovers],
            "acknowledged_at": [h.acknowledged_at.isoformat() if h.acknowledged_at else None
                                for h in report.handovers],
        })
        pyogrio.write_dataframe(table, path, layer="handovers", driver="GPKG", append=True)


def handover_gpkg_bytes(report: Any) -> bytes:
    """:func:`write_handover_gpkg` into memory, for a download button."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "handover.gpkg"
        write_handover_gpkg(path, report)
        return path.read_bytes()
