"""London places a moving child may go to: transport hubs and town centres.

Built by ``data/places/build.py`` and read from ``settings.PLACES_DIR``:

``transport_hubs.csv``
    rail, Underground, Overground, DLR, Elizabeth line and tram stations (one row
    per interchange hub; ``size`` = networks served) and bus stations (``size`` 1),
    from OpenStreetMap (ODbL 1.0, © OpenStreetMap contributors).
``town_centres.csv``
    the GLA London town centres, one point inside each (``size`` = hectares),
    OGL v3.

Both hold ``kind``, ``name``, ``easting``, ``northing`` (EPSG:27700 metres), ``size``,
``detail`` and ``source_id``. Bus *stops* are not places here (see the README there).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from geo.errors import InputError
from vocab import settings

#: Files of ``settings.PLACES_DIR`` and the kinds of place each holds.
PLACE_FILES: dict[str, tuple[str, ...]] = {
    "transport_hubs.csv": ("station", "bus_station"),
    "town_centres.csv": ("town_centre",),
}
#: Each kind of place and the group :class:`geo.MotionModel` shares its jumps by.
PLACE_GROUPS: dict[str, str] = {
    "station": "transport_hub",
    "bus_station": "transport_hub",
    "town_centre": "town_centre",
}


def _places_dir() -> Path:
    return Path(settings.PLACES_DIR)


@cache
def load_places() -> pd.DataFrame:
    """Every place (transport hubs, then town centres), columns as in the module doc plus
    ``group`` (``transport_hub`` / ``town_centre``). Cached: never modify it in place."""
    frames = []
    for name, kinds in PLACE_FILES.items():
        path = _places_dir() / name
        try:
            df = pd.read_csv(path, dtype={"source_id": str, "detail": str},
                             keep_default_na=False)
        except FileNotFoundError:
            raise InputError(f"The places data file {name!r} is missing.") from None
        if not set(df["kind"]) <= set(kinds):
            raise InputError(f"The places data file {name!r} holds an unknown kind of place.")
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    out["easting"] = out["easting"].astype(float)
    out["northing"] = out["northing"].astype(float)
    out["size"] = out["size"].astype(float)
    out["group"] = out["kind"].map(PLACE_GROUPS)
    return out


def places_within(x: float, y: float, radius_m: float) -> pd.DataFrame:
    """The places within ``radius_m`` of the BNG point (``x``, ``y``), with ``distance_m``."""
    places = load_places()
    d = np.hypot(places["easting"].to_numpy() - float(x), places["northing"].to_numpy() - float(y))
    near = d < float(radius_m)
    out = places[near].copy()
    out["distance_m"] = d[near]
    return out.reset_index(drop=True)
