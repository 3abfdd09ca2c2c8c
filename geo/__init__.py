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
    "display_edges": "geo.boundaries",
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
    "SectorIndex": "geo.overlap",
    "duplication": "geo.overlap",
    "clean_shape": "geo.shapes",
    "shape_from_geojson": "geo.shapes",
    "clip_to_remainder": "geo.shapes",
    "Jurisdictions": "geo.jurisdiction",
    "jurisdiction_shares": "geo.jurisdiction",
    "jurisdiction_tags": "geo.jurisdiction",
    "cutting_areas": "geo.jurisdiction",
    "to_gpx": "geo.exports",
    "to_kml": "geo.exports",
    "to_geojson": "geo.exports",
    "write_case_gpkg": "geo.exports",
    "case_gpkg_bytes": "geo.exports",
    "pick_sectors": "geo.exports",
    # search science
    "read_tracks": "geo.track_files",
    "pod": "geo.detection",
    "cumulative_pod": "geo.detection",
    "track_coverage": "geo.coverage",
    "distance_rings": "geo.probability",
    "update_poa": "geo.probability",
    "trim_track_ends": "geo.track_files",
    "cumulative_pod_array": "geo.detection",
    "coverage_for_pod": "geo.detection",
    "assurance_pod": "geo.detection",
    "pass_pod": "geo.detection",
    "sweep_width": "geo.detection",
    "sweep_widths": "geo.detection",
    "swept_ground": "geo.coverage",
    "not_searched_split": "geo.coverage",
    "describe_rings": "geo.probability",
    "override_rings": "geo.probability",
    "PoaGrid": "geo.probability",
    "initial_poa": "geo.probability",
    "consensus_split": "geo.probability",
    "consensus_poa": "geo.probability",
    "update_poa_array": "geo.probability",
    "update_poa_grid": "geo.probability",
    "cell_pod": "geo.probability",
    "pos": "geo.probability",
    "sector_poa": "geo.probability",
    "rank_sectors": "geo.probability",
    "pass_cell_pod": "geo.gaps",
    "unsearched_ground": "geo.gaps",
    "effort_on_cleared_ground": "geo.gaps",
    "cleared_effort_summary": "geo.gaps",
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
