"""Likely places: which places near the last-known location to check first.

For a last-known location (lon/lat), a child's age and the time since, the places
within reach (stations, bus stations and stops, town centres, parks, schools,
libraries: :mod:`geo.places`) ranked by

    score = type weight × distance kernel

* **type weight**: the per cent of children aged 12–14 traced at that kind of place
  (Grampian, ``data/search_science/likely_places.json``); a planning assumption for
  other ages and for the kinds the table does not name (said per kind).
* **distance kernel**: the share of children found per km² at the place's distance,
  from the age band's ring distances (:func:`geo.distance_rings`), the cumulative
  share interpolated log-linearly in distance between the rings.
* **reach**: walking speed × time since, between a minimum and the 95 % ring.

Decision support for a coordinator deciding where to send people first, not a
prediction. Metric work in British National Grid (EPSG:27700); lon/lat at the edges.
One STRtree query finds the places within reach; no loops over places.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo.crs import bng_to_lonlat, lonlat_to_bng
from geo.detection import load_search_data
from geo.errors import InputError
from geo.places import ALL_KINDS, load_places, place_sources
from geo.probability import RING_PERCENTS, describe_rings

#: What a coordinator calls each kind of place.
KIND_LABELS: dict[str, str] = {
    "station": "Station",
    "bus_station": "Bus station",
    "bus_stop": "Bus stop",
    "town_centre": "Town centre / shops",
    "park": "Park or open space",
    "school": "School",
    "library": "Library",
}
#: Kinds whose ``size`` is an area in hectares: the data hold one point inside each, so
#: a place of these kinds is a circle of that area around its point, and its distance
#: is to the circle's edge (0 inside it). An approximation, said on the page.
AREA_KINDS: tuple[str, ...] = ("town_centre", "park")
#: Columns of :attr:`LikelyPlaces.places`, in order.
COLUMNS: tuple[str, ...] = (
    "rank", "kind", "kind_label", "name", "lon", "lat", "postcode", "distance_m",
    "type_weight", "kernel_per_km2", "score", "relative", "why", "detail", "source_id",
    "source", "key",
)


@dataclass(frozen=True, slots=True)
class PlaceRecord:
    """One place, ready to hand to an enquiry task: what and where (lon/lat EPSG:4326).

    ``key`` is stable across runs and rebuilds of the same source data
    (``kind:source_id``, or ``kind:name@easting,northing`` where the source has no id),
    so a task can say which place it checks.
    """

    kind: str
    name: str
    lon: float
    lat: float
    postcode: str
    key: str


@dataclass(frozen=True, slots=True)
class LikelyPlaces:
    """The ranked list and what it rests on.

    ``places``: one row per place within reach, best first, columns :data:`COLUMNS`
    (``distance_m`` metres, to the edge of a park or town centre, see :data:`AREA_KINDS`;
    ``kernel_per_km2`` the share of children per km² at that distance, numerically the
    per cent per hectare; ``relative`` the score as a percentage of the best).
    ``assumptions``: the sentences a page shows under the list.
    """

    places: pd.DataFrame
    reach_m: float
    age: float
    weights_basis: str
    rings_label: str
    assumptions: tuple[str, ...]

    def record(self, rank: int) -> PlaceRecord:
        """The place at ``rank`` (1 = first) as a :class:`PlaceRecord`."""
        row = self.places.iloc[int(rank) - 1]
        return place_record(row)


def place_record(row: pd.Series | dict[str, Any]) -> PlaceRecord:
    """A row of :attr:`LikelyPlaces.places` as a :class:`PlaceRecord`."""
    return PlaceRecord(kind=str(row["kind"]), name=str(row["name"]), lon=float(row["lon"]),
                       lat=float(row["lat"]), postcode=str(row["postcode"]), key=str(row["key"]))


@cache
def _settings() -> dict[str, Any]:
    data = load_search_data("likely_places")
    kinds = data["type_weights"]["kinds"]
    if set(kinds) != set(ALL_KINDS):
        raise InputError("likely_places.json must weigh every kind of place in data/places.")
    return data


@cache
def _index(kinds: tuple[str, ...]
           ) -> tuple[pd.DataFrame, shapely.STRtree, np.ndarray, np.ndarray, np.ndarray]:
    """The places of ``kinds`` with lon/lat and a stable key, their tree, their BNG shapes
    (points, or circles of their area), their type weights and their tie-break order
    (by kind, name and key: :func:`likely_places` then sorts numbers only)."""
    places = load_places(kinds).copy()
    x, y = places["easting"].to_numpy(), places["northing"].to_numpy()
    lon, lat = bng_to_lonlat(x, y)
    places["lon"], places["lat"] = np.round(lon, 6), np.round(lat, 6)
    fallback = (places["kind"] + ":" + places["name"] + "@"
                + places["easting"].astype(int).astype(str) + ","
                + places["northing"].astype(int).astype(str))
    places["key"] = (places["kind"] + ":" + places["source_id"]).where(
        places["source_id"] != "", fallback)
    radius = np.where(places["kind"].isin(AREA_KINDS),
                      np.sqrt(places["size"].to_numpy(float) * 10_000.0 / math.pi), 0.0)
    pts = np.asarray(shapely.points(x, y))
    shapes = np.where(radius > 0, shapely.buffer(pts, radius, quad_segs=8), pts)
    kinds_w = _settings()["type_weights"]["kinds"]
    weight = places["kind"].map(lambda k: float(kinds_w[k]["weight"])).to_numpy(float)
    kind_order = places["kind"].map(ALL_KINDS.index).to_numpy()
    tiebreak = np.empty(len(places), dtype=np.int64)
    tiebreak[np.lexsort((places["key"].to_numpy(), places["name"].to_numpy(), kind_order))] = (
        np.arange(len(places)))
    return places, shapely.STRtree(shapes), shapes, weight, tiebreak


def weights_basis(age: float) -> str:
    """Where the type weights come from for a child of ``age``."""
    tw = _settings()["type_weights"]
    if tw["age_min"] <= math.floor(age) <= tw["age_max"]:
        return "Grampian 12-14 'where traced' (published figures, secondary copy)"
    return (f"Grampian 12-14 'where traced' applied to a child of {math.floor(age)}: "
            "a planning assumption (no table for this age)")


def distance_kernel(distance_m: np.ndarray, rings_m: dict[int, float]) -> np.ndarray:
    """Share of children found per km² at each distance (metres) from the rings.

    The cumulative share F is log-linear in distance between neighbouring rings, so
    in a band the density per area is ``ΔF / ln(r_b / r_a) / (2π d²)``; below the
    first ring and beyond the last the nearest band's slope is used. Distances under
    the minimum count as the minimum.
    """
    d_min = float(_settings()["distance_kernel"]["min_distance_m"]["value"])
    d = np.maximum(np.asarray(distance_m, float), d_min) / 1000.0  # km
    r = np.array([rings_m[q] for q in RING_PERCENTS], float) / 1000.0
    f = np.array(RING_PERCENTS, float) / 100.0
    slope = np.diff(f) / np.diff(np.log(r))  # dF / d ln(d) in each band
    band = np.clip(np.searchsorted(r, d, side="right") - 1, 0, len(slope) - 1)
    out: np.ndarray = slope[band] / (2.0 * math.pi * d * d)
    return out


def reach_m(age: float, elapsed_s: float, rings_m: dict[int, float] | None = None) -> float:
    """How far (metres) a place may be and still be within reach (see likely_places.json)."""
    data = _settings()["reach"]
    walk = float(load_search_data("motion")["walk_speed_ms"]["value"])
    rings = rings_m or describe_rings(age, "urban")["rings"]
    upper = min(float(rings[95]), float(data["max_reach_m"]["value"]))
    lower = min(float(data["min_reach_m"]["value"]), upper)
    return float(np.clip(walk * max(float(elapsed_s), 0.0), lower, upper))


def likely_places(lon: float, lat: float, age: float, elapsed_s: float, *,
                  kinds: tuple[str, ...] | None = None, limit: int | None = None
                  ) -> LikelyPlaces:
    """The places within reach of (``lon``, ``lat``), best first (see the module doc).

    ``age`` in years (1–17), ``elapsed_s`` the seconds since the child was last known
    there. ``kinds`` limits the kinds of place (default: all); ``limit`` the length
    (default: ``list_length`` of likely_places.json; 0 = every place in reach). Ties
    in score are broken by distance, then kind, name and key, so the order is stable.
    Raises :class:`geo.InputError` for a position outside Britain's grid or an age
    without rings.
    """
    data = _settings()
    try:
        lon_f, lat_f, age_f = float(lon), float(lat), float(age)
    except (TypeError, ValueError):
        raise InputError("The location and age must be numbers.") from None
    if not (-9.0 <= lon_f <= 3.0 and 49.0 <= lat_f <= 61.0):
        raise InputError(f"({lat_f:.5f}, {lon_f:.5f}) is not in Great Britain.")
    chosen = tuple(k for k in ALL_KINDS if kinds is None or k in kinds)
    unknown = sorted(set(kinds or ()) - set(ALL_KINDS))
    if unknown:
        raise InputError(f"Unknown kind of place: {', '.join(unknown)}.")
    rings = describe_rings(age_f, "urban")
    reach = reach_m(age_f, elapsed_s, rings["rings"])
    n = int(data["list_length"]["value"]) if limit is None else int(limit)
    basis = weights_basis(age_f)
    assumptions = (
        f"Score = type weight × distance kernel. Type weights: {basis}; schools, bus stops "
        "and libraries are weighted by planning assumption.",
        f"Distance kernel: share of children found per km² at that distance, from "
        f"{rings['label']}, interpolated log-linearly between the rings.",
        f"Within reach: {reach:,.0f} m, walking at "
        f"{float(load_search_data('motion')['walk_speed_ms']['value']):g} m/s for the time "
        "since the last-known location (at least 500 m, at most the 95 % ring or 10 km); "
        "straight-line distances, a bus or train goes further. A park's or town centre's "
        "distance is to the edge of a circle of its area around its mapped point.",
        "Leisure centres and single shops are not in the open data used; friends' and "
        "relatives' addresses come from the investigation, not from here.",
        "Decision support for where to look first, not a prediction for this child.",
    )
    if not chosen:
        empty = pd.DataFrame({c: pd.Series(dtype=object) for c in COLUMNS})
        return LikelyPlaces(empty, reach, age_f, basis, rings["label"], assumptions)
    places, tree, pts, weights, tiebreak = _index(chosen)
    x, y = lonlat_to_bng(np.array([lon_f]), np.array([lat_f]))
    origin = shapely.points(float(x[0]), float(y[0]))
    hit = np.sort(tree.query(origin, predicate="dwithin", distance=reach))
    dist = shapely.distance(origin, pts[hit])
    weight = weights[hit]
    kernel = distance_kernel(dist, rings["rings"])
    score = weight * kernel
    order = np.lexsort((tiebreak[hit], np.round(dist, 3), -score))
    if n > 0:
        order = order[:n]
    out = places.iloc[hit[order]].loc[:, ["kind", "name", "lon", "lat", "postcode", "detail",
                                          "source_id", "key"]].reset_index(drop=True)
    dist, weight, kernel, score = dist[order], weight[order], kernel[order], score[order]
    kinds_w = data["type_weights"]["kinds"]
    out["distance_m"] = np.round(dist, 1)
    out["type_weight"] = weight
    out["kernel_per_km2"] = kernel
    out["score"] = score
    out["relative"] = np.round(100.0 * score / score[0], 1) if len(score) else score
    out["kind_label"] = out["kind"].map(KIND_LABELS)
    out["rank"] = np.arange(1, len(out) + 1)
    sources = place_sources()
    out["source"] = out["kind"].map(lambda k: sources[k]["attribution"])
    category = out["kind"].map(lambda k: "planning assumption" if str(
        kinds_w[k]["status"]).startswith("planning") else kinds_w[k]["category"])
    out["why"] = [
        f"{w:g} % weight ({c}) × {kk:.2g} % of children per hectare at {d:,.0f} m"
        for w, c, kk, d in zip(weight, category, kernel, dist, strict=True)
    ]
    return LikelyPlaces(out.loc[:, list(COLUMNS)], reach, age_f, basis, rings["label"],
                        assumptions)
