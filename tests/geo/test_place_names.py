"""Places in words (ward, borough, nearest postcode) and ground from postcodes + a radius."""

from __future__ import annotations

import pytest
import shapely
from shapely.geometry import box

from geo import InputError, lookup_postcode, place_names, postcode_circles
from geo.crs import geoms_to_bng


def test_place_names_give_ward_borough_and_nearest_postcode():
    near = lookup_postcode("EC4M 8AD")
    square = box(near.lon - 0.0003, near.lat - 0.0002, near.lon + 0.0003, near.lat + 0.0002)
    (place,) = place_names([square])
    assert place.borough == "City of London" and place.ward
    assert place.postcode == "EC4M 8AD"
    assert place.text == f"{place.ward}, City of London · near EC4M 8AD"
    assert place_names([]) == []


def test_postcode_circles_cover_the_radius_around_each_postcode():
    shape, codes = postcode_circles(" se1 9dt ;EC4M 8AD", 150)
    assert codes == ["SE1 9DT", "EC4M 8AD"]
    bng = geoms_to_bng(shape)
    # two circles of 150 m (a little under pi r^2 each: buffers are polygons)
    assert 2 * 0.98 * 3.1416 * 150**2 < shapely.area(bng) <= 2 * 3.1416 * 150**2
    for code in codes:
        hit = lookup_postcode(code)
        assert shape.contains(shapely.Point(hit.lon, hit.lat))


@pytest.mark.parametrize(("text", "radius", "message"), [
    ("", 100, "at least one postcode"),
    ("SE1", 100, "first half"),
    ("ZZ99 9ZZ", 100, "not a London postcode"),
    ("SE1 9DT", 5, "between"),
    ("SE1 9DT", 5000, "between"),
    (",".join(["SE1 9DT"] * 21), 100, "at most"),
])
def test_postcode_circles_refuse_what_they_cannot_place(text, radius, message):
    with pytest.raises(InputError, match=message):
        postcode_circles(text, radius)
