"""Does planning for a child who moves find more children? A simulation, told honestly.

Synthetic children start where the planner's prior says (the distance rings of an
11-year-old in an urban area, Koester 10-12) and then move under one of several
ground-truth models, some of which differ from the planner's. Two planners spend the same
fixed search budget each hour on the sectors with the highest POA:

* **stationary**: today's "where next" (Bayes update after each unsuccessful search);
* **moving**: the same, with ``geo.advance_poa`` between hours (default walk,
  leakage and jumps: it knows the one likely place the family named, and London's
  town centres and transport hubs within reach, ``data/places``);
* **moving, no place**: the same without the family's likely place (London's places
  only), which separates what the motion step is worth from what knowing the place
  is worth (today's stationary planner has no way to use a likely place at all);
* **walk only**: neither the likely place nor London's places (walk and leakage).

A planner's plan only depends on "not found yet", so each plan is computed once and
every child is checked against it (same children and same detection draws for both
planners, so the comparison is paired). Prints the share found and the mean time to
find, with 95 % confidence intervals.

Run: ``python bench/moving_target_sim.py [children per model] [seed]`` (quick setting:
5000 children; the default is 20,000).
Planning assumptions (not published figures): the budget, sector size and POD below;
no barriers (the synthetic children do not know the Thames either).
"""

from __future__ import annotations

import math
import sys
import time
from dataclasses import replace

import numpy as np

import geo
from geo.crs import bng_to_lonlat
from geo.probability import PoaGrid, initial_poa, update_poa_grid

HOURS = 12  # search hours after the search starts
TEAMS = 6  # sectors searched per hour (the budget: 72 sector-hours)
SECTOR_CELLS = 2  # a sector is 2 x 2 cells of 100 m (4 ha, about an hour for a small team)
POD = 0.5  # chance a search of the sector finds a child who is in it then
AGE = 11
LKP = (529_950.0, 184_950.0)  # BNG, north London (any urban point will do)
FRIEND = (LKP[0] + 2_000.0, LKP[1] + 1_500.0)  # the likely place the family named (2.5 km)


def plan(prior: PoaGrid, model: geo.MotionModel | None) -> list[set[tuple[int, int]]]:
    """The sectors searched each hour (sector index pairs), planning with ``model``."""
    grid, out = prior, []
    s = 100.0 * SECTOR_CELLS
    for _ in range(HOURS):
        b = grid.cells.geometry.bounds.to_numpy()
        sx = np.floor((b[:, 0] + 1) / s).astype(np.int64)
        sy = np.floor((b[:, 1] + 1) / s).astype(np.int64)
        keys = sx * 1_000_000 + sy
        uniq, inv = np.unique(keys, return_inverse=True)
        sector_poa = np.bincount(inv, weights=grid.cells["poa"].to_numpy())
        top = np.argsort(-sector_poa, kind="stable")[:TEAMS]
        out.append({(int(k // 1_000_000), int(k % 1_000_000)) for k in uniq[top]})
        pod = np.where(np.isin(inv, top), POD, 0.0)
        grid = update_poa_grid(grid, pod)
        if model is not None:
            grid = geo.advance_poa(grid, 1.0, model, centre=LKP)
    return out


def start_positions(prior: PoaGrid, n: int, rng: np.random.Generator
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Children drawn from the prior: cell by its POA, uniform inside; rest of the world = away."""
    p = np.append(prior.cells["poa"].to_numpy(), prior.rest_of_world)
    k = rng.choice(len(p), size=n, p=p / p.sum())
    away = k == len(p) - 1
    b = prior.cells.geometry.bounds.to_numpy()[np.minimum(k, len(p) - 2)]
    x = b[:, 0] + rng.random(n) * 100.0
    y = b[:, 1] + rng.random(n) * 100.0
    return x, y, away


def tracks(kind: str, model: geo.MotionModel, x0: np.ndarray, y0: np.ndarray, away0: np.ndarray,
           rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (HOURS, n) at the start of each search hour, and who has left the area."""
    n = len(x0)
    xs, ys, gone = np.empty((HOURS, n)), np.empty((HOURS, n)), np.empty((HOURS, n), bool)
    x, y, away = x0.copy(), y0.copy(), away0.copy()
    speed = model.walk_speed_ms * model.moving_share * 3600.0  # m per hour, heading somewhere
    for h in range(HOURS):
        xs[h], ys[h], gone[h] = x, y, away
        if kind == "stationary":
            continue
        if kind == "heads to the likely place":
            dx, dy = FRIEND[0] - x, FRIEND[1] - y
            d = np.hypot(dx, dy)
            step = np.minimum(d, speed)
            with np.errstate(invalid="ignore", divide="ignore"):
                x = np.where(d > 0, x + dx / d * step, x)
                y = np.where(d > 0, y + dy / d * step, y)
            continue
        sd = math.sqrt(model.spread_m2_per_hour()) * (2.0 if kind == "walks twice as fast" else 1.0)
        x = x + rng.normal(0.0, sd, n)
        y = y + rng.normal(0.0, sd, n)
        # jumps: to a place drawn by its share (the likely place, town centres, hubs)
        places = model.destinations_near(*LKP)
        share = places["share"].to_numpy()
        if model.jump_per_hour > 0 and share.sum() > 0:
            jump = rng.random(n) < model.jump_per_hour * share.sum()
            k = rng.choice(len(share), size=n, p=share / share.sum())
            x = np.where(jump, places["easting"].to_numpy()[k] + rng.uniform(-50, 50, n), x)
            y = np.where(jump, places["northing"].to_numpy()[k] + rng.uniform(-50, 50, n), y)
        away = away | (rng.random(n) < model.leak_per_hour)
    return xs, ys, gone


def search(plan_: list[set[tuple[int, int]]], xs: np.ndarray, ys: np.ndarray, gone: np.ndarray,
           draws: np.ndarray) -> np.ndarray:
    """Hour (1-based) each child is found, 0 if never."""
    n = xs.shape[1]
    found = np.zeros(n, np.int64)
    s = 100.0 * SECTOR_CELLS
    for h, sectors in enumerate(plan_):
        keys = np.floor(xs[h] / s).astype(np.int64) * 1_000_000 + np.floor(ys[h] / s).astype(
            np.int64)
        wanted = np.array([a * 1_000_000 + b for a, b in sectors], np.int64)
        hit = (found == 0) & ~gone[h] & np.isin(keys, wanted) & (draws[h] < POD)
        found[hit] = h + 1
    return found


def wilson(k: int, n: int) -> tuple[float, float]:
    z = 1.96
    p = k / n
    d = 1 + z * z / n
    c = (p + z * z / (2 * n)) / d
    h = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / d
    return c - h, c + h


def mean_ci(v: np.ndarray) -> str:
    if len(v) < 2:
        return "     n/a          "
    m, se = float(v.mean()), float(v.std(ddof=1) / math.sqrt(len(v)))
    return f"{m:5.2f} h [{m - 1.96 * se:4.2f}, {m + 1.96 * se:4.2f}]"


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 14
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    lon, lat = (float(v) for v in bng_to_lonlat(*LKP))
    prior = initial_poa(lat, lon, geo.distance_rings(AGE))
    planner = geo.MotionModel(barriers=(), destinations=((*FRIEND, 1.0),))
    plans = {"stationary POA": plan(prior, None), "moving POA": plan(prior, planner),
             "moving, no place": plan(prior, replace(planner, destinations=())),
             "walk only": plan(prior, replace(planner, destinations=(), places=False))}
    print(f"Children per ground truth: {n}; seed {seed}. Prior: urban age {AGE} rings, "
          f"{prior.rest_of_world:.1%} rest of world (never findable).")
    print(f"Budget: {TEAMS} sectors of {SECTOR_CELLS * 100} m an hour for {HOURS} h "
          f"({TEAMS * HOURS} sector-hours), POD {POD} per search. Planner's moving model: "
          + " ".join(planner.describe()) + f" Knows the likely place {2.5:g} km away; "
          f"{len(planner.destinations_near(*LKP)) - 1} London places within reach.")
    print(f"{'ground truth':28s} {'planner':15s} {'found [95% CI]':24s} "
          f"{'mean time to find [95% CI]':28s}")
    truths = {
        "stationary": planner,
        "the planner's walk": planner,
        "walks twice as fast": planner,
        "heads to the likely place": planner,
        "walk and London places": replace(planner, destinations=()),
        "walk, no places": replace(planner, jump_per_hour=0.0),
    }
    for kind, truth in truths.items():
        x0, y0, away = start_positions(prior, n, rng)
        walk_kind = "the planner's walk" if kind.startswith("walk") and kind != (
            "walks twice as fast") else kind
        xs, ys, gone = tracks(walk_kind, truth, x0, y0, away, rng)
        draws = rng.random((HOURS, n))
        res = {}
        for name, pl in plans.items():
            f = search(pl, xs, ys, gone, draws)
            res[name] = f
            k = int((f > 0).sum())
            lo, hi = wilson(k, n)
            print(f"{kind:28s} {name:15s} {k / n:6.1%} [{lo:5.1%}, {hi:5.1%}]   "
                  f"{mean_ci(f[f > 0].astype(float))}")
        b = (res["stationary POA"] > 0).astype(float)
        for name in ("moving POA", "moving, no place", "walk only"):
            d = (res[name] > 0).astype(float) - b
            se = float(d.std(ddof=1) / math.sqrt(n))
            print(f"{'':28s} {name + ' - stat.':24s} {d.mean():+6.1%} "
                  f"[{d.mean() - 1.96 * se:+5.1%}, {d.mean() + 1.96 * se:+5.1%}] (paired)")
    print(f"Ran in {time.perf_counter() - t0:.1f} s.")


if __name__ == "__main__":
    main()
