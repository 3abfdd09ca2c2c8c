"""Print what one new sighting costs an open case map with many sightings and tasks.

    .venv/bin/python bench/case_map_update_bench.py [--sightings 2000] [--tasks 500]

Builds a case in memory (N sightings in a walk across central London, a third of
them verified, and M enquiry tasks at premises) and measures the payloads the case
map sends when one sighting is added:

* **before** (until now): the case's layers were folium JavaScript passed as
  ``feature_group_to_add``; any change of it made Streamlit send the whole map
  component again: that JavaScript plus the London base map's script;
* **after** (small updates): the map component is sent unchanged (a reference)
  and the feed carries one message with the new sighting (``layer_feed``);
  also printed: the same for a task marked done, and the keyed layer's full
  draw (sent only when the view needs it).

Sizes are of the payload text, in bytes of UTF-8, before Streamlit's framing; the
browser journey in ``tests/browser/test_case_live.py`` checks the WebSocket
bytes of one new sighting stay small. Figures only; no pass/fail.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import shapely  # noqa: E402

from app_pages.widgets.layer_feed import live_layer_update  # noqa: E402
from app_pages.widgets.live_map import feature_groups_script, render_base  # noqa: E402
from layers.assets import asset_urls  # noqa: E402
from layers.basemap import base_map, parse_tiles  # noqa: E402
from layers.boundaries import load_boundary_set  # noqa: E402
from layers.case_features import case_features, live_case_layer  # noqa: E402
from layers.sightings import case_layers, rendezvous_layer  # noqa: E402
from layers.tasks import tasks_layer  # noqa: E402

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


@dataclasses.dataclass(frozen=True)
class Sighting:
    id: int
    lat: float
    lon: float
    seen_at: datetime
    status: str
    source: str = "public"
    confidence: str = "medium"
    reported_by: str = "A member of the public"
    description: str = "Child in a red coat, walking east with an adult"
    borough: str | None = "Lambeth"
    bcu: str | None = "South West"
    force: str | None = "Metropolitan Police Service"


@dataclasses.dataclass(frozen=True)
class Case:
    reference: str = "WH-2026-0001"
    ipp_lat: float = 51.4703
    ipp_lon: float = -0.1176
    home_lat: float | None = 51.4650
    home_lon: float | None = -0.1100


@dataclasses.dataclass(frozen=True)
class LastKnown:
    lat: float
    lon: float
    at: datetime | None
    kind: str
    sighting_id: int | None


@dataclasses.dataclass(frozen=True)
class Task:
    id: int
    number: int
    kind: str
    status: str
    title: str
    geometry: Any
    team_name: str | None = "Team Red"


@dataclasses.dataclass(frozen=True)
class Rendezvous:
    lat: float
    lon: float

    def text(self) -> str:
        return "Stockwell station, north entrance"


def kb(text: str) -> str:
    return f"{len(text.encode()) / 1e3:,.1f} kB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sightings", type=int, default=2000)
    parser.add_argument("--tasks", type=int, default=500)
    args = parser.parse_args()
    n, m = args.sightings, args.tasks
    sightings = [Sighting(i + 1, 51.46 + 0.00004 * i, -0.16 + 0.00006 * i,
                          NOW - timedelta(minutes=n - i),
                          "verified" if i % 3 == 0 else "unverified") for i in range(n)]
    tasks = [Task(i + 1, i + 1, "cctv", "planned", f"CCTV at shop {i}",
                  shapely.Point(-0.15 + 0.0001 * i, 51.47)) for i in range(m)]
    case, rv = Case(), Rendezvous(51.4723, -0.1228)
    last = sightings[(n - 1) // 3 * 3]
    lk = LastKnown(last.lat, last.lon, last.seen_at, "sighting", last.id)
    new = Sighting(n + 1, 51.50, -0.10, NOW, "unverified")

    def old_script(sightings: list[Sighting]) -> str:
        groups = case_layers(case, sightings, lk, now=NOW)
        return feature_groups_script([*groups, rendezvous_layer(rv), tasks_layer(tasks)])

    base = render_base(base_map(load_boundary_set(REPO / "static"), asset_urls(""),
                                parse_tiles("none"))).script
    t0 = time.perf_counter()
    before = old_script([*sightings, new])
    t_old = time.perf_counter() - t0
    print(f"case map with {n:,} sightings and {m:,} tasks")
    print(f"before: one new sighting -> the case layers' JavaScript {kb(before)} plus the "
          f"base map's script {kb(base)}: {kb(before + base)} sent again "
          f"(layers built in {t_old:.2f} s)")

    def feats(ss: list[Sighting], ts: list[Task]) -> dict[str, dict[str, Any]]:
        return case_features(case, ss, lk, rendezvous=rv, tasks=ts, now=NOW)

    first = live_layer_update(None, feats(sightings, tasks), live_case_layer, version=1,
                              view="v", layer="case")
    assert first.group is not None
    full = feature_groups_script([first.group])
    t0 = time.perf_counter()
    added = live_layer_update(first, feats([*sightings, new], tasks), live_case_layer,
                              version=2, view="v", layer="case")
    t_new = time.perf_counter() - t0
    message = json.dumps(added.message, separators=(",", ":"))
    print(f"after:  one new sighting -> a message of {kb(message)} "
          f"({len(added.message['upsert'])} mark added or changed; worked out in "
          f"{t_new:.2f} s); the map component is not sent again")
    done = [dataclasses.replace(tasks[0], status="done"), *tasks[1:]]
    closed = live_layer_update(added, feats([*sightings, new], done), live_case_layer,
                               version=3, view="v", layer="case")
    print(f"        one task marked done -> a message of "
          f"{kb(json.dumps(closed.message, separators=(',', ':')))}")
    print(f"        full draw of the keyed layer (first load, the dismissed toggle, a clicked "
          f"place, a map that missed a change): {kb(full)} plus the base map")


if __name__ == "__main__":
    main()
