"""A child who moves: probability that flows between searches.

Land-search POA updates (:mod:`geo.probability`) assume the child stays put. A child in
London walks, rides buses and goes to friends, so ground searched at 14:00 is not clear
at 20:00. Maritime search planning (US Coast Guard CASP, SAROPS) alternates a motion
("predict") step with the Bayes update of each unsuccessful search; this module is the
motion step, over the same fixed 100 m BNG grid (:class:`geo.PoaGrid`).

One step of ``hours`` is cut into chunks of at most :attr:`MotionModel.step_hours`;
each chunk

1. **leaks** a share of the cells' probability to the rest of the world (buses and
   trains take a child out of the area),
2. **jumps** a share to places: the likely places a case names (the child's home, a
   friend's address), and by default London's town centres and transport hubs within
   the grid's reach (``data/places``), split between those kinds as Grampian children
   were traced at them and, within a kind, by size and distance
   (:meth:`MotionModel.destinations_near`),
3. **walks**: a random walk on the grid (a lazy nearest-neighbour step along the
   eastings, then along the northings, repeated) whose spread per axis is
   ``σ² = v² · τ · m · t`` — a walker at speed ``v`` who keeps a direction for ``τ`` on
   average and moves a share ``m`` of the time. A step never crosses a barrier line
   (the Thames by default) unless the model lets a share through.

The grid grows by whole cells as probability spreads, up to ``MAX_RADIUS_M`` around its
centre; probability that would walk or jump beyond that is lost at the grid's edge and
joins the rest of the world. Leakage and the edge loss are reported apart
(:func:`advance_poa_report`). Every step conserves probability: ``cells.poa.sum() +
rest_of_world`` stays 1.

Also here: a sighting bounds the child (:func:`recentre_on_sighting`), and searched
ground goes stale as probability flows back into it (:func:`stale_share`,
:func:`search_again`).

Sources and planning assumptions: ``data/search_science/motion.json``. Decision
support, not a prediction.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cache, lru_cache

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.boundaries import load_layer
from geo.crs import BNG, frame_to_bng, lonlat_to_bng
from geo.detection import load_search_data
from geo.errors import InputError
from geo.places import places_within
from geo.probability import (
    MAX_RADIUS_M,
    TOLERANCE,
    PoaGrid,
    _cell_distances,
    _cell_ids,
    _disc_area_in_cells,
)
from geo.uk import check_point_in_uk

#: Defaults of :class:`MotionModel`; each is explained in ``data/search_science/motion.json``.
WALK_SPEED_MS: float = 1.2  # pedestrian design speed (research note §5)
MOVING_SHARE: float = 0.25  # planning assumption
LEG_MINUTES: float = 10.0  # planning assumption
LEAK_PER_HOUR: float = 0.04  # planning fit to Grampian 12-14 (research note §1.2, §5)
JUMP_PER_HOUR: float = 0.06  # planning assumption (Grampian "where traced")
BARRIER_CROSSING: float = 0.0  # planning assumption: the walk step does not cross
#: A sector "may need searching again" once this share of what its search ruled out has
#: flowed back into it (planning assumption).
STALE_THRESHOLD: float = 0.5
#: Unverified sightings mix in this share (planning assumption).
UNVERIFIED_WEIGHT: float = 0.3

#: Borough pairs facing each other across the tidal Thames: in the 2018 wards the
#: boroughs run to mid-river, so the edge they share is the river's centre line.
#: From Barnes/Hammersmith down to Erith; upstream the shared edges also run over
#: land (Hounslow-Richmond), so the river there is not drawn.
THAMES_BOROUGH_PAIRS: tuple[tuple[str, str], ...] = (
    ("Hammersmith and Fulham", "Richmond upon Thames"),
    ("Hammersmith and Fulham", "Wandsworth"),
    ("Kensington and Chelsea", "Wandsworth"),
    ("Westminster", "Wandsworth"),
    ("Westminster", "Lambeth"),
    ("City of London", "Lambeth"),
    ("City of London", "Southwark"),
    ("Tower Hamlets", "Southwark"),
    ("Tower Hamlets", "Lewisham"),
    ("Tower Hamlets", "Greenwich"),
    ("Newham", "Greenwich"),
    ("Barking and Dagenham", "Greenwich"),
    ("Barking and Dagenham", "Bexley"),
    ("Havering", "Bexley"),
)

#: Largest share of a cell's probability moved to one neighbour per walk sub-step
#: (keeps the lazy walk free of a chequerboard pattern).
_MAX_STEP_SHARE = 0.4


@cache
def thames_barrier() -> shapely.LineString:
    """The tidal Thames (BNG line, about 45 km, Barnes to Erith) from the borough layer.

    The borough layer is dissolved from the 2018 wards, which run to mid-river, so the
    edge shared by two boroughs on opposite banks is the river's centre line; the
    edges of :data:`THAMES_BOROUGH_PAIRS` are merged into one line.
    """
    boroughs = load_layer("borough").set_index("name").geometry
    a = shapely.boundary(np.array([boroughs[n] for n, _ in THAMES_BOROUGH_PAIRS]))
    b = shapely.boundary(np.array([boroughs[s] for _, s in THAMES_BOROUGH_PAIRS]))
    parts = shapely.get_parts(shapely.intersection(a, b))
    lines = parts[shapely.get_dimensions(parts) == 1]
    merged = shapely.line_merge(shapely.union_all(lines))
    if not isinstance(merged, shapely.LineString):  # pragma: no cover - data check
        raise InputError("The Thames could not be traced from the borough layer.")
    return merged


def _default_barriers() -> tuple[shapely.Geometry, ...]:
    return (thames_barrier(),)


@cache
def jump_shares() -> dict[str, float]:
    """Share of the jumps each kind of place takes (``likely_place``, ``town_centre``,
    ``transport_hub``), from ``motion.json``: where Grampian 12-14 children were traced."""
    raw = load_search_data("motion")["destinations"]["kind_shares"]
    total = float(sum(raw.values()))
    return {k: float(v) / total for k, v in raw.items()}


def _distance_weight(d_m: np.ndarray) -> np.ndarray:
    """The Grampian distance law's density per unit area at ``d_m`` (up to a constant)."""
    law = load_search_data("motion")["destinations"]["distance_law"]
    d = np.maximum(np.asarray(d_m, float), float(law["min_km"]) * 1000.0)
    z = np.log(d / (float(law["median_km"]) * 1000.0)) / float(law["sigma"])
    out: np.ndarray = np.exp(-0.5 * z * z) / (d * d)
    return out


@lru_cache(maxsize=64)
def _default_places(x: float, y: float) -> pd.DataFrame:
    """The default places within ``MAX_RADIUS_M`` of (x, y) with ``share`` (of all jumps)."""
    near = places_within(x, y, MAX_RADIUS_M)
    shares = jump_shares()
    w = near["size"].to_numpy(float) * _distance_weight(near["distance_m"].to_numpy())
    share = np.zeros(len(near))
    for group in near["group"].unique():
        g = (near["group"] == group).to_numpy()
        if w[g].sum() > 0:
            share[g] = shares.get(str(group), 0.0) * w[g] / w[g].sum()
    near["share"] = share
    return near


@dataclass(frozen=True)
class MotionModel:
    """How probability moves between searches; defaults for a child on foot in London.

    ``walk_speed_ms`` (m/s) × ``moving_share`` (of the time) with direction kept for
    ``leg_minutes`` on average gives the random walk; ``leak_per_hour`` is the share of
    the cells' probability that leaves the area each hour (to the rest of the world);
    ``jump_per_hour`` the share that goes to places each hour when every kind of place
    has one in reach (less otherwise, see below). ``barriers``: BNG lines the walk does
    not cross (the Thames by default; railways and other water only from a loaded
    street extract);
    ``barrier_crossing`` the share of a step across a barrier that goes through anyway
    (0 = a wall, 1 = no barrier). ``destinations``: the case's likely places,
    ``(easting, northing, weight)`` BNG points such as the child's home or a friend's
    address (weights relative); ``places``: also jump to London's town centres and
    transport hubs within the grid's reach (``data/places``). The jumps are split
    between those kinds by :func:`jump_shares`; a kind with no place in reach takes no
    share (see :meth:`destinations_near`).
    ``step_hours``: leakage, jumps and the walk alternate in chunks of at most this.
    Sources: ``data/search_science/motion.json``.
    """

    walk_speed_ms: float = WALK_SPEED_MS
    moving_share: float = MOVING_SHARE
    leg_minutes: float = LEG_MINUTES
    leak_per_hour: float = LEAK_PER_HOUR
    jump_per_hour: float = JUMP_PER_HOUR
    barrier_crossing: float = BARRIER_CROSSING
    barriers: tuple[shapely.Geometry, ...] = field(default_factory=_default_barriers)
    destinations: tuple[tuple[float, float, float], ...] = ()
    places: bool = True
    step_hours: float = 1.0

    def __post_init__(self) -> None:
        for name in ("walk_speed_ms", "moving_share", "leg_minutes", "leak_per_hour",
                     "jump_per_hour", "barrier_crossing", "step_hours"):
            v = getattr(self, name)
            if not (isinstance(v, int | float) and math.isfinite(v) and v >= 0):
                raise InputError(f"The motion model's {name} must be a number of 0 or more.")
        for name in ("moving_share", "leak_per_hour", "jump_per_hour", "barrier_crossing"):
            if getattr(self, name) > 1:
                raise InputError(f"The motion model's {name} is a share: at most 1.")
        if self.step_hours <= 0:
            raise InputError("The motion model's step must be longer than 0 hours.")
        for d in self.destinations:
            if len(d) != 3 or not all(math.isfinite(float(v)) for v in d) or d[2] < 0:
                raise InputError("Destinations are (easting, northing, weight ≥ 0) in BNG.")

    @classmethod
    def stationary(cls) -> MotionModel:
        """The land-search assumption: the child stays put (nothing moves, nothing leaks)."""
        return cls(walk_speed_ms=0.0, moving_share=0.0, leak_per_hour=0.0,
                   jump_per_hour=0.0, barriers=(), places=False)

    @property
    def is_stationary(self) -> bool:
        return self.spread_m2_per_hour() == 0 and self.leak_per_hour == 0 and (
            self.jump_per_hour == 0 or not (self._weighted_destinations() or self.places))

    def spread_m2_per_hour(self) -> float:
        """Variance (m², per axis) the walk adds in one hour: ``v² · τ · m · 3600 s``."""
        return self.walk_speed_ms**2 * self.leg_minutes * 60.0 * self.moving_share * 3600.0

    def spread_m(self, hours: float) -> float:
        """Standard deviation (m, per axis) of the walk after ``hours``."""
        return math.sqrt(self.spread_m2_per_hour() * max(float(hours), 0.0))

    def _weighted_destinations(self) -> list[tuple[float, float, float]]:
        return [(float(x), float(y), float(w)) for x, y, w in self.destinations if w > 0]

    def destinations_near(self, x: float, y: float) -> pd.DataFrame:
        """Where this model's jumps go for a grid centred on BNG (``x``, ``y``).

        One row per place: ``kind`` (``likely_place`` for the case's own, else
        ``station``, ``bus_station``, ``town_centre``), ``name``, ``easting``,
        ``northing``, ``share`` (of each hour's jumps; the shares add up to at most 1:
        a kind with no place in reach takes none). Likely places share their kind's
        part by their weights; the default places by size × the distance law
        (``motion.json``), within ``MAX_RADIUS_M`` of (x, y).
        """
        cols = ["kind", "name", "easting", "northing", "share"]
        named = self._weighted_destinations()
        parts: list[pd.DataFrame] = []
        if named:
            w = np.array([d[2] for d in named])
            parts.append(pd.DataFrame({
                "kind": "likely_place", "name": "likely place",
                "easting": [d[0] for d in named], "northing": [d[1] for d in named],
                "share": jump_shares().get("likely_place", 0.0) * w / w.sum()}))
        if self.places:
            parts.append(_default_places(float(x), float(y))[cols])
        if not parts:
            return pd.DataFrame({c: pd.Series(dtype=float if c in cols[2:] else object)
                                 for c in cols})
        return pd.concat(parts, ignore_index=True)[cols]

    def describe(self, likely_places: str | None = None) -> list[str]:
        """The assumptions in words, for every figure that uses them.

        ``likely_places``: how to name the case's likely places (default: how many).
        """
        if self.is_stationary:
            return ["No movement between searches: searched ground keeps what its search "
                    "ruled out."]
        out = [
            f"Walks at {self.walk_speed_ms:g} m/s for {self.moving_share:.0%} of the time, "
            f"changing direction about every {self.leg_minutes:g} min (spread about "
            f"{self.spread_m(1.0):.0f} m in an hour).",
            f"{self.leak_per_hour:.0%} an hour leaves the area (bus, train).",
        ]
        if self.jump_per_hour > 0 and (self._weighted_destinations() or self.places):
            s = jump_shares()
            kinds = []
            if self._weighted_destinations():
                named = likely_places or f"{len(self._weighted_destinations())} likely place(s)"
                kinds.append(f"{named} ({s.get('likely_place', 0.0):.0%} of it)")
            if self.places:
                kinds.append(f"town centres ({s.get('town_centre', 0.0):.0%}) and rail and "
                             f"bus stations ({s.get('transport_hub', 0.0):.0%}) within "
                             f"{MAX_RADIUS_M / 1000:g} km, nearer ones more")
            out.append(f"Up to {self.jump_per_hour:.0%} an hour goes to places: "
                       + ", ".join(kinds) + " (as where children aged 12–14 were traced).")
        if self.barriers:
            out.append("Does not walk across the Thames (or other barrier lines)"
                       if self.barrier_crossing == 0 else
                       f"Crosses barrier lines {self.barrier_crossing:.0%} as freely.")
        return out


@lru_cache(maxsize=64)
def _jump_targets(model_key: tuple[tuple[tuple[float, float, float], ...], bool],
                  x: float, y: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(eastings, northings, shares)`` of the places with a share, for the motion step."""
    named, places = model_key
    near = MotionModel(destinations=named, places=places, barriers=()).destinations_near(x, y)
    near = near[near["share"] > 0]
    out = (near["easting"].to_numpy(float), near["northing"].to_numpy(float),
           near["share"].to_numpy(float))
    for a in out:
        a.flags.writeable = False
    return out


@dataclass(frozen=True)
class MotionReport:
    """What one :func:`advance_poa_report` did. Probabilities are shares of the total (1).

    ``leaked``: moved to the rest of the world by the leakage rate; ``edge_lost``: walked
    or jumped beyond ``MAX_RADIUS_M`` (also rest of the world now); ``jumped``: moved to
    destinations inside the grid; ``spread_m``: the walk's standard deviation per axis.
    """

    grid: PoaGrid
    hours: float
    leaked: float
    edge_lost: float
    jumped: float
    spread_m: float


# ---------------------------------------------------------------- the raster


@dataclass(frozen=True)
class _Raster:
    ix0: int
    iy0: int
    nx: int
    ny: int
    cell_m: float
    allowed: np.ndarray  # (ny, nx) bool: cells the grid may hold
    # walk weights: share of a cell moving one cell east / west / north / south
    east: np.ndarray  # (ny, nx-1): from column c to c+1
    west: np.ndarray  # (ny, nx-1): from column c+1 to c
    north: np.ndarray  # (ny-1, nx): from row r to r+1
    south: np.ndarray  # (ny-1, nx): from row r+1 to r


def _cell_index(grid: PoaGrid) -> tuple[np.ndarray, np.ndarray]:
    x0, y0 = shapely.bounds(grid.cells.geometry.to_numpy())[:, :2].T
    return (np.round(x0 / grid.cell_m).astype(np.int64),
            np.round(y0 / grid.cell_m).astype(np.int64))


def _grid_centre(grid: PoaGrid, centre: tuple[float, float] | None,
                 index: tuple[np.ndarray, np.ndarray] | None = None) -> tuple[float, float]:
    """``centre`` if given, else the middle of the grid's cells (BNG metres)."""
    if centre is not None:
        return float(centre[0]), float(centre[1])
    if len(grid.cells) == 0:
        raise InputError("The grid has no cells; give its centre (BNG metres).")
    gx, gy = _cell_index(grid) if index is None else index
    c = grid.cell_m
    return ((int(gx.min()) + int(gx.max()) + 1) * c / 2.0,
            (int(gy.min()) + int(gy.max()) + 1) * c / 2.0)


def _disc_bounds(cx: float, cy: float, cell_m: float) -> tuple[int, int, int, int]:
    r = MAX_RADIUS_M
    return (math.floor((cx - r) / cell_m), math.floor((cy - r) / cell_m),
            math.floor((cx + r) / cell_m), math.floor((cy + r) / cell_m))


@lru_cache(maxsize=16)
def _cut_edges(ix0: int, iy0: int, nx: int, ny: int, cell_m: float,
               barriers: tuple[shapely.Geometry, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Which neighbour steps cross a barrier: ``(horizontal (ny, nx-1), vertical (ny-1, nx))``.

    A step is cut when the segment between the two cell centres meets a barrier line.
    """
    hcut = np.zeros((ny, max(nx - 1, 0)), bool)
    vcut = np.zeros((max(ny - 1, 0), nx), bool)
    if not barriers:
        return hcut, vcut
    window = shapely.box(ix0 * cell_m, iy0 * cell_m, (ix0 + nx) * cell_m, (iy0 + ny) * cell_m)
    lines = shapely.get_parts(shapely.intersection(np.array(barriers, dtype=object), window))
    lines = lines[~shapely.is_empty(lines)]
    if len(lines) == 0:
        return hcut, vcut
    segs = _segments(lines)
    tree = shapely.STRtree(segs)
    xs = (ix0 + np.arange(nx) + 0.5) * cell_m
    ys = (iy0 + np.arange(ny) + 0.5) * cell_m
    for cut, (ax, ay, bx, by) in (
        (hcut, np.meshgrid(xs[:-1], ys) + np.meshgrid(xs[1:], ys)),
        (vcut, np.meshgrid(xs, ys[:-1]) + np.meshgrid(xs, ys[1:])),
    ):
        if cut.size == 0:
            continue
        coords = np.stack([np.stack([ax.ravel(), ay.ravel()], 1),
                           np.stack([bx.ravel(), by.ravel()], 1)], 1)
        steps = shapely.linestrings(coords)
        hit, _ = tree.query(steps, predicate="intersects")
        flat = cut.reshape(-1)
        flat[np.unique(hit)] = True
    return hcut, vcut


def _segments(lines: np.ndarray) -> np.ndarray:
    """Every two-point segment of the (multi)lines, so the tree holds small boxes."""
    coords, index = shapely.get_coordinates(lines, return_index=True)
    same = index[:-1] == index[1:]
    segs: np.ndarray = np.asarray(
        shapely.linestrings(np.stack([coords[:-1][same], coords[1:][same]], 1)))
    return segs


@lru_cache(maxsize=16)
def _disc_mask(ix0: int, iy0: int, nx: int, ny: int, cell_m: float, cx: float, cy: float
               ) -> np.ndarray:
    """Raster cells within ``MAX_RADIUS_M`` of the centre (as :func:`geo.initial_poa`)."""
    gx, gy = np.meshgrid(ix0 + np.arange(nx), iy0 + np.arange(ny))
    mind, _ = _cell_distances(gx * cell_m, gy * cell_m, cell_m, cx, cy)
    mask: np.ndarray = mind < MAX_RADIUS_M
    mask.flags.writeable = False
    return mask


def _raster(ix0: int, iy0: int, nx: int, ny: int, cell_m: float, cx: float, cy: float,
            held_ix: np.ndarray, held_iy: np.ndarray, model: MotionModel) -> _Raster:
    allowed = _disc_mask(ix0, iy0, nx, ny, cell_m, cx, cy).copy()
    allowed[held_iy - iy0, held_ix - ix0] = True
    hcut, vcut = _cut_edges(ix0, iy0, nx, ny, cell_m, tuple(model.barriers))
    hpass = np.where(hcut, model.barrier_crossing, 1.0)
    vpass = np.where(vcut, model.barrier_crossing, 1.0)
    # A step may enter a cell outside the grid (lost at the edge) but never leave one.
    return _Raster(
        ix0, iy0, nx, ny, cell_m, allowed,
        east=hpass * allowed[:, :-1], west=hpass * allowed[:, 1:],
        north=vpass * allowed[:-1, :], south=vpass * allowed[1:, :],
    )


def _walk(p: np.ndarray, r: _Raster, var_cells: float) -> np.ndarray:
    """Lazy nearest-neighbour random walk adding ``var_cells`` (cells², per axis).

    Each sub-step moves a share ``a`` east and ``a`` west (then north and south), so the
    variance per axis grows by exactly ``2a`` per sub-step; cut steps stay put.
    Probability is conserved to rounding. Works on the flattened raster (row-major),
    where a step east is a shift by 1 and a step north a shift by ``nx``: contiguous
    slices keep each sub-step cheap.
    """
    if var_cells <= 0:
        return p
    n = math.ceil(var_cells / (2 * _MAX_STEP_SHARE))
    a = var_cells / (2 * n)
    nx = r.nx
    pad = np.zeros((r.ny, 1))
    e = a * np.hstack([r.east, pad]).ravel()[:-1]  # from flat i to i+1 (0 across rows)
    w = a * np.hstack([r.west, pad]).ravel()[:-1]  # from flat i+1 to i
    no, so = a * r.north.ravel(), a * r.south.ravel()  # from i to i+nx, from i+nx to i
    stay_x = np.ones(p.size)
    stay_x[:-1] -= e
    stay_x[1:] -= w
    stay_y = np.ones(p.size)
    stay_y[:-nx] -= no
    stay_y[nx:] -= so
    q = p.ravel().copy()
    out = np.empty_like(q)
    tmp_h = np.empty_like(e)
    tmp_v = np.empty_like(no)
    for _ in range(n):
        np.multiply(q, stay_x, out=out)
        np.multiply(q[:-1], e, out=tmp_h)
        out[1:] += tmp_h
        np.multiply(q[1:], w, out=tmp_h)
        out[:-1] += tmp_h
        np.multiply(out, stay_y, out=q)
        np.multiply(out[:-nx], no, out=tmp_v)
        q[nx:] += tmp_v
        np.multiply(out[nx:], so, out=tmp_v)
        q[:-nx] += tmp_v
    return q.reshape(p.shape)


def _rebuild(grid: PoaGrid, gx: np.ndarray, gy: np.ndarray, r: _Raster, p: np.ndarray,
             rest: float) -> PoaGrid:
    """A :class:`PoaGrid` of the raster's grid cells; the same cells (and order) when unchanged."""
    if len(gx) == int(r.allowed.sum()):
        # Same number of cells and every old cell is allowed: the very same set.
        return grid.with_poa(p[gy - r.iy0, gx - r.ix0], rest)
    ys, xs = np.nonzero(r.allowed)
    poa = p[ys, xs]
    x0, y0 = (xs + r.ix0) * r.cell_m, (ys + r.iy0) * r.cell_m
    cells = gpd.GeoDataFrame(
        {"cell": _cell_ids(x0, y0), "poa": poa},
        geometry=shapely.box(x0, y0, x0 + r.cell_m, y0 + r.cell_m), crs=BNG)
    return PoaGrid(cells, float(rest), float(r.cell_m))


def _check_grid(grid: PoaGrid) -> np.ndarray:
    p = grid.cells["poa"].to_numpy(dtype=float)
    if not (np.isfinite(p).all() and (p >= 0).all() and 0 <= grid.rest_of_world <= 1):
        raise InputError("POA values must be between 0 and 1.")
    if abs(p.sum() + grid.rest_of_world - 1.0) > TOLERANCE:
        raise InputError(f"POA must add up to 1, not {p.sum() + grid.rest_of_world:.6f}.")
    return p


# ---------------------------------------------------------------- the step


def advance_poa_report(
    grid: PoaGrid,
    hours: float,
    model: MotionModel | None = None,
    *,
    centre: tuple[float, float] | None = None,
) -> MotionReport:
    """Move the POA on by ``hours`` of the child's possible movement; see :func:`advance_poa`.

    Returns the new grid with what moved where (:class:`MotionReport`).
    """
    try:
        h = float(hours)
    except (TypeError, ValueError):
        raise InputError(f"Elapsed time must be a number of hours, not {hours!r}.") from None
    if not (math.isfinite(h) and h >= 0):
        raise InputError("Elapsed time must be 0 hours or more.")
    m = MotionModel() if model is None else model
    p_cells = _check_grid(grid)
    if h == 0 or m.is_stationary or len(grid.cells) == 0:
        return MotionReport(grid, h, 0.0, 0.0, 0.0, 0.0)
    cell = grid.cell_m
    gx, gy = _cell_index(grid)
    cx, cy = _grid_centre(grid, centre, (gx, gy))
    if m.jump_per_hour > 0:
        tx, ty, share_d = _jump_targets((tuple(m._weighted_destinations()), m.places), cx, cy)
    else:
        tx = ty = share_d = np.zeros(0)
    dix = np.floor(tx / cell).astype(np.int64)
    diy = np.floor(ty / cell).astype(np.int64)
    # The raster: the grid's cells and the destinations, padded by the walk's reach
    # (5 standard deviations), within the largest grid around the centre.
    pad = math.ceil(5.0 * m.spread_m(h) / cell) + 1
    lo_x, lo_y, hi_x, hi_y = _disc_bounds(cx, cy, cell)
    near = (dix >= lo_x) & (dix <= hi_x) & (diy >= lo_y) & (diy <= hi_y)
    ax, ay = np.concatenate([gx, dix[near]]), np.concatenate([gy, diy[near]])
    ix0 = min(int(gx.min()), max(int(ax.min()) - pad, lo_x - 1))
    iy0 = min(int(gy.min()), max(int(ay.min()) - pad, lo_y - 1))
    ix1 = max(int(gx.max()), min(int(ax.max()) + pad, hi_x + 1))
    iy1 = max(int(gy.max()), min(int(ay.max()) + pad, hi_y + 1))
    r = _raster(ix0, iy0, ix1 - ix0 + 1, iy1 - iy0 + 1, cell, cx, cy, gx, gy, m)
    p = np.zeros((r.ny, r.nx))
    p[gy - iy0, gx - ix0] = p_cells
    inside_d = ((dix >= ix0) & (dix <= ix1) & (diy >= iy0) & (diy <= iy1))
    inside_d &= r.allowed[np.clip(diy - iy0, 0, r.ny - 1), np.clip(dix - ix0, 0, r.nx - 1)]
    in_rows, in_cols, in_share = diy[inside_d] - iy0, dix[inside_d] - ix0, share_d[inside_d]
    share_in, share_out = float(in_share.sum()), float(share_d[~inside_d].sum())

    rest = float(grid.rest_of_world)
    leaked = edge = jumped = 0.0
    done = 0.0
    while done < h - 1e-12:
        dt = min(m.step_hours, h - done)
        done += dt
        total = float(p.sum())
        # 1. leakage to the rest of the world
        leak = 1.0 - (1.0 - m.leak_per_hour) ** dt
        if leak > 0:
            leaked += leak * total
            p *= 1.0 - leak
            total *= 1.0 - leak
        # 2. jumps to places (each kind's share of the jump rate; see destinations_near)
        jump = 1.0 - (1.0 - m.jump_per_hour) ** dt if len(share_d) else 0.0
        if jump > 0 and total > 0:
            moved = jump * total
            p *= 1.0 - jump * (share_in + share_out)
            np.add.at(p, (in_rows, in_cols), moved * in_share)
            jumped += moved * share_in
            edge += moved * share_out
        # 3. the walk; whatever steps outside the grid is lost at its edge
        p = _walk(p, r, m.spread_m2_per_hour() * dt / cell**2)
        out = p[~r.allowed]
        if out.size:
            edge += float(out.sum())
            p[~r.allowed] = 0.0
    rest = rest + leaked + edge
    new = _rebuild(grid, gx, gy, r, p, rest)
    total = float(new.cells["poa"].sum()) + new.rest_of_world
    if abs(total - 1.0) > 1e-9:  # pragma: no cover - a bug, not bad input
        raise AssertionError(f"motion step lost probability: total {total!r}")
    return MotionReport(new, h, leaked, edge, jumped, m.spread_m(h))


def advance_poa(
    grid: PoaGrid,
    hours: float,
    model: MotionModel | None = None,
    *,
    centre: tuple[float, float] | None = None,
) -> PoaGrid:
    """The POA ``hours`` later, if the child moves as ``model`` says (default: on foot in London).

    ``grid``: today's :class:`PoaGrid`. ``centre``: the grid's centre in BNG metres (the
    last-known location); by default the middle of the grid's cells, which for a grid
    from :func:`geo.initial_poa` is the last-known location to half a cell and stays put
    as the grid grows. The grid grows by whole cells up to ``MAX_RADIUS_M`` from the
    centre (new cells may hold 0); probability beyond that joins ``rest_of_world``.
    Zero hours (or a stationary model) returns ``grid`` itself.
    """
    return advance_poa_report(grid, hours, model, centre=centre).grid


# ---------------------------------------------------------------- sightings


def recentre_on_sighting(
    grid: PoaGrid,
    lat: float,
    lon: float,
    error_m: float,
    verified: bool,
    weight: float = UNVERIFIED_WEIGHT,
    *,
    centre: tuple[float, float] | None = None,
) -> PoaGrid:
    """The POA after a sighting at (``lat``, ``lon``, WGS84) within ``error_m`` metres.

    A **verified** sighting replaces the POA: the child was within ``error_m`` of the
    point then, so all probability is spread evenly over that disc (by the area of each
    cell inside it) and the rest of the world is emptied; run :func:`advance_poa` from
    the sighting's time to now. An **unverified** one mixes the disc in with
    ``weight`` (0–1) without erasing the rest: ``(1 − weight) · POA + weight · disc``.
    The grid gains the disc's cells (within ``MAX_RADIUS_M`` of ``centre``, see
    :func:`advance_poa`); any part of the disc beyond joins the rest of the world.
    Probability is conserved.
    """
    check_point_in_uk(lat, lon)
    try:
        err = float(error_m)
        w = 1.0 if verified else float(weight)
    except (TypeError, ValueError):
        raise InputError("The sighting's error and weight must be numbers.") from None
    if not (math.isfinite(err) and 0 <= err <= MAX_RADIUS_M):
        raise InputError(f"The sighting's location error must be 0 to {MAX_RADIUS_M:g} m.")
    if not (0.0 <= w <= 1.0):
        raise InputError("An unverified sighting's weight must be between 0 and 1.")
    p = _check_grid(grid)
    cell = grid.cell_m
    cx, cy = _grid_centre(grid, centre)
    x, y = (float(v) for v in lonlat_to_bng(lon, lat))
    rad = max(err, cell / 2.0)
    # Candidate cells: the disc's square, within the largest grid (or already held).
    gx, gy = _cell_index(grid)
    ix = np.arange(math.floor((x - rad) / cell), math.floor((x + rad) / cell) + 1)
    iy = np.arange(math.floor((y - rad) / cell), math.floor((y + rad) / cell) + 1)
    kx, ky = (v.ravel() for v in np.meshgrid(ix, iy))
    boxes = shapely.box(kx * cell, ky * cell, (kx + 1) * cell, (ky + 1) * cell)
    disc = _disc_area_in_cells(boxes, kx * cell, ky * cell, cell, x, y, rad)
    disc = disc / disc.sum()  # shares of the (polygonal) disc, summing to 1
    held = {(int(a), int(b)): i for i, (a, b) in enumerate(zip(gx, gy, strict=True))}
    mind, _ = _cell_distances(kx * cell, ky * cell, cell, cx, cy)
    keep = np.array([(int(a), int(b)) in held for a, b in zip(kx, ky, strict=True)], bool)
    keep |= mind < MAX_RADIUS_M
    hit = keep & (disc > 0)
    kx, ky, disc, boxes = kx[hit], ky[hit], disc[hit], boxes[hit]
    new_ix = [i for i, (a, b) in enumerate(zip(kx, ky, strict=True))
              if (int(a), int(b)) not in held]
    if verified and disc.sum() <= 0:
        raise InputError("That sighting is beyond this case's grid; start the grid again "
                         "around the sighting.")
    # Disc mass on grid cells (scaled so the disc's total is exactly what it covers).
    outside = max(0.0, 1.0 - float(disc.sum()))
    cells = grid.cells
    if new_ix:
        nx0, ny0 = kx[new_ix] * cell, ky[new_ix] * cell
        extra = gpd.GeoDataFrame({"cell": _cell_ids(nx0, ny0), "poa": 0.0},
                                 geometry=boxes[new_ix], crs=BNG)
        cells = gpd.GeoDataFrame(pd.concat([cells, extra], ignore_index=True), crs=BNG)
        p = np.concatenate([p, np.zeros(len(new_ix))])
        for k, i in enumerate(new_ix):
            held[(int(kx[i]), int(ky[i]))] = len(gx) + k
    add = np.zeros(len(p))
    rows = np.array([held[(int(a), int(b))] for a, b in zip(kx, ky, strict=True)], np.int64)
    np.add.at(add, rows, disc)
    poa = (1.0 - w) * p + w * add
    rest = (1.0 - w) * float(grid.rest_of_world) + w * outside
    return PoaGrid(cells, 0.0, cell).with_poa(poa, rest)


# ---------------------------------------------------------------- stale ground


def stale_share(
    before_search: PoaGrid,
    after_search: PoaGrid,
    sectors: gpd.GeoDataFrame,
    hours: float,
    model: MotionModel | None = None,
    *,
    centre: tuple[float, float] | None = None,
) -> pd.DataFrame:
    """Per searched sector, how much of what its search ruled out has flowed back since.

    ``before_search`` / ``after_search``: the POA just before and just after the pass
    that searched ``sectors`` (any CRS, column ``id``), ``hours`` ago. The search took
    ``removed`` = POA before − POA after out of each sector. Motion moves both grids on
    alike, so the search's effect still standing is ``still_ruled_out`` = (moved
    before − moved after) in the sector; the rest has ``flowed_back``, and ``stale`` =
    ``flowed_back / removed`` (0 just after the search, towards 1 as the child could
    have walked back in). Under a stationary model nothing flows back: ``stale`` is 0.
    Searches elsewhere since do not change it (the motion step is linear).
    """
    m = MotionModel() if model is None else model
    c = _grid_centre(after_search, centre)
    ids = sectors["id"].to_numpy()
    removed = np.clip(_sector_sums(before_search, sectors) - _sector_sums(after_search, sectors),
                      0.0, None)
    if m.is_stationary or hours <= 0:
        still = removed
    else:
        moved_before = advance_poa(before_search, hours, m, centre=c)
        moved_after = advance_poa(after_search, hours, m, centre=c)
        still = _sector_sums(moved_before, sectors) - _sector_sums(moved_after, sectors)
    flowed = np.clip(removed - still, 0.0, removed)
    stale = np.divide(flowed, removed, out=np.zeros_like(flowed), where=removed > 0)
    return pd.DataFrame({"id": ids, "removed": removed, "still_ruled_out": removed - flowed,
                         "flowed_back": flowed, "stale": stale})


def search_again(table: pd.DataFrame, threshold: float = STALE_THRESHOLD) -> pd.Series:
    """``True`` for sectors where at least ``threshold`` of what their search ruled out has
    flowed back (:func:`stale_share`): a suggestion to the coordinator, never a status change."""
    if not 0.0 < float(threshold) <= 1.0:
        raise InputError("The stale-ground threshold is a share between 0 and 1.")
    flags: pd.Series = (table["removed"] > 0) & (table["stale"] >= float(threshold))
    return flags


def _sector_shares(grid: PoaGrid, sectors: gpd.GeoDataFrame) -> np.ndarray:
    """``(sectors, cells)``: the share of each grid cell inside each sector (area / cell area)."""
    sec = shapely.make_valid(frame_to_bng(sectors))
    cells = grid.cells.geometry.to_numpy()
    si, ci = shapely.STRtree(cells).query(sec, predicate="intersects")
    out = np.zeros((len(sec), len(cells)))
    out[si, ci] = shapely.area(shapely.intersection(cells[ci], sec[si])) / grid.cell_m**2
    return out


def _sector_sums(grid: PoaGrid, sectors: gpd.GeoDataFrame) -> np.ndarray:
    """Each sector's POA: the sum of its cells' POA × share of each cell inside it."""
    out: np.ndarray = _sector_shares(grid, sectors) @ grid.cells["poa"].to_numpy(float)
    return out
