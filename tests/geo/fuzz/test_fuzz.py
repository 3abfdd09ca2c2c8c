"""The fuzzing suite: hundreds of hostile inputs, each answered cleanly and in bounds.

For every generated input, each reader that takes its format answers with
:class:`geo.InputError` or a valid result, inside the per-file time budget and
memory ceiling (every run is forked by ``geo.guarded``, so a runaway is counted,
not waited for), and without a request to the loopback recorder or a read of the
sentinel file the inputs point at. Hypothesis adds GeoJSON and GPX documents
built from their grammar. ``bench/fuzz_bench.py`` prints the same run as a table.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

import geo
from tests.geo.fuzz.generator import count_cases, hostile_inputs
from tests.geo.fuzz.harness import run_one, table, valid_result
from tests.geo.test_hostile_files import recorder  # noqa: F401  (fixture)
from vocab import settings

TRACK_EXT = {"gpx", "kml", "kmz", "csv"}
SECTOR_EXT = {"geojson", "json", "kml", "kmz", "gpx", "zip", "gpkg", "shp"}


def readers_for(name: str) -> list[str]:
    ext = name.rsplit(".", 1)[-1].lower()
    return [r for r, exts in (("sectors", SECTOR_EXT), ("tracks", TRACK_EXT)) if ext in exts]


@pytest.fixture()
def sentinel(tmp_path):
    """A file the inputs point at; its access time shows whether anything read it."""
    path = tmp_path / "secret.txt"
    path.write_text("secret")
    os.utime(path, (0, 0))
    path.read_text()
    if path.stat().st_atime == 0:  # a noatime mount cannot show reads
        pytest.skip("this file system does not record access times")
    os.utime(path, (0, 0))
    return path


@pytest.mark.timeout(400)
def test_every_hostile_input_gets_a_clean_answer_in_bounds(recorder, sentinel):  # noqa: F811
    base, hits = recorder
    cases = hostile_inputs(base, str(sentinel), heavy=False)
    # the heavy ones that stalled the app before, without the slowest to generate
    cases += [c for c in count_cases() if c[1] in ("tracks.gpx", "fields.csv",
                                                  "features.geojson", "placemarks.kml")]
    assert len(cases) >= 400
    budget, memory = settings.IMPORT_TIME_BUDGET_S, settings.IMPORT_MEMORY_MB
    runs = [run_one(cat, name, data, reader, seconds=budget, memory_mb=memory)
            for cat, name, data in cases for reader in readers_for(name)]
    print("\n" + table(runs, Counter(c[0] for c in cases)))
    bad = [(r.category, r.name, r.reader, r.outcome, r.detail[:100]) for r in runs
           if r.outcome not in ("refused", "accepted")]
    assert bad == []
    assert max(r.seconds for r in runs) < budget
    assert hits == []
    assert sentinel.stat().st_atime == 0


# --- Hypothesis: documents from the formats' grammar, read in-process -------------------

numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10**20, 10**20),
                    st.floats(-0.6, 0.3), st.floats(51.2, 51.8))
junk = st.one_of(st.none(), st.booleans(), st.text(max_size=5), numbers)
position = st.one_of(st.lists(numbers, min_size=0, max_size=4), junk)
ring = st.one_of(st.lists(position, max_size=8), junk)
geometry = st.fixed_dictionaries({
    "type": st.one_of(st.sampled_from(["Polygon", "MultiPolygon", "LineString", "Point",
                                       "GeometryCollection"]), junk),
    "coordinates": st.one_of(st.lists(ring, max_size=3), st.lists(st.lists(ring, max_size=2),
                                                                   max_size=2), junk),
})
feature = st.fixed_dictionaries({"type": st.just("Feature"), "geometry": st.one_of(geometry, junk),
                                 "properties": st.one_of(st.dictionaries(st.text(max_size=4),
                                                                         junk, max_size=3), junk)})
geojson = st.one_of(geometry, feature, st.fixed_dictionaries({
    "type": st.just("FeatureCollection"), "features": st.one_of(st.lists(feature, max_size=5),
                                                                junk)}))

attr = st.one_of(numbers.map(str), st.text(max_size=6))
gpx_point = st.tuples(attr, attr, st.one_of(st.none(), st.text(max_size=25)))
gpx_doc = st.lists(st.tuples(st.sampled_from(["trk", "rte"]),
                             st.lists(gpx_point, max_size=12)), max_size=4)


def _xml_attr(v: str) -> str:
    return (v.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")
            .encode("utf-8", "replace").decode("utf-8", "replace"))


def _gpx_text(doc) -> bytes:
    body = []
    for kind, pts in doc:
        tag = "trkpt" if kind == "trk" else "rtept"
        inner = "".join(
            f'<{tag} lat="{_xml_attr(la)}" lon="{_xml_attr(lo)}">'
            + (f"<time>{_xml_attr(t).replace('>', '')}</time>" if t is not None else "")
            + f"</{tag}>" for la, lo, t in pts)
        body.append(f"<trk><trkseg>{inner}</trkseg></trk>" if kind == "trk"
                    else f"<rte>{inner}</rte>")
    return ('<?xml version="1.0"?><gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1">'
            + "".join(body) + "</gpx>").encode("utf-8", "surrogatepass")


def _answer(reader: str, name: str, data: bytes) -> None:
    fn = {"sectors": geo.read_sectors, "tracks": geo.read_tracks}[reader]
    t0 = time.monotonic()
    try:
        gdf = fn((name, data))
    except geo.InputError:
        return
    finally:
        assert time.monotonic() - t0 < settings.IMPORT_TIME_BUDGET_S
    assert valid_result(reader, gdf)


@hyp_settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(geojson)
def test_hypothesis_geojson(doc):
    _answer("sectors", "h.geojson", json.dumps(doc, allow_nan=True).encode())


@hyp_settings(max_examples=150, deadline=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(gpx_doc)
def test_hypothesis_gpx(doc):
    try:
        data = _gpx_text(doc)
    except UnicodeEncodeError:
        return
    for reader in ("sectors", "tracks"):
        _answer(reader, "h.gpx", data)
