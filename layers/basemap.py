"""The London base map: self-served Leaflet, optional tiles, boundary layers, legend.

The base map must come out *identical* on every Streamlit rerun: streamlit-folium
keys its component by a hash of the generated script, so any difference
remounts the map (blank flash, lost pan and zoom). Everything that changes
from run to run (the looked-up place, later sectors and sightings) goes into
``feature_group_to_add`` instead; see :func:`place_layer`.

Tiles come from ``vocab.settings.TILES``: ``openstreetmap`` (default),
``none`` (a plain background; every overlay still shows, so the map works on a
network that blocks tile servers), or a URL template.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import cast

import folium
from branca.element import Element, Figure, MacroElement
from jinja2 import Template

from layers.assets import AssetUrls
from layers.boundaries import WARD_AUTO_ZOOM, BoundarySet, LazyGeoJson, boundary_layer
from layers.escape import safe_text
from layers.legend import LEGEND_CSS, Legend, legend_html
from layers.streets import LazyStreets
from layers.styles import BOUNDARY_STYLES, PLACE_COLOUR

__all__ = [
    "LONDON_CENTRE",
    "MapTiles",
    "WayhomeMap",
    "base_map",
    "clicked_point",
    "parse_tiles",
    "place_layer",
]

#: (lat, lon) the map opens on: central London, EPSG:4326.
LONDON_CENTRE: tuple[float, float] = (51.4900, -0.1100)
#: Zoom the map opens at: all 33 authorities in a 1000-pixel-wide map.
LONDON_ZOOM = 10

_TEMPLATE_VARS = ("{x}", "{y}", "{z}")

#: Short data credits on the map itself; the page carries the full attribution.
MAP_CREDIT = "Boundaries © Crown copyright, OGL v3.0"
LEGEND_CREDIT = (
    "Boundary data: ONS, Ordnance Survey, GLA London Datastore and data.police.uk, "
    "Open Government Licence v3.0."
)


@dataclass(frozen=True)
class MapTiles:
    """A background tile layer: URL template (``{z}/{x}/{y}``) and attribution HTML."""

    url: str
    attribution: str
    name: str = "Street map"
    max_zoom: int = 19


def parse_tiles(setting: str, attribution: str = "") -> MapTiles | None:
    """Turn the ``TILES`` setting into a tile layer, or ``None`` for no tiles.

    ``openstreetmap`` (any case) is the OpenStreetMap standard layer; ``none``,
    ``off`` or an empty string mean a plain background; anything else must be
    an ``http(s)://`` URL template with ``{z}``, ``{x}`` and ``{y}``, and then
    ``attribution`` is required (tile servers' terms ask for it). The custom
    attribution is shown as text, not HTML.
    """
    value = (setting or "").strip()
    if value.lower() in {"", "none", "off", "false", "no"}:
        return None
    if value.lower() in {"openstreetmap", "osm"}:
        return MapTiles(
            url="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            attribution=(
                '&copy; <a href="https://www.openstreetmap.org/copyright">'
                "OpenStreetMap</a> contributors"
            ),
            name="OpenStreetMap",
        )
    if not re.match(r"^https?://", value) or not all(v in value for v in _TEMPLATE_VARS):
        raise ValueError(
            "WAYHOME_TILES must be 'openstreetmap', 'none', or a tile URL template such as "
            f"https://tiles.example.org/{{z}}/{{x}}/{{y}}.png — got {value!r}"
        )
    if not attribution.strip():
        raise ValueError(
            "A custom tile URL needs WAYHOME_TILES_ATTRIBUTION (the credit the tile "
            "provider asks for)."
        )
    return MapTiles(url=value, attribution=safe_text(attribution.strip()), name="Street map")


#: the viewport limits folium's header sets (no pinch-zoom on a phone)
_NO_ZOOM_LIMIT = re.compile(r",\s*maximum-scale=[0-9.]+|,\s*user-scalable=no")


class WayhomeMap(folium.Map):
    """A folium Map that loads only the self-served front-end files.

    folium keeps ``default_js``/``default_css`` as lists shared by every Map in
    the process; this class sets them per instance instead, so nothing global is
    changed and no CDN URL (Bootstrap, Font Awesome, awesome-markers…) is ever
    emitted.
    """

    def __init__(self, assets: AssetUrls, **kwargs) -> None:
        super().__init__(**kwargs)
        self.default_js = list(assets.js)
        self.default_css = list(assets.css)
        _IconImagePath(assets.marker_images).add_to(self)

    def render(self, **kwargs) -> str:
        """As folium renders it, but letting a phone pinch-zoom the page.

        folium's header sets ``maximum-scale=1.0, user-scalable=no`` (WCAG 1.4.4
        asks that zooming is never blocked): the map's header is written again
        without them (Leaflet's own pinch-zoom of the map is unaffected).
        """
        out = super().render(**kwargs)
        header = self.get_root().header  # type: ignore[attr-defined]
        macro = self._template.module.__dict__.get("header")
        if macro is not None and self.get_name() in header._children:
            text = _NO_ZOOM_LIMIT.sub("", str(macro(self, kwargs)))
            header.add_child(Element(text), name=self.get_name())
        return out


class _IconImagePath(MacroElement):
    """Points Leaflet's default marker icon at the self-served images.

    Leaflet otherwise guesses the folder from the CSS, which may not have
    loaded yet when the first marker is drawn.
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.Icon.Default.imagePath = {{ this.url|tojson }};
        {% endmacro %}
        """
    )

    def __init__(self, url: str) -> None:
        super().__init__()
        self._name = "IconImagePath"
        self.url = url


def base_map(
    boundaries: BoundarySet,
    assets: AssetUrls,
    tiles: MapTiles | None,
    *,
    location: tuple[float, float] = LONDON_CENTRE,
    zoom: int = LONDON_ZOOM,
    legend_open: bool = True,
    streets: str | None = None,
) -> folium.Map:
    """The London map with boundary layers, a layer control and a legend.

    ``legend_open=False`` starts the boundary legend folded (case maps, where
    markers matter more than line styles).

    Deterministic: the same inputs give the same script, so the map stays
    mounted across reruns. Layers in ``boundaries.inline`` are drawn at once;
    layers in ``boundaries.lazy`` are fetched from the app's own files: at once
    (beneath the page's own layers) when in ``boundaries.shown``, otherwise
    when switched on. ``streets`` is the URL of the street tiles' index
    (:func:`layers.streets.streets_index_url`): the street layer switches itself on
    at street zoom and fetches only the tiles in view.
    """
    m = WayhomeMap(
        assets,
        location=list(location),
        zoom_start=zoom,
        tiles=None,
        control_scale=True,
    )
    # a map's root is its Figure; branca types get_root() as any Element
    cast(Figure, m.get_root()).header.add_child(Element(LEGEND_CSS), name="wayhome_css")
    if tiles is not None:
        folium.TileLayer(
            tiles=tiles.url,
            attr=tiles.attribution,
            name=safe_text(tiles.name),
            max_zoom=tiles.max_zoom,
            control=False,
        ).add_to(m)

    drawn = []
    for kind, style in BOUNDARY_STYLES.items():
        if kind in boundaries.inline:
            boundary_layer(style, boundaries.inline[kind]).add_to(m)
            drawn.append(style)
        elif kind in boundaries.lazy:
            shown = kind in boundaries.shown
            LazyGeoJson(
                style,
                boundaries.lazy[kind],
                show=shown,
                auto_zoom=None if shown else WARD_AUTO_ZOOM,
                under=shown,
            ).add_to(m)
            drawn.append(style)

    if streets:
        LazyStreets(streets).add_to(m)

    # Legend lists the heaviest line first.
    order = sorted(drawn, key=lambda s: -s.weight)
    Legend(
        legend_html(
            order,
            vintages=boundaries.vintages,
            extra=[(PLACE_COLOUR, "Place you clicked or looked up")],
            credit=LEGEND_CREDIT,
            title="Boundaries" if not legend_open else "Legend",
            open_=legend_open,
        )
    ).add_to(m)
    folium.LayerControl(position="topright", collapsed=False).add_to(m)
    _Attribution(MAP_CREDIT).add_to(m)
    return m


class _Attribution(MacroElement):
    """Adds the boundary data credit (escaped text) to Leaflet's attribution control."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        {{ this._parent.get_name() }}.attributionControl.addAttribution({{ this.text|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, text: str) -> None:
        super().__init__()
        self._name = "Attribution"
        self.text = safe_text(text)


def place_layer(
    lat: float | None = None, lon: float | None = None, label: str = ""
) -> folium.FeatureGroup:
    """The changing part of the map: a marker on the place the user asked about.

    Pass it to ``st_folium(feature_group_to_add=…)`` so the base map is not
    remounted. Without a point the group is empty. ``label`` is escaped.
    """
    group = folium.FeatureGroup(name="Place", control=False)
    if lat is not None and lon is not None:
        folium.CircleMarker(
            location=[lat, lon],
            radius=14,
            color=PLACE_COLOUR,
            weight=2,
            fill=True,
            fill_opacity=0.15,
        ).add_to(group)
        folium.Marker(
            location=[lat, lon],
            tooltip=folium.Tooltip(safe_text(label)) if label else None,
        ).add_to(group)
    return group


def clicked_point(value: object) -> tuple[float, float] | None:
    """``(lat, lon)`` of the last map click in ``st_folium``'s return value, or ``None``.

    ``value`` is the dict ``st_folium`` returns (``{"last_clicked": {"lat": …,
    "lng": …}}``). Anything else, or non-finite numbers, gives ``None``, so a
    malformed component message can never reach the lookup.
    """
    if not isinstance(value, dict):
        return None
    click = value.get("last_clicked")
    if not isinstance(click, dict):
        return None
    try:
        lat, lon = float(click["lat"]), float(click["lng"])
    except (KeyError, TypeError, ValueError):
        return None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return None
    if not -90 <= lat <= 90:
        return None
    # Leaflet reports longitudes beyond ±180 after panning round the world.
    if not -180 <= lon <= 180:
        lon = (lon + 180.0) % 360.0 - 180.0
    return lat, lon
