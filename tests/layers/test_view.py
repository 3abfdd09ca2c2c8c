"""Where a phone map opens: the zoom fits the ground, within sensible limits."""

from __future__ import annotations

import math

import pytest
from shapely.geometry import Point, box

from layers.view import TILE_PX, view_centre, view_zoom

W, H, PAD = 340, 360, 24


def _pixels(bounds: tuple[float, float, float, float], zoom: int) -> tuple[float, float]:
    """Width and height in pixels of a lon/lat box at a zoom (Web Mercator)."""
    minx, miny, maxx, maxy = bounds

    def y(lat: float) -> float:
        return math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)) / (2 * math.pi)

    world = TILE_PX * 2**zoom
    return (maxx - minx) / 360 * world, (y(maxy) - y(miny)) * world


@pytest.mark.parametrize("size_deg", [0.002, 0.006, 0.015, 0.03])
def test_the_ground_fits_and_one_step_closer_would_not(size_deg):
    ground = [box(-0.10, 51.51, -0.10 + size_deg, 51.51 + size_deg / 2),
              box(-0.10 + size_deg / 2, 51.51, -0.10 + size_deg / 3, 51.51 + size_deg / 3)]
    z = view_zoom(ground, width_px=W, height_px=H, padding_px=PAD, min_zoom=1, max_zoom=22)
    bounds = (-0.10, 51.51, -0.10 + size_deg, 51.51 + size_deg / 2)
    w, h = _pixels(bounds, z)
    assert w <= W - 2 * PAD and h <= H - 2 * PAD
    w1, h1 = _pixels(bounds, z + 1)
    assert w1 > W - 2 * PAD or h1 > H - 2 * PAD


def test_a_tall_area_is_limited_by_the_height():
    tall = [box(-0.10, 51.50, -0.099, 51.52)]
    wide = [box(-0.10, 51.50, -0.068, 51.5007)]
    assert view_zoom(tall, min_zoom=1, max_zoom=22) < view_zoom(
        [box(-0.10, 51.50, -0.099, 51.501)], min_zoom=1, max_zoom=22)
    assert view_zoom(wide, min_zoom=1, max_zoom=22) == view_zoom(
        [box(-0.10, 51.50, -0.068, 51.5001)], min_zoom=1, max_zoom=22)


def test_limits_and_defaults():
    one_small = [box(-0.10, 51.51, -0.0995, 51.5103)]  # a 35 m square
    assert view_zoom(one_small) == 17  # not zoomed to the last paving stone
    london = [box(-0.51, 51.28, 0.33, 51.69)]
    assert view_zoom(london) == 12  # a sprawling search still shows streets
    assert view_zoom([]) == 15 and view_zoom([], default=14) == 14
    assert view_zoom([Point(-0.1, 51.5)]) == 17  # a single point: as close as allowed
    assert view_zoom([None, box(0, 0, 0, 0).buffer(0)]) == 15  # nothing drawable


def test_view_centre_is_the_middle_of_the_bounding_box_or_the_fallback():
    assert view_centre([box(-0.2, 51.4, 0.0, 51.6)]) == pytest.approx((51.5, -0.1))
    assert view_centre([], (51.5, -0.12)) == (51.5, -0.12)
    assert view_centre([None]) is None
