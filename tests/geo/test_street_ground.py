"""Ground from chosen street names, on the real Southwark and Lambeth extract: the streets
near a place, each chosen street merged per name, clipped to the neighbourhood and buffered
a stated width either side; and areas named by the streets through them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import shapely

import geo
from geo.crs import geoms_to_bng, geoms_to_lonlat
from geo.street_ground import MAX_STREETS

DATA = Path(__file__).resolve().parents[2] / "data" / "streets"


@pytest.fixture(scope="module")
def lines():
    return geo.read_streets(DATA / "southwark_lambeth.osm.pbf")


def _bng(lines, name):
    return lines[lines["name"] == name].to_crs(27700).geometry.values


@pytest.fixture(scope="module")
def borough(lines):
    """400 m round the middle of Borough High Street (BNG)."""
    return shapely.union_all(_bng(lines, "Borough High Street")).centroid.buffer(400)


def test_streets_near_are_named_walkable_lines_each_once(lines, borough):
    names = geo.streets_near(lines, borough)
    assert {"Borough High Street", "Marshalsea Road", "Tabard Street"} <= set(names)
    assert names == sorted(set(names), key=lambda n: (n.casefold(), n))
    assert "" not in names
    # railways (on a viaduct or in a tunnel) are not streets; far streets are not near
    assert not {"Thameslink", "Northern Line (Bank Branch)", "Bakerloo Line"} & set(names)
    assert "Vauxhall Street" not in names
    assert geo.streets_near(lines, shapely.Point(0, 0).buffer(10)) == []


def test_a_chosen_street_is_merged_clipped_and_buffered_either_side(lines, borough):
    ground, used = geo.street_ground(lines, ["Borough High Street"], borough, 15.0)
    assert used == ["Borough High Street"]
    bng = geoms_to_bng(ground)
    # its nine lines (dual carriageway pieces) become one piece of ground
    assert bng.geom_type == "Polygon"
    street = shapely.intersection(shapely.union_all(_bng(lines, "Borough High Street")), borough)
    assert shapely.covers(bng.buffer(0.01), street)
    # 15 m either side: at most 30 m x the length plus the round ends; never beyond 15 m
    assert bng.area <= 30 * street.length + np.pi * 15 ** 2 * 9
    assert bng.area >= 15 * street.length  # carriageways side by side overlap, not vanish
    assert shapely.covers(borough.buffer(16), bng)
    assert bng.hausdorff_distance(street) <= 15.5


def test_the_neighbourhood_clips_a_long_street(lines, borough):
    whole, _ = geo.street_ground(lines, ["Borough High Street"], borough, 15.0)
    small = shapely.union_all(_bng(lines, "Borough High Street")).centroid.buffer(40)
    part, _ = geo.street_ground(lines, ["Borough High Street"], small, 15.0)
    assert geoms_to_bng(part).area < 0.8 * geoms_to_bng(whole).area
    assert shapely.covers(small.buffer(16), geoms_to_bng(part))


def test_wider_ground_for_a_wider_stated_width_and_two_streets_join(lines, borough):
    narrow, _ = geo.street_ground(lines, ["Marshalsea Road"], borough, 10.0)
    wide, _ = geo.street_ground(lines, ["Marshalsea Road"], borough, 20.0)
    assert geoms_to_bng(wide).area > 1.5 * geoms_to_bng(narrow).area
    both, used = geo.street_ground(lines, ["Marshalsea Road", " Borough High Street "],
                                   borough, 15.0)
    assert used == ["Borough High Street", "Marshalsea Road"]
    one, _ = geo.street_ground(lines, ["Borough High Street"], borough, 15.0)
    assert geoms_to_bng(both).area > geoms_to_bng(one).area


def test_plain_words_for_no_street_too_many_or_one_not_near(lines, borough):
    with pytest.raises(geo.InputError, match="Choose at least one street"):
        geo.street_ground(lines, ["  "], borough, 15.0)
    with pytest.raises(geo.InputError, match=f"at most {MAX_STREETS}"):
        geo.street_ground(lines, [f"Street {i}" for i in range(MAX_STREETS + 1)], borough, 15)
    with pytest.raises(geo.InputError, match="'Vauxhall Street' is not a street near"):
        geo.street_ground(lines, ["Vauxhall Street"], borough, 15.0)
    with pytest.raises(geo.InputError, match="is not a street near"):
        geo.street_ground(lines, ["Thameslink"], borough, 15.0)


def test_areas_are_named_by_the_streets_through_them(lines):
    union_st = shapely.union_all(_bng(lines, "Union Street"))
    along = union_st.buffer(12)
    far = shapely.Point(0, 0).buffer(10)
    names = geo.streets_through(lines, geoms_to_lonlat(np.array([along, far],
                                                                   dtype=object)))
    assert names[0][0] == "Union Street" and len(names[0]) <= 2
    assert names[1] == []
    assert geo.streets_through(lines, []) == []
