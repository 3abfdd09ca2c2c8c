"""Sector files in every form partner agencies hand over, and refusal of bad ones.

Each fixture file is written at test time with geopandas / pyogrio / gpxpy /
zipfile from the same two known squares in Hackney (British National Grid), so
every import form is checked against one known answer: names kept, areas right
to the square metre, positions right to a metre.
"""

from __future__ import annotations

import io
import json
import warnings
import zipfile
from pathlib import Path

import geopandas as gpd
import gpxpy
import gpxpy.gpx
import numpy as np
import pytest
import shapely
from shapely.geometry import box

import geo
from geo.crs import BNG, bng_to_lonlat, geoms_to_bng, geoms_to_lonlat

X0, Y0 = 535_000.0, 185_000.0  # Hackney, metres (EPSG:27700)
SQUARES_BNG = [box(X0, Y0, X0 + 200, Y0 + 100), box(X0 + 300, Y0, X0 + 400, Y0 + 100)]
NAMES = ["Sector A", "Sector B"]
AREAS = [20_000.0, 10_000.0]

# ESRI-style .prj whose datum PROJ cannot identify: read naively it lands ~110 m off
CUSTOM_BNG_PRJ = (
    'PROJCS["Custom_BNG_MapInfo",GEOGCS["GCS_Airy",DATUM["D_unknown",SPHEROID["Airy",'
    '6377563.396,299.3249646]],PRIMEM["Greenwich",0],UNIT["Degree",0.017453292519943295]],'
    'PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",49],'
    'PARAMETER["central_meridian",-2],PARAMETER["scale_factor",0.9996012717],'
    'PARAMETER["false_easting",400000],PARAMETER["false_northing",-100000],UNIT["Meter",1]]'
)
ESRI_OSGB_PRJ = (
    'PROJCS["OSGB_1936_British_National_Grid",GEOGCS["GCS_OSGB 1936",DATUM["D_OSGB_1936",'
    'SPHEROID["Airy_1830",6377563.396,299.3249646]],PRIMEM["Greenwich",0],'
    'UNIT["Degree",0.017453292519943295]],PROJECTION["Transverse_Mercator"],'
    'PARAMETER["latitude_of_origin",49],PARAMETER["central_meridian",-2],'
    'PARAMETER["scale_factor",0.9996012717],PARAMETER["false_easting",400000],'
    'PARAMETER["false_northing",-100000],UNIT["Meter",1]]'
)
TOWGS84_PRJ = (
    'PROJCS["OSGB 1936 / British National Grid",GEOGCS["OSGB 1936",DATUM["OSGB_1936",'
    'SPHEROID["Airy 1830",6377563.396,299.3249646],'
    "TOWGS84[446.448,-125.157,542.06,0.15,0.247,0.842,-20.489]],"
    'PRIMEM["Greenwich",0],UNIT["degree",0.0174532925199433]],'
    'PROJECTION["Transverse_Mercator"],PARAMETER["latitude_of_origin",49],'
    'PARAMETER["central_meridian",-2],PARAMETER["scale_factor",0.9996012717],'
    'PARAMETER["false_easting",400000],PARAMETER["false_northing",-100000],UNIT["metre",1]]'
)


def bng_frame() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"name": NAMES}, geometry=SQUARES_BNG, crs=BNG)


def lonlat_frame() -> gpd.GeoDataFrame:
    return bng_frame().to_crs(4326)


def assert_known_squares(gdf: gpd.GeoDataFrame, names=NAMES, tol_m: float = 1.0) -> None:
    """The two squares came back: names, areas and positions within ``tol_m``."""
    assert gdf.crs.to_epsg() == 4326
    assert list(gdf["name"]) == list(names)
    assert set(gdf.geom_type) <= {"Polygon", "MultiPolygon"}
    back = geoms_to_bng(np.asarray(gdf.geometry.values))
    for got, want, area in zip(back, SQUARES_BNG, AREAS, strict=True):
        assert got.area == pytest.approx(area, rel=1e-3)
        assert shapely.hausdorff_distance(got, want) < tol_m


# --- GeoJSON -----------------------------------------------------------------------

def fc_lonlat() -> dict:
    return json.loads(lonlat_frame().to_json(drop_id=True))


def test_geojson_feature_collection_from_path(tmp_path):
    path = tmp_path / "sectors.geojson"
    path.write_text(json.dumps(fc_lonlat()))
    gdf = geo.read_sectors(path)
    assert_known_squares(gdf)
    assert gdf.attrs["notes"] == []


def test_geojson_as_upload_bytes_and_str_path(tmp_path):
    data = json.dumps(fc_lonlat()).encode()
    assert_known_squares(geo.read_sectors(("upload.json", data)))
    path = tmp_path / "s.json"
    path.write_bytes(data)
    assert_known_squares(geo.read_sectors(str(path)))


def test_bare_feature_and_bare_geometry():
    feature = fc_lonlat()["features"][0]
    gdf = geo.read_sectors(("one.geojson", json.dumps(feature).encode()))
    assert list(gdf["name"]) == ["Sector A"]
    assert geoms_to_bng(gdf.geometry.iloc[0]).area == pytest.approx(20_000, rel=1e-3)
    bare = feature["geometry"]
    gdf = geo.read_sectors(("drawn.geojson", json.dumps(bare).encode()))
    assert len(gdf) == 1
    assert gdf["name"].iloc[0] == "drawn 1"  # named after the file
    assert geoms_to_bng(gdf.geometry.iloc[0]).area == pytest.approx(20_000, rel=1e-3)


def test_geojson_crs_member_27700_is_honoured():
    doc = json.loads(bng_frame().to_json(drop_id=True))
    doc["crs"] = {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::27700"}}
    gdf = geo.read_sectors(("bng.geojson", json.dumps(doc).encode()))
    assert_known_squares(gdf)
    assert gdf.attrs["notes"] == []


def test_geojson_in_metres_without_crs_is_inferred_as_bng_with_a_note():
    doc = json.loads(bng_frame().to_json(drop_id=True))
    doc.pop("crs", None)
    gdf = geo.read_sectors(("nocrs.geojson", json.dumps(doc).encode()))
    assert_known_squares(gdf)
    assert any("British National Grid" in n for n in gdf.attrs["notes"])


def test_caltopo_export_keeps_titles_and_skips_markers():
    doc = fc_lonlat()
    for f, title in zip(doc["features"], ["Assignment 12 <north>", "Sector B"], strict=True):
        f["properties"] = {"title": title, "class": "Shape", "stroke": "#FF0000",
                           "description": "grid search"}
        f["id"] = "b0c1e2"
    lon, lat = bng_to_lonlat(X0 - 100, Y0)
    doc["features"].append({"type": "Feature", "id": "m1", "geometry": {
        "type": "Point", "coordinates": [float(lon), float(lat)]},
        "properties": {"title": "LKP", "class": "Marker"}})
    gdf = geo.read_sectors(("caltopo-export.json", json.dumps(doc).encode()))
    assert_known_squares(gdf, names=["Assignment 12 <north>", "Sector B"])
    assert list(gdf["description"]) == ["grid search", "grid search"]
    assert any("1 point" in n for n in gdf.attrs["notes"])


def test_closed_linestring_becomes_an_area():
    ring = list(SQUARES_BNG[0].exterior.coords)
    line = geoms_to_lonlat(shapely.LineString(ring))
    doc = {"type": "Feature", "properties": {"name": "Loop"},
           "geometry": json.loads(shapely.to_geojson(line))}
    gdf = geo.read_sectors(("loop.geojson", json.dumps(doc).encode()))
    assert list(gdf["name"]) == ["Loop"]
    assert geoms_to_bng(gdf.geometry.iloc[0]).area == pytest.approx(20_000, rel=1e-3)


def test_thousands_of_features_import():
    n = 5_000
    x = X0 + (np.arange(n) % 100) * 60.0
    y = Y0 + (np.arange(n) // 100) * 60.0
    frame = gpd.GeoDataFrame({"name": [f"S{i}" for i in range(n)]},
                             geometry=shapely.box(x, y, x + 50, y + 50), crs=BNG).to_crs(4326)
    gdf = geo.read_sectors(("many.geojson", frame.to_json().encode()))
    assert len(gdf) == n
    assert gdf["name"].iloc[-1] == f"S{n - 1}"
    area = shapely.area(geoms_to_bng(np.asarray(gdf.geometry.values)))
    assert np.allclose(area, 2500, rtol=1e-3)


# --- KML / KMZ -----------------------------------------------------------------------

def kml_bytes(names=NAMES) -> bytes:
    from geo.exports import to_kml

    frame = lonlat_frame().assign(id=names, name=names)
    return to_kml(frame).encode()


def test_kml_and_kmz(tmp_path):
    data = kml_bytes()
    assert_known_squares(geo.read_sectors(("sectors.kml", data)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("doc.kml", data)
        zf.writestr("files/icon.png", b"\x89PNG\r\n\x1a\n0000")
    path = tmp_path / "sectors.kmz"
    path.write_bytes(buf.getvalue())
    assert_known_squares(geo.read_sectors(path))


def test_kml_written_by_gdal():
    buf = io.BytesIO()
    lonlat_frame().to_file(buf, driver="KML", engine="pyogrio")
    assert_known_squares(geo.read_sectors(("gdal.kml", buf.getvalue())))


# --- GPX -------------------------------------------------------------------------------

def gpx_with(routes=True, closed_track=True, open_track=True) -> bytes:
    gpx = gpxpy.gpx.GPX()
    rings = [geoms_to_lonlat(sq).exterior.coords for sq in SQUARES_BNG]
    if routes:
        route = gpxpy.gpx.GPXRoute(name=NAMES[0])
        route.points = [gpxpy.gpx.GPXRoutePoint(lat, lon) for lon, lat in rings[0][:-1]]
        gpx.routes.append(route)
    if closed_track:
        track = gpxpy.gpx.GPXTrack(name=NAMES[1])
        seg = gpxpy.gpx.GPXTrackSegment([gpxpy.gpx.GPXTrackPoint(lat, lon)
                                         for lon, lat in rings[1]])
        track.segments.append(seg)
        gpx.tracks.append(track)
    if open_track:
        track = gpxpy.gpx.GPXTrack(name="walked")
        track.segments.append(gpxpy.gpx.GPXTrackSegment([
            gpxpy.gpx.GPXTrackPoint(51.55, -0.06), gpxpy.gpx.GPXTrackPoint(51.56, -0.05),
            gpxpy.gpx.GPXTrackPoint(51.57, -0.05)]))
        gpx.tracks.append(track)
    gpx.waypoints.append(gpxpy.gpx.GPXWaypoint(51.55, -0.06, name="LKP"))
    return gpx.to_xml().encode()


def test_gpx_route_and_closed_track_are_areas_open_track_skipped():
    gdf = geo.read_sectors(("garmin.gpx", gpx_with()))
    assert_known_squares(gdf)
    notes = " ".join(gdf.attrs["notes"])
    assert "do not end where they start" in notes
    assert "Waypoints" in notes


def test_gpx_with_only_an_open_track_has_no_areas():
    with pytest.raises(geo.InputError, match="no areas"):
        geo.read_sectors(("walk.gpx", gpx_with(routes=False, closed_track=False)))


# --- shapefiles and GeoPackage ------------------------------------------------------

def write_shapefile(tmp_path: Path, prj: str | None, stem: str = "sectors") -> Path:
    frame = bng_frame()
    path = tmp_path / f"{stem}.shp"
    with warnings.catch_warnings():  # writing without a CRS on purpose
        warnings.simplefilter("ignore", UserWarning)
        frame.set_crs(None, allow_override=True).to_file(path, engine="pyogrio")
    prj_path = path.with_suffix(".prj")
    if prj_path.exists():
        prj_path.unlink()
    if prj is not None:
        prj_path.write_text(prj)
    return path


def zipped(path: Path, folder: str = "") -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for part in sorted(path.parent.glob(path.stem + ".*")):
            zf.write(part, folder + part.name)
    return buf.getvalue()


def test_shapefile_path_with_sidecars(tmp_path):
    path = tmp_path / "sectors.shp"
    bng_frame().to_file(path, engine="pyogrio")
    gdf = geo.read_sectors(path)
    assert_known_squares(gdf)
    assert gdf.attrs["notes"] == []


def test_zipped_shapefile_bytes_in_a_folder(tmp_path):
    path = tmp_path / "sectors.shp"
    bng_frame().to_file(path, engine="pyogrio")
    gdf = geo.read_sectors(("export.zip", zipped(path, "Export Folder/")))
    assert_known_squares(gdf)


@pytest.mark.parametrize("prj", [CUSTOM_BNG_PRJ, ESRI_OSGB_PRJ, TOWGS84_PRJ],
                         ids=["unknown-datum", "esri-osgb", "towgs84"])
def test_bng_shapefile_with_non_standard_prj_lands_within_a_metre(tmp_path, prj):
    path = write_shapefile(tmp_path, prj)
    assert_known_squares(geo.read_sectors(path))
    assert_known_squares(geo.read_sectors(("x.zip", zipped(path))))


def test_unknown_datum_prj_is_reported(tmp_path):
    gdf = geo.read_sectors(write_shapefile(tmp_path, CUSTOM_BNG_PRJ))
    assert any("Custom_BNG_MapInfo" in n and "27700" in n for n in gdf.attrs["notes"])


def test_shapefile_without_prj_in_metres_is_inferred_with_a_note(tmp_path):
    gdf = geo.read_sectors(write_shapefile(tmp_path, None))
    assert_known_squares(gdf)
    assert any("metres" in n and "British National Grid" in n for n in gdf.attrs["notes"])


def test_shapefile_without_prj_in_degrees_is_inferred_with_a_note(tmp_path):
    path = tmp_path / "deg.shp"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        lonlat_frame().set_crs(None, allow_override=True).to_file(path, engine="pyogrio")
    path.with_suffix(".prj").unlink(missing_ok=True)
    gdf = geo.read_sectors(path)
    assert_known_squares(gdf)
    assert any("degrees" in n for n in gdf.attrs["notes"])


def test_lone_shp_upload_asks_for_the_zip(tmp_path):
    path = tmp_path / "sectors.shp"
    bng_frame().to_file(path, engine="pyogrio")
    with pytest.raises(geo.InputError, match=r"\.shx and \.dbf.*Zip"):
        geo.read_sectors(("sectors.shp", path.read_bytes()))


def test_geopackage_layers(tmp_path):
    path = tmp_path / "case.gpkg"
    bng_frame().iloc[:1].to_file(path, layer="north", engine="pyogrio")
    bng_frame().iloc[1:].to_file(path, layer="south", engine="pyogrio", mode="a")
    gdf = geo.read_sectors(("case.gpkg", path.read_bytes()))
    assert_known_squares(gdf)


# --- refusals -----------------------------------------------------------------------------

def refuses(name: str, data: bytes, pattern: str) -> str:
    with pytest.raises(geo.InputError, match=pattern) as err:
        geo.read_sectors((name, data))
    return str(err.value)


def test_empty_file():
    refuses("empty.geojson", b"  \n", "empty")


def test_truncated_geojson():
    data = json.dumps(fc_lonlat()).encode()
    refuses("cut.geojson", data[: len(data) // 2], "cut short")


def test_png_named_geojson():
    refuses("map.geojson", b"\x89PNG\r\n\x1a\n" + b"\0" * 200, "named as GeoJSON but it is a PNG")


def test_json_that_is_not_geojson():
    refuses("config.json", b'{"zoom": 12}', "not GeoJSON")


def test_points_only():
    lon, lat = bng_to_lonlat(X0, Y0)
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": f"p{i}"},
         "geometry": {"type": "Point", "coordinates": [float(lon), float(lat) + i * 1e-3]}}
        for i in range(3)]}
    refuses("points.geojson", json.dumps(doc).encode(), "no areas.*3 points")


def test_empty_feature_collection():
    refuses("none.geojson", b'{"type":"FeatureCollection","features":[]}', "no features")


def bowtie_doc(points_bng) -> bytes:
    ring = geoms_to_lonlat(shapely.LineString(points_bng))
    coords = [list(c) for c in ring.coords]
    return json.dumps({"type": "Feature", "properties": {"name": "Bow"},
                       "geometry": {"type": "Polygon", "coordinates": [coords]}}).encode()


def test_bowtie_is_repaired_with_a_note():
    data = bowtie_doc([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100),
                       (X0, Y0)])
    gdf = geo.read_sectors(("bow.geojson", data))
    assert gdf.geometry.iloc[0].is_valid
    assert geoms_to_bng(gdf.geometry.iloc[0]).area == pytest.approx(5_000, rel=1e-3)
    assert any("Repaired" in n and "'Bow'" in n for n in gdf.attrs["notes"])


def test_collapsed_ring_is_refused():
    data = bowtie_doc([(X0, Y0), (X0 + 100, Y0 + 100), (X0, Y0), (X0 + 100, Y0 + 100),
                       (X0, Y0)])
    refuses("flat.geojson", data, "'Bow'.*cannot be repaired")


def test_absurd_size_is_refused():
    big = box(200_000, 100_000, 500_000, 400_000)  # 90,000 km² of southern England
    frame = gpd.GeoDataFrame({"name": ["Everything"]}, geometry=[big], crs=BNG).to_crs(4326)
    refuses("huge.geojson", frame.to_json().encode(), "'Everything'.*larger than")


def test_too_many_features_is_refused(monkeypatch):
    monkeypatch.setattr("geo.sector_files.MAX_FEATURES", 10)
    n = 11
    x = X0 + np.arange(n) * 60.0
    frame = gpd.GeoDataFrame(geometry=shapely.box(x, Y0, x + 50, Y0 + 50), crs=BNG).to_crs(4326)
    refuses("lots.geojson", frame.to_json().encode(), "11 features")


def test_outside_the_uk_is_refused():
    doc = {"type": "Feature", "properties": {"name": "Paris"}, "geometry": {
        "type": "Polygon", "coordinates": [[[2.35, 48.85], [2.36, 48.85], [2.36, 48.86],
                                            [2.35, 48.85]]]}}
    refuses("paris.geojson", json.dumps(doc).encode(), "'Paris'.*outside the UK")


def test_swapped_lat_lon_is_named():
    doc = fc_lonlat()
    for f in doc["features"]:
        f["geometry"]["coordinates"] = [[[lat, lon] for lon, lat in ring]
                                        for ring in f["geometry"]["coordinates"]]
    msg = refuses("swapped.geojson", json.dumps(doc).encode(), "swapped")
    assert "Sector A" in msg


def test_truncated_zip_and_gpkg(tmp_path):
    path = tmp_path / "sectors.shp"
    bng_frame().to_file(path, engine="pyogrio")
    data = zipped(path)
    refuses("cut.zip", data[: len(data) // 2], "damaged or incomplete")
    gpkg = tmp_path / "c.gpkg"
    bng_frame().to_file(gpkg, engine="pyogrio")
    raw = gpkg.read_bytes()
    refuses("cut.gpkg", raw[:1024], "damaged or incomplete")


def test_unknown_extension_is_sniffed_or_refused():
    assert_known_squares(geo.read_sectors(("sectors.txt", json.dumps(fc_lonlat()).encode())))
    refuses("notes.txt", b"just some words", "not a sector file")


# --- several files chosen at once (a shapefile's parts, as a browser uploads them) ----

@pytest.mark.parametrize("prj", [CUSTOM_BNG_PRJ, ESRI_OSGB_PRJ], ids=["unknown-datum", "esri"])
def test_shapefile_parts_uploaded_together_land_within_a_metre(tmp_path, prj):
    from geo.sector_files import read_sector_files

    write_shapefile(tmp_path, prj, stem="Search Areas")
    parts = [(p.name, p.read_bytes()) for p in sorted(tmp_path.glob("Search Areas.*"))]
    assert {p[0].rsplit(".", 1)[1] for p in parts} >= {"shp", "shx", "dbf", "prj"}
    gdf = read_sector_files(parts[::-1])  # any order
    assert_known_squares(gdf)
    assert set(gdf["source"]) == {"Search Areas.shp"}


def test_several_files_are_read_into_one_frame_with_every_note(tmp_path):
    from geo.sector_files import read_sector_files

    write_shapefile(tmp_path, None)
    parts = [(p.name, p.read_bytes()) for p in sorted(tmp_path.glob("sectors.*"))]
    extra = ("more.geojson", lonlat_frame().to_json().encode())
    gdf = read_sector_files([*parts, extra])
    assert len(gdf) == 2 * len(lonlat_frame())
    assert list(gdf["source"]).count("more.geojson") == len(lonlat_frame())
    assert gdf.crs.to_epsg() == 4326
    assert any("British National Grid" in n for n in gdf.attrs["notes"])  # the .shp's guess


def test_shapefile_parts_without_the_shp_are_refused(tmp_path):
    from geo.sector_files import read_sector_files

    write_shapefile(tmp_path, ESRI_OSGB_PRJ)
    parts = [(p.name, p.read_bytes()) for p in sorted(tmp_path.glob("sectors.*"))
             if p.suffix != ".shp"]
    with pytest.raises(geo.InputError, match=r"\.shp file was not chosen"):
        read_sector_files(parts)
    with pytest.raises(geo.InputError, match="at least one file"):
        read_sector_files([])
