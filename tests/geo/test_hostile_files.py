"""Hostile and broken uploads: one error contract, no links followed, bounded work.

Each crash class found by trying the importers as an attacker would is reproduced
here for both readers, and must end in :class:`geo.InputError` with a plain
message; a real-looking grid with one sliver imports with the sliver dropped and
a note; the guarded readers stop a file at the time and memory limits.
"""

from __future__ import annotations

import http.server
import io
import json
import logging
import tempfile
import threading
import time
import zipfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pytest
import shapely

import geo
from geo.crs import BNG, geoms_to_bng
from geo.guarded import run_guarded
from tests.geo.fuzz import generator as g
from vocab import settings

READERS = [geo.read_sectors, geo.read_tracks]


@pytest.fixture()
def recorder():
    """An HTTP server on loopback that records every request it gets."""
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", hits
    server.shutdown()


def answer(reader, name: str, data: bytes) -> str:
    """'ok' or the InputError's message; any other exception fails the test."""
    try:
        reader((name, data))
    except geo.InputError as exc:
        return str(exc)
    return "ok"


KMZ = g._zip([("doc.kml", g.GOOD_KML)])
CRASHERS = {
    "deep arrays": ("deep.geojson", b"[" * 3000 + b"]" * 3000),
    "deep properties": ("deep.geojson", json.dumps(
        {"type": "Feature", "geometry": g.POLY, "properties": 1}).encode().replace(
        b'"properties": 1', b'"properties": ' + b'{"a":' * 2000 + b"1" + b"}" * 2000)),
    "deep collections": ("deep.geojson", b'{"type":"GeometryCollection","geometries":[' * 1500
                         + b"]}" * 1500),
    "type is a list": ("t.geojson", b'{"type": ["Polygon"]}'),
    "encrypted member": ("e.kmz", g._patch_method(KMZ, flag=0x1)),
    "deflate64 member": ("d.kmz", g._patch_method(KMZ, 9)),
    "AES member": ("a.kmz", g._patch_method(KMZ, 99)),
    "corrupt deflate": ("c.kmz", KMZ[:40] + b"\xff\x00\xff\x00" * 4 + KMZ[56:]),
    "invalid UTF-8 name": ("u.kmz", g._patch_method(KMZ.replace(b"doc.kml", b"d\xffc.kml"),
                                                    flag=0x800)),
    "central directory past the end": ("o.kmz", KMZ[:-6] + b"\xff\xff\xff\x7f" + KMZ[-2:]),
    "NaN in a GPX route": ("n.gpx", g._gpx(
        '<rte><rtept lat="51.55" lon="-0.05"/><rtept lat="nan" lon="-0.049"/>'
        '<rtept lat="51.551" lon="-0.049"/><rtept lat="51.551" lon="-0.05"/></rte>')),
}


@pytest.mark.parametrize("reader", READERS, ids=["sectors", "tracks"])
@pytest.mark.parametrize("case", list(CRASHERS), ids=list(CRASHERS))
def test_every_crash_class_is_an_input_error(case, reader):
    name, data = CRASHERS[case]
    assert answer(reader, name, data) != "ok"


def test_deep_json_names_the_limit():
    msg = answer(geo.read_sectors, *CRASHERS["deep arrays"])
    assert "maximum JSON depth" in msg and str(settings.IMPORT_MAX_JSON_DEPTH) in msg


def test_kmz_members_say_what_is_wrong():
    assert "password" in answer(geo.read_sectors, *CRASHERS["encrypted member"])
    assert "method" in answer(geo.read_tracks, *CRASHERS["deflate64 member"])


def test_zip_bomb_with_lying_headers_is_refused_while_unpacking():
    msg = answer(geo.read_tracks, "lying.kmz", g._bomb(1 << 30, claimed=1000))
    assert "cannot be unpacked" in msg  # stops at the claimed size: the CRC fails
    msg = answer(geo.read_tracks, "bomb.kmz", g._bomb(20 << 20))
    assert "zip-bomb ratio" in msg
    msg = answer(geo.read_sectors, "big.kmz", g._bomb(200 << 20))
    assert "bytes after decompression" in msg


def test_no_importer_follows_a_link(recorder):
    base, hits = recorder
    cases = g.crs_cases(base, "/nonexistent/secret") + g.xml_cases(base, "/nonexistent/secret")
    for _, name, data in cases:
        for reader in READERS:
            answer(reader, name, data)
    assert hits == []


def test_linked_crs_is_refused_before_gdal_sees_it(recorder):
    base, hits = recorder
    doc = {**g.FC, "crs": {"type": "link", "properties": {"href": f"{base}/crs.wkt"}}}
    msg = answer(geo.read_sectors, "link.geojson", json.dumps(doc).encode())
    assert "never follows links" in msg
    assert hits == []


def test_kml_without_document_name_or_with_a_bare_placemark_reads():
    for data in (g.GOOD_KML.replace(b"<name>A</name>", b""),
                 g.GOOD_KML.replace(b"<Document>", b"").replace(b"</Document>", b"")):
        gdf = geo.read_sectors(("s.kml", data))
        assert len(gdf) == 1
        area = shapely.area(geoms_to_bng(np.asarray(gdf.geometry.values)))[0]
        assert 9_000 < area < 11_000


def test_kml_coordinate_that_is_not_a_number_refuses_naming_the_placemark():
    ring = g._coords([[-0.05, 51.55], [-0.0486, 51.55], ["abc", 51.5509], [-0.05, 51.5509],
                      [-0.05, 51.55]])
    msg = answer(geo.read_sectors, "abc.kml", g._kml(g._placemark(ring, "North 3")))
    assert "'North 3'" in msg and "not a number" in msg and "'abc'" in msg


def test_nan_vertex_is_refused_not_reported_as_a_repair():
    text = json.dumps(g.POLY).replace("-0.0486, 51.5509", "NaN, 51.5509")
    msg = answer(geo.read_sectors, "nan.geojson", text.encode())
    assert "not a number" in msg and "Repaired" not in msg


def test_all_empty_geojson_does_not_blame_the_coordinate_system():
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": {"type": "Polygon", "coordinates": []}}
    ] * 3}
    msg = answer(geo.read_sectors, "e.geojson", json.dumps(doc).encode())
    assert "coordinate system" not in msg


def test_too_many_segments_and_fields_name_their_limits(monkeypatch):
    monkeypatch.setattr(settings, "IMPORT_MAX_SEGMENTS", 10)
    seg = '<trkseg><trkpt lat="51.55" lon="-0.05"/><trkpt lat="51.5501" lon="-0.0501"/></trkseg>'
    assert "maximum segments" in answer(geo.read_tracks, "s.gpx", g._gpx("<trk>" + seg * 11
                                                                          + "</trk>"))
    assert "maximum fields per line" in answer(geo.read_tracks, "f.csv",
                                               b"lat,lon\n" + b"1," * 500 + b"\n")


def test_geopackage_views_are_never_evaluated():
    data = g._gpkg(g._view("v", "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 "
                                "FROM r) SELECT i AS fid, NULL AS geom FROM r"))
    t0 = time.monotonic()
    gdf = geo.read_sectors(("v.gpkg", data))
    assert time.monotonic() - t0 < 5
    assert len(gdf) == 1
    assert any("'v'" in n and "view" in n for n in gdf.attrs["notes"])


def _grid_shapefile_zip(sliver_m: float | None) -> tuple[bytes, int]:
    hackney = geo.load_layer("borough").set_index("name").to_crs(4326).loc["Hackney", "geometry"]
    cells = geo.make_grid(hackney, 80.0).to_crs(BNG)
    geoms = np.asarray(cells.geometry.values, dtype=object)
    if sliver_m is not None:  # one cell shrunk to a sliver of 0.5 × 0.7 m
        x0, y0 = shapely.get_coordinates(geoms[100])[0]
        geoms[100] = shapely.box(x0, y0, x0 + 0.5, y0 + sliver_m)
    frame = gpd.GeoDataFrame({"name": [f"cell {i + 1}" for i in range(len(geoms))]},
                             geometry=list(geoms), crs=BNG)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        with tempfile.TemporaryDirectory() as tmp:
            frame.to_file(Path(tmp) / "grid.shp")
            for part in Path(tmp).iterdir():
                zf.write(part, part.name)
    return buf.getvalue(), len(frame)


def test_grid_shapefile_with_one_sliver_imports_the_rest_with_a_note():
    data, n = _grid_shapefile_zip(0.7)
    assert n > 2_000
    gdf = geo.read_sectors(("grid.zip", data))
    assert len(gdf) == n - 1
    assert "cell 101" not in set(gdf["name"])
    note = next(x for x in gdf.attrs["notes"] if "sliver" in x)
    assert f"{n - 1:,} sectors" in note and "0.35 m²" in note and "'cell 101'" in note


def test_duplicates_and_empties_are_dropped_with_a_note_but_a_broken_file_is_refused():
    feats = [{"type": "Feature", "properties": {"name": f"s{i}"},
              "geometry": shapely.geometry.mapping(shapely.box(-0.05 + i * 0.002, 51.55,
                                                               -0.049 + i * 0.002, 51.551))}
             for i in range(20)]
    dup = {**feats[3], "properties": {"name": "again"}}
    gdf = geo.read_sectors(("d.geojson", json.dumps(
        {"type": "FeatureCollection", "features": [*feats, dup]}).encode()))
    assert len(gdf) == 20 and "'again'" in " ".join(gdf.attrs["notes"])
    broken = [*feats[:3], *[{**f, "properties": {"name": "x"}} for f in feats[:3] * 2]]
    msg = answer(geo.read_sectors, "b.geojson", json.dumps(
        {"type": "FeatureCollection", "features": broken}).encode())
    assert "looks broken" in msg


def _sleepy(source):
    time.sleep(30)


def _hungry(source):
    return bytearray(3 << 30)


def _buggy(source):
    raise KeyError("secret child name")


def test_guarded_reader_stops_at_the_time_budget():
    t0 = time.monotonic()
    with pytest.raises(geo.InputError, match=r"longer than 0\.5 s"):
        run_guarded(_sleepy, ("slow.gpx", b"x"), seconds=0.5)
    assert time.monotonic() - t0 < 5


def test_guarded_reader_stops_at_the_memory_ceiling():
    with pytest.raises(geo.InputError, match="more than 256 MB of memory"):
        run_guarded(_hungry, ("big.gpx", b"x"), memory_mb=256)


def test_guarded_reader_logs_a_fault_without_the_file_name(caplog):
    with caplog.at_level(logging.ERROR, logger="geo.guarded"), \
            pytest.raises(geo.InputError, match="reader hit a fault"):
        run_guarded(_buggy, ("Jane Doe route.gpx", b"x"))
    logged = " ".join(r.getMessage() for r in caplog.records)
    assert "KeyError" in logged and ".gpx" in logged
    assert "Jane" not in logged and "secret" not in logged


def test_guarded_readers_return_what_the_readers_return():
    gdf = geo.read_sectors_guarded(("s.kml", g.GOOD_KML))
    assert len(gdf) == 1 and gdf.crs.to_epsg() == 4326
    tracks = geo.read_tracks_guarded(("t.gpx", g.GOOD_GPX))
    assert len(tracks) == 1 and "notes" in tracks.attrs
