"""Exports re-read with GDAL (pyogrio) and gpxpy: names exact, geometry within 1 m."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET

import geopandas as gpd
import gpxpy
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from shapely.geometry import box

import geo
from geo.crs import BNG, geoms_to_bng
from geo.exports import (
    case_gpkg_bytes,
    pick_sectors,
    to_geojson,
    to_gpx,
    to_kml,
    write_case_gpkg,
)

X0, Y0 = 530_000.0, 181_000.0
HOSTILE = [
    '<script>alert("x")</script>',
    "Tom & Jerry's ]]> <![CDATA[ yard",
    "Ménage — 北京 \"quoted\" 'single' {{ x }} ${y}",
]


def sectors_bng() -> gpd.GeoDataFrame:
    holed = box(X0, Y0, X0 + 300, Y0 + 300).difference(box(X0 + 100, Y0 + 100, X0 + 200,
                                                           Y0 + 200))
    multi = shapely.MultiPolygon([box(X0 + 400, Y0, X0 + 500, Y0 + 100),
                                  box(X0 + 600, Y0, X0 + 700, Y0 + 100)])
    return gpd.GeoDataFrame(
        {
            "id": HOSTILE,
            "name": ["North <b>field</b>", "Canal & towpath", "Estate"],
            "status": ["searched", "assigned", "draft"],
            "team": ["Team 1", "Team 2", "Team 1"],
            "searched_at": pd.to_datetime(["2024-05-01T14:00Z", None, None], utc=True),
            "bcu_shares": [{"NE": 1.0}, {"NE": 0.6, "CE": 0.4}, {}],
        },
        geometry=[holed, multi, box(X0, Y0 + 400, X0 + 250, Y0 + 480)],
        crs=BNG,
    )


def assert_same_ground(got_lonlat, want_bng, tol_m=1.0):
    got = geoms_to_bng(got_lonlat)
    assert shapely.hausdorff_distance(got, want_bng) < tol_m
    assert got.area == pytest.approx(want_bng.area, rel=1e-4)


def test_geojson_rfc7946_reread_with_gdal():
    frame = sectors_bng()
    text = to_geojson(frame)
    doc = json.loads(text)
    assert "crs" not in doc
    assert [f["id"] for f in doc["features"]] == HOSTILE
    assert doc["features"][0]["properties"]["searched_at"].startswith("2024-05-01T14:00")
    # right-hand rule: outer rings anticlockwise
    outer = doc["features"][0]["geometry"]["coordinates"][0]
    assert shapely.LinearRing(outer).is_ccw
    back = pyogrio.read_dataframe(text.encode())
    assert list(back["name"]) == list(frame["name"])
    for got, want in zip(back.geometry, frame.geometry, strict=True):
        assert_same_ground(got, want)


def test_kml_reread_with_gdal_keeps_hostile_names_and_holes():
    frame = sectors_bng()
    text = to_kml(frame)
    ET.fromstring(text.encode())  # well-formed XML
    assert "<script>" not in text
    back = pyogrio.read_dataframe(text.encode())
    name_col = "Name" if "Name" in back.columns else "name"
    assert list(back[name_col]) == HOSTILE
    for got, want in zip(back.geometry, frame.geometry, strict=True):
        assert_same_ground(got, want)


def test_kml_roundtrips_through_read_sectors():
    frame = sectors_bng()
    back = geo.read_sectors(("export.kml", to_kml(frame).encode()))
    assert list(back["name"]) == HOSTILE
    for got, want in zip(back.geometry, frame.geometry, strict=True):
        assert_same_ground(got, want)


@pytest.mark.parametrize("kind", ["track", "route"])
def test_gpx_reread_with_gpxpy_and_gdal(kind):
    frame = sectors_bng()
    text = to_gpx(frame, kind=kind)
    parsed = gpxpy.parse(text)
    if kind == "track":
        assert [t.name for t in parsed.tracks] == HOSTILE
        # holed square: outer ring and hole; multipolygon: two outer rings
        assert [len(t.segments) for t in parsed.tracks] == [2, 2, 1]
        first = parsed.tracks[0].segments[0].points
    else:
        names = [r.name for r in parsed.routes]
        assert names == [HOSTILE[0], f"{HOSTILE[0]} (2/2)", HOSTILE[1], f"{HOSTILE[1]} (2/2)",
                         HOSTILE[2]]
        first = parsed.routes[0].points
    ring = shapely.Polygon([(p.longitude, p.latitude) for p in first])
    assert_same_ground(ring, shapely.Polygon(frame.geometry.iloc[0].exterior))
    # GDAL reads it too, with the same names
    layer = "tracks" if kind == "track" else "routes"
    back = pyogrio.read_dataframe(text.encode(), layer=layer)
    assert list(back["name"])[:1] == HOSTILE[:1]


def test_gpx_areas_come_back_through_read_sectors():
    frame = sectors_bng()
    back = geo.read_sectors(("team.gpx", to_gpx(frame).encode()))
    assert list(back["name"]) == HOSTILE
    for got, want in zip(back.geometry, frame.geometry, strict=True):
        assert_same_ground(got, want)


def test_control_characters_are_dropped_not_written():
    frame = sectors_bng().iloc[:1].assign(id=["bad\x00na\x1bme\x07"])
    for text in (to_kml(frame), to_gpx(frame)):
        ET.fromstring(text.encode())
        assert "badname" in text


def test_pick_one_or_a_teams_sectors():
    frame = sectors_bng()
    assert list(pick_sectors(frame, team="Team 1")["id"]) == [HOSTILE[0], HOSTILE[2]]
    assert list(pick_sectors(frame, ids=[HOSTILE[1]])["id"]) == [HOSTILE[1]]
    with pytest.raises(geo.InputError):
        pick_sectors(frame, team="nobody")


def test_case_geopackage_layers_and_no_contact_details(tmp_path):
    frame = sectors_bng()
    far = box(X0 + 20_000, Y0, X0 + 21_000, Y0 + 1_000)
    boroughs = gpd.GeoDataFrame(
        {"code": ["E1", "E2"], "name": ["Near & <Co>", "Far away"]},
        geometry=[box(X0 - 5_000, Y0 - 5_000, X0 + 5_000, Y0 + 5_000), far], crs=BNG,
    ).to_crs(4326)
    sightings = gpd.GeoDataFrame(
        {"note": ["seen by the shop"], "reporter_phone": ["07700 900123"],
         "reported_by": ["Mrs Private Person"],
         "time": pd.to_datetime(["2024-05-01T13:00Z"], utc=True)},
        geometry=[shapely.Point(X0 + 50, Y0 + 50)], crs=BNG,
    )
    teams = pd.DataFrame({"id": ["T1"], "name": ["Team <1>"], "org_type": ["volunteer"],
                          "size": [6], "phone": ["07700 900456"], "email": ["a@b.example"]})
    path = tmp_path / "case.gpkg"
    write_case_gpkg(path, frame, boundaries={"borough": boroughs}, sightings=sightings,
                    teams=teams)
    layers = {name for name, _ in pyogrio.list_layers(path)}
    assert layers == {"sectors", "boundary_borough", "sightings", "teams"}
    sec = pyogrio.read_dataframe(path, layer="sectors")
    assert sec.crs.to_epsg() == 27700
    assert list(sec["id"]) == HOSTILE
    assert list(sec["status"]) == ["searched", "assigned", "draft"]
    assert json.loads(sec["bcu_shares"].iloc[1]) == {"NE": 0.6, "CE": 0.4}
    for got, want in zip(sec.geometry, frame.geometry, strict=True):
        assert shapely.hausdorff_distance(got, want) < 1.0
    bnd = pyogrio.read_dataframe(path, layer="boundary_borough")
    assert list(bnd["name"]) == ["Near & <Co>"]  # the far borough is clipped away
    assert bnd.geometry.iloc[0].area < 10_000 ** 2  # clipped to the case area
    sig = pyogrio.read_dataframe(path, layer="sightings")
    assert "reporter_phone" not in sig.columns and "reported_by" not in sig.columns
    assert list(sig["note"]) == ["seen by the shop"]
    tm = pyogrio.read_dataframe(path, layer="teams", read_geometry=False)
    assert set(tm.columns) == {"id", "name", "org_type", "size"}
    assert "07700" not in path.read_bytes().decode("latin-1")
    assert "Private Person" not in path.read_bytes().decode("latin-1")


def test_case_geopackage_as_bytes(tmp_path):
    data = case_gpkg_bytes(sectors_bng())
    path = tmp_path / "case.gpkg"
    path.write_bytes(data)
    assert data.startswith(b"SQLite format 3\x00")
    back = pyogrio.read_dataframe(path, layer="sectors")
    assert len(back) == 3
    assert np.isclose(back.area.sum(), sectors_bng().area.sum(), rtol=1e-6)


def test_kml_is_readable_by_elementtree_with_names_exact():
    text = to_kml(sectors_bng())
    ns = {"k": "http://www.opengis.net/kml/2.2"}
    names = [el.text for el in ET.parse(io.StringIO(text)).getroot().iterfind(
        ".//k:Placemark/k:name", ns)]
    assert names == HOSTILE


def _records():
    sightings = [{"id": 1, "seen_at": "2026-03-01T10:00Z", "status": "confirmed",
                  "confidence": "high", "source": "neighbour at no. 12",
                  "description": "red coat", "borough": "E09000033", "bcu": "CW",
                  "force": "MPS", "lon": -0.14, "lat": 51.5}]
    teams = [{"id": 7, "name": "Alpha", "org_type": "volunteer_group", "lead_name": "Sam",
              "size": 6, "contact": "07700 900000"}]
    return sightings, teams


def test_case_export_layers_coordinator_export_keeps_all_but_contact():
    sightings, teams = _records()
    out = geo.case_export_layers(sightings, teams, coordinator=True,
                                 org_labels={"volunteer_group": "Volunteer group"})
    assert list(out["sightings"].columns) == [
        "id", "seen_at", "status", "confidence", "source", "description", "borough", "bcu",
        "force", "geometry"]
    assert out["sightings"].crs == "EPSG:4326"
    assert out["sightings"].geometry.iloc[0].x == -0.14
    assert out["teams"].to_dict("records") == [
        {"id": 7, "name": "Alpha", "organisation": "Volunteer group",
         "org_type": "volunteer_group", "lead": "Sam", "size": 6}]


def test_case_export_layers_shared_export_leaves_personal_text_out():
    sightings, teams = _records()
    out = geo.case_export_layers(sightings, teams, coordinator=False)
    assert {"source", "description"}.isdisjoint(out["sightings"].columns)
    assert "lead" not in out["teams"].columns and "contact" not in out["teams"].columns
    assert out["teams"]["organisation"].tolist() == ["volunteer_group"]
    text = json.dumps(out["teams"].to_dict("records")) + out["sightings"].to_json()
    assert "Sam" not in text and "neighbour" not in text and "red coat" not in text


def test_case_export_layers_take_objects_too():
    from types import SimpleNamespace

    sightings, teams = _records()
    out = geo.case_export_layers([SimpleNamespace(**x) for x in sightings],
                                 [SimpleNamespace(**t) for t in teams], coordinator=True)
    assert out["teams"]["lead"].tolist() == ["Sam"]
