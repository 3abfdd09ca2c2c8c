"""The committed boundary layers: counts, codes, validity, tiling and display accuracy."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
import shapely

from geo.boundaries import (
    LAYERS,
    attribution,
    display_layer,
    display_path,
    layer_attribution,
    layer_info,
    layer_vintage,
    load_layer,
)
from geo.crs import geoms_to_bng
from geo.testing import assert_lines_within, assert_no_gaps, assert_no_overlaps
from vocab import settings

BOROUGH_CODES = [f"E090000{i:02d}" for i in range(1, 34)]
MAX_DISPLAY_ERROR_M = 5.0


def display_geoms(name: str) -> tuple[list[dict], np.ndarray]:
    fc = display_layer(name)
    feats = fc["features"]
    geoms = shapely.from_geojson([json.dumps(f["geometry"]) for f in feats])
    return feats, np.asarray(geoms)


# ----------------------------------------------------------------------- full layers


def test_borough_codes_and_names():
    b = load_layer("borough")
    assert list(b["code"]) == BOROUGH_CODES
    names = dict(zip(b["code"], b["name"], strict=True))
    assert names["E09000001"] == "City of London"
    assert names["E09000033"] == "Westminster"
    assert b.crs.to_epsg() == 27700


def test_layer_counts_and_validity():
    expected = {"borough": 33, "bcu": 12, "force": 7, "ward": 657, "neighbourhood": 658}
    for name in LAYERS:
        gdf = load_layer(name)
        assert len(gdf) == expected[name], name
        assert gdf["code"].is_unique, name
        assert gdf["name"].notna().all(), name
        assert gdf.is_valid.all(), name
        assert (~gdf.is_empty).all(), name
        assert gdf.crs.to_epsg() == 27700, name


def test_load_layer_is_cached_and_rejects_unknown_names():
    assert load_layer("ward") is load_layer("ward")
    with pytest.raises(ValueError):
        load_layer("county")


def test_forces_names_and_ons_codes():
    f = load_layer("force").set_index("code")["name"].to_dict()
    assert f == {
        "E23000001": "Metropolitan Police Service",
        "E23000027": "Hertfordshire Constabulary",
        "E23000028": "Essex Police",
        "E23000029": "Thames Valley Police",
        "E23000031": "Surrey Police",
        "E23000032": "Kent Police",
        "E23000034": "City of London Police",
    }


def test_boroughs_tile_london_with_the_river_and_no_overlap():
    b = load_layer("borough").geometry.values
    assert_no_overlaps(b, tol_m2=1.0)
    assert_no_gaps(b, tol_m2=1.0)
    union = shapely.union_all(b)
    assert union.geom_type == "Polygon"
    assert shapely.get_num_interior_rings(union) == 0  # no gaps inside London
    # the river is inside: the union matches the police outline of London (Met + City,
    # which runs to mid-river and beyond) to within 0.5 km² out of ~1,595 km², whereas
    # the GLA borough file that stops at mean high water is ~21 km² short of it.
    f = load_layer("force").set_index("force_id").geometry
    police = shapely.union(f["metropolitan"], f["city-of-london"])
    police = shapely.Polygon(shapely.get_exterior_ring(police))
    assert 1590e6 < union.area < 1600e6
    assert shapely.symmetric_difference(union, police).area < 0.5e6


def test_wards_nest_in_their_boroughs():
    w = load_layer("ward")
    b = load_layer("borough").set_index("code").geometry
    assert set(w["borough_code"]) == set(BOROUGH_CODES)
    parent = b.reindex(w["borough_code"]).values
    outside = shapely.area(shapely.difference(w.geometry.values, parent))
    assert outside.max() < 1.0
    assert (w["code"].str.match(r"^E05\d{6}$")).all()
    assert layer_vintage("ward") == "2018"
    assert "2018" in layer_info("ward")["title"]


def test_bcus_are_unions_of_their_boroughs_and_the_city_is_in_none():
    b = load_layer("borough")
    bcu = load_layer("bcu")
    assert b.loc[b["code"] == "E09000001", "bcu"].tolist() == [None]
    assert b.loc[b["code"] != "E09000001", "bcu"].notna().all()
    mapping = pd.read_csv(settings.BOUNDARIES_DIR / "bcu_boroughs.csv", dtype=str)
    assert sorted(mapping["borough_code"]) == BOROUGH_CODES[1:]
    assert set(mapping["name_status"]) <= {"confirmed", "partly confirmed", "unconfirmed"}
    for code, members, geom in zip(bcu["code"], bcu["borough_codes"], bcu.geometry,
                                   strict=True):
        rows = b[b["code"].isin(members.split(";"))]
        assert set(rows["bcu_code"]) == {code}
        diff = shapely.symmetric_difference(shapely.union_all(rows.geometry.values), geom).area
        assert diff < 1.0, code
    assert (set(mapping["bcu_code"]) == set(bcu["code"])) and len(bcu) == 12
    city = b.set_index("code").geometry["E09000001"]
    assert shapely.area(shapely.intersection(shapely.union_all(bcu.geometry.values), city)) < 1


def test_neighbourhoods_have_names_and_boroughs():
    n = load_layer("neighbourhood")
    wards = set(load_layer("ward")["code"])
    e05 = n[n["code"].str.startswith("E05")]
    assert len(e05) == 496 and set(e05["code"]) <= wards
    assert n["borough_code"].notna().all()
    assert not n["name"].str.startswith("E05").any()


def test_vintage_and_attribution():
    assert layer_vintage("borough") == "2018"
    assert layer_vintage("bcu").startswith("2018")
    for name in LAYERS:
        assert "Open Government Licence" in layer_attribution(name)
    credit = attribution()
    assert "Ordnance Survey" in credit and "data.police.uk" in credit
    sentences = [s for s in credit.split(". ") if s]
    assert len(sentences) == len(set(sentences))  # each credit once


# ---------------------------------------------------------------------- display layers


@pytest.mark.parametrize("name", LAYERS)
def test_display_files_are_feature_collections_matching_the_full_layer(name):
    fc = display_layer(name)
    assert fc["type"] == "FeatureCollection"
    props = [f["properties"] for f in fc["features"]]
    assert all(p["kind"] == name and p["code"] and p["name"] for p in props)
    assert [p["code"] for p in props] == list(load_layer(name)["code"])
    types = {f["geometry"]["type"] for f in fc["features"]}
    if name in ("bcu", "force"):
        assert types == {"MultiLineString"}
    else:
        assert types <= {"Polygon", "MultiPolygon"}
    coords = shapely.get_coordinates(display_geoms(name)[1])
    assert np.allclose(coords, np.round(coords, 5), atol=1e-12, rtol=0)
    assert display_layer(name) is not display_layer(name)  # callers may modify theirs


@pytest.mark.parametrize("name", ["borough", "ward"])
def test_display_polygons_within_5_m_and_no_gaps_or_slivers(name):
    _, shown = display_geoms(name)
    full = load_layer(name).geometry.values
    assert shapely.is_valid(shown).all()
    # neighbours share identical edges: a valid coverage, and no holes in the union
    assert shapely.coverage_is_valid(shown)
    union = shapely.coverage_union_all(shown)
    assert all(shapely.get_num_interior_rings(p) == 0 for p in shapely.get_parts(union))
    back = geoms_to_bng(shown)
    assert_lines_within(back, full, MAX_DISPLAY_ERROR_M)
    assert_no_gaps(back, tol_m2=1.0)
    # per area, the change is bounded by the perimeter times the worst distance
    change = np.abs(shapely.area(back) - shapely.area(full))
    assert (change <= shapely.length(full) * MAX_DISPLAY_ERROR_M).all()
    assert change.sum() / shapely.area(full).sum() < 1e-3


def test_display_bcu_outlines_within_5_m_and_on_borough_edges():
    _, shown = display_geoms("bcu")
    full = load_layer("bcu").geometry.values
    assert_lines_within(geoms_to_bng(shown), full, MAX_DISPLAY_ERROR_M)
    # every BCU vertex is a vertex of the drawn boroughs: the lines coincide exactly
    bverts = {tuple(c) for c in shapely.get_coordinates(display_geoms("borough")[1])}
    assert all(tuple(c) in bverts for c in shapely.get_coordinates(shown))


def test_display_force_outlines_within_5_m():
    feats, shown = display_geoms("force")
    full = load_layer("force")
    band_m = json.loads((settings.BOUNDARIES_DIR / "layers.json").read_text())["force_band_m"]
    london = shapely.union_all(full.geometry.values[
        full["force_id"].isin(["metropolitan", "city-of-london"]).to_numpy()])
    band = shapely.buffer(shapely.Polygon(shapely.get_exterior_ring(london)), band_m)
    ref = shapely.intersection(shapely.boundary(full.geometry.values), band)
    assert_lines_within(geoms_to_bng(shown), ref, MAX_DISPLAY_ERROR_M)
    clipped = {f["properties"]["force_id"]: f["properties"]["clipped"] for f in feats}
    assert clipped["metropolitan"] is False and clipped["kent"] is True


def test_first_map_load_is_small():
    """Boroughs + BCUs + forces as GeoJSON text: well under the 1 MB page budget."""
    total = sum(display_path(n).stat().st_size for n in ("borough", "bcu", "force"))
    print(f"first-load GeoJSON: {total:,d} B")
    assert total < 850_000


def test_unit_outlines_in_lon_lat_in_the_order_asked():
    from geo.boundaries import unit_outlines

    out = unit_outlines("borough", ["E09000033", "E09000001", "E09999999"])
    assert list(out["code"]) == ["E09000033", "E09000001"]
    assert list(out["name"]) == ["Westminster", "City of London"]
    assert out.crs.to_epsg() == 4326
    full = load_layer("borough").set_index("code")
    back = geoms_to_bng(np.asarray(out.geometry))
    assert shapely.area(back)[1] == pytest.approx(full.loc["E09000001"].geometry.area, rel=1e-4)
