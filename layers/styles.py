"""Line styles of the boundary layers, shared by the map and its legend.

The styles themselves (colour, weight, dash, names) live in the boundary-layer
registry :mod:`vocab.boundary_layers`; here they become Leaflet path options.
The hierarchy is read from the line weight: police force areas are drawn
heaviest, Met Basic Command Units (BCUs) medium, boroughs thin and wards faint,
so a coordinator can tell at a glance whose ground a sector falls on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vocab.boundary_layers import BOUNDARY_LAYERS, DRAWN_LAYERS, BoundaryLayer, LineStyle

__all__ = ["BOUNDARY_STYLES", "PLACE_COLOUR", "BoundaryStyle"]

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
        # these strings go into SVG attributes and Leaflet options: the vocabulary's
        # line style refuses anything but a colour and a dash pattern
        LineStyle(self.colour, self.weight, self.opacity, self.dash, self.fill,
                  self.fill_opacity)

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


def _from_registry(layer: BoundaryLayer) -> BoundaryStyle:
    """The drawing of a boundary layer of :mod:`vocab.boundary_layers`."""
    line = layer.style
    assert line is not None, f"{layer.name} is not drawn"
    return BoundaryStyle(
        kind=layer.name,
        title=layer.title,
        legend=layer.legend,
        feature_label=layer.feature_label,
        colour=line.colour,
        weight=line.weight,
        opacity=line.opacity,
        dash=line.dash,
        fill=line.fill,
        fill_opacity=line.fill_opacity,
    )


#: Drawing order on the map: first is lowest (the registry's order of drawn layers).
BOUNDARY_STYLES: dict[str, BoundaryStyle] = {
    name: _from_registry(BOUNDARY_LAYERS[name]) for name in DRAWN_LAYERS
}
FORCE = BOUNDARY_STYLES["force"]
BCU = BOUNDARY_STYLES["bcu"]
BOROUGH = BOUNDARY_STYLES["borough"]
WARD = BOUNDARY_STYLES["ward"]

#: Colour of the "who is responsible here?" marker's circle.
PLACE_COLOUR = "#c0392b"
