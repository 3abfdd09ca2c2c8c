"""The briefing pack: one A4 PDF (portrait or landscape) for a sector or a team.

What a search team takes into the field, drawn from plain records (a
:class:`casefile.briefings.Briefing` or any object with its attributes) without
the database, the network or map tiles:

* page 1 — "OFFICIAL-SENSITIVE" at the top and bottom of every page; the case
  reference, the sector(s) and the team; a map at a stated scale (1:2,500 to
  1:100,000, the largest that fits, printed as the scale with a scale bar) on the
  British National Grid, with grid lines labelled in figures along the frame and
  the 100 km square's letters; the pack's sectors, their neighbours and status,
  hazard and no-go areas hatched, the last-known location and the numbered
  sightings the team may see, over borough and ward lines and names from
  ``data/boundaries``; the task (search type, assurance wanted, sweep spacing,
  time box), the rendezvous point and radio/phone instructions (filled in or left
  as lines to write on); the child's description for searchers beside an empty box
  for a printed photo (none is stored); the QR code of the pack's own link with
  its number and expiry;
* page 2 on — the tables: sectors with their grid references, neighbours,
  hazards, the last-known location and sightings, earlier searches of the ground
  (team, when, how, POD).

Every grid reference and every name is real text in the PDF (searchable, read
aloud); the map itself is an image drawn with matplotlib (a bare ``Figure`` on the
Agg canvas: no pyplot, no global state, safe in the app's threads). Every string
that came from a person goes through :func:`layers.escape.pdf_text` (no control
or format characters, length capped) and is written as plain text (no markup is
interpreted; the page-count alias is switched off). The sheet never carries a
contact, the home address or who reported a sighting: its input has none.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import matplotlib
import numpy as np
import segno
import shapely
from fpdf import FPDF
from matplotlib.figure import Figure
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath
from shapely.geometry.base import BaseGeometry
from shapely.ops import polylabel

from geo import boundaries as gb
from geo.coordinates import format_grid_reference
from geo.crs import geoms_to_bng, lonlat_to_bng
from layers.escape import pdf_text
from vocab import london_time, sector_statuses
from vocab.search import HAZARD_LABELS

__all__ = ["MARKING", "SCALES", "MapFrame", "choose_frame", "draw_rendezvous",
           "draw_sightings", "render_briefing", "render_period_pack", "rendezvous_words"]

#: the protective marking printed at the top and bottom of every page
MARKING: Final[str] = "OFFICIAL-SENSITIVE"
#: map scales the pack may use (the largest that shows the ground is chosen)
SCALES: Final[tuple[int, ...]] = (2_500, 5_000, 10_000, 25_000, 50_000, 100_000)
#: grid intervals (m): the smallest at least MIN_GRID_MM apart on paper is drawn
GRID_STEPS: Final[tuple[int, ...]] = (100, 200, 500, 1_000, 2_000, 5_000, 10_000)
MIN_GRID_MM: Final[float] = 15.0
MAP_DPI: Final[int] = 200
#: hazards and the last-known location this close (m) to the pack's sectors are on the map
NEAR_M: Final[float] = 300.0
#: the rendezvous point this close (m) to the pack's sectors widens the map to show it
RV_NEAR_M: Final[float] = 1_000.0
#: how many rows each table shows before saying how many more there are
MAX_ROWS: Final[int] = 40

_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_LKL_COLOUR = "#b0003a"
_PACK_COLOUR = "#000000"
_HAZARD_COLOUR = "#d00000"
_RV_COLOUR = "#1a1a1a"


@dataclass(frozen=True, slots=True)
class MapFrame:
    """The ground a map shows: BNG box (m), the scale, the grid step, paper size (mm)."""

    x0: float
    y0: float
    x1: float
    y1: float
    scale: int
    grid_m: int
    width_mm: float
    height_mm: float

    def paper(self, x: float, y: float) -> tuple[float, float]:
        """Millimetres from the map's top-left corner of the BNG point (x, y)."""
        return (x - self.x0) / self.scale * 1000.0, (self.y1 - y) / self.scale * 1000.0


def choose_frame(bounds: tuple[float, float, float, float], width_mm: float,
                 height_mm: float, *, margin: float = 0.12) -> MapFrame:
    """The largest scale of :data:`SCALES` that shows ``bounds`` (BNG) with a margin,
    centred on it, and a grid step at least :data:`MIN_GRID_MM` apart."""
    bx0, by0, bx1, by1 = bounds
    w = max(bx1 - bx0, 50.0) * (1 + 2 * margin)
    h = max(by1 - by0, 50.0) * (1 + 2 * margin)
    scale = next((s for s in SCALES if w <= width_mm / 1000 * s and h <= height_mm / 1000 * s),
                 SCALES[-1])
    gw, gh = width_mm / 1000 * scale, height_mm / 1000 * scale
    cx, cy = (bx0 + bx1) / 2, (by0 + by1) / 2
    step = next((g for g in GRID_STEPS if g / scale * 1000 >= MIN_GRID_MM), GRID_STEPS[-1])
    return MapFrame(cx - gw / 2, cy - gh / 2, cx + gw / 2, cy + gh / 2, scale, step,
                    width_mm, height_mm)


# ---------------------------------------------------------------------- text helpers


def _when(dt: datetime | None) -> str:
    if dt is None:
        return "—"
    return dt.astimezone(london_time.LONDON).strftime("%a %d %b %Y %H:%M %Z")


def _short_when(dt: datetime | None) -> str:
    if dt is None:
        return "—"
    return dt.astimezone(london_time.LONDON).strftime("%d %b %H:%M")


def _grid_ref(lat: float, lon: float, digits: int = 10) -> str:
    x, y = lonlat_to_bng(lon, lat)
    try:
        return format_grid_reference(float(x), float(y), digits)
    except ValueError:
        return "off the grid"


def _grid_ref_of(geom_bng: BaseGeometry, digits: int = 8) -> str:
    p = geom_bng.representative_point()
    try:
        return format_grid_reference(p.x, p.y, digits)
    except ValueError:
        return "off the grid"


def _status(name: str) -> str:
    return sector_statuses.label(name) if name in sector_statuses.STATUSES else pdf_text(name, 30)


def _team_words(name: str | None) -> str:
    """A team's name as a sentence reads it: "Team Red", "Hughes family (team)"."""
    if not name:
        return "no team yet"
    text = pdf_text(name, 60)
    return text if text.lower().startswith("team") else f"team {text}"


def _word(value: str | None, default: str = "—") -> str:
    return pdf_text(value, 40).replace("_", " ") if value else default


# ---------------------------------------------------------------------- the map


def _patches(geom: BaseGeometry, **style: Any) -> list[PathPatch]:
    """Matplotlib patches (holes kept) of a BNG (multi)polygon."""
    out = []
    for poly in getattr(geom, "geoms", [geom]):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        rings = [np.asarray(poly.exterior.coords)] + [np.asarray(r.coords) for r in poly.interiors]
        verts = np.concatenate(rings)
        codes = np.concatenate([
            [MplPath.MOVETO] + [MplPath.LINETO] * (len(r) - 2) + [MplPath.CLOSEPOLY]
            for r in rings
        ])
        out.append(PathPatch(MplPath(verts, codes), **style))
    return out


def _background(frame: MapFrame) -> list[tuple[str, BaseGeometry, str]]:
    """Borough and ward outlines (BNG) and names crossing the frame, where the data is."""
    box = shapely.box(frame.x0, frame.y0, frame.x1, frame.y1)
    out: list[tuple[str, BaseGeometry, str]] = []
    for layer in ("ward", "borough"):
        try:
            gdf = gb.load_layer(layer)
        except (OSError, ValueError):
            continue
        hits = gdf.sindex.query(box, predicate="intersects")
        for i in hits:
            out.append((layer, gdf.geometry.iloc[i], str(gdf["name"].iloc[i] or "")))
    return out


def _label_point(geom: BaseGeometry, box: BaseGeometry) -> Any:
    """A point inside the part of ``geom`` the map shows (None when none is shown)."""
    part = geom.intersection(box)
    return None if part.is_empty else part.representative_point()


def _middle(geom: BaseGeometry, box: BaseGeometry, scale: int) -> Any:
    """The point of the shown part of ``geom`` furthest from its edges (None if none)."""
    part = geom.intersection(box)
    polys = [g for g in getattr(part, "geoms", [part]) if g.geom_type == "Polygon"]
    if not polys:
        return None
    return polylabel(max(polys, key=lambda g: g.area), tolerance=scale * 0.001)


def _dash(pattern: str) -> Any:
    if not pattern:
        return "solid"
    nums = tuple(float(x) for x in pattern.split())
    return (0, tuple(n / 2 for n in nums))


def draw_sightings(ax: Any, sightings: Sequence[Any], text_kw: dict[str, Any]) -> None:
    """Sightings on a printed map (BNG axes): numbered in list order, solid when
    verified, hollow when not. ``sightings`` carry ``lat``, ``lon`` and ``status``."""
    for i, sg in enumerate(sightings, start=1):
        x, y = lonlat_to_bng(sg.lon, sg.lat)
        solid = sg.status == "verified"
        ax.plot([float(x)], [float(y)], marker="o", markersize=7, clip_on=True,
                markerfacecolor="#0072b2" if solid else "white", markeredgecolor="#0072b2",
                markeredgewidth=1.3, linestyle="none")
        ax.text(float(x), float(y), str(i), fontsize=5, color="white" if solid else "#0072b2",
                ha="center", va="center", weight="bold", **text_kw)


def draw_rendezvous(ax: Any, point: Any) -> None:
    """The rendezvous point on a printed map (BNG axes): a black triangle and "RV".
    ``point`` carries ``lat`` and ``lon``; None draws nothing."""
    if point is None:
        return
    x, y = lonlat_to_bng(point.lon, point.lat)
    ax.plot([float(x)], [float(y)], marker="^", markersize=10, markerfacecolor=_RV_COLOUR,
            markeredgecolor="white", markeredgewidth=1.2, clip_on=True, linestyle="none")
    ax.annotate("RV", (float(x), float(y)), xytext=(7, -10), textcoords="offset points",
                fontsize=7, weight="bold", color=_RV_COLOUR, annotation_clip=True,
                parse_math=False,
                bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none", "pad": 0.4})


def _map_png(brief: Any, frame: MapFrame, pack_bng: Sequence[BaseGeometry]) -> bytes:
    """The map image: exactly ``frame``'s paper size at :data:`MAP_DPI`."""
    fig = Figure(figsize=(frame.width_mm / 25.4, frame.height_mm / 25.4), dpi=MAP_DPI)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(frame.x0, frame.x1)
    ax.set_ylim(frame.y0, frame.y1)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.add_patch(Rectangle((frame.x0, frame.y0), frame.x1 - frame.x0,
                               frame.y1 - frame.y0, facecolor="#fbfaf7", edgecolor="none"))
    box = shapely.box(frame.x0, frame.y0, frame.x1, frame.y1)
    text_kw: dict[str, Any] = {"parse_math": False, "clip_on": True}
    # place names go where no sector is, so they never sit under a sector's label
    covered = shapely.union_all([*pack_bng, *(geoms_to_bng(n.geometry) for n in brief.neighbours)])
    # background: wards (faint dotted), boroughs (grey), names at a point inside the frame
    for layer, geom, name in _background(frame):
        ward = layer == "ward"
        for patch in _patches(geom, facecolor="none", edgecolor="#9a9a9a" if ward else "#6d6d6d",
                              linewidth=0.4 if ward else 1.1, linestyle=":" if ward else "-"):
            ax.add_patch(patch)
        part = geom.intersection(box).difference(covered)
        if not part.is_empty and part.area > 0.02 * box.area:
            p = part.representative_point()
            ax.text(p.x, p.y, pdf_text(name, 40), fontsize=5 if ward else 6.5,
                    color="#8a8a8a" if ward else "#5a5a5a", ha="center",
                    va="top" if ward else "bottom",
                    style="italic" if ward else "normal", **text_kw)
    # the grid
    step = frame.grid_m
    for x in np.arange(math.ceil(frame.x0 / step) * step, frame.x1, step):
        ax.axvline(x, color="#1f5fa8", linewidth=0.35, alpha=0.7)
    for y in np.arange(math.ceil(frame.y0 / step) * step, frame.y1, step):
        ax.axhline(y, color="#1f5fa8", linewidth=0.35, alpha=0.7)
    # hazards: red hatched, heavy outline
    for hz in brief.hazards:
        geom = geoms_to_bng(hz.geometry)
        for patch in _patches(geom, facecolor="none", edgecolor=_HAZARD_COLOUR, hatch="////",
                              linewidth=1.6):
            ax.add_patch(patch)
        p = _label_point(geom, box)
        if p is None:
            continue
        ax.text(p.x, p.y, f"HAZARD: {HAZARD_LABELS.get(hz.kind, 'hazard')}", fontsize=6,
                color=_HAZARD_COLOUR, weight="bold", ha="center", va="center",
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6}, **text_kw)
    # neighbours: their status's colour and outline pattern, "S4 · searched"
    for nb in brief.neighbours:
        entry = sector_statuses.STATUSES.get(nb.status)
        colour = entry.colour if entry else "#555555"
        geom = geoms_to_bng(nb.geometry)
        for patch in _patches(geom, facecolor=colour, alpha=(entry.fill_opacity if entry else 0.1),
                              edgecolor="none"):
            ax.add_patch(patch)
        for patch in _patches(geom, facecolor="none", edgecolor=colour, linewidth=1.0,
                              linestyle=_dash(entry.dash if entry else "")):
            ax.add_patch(patch)
        p = _label_point(geom, box)
        if p is None:
            continue
        ax.text(p.x, p.y, f"{pdf_text(nb.code, 12)} · {_status(nb.status)}", fontsize=6,
                color="#222222", ha="center", va="center",
                bbox={"facecolor": "white", "alpha": 0.75, "edgecolor": "none", "pad": 0.5},
                **text_kw)
    # the pack's own sectors: heavy black outline, light fill, bold code and status
    lkl_x, lkl_y = lonlat_to_bng(brief.last_known.lon, brief.last_known.lat)
    lkl_ring = shapely.Point(float(lkl_x), float(lkl_y)).buffer(frame.scale * 0.012)
    for s, geom in zip(brief.sectors, pack_bng, strict=True):
        for patch in _patches(geom, facecolor="#ffd84d", alpha=0.18, edgecolor="none"):
            ax.add_patch(patch)
        for patch in _patches(geom, facecolor="none", edgecolor=_PACK_COLOUR, linewidth=2.4):
            ax.add_patch(patch)
        # the label keeps clear of the last-known location's ring (12 mm on paper)
        p = _middle(geom.difference(lkl_ring), box, frame.scale) or _label_point(geom, box)
        if p is None:
            continue
        ax.text(p.x, p.y, f"{pdf_text(s.code, 12)}\n{_status(s.status)}", fontsize=9,
                weight="bold", ha="center", va="center", color="black", linespacing=1.1,
                bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "black", "pad": 1.5},
                **text_kw)
    draw_sightings(ax, brief.sightings, text_kw)
    # the last-known location: a crimson ring and "LKL"
    lkl = brief.last_known
    x, y = lonlat_to_bng(lkl.lon, lkl.lat)
    ax.plot([float(x)], [float(y)], marker="o", markersize=13, markerfacecolor="none",
            markeredgecolor=_LKL_COLOUR, markeredgewidth=2.2, clip_on=True, linestyle="none")
    ax.annotate("LKL", (float(x), float(y)), xytext=(8, 6), textcoords="offset points",
                fontsize=7, weight="bold", color=_LKL_COLOUR, annotation_clip=True,
                parse_math=False)
    draw_rendezvous(ax, getattr(brief, "rendezvous", None))
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=MAP_DPI)
    return buf.getvalue()


# ---------------------------------------------------------------------- the PDF


class _Sheet(FPDF):
    """A4 with the marking at the top and bottom of every page and a footer line."""

    footer_text = ""

    def multi_cell(self, *args: Any, **kwargs: Any) -> Any:
        """Left-aligned unless told otherwise (justified text spreads short lines)."""
        kwargs.setdefault("align", "L")
        return super().multi_cell(*args, **kwargs)

    def header(self) -> None:
        self.set_font("DejaVu", "B", 9)
        self.set_text_color(0, 0, 0)
        self.set_xy(self.l_margin, 4)
        self.cell(self.epw, 4, MARKING, align="C")
        self.set_y(self.t_margin)

    def footer(self) -> None:
        self.set_y(-11)
        self.set_font("DejaVu", "", 6.5)
        self.set_text_color(60, 60, 60)
        self.cell(self.epw, 3.5, f"{self.footer_text} · page {self.page_no()}", align="C")
        self.set_xy(self.l_margin, -7)
        self.set_font("DejaVu", "B", 9)
        self.set_text_color(0, 0, 0)
        self.cell(self.epw, 4, MARKING, align="C")


def _new_sheet(orientation: str) -> _Sheet:
    pdf = _Sheet(orientation="L" if orientation == "landscape" else "P", unit="mm", format="A4")
    pdf.str_alias_nb_pages = ""  # a string "{nb}" in a description stays as typed
    pdf.add_font("DejaVu", "", str(_FONTS / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(_FONTS / "DejaVuSans-Bold.ttf"))
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(True, margin=14)
    pdf.set_title("Briefing pack")
    pdf.set_creator("Wayhome")
    return pdf


def _heading(pdf: FPDF, text: str, size: float = 9.5) -> None:
    pdf.set_font("DejaVu", "B", size)
    pdf.set_text_color(0, 0, 0)
    pdf.cell(0, 5, text, new_x="LMARGIN", new_y="NEXT")


def _field(pdf: FPDF, x: float, w: float, label: str, value: str, *, lines: int = 1) -> None:
    """``label: value`` in a column at ``x`` of width ``w``; an empty value leaves
    ``lines`` ruled lines to write on."""
    pdf.set_x(x)
    pdf.set_font("DejaVu", "B", 7.5)
    lw = pdf.get_string_width(label + " ") + 1
    pdf.cell(lw, 4.2, label)
    pdf.set_font("DejaVu", "", 7.5)
    if value:
        pdf.multi_cell(w - lw, 4.2, value, new_x="LMARGIN", new_y="NEXT")
        return
    y = pdf.get_y() + 3.6
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.15)
    pdf.line(x + lw, y, x + w, y)
    for i in range(1, lines):
        pdf.line(x, y + 4.6 * i, x + w, y + 4.6 * i)
    pdf.set_y(y + 4.6 * (lines - 1) + 1.2)


def _grid_labels(pdf: FPDF, frame: MapFrame, left: float, top: float) -> list[str]:
    """Grid figures along the frame (hundreds of metres within the 100 km square):
    eastings above and below, northings left and right. Returns the labels."""
    pdf.set_font("DejaVu", "", 5.5)
    pdf.set_text_color(31, 95, 168)
    step = frame.grid_m
    squares = {format_grid_reference(x, y, 2)[:2] for x in (frame.x0, frame.x1 - 1)
               for y in (frame.y0, frame.y1 - 1)}
    many = len(squares) > 1
    labels = []
    for x in np.arange(math.ceil(frame.x0 / step) * step, frame.x1, step):
        ref = format_grid_reference(float(x), frame.y0 + 1, 6)
        text = (ref[:2] + " " if many else "") + ref[3:6]
        px, _ = frame.paper(float(x), frame.y1)
        for y in (top - 3, top + frame.height_mm + 0.3):
            pdf.set_xy(left + px - 5, y)
            pdf.cell(10, 2.7, text, align="C")
        labels.append(text)
    for y in np.arange(math.ceil(frame.y0 / step) * step, frame.y1, step):
        ref = format_grid_reference(frame.x0 + 1, float(y), 6)
        text = (ref[:2] + " " if many else "") + ref[7:10]
        _, py = frame.paper(frame.x0, float(y))
        for x in (left - 6.2, left + frame.width_mm + 0.4):
            pdf.set_xy(x, top + py - 1.35)
            pdf.cell(5.8, 2.7, text, align="C")
        labels.append(text)
    pdf.set_text_color(0, 0, 0)
    return labels


def _scale_bar(pdf: FPDF, frame: MapFrame, x: float, y: float) -> None:
    """A scale bar of a round length near 40 mm, and the scale in words."""
    target_m = 40 / 1000 * frame.scale
    nice = max(v for v in (25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000)
               if v <= target_m) if target_m >= 25 else 25
    length = nice / frame.scale * 1000
    pdf.set_draw_color(0, 0, 0)
    pdf.set_fill_color(0, 0, 0)
    pdf.set_line_width(0.3)
    pdf.rect(x, y, length / 2, 1.4, style="F")
    pdf.rect(x + length / 2, y, length / 2, 1.4, style="D")
    pdf.set_font("DejaVu", "", 6)
    for frac in (0, 0.5, 1):
        m = nice * frac
        pdf.set_xy(x + length * frac - 6, y + 1.6)
        pdf.cell(12, 2.6, f"{m:g} m" if frac == 1 else f"{m:g}", align="C")
    pdf.set_font("DejaVu", "B", 7.5)
    pdf.set_xy(x + length + 4, y - 0.6)
    pdf.cell(70, 3.5, f"Scale 1:{frame.scale:,} on A4 (print at 100 %, not fit to page)")
    pdf.set_xy(x + length + 4, y + 2.6)
    pdf.set_font("DejaVu", "", 6.5)
    pdf.cell(80, 3, f"↑ Grid north · grid lines every {frame.grid_m:,} m (British National Grid)")


def _key(pdf: FPDF, x: float, y: float, w: float) -> None:
    pdf.set_xy(x, y)
    pdf.set_font("DejaVu", "", 6.3)
    pdf.multi_cell(
        w, 3, "Key: heavy black outline, yellow fill = this pack's sector(s) · coloured = "
        "neighbouring sectors with their status · red hatching = HAZARD / no-go · crimson ring "
        "= last-known location (LKL) · black triangle = rendezvous point (RV) · blue numbered "
        "dots = sightings (solid verified, hollow unverified) · grey lines = borough (solid) "
        "and ward (dotted) boundaries.",
        new_x="LMARGIN", new_y="NEXT")


def _qr_block(pdf: FPDF, brief: Any, link_url: str | None, x: float, y: float,
              size: float) -> None:
    link = brief.link
    pdf.set_draw_color(0, 0, 0)
    if link is None or not link_url:
        pdf.rect(x, y, size, size)
        pdf.set_xy(x + 2, y + size / 2 - 4)
        pdf.set_font("DejaVu", "", 6.5)
        words = ("No team yet, so no team link: assign the sector to a team and print "
                 "again." if link is None else "No QR code: the app's address was not given.")
        pdf.multi_cell(size - 4, 3, words, align="C")
        return
    qr = segno.make(link_url, error="m")
    buf = io.BytesIO()
    qr.save(buf, kind="png", scale=8, border=2)
    buf.seek(0)
    pdf.image(buf, x=x, y=y, w=size, h=size)


def render_briefing(
    brief: Any,
    *,
    link_url: str | None,
    rendezvous: str = "",
    radio: str = "",
    time_box: str = "",
) -> bytes:
    """The pack as PDF bytes (A4, ``brief.orientation``). ``link_url`` is the address
    the QR code opens (the pack's own link; None: no code). ``rendezvous`` (words
    that override the stored point's description), ``radio`` and ``time_box`` fill
    those fields; left empty (and no point stored) they are lines to write on.
    """
    pdf = _new_sheet(brief.orientation)
    _draw_briefing(pdf, brief, link_url=link_url, rendezvous=rendezvous, radio=radio,
                   time_box=time_box)
    return bytes(pdf.output())


def render_period_pack(
    pack: Any,
    *,
    link_urls: Sequence[str | None],
    rendezvous: str = "",
    radio: str = "",
) -> bytes:
    """One operational period's pack as PDF bytes: a cover sheet (the case, the period,
    the teams with their sectors and status, the rendezvous point) and then every
    tasked sector's sheet as :func:`render_briefing` draws it. ``link_urls`` is the
    QR address of each sheet's own link, in ``pack.sheets`` order."""
    pdf = _new_sheet(pack.orientation)
    _cover(pdf, pack, rendezvous=rendezvous)
    for brief, url in zip(pack.sheets, link_urls, strict=True):
        _draw_briefing(pdf, brief, link_url=url, rendezvous=rendezvous, radio=radio,
                       time_box="")
    return bytes(pdf.output())


def _cover(pdf: _Sheet, pack: Any, *, rendezvous: str) -> None:
    """The period pack's first page: what the period is, who works where, where to meet."""
    ref = pdf_text(pack.reference, 40)
    pdf.add_page()
    pdf.footer_text = f"Operational period pack {ref} · period {pack.period}"
    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(0, 8, f"Operational period pack · {ref}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 11)
    pdf.cell(0, 6, f"Period {pack.period}: {_when(pack.starts)} to {_when(pack.ends)}",
             new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(
        0, 4, f"Printed {_when(pack.printed_at)} by {pdf_text(pack.printed_by, 80)}. "
        f"{len(pack.sheets)} sector sheet(s) follow, one per tasked sector; each sheet's "
        "QR code is a team-lead link of its own that works until this period ends and can "
        "be revoked on its own.", new_x="LMARGIN", new_y="NEXT")
    if pack.case_status != "open":
        pdf.set_font("DejaVu", "B", 11)
        pdf.set_text_color(176, 0, 58)
        pdf.cell(0, 6, f"CASE {pdf_text(pack.case_status, 20).upper()} — STAND DOWN",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    pdf.ln(2)
    _heading(pdf, "Rendezvous point", 11)
    pdf.set_font("DejaVu", "", 9)
    words = rendezvous_words(pack.rendezvous, rendezvous)
    if words:
        pdf.multi_cell(0, 4.6, words, new_x="LMARGIN", new_y="NEXT")
    else:
        _field(pdf, pdf.l_margin, pdf.epw, "Not set:", "", lines=1)
    pdf.ln(3)
    rows = []
    for team in pack.teams:
        codes = ", ".join(f"{pdf_text(c, 12)} ({_status(st)})" for c, st in team.sectors)
        rows.append([pdf_text(team.name, 60), codes or "no tasked sector this period"])
    _table(pdf, "Teams and their sectors (status when printed)", ["Team", "Sectors"], rows,
           (60, pdf.epw - 60), "No teams yet.")
    pdf.set_font("DejaVu", "", 7.5)
    pdf.multi_cell(
        0, 3.6, "Contacts, the child's home address and who reported a sighting are never "
        "printed. Hand each sheet to its team; destroy sheets at the end of the period.",
        new_x="LMARGIN", new_y="NEXT")


def rendezvous_words(point: Any, override: str) -> str:
    """The rendezvous point as printed: the words (``override`` before the stored
    description) and the stored point's grid reference; "" when there is neither."""
    words = pdf_text(override, 200) or (pdf_text(point.text(), 200) if point else "")
    if point is None:
        return words
    return f"{words} · {_grid_ref(point.lat, point.lon)}" if words else _grid_ref(
        point.lat, point.lon)


def _draw_briefing(pdf: _Sheet, brief: Any, *, link_url: str | None, rendezvous: str,
                   radio: str, time_box: str) -> None:
    """One pack's pages (map sheet, then the tables) added to ``pdf``."""
    landscape = brief.orientation == "landscape"
    ref = pdf_text(brief.reference, 40)
    team = pdf_text(brief.team_name, 60) if brief.team_name else "no team yet"
    team_words = _team_words(brief.team_name)
    codes = ", ".join(pdf_text(s.code, 12) for s in brief.sectors)
    what = (f"Sector {codes}" if brief.kind == "sector"
            else team_words[0].upper() + team_words[1:] + ": "
            + (f"sectors {codes}" if codes else "no sectors"))
    pdf.add_page()
    first_page = pdf.page_no()
    # set after the page is added: the previous sheet's last footer is drawn by add_page
    pdf.footer_text = f"Briefing pack {ref} · {what}"[:160]
    # ---- title
    pdf.set_font("DejaVu", "B", 13)
    pdf.cell(0, 6.5, f"Briefing pack · {ref} · {what}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 7.5)
    link = brief.link
    link_words = (f"Link {link.link.id} (team lead, {team}) works until "
                  f"{_when(link.link.expires_at)}" if link else "No link: no team")
    pdf.multi_cell(
        0, 3.8,
        f"Team: {team} · printed {_when(brief.printed_at)} by "
        f"{pdf_text(brief.printed_by, 80)} · operational period ends "
        f"{_when(brief.period_ends)} · {link_words}",
        new_x="LMARGIN", new_y="NEXT")
    if brief.case_status != "open":
        pdf.set_font("DejaVu", "B", 10)
        pdf.set_text_color(176, 0, 58)
        pdf.cell(0, 5, f"CASE {pdf_text(brief.case_status, 20).upper()} — STAND DOWN",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.set_text_color(0, 0, 0)
    if brief.kind == "team" and not brief.sectors:
        pdf.set_font("DejaVu", "B", 9)
        pdf.cell(0, 5, f"No sectors are assigned to {team_words} yet: ask the coordinator.",
                 new_x="LMARGIN", new_y="NEXT")
    # ---- the map
    pack_bng = [geoms_to_bng(s.geometry) for s in brief.sectors]
    lkl_x, lkl_y = lonlat_to_bng(brief.last_known.lon, brief.last_known.lat)
    rv = getattr(brief, "rendezvous", None)
    if pack_bng:
        ground = shapely.union_all(pack_bng)
        near = [g for g in (*(geoms_to_bng(h.geometry) for h in brief.hazards),
                            shapely.Point(float(lkl_x), float(lkl_y)))
                if g.distance(ground) <= NEAR_M]
        if rv is not None:
            rv_x, rv_y = lonlat_to_bng(rv.lon, rv.lat)
            rv_point = shapely.Point(float(rv_x), float(rv_y))
            if rv_point.distance(ground) <= RV_NEAR_M:
                near.append(rv_point)
        bounds = shapely.union_all([ground, *near]).bounds
    else:
        bounds = (float(lkl_x) - 300, float(lkl_y) - 300, float(lkl_x) + 300, float(lkl_y) + 300)
    map_w, map_h = (165.0, 128.0) if landscape else (182.0, 132.0)
    left, top = 16.0, pdf.get_y() + 4
    frame = choose_frame(bounds, map_w, map_h)
    pdf.image(io.BytesIO(_map_png(brief, frame, pack_bng)), x=left, y=top, w=map_w, h=map_h)
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.4)
    pdf.rect(left, top, map_w, map_h)
    _grid_labels(pdf, frame, left, top)
    _scale_bar(pdf, frame, left, top + map_h + 4.5)
    _key(pdf, left, top + map_h + 9.5, map_w)
    # ---- task, child, photo, QR
    if landscape:
        col_x, col_w, y0 = left + map_w + 9, 297 - (left + map_w + 9) - 10, top
    else:
        col_x, col_w, y0 = 10.0, 124.0, pdf.get_y() + 2
    pdf.set_xy(col_x, y0)
    _task(pdf, brief, col_x, col_w, rendezvous=rendezvous, radio=radio, time_box=time_box)
    if landscape:
        qr_x, qr_y, qr_size = col_x, pdf.get_y() + 2, 38.0
        pdf.set_xy(col_x + qr_size + 3, qr_y)
        _qr_words(pdf, brief, link_url, col_x + qr_size + 3, col_w - qr_size - 3)
        _qr_block(pdf, brief, link_url, qr_x, qr_y, qr_size)
        pdf.set_xy(col_x, max(pdf.get_y(), qr_y + qr_size) + 2)
        _child(pdf, brief, col_x, col_w)
    else:
        after_task = pdf.get_y()
        qr_x, qr_size = 10 + col_w + 6, 36.0
        _qr_block(pdf, brief, link_url, qr_x, y0, qr_size)
        pdf.set_xy(qr_x, y0 + qr_size + 1)
        _qr_words(pdf, brief, link_url, qr_x, 210 - 10 - qr_x)
        pdf.set_xy(10, max(after_task, pdf.get_y()) + 1)
        _child(pdf, brief, 10, 190)
    # ---- page 2 on: the tables (after the child's block if that moved to page 2)
    if pdf.page_no() == first_page:
        pdf.add_page()
    else:
        pdf.ln(3)
    _tables(pdf, brief, frame)


def _qr_words(pdf: FPDF, brief: Any, link_url: str | None, x: float, w: float) -> None:
    pdf.set_font("DejaVu", "", 6.5)
    link = brief.link
    if link is None or not link_url:
        return
    pdf.set_x(x)
    pdf.multi_cell(
        w, 3, f"Scan for the team's live page (team lead link {link.link.id}, "
        f"{pdf_text(link.link.label, 120)}). Works until {_when(link.link.expires_at)}; "
        "revoke it on its own if this sheet is lost.", new_x="LEFT", new_y="NEXT")
    pdf.set_x(x)
    pdf.set_font("DejaVu", "", 4.5)
    pdf.multi_cell(w, 2.2, link_url, new_x="LEFT", new_y="NEXT")


def _task(pdf: FPDF, brief: Any, x: float, w: float, *, rendezvous: str, radio: str,
          time_box: str) -> None:
    _heading(pdf, "Task")
    pdf.set_x(x)
    types = sorted({s.search_type for s in brief.sectors if s.search_type})
    assurance = sorted({s.assurance for s in brief.sectors if s.assurance})
    sweep_words, sweep_m, sweep_status = brief.sweep
    _field(pdf, x, w, "Search type:", ", ".join(_word(t) for t in types)
           or "as briefed (hasty / thorough / specialist / property)")
    _field(pdf, x, w, "Assurance wanted:", ", ".join(_word(a) for a in assurance))
    _field(pdf, x, w, "Sweep spacing:",
           f"about {sweep_m:g} m between searchers ({pdf_text(sweep_words, 80)}; "
           f"{pdf_text(sweep_status, 40)})")
    _field(pdf, x, w, "Time box:", pdf_text(time_box, 120) or
           f"report back by ______ (operational period ends {_short_when(brief.period_ends)})")
    _field(pdf, x, w, "Rendezvous point:",
           rendezvous_words(getattr(brief, "rendezvous", None), rendezvous), lines=1)
    _field(pdf, x, w, "Radio / phone:", pdf_text(radio, 200), lines=2)


def _count_lines(pdf: FPDF, w: float, text: str) -> int:
    """How many lines ``text`` takes in a column ``w`` mm wide in the current font."""
    lines = pdf.multi_cell(w, 4, text, dry_run=True, output="LINES")
    return len(lines) if isinstance(lines, list) else 1


def _child(pdf: FPDF, brief: Any, x: float, w: float) -> None:
    """Who to look for, beside an empty box for a printed photo; kept together on one
    page (a new page when the rest of this one is too short)."""
    photo_w, photo_h = 32.0, 40.0
    tw = w - photo_w - 4
    age = f", {brief.age}" if brief.age is not None else ""
    name = (f"{pdf_text(brief.child_name, 80)}{age} · missing since "
            f"{_when(brief.reported_missing_at)}")
    words = pdf_text(brief.description, 700, lines=True) or "No description recorded."
    lkl = brief.last_known
    where = "IPP" if lkl.kind == "ipp" else "verified sighting"
    last = (f"Last known: {_grid_ref(lkl.lat, lkl.lon)} ({where}"
            + (f", {_when(lkl.at)}" if lkl.at else "") + ")")
    pdf.set_font("DejaVu", "B", 8)
    n_name, n_last = _count_lines(pdf, tw, name), _count_lines(pdf, tw, last)
    pdf.set_font("DejaVu", "", 7.5)
    n_words = _count_lines(pdf, tw, words)
    need = max(5 + 4 * n_name + 3.8 * (n_words + n_last), photo_h + 6)
    if pdf.get_y() + need > pdf.h - 16:
        pdf.add_page()
    y = pdf.get_y()
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.3)
    px = x + w - photo_w
    pdf.rect(px, y + 1, photo_w, photo_h)
    pdf.set_font("DejaVu", "", 6)
    pdf.set_xy(px + 1, y + photo_h / 2 - 3)
    pdf.multi_cell(photo_w - 2, 2.8, "Photo: attach a printed photo here (none is stored)",
                   align="C")
    pdf.set_xy(x, y)
    _heading(pdf, "Who we are looking for")
    pdf.set_x(x)
    pdf.set_font("DejaVu", "B", 8)
    pdf.multi_cell(tw, 4, name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(x)
    pdf.set_font("DejaVu", "", 7.5)
    pdf.multi_cell(tw, 3.8, words, new_x="LMARGIN", new_y="NEXT")
    pdf.set_x(x)
    pdf.set_font("DejaVu", "B", 7.5)
    pdf.multi_cell(tw, 3.8, last, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(x, max(pdf.get_y(), y + photo_h + 2))


def _table(pdf: FPDF, title: str, head: Sequence[str], rows: Sequence[Sequence[str]],
           widths: Sequence[float], empty: str) -> None:
    if pdf.get_y() > pdf.h - 40:
        pdf.add_page()
    _heading(pdf, title)
    if not rows:
        pdf.set_font("DejaVu", "", 7.5)
        pdf.cell(0, 4.5, empty, new_x="LMARGIN", new_y="NEXT")
        pdf.ln(2)
        return
    shown = list(rows[:MAX_ROWS])
    pdf.set_font("DejaVu", "", 7)
    with pdf.table(col_widths=tuple(widths), text_align="LEFT", line_height=3.6,
                   first_row_as_headings=True, padding=0.8) as table:
        table.row(list(head))
        for r in shown:
            table.row([str(c) for c in r])
    if len(rows) > MAX_ROWS:
        pdf.set_font("DejaVu", "", 7)
        pdf.cell(0, 4, f"… and {len(rows) - MAX_ROWS} more (see the app).",
                 new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2.5)


def _task_row(task: Any) -> list[str]:
    """One open enquiry task: a visit to a person's address says where to find it (the
    team lead's phone), never the address itself."""
    if task.personal:
        what = "Address on the team lead's phone (personal data)"
    else:
        where = " · ".join(p for p in (
            pdf_text(task.street, 100) + (f" ({task.side} numbers)" if task.street and
                                          task.side in ("odd", "even") else ""),
            f"route {pdf_text(task.route, 40)}" if task.route else "") if p)
        what = pdf_text(task.title, 200) + (f" — {where}" if where else "")
    grid = _grid_ref(task.point[1], task.point[0], 8) if task.point is not None else "—"
    window = ""
    if task.window_start is not None or task.window_end is not None:
        window = f"{_short_when(task.window_start)}–{_short_when(task.window_end)}"
    return [pdf_text(task.code, 8), pdf_text(task.kind_label, 60),
            pdf_text(task.status_label, 30), what or "—", grid, window or "—"]


def _tables(pdf: FPDF, brief: Any, frame: MapFrame) -> None:
    sectors = []
    for s in brief.sectors:
        geom = geoms_to_bng(s.geometry)
        sectors.append([
            pdf_text(s.code, 12), pdf_text(s.name, 80) or "—", _status(s.status),
            _grid_ref_of(geom), f"{s.area_m2 / 10_000:,.2f} ha", _word(s.search_type),
            pdf_text(s.notes, 300) or "—",
        ])
    _table(pdf, "Sectors in this pack (grid reference of a point inside each)",
           ["Sector", "Name", "Status", "Grid ref", "Area", "Search type", "Notes"], sectors,
           (12, 34, 18, 28, 16, 18, 64), "No sectors are assigned to this team yet.")
    neighbours = [[pdf_text(n.code, 12), _status(n.status), _grid_ref_of(geoms_to_bng(n.geometry))]
                  for n in brief.neighbours]
    _table(pdf, "Neighbouring sectors and their status", ["Sector", "Status", "Grid ref"],
           neighbours, (25, 45, 45), "No other sector is near.")
    hazards = []
    for h in brief.hazards:
        geom = geoms_to_bng(h.geometry)
        hazards.append([HAZARD_LABELS.get(h.kind, "hazard"), _grid_ref_of(geom),
                        pdf_text(h.note, 300) or "—"])
    _table(pdf, "Hazard and no-go areas (every team is shown all of them)",
           ["Kind", "Grid ref", "Note"], hazards, (30, 32, 128), "No hazard areas recorded.")
    lkl = brief.last_known
    sightings = [["LKL", _grid_ref(lkl.lat, lkl.lon), _when(lkl.at),
                  "IPP" if lkl.kind == "ipp" else "verified", "last-known location"]]
    for i, sg in enumerate(brief.sightings, start=1):
        sightings.append([str(i), _grid_ref(sg.lat, sg.lon), _when(sg.seen_at),
                          f"{_word(sg.status)}, {_word(sg.confidence)} confidence",
                          pdf_text(sg.description, 300) or "—"])
    _table(pdf, "Last-known location and the sightings shared with teams",
           ["#", "Grid ref", "Seen", "Status", "What was seen"], sightings,
           (10, 30, 38, 36, 76), "")
    passes = [[pdf_text(p.sector_code, 12), pdf_text(p.team_name, 60) if p.team_name else "—",
               _short_when(p.started_at), _short_when(p.ended_at) if p.state == "closed"
               else "in progress", _word(p.search_type), _word(p.assurance),
               f"{p.pod:.0%} ({_word(p.basis)})"]
              for p in brief.passes]
    _table(pdf, "Earlier searches of this ground (who, when, how, POD)",
           ["Sector", "Team", "Started", "Ended", "Search type", "Assurance", "POD"], passes,
           (16, 36, 26, 26, 26, 26, 34), "No earlier search of this ground is recorded.")
    _table(pdf, "Enquiry tasks of this team still to do",
           ["Task", "Type", "Status", "What / where", "Grid ref", "Time window"],
           [_task_row(x) for x in getattr(brief, "tasks", ())], (12, 34, 20, 72, 28, 24),
           "No open enquiry task for this team.")
    pdf.set_font("DejaVu", "", 6.5)
    pdf.multi_cell(
        0, 3.2, f"Map: scale 1:{frame.scale:,}, British National Grid; boundaries © Crown "
        "copyright and database right (OS, ONS, GLA), Open Government Licence v3.0. POD is "
        "decision support, not a prediction. Grid references are 8 or 10 figures; drop figures "
        "from the end of each half for a shorter one.", new_x="LMARGIN", new_y="NEXT")
