"""Is a place in the United Kingdom? A coarse, fast check for bad input.

Wayhome searches London, but sightings and tracks can lead anywhere in the UK
(a child may take a train north). Anything outside this envelope is almost
certainly a typo, swapped lat/lon, a 0,0 "null island" point or a file in the
wrong CRS, so it is refused with a clear message rather than plotted at sea.
The envelope (lon/lat, EPSG:4326) covers Great Britain, Northern Ireland, the
Channel Islands, the Isle of Man and the Scilly, Orkney and Shetland islands.
"""

from __future__ import annotations

import numpy as np

from geo.errors import InputError

#: (min lon, min lat, max lon, max lat) in degrees, EPSG:4326
UK_BOUNDS: tuple[float, float, float, float] = (-8.75, 49.0, 2.1, 61.0)


def in_uk(lon: np.ndarray | float, lat: np.ndarray | float) -> np.ndarray:
    """Boolean mask: which lon/lat points fall inside the UK envelope."""
    lon = np.asarray(lon, dtype=float)
    lat = np.asarray(lat, dtype=float)
    x0, y0, x1, y1 = UK_BOUNDS
    finite = np.isfinite(lon) & np.isfinite(lat)
    inside: np.ndarray = finite & (lon >= x0) & (lon <= x1) & (lat >= y0) & (lat <= y1)
    return inside


def check_point_in_uk(lat: float, lon: float) -> None:
    """Raise :class:`InputError` unless (lat, lon) is a finite point in the UK."""
    if not bool(in_uk(lon, lat)):
        hint = ""
        if bool(in_uk(lat, lon)):
            hint = " It looks like latitude and longitude are swapped."
        raise InputError(
            f"The point {lat:.5f}, {lon:.5f} (latitude, longitude) is not in the UK.{hint}"
        )
