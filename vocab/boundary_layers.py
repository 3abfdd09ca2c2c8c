"""The boundary layers: which files, what they are called, how they are drawn, what they tag.

The layers are built by ``scripts/build_boundaries.py`` into ``data/boundaries``
(``full/<file>.parquet`` in lon/lat, EPSG:4326) and read by :mod:`geo.boundaries`.
The line hierarchy is read from the weight: police force areas heaviest, Met
Basic Command Units (BCUs) medium, boroughs thin and wards faint, so a
coordinator can tell at a glance whose ground a sector falls on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_DASH = re.compile(r"^[0-9 ]*$")


@dataclass(frozen=True, slots=True)
class LineStyle:
    """How a layer's outlines are drawn: colour #rrggbb, width in CSS pixels, 0-1 opacities."""

    colour: str
    weight: float
    opacity: float = 1.0
    dash: str = ""  # SVG dash pattern, e.g. "6 4"; "" = solid
    fill: bool = False  # filled polygons react to hover anywhere inside
    fill_opacity: float = 0.0

    def __post_init__(self) -> None:
        # these strings go into SVG attributes and Leaflet options: keep them inert
        if not _COLOUR.match(self.colour):
            raise ValueError(f"colour must be #rrggbb, not {self.colour!r}")
        if not _DASH.match(self.dash):
            raise ValueError(f"dash must be numbers and spaces, not {self.dash!r}")


@dataclass(frozen=True, slots=True)
class BoundaryLayer:
    """One boundary layer.

    ``file`` is the stem of its files under ``data/boundaries``; ``style`` None
    means it is never drawn on the map; ``tags_sightings`` / ``tags_sectors``
    say whether each sighting / sector is tagged with the unit(s) it lies in;
    ``handover_unit`` whether sectors are handed over between its units.
    """

    name: str
    file: str
    title: str  # name in the map's layer control
    feature_label: str  # what one feature is called in a tooltip ("Borough")
    legend: str  # what the legend says about the line
    style: LineStyle | None
    tags_sightings: bool
    tags_sectors: bool
    handover_unit: bool = False


#: layer name -> entry, in the order :mod:`geo.boundaries` lists them; the drawn
#: ones are drawn in this order too (first is lowest): outlines above the filled
#: boroughs, so hovering a BCU or force line still finds that line
BOUNDARY_LAYERS: Final[dict[str, BoundaryLayer]] = {
    b.name: b
    for b in (
        BoundaryLayer(
            "borough", "borough", "London boroughs", "Borough", "Borough (thin line)",
            LineStyle("#2f5d7c", 1.2, 0.9, fill=True, fill_opacity=0.04),
            tags_sightings=True, tags_sectors=True,
        ),
        BoundaryLayer(
            "bcu", "bcu", "Met Basic Command Units", "BCU",
            "Met Basic Command Unit (medium dashed line)",
            LineStyle("#8e3b8a", 2.5, 0.9, dash="9 5"),
            tags_sightings=True, tags_sectors=True, handover_unit=True,
        ),
        BoundaryLayer(
            "force", "force", "Police force areas", "Police force",
            "Police force area (heaviest line)",
            LineStyle("#1d2951", 4.5, 0.85),
            tags_sightings=True, tags_sectors=True, handover_unit=True,
        ),
        BoundaryLayer(
            "ward", "ward", "Wards (2018)", "Ward", "Ward, 2018 boundaries (faint line)",
            LineStyle("#6b7785", 0.8, 0.7, dash="2 3", fill=True, fill_opacity=0.0),
            tags_sightings=True, tags_sectors=False,
        ),
        BoundaryLayer(
            "neighbourhood", "neighbourhood", "Policing neighbourhoods", "Neighbourhood",
            "", None, tags_sightings=False, tags_sectors=False,
        ),
    )
}

#: every layer name
LAYER_NAMES: Final[tuple[str, ...]] = tuple(BOUNDARY_LAYERS)
#: layers drawn on the map, lowest first
DRAWN_LAYERS: Final[tuple[str, ...]] = tuple(
    b.name for b in BOUNDARY_LAYERS.values() if b.style is not None
)
#: layers each sector is tagged with (main unit, shares, straddles)
SECTOR_LAYERS: Final[tuple[str, ...]] = tuple(
    b.name for b in BOUNDARY_LAYERS.values() if b.tags_sectors
)
#: layers each sighting is tagged with (the unit it lies in)
SIGHTING_LAYERS: Final[tuple[str, ...]] = tuple(
    b.name for b in BOUNDARY_LAYERS.values() if b.tags_sightings
)
#: layers whose units hand sectors over to each other (and partner links belong to)
UNIT_LAYERS: Final[tuple[str, ...]] = tuple(
    b.name for b in BOUNDARY_LAYERS.values() if b.handover_unit
)
