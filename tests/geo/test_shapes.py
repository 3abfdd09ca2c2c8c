"""Drawn and imported shapes: repairs, clear refusals, clip to what is left."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

import geo
from geo.crs import BNG, geoms_to_bng, geoms_to_lonlat
from geo.shapes import clean_shape, clip_to_remainder, shape_from_geojson, subdivide

X0, Y0 = 530_000.0, 180_000.0


def ll(geom):
    return geoms_to_lonlat(geom)


def test_valid_shape_passes_untouched():
    square = ll(box(X0, Y0, X0 + 100, Y0 + 100))
    out, notes = clean_shape(square)
    assert out.equals(square)
    assert notes == []


def test_bowtie_repaired_into_two_triangles_with_note():
    bow = ll(shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)]))
    out, notes = clean_shape(bow, what="drawn sector")
    assert out.is_valid and out.geom_type == "MultiPolygon" and len(out.geoms) == 2
    assert geoms_to_bng(out).area == pytest.approx(5_000, rel=1e-3)
    assert "crossing" in notes[0]


@pytest.mark.parametrize(
    ("geom", "message"),
    [
        (None, "no outline"),
        (shapely.Polygon(), "no outline"),
        (shapely.Point(-0.1, 51.5), "not an area"),
        (shapely.LineString([(-0.1, 51.5), (-0.09, 51.5)]), "not an area"),
        (shapely.Polygon([(-0.1, 51.5), (-0.09, 51.51), (-0.1, 51.5), (-0.09, 51.51)]),
         "cannot be repaired"),
        (box(2.30, 48.80, 2.40, 48.90), "outside the UK"),
        (box(51.50, -0.10, 51.51, -0.09), "swapped"),
        (box(530_000, 180_000, 530_100, 180_100), "metres where degrees"),
        (box(-2.0, 51.0, 1.0, 53.0), "larger than"),
        (ll(box(X0, Y0, X0 + 0.5, Y0 + 0.5)), "no area"),
    ],
    ids=["none", "empty", "point", "line", "collapsed", "paris", "swapped", "metres",
         "region", "tiny"],
)
def test_refusals_say_what_is_wrong(geom, message):
    with pytest.raises(geo.InputError, match=message):
        clean_shape(geom)


def test_geojson_from_the_draw_tool():
    geom = {"type": "Polygon", "coordinates": [[[-0.1, 51.5], [-0.09, 51.5], [-0.09, 51.51],
                                                [-0.1, 51.5]]]}
    out, _ = shape_from_geojson(geom)
    assert out.geom_type == "Polygon"
    with pytest.raises(geo.InputError, match="could not be read"):
        shape_from_geojson("{not json")


def test_clip_to_remainder_known_area():
    existing = gpd.GeoDataFrame(
        {"id": ["A", "B", "far"]},
        geometry=[box(X0, Y0, X0 + 50, Y0 + 100), box(X0 + 80, Y0, X0 + 200, Y0 + 100),
                  box(X0 + 5_000, Y0, X0 + 5_100, Y0 + 100)],
        crs=BNG,
    )
    cand = ll(box(X0, Y0, X0 + 100, Y0 + 100))
    rest = clip_to_remainder(cand, existing)
    rest_bng = geoms_to_bng(rest)
    assert rest_bng.area == pytest.approx(30 * 100, rel=1e-3)
    assert rest_bng.within(box(X0 + 49.9, Y0 - 0.1, X0 + 80.1, Y0 + 100.1))


def test_clip_to_remainder_drops_slivers_and_refuses_nothing_left():
    existing = gpd.GeoDataFrame({"id": ["A"]}, geometry=[box(X0, Y0, X0 + 99.99, Y0 + 100)],
                                crs=BNG)
    with pytest.raises(geo.InputError, match="Nothing is left"):
        clip_to_remainder(ll(box(X0, Y0, X0 + 100, Y0 + 100)), existing)


def test_subdivide_keeps_area_and_owner():
    big = box(X0, Y0, X0 + 10_500, Y0 + 4_100).difference(box(X0 + 100, Y0 + 100, X0 + 200,
                                                              Y0 + 200))
    small = box(X0 + 20_000, Y0, X0 + 20_010, Y0 + 10)
    pieces, owner = subdivide([big, small], 2_000)
    assert shapely.area(pieces[owner == 0]).sum() == pytest.approx(big.area)
    assert shapely.area(pieces[owner == 1]).sum() == pytest.approx(small.area)
    widths = shapely.bounds(pieces)[:, 2] - shapely.bounds(pieces)[:, 0]
    assert widths.max() <= 2_000 + 1e-6


def test_circle_is_round_on_the_ground_not_in_degrees():
    from geo.crs import geoms_to_bng
    from geo.shapes import circle

    ring = circle(51.5074, -0.1278, 500.0)
    bng = geoms_to_bng(ring)
    # a 128-sided polygon of radius 500 m: area within 0.1 % of pi r^2
    assert bng.area == pytest.approx(np.pi * 500.0**2, rel=1e-3)
    minx, miny, maxx, maxy = bng.bounds
    assert maxx - minx == pytest.approx(1000.0, abs=0.5)
    assert maxy - miny == pytest.approx(1000.0, abs=0.5)
    with pytest.raises(geo.InputError, match="radius"):
        circle(51.5, -0.1, 0)
