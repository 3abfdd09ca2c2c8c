"""Streets cut into map tiles for the street layer: known answers on the Southwark fixture."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import geo
from geo.polygons import geoms_bng
from geo.street_tiles import SIMPLIFY_M, street_tiles, tile_bounds, tile_xy

PBF = Path(__file__).resolve().parents[2] / "data" / "streets" / "southwark_lambeth.osm.pbf"


@pytest.fixture(scope="module")
def streets():
    return geo.read_streets(PBF)


@pytest.fixture(scope="module")
def tiles(streets):
    return street_tiles(streets)


def _lines(tile) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame.from_features(json.loads(tile.body)["features"], crs=4326)


def test_tile_grid_is_the_slippy_map_grid():
    # Tower Bridge is in tile 14/8188/5448 of the OpenStreetMap grid
    x, y = tile_xy(-0.0754, 51.5055, 14)
    assert (int(x), int(y)) == (8188, 5448)
    west, south, east, north = tile_bounds(x, y, 14)
    assert west < -0.0754 < east and south < 51.5055 < north
    assert east - west == pytest.approx(360 / 2**14)


def test_each_tile_holds_only_its_own_ground(tiles):
    assert len(tiles) >= 2
    for t in tiles:
        lines = _lines(t)
        assert len(lines) == t.features
        box = shapely.box(*(float(v) for v in tile_bounds(t.x, t.y, 14)))
        # coordinates are rounded to 5 decimals: within 1e-5 degrees of the tile
        assert shapely.covers(shapely.buffer(box, 1e-5), lines.geometry.values).all()


def test_no_ground_is_lost_and_tunnels_are_left_out(streets, tiles):
    ground = streets[streets["ground"]]
    want = shapely.length(shapely.simplify(geoms_bng(ground), SIMPLIFY_M)).sum()
    got = sum(shapely.length(geoms_bng(_lines(t))).sum() for t in tiles)
    assert got == pytest.approx(want, rel=0.005)
    under = streets[~streets["ground"]]
    assert len(under)  # the fixture has lines below ground (the Tube)
    drawn = shapely.union_all(np.concatenate([geoms_bng(_lines(t)) for t in tiles]))
    tube = geoms_bng(under)
    # lines below ground are not drawn (they may cross or meet a street, not run along it)
    along = shapely.length(shapely.intersection(shapely.buffer(drawn, 0.5), tube)).sum()
    assert along < 0.1 * shapely.length(tube).sum()


def test_names_kinds_and_majors_survive(tiles):
    frames = [_lines(t) for t in tiles]
    table = gpd.GeoDataFrame(np.concatenate([f[["n", "k", "m"]].to_numpy() for f in frames]),
                             columns=["n", "k", "m"])
    assert "Union Street" in set(table["n"])
    assert "Borough High Street" in set(table["n"])
    assert set(table["k"]) <= {"road", "path", "rail", "water"}
    assert {"road", "rail"} <= set(table["k"])
    assert set(table["m"]) == {0, 1}


def test_a_tile_is_bounded_in_size_keeping_the_most_useful_lines(streets, tiles):
    small = street_tiles(streets, max_bytes=4_000)
    assert all(len(t.body) <= 4_000 for t in small)
    assert any(t.dropped for t in small)
    full = {(t.x, t.y): json.loads(t.body)["features"] for t in tiles}
    for t in small:
        kept = json.loads(t.body)["features"]  # still a whole FeatureCollection
        assert len(kept) + t.dropped == len(full[(t.x, t.y)])
        # what is kept is the head of the tile's lines in order of use (major lines,
        # railways and water first, unnamed paths last)
        assert [f["properties"] for f in kept] == [
            f["properties"] for f in full[(t.x, t.y)][:len(kept)]]
    ranked = full[max(full, key=lambda k: len(full[k]))]
    assert ranked[0]["properties"]["m"] == 1 or ranked[0]["properties"]["k"] in ("rail",
                                                                                 "water")
    assert ranked[-1]["properties"]["k"] == "path" or not ranked[-1]["properties"]["n"]


def test_a_hostile_name_stays_data(streets):
    line = streets.iloc[[0]].copy()
    line["name"] = '</script><img src=x onerror="alert(1)">'
    line["ground"] = True
    (t,) = street_tiles(line)
    assert "<" not in t.body and ">" not in t.body  # \\u003c, the same JSON string
    assert json.loads(t.body)["features"][0]["properties"]["n"] == line["name"].iloc[0]


def test_no_streets_no_tiles(streets):
    assert street_tiles(streets.iloc[:0]) == []
