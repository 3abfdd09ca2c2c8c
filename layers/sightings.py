"""A case on the map: sightings, the verified path, the last-known location, IPP and home.

Everything here changes while a search runs, so it is built as folium
``FeatureGroup`` objects for ``st_folium(feature_group_to_add=…)``: the base map
stays identical and mounted, only these groups are swapped in the browser.

How a coordinator reads the map:

* **verified** sightings: solid blue dots, joined in time order by a blue line
  (the route the child is known to have taken);
* **unverified** sightings: hollow orange circles with a dashed outline;
* **dismissed** sightings: small faint grey circles (or left off the map);
* the **last-known location** (latest verified sighting, else the IPP): a large
  crimson ring with a permanent "Last known" label;
* the **IPP** and **home**: labelled square pins.

Each sighting carries a permanent time label (Europe/London wall clock) and a
popup with source, confidence, status, who reported it, the description and
its borough / BCU / force. Every piece of text goes through
:func:`layers.escape.safe_text`: popups and tooltips are HTML *and* JS
template-literal sinks (see ``layers/escape.py``).

Coordinates are lat/lon degrees (EPSG:4326). No database and no Streamlit here:
the builders take any objects with the attributes of ``casefile``'s records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

import folium

from geo.coordinates import grid_reference
from layers.escape import safe_text
from vocab import london_time
from vocab.london_time import LONDON

__all__ = [
    "HOME_COLOUR",
    "IPP_COLOUR",
    "LKL_COLOUR",
    "PATH_STYLE",
    "RV_COLOUR",
    "SIGHTING_STYLES",
    "MarkerStyle",
    "case_layers",
    "last_known_layer",
    "path_layer",
    "places_layer",
    "rendezvous_layer",
    "sighting_legend_rows",
    "sightings_layer",
    "time_label",
    "verified_path",
]



class SightingLike(Protocol):
    id: int
    lat: float
    lon: float
    seen_at: datetime
    source: str
    confidence: str
    status: str
    reported_by: str
    description: str
    borough: str | None
    bcu: str | None
    force: str | None


class CaseLike(Protocol):
    reference: str
    ipp_lat: float
    ipp_lon: float
    home_lat: float | None
    home_lon: float | None


class LastKnownLike(Protocol):
    lat: float
    lon: float
    at: datetime | None
    kind: str
    sighting_id: int | None


@dataclass(frozen=True)
class MarkerStyle:
    """How one kind of sighting is drawn (Leaflet CircleMarker options) and named."""

    status: str
    legend: str
    colour: str
    radius: float  # CSS pixels
    weight: float  # outline width, CSS pixels
    fill_colour: str
    fill_opacity: float
    opacity: float = 1.0
    dash: str | None = None

    @property
    def class_name(self) -> str:
        """The SVG class of every marker drawn in this style (tests and CSS use it)."""
        return f"wayhome-sighting wayhome-sighting-{self.status}"

    def options(self) -> dict[str, Any]:
        return {
            "radius": self.radius,
            "color": self.colour,
            "weight": self.weight,
            "opacity": self.opacity,
            "fill": True,
            "fill_color": self.fill_colour,
            "fill_opacity": self.fill_opacity,
            "dash_array": self.dash,
            "class_name": self.class_name,
        }


SIGHTING_STYLES: dict[str, MarkerStyle] = {
    "verified": MarkerStyle("verified", "Verified sighting", "#123e7c", 7, 2, "#1f5fbf", 0.95),
    "unverified": MarkerStyle(
        "unverified",
        "Unverified sighting (not yet checked)",
        "#d35400",
        8,
        2.5,
        "#ffffff",
        0.55,
        dash="4 3",
    ),
    "dismissed": MarkerStyle(
        "dismissed", "Dismissed sighting", "#8a8f98", 5, 1.5, "#c4c8cf", 0.35, opacity=0.6
    ),
}

PATH_STYLE: dict[str, Any] = {
    "color": "#1f5fbf",
    "weight": 3,
    "opacity": 0.85,
    "class_name": "wayhome-path",
}
LKL_COLOUR = "#b0003a"
IPP_COLOUR = "#6a1b9a"
HOME_COLOUR = "#2e7d32"
RV_COLOUR = "#1a1a1a"

_LABEL_STYLE = (
    "font: 600 11px/1.2 system-ui, sans-serif; background: rgba(255,255,255,0.9); "
    "border: 1px solid #9aa5b1; border-radius: 3px; padding: 1px 3px; box-shadow: none;"
)


# ------------------------------------------------------------------------- text


def _london(dt: datetime) -> datetime:
    if dt.tzinfo is None:
        raise ValueError("naive datetime: cannot tell which time zone it is in")
    return dt.astimezone(LONDON)


def time_label(dt: datetime | None, now: datetime | None = None, *,
               always_day: bool = False) -> str:
    """A short London time for a map label: ``14:05`` today, else ``Tue 3 Mar 14:05``.

    ``always_day``: the day even for today (field maps, read across midnight).
    """
    if dt is None:
        return ""
    local = _london(dt)
    today = _london(now or datetime.now(UTC)).date()
    hm = local.strftime(london_time.CLOCK)
    if local.date() == today and not always_day:
        return hm
    label = f"{local:%a} {local.day} {local:%b} {hm}"
    if local.year != today.year:
        label = f"{local.day} {local:%b} {local.year} {hm}"
    return label


def _full_time(dt: datetime) -> str:
    return _london(dt).strftime(london_time.FULL)


def _area_line(s: SightingLike) -> str:
    parts = [p for p in (s.borough, s.bcu, s.force) if p]
    return " · ".join(parts) if parts else "Outside the London areas Wayhome knows"


def _popup_html(s: SightingLike) -> str:
    """The sighting's details as HTML; every value is escaped, the markup is ours."""
    rows = [
        f"<b>Sighting {safe_text(s.id)} · {safe_text(s.status)}</b>",
        f"Seen {safe_text(_full_time(s.seen_at))}",
        f"Source: {safe_text(s.source)} · confidence {safe_text(s.confidence)}",
    ]
    if s.reported_by:
        rows.append(f"Reported by: {safe_text(s.reported_by)}")
    if s.description:
        rows.append(f"<i>{safe_text(s.description)}</i>")
    rows.append(f"<small>{safe_text(_area_line(s))}</small>")
    return '<div class="wayhome-sighting-popup">' + "<br>".join(rows) + "</div>"


def _label(text: str, class_name: str, *, direction: str = "right") -> folium.Tooltip:
    return folium.Tooltip(
        safe_text(text),
        style=_LABEL_STYLE,
        permanent=True,
        direction=direction,
        sticky=False,
        class_name=class_name,
        offset=[8, 0] if direction == "right" else [0, -14],
    )


# ------------------------------------------------------------------------- layers


def verified_path(sightings: Iterable[SightingLike]) -> list[SightingLike]:
    """Verified sightings in the order they were seen (then by id): the known route."""
    return sorted((s for s in sightings if s.status == "verified"), key=lambda s: (s.seen_at, s.id))


def sightings_layer(
    sightings: Iterable[SightingLike],
    *,
    show_dismissed: bool = True,
    now: datetime | None = None,
    always_day: bool = False,
) -> folium.FeatureGroup:
    """One circle per sighting, styled by status, with a time label and a details popup.

    Dismissed sightings are drawn small and faint without a label, or left off
    when ``show_dismissed`` is false. Unknown statuses are drawn as unverified
    (never hidden: a sighting nobody has checked must not vanish).
    """
    group = folium.FeatureGroup(name="Sightings", control=False)
    ordered = sorted(sightings, key=lambda s: (s.seen_at, s.id))
    for s in ordered:
        style = SIGHTING_STYLES.get(s.status, SIGHTING_STYLES["unverified"])
        if style.status == "dismissed" and not show_dismissed:
            continue
        label = None
        if style.status != "dismissed":
            label = _label(time_label(s.seen_at, now, always_day=always_day),
                           f"wayhome-time wayhome-time-{style.status}")
        folium.CircleMarker(
            location=[s.lat, s.lon],
            popup=folium.Popup(_popup_html(s), max_width=320),
            tooltip=label,
            **style.options(),
        ).add_to(group)
    return group


def path_layer(sightings: Iterable[SightingLike]) -> folium.FeatureGroup:
    """The verified sightings joined in time order (empty with fewer than two)."""
    group = folium.FeatureGroup(name="Verified path", control=False)
    route = verified_path(sightings)
    if len(route) >= 2:
        folium.PolyLine([[s.lat, s.lon] for s in route], **PATH_STYLE).add_to(group)
    return group


def _pin(lat: float, lon: float, text: str, colour: str, class_name: str) -> folium.Marker:
    # The HTML is ours; ``text`` is escaped. DivIcon options go out as JSON.
    html = (
        f'<div style="background:{colour};color:#fff;font:700 11px/16px system-ui,sans-serif;'
        "text-align:center;border:2px solid #fff;border-radius:3px;"
        f'box-shadow:0 1px 3px rgba(0,0,0,.5);">{safe_text(text)}</div>'
    )
    return folium.Marker(
        location=[lat, lon],
        icon=folium.DivIcon(
            html=html, icon_size=(40, 20), icon_anchor=(20, 10), class_name=class_name
        ),
    )


def places_layer(case: CaseLike) -> folium.FeatureGroup:
    """The initial planning point (IPP) and, when recorded, home."""
    group = folium.FeatureGroup(name="IPP and home", control=False)
    pin = _pin(case.ipp_lat, case.ipp_lon, "IPP", IPP_COLOUR, "wayhome-pin wayhome-ipp")
    folium.Tooltip(
        safe_text(f"Initial planning point · case {case.reference}"), sticky=True
    ).add_to(pin)
    pin.add_to(group)
    if case.home_lat is not None and case.home_lon is not None:
        home = _pin(case.home_lat, case.home_lon, "Home", HOME_COLOUR, "wayhome-pin wayhome-home")
        folium.Tooltip("Home", sticky=True).add_to(home)
        home.add_to(group)
    return group


def rendezvous_layer(point: Any) -> folium.FeatureGroup:
    """The case's rendezvous point: a black "RV" pin, its words and grid reference on
    hover or tap (``point`` has ``lat``, ``lon`` and ``text()``; None: an empty group)."""
    group = folium.FeatureGroup(name="Rendezvous point", control=False)
    if point is None:
        return group
    pin = _pin(point.lat, point.lon, "RV", RV_COLOUR, "wayhome-pin wayhome-rv")
    words = f"Rendezvous point · {point.text()} · {grid_reference(point.lat, point.lon, 8)}"
    folium.Tooltip(safe_text(words), sticky=True).add_to(pin)
    pin.add_to(group)
    return group


def last_known_layer(
    last_known: LastKnownLike, *, now: datetime | None = None, always_day: bool = False
) -> folium.FeatureGroup:
    """A large crimson ring and a permanent label on the last-known location."""
    group = folium.FeatureGroup(name="Last known location", control=False)
    if last_known.kind == "sighting" and last_known.at is not None:
        text = f"Last known · {time_label(last_known.at, now, always_day=always_day)}"
    else:
        text = "Last known · IPP (no verified sighting yet)"
    folium.CircleMarker(
        location=[last_known.lat, last_known.lon],
        radius=18,
        color=LKL_COLOUR,
        weight=4,
        fill=True,
        fill_color=LKL_COLOUR,
        fill_opacity=0.12,
        class_name="wayhome-lkl",
        bubbling_mouse_events=True,
        tooltip=_label(text, "wayhome-lkl-label", direction="top"),
    ).add_to(group)
    return group


def case_layers(
    case: CaseLike,
    sightings: Sequence[SightingLike],
    last_known: LastKnownLike,
    *,
    show_dismissed: bool = True,
    now: datetime | None = None,
) -> list[folium.FeatureGroup]:
    """All of a case's changing layers, bottom to top: IPP/home, path, sightings, LKL."""
    return [
        places_layer(case),
        path_layer(sightings),
        sightings_layer(sightings, show_dismissed=show_dismissed, now=now),
        last_known_layer(last_known, now=now),
    ]


def sighting_legend_rows() -> list[tuple[str, str, str]]:
    """``(colour, text, mark)`` rows for a map legend, each drawn like its marker."""
    marks = {"verified": "dot", "unverified": "dashed-ring", "dismissed": "faint-dot"}
    return [
        *[
            (
                style.fill_colour if style.status == "verified" else style.colour,
                style.legend,
                marks.get(style.status, "dot"),
            )
            for style in SIGHTING_STYLES.values()
        ],
        (PATH_STYLE["color"], "Verified path, in time order", "line"),
        (LKL_COLOUR, "Last-known location (latest verified sighting, else IPP)", "ring"),
        (IPP_COLOUR, "Initial planning point (IPP)", "square"),
        (HOME_COLOUR, "Home", "square"),
        (RV_COLOUR, "Rendezvous point (RV), where the teams meet", "square"),
    ]
