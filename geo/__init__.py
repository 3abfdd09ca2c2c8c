"""Spatial and search truth for Wayhome: pure functions over shapely / geopandas.

No Streamlit, no database, no folium here. Lon/lat (EPSG:4326) at the edges;
every metric computation (areas, buffers, distances, grids) happens in British
National Grid (EPSG:27700), see :mod:`geo.crs`.

The public names are re-exported here explicitly (``geo.X``). Importing the
package loads no data: boundary layers and the postcode table are read when
first asked for.
"""

from __future__ import annotations

from geo.boundaries import (
    display_edges as display_edges,
)
from geo.boundaries import (
    display_layer as display_layer,
)
from geo.boundaries import (
    layer_attribution as layer_attribution,
)
from geo.boundaries import (
    layer_vintage as layer_vintage,
)
from geo.boundaries import (
    load_layer as load_layer,
)
from geo.boundaries import (
    locate as locate,
)
from geo.boundaries import (
    locate_many as locate_many,
)
from geo.coordinates import (
    find_place as find_place,
)
from geo.coordinates import (
    parse_grid_reference as parse_grid_reference,
)
from geo.coordinates import (
    parse_lat_lon as parse_lat_lon,
)
from geo.coverage import (
    not_searched_split as not_searched_split,
)
from geo.coverage import (
    swept_ground as swept_ground,
)
from geo.coverage import (
    track_coverage as track_coverage,
)
from geo.detection import (
    assurance_pod as assurance_pod,
)
from geo.detection import (
    coverage_for_pod as coverage_for_pod,
)
from geo.detection import (
    cumulative_pod as cumulative_pod,
)
from geo.detection import (
    cumulative_pod_array as cumulative_pod_array,
)
from geo.detection import (
    pass_pod as pass_pod,
)
from geo.detection import (
    pod as pod,
)
from geo.detection import (
    sweep_width as sweep_width,
)
from geo.detection import (
    sweep_widths as sweep_widths,
)
from geo.errors import (
    InputError as InputError,
)
from geo.exports import (
    case_export_layers as case_export_layers,
)
from geo.exports import (
    case_gpkg_bytes as case_gpkg_bytes,
)
from geo.exports import (
    pick_sectors as pick_sectors,
)
from geo.exports import (
    to_geojson as to_geojson,
)
from geo.exports import (
    to_gpx as to_gpx,
)
from geo.exports import (
    to_kml as to_kml,
)
from geo.exports import (
    write_case_gpkg as write_case_gpkg,
)
from geo.gaps import (
    cleared_effort_summary as cleared_effort_summary,
)
from geo.gaps import (
    effort_on_cleared_ground as effort_on_cleared_ground,
)
from geo.gaps import (
    pass_cell_pod as pass_cell_pod,
)
from geo.gaps import (
    unsearched_ground as unsearched_ground,
)
from geo.grid import (
    make_grid as make_grid,
)
from geo.jurisdiction import (
    Jurisdictions as Jurisdictions,
)
from geo.jurisdiction import (
    cutting_areas as cutting_areas,
)
from geo.jurisdiction import (
    jurisdiction_shares as jurisdiction_shares,
)
from geo.overlap import (
    SectorIndex as SectorIndex,
)
from geo.overlap import (
    duplication as duplication,
)
from geo.overlap import (
    find_overlaps as find_overlaps,
)
from geo.overlap import (
    hazard_overlaps as hazard_overlaps,
)
from geo.postcodes import (
    lookup_postcode as lookup_postcode,
)
from geo.probability import (
    PoaGrid as PoaGrid,
)
from geo.probability import (
    cell_pod as cell_pod,
)
from geo.probability import (
    consensus_poa as consensus_poa,
)
from geo.probability import (
    consensus_split as consensus_split,
)
from geo.probability import (
    describe_rings as describe_rings,
)
from geo.probability import (
    distance_rings as distance_rings,
)
from geo.probability import (
    initial_poa as initial_poa,
)
from geo.probability import (
    override_rings as override_rings,
)
from geo.probability import (
    pos as pos,
)
from geo.probability import (
    rank_sectors as rank_sectors,
)
from geo.probability import (
    sector_poa as sector_poa,
)
from geo.probability import (
    update_poa as update_poa,
)
from geo.probability import (
    update_poa_array as update_poa_array,
)
from geo.probability import (
    update_poa_grid as update_poa_grid,
)
from geo.sector_files import (
    read_sectors as read_sectors,
)
from geo.shapes import (
    clean_shape as clean_shape,
)
from geo.shapes import (
    clip_to_remainder as clip_to_remainder,
)
from geo.shapes import (
    shape_from_geojson as shape_from_geojson,
)
from geo.track_files import (
    read_tracks as read_tracks,
)
from geo.track_files import (
    trim_track_ends as trim_track_ends,
)

__all__ = [
    "InputError",
    "Jurisdictions",
    "PoaGrid",
    "SectorIndex",
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
    "find_overlaps",
    "find_place",
    "hazard_overlaps",
    "initial_poa",
    "jurisdiction_shares",
    "layer_attribution",
    "layer_vintage",
    "load_layer",
    "locate",
    "locate_many",
    "lookup_postcode",
    "make_grid",
    "not_searched_split",
    "override_rings",
    "parse_grid_reference",
    "parse_lat_lon",
    "pass_cell_pod",
    "pass_pod",
    "pick_sectors",
    "pod",
    "pos",
    "rank_sectors",
    "read_sectors",
    "read_tracks",
    "sector_poa",
    "shape_from_geojson",
    "sweep_width",
    "sweep_widths",
    "swept_ground",
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
