"""Print how fast streets load and street-bounded sectors are made, on the real fixtures.

    .venv/bin/python bench/streets_bench.py [--extract PATH] [--repeat N]

* ``geo.read_streets`` on the largest fixture (``st_georges_cycletrack.osm``, XML) and
  on the merged PBF: time, lines kept, file size.
* ``wayhome streets import`` end to end (read + store) into a fresh SQLite store in
  a temporary folder, and into PostgreSQL when ``DATABASE_URL`` is set (that
  database's ``street_lines`` table is replaced): time and stored size.
* ``geo.street_sectors`` for a 2 km radius round a Southwark point (Elephant &
  Castle, 51.4965 N 0.1010 W) at 10 ha and 2 ha targets, and a 300 m radius at
  2 ha: time, sectors, how many fall under a quarter of the target.
* ``geo.postcode_sectors`` (the fallback when no extract is loaded: postcode-unit
  cells cut at wards and BCU/force lines) for the same 2 km radius at 10 ha and 2 ha.
* ``geo.street_tiles``: cutting the streets into the street layer's map tiles.

With ``--extract PATH`` (e.g. Geofabrik's ``greater-london-latest.osm.pbf``, which
a user downloads themselves; nothing is downloaded here) the read and import are
also timed on that file, and the 2 km sectoring uses its streets.

Figures only; no pass/fail. The machine may be shared: say so when quoting them.
"""

from __future__ import annotations

import argparse
import io
import os
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd

from casefile import open_store
from geo.jurisdiction import cutting_areas
from geo.postcode_sectors import postcode_sectors
from geo.shapes import circle
from geo.street_sectors import street_sectors
from geo.street_tiles import street_tiles
from geo.streets import read_streets
from wayhome.streets_import import import_streets

DATA = Path(__file__).resolve().parent.parent / "data" / "streets"
LARGEST = DATA / "st_georges_cycletrack.osm"
MERGED = DATA / "southwark_lambeth.osm.pbf"
POINT = (51.4965, -0.1010)  # Elephant & Castle, Southwark


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    """Median wall time in seconds over ``repeat`` runs, and the last result."""
    times, out = [], None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def bench_read(path: Path, repeat: int) -> gpd.GeoDataFrame:
    seconds, frame = timed(lambda: read_streets(path), repeat)
    assert isinstance(frame, gpd.GeoDataFrame)
    print(f"read_streets {path.name}: {path.stat().st_size / 1e3:,.0f} kB -> {len(frame):,} "
          f"lines ({int(frame['major'].sum()):,} major) in {seconds * 1e3:,.0f} ms")
    return frame


def bench_import(path: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        store = open_store(f"sqlite:///{tmp}/bench.sqlite3")
        try:
            out = io.StringIO()
            t0 = time.perf_counter()
            import_streets(store, path, out)
            seconds = time.perf_counter() - t0
        finally:
            store.close()
        stored = sum(p.stat().st_size for p in Path(tmp, "streets").glob("*"))
        print(f"streets import {path.name} -> SQLite (GeoParquet, BNG): {seconds:.2f} s, "
              f"stored {stored / 1e3:,.0f} kB")
    url = os.environ.get("DATABASE_URL") or os.environ.get("WAYHOME_DATABASE_URL")
    if url:
        store = open_store(url)
        try:
            t0 = time.perf_counter()
            import_streets(store, path, io.StringIO())
            print(f"streets import {path.name} -> PostgreSQL (street_lines): "
                  f"{time.perf_counter() - t0:.2f} s")
        finally:
            store.close()


def bench_sectors(streets: gpd.GeoDataFrame, radius_m: float, target_m2: float,
                  repeat: int) -> None:
    area = circle(*POINT, radius_m)
    seconds, made = timed(lambda: street_sectors(area, streets, target_m2), repeat)
    assert isinstance(made, gpd.GeoDataFrame)
    small = int((made["area_m2"] < target_m2 / 4).sum())
    named = int((made["name"] != "no named streets").sum())
    print(f"street_sectors r={radius_m:,.0f} m target {target_m2 / 1e4:g} ha: "
          f"{seconds * 1e3:,.0f} ms, {len(made):,} sectors ({named:,} named by streets, "
          f"{small:,} under a quarter of the target), largest "
          f"{made['area_m2'].max() / target_m2:.2f} x target")


def bench_postcode_cells(radius_m: float, target_m2: float, repeat: int) -> None:
    area = circle(*POINT, radius_m)
    cut = cutting_areas()
    seconds, made = timed(lambda: postcode_sectors(area, target_m2, cut_by=cut), repeat)
    assert isinstance(made, gpd.GeoDataFrame)
    small = int((made["area_m2"] < target_m2 / 4).sum())
    print(f"postcode_sectors r={radius_m:,.0f} m target {target_m2 / 1e4:g} ha (cut at "
          f"BCU/force lines): {seconds * 1e3:,.0f} ms, {len(made):,} sectors "
          f"({int(made['postcodes'].sum()):,} postcodes, {small:,} under a quarter of the "
          f"target), largest {made['area_m2'].max() / target_m2:.2f} x target")


def bench_tiles(streets: gpd.GeoDataFrame, repeat: int) -> None:
    seconds, tiles = timed(lambda: street_tiles(streets), repeat)
    assert isinstance(tiles, list)
    sizes = [len(t.body) for t in tiles]
    print(f"street_tiles {len(streets):,} lines: {seconds * 1e3:,.0f} ms, {len(tiles):,} "
          f"tiles, {sum(sizes) / 1e3:,.0f} kB in all, largest {max(sizes or [0]) / 1e3:,.0f} kB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--extract", type=Path, default=None,
                        help="also time a large extract you have (e.g. Greater London .osm.pbf)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    bench_read(LARGEST, args.repeat)
    streets = bench_read(MERGED, args.repeat)
    bench_import(LARGEST)
    if args.extract is not None:
        streets = bench_read(args.extract, 1)
        bench_import(args.extract)
    for radius, target in ((2_000, 100_000), (2_000, 20_000), (300, 20_000)):
        bench_sectors(streets, radius, target, args.repeat)
    for target in (100_000, 20_000):
        bench_postcode_cells(2_000, target, args.repeat)
    bench_tiles(streets, args.repeat)


if __name__ == "__main__":
    main()
