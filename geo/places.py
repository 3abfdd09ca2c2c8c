"""London places a child may go to: where a moving child jumps, and where to check.

Built by ``data/places/build.py`` and read from ``settings.PLACES_DIR``. The motion
model's jump destinations (:func:`load_places` with its default kinds):

``transport_hubs.csv``
    rail, Underground, Overground, DLR, Elizabeth line and tram stations (one row
    per interchange hub; ``size`` = networks served) and bus stations (``size`` 1),
    from OpenStreetMap (ODbL 1.0, © OpenStreetMap contributors).
``town_centres.csv``
    the GLA London town centres, one point inside each (``size`` = hectares),
    OGL v3.

The further places to check (never jump destinations: see the README there), for
:mod:`geo.likely_places`: ``bus_stops.csv`` (TfL), ``schools.csv`` (GLA/DfE 2016),
``libraries.csv`` (Arts Council England 2023) and ``parks.csv`` (GiGL 2024).

All hold ``kind``, ``name``, ``easting``, ``northing`` (EPSG:27700 metres), ``size``,
``detail`` and ``source_id``; the places to check also ``postcode`` (empty where the
source has none). ``sources.json`` there says where each file comes from.
"""

from __future__ import annotations

import json
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
    "bus_stops.csv": ("bus_stop",),
    "schools.csv": ("school",),
    "libraries.csv": ("library",),
    "parks.csv": ("park",),
}
#: The kinds :class:`geo.MotionModel` jumps to (bus stops, schools, libraries and parks
#: are places to check, not destinations: see ``data/search_science/motion.json``).
DESTINATION_KINDS: tuple[str, ...] = ("station", "bus_station", "town_centre")
#: Every kind of place, in file order.
ALL_KINDS: tuple[str, ...] = tuple(k for kinds in PLACE_FILES.values() for k in kinds)
#: Each kind of place and the group :class:`geo.MotionModel` shares its jumps by.
PLACE_GROUPS: dict[str, str] = {
    "station": "transport_hub",
    "bus_station": "transport_hub",
    "town_centre": "town_centre",
}


def _places_dir() -> Path:
    return Path(settings.PLACES_DIR)


@cache
def _read_file(name: str) -> pd.DataFrame:
    """One place file, checked, with ``postcode`` (empty where the file has none)."""
    path = _places_dir() / name
    try:
        df = pd.read_csv(path, dtype={"source_id": str, "detail": str, "postcode": str},
                         keep_default_na=False)
    except FileNotFoundError:
        raise InputError(f"The places data file {name!r} is missing.") from None
    if not set(df["kind"]) <= set(PLACE_FILES[name]):
        raise InputError(f"The places data file {name!r} holds an unknown kind of place.")
    if "postcode" not in df:
        df["postcode"] = ""
    df["source_file"] = name
    return df


@cache
def place_sources() -> dict[str, dict[str, str]]:
    """``{kind: {"source", "licence", "attribution"}}`` from ``sources.json``."""
    try:
        files = json.loads((_places_dir() / "sources.json").read_text(encoding="utf-8"))["files"]
    except FileNotFoundError:
        raise InputError("The places data file 'sources.json' is missing.") from None
    return {kind: {k: str(v) for k, v in meta.items() if k != "kinds"}
            for meta in files.values() for kind in meta["kinds"]}


@cache
def load_places(kinds: tuple[str, ...] = DESTINATION_KINDS) -> pd.DataFrame:
    """The places of these kinds (default: the motion model's destinations), columns as
    in the module doc plus ``group`` (``transport_hub`` / ``town_centre``, empty for a
    place that is not a destination) and ``source_file``. Cached: never modify it in place.
    """
    unknown = set(kinds) - set(ALL_KINDS)
    if unknown:
        raise InputError(f"Unknown kind of place: {', '.join(sorted(unknown))}.")
    frames = []
    for name, file_kinds in PLACE_FILES.items():
        if set(file_kinds) & set(kinds):
            df = _read_file(name)
            frames.append(df[df["kind"].isin(kinds)])
    out = pd.concat(frames, ignore_index=True)
    out["easting"] = out["easting"].astype(float)
    out["northing"] = out["northing"].astype(float)
    out["size"] = out["size"].astype(float)
    out["group"] = out["kind"].map(PLACE_GROUPS).fillna("")
    return out


def places_within(x: float, y: float, radius_m: float) -> pd.DataFrame:
    """The places within ``radius_m`` of the BNG point (``x``, ``y``), with ``distance_m``."""
    places = load_places()
    d = np.hypot(places["easting"].to_numpy() - float(x), places["northing"].to_numpy() - float(y))
    near = d < float(radius_m)
    out = places[near].copy()
    out["distance_m"] = d[near]
    return out.reset_index(drop=True)
