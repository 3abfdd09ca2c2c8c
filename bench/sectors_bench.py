"""Print how fast the sector geometry is: overlap checks, grids over London, imports.

    .venv/bin/python bench/sectors_bench.py [--quick] [--only-duplication]
        [--dup-sectors 10000]

* Overlap check of one new sector against 10,000 and 50,000 existing sectors:
  the STRtree query alone, the full check (query + exact intersections), and
  the same including building the index (what a check costs without a cached
  index). Target: the query well under 1 ms.
* Grid over all London (union of the 33 boroughs) at 250 m and 100 m, square
  and hexagonal, cut at BCU and force boundaries, then tagged with borough /
  BCU / force shares.
* Import of a 10,000-feature GeoJSON file, and the case duplication figure over
  10,000 searched sectors (``--dup-sectors`` or ``WAYHOME_BENCH_DUP_SECTORS``), timed
  back to back before (plain GEOS unions of everything, then the shapes: the previous
  method, kept here) and after (``geo.overlap.duplication``).

Figures only; no pass/fail. Sectors are random squares and circles of 50–600 m
across Greater London's bounding box, as a large multi-agency search might draw.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

import geopandas as gpd
import numpy as np
import shapely

from geo.boundaries import load_layer
from geo.crs import BNG, geoms_to_bng, geoms_to_lonlat
from geo.grid import make_grid
from geo.jurisdiction import Jurisdictions, cutting_areas
from geo.overlap import MIN_OVERLAP_M2, SectorIndex, duplication, find_overlaps
from geo.polygons import geoms_bng, polygonal_part
from geo.sector_files import read_sectors
from geo.shapes import repair


def timed(fn: Callable[[], object], repeat: int = 1) -> tuple[float, object]:
    """Median wall time in seconds over ``repeat`` runs, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), out


def random_sectors(n: int, seed: int = 1) -> gpd.GeoDataFrame:
    """``n`` sectors in lon/lat (as the store holds them) over London."""
    rng = np.random.default_rng(seed)
    x0, y0, x1, y1 = load_layer("borough").total_bounds
    x = rng.uniform(x0, x1, n)
    y = rng.uniform(y0, y1, n)
    size = rng.uniform(50, 600, n)
    squares = shapely.box(x, y, x + size, y + size)
    circles = shapely.buffer(shapely.points(x, y), size / 2, quad_segs=8)
    geoms = np.where(rng.random(n) < 0.5, squares, circles)
    status = rng.choice(["searched", "assigned", "in_progress", "draft", "needs_re_search"], n)
    return gpd.GeoDataFrame(
        {"id": [f"S{i}" for i in range(n)], "status": status,
         "re_search": rng.random(n) < 0.05},
        geometry=geoms_to_lonlat(geoms), crs=4326,
    )


def bench_overlaps(sizes: list[int]) -> None:
    print("\n== Overlap check: one new sector against the case's sectors ==")
    rng = np.random.default_rng(9)
    x0, y0, x1, y1 = load_layer("borough").total_bounds
    cx = rng.uniform(x0 + 2_000, x1 - 2_000, 200)
    cy = rng.uniform(y0 + 2_000, y1 - 2_000, 200)
    cands_bng = shapely.box(cx, cy, cx + 400, cy + 300)
    cands = geoms_to_lonlat(cands_bng)
    for n in sizes:
        sectors = random_sectors(n)
        t_build, index = timed(lambda s=sectors: SectorIndex(s), 3)
        t_query = []
        for c in cands_bng:
            t = time.perf_counter()
            index.query(c)
            t_query.append(time.perf_counter() - t)
        t_check, hits = [], []
        for c in cands:
            t = time.perf_counter()
            hits.append(len(index.overlaps(c)))
            t_check.append(time.perf_counter() - t)
        t_cold, _ = timed(lambda s=sectors: find_overlaps(cands[0], s), 3)
        print(f"{n:>6,} sectors: index build {t_build * 1e3:7.1f} ms | "
              f"query alone {statistics.median(t_query) * 1e3:.3f} ms (median of 200) | "
              f"full check {statistics.median(t_check) * 1e3:.3f} ms "
              f"(p95 {np.percentile(t_check, 95) * 1e3:.3f} ms, "
              f"{statistics.mean(hits):.1f} overlaps on average) | "
              f"check incl. index build {t_cold * 1e3:.1f} ms")


def bench_grids(cells: list[int]) -> None:
    print("\n== Grid over all London (union of the 33 boroughs), cut at BCU/force lines ==")
    t_area, london_bng = timed(lambda: shapely.union_all(load_layer("borough").geometry.values))
    london = geoms_to_lonlat(london_bng)
    print(f"London: {london_bng.area / 1e6:,.1f} km², union in {t_area:.2f} s")
    t_cut, cut = timed(cutting_areas)
    t_jur, jur = timed(Jurisdictions)
    print(f"cutting layer ({len(cut)} BCUs and forces) {t_cut:.2f} s; "
          f"jurisdiction layers prepared in {t_jur:.2f} s")
    for cell in cells:
        for shape in ("square", "hex"):
            t_plain, plain = timed(lambda c=cell, s=shape: make_grid(london, c, s))
            t_grid, grid = timed(lambda c=cell, s=shape: make_grid(london, c, s, cut_by=cut))
            t_tags, tags = timed(lambda g=grid: jur.tags(g))
            cover = shapely.union_all(repair(geoms_to_bng(np.asarray(grid.geometry.values))))
            diff = shapely.symmetric_difference(cover, geoms_to_bng(london)).area
            print(f"{cell:>4} m {shape:<6}: {len(plain):>7,} cells uncut in {t_plain:5.2f} s | "
                  f"{len(grid):>7,} cut at BCU/force lines in {t_grid:5.2f} s | "
                  f"tags in {t_tags:5.2f} s ({int(tags['straddles'].sum())} straddle) | "
                  f"total {t_grid + t_tags:5.2f} s | cover error {diff / london_bng.area:.1e}")


def _duplication_before(sectors: gpd.GeoDataFrame) -> tuple[float, float, float, float]:
    """The previous method: plain ``union_all`` of all searched ground, of the pairwise
    overlaps and of the deliberate ones, the accidental shape as a difference and both
    shapes back to lon/lat. Returns the four figures (m²)."""
    flag = sectors["re_search"].to_numpy() | (sectors["status"] == "needs_re_search").to_numpy()
    keep = sectors["status"].isin(["searched", "needs_re_search"]).to_numpy()
    geoms, flag = geoms_bng(sectors)[keep], flag[keep]
    searched = shapely.union_all(geoms).area
    left, right = shapely.STRtree(geoms).query(geoms, predicate="intersects")
    pair = left < right
    left, right = left[pair], right[pair]
    pieces = polygonal_part(shapely.intersection(geoms[left], geoms[right]))
    ok = ~shapely.is_missing(pieces)
    ok[ok] = shapely.area(pieces[ok]) >= MIN_OVERLAP_M2
    pieces, on_purpose = pieces[ok], (flag[left] | flag[right])[ok]
    repeated = shapely.union_all(pieces)
    deliberate = shapely.union_all(pieces[on_purpose])
    accidental = shapely.difference(repeated, deliberate)
    geoms_to_lonlat(np.array([deliberate, accidental], dtype=object))
    return searched, repeated.area, deliberate.area, repeated.area - deliberate.area


def bench_import_and_duplication(n: int, dup_n: int, *, only_duplication: bool = False
                                 ) -> None:
    print("\n== Import and duplication figure ==")
    if not only_duplication:
        sectors = random_sectors(n, seed=5)
        data = sectors.to_json().encode()
        t_read, _gdf = timed(lambda: read_sectors(("sectors.geojson", data)))
        print(f"read_sectors: {n:,} features ({len(data) / 1e6:.1f} MB GeoJSON) "
              f"in {t_read:.2f} s")
    # dup_n searched sectors (about 40 % of the random ones are searched)
    pool = random_sectors(3 * dup_n, seed=5)
    searched = pool[pool["status"].isin(["searched", "needs_re_search"])].head(dup_n)
    t_before, old = timed(lambda: _duplication_before(searched))
    c0 = time.process_time()
    t_dup, d = timed(lambda: duplication(searched))
    c_dup = time.process_time() - c0
    now = (d.searched_m2, d.repeated_m2, d.deliberate_m2, d.accidental_m2)
    worst = max(abs(a - b) for a, b in zip(old, now, strict=True))
    print(f"duplication over {len(searched):,} searched sectors: before {t_before:.2f} s, "
          f"after {t_dup:.2f} s ({c_dup:.2f} s cpu): {d.repeated_m2 / 1e6:.2f} km² "
          f"searched more than once ({d.deliberate_m2 / 1e6:.2f} deliberate, "
          f"{d.accidental_m2 / 1e6:.2f} accidental) of {d.searched_m2 / 1e6:.1f} km² searched; "
          f"largest difference from before {worst:.2e} m² (load average {os.getloadavg()[0]:.1f})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes for a smoke run")
    parser.add_argument("--only-duplication", action="store_true",
                        help="time the duplication figure only (before and after)")
    parser.add_argument("--dup-sectors", type=int,
                        default=int(os.environ.get("WAYHOME_BENCH_DUP_SECTORS", 10_000)))
    args = parser.parse_args()
    if args.only_duplication:
        bench_import_and_duplication(0, args.dup_sectors, only_duplication=True)
        return
    print(f"shapely {shapely.__version__} (GEOS {shapely.geos_version_string}), "
          f"{BNG} for all metric work")
    if args.quick:
        bench_overlaps([1_000])
        bench_grids([500])
        bench_import_and_duplication(1_000, 1_000)
    else:
        bench_overlaps([10_000, 50_000])
        bench_grids([250, 100])
        bench_import_and_duplication(10_000, args.dup_sectors)


if __name__ == "__main__":
    main()
