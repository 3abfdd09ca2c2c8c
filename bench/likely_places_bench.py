"""Prints how long ranking the likely places for a case takes (target: well under 100 ms).

A 12-year-old last known at Elephant & Castle: the first call (reads the place files
and builds the tree, once per process), then the median of repeated calls one hour
and six hours after (reach 4.3 km and the 95 % ring, 5.8 km, about 2,000 places).

Run: ``.venv/bin/python bench/likely_places_bench.py``. Figures only; nothing is asserted.
"""

from __future__ import annotations

import statistics
import time

import geo
from geo.places import ALL_KINDS

LON, LAT = -0.1006, 51.4946


def main() -> None:
    t = time.perf_counter()
    geo.likely_places(LON, LAT, 12, 3600)
    print(f"first call (loads {len(geo.load_places(ALL_KINDS)):,d} places, "
          f"builds the tree): {1e3 * (time.perf_counter() - t):.0f} ms")
    for hours in (1, 6):
        times = []
        for _ in range(20):
            t = time.perf_counter()
            res = geo.likely_places(LON, LAT, 12, hours * 3600)
            times.append(time.perf_counter() - t)
        full = geo.likely_places(LON, LAT, 12, hours * 3600, limit=0)
        print(f"{hours} h after: {len(full.places):,d} places within {res.reach_m:,.0f} m, "
              f"ranked top {len(res.places)} in {1e3 * statistics.median(times):.1f} ms "
              "(median of 20)")


if __name__ == "__main__":
    main()
