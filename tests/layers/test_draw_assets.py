"""Leaflet.draw is found in its carrier package, copied, and the Draw control uses the copy."""

from __future__ import annotations

import re
import subprocess
import sys

import folium
from folium.plugins import Draw

from layers.assets import LEAFLET_DRAW, asset_urls, draw_urls, install_assets, vendored_files
from layers.draw import SectorDraw, is_drawing


def test_draw_files_are_located_without_importing_django():
    # a fresh interpreter: nothing else in the test session may have imported Django
    code = (
        "import sys; from layers.assets import LEAFLET_DRAW as d; "
        "b = d.base_dir(); assert (b / 'leaflet.draw.js').is_file(), b; "
        "assert d.version(); "
        "assert not any(m == 'django' or m.startswith(('django.', 'leaflet')) "
        "for m in sys.modules), sorted(m for m in sys.modules if 'django' in m)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_draw_file_exists_and_is_leaflet_draw():
    files = {rel: src for src, rel in vendored_files() if rel.startswith("leaflet-draw/")}
    assert set(files) == {f"leaflet-draw/{f}" for f in LEAFLET_DRAW.files}
    for src in files.values():
        assert src.is_file() and src.stat().st_size > 0, src
    head = files["leaflet-draw/leaflet.draw.js"].read_text(errors="replace")[:400]
    assert "Leaflet.draw" in head


def test_install_copies_the_toolbar_sprites_the_css_names(tmp_path):
    vendor = install_assets(tmp_path)
    folder = vendor / "leaflet-draw"
    css = (folder / "leaflet.draw.css").read_text()
    refs = set(re.findall(r"url\(['\"]?([^'\")]+)['\"]?\)", css))
    assert refs, "the style sheet should name its sprites"
    for ref in refs:
        assert not ref.startswith(("http:", "https:", "//")), ref
        assert (folder / ref).is_file(), ref  # every sprite it names is served
    js = (folder / "leaflet.draw.js").read_text(errors="replace")
    assert "sourceMappingURL=http" not in js


def test_urls_are_local_and_respect_the_base_url_path():
    urls = draw_urls("/search/wayhome/")
    assert urls.all_urls()
    for u in urls.all_urls():
        assert u.startswith("/search/wayhome/app/static/vendor/leaflet-draw/")
    assert urls.js[0][1].split("?")[0].endswith("leaflet.draw.js")
    assert urls.css[0][1].split("?")[0].endswith("leaflet.draw.css")


def test_control_uses_the_local_files_and_leaves_folium_defaults_alone():
    cdn_js, cdn_css = list(Draw.default_js), list(Draw.default_css)
    m = folium.Map(tiles=None)
    m.default_js = list(asset_urls("").js)
    m.default_css = list(asset_urls("").css)
    SectorDraw(draw_urls("")).add_to(m)
    html = m.get_root().render()
    assert "/app/static/vendor/leaflet-draw/leaflet.draw.js" in html
    assert "/app/static/vendor/leaflet-draw/leaflet.draw.css" in html
    assert "cdnjs" not in html and "leaflet.draw/1.0.2" not in html
    # the class defaults are untouched: another map in this process is unaffected
    assert Draw.default_js == cdn_js and Draw.default_css == cdn_css
    plain = folium.Map(tiles=None)
    Draw().add_to(plain)
    assert "cdnjs" in plain.get_root().render()


def test_control_refuses_crossed_edges_and_offers_only_areas():
    m = folium.Map(tiles=None)
    SectorDraw(draw_urls("")).add_to(m)
    html = m.get_root().render()
    options = re.search(r"var options = \{(.*?)\n\s*\}", html, re.S).group(1)
    assert '"allowIntersection": false' in options
    assert '"poly": {"allowIntersection": false}' in options
    for tool in ("polyline", "circle", "circlemarker", "marker"):
        assert f'"{tool}": false' in options
    assert "alert(coords)" not in html  # no coordinate pop-up on click


def test_is_drawing_tells_drawings_from_clicked_features():
    ring = [[-0.1, 51.5], [-0.09, 51.5], [-0.09, 51.51], [-0.1, 51.5]]
    drawn = {"type": "Feature", "properties": {},
             "geometry": {"type": "Polygon", "coordinates": [ring]}}
    assert is_drawing(drawn)
    assert not is_drawing({**drawn, "properties": {"sid": 4}})  # a sector was clicked
    assert not is_drawing({**drawn, "geometry": {"type": "Point", "coordinates": [0, 51]}})
    assert not is_drawing(None) and not is_drawing("x") and not is_drawing({})
