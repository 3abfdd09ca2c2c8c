"""What waits in Triage, on a map: family tips as numbered pins, "we searched here" as outlines.

Each report carries the number it has in the Triage list, so a coordinator can match
the map to the list. Every string is escaped (``layers.escape``); report records are
duck-typed (``kind``, ``id``, ``lat``/``lon`` for tips, ``geometry`` for searches).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import folium
from shapely.geometry import mapping

from layers.escape import safe_text

TIP_COLOUR = "#8a2be2"  # the family-tip purple of the case map's legend (3:1 on the map)
SEARCH_COLOUR = "#0b6e4f"


def _pin(lat: float, lon: float, number: int, title: str) -> folium.Marker:
    html = (
        f'<div style="background:{TIP_COLOUR};color:#fff;font:700 12px/20px system-ui,sans-serif;'
        "text-align:center;border:2px solid #fff;border-radius:50%;width:24px;height:24px;"
        f'box-shadow:0 1px 3px rgba(0,0,0,.5);">{number}</div>'
    )
    marker = folium.Marker(
        location=[lat, lon],
        icon=folium.DivIcon(html=html, icon_size=(24, 24), icon_anchor=(12, 12),
                            class_name="wayhome-triage-tip"),
    )
    folium.Tooltip(safe_text(title), sticky=True).add_to(marker)
    return marker


def triage_layer(reports: Iterable[Any], numbers: dict[int, int]) -> folium.FeatureGroup:
    """Tips and family searches of ``reports``, labelled with ``numbers[report.id]``."""
    group = folium.FeatureGroup(name="Triage", control=False)
    for r in reports:
        n = numbers.get(r.id, 0)
        if r.kind == "tip" and r.lat is not None and r.lon is not None:
            _pin(r.lat, r.lon, n, f"#{n} tip: {r.text or ''}"[:200]).add_to(group)
        elif r.kind == "search" and r.geometry is not None:
            folium.GeoJson(
                {"type": "Feature", "geometry": mapping(r.geometry), "properties": {}},
                style_function=lambda _f: {"color": SEARCH_COLOUR, "weight": 3,
                                           "dashArray": "6 4", "fillOpacity": 0.15},
                tooltip=folium.Tooltip(safe_text(f"#{n} family search"), sticky=True),
                class_name="wayhome-triage-search",
            ).add_to(group)
    return group
