"""Postcode-unit sectors (the fallback when no street extract is loaded): known answers.

On the real Code-Point postcodes and ward boundaries of Southwark: the sectors tile
the area exactly; none crosses a ward edge or a ``cut_by`` edge; none is over four
times the target and at most 10 % are under a quarter of it unless ward or cut
lines enclose them that small; each is named by the postcodes whose cells it holds.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import geo
from geo.crs import geoms_to_bng
from geo.polygons import geoms_bng
from geo.postcode_sectors import SLIVER_SHARE, postcode_sectors
from geo.postcodes import postcodes_in
from geo.shapes import circle
from geo.testing import assert_covers_exactly, assert_each_within_one, assert_no_overlaps

ROUND_TRIP_M = 0.002

#: (lat, lon, radius m, target m²)
PLACES = {
    "borough": (51.5012, -0.0927, 600, 40_000),
    "elephant": (51.4958, -0.1045, 800, 62_500),
    "peckham_rye": (51.4640, -0.0620, 900, 90_000),  # a large park: few postcodes
}


@pytest.fixture(scope="module")
def made():
    out = {}
    for key, (lat, lon, r, target) in PLACES.items():
        area = circle(lat, lon, r)
        out[key] = (area, postcode_sectors(area, target))
    return out


def _bng(frame):
    return shapely.make_valid(geoms_to_bng(np.array(frame.geometry.values, dtype=object)))


def _fence(area):
    """Ward edges and the area's edge near the area (BNG lines)."""
    wards = geo.load_layer("ward")
    bng = geoms_to_bng(area)
    near = geoms_bng(wards)
    near = near[shapely.intersects(near, bng)]
    return shapely.union_all(np.concatenate([shapely.boundary(near), [shapely.boundary(bng)]]))


@pytest.mark.parametrize("key", PLACES)
def test_sectors_tile_the_area(made, key):
    area, sectors = made[key]
    assert sectors.crs.to_epsg() == 4326
    assert sectors["id"].is_unique
    assert shapely.is_valid(np.array(sectors.geometry.values, dtype=object)).all()
    assert_no_overlaps(sectors)
    assert_covers_exactly(sectors, geoms_to_bng(area), edge_m=ROUND_TRIP_M)


@pytest.mark.parametrize("key", PLACES)
def test_sizes_within_the_street_sector_bounds(made, key):
    area, sectors = made[key]
    target = PLACES[key][3]
    assert sectors["area_m2"].max() <= 4 * target
    small = sectors["area_m2"].to_numpy() < target / 4
    loose = shapely.length(shapely.difference(shapely.boundary(_bng(sectors)),
                                              shapely.buffer(_fence(area), 0.5)))
    assert (small & (loose > 1.0)).sum() <= 0.1 * len(sectors)
    assert np.median(sectors["area_m2"]) >= target / 4
    # no slivers at all: nothing under a twentieth of the target
    assert sectors["area_m2"].min() > target / 20


@pytest.mark.parametrize("key", PLACES)
def test_no_sector_crosses_a_ward_edge(made, key):
    """Ward edges bound sectors, except round a sliver of a ward the area only grazes
    (a part under a quarter of the target), which joins its neighbour."""
    area, sectors = made[key]
    target = PLACES[key][3]
    wards = geo.load_layer("ward")
    near = wards[wards.to_crs(4326).intersects(area)]
    assert len(near) >= 2
    pieces = shapely.get_parts(shapely.intersection(geoms_bng(near), geoms_to_bng(area)))
    sliver = shapely.area(pieces) < SLIVER_SHARE * target
    edges = shapely.difference(shapely.union_all(shapely.boundary(pieces[~sliver])),
                               shapely.buffer(shapely.union_all(pieces[sliver]), 1.0))
    inner = shapely.buffer(_bng(sectors), -1.0)
    crossed = shapely.length(shapely.intersection(edges, inner))
    assert (crossed < 1.0).all(), sectors.loc[crossed >= 1.0, ["id", "name"]]


@pytest.mark.parametrize("key", PLACES)
def test_named_by_their_postcodes(made, key):
    area, sectors = made[key]
    held = postcodes_in(area.bounds)
    inside = held[shapely.contains_xy(area, held["lon"], held["lat"])]
    # every postcode centroid inside the area names the sector it falls in
    pts = gpd.GeoDataFrame(inside, geometry=gpd.points_from_xy(inside["lon"], inside["lat"]),
                           crs=4326)
    hit = gpd.sjoin(pts, sectors[["name", "postcodes", "geometry"]], predicate="within")
    sector_of = hit["postcode"].str.slice(0, -2) + "…"
    shown = [(pc in name or sec in name or name.endswith("…)"))
             for pc, sec, name in zip(hit["postcode"], sector_of, hit["name"], strict=True)]
    assert np.mean(shown) > 0.9
    assert (sectors["postcodes"] >= 1).all()
    assert sectors["name"].str.match(r"^[A-Z]{1,2}[0-9][A-Z0-9]? [0-9]").all()


def test_cut_at_borough_lines():
    """Elephant & Castle straddles Southwark and Lambeth: no sector does."""
    boroughs = geo.load_layer("borough")
    area = circle(51.4958, -0.1045, 500)
    sectors = postcode_sectors(area, 40_000, cut_by=boroughs)
    assert set(sectors["area_name"]) >= {"Southwark", "Lambeth"}
    near = boroughs[boroughs.to_crs(4326).intersects(area)]
    assert len(near) >= 2
    assert_each_within_one(sectors, near, edge_m=ROUND_TRIP_M)
    assert_covers_exactly(sectors, geoms_to_bng(area), edge_m=ROUND_TRIP_M)
    assert_no_overlaps(sectors)


def test_known_cells_on_a_made_up_square():
    """Four postcodes at the corners of a 200 m square, one ward: four cells, or merged."""
    centre = shapely.Point(530000, 180000)
    area_bng = shapely.box(centre.x - 200, centre.y - 200, centre.x + 200, centre.y + 200)
    area = geo.crs.geoms_to_lonlat(area_bng)
    ward = gpd.GeoDataFrame({"code": ["W"], "name": ["Ward"]},
                            geometry=[shapely.buffer(area_bng, 500)], crs=27700)
    offsets = [(-100, -100), (100, -100), (-100, 100), (100, 100)]
    pts = geo.crs.geoms_to_lonlat(shapely.points([(centre.x + dx, centre.y + dy)
                                                  for dx, dy in offsets]))
    table = pd.DataFrame({"postcode": ["SE1 0AA", "SE1 0AB", "SE1 1AA", "SE1 1AB"],
                          "lon": shapely.get_x(pts), "lat": shapely.get_y(pts)})
    quarters = postcode_sectors(area, 40_000, wards=ward, postcodes=table)
    assert len(quarters) == 4
    assert np.allclose(quarters["area_m2"], 40_000, rtol=1e-3)
    assert sorted(quarters["name"]) == ["SE1 0AA", "SE1 0AB", "SE1 1AA", "SE1 1AB"]
    halves = postcode_sectors(area, 80_000, wards=ward, postcodes=table)
    assert len(halves) == 2
    assert np.allclose(halves["area_m2"], 80_000, rtol=1e-3)


def test_bad_input_is_refused():
    area = circle(51.5, -0.09, 300)
    with pytest.raises(geo.InputError):
        postcode_sectors(area, 10)
    with pytest.raises(geo.InputError):
        postcode_sectors(area, 10_000, postcodes=pd.DataFrame(
            {"postcode": [], "lon": [], "lat": []}))
