"""Probability of area (POA): where the child is more likely to be, and how a search shifts it.

* :func:`distance_rings` — how far children of an age travel (25/50/75/95 % of
  cases found within these distances of the last-known location), from
  ``data/search_science`` with its sources.
* POA lives on a **fixed grid of non-overlapping square cells** in British National
  Grid (aligned on multiples of the cell size, so the same cell keeps the same id),
  plus a ``rest_of_world`` share. Sectors overlap by design, so probability is never
  held on them directly: a sector's POA is the (area-weighted) sum of its cells.
* :func:`initial_poa` spreads 25/25/25/20 % over the annuli 0–25, 25–50, 50–75 and
  75–95 % of the rings, uniformly by area; 5 % beyond the 95 % ring, and whatever
  falls outside the grid, is rest of world. :func:`consensus_poa` instead spreads a
  planners' consensus split (Mattson method) over disjoint regions.
* :func:`update_poa` / :func:`update_poa_array` apply Bayes' rule after an
  unsuccessful pass: ``POA′ = POA·(1−POD)/(1−Σ POA·POD)``, every other segment and
  rest of world divided by the same denominator.

Decision support, not a prediction.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import BNG, frame_to_bng, lonlat_to_bng
from geo.detection import load_search_data
from geo.errors import InputError
from geo.uk import check_point_in_uk

REST_OF_WORLD = "rest_of_world"
#: Shown wherever these numbers appear.
DECISION_SUPPORT_NOTE = (
    "Decision support, not a prediction: probabilities come from published averages "
    "and planning assumptions, not from this child."
)
#: The four rings and the share of cases found inside each annulus (MapScore ring model).
RING_PERCENTS: tuple[int, ...] = (25, 50, 75, 95)
ANNULUS_SHARES: tuple[float, ...] = (0.25, 0.25, 0.25, 0.20)
#: Default grid cell (m) and largest grid radius (m) around the last-known location.
CELL_M: float = 100.0
MAX_RADIUS_M: float = 10_000.0
#: Probabilities must sum to 1 within this.
TOLERANCE: float = 1e-6
#: Polygon resolution for circles cutting cells (a 4,096-gon: area error ~ 4e-7).
_CIRCLE_QUAD_SEGS = 1024


# ---------------------------------------------------------------- rings


@cache
def _grampian_rings_km() -> dict[int, float]:
    pts = load_search_data("grampian_12_14")["published_cumulative"]
    pct = np.array([p["percent"] for p in pts], float)
    km = np.array([p["km"] for p in pts], float)
    return {q: interpolate_log_linear(pct, km, q) for q in RING_PERCENTS}


def interpolate_log_linear(percents: np.ndarray, distances: np.ndarray, q: float) -> float:
    """Distance at cumulative percentage ``q``, ln(distance) linear in percentage.

    Between the two published points around ``q``; below the first point (or above
    the last) it extrapolates from the first (last) two points.
    """
    p, d = np.asarray(percents, float), np.log(np.asarray(distances, float))
    i = int(np.clip(np.searchsorted(p, q, side="right") - 1, 0, len(p) - 2))
    return float(np.exp(d[i] + (q - p[i]) / (p[i + 1] - p[i]) * (d[i + 1] - d[i])))


def describe_rings(age_years: float, domain: str = "urban") -> dict[str, Any]:
    """Ring distances with where they come from: ``{"rings", "source", "basis", "category"}``.

    ``basis`` is ``"published table"`` or ``"interpolated"`` (Grampian, 13 and over).
    """
    try:
        age = float(age_years)
    except (TypeError, ValueError):
        raise InputError(f"The age must be a number of years, not {age_years!r}.") from None
    table = load_search_data("ring_distances")
    domains = table["domains"]
    if domain not in domains:
        raise InputError(
            f"Unknown terrain domain {domain!r}; expected one of {', '.join(domains)}."
        )
    if not (1.0 <= age < 18.0):
        raise InputError(
            f"Distance rings cover children aged 1 to 17, not {age:g}. Enter the ring "
            "distances for this case by hand."
        )
    whole = math.floor(age)
    gramp = load_search_data("grampian_12_14")
    if domain == "urban" and whole >= gramp["age_min"]:
        km = _grampian_rings_km()
        return {
            "rings": {q: km[q] * 1000.0 for q in RING_PERCENTS},
            "category": "Child 12-14 (Grampian), applied to 13-17",
            "source": gramp["source"]["citation"],
            "basis": "interpolated",
            "label": gramp["rings"]["label"],
        }
    for row in table["rows"]:
        if row["domain"] == domain and row["age_min"] <= whole <= row["age_max"]:
            f = float(table["miles_to_metres"])
            return {
                "rings": {q: float(row[f"p{q}"]) * f for q in RING_PERCENTS},
                "category": row["category"],
                "source": table["source"]["citation"],
                "basis": "published table",
                "label": f"Koester (2008) {row['category']}, {domains[domain]}",
            }
    raise InputError(
        f"There are no published ring distances for a child of {whole} in the "
        f"{domains[domain].lower()} domain. Use the urban domain, or enter distances by hand."
    )


def distance_rings(age_years: float, domain: str = "urban") -> dict[int, float]:
    """``{25: m, 50: m, 75: m, 95: m}``: distances (metres) within which that share of
    children of this age were found from the last-known location.

    Urban ages 1–12 and other domains: Koester (2008) table, miles × 1609.3472.
    Urban 13–17: UK Grampian 12–14 figures interpolated log-linearly (the 25 % ring
    extrapolated). See ``data/search_science``.
    """
    rings: dict[int, float] = describe_rings(age_years, domain)["rings"]
    return rings


def override_rings(d25_m: float, d50_m: float, d75_m: float, d95_m: float) -> dict[int, float]:
    """A coordinator's own ring distances (metres) for a case, checked like the table's."""
    vals = []
    for q, v in zip(RING_PERCENTS, (d25_m, d50_m, d75_m, d95_m), strict=True):
        try:
            vals.append(float(v))
        except (TypeError, ValueError):
            raise InputError(f"The {q} % distance must be a number of metres, not {v!r}.") from None
    return check_rings(dict(zip(RING_PERCENTS, vals, strict=True)))


def check_rings(rings: Mapping[int, float]) -> dict[int, float]:
    """Rings must give 25/50/75/95 distances, positive, finite and strictly increasing."""
    try:
        vals = [float(rings[q]) for q in RING_PERCENTS]
    except (KeyError, TypeError, ValueError):
        raise InputError("Rings need distances for 25, 50, 75 and 95 per cent.") from None
    if not all(math.isfinite(v) and v > 0 for v in vals):
        raise InputError("Ring distances must be positive numbers of metres.")
    if any(b <= a for a, b in itertools.pairwise(vals)):
        raise InputError("Each ring must be further out than the one before (25 < 50 < 75 < 95 %).")
    return dict(zip(RING_PERCENTS, vals, strict=True))


# ---------------------------------------------------------------- the grid


@dataclass(frozen=True)
class PoaGrid:
    """POA on fixed square cells (BNG) plus the rest of the world.

    ``cells`` has columns ``cell`` (id ``E{east}N{north}`` of the lower-left corner,
    metres) and ``poa``, geometry the squares in EPSG:27700. ``cells.poa.sum() +
    rest_of_world == 1``.
    """

    cells: gpd.GeoDataFrame
    rest_of_world: float
    cell_m: float

    def to_dict(self) -> dict[str, float]:
        """``{cell id: poa, ..., "rest_of_world": p}`` for :func:`update_poa`."""
        out = dict(zip(self.cells["cell"], self.cells["poa"].astype(float), strict=True))
        out[REST_OF_WORLD] = float(self.rest_of_world)
        return out

    @classmethod
    def from_dict(cls, poa: Mapping[str, float], cell_m: float = CELL_M) -> PoaGrid:
        """Rebuild a grid saved as ``{cell id: poa, ..., "rest_of_world": p}`` (the ids
        carry each cell's lower-left corner in BNG metres, so no geometry is stored)."""
        p = _check_probabilities(poa)
        ids = tuple(k for k in p if k != REST_OF_WORLD)
        cells = gpd.GeoDataFrame(
            {"cell": ids, "poa": [p[k] for k in ids]},
            # a shallow copy: the squares are shared (shapely geometries are immutable)
            geometry=_cell_squares(ids, float(cell_m)).copy(),
            crs=BNG,
        )
        return cls(cells, p[REST_OF_WORLD], float(cell_m))

    def with_poa(self, poa: np.ndarray, rest_of_world: float) -> PoaGrid:
        cells = self.cells.copy()
        cells["poa"] = np.asarray(poa, float)
        return PoaGrid(cells, float(rest_of_world), self.cell_m)


@lru_cache(maxsize=16)
def _cell_squares(ids: tuple[str, ...], cell_m: float) -> np.ndarray:
    """The squares (EPSG:27700) of cells named by their ids, parsed and built once.

    A case's grid keeps its cells for its life while only the POA values change,
    and a page reads it several times per run: parsing thousands of ids and
    building the squares again each time cost most of a page run.
    """
    try:
        xy = np.array([[float(v) for v in k[1:].split("N")] for k in ids]).reshape(-1, 2)
    except ValueError:
        raise InputError("Grid cell ids look like 'E530100N180200'.") from None
    if len(xy) and (np.abs(xy / cell_m - np.round(xy / cell_m)) > 1e-9).any():
        raise InputError(f"Those cell ids are not on a {cell_m:g} m grid.")
    squares = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + cell_m, xy[:, 1] + cell_m)
    squares.flags.writeable = False  # shared between callers: never changed in place
    return squares


def grid_cells(x: float, y: float, radius_m: float, cell_m: float = CELL_M) -> gpd.GeoDataFrame:
    """Fixed-grid square cells (BNG) touching the disc of ``radius_m`` around (x, y) BNG."""
    if not (10.0 <= cell_m <= 5000.0):
        raise InputError("Grid cells must be between 10 m and 5 km across.")
    if not (0 < radius_m <= 50_000):
        raise InputError("The area of interest must have a radius between 0 and 50 km.")
    if (2 * radius_m / cell_m) ** 2 > 4_000_000:
        raise InputError("That grid would have too many cells; use larger cells.")
    ix = np.arange(math.floor((x - radius_m) / cell_m), math.floor((x + radius_m) / cell_m) + 1)
    iy = np.arange(math.floor((y - radius_m) / cell_m), math.floor((y + radius_m) / cell_m) + 1)
    gx, gy = np.meshgrid(ix, iy)
    x0, y0 = gx.ravel() * cell_m, gy.ravel() * cell_m
    mind, _ = _cell_distances(x0, y0, cell_m, x, y)
    keep = mind < radius_m
    x0, y0 = x0[keep], y0[keep]
    return gpd.GeoDataFrame({"cell": _cell_ids(x0, y0)},
                            geometry=shapely.box(x0, y0, x0 + cell_m, y0 + cell_m), crs=BNG)


def _cell_ids(x0: np.ndarray, y0: np.ndarray) -> np.ndarray:
    """``E{east}N{north}`` ids of cells whose lower-left corners are (x0, y0) BNG metres."""
    return np.char.add(np.char.add("E", np.round(x0).astype(np.int64).astype(str)),
                       np.char.add("N", np.round(y0).astype(np.int64).astype(str)))


def cells_over(ground: shapely.Geometry, cell_m: float = CELL_M) -> gpd.GeoDataFrame:
    """The fixed-grid cells (BNG, same ids as :func:`grid_cells`) that ``ground`` (BNG) touches.

    Cells are aligned on multiples of ``cell_m``, so a pass's per-cell figures worked
    out on these cells fit any POA grid of that cell size (ids match).
    """
    if not (10.0 <= cell_m <= 5000.0):
        raise InputError("Grid cells must be between 10 m and 5 km across.")
    if ground is None or shapely.is_empty(ground):
        return gpd.GeoDataFrame({"cell": np.array([], dtype=str)}, geometry=[], crs=BNG)
    minx, miny, maxx, maxy = shapely.bounds(ground)
    if ((maxx - minx) / cell_m + 1) * ((maxy - miny) / cell_m + 1) > 4_000_000:
        raise InputError("That ground would cover too many grid cells; use larger cells.")
    ix = np.arange(math.floor(minx / cell_m), math.floor(maxx / cell_m) + 1)
    iy = np.arange(math.floor(miny / cell_m), math.floor(maxy / cell_m) + 1)
    gx, gy = np.meshgrid(ix, iy)
    x0, y0 = gx.ravel() * cell_m, gy.ravel() * cell_m
    boxes = shapely.box(x0, y0, x0 + cell_m, y0 + cell_m)
    hit = shapely.intersects(boxes, ground)
    return gpd.GeoDataFrame({"cell": _cell_ids(x0[hit], y0[hit])}, geometry=boxes[hit], crs=BNG)


def _cell_distances(x0: np.ndarray, y0: np.ndarray, cell_m: float, cx: float, cy: float
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Nearest and farthest distance from (cx, cy) to each square [x0, x0+cell]×[y0, y0+cell]."""
    x1, y1 = x0 + cell_m, y0 + cell_m
    dx = np.maximum.reduce([x0 - cx, np.zeros_like(x0), cx - x1])
    dy = np.maximum.reduce([y0 - cy, np.zeros_like(y0), cy - y1])
    fx = np.maximum(np.abs(x0 - cx), np.abs(x1 - cx))
    fy = np.maximum(np.abs(y0 - cy), np.abs(y1 - cy))
    return np.hypot(dx, dy), np.hypot(fx, fy)


def _disc_area_in_cells(cells: np.ndarray, x0: np.ndarray, y0: np.ndarray, cell_m: float,
                        cx: float, cy: float, r: float) -> np.ndarray:
    """Area (m²) of each square cell inside the disc of radius r around (cx, cy)."""
    mind, maxd = _cell_distances(x0, y0, cell_m, cx, cy)
    out = np.where(maxd <= r, cell_m * cell_m, 0.0)
    cut = (mind < r) & (maxd > r)
    if cut.any():
        disc = shapely.buffer(shapely.Point(cx, cy), r, quad_segs=_CIRCLE_QUAD_SEGS)
        shapely.prepare(disc)
        out[cut] = shapely.area(shapely.intersection(cells[cut], disc))
    return out


def initial_poa(
    lat: float,
    lon: float,
    rings: Mapping[int, float],
    radius_m: float | None = None,
    cell_m: float = CELL_M,
) -> PoaGrid:
    """POA from distance rings around the last-known location (``lat``, ``lon``, WGS84).

    The annuli 0–25, 25–50, 50–75 and 75–95 % carry 25/25/25/20 %, spread over cells
    by the area of cell ∩ annulus. The grid covers ``radius_m`` around the point
    (default: the 95 % ring, at most ``MAX_RADIUS_M``); the 5 % beyond the 95 % ring
    and any ring area outside the grid is ``rest_of_world``.
    """
    check_point_in_uk(lat, lon)
    r = check_rings(rings)
    radius = min(r[95], MAX_RADIUS_M) if radius_m is None else float(radius_m)
    x, y = (float(v) for v in lonlat_to_bng(lon, lat))
    cells = grid_cells(x, y, radius, cell_m)
    geoms = cells.geometry.to_numpy()
    x0, y0 = shapely.bounds(geoms)[:, :2].T
    poa = np.zeros(len(cells))
    inner_area = np.zeros(len(cells))
    r_prev = 0.0
    for q, share in zip(RING_PERCENTS, ANNULUS_SHARES, strict=True):
        outer_area = _disc_area_in_cells(geoms, x0, y0, cell_m, x, y, r[q])
        poa += share * (outer_area - inner_area) / (math.pi * (r[q] ** 2 - r_prev**2))
        inner_area, r_prev = outer_area, r[q]
    poa = np.clip(poa, 0.0, None)
    cells["poa"] = poa
    return PoaGrid(cells, float(1.0 - poa.sum()), float(cell_m))


def consensus_split(estimates: Sequence[Mapping[str, float]]) -> dict[str, float]:
    """Average several planners' splits (Mattson consensus) into probabilities.

    Each planner, working alone, gives every region and ``"rest_of_world"`` a
    percentage; each planner's percentages sum to 100 and none may be 0. Returns
    ``{region: probability}`` summing to 1.
    """
    if not estimates:
        raise InputError("At least one planner's split is needed.")
    keys = set(estimates[0])
    if REST_OF_WORLD not in keys:
        raise InputError("Each split needs a 'rest_of_world' share (the child may be elsewhere).")
    for n, est in enumerate(estimates, 1):
        if set(est) != keys:
            raise InputError(f"Planner {n} split different regions from planner 1.")
        vals = np.array([float(v) for v in est.values()])
        if not np.isfinite(vals).all() or (vals <= 0).any():
            zero = [k for k, v in est.items() if not float(v) > 0]
            raise InputError(f"Planner {n} gave 0 % (or no number) to {', '.join(zero)}; "
                             "no region may be 0 %.")
        if abs(vals.sum() - 100.0) > 0.5:
            raise InputError(f"Planner {n}'s percentages add up to {vals.sum():g}, not 100.")
    order = sorted(keys)
    mean = np.array([[float(e[k]) for k in order] for e in estimates]).mean(axis=0)
    mean = mean / mean.sum()
    return dict(zip(order, mean.tolist(), strict=True))


def consensus_poa(
    regions: gpd.GeoDataFrame, split: Mapping[str, float], cell_m: float = CELL_M
) -> PoaGrid:
    """Spread a consensus split over grid cells by area; regions must not overlap.

    ``regions`` (any CRS) has an ``id`` column matching the keys of ``split``
    (from :func:`consensus_split`, summing to 1 with ``rest_of_world``). Region ground
    outside the grid cannot happen (the grid covers the regions).
    """
    _check_probabilities(split)
    if "id" not in regions.columns or regions.crs is None:
        raise InputError("Regions need an 'id' column and a coordinate system.")
    ids = regions["id"].astype(str).to_numpy()
    missing = set(split) - set(ids) - {REST_OF_WORLD}
    if missing or set(ids) - set(split):
        raise InputError("The split and the regions must name the same regions.")
    geoms = shapely.make_valid(regions.to_crs(BNG).geometry.to_numpy())
    area = shapely.area(geoms)
    if (area <= 0).any():
        raise InputError("Every region needs an area.")
    tree = shapely.STRtree(geoms)
    a, b = tree.query(geoms, predicate="intersects")
    pair = a < b
    over = shapely.area(shapely.intersection(geoms[a[pair]], geoms[b[pair]]))
    if (over > 1.0).any():
        k = int(np.argmax(over))
        raise InputError(f"Regions {ids[a[pair][k]]} and {ids[b[pair][k]]} overlap; a consensus "
                         "split needs regions that do not overlap.")
    x_min, y_min, x_max, y_max = shapely.total_bounds(geoms)
    cx, cy = (x_min + x_max) / 2, (y_min + y_max) / 2
    cells = grid_cells(cx, cy, math.hypot(x_max - x_min, y_max - y_min) / 2 + cell_m, cell_m)
    cgeo = cells.geometry.to_numpy()
    ci, ri = shapely.STRtree(cgeo).query(geoms, predicate="intersects")[::-1]
    frac = shapely.area(shapely.intersection(cgeo[ci], geoms[ri])) / area[ri]
    prob = np.array([float(split[i]) for i in ids])
    poa = np.bincount(ci, weights=frac * prob[ri], minlength=len(cells))
    keep = poa > 0
    cells = cells.loc[keep].reset_index(drop=True)
    cells["poa"] = poa[keep]
    return PoaGrid(cells, float(1.0 - cells["poa"].sum()), float(cell_m))


# ---------------------------------------------------------------- updates


def _check_probabilities(poa: Mapping[str, float]) -> dict[str, float]:
    if REST_OF_WORLD not in poa:
        raise InputError("POA needs a 'rest_of_world' share.")
    out = {}
    for k, v in poa.items():
        try:
            p = float(v)
        except (TypeError, ValueError):
            raise InputError(f"The POA of {k!r} must be a number, not {v!r}.") from None
        if not (0.0 <= p <= 1.0):
            raise InputError(f"The POA of {k!r} must be between 0 and 1, not {p!r}.")
        out[k] = p
    total = math.fsum(out.values())
    if abs(total - 1.0) > TOLERANCE:
        raise InputError(f"POA must add up to 1 (100 %), not {total:.6f}.")
    return out


def update_poa(
    poa: Mapping[str, float],
    searched: Collection[str],
    pod: float | Mapping[str, float],
) -> dict[str, float]:
    """POA after an unsuccessful pass over the ``searched`` segments (Bayes' rule).

    ``poa``: disjoint segment ids (cells, or sectors that do not overlap) and
    ``"rest_of_world"`` → probabilities summing to 1. ``searched``: ids searched in
    this pass. ``pod``: one POD for every searched segment, or ``{id: POD}`` for each
    (ids in the mapping but not in ``searched`` are ignored). For searched segments
    ``POA′ = POA·(1−POD)/(1−Σ POA·POD)``; every other segment and the rest of the
    world are divided by the same denominator. Returns a new dict.
    """
    p = _check_probabilities(poa)
    searched = list(dict.fromkeys(searched))
    unknown = [s for s in searched if s not in p or s == REST_OF_WORLD]
    if unknown:
        raise InputError(f"Unknown segment(s) searched: {', '.join(map(str, unknown[:5]))}.")
    if isinstance(pod, Mapping):
        missing = [s for s in searched if s not in pod]
        if missing:
            raise InputError(f"No POD given for {', '.join(map(str, missing[:5]))}.")
        pods = {s: _pod(pod[s], s) for s in searched}
    else:
        one = _pod(pod, "this pass")
        pods = {s: one for s in searched}
    found = math.fsum(p[s] * pods[s] for s in searched)
    denom = 1.0 - found
    if denom <= 0.0:
        raise InputError(_certain_message())
    out = {k: v / denom for k, v in p.items()}
    for s in searched:
        out[s] = p[s] * (1.0 - pods[s]) / denom
    return out


def update_poa_array(
    poa: np.ndarray, rest_of_world: float, pod: np.ndarray | float
) -> tuple[np.ndarray, float]:
    """Vectorised :func:`update_poa` for a whole grid: ``pod`` per cell (0 where unsearched).

    Returns ``(new poa per cell, new rest of world)``; the total stays 1.
    """
    p = np.asarray(poa, dtype=float)
    d = np.broadcast_to(np.asarray(pod, dtype=float), p.shape)
    if not (np.isfinite(p).all() and (p >= 0).all() and 0 <= rest_of_world <= 1):
        raise InputError("POA values must be between 0 and 1.")
    if abs(p.sum() + rest_of_world - 1.0) > TOLERANCE:
        raise InputError(f"POA must add up to 1, not {p.sum() + rest_of_world:.6f}.")
    if not (np.isfinite(d).all() and (d >= 0).all() and (d <= 1).all()):
        raise InputError("Every POD must be between 0 and 1.")
    denom = 1.0 - float(np.dot(p, d))
    if denom <= 0.0:
        raise InputError(_certain_message())
    return p * (1.0 - d) / denom, float(rest_of_world) / denom


def update_poa_grid(grid: PoaGrid, pod: np.ndarray | float) -> PoaGrid:
    """A new :class:`PoaGrid` after an unsuccessful pass with ``pod`` per cell."""
    poa, rest = update_poa_array(grid.cells["poa"].to_numpy(), grid.rest_of_world, pod)
    return grid.with_poa(poa, rest)


def apply_passes(
    prior: Mapping[str, float], pass_pods: Sequence[Mapping[str, float]]
) -> tuple[dict[str, float], list[float], list[float]]:
    """POA after a series of unsuccessful passes, each given as ``{cell id: POD}``.

    The same as :func:`update_poa` once per pass, in order, but each step touches only
    the cells that pass reached (sparse), so a case with many passes over a large grid
    is brought up to date in milliseconds. Cells a pass names that are not in
    ``prior`` (outside the grid: rest of the world) are ignored. Returns ``(new POA,
    found, rest)``: ``found[i]`` = Σ POA·POD of pass ``i`` just before it was applied
    (its probability of success), ``rest[i]`` the rest of the world just after.
    """
    p = _check_probabilities(prior)
    ids = [k for k in p if k != REST_OF_WORLD]
    index = {k: i for i, k in enumerate(ids)}
    w = np.array([p[k] for k in ids], dtype=float)  # unnormalised weights
    row = p[REST_OF_WORLD]
    total = math.fsum(w) + row
    found: list[float] = []
    rest: list[float] = []
    for n, pods in enumerate(pass_pods, 1):
        sel = [(index[c], _pod(d, f"cell {c}")) for c, d in pods.items() if c in index]
        if sel:
            ix = np.fromiter((a for a, _ in sel), dtype=np.int64, count=len(sel))
            d = np.fromiter((b for _, b in sel), dtype=float, count=len(sel))
            lost = float(np.dot(w[ix], d))
        else:
            ix, d, lost = np.zeros(0, dtype=np.int64), np.zeros(0), 0.0
        if total - lost <= 0.0:
            raise InputError(_certain_message() + f" (pass {n} of {len(pass_pods)})")
        found.append(lost / total)
        w[ix] = w[ix] * (1.0 - d)
        total -= lost
        rest.append(row / total)
    out = dict(zip(ids, (w / total).tolist(), strict=True))
    out[REST_OF_WORLD] = row / total
    return out, found, rest


def _pod(v: Any, what: str) -> float:
    try:
        p = float(v)
    except (TypeError, ValueError):
        raise InputError(f"The POD for {what} must be a number, not {v!r}.") from None
    if not (0.0 <= p <= 1.0):
        raise InputError(f"The POD for {what} must be between 0 and 1, not {p!r}.")
    return p


def _certain_message() -> str:
    return ("These PODs say the child would certainly have been found everywhere they could "
            "be. Lower the POD (no search is certain) or review the scenario.")


def pos(poa: np.ndarray | float, pod: np.ndarray | float) -> np.ndarray | float:
    """Probability of success of searching a segment: ``POS = POA × POD``."""
    out: np.ndarray = np.asarray(poa, float) * np.asarray(pod, float)
    return out


def cell_pod(grid: PoaGrid | gpd.GeoDataFrame, ground: shapely.Geometry, pod: float) -> np.ndarray:
    """Per-cell POD of a pass that searched ``ground`` (BNG polygon) with ``pod``.

    A cell only partly inside the ground gets ``pod × share of the cell inside``
    (probability is uniform within a cell). Ground marked "not searched" should be
    removed from ``ground`` first: it gets POD 0.
    """
    p = _pod(pod, "this pass")
    cells = grid.cells if isinstance(grid, PoaGrid) else grid
    geoms = cells.geometry.to_numpy()
    out = np.zeros(len(geoms))
    if ground is None or shapely.is_empty(ground):
        return out
    idx = shapely.STRtree(geoms).query(ground, predicate="intersects")
    out[idx] = p * shapely.area(shapely.intersection(geoms[idx], ground)) / shapely.area(geoms[idx])
    return np.clip(out, 0.0, 1.0)


def sector_poa(grid: PoaGrid, sectors: gpd.GeoDataFrame) -> pd.DataFrame:
    """POA, area and density of each sector from the grid, ranked by density.

    Columns ``id``, ``poa`` (sum of cell POA × share of each cell inside the sector),
    ``area_m2``, ``density_per_km2`` (POA ÷ area in km²) and ``rank`` (1 = densest:
    suggested next). Sectors overlap, so their POAs may add to more than 1.
    """
    return sector_poas([grid], sectors)[0]


def sector_poas(grids: Sequence[PoaGrid], sectors: gpd.GeoDataFrame) -> list[pd.DataFrame]:
    """:func:`sector_poa` of each grid (say the prior and the current POA), the share of
    each cell inside each sector worked out once for grids on the same cells."""
    if "id" not in sectors.columns or sectors.crs is None:
        raise InputError("Sectors need an 'id' column and a coordinate system.")
    sec = shapely.make_valid(frame_to_bng(sectors))
    area = shapely.area(sec)
    out: list[pd.DataFrame] = []
    shared: tuple[PoaGrid, np.ndarray, np.ndarray, np.ndarray] | None = None
    for grid in grids:
        if shared is None or not _same_cells(shared[0], grid):
            cells = grid.cells.geometry.to_numpy()
            si, ci = shapely.STRtree(cells).query(sec, predicate="intersects")
            share = shapely.area(shapely.intersection(cells[ci], sec[si])) / (grid.cell_m ** 2)
            shared = (grid, si, ci, share)
        _, si, ci, share = shared
        poa = np.bincount(si, weights=share * grid.cells["poa"].to_numpy()[ci],
                          minlength=len(sec))
        out.append(rank_sectors(pd.DataFrame({
            "id": sectors["id"].to_numpy(), "poa": poa, "area_m2": area,
            "density_per_km2": np.where(area > 0, poa / (area / 1e6), 0.0)})))
    return out


def _same_cells(a: PoaGrid, b: PoaGrid) -> bool:
    return a.cell_m == b.cell_m and np.array_equal(a.cells["cell"].to_numpy(),
                                                   b.cells["cell"].to_numpy())


def rank_sectors(table: pd.DataFrame) -> pd.DataFrame:
    """Sort by probability density (highest first) and number the ``rank`` from 1."""
    out = table.sort_values(["density_per_km2", "id"], ascending=[False, True], kind="stable")
    out = out.reset_index(drop=True)
    out["rank"] = np.arange(1, len(out) + 1)
    return out
