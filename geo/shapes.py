"""Check and repair the shape of a sector, whether drawn on the map or imported.

A shape a coordinator draws or uploads must be a real piece of ground: a
polygon with area, in the UK, of a size a search team could cover. Crossed
edges (a "bow-tie") are repaired with :func:`shapely.make_valid` and reported
in a note; shapes that collapse to a line, are empty, absurdly large or lie
outside the UK are refused with a message that says what is wrong.

Geometries come and go in lon/lat (EPSG:4326); sizes are measured in British
National Grid (EPSG:27700) metres.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import BngGeometry, LonLatGeometry, geoms_to_bng, geoms_to_lonlat
from geo.errors import InputError
from geo.overlap import SectorIndex

# geoms_bng and polygonal_part live in geo.polygons; re-exported for the store's callers
from geo.polygons import geoms_bng as geoms_bng
from geo.polygons import polygonal_part as polygonal_part
from geo.uk import in_uk

#: Smallest sector, m². Anything smaller is a slip of the mouse or a collapsed ring.
MIN_AREA_M2: float = 1.0
#: Largest single shape, m² (2,000 km²). Greater London is about 1,572 km²; a
#: shape bigger than that is a region, a wrong CRS or a mistake, not a sector.
MAX_AREA_M2: float = 2_000e6
#: Most vertices in one shape. Hand-drawn and GPS sectors have hundreds.
MAX_VERTICES_PER_SHAPE: int = 200_000

def repair(geoms: np.ndarray) -> np.ndarray:
    """Make invalid (Multi)Polygons valid, keeping only their polygonal part (vectorised).

    Valid shapes are returned as they are. Needed after reprojection: a sliver a
    few millimetres wide can fold onto itself when its corners are moved.
    """
    geoms = np.array(geoms, dtype=object)
    bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if bad.any():
        geoms[bad] = polygonal_part(
            shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False))
    return geoms


def make_partition(geoms: np.ndarray) -> np.ndarray:
    """Resolve overlaps between areas that should not overlap (BNG, vectorised pairs).

    Where two areas overlap, the smaller one keeps the ground: boundary layers
    from different sources overlap along shared edges, and a small unit (the City
    of London) digitised into a big neighbour is the usual case. Returns a copy;
    areas left with nothing become empty polygons.
    """
    geoms = np.array(geoms, dtype=object)
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="overlaps")
    if not len(a):
        return geoms
    area = shapely.area(geoms)
    smaller = (area[b] < area[a]) | ((area[b] == area[a]) & (b < a))
    a, b = a[smaller], b[smaller]  # b is smaller than a and overlaps it
    for i in np.unique(a):  # one difference per overlapped area, not per pair
        cut = shapely.difference(geoms[i], shapely.union_all(geoms[b[a == i]]))
        geoms[i] = polygonal_part(np.array([cut], dtype=object))[0]
    geoms[shapely.is_missing(geoms)] = shapely.from_wkt("POLYGON EMPTY")
    return geoms


def clean_shapes(
    geoms: Sequence[BaseGeometry | None] | np.ndarray,
    labels: Sequence[str] | None = None,
    *,
    what: str = "shape",
) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Validate and repair many lon/lat shapes at once.

    Returns ``(lonlat, bng, notes)``: the repaired (Multi)Polygons in EPSG:4326,
    the same in EPSG:27700, and notes for the coordinator (e.g. repairs made).
    Raises :class:`InputError` naming up to five offending shapes when any is
    empty, not an area, outside the UK, collapses when repaired, or is absurdly
    large. Nothing is dropped silently: one bad shape refuses the lot.
    """
    geoms = shapely.force_2d(np.asarray(geoms, dtype=object))
    n = len(geoms)
    if labels is None:
        labels = [f"{what} {i + 1}" for i in range(n)]
    labels = list(labels)
    notes: list[str] = []

    def refuse(mask: np.ndarray | np.bool_, problem: str, advice: str = "") -> None:
        bad = np.flatnonzero(mask)
        if len(bad):
            shown = ", ".join(repr(labels[i]) for i in bad[:5])
            more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
            plural = "s" if len(bad) > 1 else ""
            msg = f"{what.capitalize()}{plural} {shown}{more}: {problem}. {advice}"
            raise InputError(msg.strip())

    missing = shapely.is_missing(geoms) | shapely.is_empty(geoms)
    refuse(missing, "no outline", "Draw or export it again.")
    polys = polygonal_part(geoms)
    refuse(shapely.is_missing(polys), "not an area (a point or a line)",
           "A sector must be a closed outline.")
    counts = shapely.get_num_coordinates(polys)
    refuse(counts > MAX_VERTICES_PER_SHAPE, f"more than {MAX_VERTICES_PER_SHAPE:,} corners",
           "Simplify it before importing.")
    bounds = shapely.bounds(polys)
    refuse(~np.isfinite(bounds).all(axis=1), "coordinates that are not numbers")
    inside = in_uk(bounds[:, 0], bounds[:, 1]) & in_uk(bounds[:, 2], bounds[:, 3])
    swapped = in_uk(bounds[:, 1], bounds[:, 0]) & in_uk(bounds[:, 3], bounds[:, 2])
    refuse(~inside & swapped, "outside the UK; latitude and longitude look swapped",
           "Export it again with longitude first, or as GeoJSON.")
    metres = np.abs(bounds).max(axis=1) > 180
    refuse(~inside & metres, "coordinates in metres where degrees were expected",
           "The file's coordinate system is probably missing or wrong.")
    refuse(~inside, "outside the UK", "Check the file is for this search.")

    invalid = ~shapely.is_valid(polys)
    if invalid.any():
        fixed = shapely.make_valid(polys[invalid], method="structure", keep_collapsed=False)
        fixed = polygonal_part(fixed)
        collapsed = np.zeros(n, bool)
        collapsed[np.flatnonzero(invalid)] = shapely.is_missing(fixed)
        refuse(collapsed, "edges that cross or double back and cannot be repaired "
               "into an area", "Redraw it without crossing lines.")
        polys[invalid] = fixed
        names = ", ".join(repr(labels[i]) for i in np.flatnonzero(invalid)[:5])
        more = f" and {invalid.sum() - 5} more" if invalid.sum() > 5 else ""
        notes.append(
            f"Repaired {int(invalid.sum())} {what}(s) with crossing or doubled-back edges "
            f"({names}{more}); check the repaired outline on the map."
        )

    bng = geoms_to_bng(polys)
    area = shapely.area(bng)
    refuse(area < MIN_AREA_M2, f"(almost) no area (under {MIN_AREA_M2:g} m²)",
           "Draw it again with at least three separate corners.")
    refuse(area > MAX_AREA_M2, f"larger than {MAX_AREA_M2 / 1e6:,.0f} km²",
           "That is bigger than Greater London; check the coordinate system or split it.")
    return polys, bng, notes


def clean_shape(geom: BaseGeometry | None, *, what: str = "shape"
                ) -> tuple[LonLatGeometry, list[str]]:
    """Validate and repair one lon/lat shape (e.g. drawn on the map).

    Returns the (Multi)Polygon in EPSG:4326 and notes; raises :class:`InputError`.
    The input is any geometry; it comes back branded lon/lat once it has passed
    the checks (in the UK, degrees not metres).
    """
    lonlat, _, notes = clean_shapes([geom], [what], what=what)
    return LonLatGeometry(lonlat[0]), notes


def shape_from_geojson(geometry: dict[str, Any] | str, *, what: str = "drawn shape"
                       ) -> tuple[LonLatGeometry, list[str]]:
    """A GeoJSON geometry (as the map's draw tool returns it) to a clean lon/lat polygon."""
    import json

    try:
        text = geometry if isinstance(geometry, str) else json.dumps(geometry)
        geom = shapely.from_geojson(text)
    except (shapely.errors.GEOSException, TypeError, ValueError) as exc:
        raise InputError(f"The {what} could not be read as a shape.") from exc
    return clean_shape(geom, what=what)


def circle(lat: float, lon: float, radius_m: float) -> LonLatGeometry:
    """A circle of ``radius_m`` metres round (lat, lon), measured in British National Grid.

    Returned in lon/lat (EPSG:4326). Used for "a ring round the last-known
    location": a circle drawn in degrees would be an ellipse on the ground.
    """
    if not np.isfinite(radius_m) or radius_m <= 0:
        raise InputError("The radius must be a positive number of metres.")
    centre = geoms_to_bng(LonLatGeometry(shapely.Point(float(lon), float(lat))))
    return geoms_to_lonlat(BngGeometry(shapely.buffer(centre, float(radius_m), quad_segs=32)))


def clip_to_remainder(
    candidate: LonLatGeometry,
    sectors: gpd.GeoDataFrame | gpd.GeoSeries | SectorIndex,
    *,
    min_part_m2: float = 10.0,
    sliver_m: float = 0.5,
) -> LonLatGeometry:
    """The part of ``candidate`` not already covered by ``sectors``.

    ``candidate`` is a lon/lat (Multi)Polygon; ``sectors`` a GeoDataFrame in any
    CRS or a prebuilt :class:`geo.overlap.SectorIndex`. Only the sectors that
    touch the candidate (found with the spatial index) are subtracted. Strips
    narrower than ``2 * sliver_m`` metres and parts smaller than ``min_part_m2``
    (left where the same edge was drawn a little apart) are dropped. Returns a
    lon/lat (Multi)Polygon; raises :class:`InputError` when nothing is left.
    """
    index = sectors if isinstance(sectors, SectorIndex) else SectorIndex(sectors)
    cand = BngGeometry(shapely.make_valid(geoms_to_bng(candidate)))
    hits = index.query(cand)
    rest: BaseGeometry = cand
    if len(hits):
        rest = shapely.difference(cand, shapely.union_all(index.geoms[hits]))
        # open by ``sliver_m``: strips thinner than 2 × sliver_m along a neighbour's
        # edge (the same line digitised, or reprojected, a little apart) go
        rest = shapely.buffer(shapely.buffer(rest, -sliver_m, join_style="mitre"), sliver_m,
                              join_style="mitre")
        rest = shapely.intersection(rest, cand)
    parts = shapely.get_parts(polygonal_part(np.array([rest], dtype=object)))
    parts = parts[shapely.area(parts) >= min_part_m2] if len(parts) else parts
    if len(parts) == 0:
        raise InputError("Nothing is left: the whole shape is already covered by other sectors.")
    # one array of parts without ``indices`` makes one MultiPolygon; shapely's stubs
    # also allow an array back
    out = parts[0] if len(parts) == 1 else cast(BaseGeometry, shapely.multipolygons(parts))
    return geoms_to_lonlat(BngGeometry(out))


def subdivide(geoms: np.ndarray, tile_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Cut big BNG polygons into pieces no larger than ``tile_m`` square.

    Returns ``(pieces, owner)`` where ``owner[k]`` is the position in ``geoms``
    of piece ``k``. Like PostGIS ``ST_Subdivide``: intersecting a small shape
    with a 2 km piece of a borough is far cheaper than with the whole borough,
    and the pieces make a sharper spatial index. Tiles are aligned to multiples
    of ``tile_m`` in EPSG:27700.
    """
    geoms = np.asarray(geoms, dtype=object)
    b = shapely.bounds(geoms)
    x0 = np.floor(b[:, 0] / tile_m)
    y0 = np.floor(b[:, 1] / tile_m)
    nx = np.maximum(np.ceil(b[:, 2] / tile_m) - x0, 1).astype(int)
    ny = np.maximum(np.ceil(b[:, 3] / tile_m) - y0, 1).astype(int)
    count = nx * ny
    owner = np.repeat(np.arange(len(geoms)), count)
    k = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
    tx = (x0[owner] + k % nx[owner]) * tile_m
    ty = (y0[owner] + k // nx[owner]) * tile_m
    tiles = shapely.box(tx, ty, tx + tile_m, ty + tile_m)
    shapely.prepare(geoms)
    hit = shapely.intersects(geoms[owner], tiles)
    tiles, owner = tiles[hit], owner[hit]
    inside = shapely.contains_properly(geoms[owner], tiles)
    pieces = tiles.copy()
    edge = ~inside
    pieces[edge] = polygonal_part(shapely.intersection(geoms[owner[edge]], tiles[edge]))
    keep = ~shapely.is_missing(pieces)
    return pieces[keep], owner[keep]
