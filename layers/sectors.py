"""Search sectors, hazard areas and overlap warnings as map layers.

How a coordinator reads the sector map:

* each **sector** is drawn in its status's colour from the Okabe–Ito palette
  (distinguishable with the common colour-vision deficiencies) *and* with its
  own outline pattern and fill strength, and — from zoom :data:`LABEL_ZOOM` —
  a label with its ID and status, so colour is never the only cue;
* a sector that **straddles** a BCU or force boundary has a second, wide
  dotted black outline and says so in its label and details;
* **hazard / no-go areas** are red-hatched with a heavy outline and a
  "HAZARD" label, on every role's map;
* a shape waiting to be saved is a dark dashed outline with a yellow fill, and
  the sectors it overlaps are ringed in heavy vermilion.

Clicking a sector opens its details; streamlit-folium also returns the clicked
feature (``last_active_drawing``) with its ``sid`` property, the sector's id,
which the page uses to show the sector's actions.

Everything is a folium ``FeatureGroup`` for ``st_folium(feature_group_to_add=…)``,
so the base map stays mounted. The geometry goes to the browser once, as
GeoJSON inside one script (coordinates rounded to 1e-6°, about 0.1 m); from
:data:`CANVAS_FROM` sectors on they are drawn on a canvas, which keeps a map of
thousands of sectors responsive. Every piece of text is escaped with
:func:`layers.escape.safe_text`; only the status *keys* choose styles, and an
unknown status gets a neutral style.

Coordinates are lon/lat (EPSG:4326). No database, no Streamlit: the builders
take any objects with the attributes of ``casefile``'s Sector / Hazard records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import folium
import numpy as np
import shapely
from branca.element import MacroElement
from folium.elements import JSCSSMixin
from jinja2 import Template
from shapely.geometry import mapping
from shapely.geometry.base import BaseGeometry

from layers.escape import safe_text
from vocab import london_time, sector_statuses
from vocab.london_time import LONDON
from vocab.search import HAZARD_LABELS, VOLUNTEER_ORIGIN

__all__ = [
    "CANDIDATE_STYLE",
    "CANVAS_FROM",
    "HAZARD_STYLE",
    "LABEL_ZOOM",
    "LIVE_LAYERS_SCRIPT",
    "SECTOR_STYLES",
    "STRADDLE_STYLE",
    "VOLUNTEER_STYLE",
    "LiveLayerSupport",
    "NeighbourLike",
    "SectorStyle",
    "candidate_layer",
    "details_html",
    "hazards_layer",
    "live_neighbours_layer",
    "live_sectors_layer",
    "neighbour_features",
    "neighbours_layer",
    "preview_layer",
    "sector_changes",
    "sector_details",
    "sector_features",
    "sector_label",
    "sector_legend_html",
    "sector_popup",
    "sector_styles",
    "sectors_layer",
    "status_style",
]


#: Labels (ID + status) appear from this zoom on (about 1.5 km across a phone screen).
LABEL_ZOOM = 14
#: At most this many labels at once (the ones in view); popups still work for all.
MAX_LABELS = 400
#: Which labels win where they would cover each other (lower first): a warning's, a
#: hazard's, then a sighting's time and the last-known location (their own permanent
#: labels), then the sector's own, then a neighbouring team's sector's. One map thins
#: all together.
RANK_HAZARD, RANK_SECTOR, RANK_NEIGHBOUR = 0, 1, 2
#: a shape waiting to be saved and the sectors it overlaps: the warning is read first
RANK_WARNING = -1
#: From this many sectors on, draw them on a canvas instead of one SVG path each.
CANVAS_FROM = 400
#: Decimal places kept in lon/lat coordinates sent to the browser (1e-6° ≈ 0.1 m).
COORD_DECIMALS = 6

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DASH = re.compile(r"^[0-9 ]*$")


class SectorLike(Protocol):
    id: int
    code: str
    name: str
    status: str
    geometry: BaseGeometry
    team_id: int | None
    straddles_bcu: bool
    straddles_force: bool


class HazardLike(Protocol):
    id: int
    kind: str
    note: str
    geometry: BaseGeometry


@dataclass(frozen=True)
class SectorStyle:
    """How sectors of one status are drawn, and what the legend says about them.

    ``pattern`` names the non-colour cue in words (legend and tests); ``dash``
    is the SVG/canvas dash pattern of the outline ("" = solid).
    """

    status: str
    label: str  # the status as a coordinator reads it
    colour: str
    dash: str
    weight: float  # outline width, CSS pixels
    fill_opacity: float
    pattern: str

    def __post_init__(self) -> None:
        # these strings reach SVG attributes and Leaflet options: keep them inert
        if not _COLOUR.match(self.colour):
            raise ValueError(f"colour must be #rrggbb, not {self.colour!r}")
        if not _DASH.match(self.dash):
            raise ValueError(f"dash must be numbers and spaces, not {self.dash!r}")

    @property
    def class_name(self) -> str:
        return f"wayhome-sector wayhome-sector-{self.status}"

    def leaflet(self) -> dict[str, Any]:
        opts: dict[str, Any] = {
            "color": self.colour,
            "weight": self.weight,
            "opacity": 1.0,
            "fill": True,
            "fillColor": self.colour,
            "fillOpacity": self.fill_opacity,
            "className": self.class_name,
        }
        if self.dash:
            opts["dashArray"] = self.dash
        return opts


# Okabe & Ito (2008), "Color Universal Design": black #000000, orange #E69F00,
# sky blue #56B4E9, bluish green #009E73, yellow #F0E442, blue #0072B2,
# vermilion #D55E00, reddish purple #CC79A7; plus a neutral grey for drafts.
# Vermilion is kept for hazards and overlap warnings. The status colours and
# patterns live in the status registry (vocab.sector_statuses).


def status_style(entry: sector_statuses.SectorStatus) -> SectorStyle:
    """The map style of one registered sector status."""
    return SectorStyle(entry.name, entry.label, entry.colour, entry.dash, entry.weight,
                       entry.fill_opacity, entry.pattern)


def sector_styles() -> dict[str, SectorStyle]:
    """Status -> style, from the status registry as it is now (legend order)."""
    return {name: status_style(entry) for name, entry in sector_statuses.STATUSES.items()}


#: the styles of the statuses registered when this module was imported
SECTOR_STYLES: dict[str, SectorStyle] = sector_styles()
#: Searched ground reported by a family or volunteers ("we searched here", origin
#: "volunteer"): not checked by a coordinator, so it looks unlike team-searched ground —
#: fine dotted outline and a light fill — and its label and details say so.
VOLUNTEER_STYLE = SectorStyle("volunteer", "searched (family-reported, not checked)",
                              "#009e73", "1 5", 3, 0.15,
                              "fine dotted outline, light fill: family/volunteer-reported")
#: Style of a status this version does not know (never chosen from user text).
#: Ground inside a searched sector that was NOT searched (access refused, locked,
#: unsafe): drawn over the sector in white with a heavy black dashed outline, so the
#: hole reads as unsearched ground on any basemap, and labelled "not searched".
NOT_SEARCHED_STYLE = SectorStyle("not_searched", "not searched inside a searched sector",
                                 "#000000", "6 3", 2.5, 0.0,
                                 "white fill, black dashes: left unsearched")
UNKNOWN_STYLE = SectorStyle("unknown", "unknown status", "#7a7a7a", "1 3", 1.5, 0.05,
                            "fine dots")

#: Second outline under a sector that straddles a BCU or force boundary.
STRADDLE_STYLE: dict[str, Any] = {
    "color": "#000000",
    "weight": 9,
    "opacity": 0.45,
    "dashArray": "1 7",
    "lineCap": "round",
    "fill": False,
    "interactive": False,
    "className": "wayhome-straddles",
}
#: Hazard and no-go areas: vermilion outline, hatched fill (SVG pattern).
HAZARD_STYLE: dict[str, Any] = {
    "color": "#d55e00",
    "weight": 3.5,
    "opacity": 1.0,
    "fill": True,
    "fillColor": "#d55e00",
    "fillOpacity": 0.35,
    "className": "wayhome-hazard",
}
#: A drawn or imported shape not yet saved.
CANDIDATE_STYLE: dict[str, Any] = {
    "color": "#1f2933",
    "weight": 3,
    "opacity": 1.0,
    "dashArray": "6 4",
    "fill": True,
    "fillColor": "#f0e442",
    "fillOpacity": 0.35,
    "className": "wayhome-candidate",
}
#: Ring round each sector the candidate overlaps.
OVERLAP_STYLE: dict[str, Any] = {
    "color": "#d55e00",
    "weight": 6,
    "opacity": 0.95,
    "fill": False,
    "className": "wayhome-overlap",
}

# CSS and SVG pattern put into the map's document once (static text, no user data).
_SHARED_CSS = """
.wayhome-sector-label { background: rgba(255,255,255,0.92); border: 1px solid #52606d;
  border-radius: 3px; padding: 0 4px; font: 600 11px/1.5 system-ui, -apple-system,
  "Segoe UI", Roboto, sans-serif; color: #1f2933; white-space: nowrap; width: auto !important;
  height: auto !important; transform-origin: center; pointer-events: none; }
.wayhome-sector-label .wayhome-straddle-note { font-weight: 400; }
.wayhome-sector-label.wayhome-neighbour-label { background: rgba(255,255,255,0.85);
  border: 1px dashed #7b8794; padding: 0 3px; color: #3e4c59;
  font: 500 10px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.wayhome-hazard-label { background: #fff4ec; border-color: #d55e00; color: #8a2c00; }
path.wayhome-hazard { fill: url(#wayhome-hatch); fill-opacity: 1; }
.wayhome-sector-popup { font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto,
  sans-serif; min-width: 14rem; }
.wayhome-sector-popup table { border-collapse: collapse; }
.wayhome-sector-popup th { text-align: left; padding-right: 8px; font-weight: 600;
  vertical-align: top; }
"""
_HATCH_SVG = (
    '<svg width="0" height="0" style="position:absolute" aria-hidden="true"><defs>'
    '<pattern id="wayhome-hatch" patternUnits="userSpaceOnUse" width="9" height="9" '
    'patternTransform="rotate(45)"><rect width="9" height="9" fill="#d55e00" '
    'fill-opacity="0.12"/><line x1="0" y1="0" x2="0" y2="9" stroke="#d55e00" '
    'stroke-width="3.5"/></pattern></defs></svg>'
)


def _style_of(status: str) -> SectorStyle:
    entry = sector_statuses.get(str(status))
    return status_style(entry) if entry is not None else UNKNOWN_STYLE


def _sector_style(sector: Any) -> SectorStyle:
    """The sector's status style, or :data:`VOLUNTEER_STYLE` for unchecked family searches."""
    if getattr(sector, "origin", None) == VOLUNTEER_ORIGIN and str(sector.status) == "searched":
        return VOLUNTEER_STYLE
    return _style_of(sector.status)


def _london(value: datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(LONDON).strftime(london_time.DAY_CLOCK)


def _rounded(geoms: Sequence[BaseGeometry]) -> list[dict[str, Any] | None]:
    arr = np.array(list(geoms), dtype=object)
    ok = ~shapely.is_missing(arr)
    if ok.any():
        arr[ok] = shapely.set_precision(arr[ok], 10.0 ** -COORD_DECIMALS, mode="pointwise")
    return [mapping(g) if g is not None and not g.is_empty else None for g in arr]


def _label_points(geoms: Sequence[BaseGeometry]) -> list[list[float] | None]:
    """[lat, lon] of a point inside each shape (where its label goes)."""
    arr = np.array(list(geoms), dtype=object)
    out: list[list[float] | None] = [None] * len(arr)
    ok = np.flatnonzero(~shapely.is_missing(arr) & ~shapely.is_empty(arr))
    if len(ok):
        pts = shapely.point_on_surface(arr[ok])
        xy = shapely.get_coordinates(pts)
        for k, (x, y) in zip(ok, xy, strict=True):
            out[k] = [round(float(y), COORD_DECIMALS), round(float(x), COORD_DECIMALS)]
    return out


def _straddle_text(sector: Any) -> str:
    parts = []
    if getattr(sector, "straddles_bcu", False):
        parts.append("BCU")
    if getattr(sector, "straddles_force", False):
        parts.append("force")
    return f"straddles {' and '.join(parts)} boundary" if parts else ""


def sector_label(sector: Any) -> str:
    """The label on the map, as escaped HTML: "S12 · searched", plus a straddle note."""
    style = _sector_style(sector)
    text = f"{safe_text(sector.code)} · {safe_text(style.label)}"
    note = _straddle_text(sector)
    if note:
        text += f' <span class="wayhome-straddle-note">⇄ {safe_text(note)}</span>'
    return text


def _units(sector: Any, layer: str) -> str:
    rows = (getattr(sector, "jurisdiction", None) or {}).get(layer) or []
    parts = []
    for row in rows:
        name = row.get("name") or row.get("code") or ""
        share = row.get("share")
        if share is None:
            parts.append(str(name))
        else:
            parts.append(f"{name} {float(share):.0%}")
    if parts:
        return ", ".join(parts)
    return str(getattr(sector, f"{layer}_code", None) or "")


def sector_details(
    sector: Any, team_names: Mapping[int, str] | None = None
) -> tuple[str, list[list[str]]]:
    """Title and ``[heading, value]`` rows of a sector's details, all escaped HTML text."""
    team_names = team_names or {}
    style = _sector_style(sector)
    rows: list[tuple[str, str]] = [("Status", style.label)]
    team_id = getattr(sector, "team_id", None)
    if team_id is not None:
        rows.append(("Team", team_names.get(team_id, f"team {team_id}")))
    when = [
        ("Assigned", getattr(sector, "assigned_at", None)),
        ("Started", getattr(sector, "started_at", None)),
        ("Searched", getattr(sector, "searched_at", None)),
    ]
    rows += [(k, _london(v)) for k, v in when if v is not None]
    if getattr(sector, "search_type", None):
        rows.append(("Search type", str(sector.search_type)))
    if getattr(sector, "assurance", None):
        rows.append(("Assurance", str(sector.assurance)))
    reason = getattr(sector, "not_searched_reason", "")
    if getattr(sector, "not_searched", None) is not None or reason:
        rows.append(("Not searched", reason or "part"))
    area = getattr(sector, "area_m2", None)
    if area is not None:
        rows.append(("Area", f"{float(area):,.0f} m² ({float(area) / 1e4:,.2f} ha)"))
    if getattr(sector, "priority", None) is not None:
        rows.append(("Priority", f"{int(sector.priority)} (1 = first)"))
    for layer, title in (("borough", "Borough"), ("bcu", "BCU"), ("force", "Force")):
        text = _units(sector, layer)
        if text:
            rows.append((title, text))
    note = _straddle_text(sector)
    if note:
        rows.append(("Boundary", note[0].upper() + note[1:] + ": hand over or agree who searches"))
    name = getattr(sector, "name", "") or ""
    title = safe_text(sector.code) + (f" — {safe_text(name)}" if name else "")
    return title, [[safe_text(k), safe_text(v)] for k, v in rows]


def details_html(title: str, rows: Sequence[Sequence[str]]) -> str:
    """The popup HTML from already-escaped parts (the browser builds the same on click)."""
    body = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<div class="wayhome-sector-popup"><b>{title}</b><table>{body}</table></div>'


def sector_popup(sector: Any, team_names: Mapping[int, str] | None = None) -> str:
    """The details shown when a sector is clicked, as escaped HTML."""
    return details_html(*sector_details(sector, team_names))


class _SectorScript(MacroElement):
    """One script that draws a FeatureCollection into its FeatureGroup.

    ``data`` holds only numbers, booleans, status keys and *escaped* text; it is
    written with ``tojson`` (which also escapes ``<``, ``>`` and ``&``), so no
    value can end the script. Labels are shown from ``label_zoom`` for the
    features in view; map handlers are removed when the group is removed.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function () {
            var group = {{ this._parent.get_name() }};
            if (!document.getElementById("wayhome-sector-css")) {
                var css = document.createElement("style");
                css.id = "wayhome-sector-css";
                css.textContent = {{ this.css|tojson }};
                document.head.appendChild(css);
                var defs = document.createElement("div");
                defs.innerHTML = {{ this.hatch|tojson }};
                document.body.appendChild(defs.firstChild);
            }
            var data = {{ this.data|tojson }};
            var styles = {{ this.styles|tojson }};
            var fallback = {{ this.fallback|tojson }};
            var renderer = {{ "L.canvas({padding: 0.5})" if this.canvas else "L.svg()" }};
            function details(f) {
                var p = f.properties, rows = "";
                for (var i = 0; i < (p.d || []).length; i++) {
                    rows += "<tr><th>" + p.d[i][0] + "</th><td>" + p.d[i][1] + "</td></tr>";
                }
                return '<div class="wayhome-sector-popup"><b>' + p.t + "</b><table>" + rows +
                    "</table></div>";
            }
            {%- if this.under %}
            var under = {{ this.under|tojson }};
            L.geoJSON(data, {
                renderer: renderer,
                filter: function (f) { return !!f.properties.under; },
                style: function () { return under; },
                interactive: false
            }).addTo(group);
            {%- endif %}
            L.geoJSON(data, {
                renderer: renderer,
                interactive: {{ this.interactive|tojson }},
                style: function (f) { return styles[f.properties.style] || fallback; },
                onEachFeature: function (f, layer) {
                    // built on first click from escaped parts: 5,000 sectors ship rows, not HTML
                    if (f.properties.t) { layer.bindPopup(function () { return details(f); },
                                                          {maxWidth: 340}); }
                }
            }).addTo(group);
            var labels = L.layerGroup().addTo(group);
            var minZoom = {{ this.label_zoom|tojson }}, most = {{ this.max_labels|tojson }};
            // thinned across every labelled layer of the map, not only this one: the
            // map keeps one list of label layers (hazards, then sectors, then their
            // neighbours, by rank) and places them in turn into one set of boxes, so a
            // label that would cover one already placed (or a sighting's time) is left
            // off; its popup still works. About 6.5 px a character, 20 px a line.
            function show(map, boxes) {
                labels.clearLayers();
                if (map.getZoom() < minZoom) { return; }
                var view = map.getBounds().pad(0.2), shown = 0;
                for (var i = 0; i < data.features.length && shown < most; i++) {
                    var p = data.features[i].properties;
                    if (!p.lp || !view.contains(p.lp)) { continue; }
                    // the label hangs from its point (top left): its box's centre
                    var at = map.latLngToContainerPoint(p.lp), clash = false;
                    var half = (p.label.replace(/<[^>]*>/g, "").length * 6.5 + 14) / 2;
                    var cx = at.x + half, cy = at.y + 9;
                    for (var j = 0; j < boxes.length && !clash; j++) {
                        clash = Math.abs(boxes[j][0] - cx) < boxes[j][2] + half &&
                                Math.abs(boxes[j][1] - cy) < 20;
                    }
                    if (clash) { continue; }
                    boxes.push([cx, cy, half]);
                    L.marker(p.lp, {
                        interactive: false, keyboard: false,
                        icon: L.divIcon({className: "wayhome-sector-label " + p.lc,
                                         html: p.label, iconSize: null})
                    }).addTo(labels);
                    shown++;
                }
            }
            // the permanent labels other layers put on the map (a sighting's time, the
            // last-known location): sector labels keep off them; hazard labels do not
            function tooltipBoxes(map) {
                // permanent ones only: a hover tooltip comes and goes with the pointer
                var frame = map.getContainer().getBoundingClientRect(), boxes = [];
                map.eachLayer(function (layer) {
                    var tip = layer.getTooltip ? layer.getTooltip() : null;
                    var el = tip && tip.options.permanent && tip.getElement ? tip.getElement()
                                                                             : null;
                    if (!el || !map.hasLayer(tip)) { return; }
                    var r = el.getBoundingClientRect();
                    if (!r.width) { return; }
                    boxes.push([(r.left + r.right) / 2 - frame.left,
                                (r.top + r.bottom) / 2 - frame.top, r.width / 2]);
                });
                return boxes;
            }
            function labelLayers(map) {
                if (!map._wayhomeLabels) {
                    var all = {layers: [], queued: false};
                    all.place = function () {
                        all.queued = false;
                        // warnings and hazards first, then the permanent labels of other
                        // layers, then sectors and their neighbours
                        var boxes = [], seeded = false;
                        all.layers.slice().sort(function (a, b) { return a.rank - b.rank; })
                            .forEach(function (l) {
                                if (!seeded && l.rank >= {{ this.tooltips_before|tojson }}) {
                                    boxes = boxes.concat(tooltipBoxes(map));
                                    seeded = true;
                                }
                                l.show(map, boxes);
                            });
                    };
                    // once per frame: the layers a view sends together are placed together
                    all.redraw = function () {
                        if (all.queued) { return; }
                        all.queued = true;
                        L.Util.requestAnimFrame(all.place);
                    };
                    map._wayhomeLabels = all;
                    map.on("zoomend moveend", all.redraw);
                }
                return map._wayhomeLabels;
            }
            var me = {rank: {{ this.label_rank|tojson }}, show: show}, attached = null;
            group.on("add", function (e) {
                attached = e.target._map;
                if (!attached) { return; }
                var all = labelLayers(attached);
                all.layers.push(me);
                all.redraw();
            });
            group.on("remove", function () {
                if (!attached) { return; }
                var all = labelLayers(attached), at = all.layers.indexOf(me);
                if (at >= 0) { all.layers.splice(at, 1); }
                labels.clearLayers();
                all.redraw();  // the labels this layer held back may fit now
                attached = null;
            });
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        data: dict[str, Any],
        styles: Mapping[str, dict[str, Any]],
        fallback: dict[str, Any],
        *,
        canvas: bool = False,
        under: dict[str, Any] | None = None,
        label_zoom: int = LABEL_ZOOM,
        max_labels: int = MAX_LABELS,
        label_rank: int = RANK_SECTOR,
        interactive: bool = True,
    ) -> None:
        super().__init__()
        self._name = "SectorScript"
        self.label_rank = int(label_rank)
        self.tooltips_before = RANK_SECTOR
        self.interactive = bool(interactive)
        self.data = data
        self.styles = dict(styles)
        self.fallback = fallback
        self.canvas = canvas
        self.under = under
        self.label_zoom = int(label_zoom)
        self.max_labels = int(max_labels)
        self.css = _SHARED_CSS
        self.hatch = _HATCH_SVG


def _collection(features: Iterable[dict[str, Any]]) -> dict[str, Any]:
    return {"type": "FeatureCollection", "features": [f for f in features if f["geometry"]]}


def sector_features(
    sectors: Sequence[SectorLike], team_names: Mapping[int, str] | None = None
) -> list[dict[str, Any]]:
    """The GeoJSON features of the sectors layer, each keyed by ``properties.k``.

    ``k`` is ``s<id>`` for a sector and ``n<id>`` for the part of a searched sector
    left unsearched, so a change can name exactly the features it touches.
    """
    sectors = list(sectors)
    geoms = _rounded([s.geometry for s in sectors])
    points = _label_points([s.geometry for s in sectors])
    features = []
    for s, geom, lp in zip(sectors, geoms, points, strict=True):
        style = _sector_style(s)
        title, rows = sector_details(s, team_names)
        straddles = bool(getattr(s, "straddles_bcu", False) or getattr(s, "straddles_force", False))
        features.append({
            "type": "Feature",
            "geometry": geom,
            "properties": {
                "k": f"s{int(s.id)}",
                "sid": int(s.id),
                "code": safe_text(s.code),
                "style": style.status,
                "under": straddles,
                "label": sector_label(s),
                "lc": "",
                "lp": lp,
                "t": title,
                "d": rows,
            },
        })
    # the part of a searched sector left unsearched, drawn on top of the sector
    # (sector, the part left unsearched): only sectors from the store carry it
    holes = [(s, g) for s in sectors if (g := getattr(s, "not_searched", None)) is not None]
    hole_geoms = _rounded([g for _, g in holes])
    hole_points = _label_points([g for _, g in holes])
    for (s, _), geom, lp in zip(holes, hole_geoms, hole_points, strict=True):
        reason = getattr(s, "not_searched_reason", "") or ""
        features.append({
            "type": "Feature",
            "geometry": geom,
            "properties": {
                "k": f"n{int(s.id)}",
                "sid": int(s.id),
                "code": safe_text(s.code),
                "style": NOT_SEARCHED_STYLE.status,
                "under": False,
                "label": f"{safe_text(s.code)} · not searched",
                "lc": "",
                "lp": lp,
                "t": f"{safe_text(s.code)} — NOT searched inside it",
                "d": [[safe_text("Why"), safe_text(reason)]] if reason else [],
            },
        })
    return [f for f in features if f["geometry"]]


def _sector_layer_styles() -> dict[str, dict[str, Any]]:
    styles = {key: st.leaflet() for key, st in sector_styles().items()}
    styles[VOLUNTEER_STYLE.status] = VOLUNTEER_STYLE.leaflet()
    styles[NOT_SEARCHED_STYLE.status] = {
        **NOT_SEARCHED_STYLE.leaflet(), "fillColor": "#ffffff", "fillOpacity": 0.75}
    return styles


def sectors_layer(
    sectors: Sequence[SectorLike],
    team_names: Mapping[int, str] | None = None,
    *,
    name: str = "Search sectors",
    canvas: bool | None = None,
    label_zoom: int = LABEL_ZOOM,
) -> folium.FeatureGroup:
    """The case's sectors, coloured *and* patterned by status, labelled when zoomed in.

    ``team_names`` maps team ids to names (escaped here). ``canvas`` forces or
    forbids the canvas renderer; by default it is used from :data:`CANVAS_FROM`
    sectors on. Each feature carries ``sid`` (the sector id) so a click can be
    traced back to the sector.
    """
    sectors = list(sectors)
    use_canvas = len(sectors) >= CANVAS_FROM if canvas is None else canvas
    group = folium.FeatureGroup(name=safe_text(name), control=False)
    _SectorScript(
        _collection(sector_features(sectors, team_names)),
        _sector_layer_styles(),
        UNKNOWN_STYLE.leaflet(),
        canvas=use_canvas,
        under=STRADDLE_STYLE,
        label_zoom=label_zoom,
    ).add_to(group)
    return group


class _LiveSectorScript(MacroElement):
    """Hands the features to ``wayhomeLive.draw`` (``static/wayhome-live-layers.js``).

    The same drawing as :class:`_SectorScript`, but kept by id in the map frame,
    so later changes can be applied to it as data. All values go through
    ``tojson`` (``<``, ``>`` and ``&`` escaped): no value can end the script.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.wayhomeLive.draw({{ this._parent.get_name() }}, {{ this.layer|tojson }},
            {{ this.base|tojson }}, {{ this.version|tojson }}, {{ this.data|tojson }},
            {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, layer: str, base: str, version: str, data: dict[str, Any],
                 options: dict[str, Any]) -> None:
        super().__init__()
        self._name = "LiveSectorScript"
        self.layer = layer
        self.base = base
        self.version = version
        self.data = data
        self.options = options


#: the map frame's live-layer script, under the app's static folder
LIVE_LAYERS_SCRIPT = "wayhome-live-layers.js"


class LiveLayerSupport(JSCSSMixin, MacroElement):
    """Loads ``static/wayhome-live-layers.js`` into the map frame (put it on the base map).

    ``static_url`` is the app's static folder URL (``layers.assets.static_url``).
    """

    _template = Template("")

    def __init__(self, static_url: str) -> None:
        super().__init__()
        self._name = "LiveLayerSupport"
        self.default_js = [("wayhome_live_layers", f"{static_url}/{LIVE_LAYERS_SCRIPT}")]
        self.default_css = []


def live_sectors_layer(
    features: Sequence[dict[str, Any]],
    *,
    layer: str,
    base: str,
    version: str,
    name: str = "Search sectors",
    canvas: bool | None = None,
    label_zoom: int = LABEL_ZOOM,
) -> folium.FeatureGroup:
    """The sectors layer drawn by the map frame's live-layer script: full draw ``base``,
    holding the features as at ``version``.

    ``features`` come from :func:`sector_features`. Needs a base map that loads
    ``static/wayhome-live-layers.js``; changes are then sent with :func:`sector_changes`.
    """
    count = sum(1 for f in features if str(f["properties"].get("k", "")).startswith("s"))
    use_canvas = count >= CANVAS_FROM if canvas is None else canvas
    group = folium.FeatureGroup(name=safe_text(name), control=False)
    options = {
        "styles": _sector_layer_styles(),
        "fallback": UNKNOWN_STYLE.leaflet(),
        "under": STRADDLE_STYLE,
        "canvas": use_canvas,
        "label_zoom": int(label_zoom),
        "max_labels": MAX_LABELS,
        # thinned with every other labelled layer of the map (see SectorScript)
        "label_rank": RANK_SECTOR,
        "tooltips_before": RANK_SECTOR,
        "css": _SHARED_CSS,
        "hatch": _HATCH_SVG,
    }
    _LiveSectorScript(layer, base, version, _collection(features), options).add_to(group)
    return group


def sector_changes(
    base: Mapping[str, dict[str, Any]], current: Mapping[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[str]]:
    """What turns the features ``base`` into ``current`` (both keyed by ``properties.k``).

    Returns the features added or changed, and the keys removed.
    """
    upsert = [f for k, f in current.items() if base.get(k) != f]
    removed = [k for k in base if k not in current]
    return upsert, removed


def hazards_layer(
    hazards: Sequence[HazardLike], *, name: str = "Hazard and no-go areas"
) -> folium.FeatureGroup:
    """Hazard / no-go areas: hatched vermilion, labelled "HAZARD: kind" from zoom 13.

    Always drawn with SVG (the hatch is an SVG pattern); there are few of them.
    """
    hazards = list(hazards)
    geoms = _rounded([h.geometry for h in hazards])
    points = _label_points([h.geometry for h in hazards])
    features = []
    for h, geom, lp in zip(hazards, geoms, points, strict=True):
        kind = HAZARD_LABELS.get(str(h.kind), str(h.kind))
        note = getattr(h, "note", "") or ""
        features.append({
            "type": "Feature",
            "geometry": geom,
            "properties": {
                "hid": int(h.id),
                "style": "hazard",
                "under": False,
                "label": f"⚠ HAZARD · {safe_text(kind)}",
                "lc": "wayhome-hazard-label",
                "lp": lp,
                "t": f"HAZARD — {safe_text(kind)}",
                "d": [[safe_text("Note"), safe_text(note)]] if note else [],
            },
        })
    group = folium.FeatureGroup(name=safe_text(name), control=False)
    _SectorScript(
        _collection(features), {"hazard": HAZARD_STYLE}, HAZARD_STYLE, canvas=False,
        label_zoom=13, label_rank=RANK_HAZARD,
    ).add_to(group)
    return group


class NeighbourLike(Protocol):
    code: str
    status: str
    geometry: BaseGeometry


#: a neighbouring sector's outline: thin, faint, dashed, in its status colour
_NEIGHBOUR_FALLBACK: dict[str, Any] = {
    "color": "#7b8794", "weight": 1.5, "opacity": 0.6, "fillOpacity": 0.06,
    "dashArray": "4 4", "className": "wayhome-neighbour"}


def _neighbour_styles() -> dict[str, dict[str, Any]]:
    """Status -> the faint style of a neighbouring team's sector (every registered status)."""
    return {style.status: {
        "color": style.colour, "weight": 1.5, "opacity": 0.6, "fill": True,
        "fillColor": style.colour, "fillOpacity": 0.06, "dashArray": "4 4",
        "className": "wayhome-neighbour"}
        for style in (*sector_styles().values(), UNKNOWN_STYLE)}


def neighbour_features(neighbours: Sequence[NeighbourLike]) -> list[dict[str, Any]]:
    """Neighbouring sectors as GeoJSON features keyed by ``properties.k`` (``x`` + code):
    ID and status only."""
    neighbours = [n for n in neighbours if n.geometry is not None and not n.geometry.is_empty]
    geoms = _rounded([n.geometry for n in neighbours])
    points = _label_points([n.geometry for n in neighbours])
    features = []
    for n, geom, lp in zip(neighbours, geoms, points, strict=True):
        style = _style_of(n.status)
        features.append({
            "type": "Feature",
            "geometry": geom,
            "properties": {
                "k": f"x{safe_text(n.code)}",
                "style": style.status,
                "under": False,
                "label": f"{safe_text(n.code)} · {safe_text(style.label)}",
                "lc": "wayhome-neighbour-label",
                "lp": lp,
            },
        })
    return [f for f in features if f["geometry"]]


def neighbours_layer(
    neighbours: Sequence[NeighbourLike], *, name: str = "Neighbouring sectors",
    label_zoom: int = LABEL_ZOOM,
) -> folium.FeatureGroup:
    """Other teams' sectors next to a team's own, drawn lighter: ID and status only.

    Thin, faint outlines in the status colour with a small label ("S7 · Searched");
    not clickable, no details (no other team's name or notes). The labels are thinned
    with the team's own (the same script as :func:`sectors_layer`, ranked after
    them): tiny sectors (about 50 m) would otherwise cover each other's names.
    """
    group = folium.FeatureGroup(name=safe_text(name), control=False)
    _SectorScript(
        _collection(neighbour_features(neighbours)), _neighbour_styles(), _NEIGHBOUR_FALLBACK,
        canvas=False, label_zoom=label_zoom, label_rank=RANK_NEIGHBOUR, interactive=False,
    ).add_to(group)
    return group


def live_neighbours_layer(
    features: Sequence[dict[str, Any]],
    *,
    layer: str,
    base: str,
    version: str,
    name: str = "Neighbouring sectors",
    label_zoom: int = LABEL_ZOOM,
) -> folium.FeatureGroup:
    """:func:`neighbours_layer` drawn by the map frame's live-layer script (full draw
    ``base`` at ``version``), so a neighbour's new status can be sent alone.

    ``features`` come from :func:`neighbour_features`; needs :class:`LiveLayerSupport`.
    """
    group = folium.FeatureGroup(name=safe_text(name), control=False)
    options = {
        "styles": _neighbour_styles(),
        "fallback": _NEIGHBOUR_FALLBACK,
        "under": None,
        "canvas": False,
        "interactive": False,
        "label_zoom": int(label_zoom),
        "max_labels": MAX_LABELS,
        "label_rank": RANK_NEIGHBOUR,
        "tooltips_before": RANK_SECTOR,
        "css": _SHARED_CSS,
        "hatch": _HATCH_SVG,
    }
    _LiveSectorScript(layer, base, version, _collection(features), options).add_to(group)
    return group


def candidate_layer(
    candidate: BaseGeometry | None,
    overlapped: Sequence[SectorLike] = (),
    *,
    label: str = "New sector (not saved)",
) -> folium.FeatureGroup:
    """A shape waiting to be saved, and a vermilion ring round each sector it overlaps."""
    group = folium.FeatureGroup(name="Waiting to be saved", control=False)
    features = []
    overlapped = list(overlapped)
    geoms = _rounded([s.geometry for s in overlapped])
    points = _label_points([s.geometry for s in overlapped])
    for s, geom, lp in zip(overlapped, geoms, points, strict=True):
        features.append({
            "type": "Feature",
            "geometry": geom,
            "properties": {
                "sid": int(s.id),
                "style": "overlap",
                "under": False,
                "label": f"overlaps {sector_label(s)}",
                "lc": "",
                "lp": lp,
            },
        })
    if candidate is not None and not candidate.is_empty:
        (geom,) = _rounded([candidate])
        (lp,) = _label_points([candidate])
        features.append({
            "type": "Feature",
            "geometry": geom,
            "properties": {
                "style": "candidate",
                "under": False,
                "label": safe_text(label),
                "lc": "",
                "lp": lp,
            },
        })
    _SectorScript(
        _collection(features),
        {"candidate": CANDIDATE_STYLE, "overlap": OVERLAP_STYLE},
        CANDIDATE_STYLE,
        canvas=False,
        label_zoom=0,
        label_rank=RANK_WARNING,
    ).add_to(group)
    return group


def _swatch(colour: str, dash: str, weight: float, fill_opacity: float,
            fill: str | None = None) -> str:
    # every value is validated (colour, dash) or numeric
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    fill_attr = fill if fill is not None else f'fill="{colour}" fill-opacity="{fill_opacity:g}"'
    return (
        '<svg width="36" height="16" aria-hidden="true">'
        f'<rect x="2" y="2" width="32" height="12" rx="1" {fill_attr} stroke="{colour}" '
        f'stroke-width="{min(float(weight), 4):g}"{dash_attr}/></svg>'
    )


def sector_legend_html(*, open_: bool = True) -> str:
    """Legend rows: one per sector status (colour and pattern), hazards, straddling.

    ``open_=False`` starts it folded (a click on "Sectors" opens it).
    """
    rows = []
    for style in (*sector_styles().values(), VOLUNTEER_STYLE):
        text = f"{style.label} — {style.pattern}"
        rows.append(
            f"<li>{_swatch(style.colour, style.dash, style.weight, style.fill_opacity)}"
            f"<span>{safe_text(text)}</span></li>"
        )
    hatch = (
        '<svg width="36" height="16" aria-hidden="true"><defs>'
        '<pattern id="wayhome-hatch-legend" patternUnits="userSpaceOnUse" width="6" '
        'height="6" patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="6" '
        'stroke="#d55e00" stroke-width="2.5"/></pattern></defs>'
        '<rect x="2" y="2" width="32" height="12" fill="url(#wayhome-hatch-legend)" '
        'stroke="#d55e00" stroke-width="3"/></svg>'
    )
    hole = NOT_SEARCHED_STYLE
    white = _swatch(hole.colour, hole.dash, hole.weight, 0, fill='fill="#ffffff"')
    hole_text = safe_text(f"{hole.label} — {hole.pattern}")
    rows.append(f"<li>{white}<span>{hole_text}</span></li>")
    rows.append(f"<li>{hatch}<span>{safe_text('Hazard / no-go area — red hatching')}</span></li>")
    rows.append(
        '<li><svg width="36" height="16" aria-hidden="true"><rect x="3" y="3" width="30" '
        'height="10" fill="none" stroke="#000000" stroke-opacity="0.6" stroke-width="4" '
        'stroke-dasharray="1 4" stroke-linecap="round"/></svg>'
        f"<span>{safe_text('Straddles a BCU or force boundary — wide dotted halo')}</span></li>"
    )
    pending = _swatch("#1f2933", "6 4", 3, 0.35, fill='fill="#f0e442" fill-opacity="0.5"')
    rows.append(
        f"<li>{pending}"
        f"<span>{safe_text('Not saved yet; red ring = sector it overlaps')}</span></li>"
    )
    note = f"Labels (ID · status) from zoom {LABEL_ZOOM}."
    return (
        f'<details{" open" if open_ else ""}><summary>Sectors</summary>'
        f'<ul>{"".join(rows)}</ul><div class="wayhome-credit">{safe_text(note)}</div></details>'
    )


def preview_layer(
    geoms: Sequence[BaseGeometry], labels: Sequence[str], *, name: str = "Preview"
) -> folium.FeatureGroup:
    """Shapes about to be saved (a grid, picked wards, an imported file), not saved yet.

    Drawn like a drawing waiting to be saved (dark dashed outline, yellow fill),
    labelled from zoom :data:`LABEL_ZOOM`; on a canvas when there are many.
    ``labels`` are escaped here.
    """
    geoms = list(geoms)
    shapes = _rounded(geoms)
    points = _label_points(geoms)
    features = [
        {
            "type": "Feature",
            "geometry": geom,
            "properties": {"style": "candidate", "under": False,
                           "label": safe_text(label), "lc": "", "lp": lp},
        }
        for geom, label, lp in zip(shapes, labels, points, strict=True)
    ]
    group = folium.FeatureGroup(name=safe_text(name), control=False)
    _SectorScript(_collection(features), {"candidate": CANDIDATE_STYLE}, CANDIDATE_STYLE,
                  canvas=len(geoms) >= CANVAS_FROM).add_to(group)
    return group
