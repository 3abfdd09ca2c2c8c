"""Street-bounded sectors on the real Southwark/Lambeth fixtures: known answers.

The sectors tile the area exactly; no sector's interior is crossed by a major road,
railway or river (nor by a borough edge when cut); none is over four times the
target; at most 10 % are under a quarter of it unless major lines enclose them that
small; and they are named by real streets.
"""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import geo
from geo.crs import geoms_to_bng
from geo.shapes import circle
from geo.testing import assert_covers_exactly, assert_each_within_one, assert_no_overlaps

PBF = Path(__file__).resolve().parents[2] / "data" / "streets" / "southwark_lambeth.osm.pbf"
ROUND_TRIP_M = 0.002

#: (lat, lon, radius m, target m², a street that must name some sector)
PLACES = {
    "elephant": (51.4958, -0.1045, 300, 20_000, "St George's Road"),
    "union_street": (51.5012, -0.1020, 300, 10_000, "Union Street"),
    "borough": (51.5012, -0.0927, 250, 10_000, "Borough High Street"),
    "vauxhall": (51.4897, -0.1150, 200, 8_000, "Vauxhall Street"),
    # 2 km round Elephant & Castle: all four extracts, and much ground without streets
    "southwark_2km": (51.4965, -0.1010, 2_000, 100_000, "Borough High Street"),
}


@pytest.fixture(scope="module")
def streets():
    return geo.read_streets(PBF)


@pytest.fixture(scope="module")
def made(streets):
    out = {}
    for key, (lat, lon, r, target, _) in PLACES.items():
        area = circle(lat, lon, r)
        out[key] = (area, geo.street_sectors(area, streets, target))
    return out


def _bng(frame):
    return shapely.make_valid(geoms_to_bng(np.array(frame.geometry.values, dtype=object)))


def _majors(streets, sectors):
    lines = streets[streets["major"] & streets["ground"]]
    geoms = geoms_to_bng(np.array(lines.geometry.values, dtype=object))
    ext = shapely.from_wkt(sectors.attrs["extensions"])
    return np.concatenate([geoms, shapely.get_parts(geoms_to_bng(ext))])


@pytest.mark.parametrize("key", PLACES)
def test_sectors_tile_the_area(made, key):
    area, sectors = made[key]
    assert sectors.crs.to_epsg() == 4326
    assert list(sectors.columns[:3]) == ["id", "name", "area_m2"]
    assert sectors["id"].is_unique
    assert shapely.is_valid(np.array(sectors.geometry.values, dtype=object)).all()
    assert_no_overlaps(sectors)
    assert_covers_exactly(sectors, geoms_to_bng(area), edge_m=ROUND_TRIP_M)


@pytest.mark.parametrize("key", PLACES)
def test_no_major_line_crosses_a_sector(made, streets, key):
    _, sectors = made[key]
    inner = shapely.buffer(_bng(sectors), -0.5)
    majors = shapely.union_all(_majors(streets, sectors))
    crossed = shapely.length(shapely.intersection(majors, inner))
    assert crossed.max() < 0.01, sectors.loc[crossed > 0.01, ["id", "name"]]


@pytest.mark.parametrize("key", PLACES)
def test_sizes_within_bounds(made, streets, key):
    area, sectors = made[key]
    target = PLACES[key][3]
    assert sectors["area_m2"].max() <= 4 * target
    small = sectors["area_m2"].to_numpy() < target / 4
    # small sectors must be enclosed by major lines (or the area's edge) that small
    fence = shapely.union_all(np.concatenate([_majors(streets, sectors),
                                              [shapely.boundary(geoms_to_bng(area))]]))
    loose = shapely.length(shapely.difference(shapely.boundary(_bng(sectors)),
                                              shapely.buffer(fence, 0.5)))
    assert (small & (loose > 1.0)).sum() <= 0.1 * len(sectors)
    # and merging happened: most sectors are more than one block of the target's size
    assert np.median(sectors["area_m2"]) >= target / 4


@pytest.mark.parametrize("key", PLACES)
def test_named_by_their_streets(made, key):
    _, sectors = made[key]
    street = PLACES[key][4]
    assert sectors["name"].str.contains(street, regex=False).any()
    if key != "southwark_2km":  # the fixtures cover little of 2 km round
        assert (sectors["name"] != "no named streets").mean() > 0.5


def test_names_come_from_the_sector_edges(made, streets):
    """A sector named for a street lies next to it."""
    _, sectors = made["union_street"]
    union = streets[streets["name"] == "Union Street"]
    line = shapely.union_all(geoms_to_bng(np.array(union.geometry.values, dtype=object)))
    named = sectors[sectors["name"].str.contains("Union Street", regex=False)]
    assert len(named)
    assert (shapely.distance(_bng(named), line) < 1.0).all()


def test_cut_at_borough_lines(streets):
    """Elephant & Castle straddles Southwark and Lambeth: no sector does."""
    boroughs = geo.load_layer("borough")
    area = circle(51.4958, -0.1045, 300)
    sectors = geo.street_sectors(area, streets, 20_000, cut_by=boroughs)
    assert set(sectors["area_name"]) >= {"Southwark", "Lambeth"}
    area_bng = geoms_to_bng(area)
    near = boroughs[boroughs.intersects(gpd.GeoSeries([area_bng], crs=27700)
                                        .to_crs(boroughs.crs).iloc[0])]
    assert_each_within_one(sectors, near, edge_m=ROUND_TRIP_M)
    assert_covers_exactly(sectors, area_bng, edge_m=ROUND_TRIP_M)
    assert_no_overlaps(sectors)


def test_same_input_same_sectors(made, streets):
    area, first = made["borough"]
    again = geo.street_sectors(area, streets, PLACES["borough"][3])
    assert first["id"].tolist() == again["id"].tolist()
    assert first["name"].tolist() == again["name"].tolist()


def test_ground_without_streets_is_cut_into_target_cells():
    empty = gpd.GeoDataFrame({"name": [], "major": []}, geometry=[], crs=4326)
    area = circle(51.45, -0.05, 400)
    sectors = geo.street_sectors(area, empty, 40_000)
    assert sectors["area_m2"].max() <= 4 * 40_000
    assert_covers_exactly(sectors, geoms_to_bng(area), edge_m=ROUND_TRIP_M)
    assert any("square cells" in n for n in sectors.attrs["notes"])


def test_bad_input_is_refused(streets):
    area = circle(51.5012, -0.1020, 300)
    for bad in (10, 1e12, "big", float("nan")):
        with pytest.raises(geo.InputError):
            geo.street_sectors(area, streets, bad)
    with pytest.raises(geo.InputError):
        geo.street_sectors(area, streets.drop(columns="major"), 10_000)
    with pytest.raises(geo.InputError):
        geo.street_sectors(circle(51.5, -0.1, 20_000), streets, 1_000)
