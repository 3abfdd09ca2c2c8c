"""The phone map of the private-link pages, rendered once per process and kind.

``"family"``: the family's plain-words key and the drawing tools ("we searched
here"); ``"family_view"``: the same key without drawing (the case is found or
closed); ``"field"``: the sector key (partner units), no drawing; ``"team"``: the field
map with the "you are here" control (:mod:`layers.locate`) and the street layer
(:mod:`layers.streets`, published by the server from the loaded streets) for team
leads. The field and team maps load the live-layer script
(:class:`layers.sectors.LiveLayerSupport`): their sectors, tasks and sightings take
small updates (:mod:`app_pages.widgets.layer_feed`).
No boundary layers or layer control: on a 390-pixel screen they would cover the
ground the page is about (:mod:`layers.phone`).
"""

from __future__ import annotations

import streamlit as st

from app_pages.widgets.common import map_resources, show_streets
from app_pages.widgets.live_map import RenderedMap, render_base
from layers.assets import draw_urls, static_url
from layers.family import family_legend_html
from layers.locate import LocateControl
from layers.phone import phone_map
from layers.sectors import LiveLayerSupport, sector_legend_html


@st.cache_resource(show_spinner="Preparing the map…")
def _rendered(kind: str, base_url_path: str) -> RenderedMap:
    res = map_resources(base_url_path)
    if kind == "family":
        m = phone_map(res.assets, res.tiles, family_legend_html(open_=False),
                      draw=draw_urls(base_url_path))
    elif kind == "family_view":
        m = phone_map(res.assets, res.tiles, family_legend_html(open_=False))
    else:
        m = phone_map(res.assets, res.tiles, sector_legend_html(open_=False),
                      streets=res.streets if kind == "team" else None)
        if kind == "team":
            LocateControl().add_to(m)
        LiveLayerSupport(static_url(base_url_path)).add_to(m)  # small updates
    return render_base(m)


def link_map(kind: str) -> RenderedMap:
    """The compact base map for ``kind`` ("family", "family_view", "field" or "team")."""
    if kind not in ("family", "family_view", "field", "team"):
        raise ValueError(f"unknown link map {kind!r}")
    if kind == "team":
        show_streets()  # a new street import reaches team leads too
    return _rendered(kind, st.get_option("server.baseUrlPath") or "")
