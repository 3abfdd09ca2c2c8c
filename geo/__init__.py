"""Spatial and search truth for Wayhome: pure functions over shapely / geopandas.

No Streamlit, no database, no folium here. Lon/lat (EPSG:4326) at the edges;
every metric computation (areas, buffers, distances, grids) happens in British
National Grid (EPSG:27700), see :mod:`geo.crs`.

The public names are imported here and listed in ``__all__`` (which makes them
explicit re-exports), so ``geo.X`` has a type. Importing them loads no data: the
boundary layers and the postcode table are read only when first asked for.
"""

from __future__ import annotations

from geo.boundaries import (
    display_edges,
    display_layer,
    layer_attribution,
    layer_vintage,
    load_layer,
    locate,
    locate_many,
)
from geo.coordinates import (
    find_place,
    format_grid_reference,
    grid_reference,
    parse_grid_reference,
    parse_lat_lon,
)
from geo.coverage import not_searched_split, swept_ground, track_coverage
from geo.detection import (
    assurance_pod,
    coverage_for_pod,
    cumulative_pod,
    cumulative_pod_array,
    fastest_plausible_search_s,
    first_sector_side_m,
    pass_pod,
    pod,
    searched_too_fast,
    sweep_width,
    sweep_widths,
)
from geo.errors import InputError
from geo.exports import (
    case_export_layers,
    case_gpkg_bytes,
    pick_sectors,
    to_geojson,
    to_gpx,
    to_kml,
    write_case_gpkg,
)
from geo.gaps import (
    cleared_effort_summary,
    effort_on_cleared_ground,
    pass_cell_pod,
    unsearched_ground,
)
from geo.grid import make_grid
from geo.guarded import read_sectors_guarded, read_tracks_guarded
from geo.jurisdiction import Jurisdictions, cutting_areas, jurisdiction_shares
from geo.likely_places import LikelyPlaces, PlaceRecord, likely_places, place_record
from geo.motion import (
    MotionModel,
    MotionReport,
    advance_poa,
    advance_poa_report,
    jump_shares,
    recentre_on_sighting,
    search_again,
    stale_share,
    thames_barrier,
)
from geo.overlap import (
    SectorIndex,
    duplication,
    find_overlaps,
    hazard_overlaps,
    near_and_shared,
)
from geo.place_names import PlaceName, place_names, postcode_circles
from geo.places import load_places, places_within
from geo.postcode_sectors import postcode_sectors
from geo.postcodes import lookup_postcode
from geo.probability import (
    PoaGrid,
    cell_pod,
    consensus_poa,
    consensus_split,
    describe_rings,
    distance_rings,
    initial_poa,
    override_rings,
    pos,
    rank_sectors,
    sector_poa,
    update_poa,
    update_poa_array,
    update_poa_grid,
)
from geo.sector_files import read_sectors
from geo.shapes import clean_shape, clip_to_remainder, shape_from_geojson
from geo.street_ground import street_ground, streets_near, streets_through
from geo.street_sectors import street_sectors
from geo.streets import read_streets
from geo.track_files import read_tracks, trim_track_ends

__all__ = [
    "InputError",
    "Jurisdictions",
    "LikelyPlaces",
    "MotionModel",
    "MotionReport",
    "PlaceName",
    "PlaceRecord",
    "PoaGrid",
    "SectorIndex",
    "advance_poa",
    "advance_poa_report",
    "assurance_pod",
    "case_export_layers",
    "case_gpkg_bytes",
    "cell_pod",
    "clean_shape",
    "cleared_effort_summary",
    "clip_to_remainder",
    "consensus_poa",
    "consensus_split",
    "coverage_for_pod",
    "cumulative_pod",
    "cumulative_pod_array",
    "cutting_areas",
    "describe_rings",
    "display_edges",
    "display_layer",
    "distance_rings",
    "duplication",
    "effort_on_cleared_ground",
    "fastest_plausible_search_s",
    "find_overlaps",
    "find_place",
    "first_sector_side_m",
    "format_grid_reference",
    "grid_reference",
    "hazard_overlaps",
    "initial_poa",
    "jump_shares",
    "jurisdiction_shares",
    "layer_attribution",
    "layer_vintage",
    "likely_places",
    "load_layer",
    "load_places",
    "locate",
    "locate_many",
    "lookup_postcode",
    "make_grid",
    "near_and_shared",
    "not_searched_split",
    "override_rings",
    "parse_grid_reference",
    "parse_lat_lon",
    "pass_cell_pod",
    "pass_pod",
    "pick_sectors",
    "place_names",
    "place_record",
    "places_within",
    "pod",
    "pos",
    "postcode_circles",
    "postcode_sectors",
    "rank_sectors",
    "read_sectors",
    "read_sectors_guarded",
    "read_streets",
    "read_tracks",
    "read_tracks_guarded",
    "recentre_on_sighting",
    "search_again",
    "searched_too_fast",
    "sector_poa",
    "shape_from_geojson",
    "stale_share",
    "street_ground",
    "street_sectors",
    "streets_near",
    "streets_through",
    "sweep_width",
    "sweep_widths",
    "swept_ground",
    "thames_barrier",
    "to_geojson",
    "to_gpx",
    "to_kml",
    "track_coverage",
    "trim_track_ends",
    "unsearched_ground",
    "update_poa",
    "update_poa_array",
    "update_poa_grid",
    "write_case_gpkg",
]
