"""The map of the private-link views (family, team lead, partner unit): made for a phone.

A 390-pixel-wide screen has no room for the coordinator's map furniture. This
map keeps the street background, a scale bar and the attribution, and adds:

* no boundary layers and no layer control (borough, BCU, force and ward lines
  are the coordinator's business; a partner unit's own area is drawn by its
  page as an overlay);
* one legend for the view (escaped HTML from :func:`layers.family.family_legend_html`
  or :func:`layers.sectors.sector_legend_html`) folded up in the bottom-left
  corner, opened with a tap;
* optionally the drawing tools (a family drawing "we searched here").

Like the base map it is deterministic (same inputs, same script), so it stays
mounted across reruns; what changes travels in ``feature_group_to_add``.
No database, no Streamlit.
"""

from __future__ import annotations

from typing import cast

import folium
from branca.element import Element, Figure

from layers.assets import AssetUrls, DrawUrls
from layers.basemap import LONDON_CENTRE, MapTiles, WayhomeMap
from layers.draw import SectorDraw
from layers.legend import LEGEND_CSS, Legend
from layers.streets import LazyStreets

__all__ = ["PHONE_CSS", "phone_map"]

#: A tighter legend on small screens: short rows, at most 60 % of the map's height.
PHONE_CSS = """
<style>
.wayhome-legend { max-width: 15rem; padding: 4px 7px; }
.wayhome-legend details:not([open]) { padding: 2px 0; }
.wayhome-legend ul { max-height: 55vh; overflow-y: auto; }
.wayhome-legend li { margin: 1px 0; }
</style>
"""


def phone_map(
    assets: AssetUrls,
    tiles: MapTiles | None,
    legend_html: str,
    *,
    draw: DrawUrls | None = None,
    location: tuple[float, float] = LONDON_CENTRE,
    zoom: int = 13,
    streets: str | None = None,
) -> folium.Map:
    """The compact map: tiles, scale, one folded legend (already escaped), optional drawing.

    ``streets`` (the street tiles' index URL) adds the street layer, which switches
    itself on at street zoom (a team lead's map on a network without tiles).
    """
    m = WayhomeMap(assets, location=list(location), zoom_start=zoom, tiles=None,
                   control_scale=True)
    # a map's root is its Figure; branca types get_root() as any Element
    root = cast(Figure, m.get_root())
    root.header.add_child(Element(LEGEND_CSS), name="wayhome_css")
    root.header.add_child(Element(PHONE_CSS), name="wayhome_phone_css")
    if tiles is not None:
        folium.TileLayer(tiles=tiles.url, attr=tiles.attribution, name=tiles.name,
                         max_zoom=tiles.max_zoom, control=False).add_to(m)
    if streets:
        LazyStreets(streets).add_to(m)
    Legend(legend_html, position="bottomleft").add_to(m)
    if draw is not None:
        SectorDraw(draw).add_to(m)
    return m
