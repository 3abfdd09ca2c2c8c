"""The street layer: self-served tiles, names as text, a fixed index URL, stable script."""

from __future__ import annotations

import json
import re
from pathlib import Path

import geopandas as gpd
import shapely

from geo.street_tiles import street_tiles
from layers.assets import asset_urls
from layers.basemap import base_map, parse_tiles
from layers.phone import phone_map
from layers.streets import (
    LazyStreets,
    publish_no_streets,
    publish_street_tiles,
    streets_index_url,
)
from tests.layers.conftest import HOSTILE

URL = re.compile(r"""(?:https?:)?//[^\s"'`<>)]+""")


def _lines(names: list[str]) -> gpd.GeoDataFrame:
    geoms = [shapely.LineString([(-0.10 + 0.001 * k, 51.50), (-0.10 + 0.001 * k, 51.502)])
             for k in range(len(names))]
    return gpd.GeoDataFrame({"name": names, "kind": "road", "major": False, "ground": True},
                            geometry=geoms, crs=4326)


def test_the_base_map_carries_the_street_layer_without_any_outside_url(hostile_boundaries):
    url = streets_index_url("wh")
    assert url == "/wh/app/static/vendor/streets/index.json"
    m = base_map(hostile_boundaries, asset_urls("wh"), parse_tiles("none"), streets=url)
    html = m.get_root().render()
    assert URL.findall(html) == []
    assert '"/wh/app/static/vendor/streets/index.json"' in html
    assert "Streets (OpenStreetMap extract)" in html  # in the layer control
    start = html.index("wayhomeStreets")
    script = html[start:html.index("return layer;", start)]
    assert "textContent" in script and "innerHTML" not in script
    # the same inputs give the same script (the map stays mounted across reruns)
    again = base_map(hostile_boundaries, asset_urls("wh"), parse_tiles("none"), streets=url)
    assert re.sub(r"_[0-9a-f]{32}", "", again.get_root().render()) == re.sub(
        r"_[0-9a-f]{32}", "", html)


def test_no_street_layer_unless_asked(hostile_boundaries):
    html = base_map(hostile_boundaries, asset_urls(), parse_tiles("none")).get_root().render()
    assert "wayhomeStreets" not in html


def test_the_team_phone_map_can_carry_it():
    m = phone_map(asset_urls(), None, "<p>key</p>", streets=streets_index_url())
    assert "wayhomeStreets" in m.get_root().render()
    assert "wayhomeStreets" not in phone_map(asset_urls(), None, "<p>k</p>").get_root().render()


def test_publish_writes_tiles_and_index_and_drops_the_old_set(tmp_path: Path):
    publish_no_streets(tmp_path)
    folder = tmp_path / "vendor" / "streets"
    assert json.loads((folder / "index.json").read_text())["tiles"] == {}
    tiles = street_tiles(_lines(["Union Street", *HOSTILE]))
    publish_street_tiles(tmp_path, tiles, "v1")
    index = json.loads((folder / "index.json").read_text())
    assert index["version"] == "v1" and index["zoom"] == 14
    assert set(index["tiles"]) == {f"{t.x}/{t.y}" for t in tiles}
    for t in tiles:
        body = (folder / "v1" / f"14-{t.x}-{t.y}.json").read_text()
        assert len(body) == index["tiles"][f"{t.x}/{t.y}"]
        names = {f["properties"]["n"] for f in json.loads(body)["features"]}
        assert names <= {"Union Street", *HOSTILE}
        assert "<" not in body
    publish_no_streets(tmp_path)  # an index exists: left alone
    assert json.loads((folder / "index.json").read_text())["version"] == "v1"
    publish_street_tiles(tmp_path, street_tiles(_lines(["Borough Road"])), "v2")
    assert json.loads((folder / "index.json").read_text())["version"] == "v2"
    assert (folder / "v1").is_dir()  # the previous set stays for a page that read it
    publish_street_tiles(tmp_path, street_tiles(_lines(["Lant Street"])), "v3")
    assert sorted(d.name for d in folder.iterdir() if d.is_dir()) == ["v2", "v3"]


def test_layer_options_are_plain_data():
    layer = LazyStreets("/app/static/vendor/streets/index.json")
    assert layer.auto_zoom == 15 and layer.min_zoom == 14
    assert set(layer.styles) == {"road", "path", "rail", "water"}
