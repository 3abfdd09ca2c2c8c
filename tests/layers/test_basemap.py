"""The base map: no CDN, escaped text everywhere, stable across reruns, lazy wards."""

from __future__ import annotations

import json
import re

import folium
import pytest
from jinja2.utils import htmlsafe_json_dumps
from streamlit_folium import _get_map_string, generate_js_hash

from layers.assets import asset_urls
from layers.basemap import base_map, clicked_point, parse_tiles, place_layer
from layers.boundaries import (
    BoundarySet,
    LazyGeoJson,
    boundary_layer,
    load_boundary_set,
    publish_layer_file,
)
from layers.escape import safe_text
from layers.legend import legend_html
from layers.styles import BOUNDARY_STYLES, BoundaryStyle
from tests.layers.conftest import HOSTILE, collection

URL = re.compile(r"""(?:https?:)?//[^\s"'`<>)]+""")


def render(m: folium.Map) -> str:
    return m.get_root().render()


def test_map_loads_only_self_served_files(hostile_boundaries):
    html = render(base_map(hostile_boundaries, asset_urls("wh"), parse_tiles("none")))
    srcs = re.findall(r'<script src="([^"]+)"', html)
    links = re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    assert srcs == [
        "/wh/app/static/vendor/leaflet/leaflet.js?v=1.9.3",
        "/wh/app/static/vendor/jquery/jquery.min.js?v=3.7.1",
    ]
    assert links == ["/wh/app/static/vendor/leaflet/leaflet.css?v=1.9.3"]
    assert URL.findall(html) == [], "no external URL at all without tiles"
    assert '"/wh/app/static/vendor/leaflet/images/"' in html  # marker images


def test_folium_shared_defaults_are_not_changed(hostile_boundaries):
    before = (list(folium.Map.default_js), list(folium.Map.default_css))
    base_map(hostile_boundaries, asset_urls(), parse_tiles("none"))
    assert (folium.Map.default_js, folium.Map.default_css) == before
    assert any("cdn.jsdelivr" in u for _, u in folium.Map().default_js)


def test_openstreetmap_tiles_are_the_only_external_url(hostile_boundaries):
    html = render(base_map(hostile_boundaries, asset_urls(), parse_tiles("openstreetmap")))
    hosts = {re.sub(r"^(?:https?:)?//", "", u).split("/")[0] for u in URL.findall(html)}
    assert hosts == {"tile.openstreetmap.org", "www.openstreetmap.org"}


def test_hostile_names_never_reach_the_script_raw(hostile_boundaries):
    m = base_map(hostile_boundaries, asset_urls(), parse_tiles("none"))
    html = render(m)
    for payload in [*HOSTILE, "Central <b>North</b>", "2018 <i>old</i>"]:
        assert payload not in html
        assert json.dumps(payload)[1:-1] not in html  # nor JSON-encoded inside the script
    # the escaped names are there (as the script's JSON has them), so tooltips show them
    for payload in HOSTILE:
        assert str(htmlsafe_json_dumps(safe_text(payload))) in html
    assert html.count("<script>window.__pwned") == 0


def test_streamlit_folium_script_is_escaped_and_stable(hostile_boundaries):
    urls = asset_urls()
    a = _get_map_string(base_map(hostile_boundaries, urls, parse_tiles("none")))
    b = _get_map_string(base_map(hostile_boundaries, urls, parse_tiles("none")))
    assert generate_js_hash(a, "k") == generate_js_hash(b, "k")  # same component: no remount
    for payload in HOSTILE:
        assert payload not in a


@pytest.mark.parametrize("kind", ["borough", "bcu", "force"])
def test_boundary_layer_tooltip_shows_name_and_code(kind):
    style = BOUNDARY_STYLES[kind]
    layer = boundary_layer(style, collection(["Camden"], kind))
    m = folium.Map(tiles=None)
    layer.add_to(m)
    html = render(m)
    assert '"Camden"' in html and '"E09000000"' in html
    assert f'"className": "wayhome-{kind}"' in html
    props = layer.data["features"][0]["properties"]
    assert set(props) == {"name", "code"}  # nothing else is shipped


def test_outline_layers_accept_lines():
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "MultiLineString", "coordinates": [[[-0.1, 51.5], [0, 51.6]]]},
                "properties": {"name": "Metropolitan Police", "code": "E23000001"},
            }
        ],
    }
    m = folium.Map(tiles=None)
    boundary_layer(BOUNDARY_STYLES["force"], fc).add_to(m)
    assert "MultiLineString" in render(m)


def test_lazy_ward_layer_fetches_from_own_origin_and_uses_text_content(hostile_boundaries):
    html = render(base_map(hostile_boundaries, asset_urls(), parse_tiles("none")))
    assert 'fetch("/app/static/vendor/boundaries/ward-0123456789ab.json"' in html
    script = html[html.index("L.geoJSON(null"):]
    script = script[: script.index("})();")]
    assert "textContent" in script and "innerHTML" not in script
    assert '"Wards (2018)"' in html  # listed in the layer control, not drawn yet


def test_wards_are_not_in_the_first_load(tmp_path, hostile_boundaries):
    wards = collection(["Bloomsbury", "Holborn and Covent Garden"], "ward")
    url = publish_layer_file(tmp_path, "ward", wards)
    bs = BoundarySet(inline=hostile_boundaries.inline, lazy={"ward": url})
    html = render(base_map(bs, asset_urls(), parse_tiles("none")))
    assert "Bloomsbury" not in html
    assert url in html


def test_served_base_layers_are_fetched_at_open_beneath_the_page_layers(tmp_path):
    kinds = ("borough", "bcu", "force")
    bs = BoundarySet(
        inline={},
        lazy={k: publish_layer_file(tmp_path, k, collection([f"{k} Camden"], k)) for k in kinds},
        shown=frozenset(kinds),
    )
    m = base_map(bs, asset_urls(), parse_tiles("none"))
    html = render(m)
    assert "Camden" not in html  # the map's script carries no boundary, only its address
    for kind in kinds:
        assert f'fetch("{bs.lazy[kind]}"' in html
    layers = [c for c in m._children.values() if isinstance(c, LazyGeoJson)]
    assert [(layer.kind, layer.show, layer.under) for layer in layers] == [
        (k, True, True) for k in BOUNDARY_STYLES if k in kinds  # the declared drawing order
    ]
    assert html.count("bringToBack()") == 3 and html.count(".addTo(") >= 3


def test_load_boundary_set_inlines_nothing(tmp_path):
    bs = load_boundary_set(tmp_path)
    assert not bs.inline
    assert set(bs.lazy) == {"borough", "bcu", "force", "ward"}
    assert bs.shown == {"borough", "bcu", "force"}
    for url in bs.lazy.values():
        served = tmp_path / "vendor" / "boundaries" / url.rsplit("/", 1)[1]
        assert json.loads(served.read_text())["features"]


def test_publish_layer_file_is_content_addressed_and_idempotent(tmp_path):
    a = publish_layer_file(tmp_path, "ward", collection(["A"], "ward"), "base")
    assert re.fullmatch(r"/base/app/static/vendor/boundaries/ward-[0-9a-f]{12}\.json", a)
    path = tmp_path / "vendor" / "boundaries" / a.rsplit("/", 1)[1]
    data = json.loads(path.read_text())
    assert data["features"][0]["properties"] == {
        "name": "A",
        "code": "E09000000",
        "kind": "ward",
        "borough": None,
    }
    mtime = path.stat().st_mtime_ns
    assert publish_layer_file(tmp_path, "ward", collection(["A"], "ward"), "base") == a
    assert path.stat().st_mtime_ns == mtime
    b = publish_layer_file(tmp_path, "ward", collection(["B"], "ward"), "base")
    assert b != a and not path.exists()  # the old version is removed


def test_place_layer_escapes_its_label():
    group = place_layer(51.5, -0.12, HOSTILE[2])
    m = folium.Map(tiles=None)
    group.add_to(m)
    html = render(m)
    assert HOSTILE[2] not in html
    assert "L.marker" in html and "circleMarker" in html
    assert place_layer()._children == {}


def test_legend_lists_styles_heaviest_first_with_dates(hostile_boundaries):
    html = render(base_map(hostile_boundaries, asset_urls(), parse_tiles("none")))
    legend = json.loads(re.search(r"div\.innerHTML = (\".*?\");\n", html).group(1))
    titles = re.findall(r"<span>(.*?)</span>", legend)
    assert titles[0].startswith("Police force area") and "Command Unit" in titles[1]
    assert any("Ward" in t and "2018 &lt;i&gt;old&lt;/i&gt;" in t for t in titles)
    assert "Open Government Licence v3.0" in legend


def test_legend_can_start_folded_for_busy_maps(hostile_boundaries):
    def legend_of(m):
        return json.loads(re.search(r"div\.innerHTML = (\".*?\");\n", render(m)).group(1))

    opened = legend_of(base_map(hostile_boundaries, asset_urls(), parse_tiles("none")))
    assert opened.startswith("<details open><summary>Legend</summary>")
    folded = legend_of(
        base_map(hostile_boundaries, asset_urls(), parse_tiles("none"), legend_open=False)
    )
    assert folded.startswith("<details><summary>Boundaries</summary>")
    assert "Police force area" in folded  # still all there, one click away
    assert "<summary>&lt;b&gt;x&lt;/b&gt;</summary>" in legend_html([], title="<b>x</b>")


def test_legend_rejects_unsafe_colours():
    with pytest.raises(ValueError):
        BoundaryStyle("x", "X", "x", "x", colour="red;background:url(x)", weight=1)
    with pytest.raises(ValueError):
        legend_html([], extra=[('"><script>', "x")])


@pytest.mark.parametrize(
    ("setting", "attribution", "url"),
    [
        ("openstreetmap", "", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
        ("OSM", "", "https://tile.openstreetmap.org/{z}/{x}/{y}.png"),
        ("https://t.example.org/{z}/{x}/{y}.png", "© Example", "https://t.example.org/{z}/{x}/{y}.png"),
    ],
)
def test_parse_tiles(setting, attribution, url):
    assert parse_tiles(setting, attribution).url == url


@pytest.mark.parametrize("setting", ["none", "", "off", "None"])
def test_no_tiles(setting):
    assert parse_tiles(setting) is None


def test_bad_tile_settings_are_explained():
    with pytest.raises(ValueError, match="URL template"):
        parse_tiles("javascript:alert(1)")
    with pytest.raises(ValueError, match="ATTRIBUTION"):
        parse_tiles("https://t.example.org/{z}/{x}/{y}.png")
    tiles = parse_tiles("https://t.example.org/{z}/{x}/{y}.png", "<b>Example</b>")
    assert "<" not in tiles.attribution


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ({"last_clicked": {"lat": 51.5, "lng": -0.1}}, (51.5, -0.1)),
        ({"last_clicked": {"lat": 51.5, "lng": 359.9}}, (51.5, pytest.approx(-0.1))),
        ({"last_clicked": None}, None),
        ({"last_clicked": {"lat": "x", "lng": 0}}, None),
        ({"last_clicked": {"lat": float("nan"), "lng": 0}}, None),
        ({"last_clicked": {"lat": 95, "lng": 0}}, None),
        (None, None),
        ("junk", None),
    ],
)
def test_clicked_point(value, expected):
    assert clicked_point(value) == expected


def test_lazy_layer_is_a_control_overlay():
    layer = LazyGeoJson(BOUNDARY_STYLES["ward"], "/u.json")
    assert layer.overlay and layer.control and not layer.show
