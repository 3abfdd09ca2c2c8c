"""Where a phone map opens: the centre and zoom that fit the ground the page is about.

The private-link pages (family, team lead, partner unit) show a few sectors on a
small screen. Opening at a fixed zoom leaves a row of 50-metre squares as dots,
or cuts a large search area off; these functions fit the shapes' bounding box
instead. Shapes are in lon/lat (EPSG:4326); zoom levels are Leaflet's, on its
Web Mercator tiles of 256 pixels. No database, no Streamlit.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import shapely

__all__ = ["TILE_PX", "view_centre", "view_zoom"]

#: Leaflet's tile size: the whole world is ``TILE_PX * 2**zoom`` pixels wide
TILE_PX = 256


def _shapes(geoms: Sequence[Any]) -> list[Any]:
    return [g for g in geoms if g is not None and not g.is_empty]


def view_centre(geoms: Sequence[Any], fallback: tuple[float, float] | None = None
                ) -> tuple[float, float] | None:
    """(lat, lon) of the middle of the shapes' bounding box (lon/lat), else ``fallback``."""
    shapes = _shapes(geoms)
    if not shapes:
        return fallback
    minx, miny, maxx, maxy = shapely.total_bounds(shapes)
    return (float(miny + maxy) / 2.0, float(minx + maxx) / 2.0)


def _mercator_y(lat: float) -> float:
    """Web Mercator y of a latitude, as a fraction of the world's height (0 at the equator)."""
    phi = math.radians(max(-85.0511, min(85.0511, lat)))
    return math.log(math.tan(math.pi / 4 + phi / 2)) / (2 * math.pi)


def view_zoom(
    geoms: Sequence[Any],
    *,
    width_px: int = 340,
    height_px: int = 360,
    padding_px: int = 24,
    min_zoom: int = 12,
    max_zoom: int = 17,
    default: int = 15,
) -> int:
    """The largest whole zoom at which every shape fits a ``width_px`` × ``height_px`` map.

    ``padding_px`` is kept clear on every side (controls sit there). The answer is
    kept within ``min_zoom``..``max_zoom`` (a single small sector need not fill the
    screen; a sprawling search still shows streets); ``default`` with no shapes.
    The width defaults to a phone's (about 360 CSS pixels less the page margins).
    """
    shapes = _shapes(geoms)
    if not shapes:
        return default
    minx, miny, maxx, maxy = (float(v) for v in shapely.total_bounds(shapes))
    free_w = max(1, width_px - 2 * padding_px)
    free_h = max(1, height_px - 2 * padding_px)
    limits = []
    span_x = (maxx - minx) / 360.0  # fraction of the world's width
    if span_x > 0:
        limits.append(math.log2(free_w / (TILE_PX * span_x)))
    span_y = _mercator_y(maxy) - _mercator_y(miny)
    if span_y > 0:
        limits.append(math.log2(free_h / (TILE_PX * span_y)))
    if not limits:  # a single point
        return max_zoom
    return max(min_zoom, min(max_zoom, math.floor(min(limits))))
