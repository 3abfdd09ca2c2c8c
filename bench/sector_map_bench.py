"""Print what a map of many sectors costs: time to build the layer and bytes sent.

    .venv/bin/python bench/sector_map_bench.py [--sectors 5000]

Builds a square grid of 120 m cells over central London (about 5,000 cells,
a large multi-agency search), gives them mixed statuses, teams and straddle
flags, and measures:

* the time to build the sectors layer (``layers.sectors.sectors_layer``) and to
  render it as the JavaScript ``st_folium`` sends in ``feature_group_to_add``;
* the size of that JavaScript (what one change of the sectors costs on the
  wire; the base map is sent once and stays mounted);
* the same for hexagonal cells (more vertices per sector).

The layer switches to Leaflet's canvas renderer from ``CANVAS_FROM`` sectors
on, so the browser draws one canvas instead of thousands of SVG paths; the
bytes are the same either way. Figures only; no pass/fail.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass, field

import shapely

from app_pages.widgets.live_map import feature_groups_script
from geo.grid import make_grid
from layers.sectors import CANVAS_FROM, SECTOR_STYLES, sectors_layer

STATUSES = list(SECTOR_STYLES)


@dataclass(frozen=True)
class Sec:
    id: int
    code: str
    name: str
    status: str
    geometry: object
    team_id: int | None
    straddles_bcu: bool = False
    straddles_force: bool = False
    area_m2: float = 0.0
    jurisdiction: dict = field(default_factory=dict)


def sectors(n: int, shape: str) -> list[Sec]:
    # central London box; the cell size is chosen to give about n cells
    area = shapely.box(-0.20, 51.47, -0.02, 51.55)
    cell = 120.0 * (5000 / n) ** 0.5
    grid = make_grid(area, cell, shape=shape).head(n)
    out = []
    for i, (cid, geom, m2) in enumerate(zip(grid["id"], grid.geometry, grid["area_m2"],
                                            strict=True)):
        out.append(Sec(
            id=i + 1,
            code=f"S{i + 1}",
            name=f"Grid {cid}",
            status=STATUSES[i % len(STATUSES)],
            geometry=geom,
            team_id=(i % 12) + 1 if i % 3 else None,
            straddles_bcu=i % 17 == 0,
            area_m2=float(m2),
            jurisdiction={"bcu": [{"code": "E23000031", "name": "Central West", "share": 1.0}]},
        ))
    return out


def measure(n: int, shape: str) -> None:
    items = sectors(n, shape)
    teams = {i: f"Team {i}" for i in range(1, 13)}
    t0 = time.perf_counter()
    group = sectors_layer(items, teams)
    t1 = time.perf_counter()
    script = feature_groups_script([group])
    t2 = time.perf_counter()
    vertices = int(sum(shapely.get_num_coordinates(s.geometry) for s in items))
    print(
        f"{len(items):>6,} {shape:<6} sectors ({vertices:,} vertices): "
        f"layer built in {1000 * (t1 - t0):,.0f} ms, rendered in {1000 * (t2 - t1):,.0f} ms; "
        f"feature_group_to_add JavaScript {len(script.encode()) / 1e6:,.2f} MB "
        f"({'canvas' if len(items) >= CANVAS_FROM else 'SVG'} renderer)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sectors", type=int, default=5000)
    args = parser.parse_args()
    for shape in ("square", "hex"):
        measure(args.sectors, shape)
    measure(500, "square")


if __name__ == "__main__":
    main()
