"""The coordinator's drawing tools: Leaflet.draw, served by the app, set up for sectors.

folium's ``Draw`` plugin loads Leaflet.draw from a CDN and offers every tool.
:class:`SectorDraw` differs in three ways:

* its script and style sheet are the self-served copies (:func:`layers.assets.draw_urls`),
  set on the instance — folium's module-level defaults are never changed, so a
  map built elsewhere in the same process is not affected;
* only polygons and rectangles can be drawn (a sector or a hazard area is a
  piece of ground), and ``allowIntersection: false`` on drawing *and* editing
  stops a "bow-tie" being drawn at all; the server still repairs or refuses
  crossed edges (``geo.shapes.shape_from_geojson``) because a drawing can
  arrive from anywhere;
* clicking a finished drawing does not open an ``alert`` with its coordinates.

The drawn shapes come back through ``st_folium`` as ``last_active_drawing`` /
``all_drawings`` (GeoJSON in lon/lat, EPSG:4326). streamlit-folium finds the
drawing layer by the variable name folium gives this control, so the element
keeps folium's name ("DrawControl").
"""

from __future__ import annotations

from typing import Any

import folium
from branca.element import MacroElement
from folium.plugins import Draw
from jinja2 import Template

from layers.assets import DrawUrls

__all__ = [
    "DRAW_OPTIONS",
    "EDIT_OPTIONS",
    "SHAPE_STYLE",
    "ClearDrawings",
    "SectorDraw",
    "clear_drawings_layer",
    "is_drawing",
]

#: How a shape being drawn looks: dark outline, light fill, readable on any tile.
SHAPE_STYLE: dict[str, Any] = {
    "color": "#1f2933",
    "weight": 3,
    "opacity": 0.9,
    "fill": True,
    "fillColor": "#f0e442",
    "fillOpacity": 0.25,
    "dashArray": "6 4",
}

#: Leaflet.draw ``draw`` options: polygons and rectangles only, no crossed edges.
DRAW_OPTIONS: dict[str, Any] = {
    "polygon": {
        "allowIntersection": False,
        "showArea": True,
        "metric": True,
        "drawError": {
            "color": "#d55e00",
            "message": "Edges must not cross: a sector is one piece of ground.",
        },
        "shapeOptions": SHAPE_STYLE,
    },
    "rectangle": {"showArea": True, "metric": True, "shapeOptions": SHAPE_STYLE},
    "polyline": False,
    "circle": False,
    "circlemarker": False,
    "marker": False,
}

#: Leaflet.draw ``edit`` options: editing may not cross edges either.
EDIT_OPTIONS: dict[str, Any] = {"poly": {"allowIntersection": False}}


class SectorDraw(Draw):
    """folium's Draw control, loading the self-served Leaflet.draw, for sectors.

    Put it on the *base* map (it must be identical on every rerun, so the map
    stays mounted and unsaved drawings are not lost).
    """

    def __init__(self, urls: DrawUrls, *, position: str = "topleft") -> None:
        super().__init__(
            position=position,
            show_geometry_on_click=False,
            draw_options={k: (dict(v) if isinstance(v, dict) else v)
                          for k, v in DRAW_OPTIONS.items()},
            edit_options={k: dict(v) for k, v in EDIT_OPTIONS.items()},
        )
        # per instance: folium's class attributes stay the CDN defaults
        self.default_js = list(urls.js)
        self.default_css = list(urls.css)


def is_drawing(feature: object) -> bool:
    """Whether a ``last_active_drawing`` value is a freshly drawn shape.

    streamlit-folium also reports a click on an existing map feature as
    ``last_active_drawing`` (with that feature's properties). Wayhome's own
    features always carry properties (a sector has ``sid``), while Leaflet.draw
    hands back a drawing with empty properties. Only polygons count.
    """
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return False
    props = feature.get("properties") or {}
    if not isinstance(props, dict) or props:
        return False
    geom = feature.get("geometry")
    return isinstance(geom, dict) and geom.get("type") in {"Polygon", "MultiPolygon"}


class ClearDrawings(MacroElement):
    """Empties the drawing layer whenever the changing layers are (re)drawn.

    Put it in a group passed through ``feature_group_to_add``: the browser runs
    it each time those groups change — after the page has taken the drawing
    (it is then shown as a "not saved yet" preview), saved it or dropped it —
    so a finished drawing never lingers as a second, unsaved copy. A shape
    still being drawn is not in the layer yet and is left alone.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        if (window.drawnItems && typeof window.drawnItems.clearLayers === "function") {
            window.drawnItems.clearLayers();
        }
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()
        self._name = "ClearDrawings"


def clear_drawings_layer() -> folium.FeatureGroup:
    """A group holding only :class:`ClearDrawings`, for ``feature_group_to_add``."""
    group = folium.FeatureGroup(name="Clear drawings", control=False)
    ClearDrawings().add_to(group)
    return group
