"""Hostile and malformed upload files, generated deterministically (no network, no disk).

:func:`hostile_inputs` returns ``(category, filename, bytes)`` for every case. Links
inside the files point at ``base_url`` (a recorder the test serves on loopback) and
at ``sentinel`` (a local file that must never be read), so the test can show no
importer opened anything but the upload. Heavy cases stay under the 50 MB upload limit.
"""

from __future__ import annotations

import io
import json
import random
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

# a 100 m square in Hackney, lon/lat
RING = [[-0.0500, 51.5500], [-0.0486, 51.5500], [-0.0486, 51.5509], [-0.0500, 51.5509],
        [-0.0500, 51.5500]]
POLY = {"type": "Polygon", "coordinates": [RING]}
FC = {"type": "FeatureCollection",
      "features": [{"type": "Feature", "properties": {"name": "A"}, "geometry": POLY}]}

Case = tuple[str, str, bytes]


def _kml(body: str, head: str = "") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>{head}'
            f'<kml xmlns="http://www.opengis.net/kml/2.2"><Document>{body}</Document></kml>'
            ).encode()


def _placemark(coords: str, name: str = "A") -> str:
    return (f"<Placemark><name>{name}</name><Polygon><outerBoundaryIs><LinearRing>"
            f"<coordinates>{coords}</coordinates></LinearRing></outerBoundaryIs></Polygon>"
            "</Placemark>")


def _line_placemark(coords: str, name: str = "walk") -> str:
    return f"<Placemark><name>{name}</name><LineString><coordinates>{coords}</coordinates>" \
           "</LineString></Placemark>"


def _coords(ring: list[list[object]]) -> str:
    return " ".join(f"{x},{y}" for x, y in ring)


GOOD_KML = _kml(_placemark(_coords(RING)))  # type: ignore[arg-type]


def _gpx(body: str, head: str = "") -> bytes:
    return (f'<?xml version="1.0"?>{head}<gpx version="1.1" creator="fuzz" '
            f'xmlns="http://www.topografix.com/GPX/1/1">{body}</gpx>').encode()


def _trk(points: list[tuple[object, object]], t0: int = 0) -> str:
    pts = "".join(f'<trkpt lat="{la}" lon="{lo}"><time>2025-05-01T10:{(t0 + i) // 60 % 60:02d}:'
                  f'{(t0 + i) % 60:02d}Z</time></trkpt>' for i, (la, lo) in enumerate(points))
    return f"<trk><name>t</name><trkseg>{pts}</trkseg></trk>"


WALK = [(51.5500 + i * 1e-4, -0.0500 + i * 1e-4) for i in range(20)]
GOOD_GPX = _gpx(_trk(WALK))  # type: ignore[arg-type]
GOOD_CSV = ("lat,lon,time\n" + "".join(
    f"{la},{lo},2025-05-01T10:00:{i:02d}Z\n" for i, (la, lo) in enumerate(WALK))).encode()


def _zip(members: list[tuple[str, bytes]], method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        for n, d in members:
            zf.writestr(n, d)
    return buf.getvalue()


def _patch_method(data: bytes, method: int = -1, flag: int = 0) -> bytes:
    """Set the compression method / flag bits in every local and central header."""
    out = bytearray(data)
    for sig, moff, foff in ((b"PK\x03\x04", 8, 6), (b"PK\x01\x02", 10, 8)):
        pos = out.find(sig)
        while pos >= 0:
            if method >= 0:
                out[pos + moff:pos + moff + 2] = struct.pack("<H", method)
            flags = struct.unpack("<H", out[pos + foff:pos + foff + 2])[0] | flag
            out[pos + foff:pos + foff + 2] = struct.pack("<H", flags)
            pos = out.find(sig, pos + 4)
    return bytes(out)


def _bomb(size: int, claimed: int | None = None) -> bytes:
    """A zip holding ``size`` zero bytes; its headers may claim another size."""
    chunk = b"\0" * (1 << 20)
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)  # full flush: every block is the same
    block = comp.compress(chunk) + comp.flush(zlib.Z_FULL_FLUSH)
    n = size >> 20
    body = block * n + b"\x03\x00"  # an empty final block ends the stream
    crc = 0
    for _ in range(n):
        crc = zlib.crc32(chunk, crc)
    usize = size if claimed is None else claimed
    name = b"doc.kml"
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(body),
                        usize, len(name), 0) + name
    central = struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc,
                          len(body), usize, len(name), 0, 0, 0, 0, 0, 0) + name
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 1, 1, len(central),
                      len(local) + len(body), 0)
    return local + bytes(body) + central + end


def _gpkg(setup: list[str], with_feature: bool = True) -> bytes:
    """A GeoPackage made by GDAL, then altered with raw SQL (views, triggers, CTEs)."""
    import geopandas as gpd
    import shapely

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.gpkg"
        geom = [shapely.Polygon(RING)] if with_feature else []
        gpd.GeoDataFrame({"name": ["A"] if with_feature else []}, geometry=geom,
                         crs=4326).to_file(path, layer="sectors", driver="GPKG")
        con = sqlite3.connect(path)
        for sql in setup:
            con.execute(sql)
        con.commit()
        con.close()
        return path.read_bytes()


def _view(name: str, select: str) -> list[str]:
    return [
        f"CREATE VIEW {name} AS {select}",
        "INSERT INTO gpkg_contents (table_name, data_type, identifier, srs_id) "
        f"VALUES ('{name}', 'features', '{name}', 4326)",
        "INSERT INTO gpkg_geometry_columns VALUES "
        f"('{name}', 'geom', 'POLYGON', 4326, 0, 0)",
    ]


def json_cases() -> list[Case]:
    out: list[Case] = []
    for depth in (100, 1000, 5000, 50_000):
        out.append(("json depth", "deep_array.geojson", ("[" * depth + "]" * depth).encode()))
        out.append(("json depth", "deep_object.geojson",
                    ('{"a":' * depth + "1" + "}" * depth).encode()))
        props = '{"type":"Feature","geometry":' + json.dumps(POLY) + ',"properties":' + \
            '{"a":' * depth + "1" + "}" * depth + "}"
        out.append(("json depth", "deep_props.geojson", props.encode()))
        gc = '{"type":"GeometryCollection","geometries":[' * depth + json.dumps(POLY) + \
            "]}" * depth
        out.append(("json depth", "deep_gc.geojson", gc.encode()))
        out.append(("json depth", "deep_coords.geojson",
                    ('{"type":"Polygon","coordinates":' + "[" * depth + "0" + "]" * depth
                     + "}").encode()))
    weird: list[object] = [["Polygon"], {"a": 1}, 7, None, True, 1.5, "", "polygon",
                           "FeatureCollection "]
    for w in weird:
        out.append(("json types", "type.geojson", json.dumps({"type": w}).encode()))
        out.append(("json types", "ftype.geojson", json.dumps(
            {"type": "FeatureCollection", "features": [{"type": w, "geometry": POLY}]}).encode()))
        out.append(("json types", "gtype.geojson", json.dumps(
            {"type": "Feature", "geometry": {"type": w, "coordinates": [RING]}}).encode()))
        out.append(("json types", "features.geojson", json.dumps(
            {"type": "FeatureCollection", "features": w}).encode()))
        out.append(("json types", "coords.geojson", json.dumps(
            {"type": "Polygon", "coordinates": w}).encode()))
        out.append(("json types", "props.geojson", json.dumps(
            {"type": "Feature", "properties": w, "geometry": POLY}).encode()))
        out.append(("json types", "crsval.geojson", json.dumps({**FC, "crs": w}).encode()))
    for text in (b"[]", b"{}", b"null", b"1", b'"x"', b"{" * 10, b"\xff\xfe{}",
                 b'{"type":"Polygon","coordinates":[[[1e999,1e999]]]}',
                 b'{"type":"Polygon","coordinates":[[[' + b"9" * 5000 + b",1]]]}",
                 json.dumps(FC).encode()[:-7]):
        out.append(("json types", "odd.geojson", text))
    return out


def crs_cases(base_url: str, sentinel: str) -> list[Case]:
    out: list[Case] = []
    targets = [f"{base_url}/crs.wkt", f"{base_url}/crs.prj", f"file://{sentinel}", sentinel,
               f"/vsicurl/{base_url}/crs.wkt", f"/vsicurl_streaming/{base_url}/x",
               f"{base_url.replace('http', 'https')}/crs"]
    for t in targets:
        for ctype, prop in (("link", "href"), ("name", "name"), ("url", "href")):
            doc = {**FC, "crs": {"type": ctype, "properties": {prop: t, "type": "ogcwkt"}}}
            out.append(("crs links", "link.geojson", json.dumps(doc).encode()))
        feat = {**FC, "features": [{**FC["features"][0],  # type: ignore[index]
                                    "crs": {"type": "link", "properties": {"href": t}}}]}
        out.append(("crs links", "featlink.geojson", json.dumps(feat).encode()))
    return out


def zip_cases() -> list[Case]:
    out: list[Case] = []
    kmz = _zip([("doc.kml", GOOD_KML)])
    trk = _zip([("doc.kml", _kml(_line_placemark(" ".join(f"{lo},{la}" for la, lo in WALK))))])
    for base, label in ((kmz, "kmz"), (trk, "track kmz")):
        out.append(("zips", f"enc_{label}.kmz", _patch_method(base, flag=0x1)))
        for method in (9, 99, 12, 14, 6, 97):  # deflate64, AES, bzip2, LZMA, implode, wavpack
            out.append(("zips", f"m{method}.kmz", _patch_method(base, method)))
        out.append(("zips", "badutf8.kmz", _patch_method(base.replace(b"doc.kml", b"d\xffc.kml"),
                                                         flag=0x800)))
        eocd = base.rfind(b"PK\x05\x06")
        for off in (10**6, 2**31, len(base) - 3):
            b = bytearray(base)
            b[eocd + 16:eocd + 20] = struct.pack("<I", off % 2**32)
            out.append(("zips", "cdoffset.kmz", bytes(b)))
        for cut in (10, 30, 60, len(base) // 2, len(base) - 30, len(base) - 5):
            out.append(("zips", "truncated.kmz", base[:cut]))
        for pos in range(30, min(len(base) - 40, 110), 8):
            b = bytearray(base)
            b[pos:pos + 4] = b"\xff\x00\xff\x00"
            out.append(("zips", "corrupt.kmz", bytes(b)))
    out.append(("zips", "traversal.kmz", _zip([("../../etc/doc.kml", GOOD_KML)])))
    out.append(("zips", "abs.kmz", _zip([("/tmp/doc.kml", GOOD_KML)])))
    out.append(("zips", "nested.zip", _zip([("inner.zip", _zip([("a.kml", GOOD_KML)]))])))
    out.append(("zips", "many.zip", _zip([(f"{i}.txt", b"x") for i in range(600)],
                                         zipfile.ZIP_STORED)))
    out.append(("zips", "empty.zip", _zip([])))
    out.append(("zips", "bomb_1g_lying.kmz", _bomb(1 << 30, claimed=1000)))
    out.append(("zips", "bomb_190m.kmz", _bomb(190 << 20)))
    out.append(("zips", "bomb_ratio.kmz", _bomb(20 << 20)))
    big_kml = _kml(_placemark(_coords(RING)) * 200_000)  # ~60+ MB of real KML
    out.append(("zips", "big_kml.kmz", _zip([("doc.kml", big_kml)])))
    return out


def xml_cases(base_url: str, sentinel: str) -> list[Case]:
    out: list[Case] = []
    ring = _coords(RING)  # type: ignore[arg-type]
    ents = [
        f'<!DOCTYPE kml [<!ENTITY x SYSTEM "{base_url}/ent">]>',
        f'<!DOCTYPE kml [<!ENTITY x SYSTEM "file://{sentinel}">]>',
        f'<!DOCTYPE kml SYSTEM "{base_url}/dtd">',
        '<!DOCTYPE kml [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>',
        f'<!DOCTYPE kml [<!ENTITY % p SYSTEM "{base_url}/p.dtd"> %p;]>',
    ]
    for head in ents:
        out.append(("xml refs", "ent.kml", _kml(_placemark(ring, "&x;" if "x" in head else "A"),
                                                head)))
        out.append(("xml refs", "ent.gpx", _gpx(_trk(WALK), head.replace("kml", "gpx"))))
    links = [
        f"<NetworkLink><Link><href>{base_url}/nl.kml</href></Link></NetworkLink>",
        f"<NetworkLink><Url><href>{base_url}/nl2.kml</href></Url></NetworkLink>",
        f"<NetworkLink><Link><href>file://{sentinel}</href></Link></NetworkLink>",
        f"<Style id='s'><IconStyle><Icon><href>{base_url}/icon.png</href></Icon></IconStyle>"
        "</Style>",
        f"<StyleMap id='m'><Pair><key>normal</key><styleUrl>{base_url}/s.kml#s</styleUrl></Pair>"
        "</StyleMap>",
        f"<GroundOverlay><Icon><href>{base_url}/overlay.png</href></Icon></GroundOverlay>",
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="{base_url}/xi.kml"/>',
        f'<xi:include xmlns:xi="http://www.w3.org/2001/XInclude" href="file://{sentinel}" '
        'parse="text"/>',
    ]
    for link in links:
        out.append(("xml refs", "link.kml", _kml(link + _placemark(ring))))
        out.append(("xml refs", "link_line.kml", _kml(
            link + _line_placemark(" ".join(f"{lo},{la}" for la, lo in WALK)))))
        out.append(("xml refs", "styleurl.kml", _kml(
            f"<Placemark><styleUrl>{base_url}/st.kml#x</styleUrl><Polygon><outerBoundaryIs>"
            f"<LinearRing><coordinates>{ring}</coordinates></LinearRing></outerBoundaryIs>"
            "</Polygon></Placemark>")))
    for href in (f"{base_url}/gpx", f"file://{sentinel}"):
        out.append(("xml refs", "href.gpx", _gpx(f'<metadata><link href="{href}"/></metadata>'
                                                 + _trk(WALK))))
        out.append(("xml refs", "href_rte.gpx", _gpx(
            f'<rte><link href="{href}"/>' + "".join(
                f'<rtept lat="{la}" lon="{lo}"/>' for la, lo in RING[:-1][::-1]) + "</rte>")))
    out.append(("xml refs", "deep.kml", _kml("<Folder>" * 5000 + _placemark(ring)
                                             + "</Folder>" * 5000)))
    out.append(("xml refs", "deep.gpx", _gpx("<extensions>" + "<a>" * 50_000 + "</a>" * 50_000
                                             + "</extensions>" + _trk(WALK))))
    out.append(("xml refs", "noname.kml", GOOD_KML.replace(b"<name>A</name>", b"")))
    out.append(("xml refs", "bare.kml", GOOD_KML.replace(b"<Document>", b"").replace(
        b"</Document>", b"")))
    return out


def coordinate_cases() -> list[Case]:
    out: list[Case] = []
    values = ["abc", "NaN", "nan", "inf", "-inf", "1e308", "-1e308", "1e400", "", " ",
              "0x10", "1,5", "undefined", "null", "51.5.5", "١٢"]
    for v in values:
        bad_ring = [list(p) for p in RING]
        bad_ring[2][0] = v
        out.append(("coordinates", "bad.kml", _kml(_placemark(
            " ".join(f"{x},{y}" for x, y in bad_ring)))))
        out.append(("coordinates", "bad.gpx", _gpx(
            "<rte>" + "".join(f'<rtept lat="{y}" lon="{x}"/>' for x, y in bad_ring[:-1])
            + "</rte>")))
        pts = list(WALK)
        pts[3] = (v, pts[3][1])  # type: ignore[assignment]
        out.append(("coordinates", "bad_trk.gpx", _gpx(_trk(pts))))
        rows = GOOD_CSV.decode().splitlines()
        rows[4] = f"{v},{rows[4].split(',', 1)[1]}"
        out.append(("coordinates", "bad.csv", ("\n".join(rows) + "\n").encode()))
        num = {"NaN": "NaN", "inf": "Infinity", "-inf": "-Infinity", "1e308": "1e308",
               "1e400": "1e400"}.get(v)
        if num:
            text = json.dumps(POLY).replace("-0.0486, 51.5500", f"{num}, 51.5500", 1)
            text = json.dumps(POLY).replace(str(RING[2][0]), num, 1)
            out.append(("coordinates", "bad.geojson", text.encode()))
    for huge in (1e15, -1e15, 1e300):
        ring = [[x * huge, y] for x, y in RING]
        out.append(("coordinates", "huge.geojson", json.dumps(
            {"type": "Polygon", "coordinates": [ring]}).encode()))
    return out


def gpkg_cases() -> list[Case]:
    out: list[Case] = []
    out.append(("geopackage", "good.gpkg", _gpkg([])))
    out.append(("geopackage", "recursive_view.gpkg", _gpkg(_view(
        "v", "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r) "
             "SELECT i AS fid, NULL AS geom FROM r"))))
    out.append(("geopackage", "cpu_view.gpkg", _gpkg(_view(
        "v", "WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r WHERE i < 10000000000)"
             " SELECT max(i) AS fid, NULL AS geom FROM r"))))
    out.append(("geopackage", "cross_join_view.gpkg", _gpkg(_view(
        "v", "SELECT a.fid AS fid, a.geom AS geom FROM sectors a, sectors b, sectors c, "
             "sectors d, (WITH RECURSIVE r(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM r "
             "WHERE i < 1000000000) SELECT i FROM r)"))))
    out.append(("geopackage", "blob_view.gpkg", _gpkg(_view(
        "v", "SELECT fid, zeroblob(900000000) AS geom FROM sectors"))))
    out.append(("geopackage", "trigger.gpkg", _gpkg([
        "CREATE TABLE log (x)",
        "CREATE TRIGGER t AFTER INSERT ON sectors BEGIN INSERT INTO log VALUES (1); END"])))
    out.append(("geopackage", "no_feature.gpkg", _gpkg([], with_feature=False)))
    good = out[0][2]
    for cut in (100, 1024, 4096, len(good) // 2):
        out.append(("geopackage", "truncated.gpkg", good[:cut]))
    for pos in (20, 60, 100, 1500, 5000):
        b = bytearray(good)
        b[pos:pos + 8] = b"\xff" * 8
        out.append(("geopackage", "corrupt.gpkg", bytes(b)))
    return out


def count_cases() -> list[Case]:
    """Huge counts inside the 50 MB upload limit."""
    out: list[Case] = []
    seg = '<trkseg><trkpt lat="51.55" lon="-0.05"/><trkpt lat="51.5501" lon="-0.0501"/></trkseg>'
    out.append(("huge counts", "segments.gpx", _gpx("<trk>" + seg * 300_000 + "</trk>")))
    out.append(("huge counts", "tracks.gpx", _gpx(("<trk>" + seg + "</trk>") * 150_000)))
    out.append(("huge counts", "fields.csv", b"lat,lon\n" + b"1," * 20_000_000 + b"\n"))
    rows = "".join(f"s{i},51.55,-0.05\n" for i in range(600_000))
    out.append(("huge counts", "one_point_segments.csv", ("segment,lat,lon\n" + rows).encode()))
    feats = [{"type": "Feature", "properties": {}, "geometry": POLY}] * 60_000
    out.append(("huge counts", "features.geojson", json.dumps(
        {"type": "FeatureCollection", "features": feats}).encode()))
    out.append(("huge counts", "placemarks.kml", _kml(_placemark(_coords(RING)) * 60_000)))  # type: ignore[arg-type]
    big = [[-0.05 + 1e-7 * i, 51.55 + 1e-7 * (i % 2)] for i in range(1_500_000)]
    out.append(("huge counts", "vertices.geojson", json.dumps(
        {"type": "LineString", "coordinates": big}).encode()))
    return out


def mutation_cases(n: int = 160, seed: int = 16) -> list[Case]:
    """Seeded truncations, bit flips and splices of good files of every format."""
    rng = random.Random(seed)
    goods = [("m.geojson", json.dumps(FC).encode()), ("m.kml", GOOD_KML),
             ("m.gpx", GOOD_GPX), ("m.csv", GOOD_CSV),
             ("m.kmz", _zip([("doc.kml", GOOD_KML)]))]
    out: list[Case] = []
    for i in range(n):
        name, good = goods[i % len(goods)]
        b = bytearray(good)
        op = rng.randrange(4)
        if op == 0:
            b = b[:rng.randrange(1, len(b))]
        elif op == 1:
            for _ in range(rng.randrange(1, 8)):
                b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 2:
            a = rng.randrange(len(b))
            b[a:a] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 40)))
        else:
            a, c = sorted(rng.sample(range(len(b)), 2))
            b = b[:a] + b[c:] + b[a:c]
        out.append(("mutations", name, bytes(b)))
    return out


def hostile_inputs(base_url: str, sentinel: str, *, heavy: bool = True) -> list[Case]:
    """Every generated case; ``heavy=False`` leaves out the multi-megabyte ones."""
    cases = (json_cases() + crs_cases(base_url, sentinel) + zip_cases()
             + xml_cases(base_url, sentinel) + coordinate_cases() + gpkg_cases()
             + mutation_cases())
    if heavy:
        cases += count_cases()
    else:
        cases = [c for c in cases if len(c[2]) < 2_000_000]
    return cases
