"""What every map page shares: the self-served assets, the boundary layers, the base map.

Built once per server process (``st.cache_resource``) and never mutated: each
rerun builds a fresh, identical ``folium.Map`` from these (streamlit-folium
mutates the map it is given, and an identical map keeps the component mounted).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import folium
import streamlit as st

from app_pages.widgets.connection import store
from casefile import Actor, StoreError
from geo.street_tiles import street_tiles
from layers.assets import AssetUrls, asset_urls, install_assets
from layers.basemap import MapTiles, base_map, parse_tiles
from layers.boundaries import BoundarySet, load_boundary_set
from layers.streets import publish_no_streets, publish_street_tiles, streets_index_url
from vocab import settings

#: The app's static folder: ``static/`` beside ``dashboard.py``, served at ``/app/static/``.
STATIC_DIR = Path(__file__).resolve().parents[2] / "static"


@dataclass(frozen=True)
class MapResources:
    assets: AssetUrls
    boundaries: BoundarySet
    tiles: MapTiles | None
    streets: str


@st.cache_resource(show_spinner="Preparing the map…")
def map_resources(base_url_path: str) -> MapResources:
    """Copy the front-end files, publish the ward file and the loaded streets, and read
    the boundary layers."""
    install_assets(STATIC_DIR)
    publish_no_streets(STATIC_DIR, _store_key())
    _refresh_streets()
    return MapResources(
        assets=asset_urls(base_url_path),
        boundaries=load_boundary_set(STATIC_DIR, base_url_path),
        tiles=parse_tiles(settings.TILES, settings.TILES_ATTRIBUTION),
        streets=streets_index_url(base_url_path, _store_key()),
    )


def _store_key() -> str:
    """An opaque name for this server's store (a hash of its address, never the address:
    it appears in URLs), so servers of different stores keep their street tiles apart."""
    return hashlib.sha256(str(store().db.url).encode()).hexdigest()[:16]


def london_map(*, legend_open: bool = True) -> tuple[folium.Map, MapResources]:
    """A fresh base map of London (identical on every run) and what it was built from.

    ``legend_open=False`` folds the boundary legend (maps busy with markers).
    """
    res = map_resources(st.get_option("server.baseUrlPath") or "")
    return base_map(res.boundaries, res.assets, res.tiles, legend_open=legend_open,
                    streets=res.streets), res


#: How often a server asks the store whether the streets changed, s (one tiny query): a
#: new ``wayhome streets import`` shows on the maps within this time.
STREETS_CHECK_S = 15


#: The server itself reads the streets it publishes: they are public reference data of
#: no case (OpenStreetMap), served like the ward file, so a team lead's map has them
#: even before any coordinator has opened a page since the server started.
STREETS_PUBLISHER = Actor.system("street tiles for the maps")


def show_streets(actor: Actor | None = None) -> None:
    """Publish the loaded streets as tiles for the maps' street layer.

    Called by the map pages; cheap when nothing changed (one tiny query per
    :data:`STREETS_CHECK_S`; the streets are read and the files rewritten only for a
    new load). ``actor`` is accepted for the pages' calls and not needed: the streets are
    public. A failing read leaves the tiles as they are: the map still works, without
    streets.
    """
    del actor
    map_resources(st.get_option("server.baseUrlPath") or "")  # static folder ready
    _refresh_streets()


def _refresh_streets() -> None:
    try:
        _publish_streets(_streets_version())
    except StoreError:
        return


@st.cache_resource(ttl=STREETS_CHECK_S, show_spinner=False)
def _streets_version() -> str:
    return store().streets_version(STREETS_PUBLISHER)


@st.cache_resource(max_entries=2, show_spinner=False)
def _publish_streets(loaded: str) -> str:
    """Cut the streets of load ``loaded`` into tiles and publish them; returns the tile
    set's version."""
    lines = store().street_lines(STREETS_PUBLISHER)
    tiles = street_tiles(lines)
    digest = hashlib.sha256()
    for t in tiles:
        digest.update(f"{t.x}/{t.y}:".encode())
        digest.update(t.body.encode())
    version = digest.hexdigest()[:16] if tiles else "none"
    publish_street_tiles(STATIC_DIR, tiles, version, _store_key())
    return version
