"""What every map page shares: the self-served assets, the boundary layers, the base map.

Built once per server process (``st.cache_resource``) and never mutated: each
rerun builds a fresh, identical ``folium.Map`` from these (streamlit-folium
mutates the map it is given, and an identical map keeps the component mounted).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import folium
import streamlit as st

from layers.assets import AssetUrls, asset_urls, install_assets
from layers.basemap import MapTiles, base_map, parse_tiles
from layers.boundaries import BoundarySet, load_boundary_set
from vocab import settings

#: The app's static folder: ``static/`` beside ``dashboard.py``, served at ``/app/static/``.
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"


@dataclass(frozen=True)
class MapResources:
    assets: AssetUrls
    boundaries: BoundarySet
    tiles: MapTiles | None


@st.cache_resource(show_spinner="Preparing the map…")
def map_resources(base_url_path: str) -> MapResources:
    """Copy the front-end files, publish the ward file and read the boundary layers."""
    install_assets(STATIC_DIR)
    return MapResources(
        assets=asset_urls(base_url_path),
        boundaries=load_boundary_set(STATIC_DIR, base_url_path),
        tiles=parse_tiles(settings.TILES, settings.TILES_ATTRIBUTION),
    )


def london_map(*, legend_open: bool = True) -> tuple[folium.Map, MapResources]:
    """A fresh base map of London (identical on every run) and what it was built from.

    ``legend_open=False`` folds the boundary legend (maps busy with markers).
    """
    res = map_resources(st.get_option("server.baseUrlPath") or "")
    return base_map(res.boundaries, res.assets, res.tiles, legend_open=legend_open), res
