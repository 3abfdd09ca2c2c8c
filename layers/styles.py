"""Line styles of the boundary layers: one place, shared by the map and its legend.

The hierarchy is read from the line weight: police force areas are drawn
heaviest, Met Basic Command Units (BCUs) medium, boroughs thin and wards faint,
so a coordinator can tell at a glance whose ground a sector falls on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["BOUNDARY_STYLES", "PLACE_COLOUR", "BoundaryStyle"]

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DASH = re.compile(r"^[0-9 ]*$")


@dataclass(frozen=True)
class BoundaryStyle:
    """How one boundary layer is drawn (Leaflet path options) and named in the legend."""

    kind: str  # layer name in geo.boundaries: force, bcu, borough, ward
    title: str  # name in the layer control
    legend: str  # what the legend says about the line
    feature_label: str  # what one feature is called in a tooltip ("Borough")
    colour: str
    weight: float  # line width, CSS pixels
    opacity: float = 1.0
    dash: str = ""  # SVG dash pattern, e.g. "6 4"; "" = solid
    fill: bool = False  # filled polygons react to hover anywhere inside
    fill_opacity: float = 0.0

    def __post_init__(self) -> None:
        # These strings go into SVG attributes and Leaflet options: keep them inert.
        if not _COLOUR.match(self.colour):
            raise ValueError(f"colour must be #rrggbb, not {self.colour!r}")
        if not _DASH.match(self.dash):
            raise ValueError(f"dash must be numbers and spaces, not {self.dash!r}")

    @property
    def class_name(self) -> str:
        """CSS class of every drawn path of this layer (used by tests and styling)."""
        return f"wayhome-{self.kind}"

    def leaflet(self) -> dict[str, Any]:
        """Leaflet ``Path`` options for this layer."""
        opts: dict[str, Any] = {
            "color": self.colour,
            "weight": self.weight,
            "opacity": self.opacity,
            "fill": self.fill,
            "fillColor": self.colour,
            "fillOpacity": self.fill_opacity,
            "className": self.class_name,
        }
        if self.dash:
            opts["dashArray"] = self.dash
        return opts


FORCE = BoundaryStyle(
    kind="force",
    title="Police force areas",
    legend="Police force area (heaviest line)",
    feature_label="Police force",
    colour="#1d2951",
    weight=4.5,
    opacity=0.85,
)
BCU = BoundaryStyle(
    kind="bcu",
    title="Met Basic Command Units",
    legend="Met Basic Command Unit (medium dashed line)",
    feature_label="BCU",
    colour="#8e3b8a",
    weight=2.5,
    opacity=0.9,
    dash="9 5",
)
BOROUGH = BoundaryStyle(
    kind="borough",
    title="London boroughs",
    legend="Borough (thin line)",
    feature_label="Borough",
    colour="#2f5d7c",
    weight=1.2,
    opacity=0.9,
    fill=True,
    fill_opacity=0.04,
)
WARD = BoundaryStyle(
    kind="ward",
    title="Wards (2018)",
    legend="Ward, 2018 boundaries (faint line)",
    feature_label="Ward",
    colour="#6b7785",
    weight=0.8,
    opacity=0.7,
    dash="2 3",
    fill=True,
    fill_opacity=0.0,
)

#: Drawing order on the map: first is lowest. Outlines go above the filled
#: boroughs so that hovering a BCU or force line still finds that line.
BOUNDARY_STYLES: dict[str, BoundaryStyle] = {
    s.kind: s for s in (BOROUGH, BCU, FORCE, WARD)
}

#: Colour of the "who is responsible here?" marker's circle.
PLACE_COLOUR = "#c0392b"
