"""Reading OpenStreetMap extracts: the real Southwark/Lambeth fixtures, both formats,
the major-line rules, and every bad file refused with a plain InputError."""

from __future__ import annotations

import gzip
from pathlib import Path

import osmium
import pytest

import geo
from geo import streets as streets_mod
from geo.streets import classify
from vocab import settings

DATA = Path(__file__).resolve().parents[2] / "data" / "streets"
XML = ("st_georges_cycletrack", "borough_sausage_links", "oneway_loop", "cycleway_rejoin_road")
PBF = DATA / "southwark_lambeth.osm.pbf"


@pytest.fixture(scope="module")
def frames():
    return {name: geo.read_streets(DATA / f"{name}.osm") for name in XML}


@pytest.fixture(scope="module")
def merged():
    return geo.read_streets(PBF)


def test_every_fixture_reads_as_lon_lat_lines(frames, merged):
    for frame in [*frames.values(), merged]:
        assert frame.crs.to_epsg() == 4326
        assert list(frame.columns[:3]) == ["name", "kind", "major"]
        assert set(frame["kind"]) <= set(geo.streets.KINDS)
        assert (frame.geom_type == "LineString").all()
        x0, y0, x1, y1 = frame.total_bounds
        assert -0.3 < x0 < x1 < 0.0 and 51.3 < y0 < y1 < 51.6  # south London
    assert len(frames["st_georges_cycletrack"]) > 200


def test_the_pbf_holds_the_same_streets_as_the_xml(frames, merged):
    names = set().union(*(set(f["name"]) for f in frames.values()))
    assert set(merged["name"]) == names
    assert len(merged) <= sum(len(f) for f in frames.values())
    for real in ("Union Street", "St George's Road", "Borough High Street", "Vauxhall Street",
                 "Lambeth Road", "Thameslink"):
        assert real in names


def test_xml_and_pbf_of_one_extract_agree(tmp_path, frames):
    """The same data written as PBF reads back line for line."""
    pbf = tmp_path / "oneway_loop.osm.pbf"
    with osmium.SimpleWriter(str(pbf)) as writer:
        for obj in osmium.FileProcessor(str(DATA / "oneway_loop.osm")):
            writer.add(obj)
    back = geo.read_streets(pbf)
    xml = frames["oneway_loop"]
    columns = ["name", "kind", "major", "ground"]
    assert back[columns].equals(xml[columns])
    assert back.geometry.geom_equals_exact(xml.geometry, 1e-9).all()


def test_bytes_and_path_read_the_same(frames):
    data = (DATA / "oneway_loop.osm").read_bytes()
    upload = geo.read_streets(("anything.osm", data))
    assert upload["name"].tolist() == frames["oneway_loop"]["name"].tolist()


def test_major_lines_in_the_real_extracts(frames):
    union = frames["oneway_loop"]
    thameslink = union[union["name"] == "Thameslink"]
    assert len(thameslink) and thameslink["major"].all()  # on a viaduct: on the ground
    assert not union[union["name"] == "Union Street"]["major"].any()  # unclassified
    eleph = frames["st_georges_cycletrack"]
    road = eleph[(eleph["name"] == "St George's Road") & (eleph["kind"] == "road")]
    assert len(road) and road["major"].all()  # primary (its cycle track is a path)
    # the Bakerloo and Northern lines run beneath Elephant & Castle: never major
    tube = eleph[eleph["kind"] == "rail"]
    assert len(tube) and not tube["major"].any()
    assert not tube["ground"].all()
    # a footway in a tunnel is kept but bounds nothing
    assert ((eleph["kind"] == "path") & ~eleph["ground"]).any()
    assert not (eleph["major"] & ~eleph["ground"]).any()


@pytest.mark.parametrize(("tags", "expected"), [
    ({"highway": "motorway"}, ("road", True, True)),
    ({"highway": "secondary_link"}, ("road", True, True)),
    ({"highway": "tertiary"}, ("road", False, True)),
    ({"highway": "footway"}, ("path", False, True)),
    ({"railway": "rail"}, ("rail", True, True)),
    ({"railway": "light_rail"}, ("rail", True, True)),
    ({"railway": "narrow_gauge"}, ("rail", True, True)),
    ({"railway": "subway", "tunnel": "yes"}, ("rail", False, False)),
    ({"railway": "tram"}, ("rail", False, True)),
    ({"waterway": "river"}, ("water", True, True)),
    ({"waterway": "canal"}, ("water", True, True)),
    ({"waterway": "stream"}, ("water", False, True)),
    ({"waterway": "canal", "tunnel": "culvert"}, ("water", False, False)),
    ({"natural": "water", "water": "river"}, ("water", True, True)),
    ({"natural": "water", "water": "pond"}, ("water", False, True)),
    ({"highway": "primary", "tunnel": "yes"}, ("road", False, False)),
    ({"highway": "primary", "covered": "yes"}, ("road", False, False)),
    ({"highway": "trunk", "layer": "-1"}, ("road", False, False)),
    ({"highway": "trunk", "layer": "1", "bridge": "yes"}, ("road", True, True)),
    ({"railway": "rail", "disused": "yes"}, ("rail", False, True)),
    ({"railway": "rail", "abandoned": "yes"}, ("rail", False, True)),
    ({"highway": "primary", "construction": "minor"}, ("road", False, True)),
    ({"highway": "primary", "proposed": "secondary"}, ("road", False, True)),
    ({"highway": "primary", "tunnel": "no"}, ("road", True, True)),
    ({"railway": "abandoned"}, None),
    ({"railway": "platform"}, None),
    ({"highway": "construction"}, None),
    ({"highway": "proposed"}, None),
    ({"building": "yes"}, None),
])
def test_classify(tags, expected):
    assert classify(tags) == expected


def _refused(source, *words):
    with pytest.raises(geo.InputError) as err:
        geo.read_streets(source)
    for word in words:
        assert word in str(err.value)


def test_xml_with_entities_or_a_dtd_is_refused():
    bomb = (b'<?xml version="1.0"?>\n<!DOCTYPE osm [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;">]>'
            b'<osm version="0.6"><node id="1" lat="51.5" lon="-0.1"><tag k="name" v="&b;"/>'
            b'</node></osm>')
    _refused(("bomb.osm", bomb), "entities")
    external = (b'<?xml version="1.0"?><!DOCTYPE osm SYSTEM "http://example.invalid/x.dtd">'
                b'<osm version="0.6"></osm>')
    _refused(("ext.osm", external), "document type")


def test_damaged_files_are_refused():
    data = (DATA / "oneway_loop.osm").read_bytes()
    _refused(("cut.osm", data[: len(data) // 2]), "cut.osm")
    pbf = PBF.read_bytes()
    _refused(("cut.osm.pbf", pbf[: len(pbf) // 2]), "PBF")
    _refused(("x.osm", b"hello, not an extract"), "not an OpenStreetMap extract")
    _refused(("x.osm", b'<?xml version="1.0"?><gpx></gpx>'), "not an OpenStreetMap")
    _refused(("x.osm.gz", gzip.compress(data)), "compressed")
    _refused(("x.osm", b"   "), "empty")
    _refused(("x.osm", b'<osm version="0.6"></osm>'), "no roads")
    _refused("/nonexistent/nowhere.osm", "no file")
    _refused(12, "path")


def test_limits_are_stated(monkeypatch, tmp_path):
    monkeypatch.setattr(settings, "STREETS_MAX_LINES", 10)
    _refused(DATA / "oneway_loop.osm", "10", "WAYHOME_STREETS_MAX_LINES")
    monkeypatch.setattr(settings, "STREETS_MAX_LINES", 2_000_000)
    monkeypatch.setattr(settings, "STREETS_MAX_POINTS", 100)
    _refused(DATA / "oneway_loop.osm", "WAYHOME_STREETS_MAX_POINTS")
    monkeypatch.setattr(settings, "STREETS_MAX_MB", 0.01)
    _refused(DATA / "oneway_loop.osm", "WAYHOME_STREETS_MAX_MB")
    monkeypatch.setattr(streets_mod, "MAX_BYTES", 1000)
    _refused(("big.osm", (DATA / "oneway_loop.osm").read_bytes()), "upload limit")
