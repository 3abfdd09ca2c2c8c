"""Spatial and search truth for Wayhome: pure functions over shapely / geopandas.

No Streamlit, no database, no folium here. Lon/lat (EPSG:4326) at the edges;
every metric computation (areas, buffers, distances, grids) happens in British
National Grid (EPSG:27700), see :mod:`geo.crs`.

The public names below are imported lazily so that ``import geo`` stays cheap
(the boundary layers load only when first asked for).
"""

from __future__ import annotations

import importlib
from typing import Any

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    # errors and validation
    "InputError": "geo.errors",
    # boundaries and "who is responsible here?"
    "locate": "geo.boundaries",
    "locate_many": "geo.boundaries",
    "load_layer": "geo.boundaries",
    "display_layer": "geo.boundaries",
    "layer_vintage": "geo.boundaries",
    "layer_attribution": "geo.boundaries",
    "lookup_postcode": "geo.postcodes",
    "find_place": "geo.coordinates",
    "parse_lat_lon": "geo.coordinates",
    "parse_grid_reference": "geo.coordinates",
    # sectors
    "read_sectors": "geo.sector_files",
    "make_grid": "geo.grid",
    "find_overlaps": "geo.overlap",
    # search science
    "read_tracks": "geo.track_files",
    "pod": "geo.detection",
    "cumulative_pod": "geo.detection",
    "track_coverage": "geo.coverage",
    "distance_rings": "geo.probability",
    "update_poa": "geo.probability",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'geo' has no attribute {name!r}") from None
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
