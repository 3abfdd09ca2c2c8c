"""Jurisdiction shares on a small made-up London: known answers, sums of 1, straddling.

Layout (1 km squares, BNG): boroughs B1 (SW), B2 (SE), B3 (NW), B4 (NE). BCU
"W" is B1+B3, BCU "E" is B2; B4 is the "City", a force of its own outside every
BCU. Force "Met" is B1+B2+B3.
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

from geo.crs import BNG, geoms_to_lonlat
from geo.jurisdiction import OUTSIDE, Jurisdictions, cutting_areas, jurisdiction_shares
from geo.testing import assert_each_within_one, assert_no_overlaps, assert_shares_sum_to_one

X0, Y0 = 530_000.0, 180_000.0


def sq(x, y, w=1_000, h=1_000):
    return box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)


def layers() -> dict[str, gpd.GeoDataFrame]:
    b = [sq(0, 0), sq(1_000, 0), sq(0, 1_000), sq(1_000, 1_000)]
    borough = gpd.GeoDataFrame({"code": ["B1", "B2", "B3", "B4"],
                                "name": ["One", "Two", "Three", "City"]}, geometry=b, crs=BNG)
    bcu = gpd.GeoDataFrame({"code": ["W", "E"], "name": ["West", "East"]},
                           geometry=[sq(0, 0, 1_000, 2_000), sq(1_000, 0)], crs=BNG)
    force = gpd.GeoDataFrame({"code": ["MET", "COL"], "name": ["Met", "City of London"]},
                             geometry=[shapely.union_all([b[0], b[1], b[2]]), b[3]],
                             crs=BNG).to_crs(4326)  # any CRS
    return {"borough": borough, "bcu": bcu, "force": force}


def shares_of(table, sector, layer):
    rows = table[(table["sector"] == sector) & (table["layer"] == layer)]
    return dict(zip(rows["code"], rows["share"], strict=True))


def test_known_shares_for_a_sector_on_the_crossroads():
    sectors = gpd.GeoDataFrame(
        {"id": ["X", "in-B1", "sea"]},
        geometry=[sq(500, 500), sq(100, 100, 200, 200), sq(5_000, 0, 100, 100)], crs=BNG,
    )
    table = jurisdiction_shares(sectors, layers())
    assert list(table.columns) == ["sector", "layer", "code", "name", "area_m2", "share"]
    assert_shares_sum_to_one(table)
    x = shares_of(table, "X", "borough")
    assert x == pytest.approx({"B1": 0.25, "B2": 0.25, "B3": 0.25, "B4": 0.25})
    assert shares_of(table, "X", "bcu") == pytest.approx({"W": 0.5, "E": 0.25, OUTSIDE: 0.25})
    assert shares_of(table, "X", "force") == pytest.approx({"MET": 0.75, "COL": 0.25}, rel=1e-6)
    assert shares_of(table, "in-B1", "borough") == {"B1": 1.0}
    assert shares_of(table, "sea", "force") == {OUTSIDE: 1.0}
    row = table[(table["sector"] == "X") & (table["code"] == "W")].iloc[0]
    assert row["area_m2"] == pytest.approx(500_000)
    assert row["name"] == "West"


def test_tags_main_unit_and_straddling():
    j = Jurisdictions(layers())
    sectors = [
        geoms_to_lonlat(sq(500, 500)),  # crossroads: straddles BCUs and forces
        geoms_to_lonlat(sq(200, 200, 300, 300)),  # inside B1 / W / Met
        geoms_to_lonlat(sq(200, 500, 300, 800)),  # B1 and B3, but one BCU, one force
        geoms_to_lonlat(sq(995, 100, 500, 100)),  # 1% of it in W: a digitising sliver
    ]
    tags = j.tags(sectors)
    assert list(tags["bcu"]) == ["W", "W", "W", "E"]
    assert list(tags["borough"])[1:3] == ["B1", "B1"]
    assert list(tags["straddles"]) == [True, False, False, False]
    assert list(tags["straddles_force"]) == [True, False, False, False]
    assert tags["borough_shares"].iloc[2] == pytest.approx({"B1": 5 / 8, "B3": 3 / 8}, rel=1e-5)
    assert tags["area_m2"].iloc[1] == pytest.approx(90_000, rel=1e-3)


def test_many_sectors_shares_sum_to_one_against_brute_force():
    rng = np.random.default_rng(3)
    n = 400
    x = rng.uniform(-500, 2_200, n)
    y = rng.uniform(-500, 2_200, n)
    w = rng.uniform(20, 800, n)
    geoms = shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + w)
    sectors = gpd.GeoDataFrame({"id": [f"S{i}" for i in range(n)]}, geometry=geoms, crs=BNG)
    lay = layers()
    table = jurisdiction_shares(sectors, lay)
    assert_shares_sum_to_one(table)
    # brute force for boroughs (a test may loop)
    boroughs = np.asarray(lay["borough"].geometry.values)
    for i in range(0, n, 37):
        want = shapely.area(shapely.intersection(geoms[i], boroughs)) / geoms[i].area
        got = shares_of(table, f"S{i}", "borough")
        for code, share in zip(lay["borough"]["code"], want, strict=True):
            assert got.get(code, 0.0) == pytest.approx(share, abs=1e-9)


def test_overlapping_layer_polygons_still_sum_to_one():
    lay = layers()
    lay["borough"] = gpd.GeoDataFrame({"code": ["A", "B"], "name": ["A", "B"]},
                                      geometry=[sq(0, 0, 1_100), sq(1_000, 0)], crs=BNG)
    table = jurisdiction_shares([geoms_to_lonlat(sq(900, 100, 200, 200))], lay)
    assert_shares_sum_to_one(table)


def test_cutting_areas_combine_bcus_and_forces_outside_them():
    lay = layers()
    # BCU "W" spills 30 m east over BCU "E" and into the City, as layers from two
    # sources do: the smaller unit keeps overlaps and force lines win
    lay["bcu"] = lay["bcu"].set_geometry([sq(0, 0, 1_030, 2_000), sq(1_000, 0)], crs=BNG)
    cut = cutting_areas(lay)
    # BCUs clipped to the Met, then every other force (here the City)
    assert list(cut["code"]) == ["W", "E", "COL"]
    assert list(cut["layer"]) == ["bcu", "bcu", "force"]
    assert cut.area.sum() == pytest.approx(4e6)
    assert_no_overlaps(cut, tol_m2=1.0)
    # a grid cut by it never straddles a BCU or a force
    from geo.grid import make_grid

    grid = make_grid(geoms_to_lonlat(sq(300, 300, 1_400, 1_400)), 300, cut_by=cut)
    assert_each_within_one(grid, cut, edge_m=0.002)
    tags = Jurisdictions(lay).tags(grid)
    assert not tags["straddles"].any()


def test_unit_at_finds_the_ward_and_neighbourhood_under_a_point():
    from geo.boundaries import load_layer
    from geo.crs import geoms_to_lonlat
    from geo.jurisdiction import unit_at

    for layer in ("ward", "neighbourhood"):
        gdf = load_layer(layer)
        for k in (0, len(gdf) // 2, len(gdf) - 1):
            inside = gdf.geometry.iloc[k].representative_point()
            pt = geoms_to_lonlat(inside)
            assert unit_at(layer, pt.y, pt.x) == str(gdf["code"].iloc[k])
    assert unit_at("ward", 55.95, -3.19) is None  # Edinburgh
