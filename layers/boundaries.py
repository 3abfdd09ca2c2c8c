"""Boundary layers (forces, BCUs, boroughs, wards) as folium layers.

No boundary layer is inlined in the map's script: each is a JSON file the app
serves itself (:func:`publish_layer_file`, content-addressed so the browser may
keep it) that :class:`LazyGeoJson` fetches. Boroughs, BCUs and forces are
fetched as the map opens (about 0.7 MB that would otherwise travel inside every
page's map script, on every page open, and be parsed as JavaScript); wards only
when switched on in the layer control or when the user zooms in to street level.
:func:`boundary_layer` still builds an inlined layer, for maps made outside the
app.

Every property shown in a tooltip is escaped (:mod:`layers.escape`); ward names
in the lazy layer are set with ``textContent`` in the browser, never as HTML.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
from folium.map import Layer
from jinja2 import Template

from geo import boundaries as gb
from layers.assets import VENDOR_DIR, static_url
from layers.escape import escape_feature_collection, safe_text
from layers.styles import BOUNDARY_STYLES, BoundaryStyle

__all__ = [
    "TOOLTIP_FIELDS",
    "WARD_AUTO_ZOOM",
    "BoundarySet",
    "LazyGeoJson",
    "boundary_layer",
    "load_boundary_set",
    "publish_layer_file",
]

#: Feature properties a boundary tooltip shows.
TOOLTIP_FIELDS = ("name", "code")
#: Zoom level at which wards switch themselves on (street level), unless the
#: user has switched them off or on by hand.
WARD_AUTO_ZOOM = 14

#: Feature properties written to a served (lazy) layer file.
_SERVED_FIELDS = ("name", "code", "kind", "borough")
#: Folder under ``static/vendor/`` that holds the served boundary files.
_BOUNDARY_FOLDER = "boundaries"


def _style_function(style: BoundaryStyle):
    opts = style.leaflet()
    return lambda _feature: opts


def boundary_layer(
    style: BoundaryStyle, collection: Mapping[str, Any], *, show: bool = True
) -> folium.GeoJson:
    """One inlined boundary layer with an escaped hover tooltip (name and code).

    ``collection`` is a GeoJSON FeatureCollection in EPSG:4326 whose features
    carry ``name`` and ``code`` properties; polygons and outlines
    (Multi)LineString both work. Only the tooltip fields are kept, each
    HTML/JS-escaped, so a hostile name cannot run script in the map.
    """
    data = escape_feature_collection(collection, fields=TOOLTIP_FIELDS)
    return folium.GeoJson(
        data,
        name=safe_text(style.title),
        style_function=_style_function(style),
        tooltip=folium.GeoJsonTooltip(
            fields=list(TOOLTIP_FIELDS),
            aliases=[safe_text(style.feature_label), "Code"],
            sticky=True,
        ),
        overlay=True,
        control=True,
        show=show,
        zoom_on_click=False,
    )


class LazyGeoJson(Layer):
    """A GeoJSON layer whose data is fetched from ``url`` when it is first shown.

    It appears in the layer control like any overlay. The first time it is added
    to the map (checkbox, or zooming in to ``auto_zoom``), the browser fetches
    the file from the app's own origin and draws it. Tooltips are built with
    ``textContent``, so names are shown as text and never parsed as HTML.
    Progress is published on the map container as ``data-wayhome-<kind>``
    (``loading``, ``loaded`` with the feature count in
    ``data-wayhome-<kind>-count``, or ``failed``), which tests and styling use.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.geoJSON(null, {
            style: function () { return {{ this.path_options|tojson }}; },
            onEachFeature: function (feature, layer) {
                var p = feature.properties || {};
                var box = document.createElement("div");
                var label = document.createElement("div");
                label.textContent = {{ this.feature_label|tojson }};
                label.style.fontSize = "0.8em";
                var name = document.createElement("b");
                name.textContent = p.name == null ? "" : String(p.name);
                var code = document.createElement("div");
                code.textContent = p.code == null ? "" : String(p.code);
                box.appendChild(label); box.appendChild(name); box.appendChild(code);
                if (p.borough) {
                    var borough = document.createElement("div");
                    borough.textContent = String(p.borough);
                    box.appendChild(borough);
                }
                layer.bindTooltip(box, {sticky: true});
            }
        });
        (function () {
            var layer = {{ this.get_name() }};
            var map = {{ this._parent.get_name() }};
            var flag = "wayhome{{ this.kind|capitalize }}";
            var state = "empty";
            var userChose = false;
            function mark(value) { map.getContainer().dataset[flag] = value; }
            {%- if this.under %}
            // drawn under the page's own layers (which may arrive first), in the
            // order the base layers were declared: each waits for the one before
            var under = map._wayhomeUnder =
                map._wayhomeUnder || {layers: [], chain: Promise.resolve()};
            {%- endif %}
            layer.on("add", function () {
                if (state !== "empty") { return; }
                state = "loading"; mark("loading");
                var fetched = fetch({{ this.url|tojson }}, {credentials: "same-origin"})
                    .then(function (r) {
                        if (!r.ok) { throw new Error("HTTP " + r.status); }
                        return r.json();
                    });
                function draw(data) {
                    layer.addData(data);
                    {%- if this.under %}
                    under.layers.push(layer);
                    for (var i = under.layers.length - 1; i >= 0; i--) {
                        if (map.hasLayer(under.layers[i])) { under.layers[i].bringToBack(); }
                    }
                    {%- endif %}
                    state = "loaded";
                    map.getContainer().dataset[flag + "Count"] =
                        String((data.features || []).length);
                    mark("loaded");
                }
                function failed(err) {
                    state = "empty"; mark("failed");
                    console.warn("Wayhome: {{ this.kind }} layer could not be loaded:", err);
                }
                {%- if this.under %}
                under.chain = under.chain.then(function () {
                    return fetched.then(draw).catch(failed);
                });
                {%- else %}
                fetched.then(draw).catch(failed);
                {%- endif %}
            });
            map.on("overlayadd overlayremove", function (e) {
                if (e.layer === layer) { userChose = true; }
            });
            {%- if this.auto_zoom %}
            map.on("zoomend", function () {
                var deep = map.getZoom() >= {{ this.auto_zoom|int }};
                if (!userChose && deep && !map.hasLayer(layer)) {
                    map.addLayer(layer);
                }
            });
            {%- endif %}
        })();
        {% endmacro %}
        """
    )

    def __init__(
        self,
        style: BoundaryStyle,
        url: str,
        *,
        auto_zoom: int | None = WARD_AUTO_ZOOM,
        show: bool = False,
        under: bool = False,
    ) -> None:
        """``under=True`` keeps the layer beneath every layer the page adds (a base layer)."""
        super().__init__(name=safe_text(style.title), overlay=True, control=True, show=show)
        self._name = "LazyGeoJson"
        self.kind = style.kind
        self.path_options = style.leaflet()
        self.feature_label = style.feature_label
        self.url = url
        self.auto_zoom = auto_zoom
        self.under = under


def publish_layer_file(
    static_dir: Path,
    kind: str,
    collection: Mapping[str, Any],
    base_url_path: str = "",
) -> str:
    """Write a layer as a JSON file under ``static/vendor/boundaries/``; return its URL.

    The file name carries a hash of the content, so browsers may cache it for
    ever and a rebuilt layer is fetched afresh. Only the ``name``, ``code``,
    ``kind`` and ``borough`` properties are written (the browser shows them as
    text, never as HTML). Older versions of the same layer are
    removed. Idempotent: an identical file is not rewritten.
    """
    slim = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": f.get("geometry"),
                "properties": {
                    k: (f.get("properties") or {}).get(k) for k in _SERVED_FIELDS
                },
            }
            for f in collection.get("features", [])
        ],
    }
    body = json.dumps(slim, separators=(",", ":"), ensure_ascii=True).encode()
    digest = hashlib.sha256(body).hexdigest()[:12]
    folder = Path(static_dir) / VENDOR_DIR / _BOUNDARY_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{kind}-{digest}.json"
    if not target.exists():
        tmp = target.with_suffix(".json.tmp")
        tmp.write_bytes(body)
        tmp.replace(target)
    for old in folder.glob(f"{kind}-*.json"):
        if old != target:
            old.unlink(missing_ok=True)
    return f"{static_url(base_url_path)}/{VENDOR_DIR}/{_BOUNDARY_FOLDER}/{target.name}"


@dataclass(frozen=True)
class BoundarySet:
    """Everything the base map needs about boundaries, ready to draw.

    ``inline`` maps a layer kind to a FeatureCollection written into the map's
    script; ``lazy`` maps a kind to the URL of its served file, fetched by the
    browser; of those, the kinds in ``shown`` are fetched and drawn as the map
    opens, the others when switched on; ``vintages`` maps each kind to the date
    of its boundaries; ``attribution`` is the data credit shown on the map.
    """

    inline: Mapping[str, Mapping[str, Any]]
    lazy: Mapping[str, str] = field(default_factory=dict)
    shown: frozenset[str] = frozenset()
    vintages: Mapping[str, str] = field(default_factory=dict)
    attribution: str = ""


def load_boundary_set(static_dir: Path, base_url_path: str = "") -> BoundarySet:
    """Read the display layers from :mod:`geo.boundaries` and publish them as files.

    Every layer is written to the static folder (see :func:`publish_layer_file`):
    forces, BCUs and boroughs are drawn as the map opens, wards when asked for.
    BCUs are lines drawn once each (:func:`geo.boundaries.display_edges`): a line
    between two BCUs names both.
    """
    layers = {kind: gb.display_layer(kind) for kind in ("borough", "force", "ward")}
    # BCU lines are dashed: each stretch must be drawn once, or two copies of the
    # line between neighbouring BCUs fall out of step and look solid.
    layers["bcu"] = gb.display_edges("bcu")
    lazy = {
        kind: publish_layer_file(static_dir, kind, collection, base_url_path)
        for kind, collection in layers.items()
    }
    vintages = {kind: gb.layer_vintage(kind) for kind in BOUNDARY_STYLES}
    return BoundarySet(
        inline={},
        lazy=lazy,
        shown=frozenset({"borough", "force", "bcu"}),
        vintages=vintages,
        attribution=gb.attribution(tuple(BOUNDARY_STYLES)) or DEFAULT_ATTRIBUTION,
    )


#: Fallback credit for the boundary data (Open Government Licence v3.0), used
#: only if the layer metadata carries none.
DEFAULT_ATTRIBUTION = (
    "Contains National Statistics data © Crown copyright and database right 2015–2023. "
    "Contains OS data © Crown copyright and database right 2015–2023. "
    "Source: Office for National Statistics, Greater London Authority (London Datastore) "
    "and data.police.uk, licensed under the Open Government Licence v3.0."
)
