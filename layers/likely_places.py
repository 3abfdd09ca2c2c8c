"""The likely places on a map: one numbered marker per place, in rank order.

Coordinators only (the list is never drawn on a family or partner view). Names come
from open data but are still escaped: a marker's HTML is ours, its text is not.
"""

from __future__ import annotations

import folium
import pandas as pd

from layers.escape import safe_text

#: marker colour per kind of place (Okabe-Ito, readable by colour-blind viewers)
KIND_COLOURS: dict[str, str] = {
    "station": "#0072B2",
    "bus_station": "#0072B2",
    "bus_stop": "#56B4E9",
    "town_centre": "#D55E00",
    "park": "#009E73",
    "school": "#CC79A7",
    "library": "#E69F00",
}


def likely_places_layer(places: pd.DataFrame) -> folium.FeatureGroup:
    """Numbered markers (the ``rank`` column) at each place's ``lat``/``lon``, with the
    kind, name and distance on hover. ``places``: rows of ``geo.LikelyPlaces.places``."""
    group = folium.FeatureGroup(name="Likely places", control=False)
    rows = zip(places["rank"].to_numpy(int), places["kind"].astype(str),
               places["kind_label"].astype(str), places["name"].astype(str),
               places["lat"].to_numpy(float), places["lon"].to_numpy(float),
               places["distance_m"].to_numpy(float), strict=True)
    for rank, kind, label, name, lat, lon, dist in rows:
        colour = KIND_COLOURS.get(kind, "#000000")
        html = (
            f'<div style="background:{colour};color:#fff;font:700 12px/20px system-ui,'
            "sans-serif;text-align:center;border:2px solid #fff;border-radius:50%;"
            f'box-shadow:0 1px 3px rgba(0,0,0,.6);">{int(rank)}</div>'
        )
        marker = folium.Marker(
            location=[float(lat), float(lon)],
            icon=folium.DivIcon(html=html, icon_size=(24, 24), icon_anchor=(12, 12),
                                class_name="wayhome-likely-place"),
        )
        folium.Tooltip(safe_text(
            f"{int(rank)}. {label}: {name} · {float(dist):,.0f} m"
        ), sticky=True).add_to(marker)
        marker.add_to(group)
    return group
