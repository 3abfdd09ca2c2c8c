"""Folium maps render to the same bytes with the literal templates as with branca's own."""

from __future__ import annotations

import itertools

import branca.element
import folium
import jinja2
import pytest

from layers.assets import asset_urls
from layers.basemap import base_map, parse_tiles, place_layer
from layers.templates import LiteralTemplate, install, template
from tests.layers.conftest import HOSTILE

TRICKY = [
    "", "\n", "\n\n", "a", "a\n", "a\n\n", "a\r\nb\r\n", "a\rb\r", "\r\n\r\n", "x\n\r\ny",
    "  <div>\n  text  </div>  \n", "{ not } jinja {", "} {", "%} #} }}", "tab\tend\n",
    "é ✓ \u2028 line sep\n", *HOSTILE,
]


@pytest.mark.parametrize("text", TRICKY)
def test_literal_text_renders_as_jinja_renders_it(text):
    made = template(text)
    assert isinstance(made, LiteralTemplate)
    assert made.render(this=object(), kwargs={}) == jinja2.Template(text).render()


def test_text_with_jinja_syntax_is_still_a_jinja_template():
    made = template("{{ 1 + 1 }} and {% if true %}yes{% endif %}{# gone #}\n")
    assert isinstance(made, jinja2.Template) and made.render() == "2 and yes"
    assert template("{{ 1 + 1 }} and {% if true %}yes{% endif %}{# gone #}\n") is made


def _map_html(monkeypatch, with_literals: bool, hostile_boundaries) -> str:
    """A base map with markers, popups, tooltips and GeoJSON, rendered with ids that do
    not depend on chance."""
    counter = itertools.count()
    monkeypatch.setattr(branca.element.Element, "_generate_id",
                        classmethod(lambda cls: f"{next(counter):032x}"))
    monkeypatch.setattr(branca.element, "Template", jinja2.Template)
    if with_literals:
        install()
    m = base_map(hostile_boundaries, asset_urls(""), parse_tiles("none"))
    group = place_layer(51.5, -0.1, HOSTILE[0])
    for i, text in enumerate(HOSTILE):
        folium.Marker([51.5 + i / 100, -0.1], popup=folium.Popup(text),
                      tooltip=folium.Tooltip(text)).add_to(group)
    folium.GeoJson({"type": "FeatureCollection", "features": [
                       {"type": "Feature", "properties": {"name": "x"},
                        "geometry": {"type": "Point", "coordinates": [-0.1, 51.5]}}]},
                   tooltip=folium.GeoJsonTooltip(["name"])).add_to(group)
    group.add_to(m)
    return m.get_root().render()


def test_a_whole_map_renders_byte_for_byte_as_before(monkeypatch, hostile_boundaries):
    plain = _map_html(monkeypatch, False, hostile_boundaries)
    assert branca.element.Template is jinja2.Template
    fast = _map_html(monkeypatch, True, hostile_boundaries)
    assert branca.element.Template is template
    assert fast == plain
    assert fast.count("L.marker(") == len(HOSTILE) + 1 and "L.geoJson(" in fast
