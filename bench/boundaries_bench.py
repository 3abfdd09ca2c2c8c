"""Print figures for the boundary layers and geo.locate.

    .venv/bin/python bench/boundaries_bench.py

* size of every committed output file (full GeoParquet, display GeoJSON, postcodes);
* vertex counts, full vs display, and the worst display-vs-full distance the build
  measured (from ``layers.json``);
* the three first-load display layers (boroughs, BCUs, forces) as GeoJSON text, and
  as a plain ``folium.GeoJson`` map page with name/code tooltips (target <= 1 MB);
* ``locate_many`` throughput for 100,000 random points over London and its edge,
  and for every London postcode, plus the share of postcodes that land in the
  borough Code-Point Open gives them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geo.boundaries import (  # noqa: E402
    LAYERS,
    display_layer,
    display_path,
    layer_info,
    load_layer,
    locate_many,
)
from vocab import settings  # noqa: E402

FIRST_LOAD = ("borough", "bcu", "force")


def kb(n: int) -> str:
    return f"{n:>11,} B"


def files() -> None:
    print("Output files")
    root = settings.BOUNDARIES_DIR
    total = 0
    paths = [*sorted((root / "full").glob("*.parquet")), *sorted((root / "display").glob("*")),
             root / "layers.json", Path(settings.POSTCODES_FILE)]
    for p in paths:
        size = p.stat().st_size
        total += size
        name = p.relative_to(REPO) if p.is_relative_to(REPO) else p.name
        print(f"  {name!s:45s} {kb(size)}")
    print(f"  {'total':45s} {kb(total)}")


def vertices() -> None:
    print("\nVertices (full -> display) and worst display-vs-full distance")
    for name in LAYERS:
        info = layer_info(name)
        full = int(shapely.get_num_coordinates(load_layer(name).geometry.values).sum())
        feats = display_layer(name)["features"]
        shown = sum(
            int(shapely.get_num_coordinates(shapely.from_geojson(json.dumps(f["geometry"]))))
            for f in feats
        )
        print(f"  {name:14s} {len(feats):4d} features  {full:>8,d} -> {shown:>7,d} vertices"
              f"  ({info['display_geometry']}, max {info['display_max_distance_m']} m)")


def first_load() -> None:
    import folium

    print("\nFirst map load (boroughs + BCUs + forces)")
    text = sum(display_path(n).stat().st_size for n in FIRST_LOAD)
    compact = sum(len(json.dumps(display_layer(n), separators=(",", ":"))) for n in FIRST_LOAD)
    m = folium.Map(location=[51.5, -0.12], zoom_start=10, tiles=None)
    for n in FIRST_LOAD:
        folium.GeoJson(display_layer(n), name=n,
                       tooltip=folium.GeoJsonTooltip(["name", "code"])).add_to(m)
    html = len(m.get_root().render().encode())
    print(f"  GeoJSON files                          {kb(text)}")
    print(f"  GeoJSON text (compact json.dumps)      {kb(compact)}")
    print(f"  plain folium page with tooltips        {kb(html)}  (target <= 1,000,000 B)")
    for n in ("ward", "neighbourhood"):
        print(f"  lazy {n:14s} GeoJSON file     {kb(display_path(n).stat().st_size)}")


def throughput() -> None:
    print("\nlocate_many throughput")
    load_layer("ward"), load_layer("borough"), load_layer("force")
    rng = np.random.default_rng(1)
    n = 100_000
    lats = 51.5 + rng.uniform(-0.35, 0.35, n)
    lons = -0.12 + rng.uniform(-0.6, 0.6, n)
    t = time.perf_counter()
    got = locate_many(lats, lons)
    dt = time.perf_counter() - t
    print(f"  {n:,d} random points around London: {dt:.2f} s  ({n / dt:,.0f} points/s); "
          f"{got['borough'].notna().mean():.1%} in a borough, "
          f"{got['force'].notna().mean():.1%} in a force")
    pc = pd.read_csv(settings.POSTCODES_FILE, engine="pyarrow")
    t = time.perf_counter()
    got = locate_many(pc["lat"].to_numpy(), pc["lon"].to_numpy())
    dt = time.perf_counter() - t
    agree = (got["borough_code"].to_numpy() == pc["borough_code"].to_numpy()).mean()
    city = pc["borough_code"].to_numpy() == "E09000001"
    city_ok = (got["force"].to_numpy()[city] == "City of London Police").mean()
    print(f"  {len(pc):,d} London postcodes: {dt:.2f} s; borough agrees with Code-Point "
          f"for {agree:.4%}; City postcodes in City of London Police: {city_ok:.2%}")
    t = time.perf_counter()
    from geo import locate

    for _ in range(200):
        locate(51.5014, -0.1419)
    print(f"  single locate(): {(time.perf_counter() - t) / 200 * 1000:.1f} ms per call")


if __name__ == "__main__":
    files()
    vertices()
    first_load()
    throughput()
