"""Likely places on the map: numbered markers in rank order, names escaped."""

from __future__ import annotations

import folium

import geo
from layers.likely_places import likely_places_layer


def test_numbered_markers_with_escaped_names() -> None:
    places = geo.likely_places(-0.1006, 51.4946, 12, 3600, limit=3).places.copy()
    places.loc[1, "name"] = "<img src=x onerror=alert(1)>`${x}`"
    group = likely_places_layer(places)
    m = folium.Map(location=[51.49, -0.1], zoom_start=15)
    group.add_to(m)
    html = m.get_root().render()
    markers = [c for c in group._children.values() if isinstance(c, folium.Marker)]
    assert len(markers) == 3
    assert [mk.location for mk in markers] == places[["lat", "lon"]].values.tolist()
    for rank in (1, 2, 3):
        assert f"\\u003e{rank}\\u003c/div\\u003e" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "${x}" not in html
