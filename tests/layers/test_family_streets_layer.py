"""The family's plain map (no tiles) draws the loaded streets as thin lines named in
tooltips, each kind its own way, every name escaped."""

from __future__ import annotations

import folium
import geopandas as gpd
import shapely

from layers.family import STREET_STYLES, street_layer


def test_streets_are_drawn_named_and_escaped():
    lines = gpd.GeoDataFrame(
        {"name": ["Union Street", "<img src=x onerror=alert(1)>", ""],
         "kind": ["road", "path", "water"]},
        geometry=[shapely.LineString([(-0.10, 51.50), (-0.09, 51.50)]),
                  shapely.LineString([(-0.10, 51.501), (-0.09, 51.501)]),
                  shapely.LineString([(-0.10, 51.502), (-0.09, 51.502)])], crs=4326)
    html = folium.Map(tiles=None).add_child(street_layer(lines)).get_root().render()
    assert "Union Street" in html
    assert "<img src=x" not in html and "\\u0026lt;img src=x" in html
    for kind in ("road", "path", "water"):
        assert STREET_STYLES[kind][0] in html
    # no lines: an empty layer, nothing drawn
    empty = folium.Map(tiles=None).add_child(street_layer(lines.iloc[:0])).get_root().render()
    assert "Union Street" not in empty
