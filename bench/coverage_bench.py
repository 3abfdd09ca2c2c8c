"""Prints how long the search-science computations take at a large search's scale.

* effort coverage and swept ground for 1,000 tracks (1,000,000 points in all) over
  5,000 sectors (a 71 × 71 block of 250 m squares over central London);
* initial POA from rings and one Bayesian update over a 100 m grid of a 10 km radius;
* sector POA and ranking over that grid.

The reference (first "before") also measures effort the previous way, a GEOS
overlay for every track piece crossing a sector's edge; the largest difference in
effort from it is printed.

Run: ``.venv/bin/python bench/coverage_bench.py [--tracks 1000] [--points 1000]
[--only-coverage]`` (or ``WAYHOME_BENCH_TRACKS`` / ``WAYHOME_BENCH_POINTS``; e.g.
``--tracks 100`` for a quick run). Coverage is timed three times, back to back: before (swept
ground exactly per sector, the reference), before (scanlines with the previous settings:
rows every twentieth of W, pieces of 256 vertices) and after (the default), with the
largest difference in swept ground from the exact one.
Figures only; nothing is asserted. On a shared machine, read them with its load.
"""

from __future__ import annotations

import argparse
import os
import time

import geopandas as gpd
import numpy as np
import shapely

import geo
import geo.coverage as coverage
from geo.probability import initial_poa, override_rings, sector_poa, update_poa_grid

X0, Y0 = 525_000.0, 175_000.0  # BNG, central London
SIDE = 250.0


def _sectors(n_side: int = 71, limit: int = 5000) -> gpd.GeoDataFrame:
    ix, iy = np.meshgrid(np.arange(n_side), np.arange(n_side))
    x, y = X0 + ix.ravel()[:limit] * SIDE, Y0 + iy.ravel()[:limit] * SIDE
    return gpd.GeoDataFrame({"id": [f"S{i}" for i in range(len(x))]},
                            geometry=shapely.box(x, y, x + SIDE, y + SIDE), crs="EPSG:27700")


def _tracks(n_tracks: int = 1000, n_points: int = 1000, seed: int = 1) -> gpd.GeoDataFrame:
    """Random walks at ~1.2 m/s sampled every 5 s (6 m steps) with a drifting heading."""
    rng = np.random.default_rng(seed)
    extent = 71 * SIDE
    start = rng.uniform(0.1 * extent, 0.9 * extent, size=(n_tracks, 2)) + np.array([X0, Y0])
    heading = np.cumsum(rng.normal(0, 0.3, size=(n_tracks, n_points)), axis=1)
    step = np.stack([np.cos(heading), np.sin(heading)], axis=-1) * 6.0
    xy = start[:, None, :] + np.cumsum(step, axis=1)
    lines = shapely.linestrings(xy.reshape(-1, 2), indices=np.repeat(np.arange(n_tracks),
                                                                       n_points))
    return gpd.GeoDataFrame({"searchers": rng.integers(1, 6, n_tracks)}, geometry=lines,
                            crs="EPSG:27700").to_crs("EPSG:4326")


FIGURES: dict[str, tuple[float, float]] = {}
#: the scanline settings before rows went to a tenth of W (timed as a second "before")
PREVIOUS_SCAN = {"SCAN_PIECE_VERTICES": 256, "SCAN_ROW_SHARE": 1 / 20, "SCAN_ROW_MAX_M": 2.0}


def _time(label: str, fn):
    """Run ``fn``; print wall-clock and CPU seconds (CPU counts every thread)."""
    t, c = time.perf_counter(), time.process_time()
    out = fn()
    wall, cpu = time.perf_counter() - t, time.process_time() - c
    FIGURES[label] = (wall, cpu)
    print(f"{label:<58} {wall:7.2f} s wall {cpu:7.2f} s cpu")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tracks", type=int, default=int(os.environ.get("WAYHOME_BENCH_TRACKS",
                                                                        1000)))
    ap.add_argument("--points", type=int, default=int(os.environ.get("WAYHOME_BENCH_POINTS",
                                                                        1000)))
    ap.add_argument("--only-coverage", action="store_true",
                    help="time track_coverage only (before and after), not the POA figures")
    args = ap.parse_args()
    sectors = _sectors()
    tracks = _tracks(args.tracks, args.points)
    n_pts = int(shapely.get_num_coordinates(tracks.geometry.to_numpy()).sum())
    print(f"{len(tracks)} tracks, {n_pts:,} points; {len(sectors)} sectors of {SIDE:g} m; "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    # the reference: swept ground exact per sector, and effort by a GEOS overlay for
    # every piece crossing a sector's edge (as before geo.clip_length)
    clip = coverage.lengths_inside
    coverage.lengths_inside = lambda lines, polys, a, b: np.full(len(a), np.nan)
    try:
        before = _time("BEFORE track_coverage, swept ground exact per sector",
                       lambda: geo.track_coverage(tracks, sectors, 40, exact_swept=True))
    finally:
        coverage.lengths_inside = clip
    tuned = {k: getattr(coverage, k) for k in PREVIOUS_SCAN}
    for k, v in PREVIOUS_SCAN.items():
        setattr(coverage, k, v)
    try:
        _time("BEFORE track_coverage, previous scanline settings",
              lambda: geo.track_coverage(tracks, sectors, 40))
    finally:
        for k, v in tuned.items():
            setattr(coverage, k, v)
    table = _time("track_coverage (effort + swept ground), lon/lat tracks",
                  lambda: geo.track_coverage(tracks, sectors, 40))
    diff = np.abs(table["swept_m2"] - before["swept_m2"]).to_numpy()
    print(f"  sectors with effort: {(table['length_m'] > 0).sum()}, "
          f"mean POD there {table.loc[table['length_m'] > 0, 'pod'].mean():.3f}; "
          f"swept ground {table['swept_m2'].sum() / 1e6:,.3f} km² after vs "
          f"{before['swept_m2'].sum() / 1e6:,.3f} km² before; largest sector difference "
          f"{diff.max():,.1f} m² ({diff.max() / SIDE**2:.3%} of a sector); largest effort "
          f"difference {np.abs(table['length_m'] - before['length_m']).max():.1e} m")
    cov0 = FIGURES["BEFORE track_coverage, swept ground exact per sector"]
    cov = FIGURES["track_coverage (effort + swept ground), lon/lat tracks"]
    prev = FIGURES["BEFORE track_coverage, previous scanline settings"]
    if args.only_coverage:
        print(f"\nIssue figures: coverage of {len(tracks):,} tracks ({n_pts:,} points) over "
              f"{len(sectors):,} sectors: exact {cov0[0]:.1f} s wall ({cov0[1]:.1f} s cpu), "
              f"previous scanlines {prev[0]:.1f} s wall ({prev[1]:.1f} s cpu), "
              f"after {cov[0]:.1f} s wall ({cov[1]:.1f} s cpu); load average "
              f"{os.getloadavg()[0]:.1f}.")
        return

    rings = override_rings(760, 3000, 12000, 120000)  # 13+ urban scale
    grid = _time("initial POA from rings, 100 m grid, 10 km radius",
                 lambda: initial_poa(51.5072, -0.1276, rings, radius_m=10_000))
    print(f"  cells: {len(grid.cells):,}; rest of world {grid.rest_of_world:.4f}")
    from geo.gaps import pass_cell_pod

    near = _tracks(100, 1000, seed=3)
    near["geometry"] = near.to_crs("EPSG:27700").translate(
        530_000 - X0 - 8_875, 180_000 - Y0 - 8_875).to_crs("EPSG:4326")
    _time("per-cell POD of a pass: 100 tracks (100k points), every cell",
          lambda: pass_cell_pod(near, grid, 40))
    pod = np.random.default_rng(2).uniform(0, 0.8, len(grid.cells))
    new = _time("POA update (Bayes) over every cell", lambda: update_poa_grid(grid, pod))
    print(f"  total after update {new.cells['poa'].sum() + new.rest_of_world:.12f}")
    d = grid.to_dict()
    searched = list(grid.cells["cell"])
    _time("POA update, dict form (update_poa) over every cell",
          lambda: geo.update_poa(d, searched, dict(zip(searched, pod, strict=True))))
    big = _sectors(71, 5000)
    big["geometry"] = big.geometry.translate(530_000 - X0 - 8_875, 180_000 - Y0 - 8_875)
    _time("sector POA + density ranking, 5,000 sectors", lambda: sector_poa(grid, big))
    from geo.probability import apply_passes

    rng = np.random.default_rng(4)
    ids = list(grid.cells["cell"])
    sparse = [{ids[j]: float(rng.uniform(0.1, 0.8)) for j in rng.choice(len(ids), 25)}
              for _ in range(200)]
    _time("POA rebuilt from the prior with 200 passes (sparse)", lambda: apply_passes(d, sparse))
    upd = FIGURES["POA update (Bayes) over every cell"]
    print(f"\nIssue figures: coverage of {len(tracks):,} tracks ({n_pts:,} points) over "
          f"{len(sectors):,} sectors: before {cov0[0]:.1f} s wall ({cov0[1]:.1f} s cpu), after "
          f"{cov[0]:.1f} s wall ({cov[1]:.1f} s cpu); POA update over a 100 m grid of a "
          f"10 km radius ({len(grid.cells):,} cells) {upd[0] * 1000:.0f} ms wall.")


if __name__ == "__main__":
    main()
