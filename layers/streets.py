"""The streets layer: roads, paths, railways and water drawn by the app, for maps without tiles.

Police networks often block tile servers (``WAYHOME_TILES=none``); a plain map
at street zoom then shows boundaries and nothing to plan by. The loaded
OpenStreetMap extract fills that gap. :func:`publish_street_tiles` writes it as
small tile files (:mod:`geo.street_tiles`) under ``static/vendor/streets/`` with an
``index.json`` listing them; :class:`LazyStreets` is a layer-control overlay that,
like the lazy ward layer (:class:`layers.boundaries.LazyGeoJson`), switches itself
on at street zoom (:data:`STREET_AUTO_ZOOM`) and then fetches, from the app's own
origin, only the tiles the view meets, as the user pans.

Names are shown on hover, set with ``textContent`` in the browser, never parsed
as HTML. Progress is published on the map container as ``data-wayhome-streets``
(``loading``, ``loaded``, ``none`` when no extract is loaded, ``failed``) with
``data-wayhome-streets-count`` (lines drawn) and ``data-wayhome-streets-bytes``
(bytes fetched), which tests and the bench read.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from folium.map import Layer
from jinja2 import Template

from geo.street_tiles import TILE_ZOOM, StreetTile
from layers.assets import VENDOR_DIR, static_url

__all__ = [
    "STREETS_FOLDER",
    "STREET_AUTO_ZOOM",
    "STREET_STYLES",
    "LazyStreets",
    "publish_no_streets",
    "publish_street_tiles",
    "streets_index_url",
]

#: Zoom at which the streets switch themselves on (unless the user chose by hand).
STREET_AUTO_ZOOM = 15
#: Below this zoom no street tile is fetched even with the layer on (too many lines).
STREET_MIN_ZOOM = 14
#: Folder under ``static/vendor/`` that holds the published street tiles.
STREETS_FOLDER = "streets"
#: Line style per kind (Leaflet Path options); a major line is drawn half as wide again.
STREET_STYLES: dict[str, dict[str, Any]] = {
    "road": {"color": "#7a7f87", "weight": 3, "opacity": 0.9},
    "path": {"color": "#8d6e4a", "weight": 1.5, "opacity": 0.9, "dashArray": "4 3"},
    "rail": {"color": "#4a4a4a", "weight": 2, "opacity": 0.9, "dashArray": "6 4"},
    "water": {"color": "#3a7bc8", "weight": 3, "opacity": 0.8},
}
#: Words the hover label puts before a name, per kind.
_KIND_LABEL = {"road": "Street", "path": "Path", "rail": "Railway", "water": "Water"}


def _folder(store_key: str) -> str:
    """The tiles' folder under ``static/vendor/``: one per store (``store_key``, an
    opaque name), so app servers of different stores sharing one install never
    publish over each other's streets."""
    return f"{STREETS_FOLDER}/{store_key}" if store_key else STREETS_FOLDER


def streets_index_url(base_url_path: str = "", store_key: str = "") -> str:
    """URL of the street tiles' ``index.json`` (fixed, so the base map never changes)."""
    return f"{static_url(base_url_path)}/{VENDOR_DIR}/{_folder(store_key)}/index.json"


def publish_no_streets(static_dir: Path, store_key: str = "") -> None:
    """Write an empty index unless one exists, so a map never asks for a missing file."""
    path = Path(static_dir) / VENDOR_DIR / _folder(store_key) / "index.json"
    if not path.is_file():
        publish_street_tiles(static_dir, [], "none", store_key)


def publish_street_tiles(static_dir: Path, tiles: Sequence[StreetTile], version: str,
                         store_key: str = "") -> Path:
    """Write the tiles under ``static/vendor/streets/<version>/`` and point the index at them.

    ``version`` names this set (a hash of the loaded streets): files are written once,
    the index is replaced last (atomically), and sets older than the previous one are
    removed. No tiles
    writes an index saying no extract is loaded. Returns the index path.
    """
    folder = Path(static_dir) / VENDOR_DIR / _folder(store_key)
    target = folder / version
    if not target.is_dir():
        staging = folder / f".{version}.part"
        staging.mkdir(parents=True, exist_ok=True)
        for t in tiles:
            (staging / f"{TILE_ZOOM}-{t.x}-{t.y}.json").write_text(t.body, encoding="ascii")
        staging.replace(target)
    index = {"version": version, "zoom": TILE_ZOOM,
             "tiles": {f"{t.x}/{t.y}": len(t.body) for t in tiles}}
    path = folder / "index.json"
    tmp = folder / ".index.json.part"
    tmp.write_text(json.dumps(index, separators=(",", ":")), encoding="ascii")
    tmp.replace(path)
    # the set before this one stays (a browser that read the old index may still ask
    # for its tiles); older ones go
    older = sorted((d for d in folder.iterdir() if d.is_dir() and d.name != version
                    and not d.name.startswith(".")), key=lambda d: d.stat().st_mtime)
    for old in older[:-1]:
        shutil.rmtree(old, ignore_errors=True)
    return path


class LazyStreets(Layer):
    """Street lines fetched tile by tile for the current view (see the module docstring)."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = (function () {
            var map = {{ this._parent.get_name() }};
            var styles = {{ this.styles|tojson }};
            var labels = {{ this.labels|tojson }};
            var pane = map.getPane("wayhomeStreets") || map.createPane("wayhomeStreets");
            pane.style.zIndex = 420;
            var layer = L.geoJSON(null, {
                pane: "wayhomeStreets",
                attribution: "Streets © OpenStreetMap contributors (ODbL)",
                style: function (f) {
                    var p = f.properties || {};
                    var s = Object.assign({}, styles[p.k] || styles.road);
                    if (p.m) { s.weight = s.weight * 1.5; }
                    s.className = "wayhome-street wayhome-street-" + (p.k || "road")
                        + (p.n ? " wayhome-street-named" : "");
                    s.interactive = !!p.n;
                    return s;
                },
                onEachFeature: function (f, l) {
                    var p = f.properties || {};
                    if (!p.n) { return; }
                    var box = document.createElement("div");
                    var label = document.createElement("div");
                    label.textContent = labels[p.k] || "Street";
                    label.style.fontSize = "0.8em";
                    var name = document.createElement("b");
                    name.textContent = String(p.n);
                    box.appendChild(label); box.appendChild(name);
                    l.bindTooltip(box, {sticky: true, className: "wayhome-street-tip"});
                }
            });
            var index = null, asked = false, loaded = {}, userChose = false;
            var drawn = 0, bytes = 0, pending = 0;
            var data = map.getContainer().dataset;
            function mark(v) { data.wayhomeStreets = v; }
            function tiles() {
                if (!index || !map.hasLayer(layer) || map.getZoom() < {{ this.min_zoom|int }}) {
                    return;
                }
                var z = index.zoom, b = map.getBounds();
                var nw = map.project(b.getNorthWest(), z).divideBy(256).floor();
                var se = map.project(b.getSouthEast(), z).divideBy(256).floor();
                for (var x = nw.x; x <= se.x; x++) {
                    for (var y = nw.y; y <= se.y; y++) {
                        var key = x + "/" + y;
                        if (loaded[key] || !index.tiles[key]) { continue; }
                        loaded[key] = true; pending++; mark("loading");
                        fetch(index.base + z + "-" + x + "-" + y + ".json",
                              {credentials: "same-origin"})
                            .then(function (r) {
                                if (!r.ok) { throw new Error("HTTP " + r.status); }
                                return r.text();
                            })
                            .then(function (text) {
                                var fc = JSON.parse(text);
                                layer.addData(fc);
                                bytes += text.length; drawn += (fc.features || []).length;
                                data.wayhomeStreetsCount = String(drawn);
                                data.wayhomeStreetsBytes = String(bytes);
                                pending--; if (!pending) { mark("loaded"); }
                            })
                            .catch(function (err) {
                                pending--; mark("failed");
                                console.warn("Wayhome: street tile not loaded:", err);
                            });
                    }
                }
            }
            layer.on("add", function () {
                if (index) { tiles(); return; }
                if (asked) { return; }
                asked = true; mark("loading");
                var url = {{ this.url|tojson }};
                fetch(url, {credentials: "same-origin", cache: "no-cache"})
                    .then(function (r) {
                        if (!r.ok) { throw new Error("HTTP " + r.status); }
                        return r.json();
                    })
                    .then(function (idx) {
                        idx.base = url.replace(/index\\.json$/, "") + idx.version + "/";
                        index = idx;
                        if (!Object.keys(idx.tiles || {}).length) { mark("none"); return; }
                        tiles();
                        if (!pending) { mark("loaded"); }
                    })
                    .catch(function (err) {
                        asked = false; mark("failed");
                        console.warn("Wayhome: streets could not be loaded:", err);
                    });
            });
            map.on("moveend", tiles);
            map.on("overlayadd overlayremove", function (e) {
                if (e.layer === layer) { userChose = true; }
            });
            map.on("zoomend", function () {
                if (userChose) { return; }
                var deep = map.getZoom() >= {{ this.auto_zoom|int }};
                if (deep && !map.hasLayer(layer)) { map.addLayer(layer); }
                if (!deep && map.hasLayer(layer)) { map.removeLayer(layer); }
            });
            if (map.getZoom() >= {{ this.auto_zoom|int }}) {
                map.whenReady(function () { if (!userChose) { map.addLayer(layer); } });
            }
            return layer;
        })();
        {% endmacro %}
        """
    )

    def __init__(self, url: str, *, title: str = "Streets (OpenStreetMap extract)",
                 auto_zoom: int = STREET_AUTO_ZOOM, min_zoom: int = STREET_MIN_ZOOM) -> None:
        super().__init__(name=title, overlay=True, control=True, show=False)
        self._name = "LazyStreets"
        self.url = url
        self.styles = STREET_STYLES
        self.labels = _KIND_LABEL
        self.auto_zoom = auto_zoom
        self.min_zoom = min_zoom
