"""Print what one sector change costs a team lead's open phone, in a case of many sectors.

    .venv/bin/python bench/team_phone_update_bench.py [--sectors 2000] [--mine 150]

Starts the app on a fresh SQLite store with the demo case plus a grid of N sectors
(120 m squares at 5,000, over central London, saved through the store), M of them
(one block in the middle) assigned to one team, whose lead's private link is
opened in headless Chromium at phone size (390×844). The bytes the page's
WebSocket receives are counted:

* **after** (small updates): the coordinator starts one of the team's sectors,
  five times in turn; bytes received from each save until the phone's map has
  applied it (the page runs again, so its cards' changes count too; an idle
  poll's bytes are printed beside it), and the browser's time to apply it;
* **before** (every change until now): the map component sent again with every
  layer. The page still does exactly that when a full redraw is needed, so it is
  measured by making the map ask for one (the feed's "missed"): bytes received,
  and the time until the new full draw is on the map.

Also prints, without a browser, the sizes of the phone's layers as the page sent
them before (folium layers) and now (keyed layers' full draw), and of one
change's message. Figures only; no pass/fail.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import shapely  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from app_pages.widgets.layer_feed import live_layers_update  # noqa: E402
from app_pages.widgets.live_map import feature_groups_script  # noqa: E402
from casefile import NewSector, open_store  # noqa: E402
from geo.grid import make_grid  # noqa: E402
from layers.case_features import field_marks, live_case_layer  # noqa: E402
from layers.sectors import (  # noqa: E402
    hazards_layer,
    live_neighbours_layer,
    live_sectors_layer,
    neighbour_features,
    neighbours_layer,
    sector_features,
    sectors_layer,
)
from layers.sightings import last_known_layer, rendezvous_layer, sightings_layer  # noqa: E402
from layers.tasks import tasks_layer  # noqa: E402
from tests.browser.conftest import CHROMIUM, MAP_IFRAME, start_app, wait_for_app_run  # noqa: E402
from wayhome.demo import load_demo  # noqa: E402

PASSWORD = "team phone bench password"
FRAME = MAP_IFRAME  # the page titles its map frame by what it shows


def make_case(url: str, n: int, mine: int) -> tuple[str, list[int]]:
    """The demo case plus ``n`` sectors, ``mine`` of them the team's; (team link token,
    ids of five of the team's sectors to start)."""
    store = open_store(url)
    demo = load_demo(store, password=PASSWORD)
    me = store.authenticate("demo.coordinator", PASSWORD)
    area = shapely.box(-0.20, 51.47, -0.02, 51.55)
    grid = make_grid(area, 120.0 * (5000 / n) ** 0.5, shape="square").head(n)
    t0 = time.perf_counter()
    made = []
    geoms = list(grid.geometry)
    for k in range(0, len(geoms), 500):
        made += store.create_sectors(me, demo.case_id, [
            NewSector(geometry=g, name=f"Grid {k + i}") for i, g in enumerate(geoms[k:k + 500])])
    team = store.create_team(me, demo.case_id, name="Bench team", org_type="met_bcu")
    ours = []
    middle = len(made) // 2 - mine // 2
    for s in made[middle:middle + mine]:
        ours.append(store.assign_sector(me, s.id, team.id, version=s.version).id)
    link = store.issue_link(me, demo.case_id, role="team_lead", label="Bench lead",
                            team_id=team.id)
    print(f"case: {len(made):,} sectors, {len(ours)} of them the team's, saved in "
          f"{time.perf_counter() - t0:.0f} s")
    store.close()
    return link.token, ours[len(ours) // 2:len(ours) // 2 + 5]


def sizes_without_browser(url: str, token: str) -> None:
    """The phone's layers before and after, and one change's message (bytes of UTF-8)."""
    store = open_store(url)
    link = store.open_link(token)  # the phone's own reads, as the page makes them
    actor, case_id = link.actor, link.case_id
    mine = store.team_sectors(actor, case_id)
    near = store.team_neighbours(actor, case_id)
    hazards = store.team_hazards(actor, case_id)
    seen = store.shared_sightings(actor, case_id)
    lk = store.team_last_known(actor, case_id)
    meet = store.rendezvous(actor, case_id)
    tasks = store.team_tasks(actor, case_id)
    store.close()
    before = feature_groups_script([
        neighbours_layer(near), hazards_layer(hazards), sectors_layer(mine, {}),
        sightings_layer(seen, show_dismissed=False, always_day=True), tasks_layer(tasks),
        *([last_known_layer(lk, always_day=True)] if lk is not None else []),
        rendezvous_layer(meet)])

    def layers(sectors):
        return {
            "neighbours": ({f["properties"]["k"]: f for f in neighbour_features(near)},
                           live_neighbours_layer),
            "sectors": ({f["properties"]["k"]: f for f in sector_features(sectors, {})},
                        live_sectors_layer),
            "marks": (field_marks(seen, lk, rendezvous=meet, tasks=tasks), live_case_layer)}

    first = live_layers_update(None, layers(mine), version=1, view="v")
    full = feature_groups_script([u.group for u in first.values()])
    moved = list(mine)
    moved[3] = dataclasses.replace(moved[3], status="in_progress")
    second = live_layers_update(first, layers(moved), version=2, view="v")
    message = json.dumps({"layers": [u.message for u in second.values()]},
                         separators=(",", ":"))
    print(f"layers of the phone ({len(mine)} own sectors, about {len(near)} neighbours): "
          f"folium layers {len(before.encode()) / 1e3:,.1f} kB (sent on every change "
          f"before); keyed full draw {len(full.encode()) / 1e3:,.1f} kB (first load only); "
          f"one sector's new status: a {len(message.encode()):,}-byte message")


def received(frames: list[tuple[float, int]], start: float, end: float) -> int:
    return sum(size for at, size in frames if start <= at <= end)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sectors", type=int, default=2000)
    parser.add_argument("--mine", type=int, default=150)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="wayhome-bench-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    token, targets = make_case(url, args.sectors, args.mine)
    sizes_without_browser(url, token)
    server = start_app({"WAYHOME_DATABASE_URL": url, "WAYHOME_TILES": "none"})
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_context(viewport={"width": 390, "height": 844},
                                       device_scale_factor=2, is_mobile=True,
                                       has_touch=True).new_page()
            frames: list[tuple[float, int]] = []
            page.on("websocket", lambda ws: ws.on(
                "framereceived", lambda p: frames.append((time.monotonic(), len(p)))))
            t0 = time.monotonic()
            page.goto(f"{server.url}/?link={token}")
            page.frame_locator(FRAME).locator("#map_div.leaflet-container").wait_for(
                timeout=120_000)
            leaflet = next(f for f in page.frames if "streamlit_folium" in f.url)
            leaflet.wait_for_function(
                "() => window.wayhomeLive && window.wayhomeLive.version('sectors')",
                timeout=180_000)
            print(f"team phone: map drawn {time.monotonic() - t0:.1f} s after opening the link")
            wait_for_app_run(page)
            page.wait_for_timeout(3_000)
            t_idle = time.monotonic()
            page.wait_for_timeout(20_000)
            idle = received(frames, t_idle, time.monotonic()) / 2

            store = open_store(url)
            me = store.authenticate("demo.coordinator", PASSWORD)
            sizes, apply_ms, seen, biggest = [], [], [], []
            for sid in targets:
                sector = store.get_sector(me, sid)
                applied = leaflet.evaluate("() => window.wayhomeLive.stats.applied")
                start = time.monotonic()
                store.start_sector(me, sid, version=sector.version)
                leaflet.wait_for_function(
                    f"() => window.wayhomeLive.stats.applied > {applied} && "
                    "window.wayhomeLive.stats.redrawn === 1", timeout=60_000)
                end = time.monotonic()
                wait_for_app_run(page)
                sizes.append(received(frames, start, time.monotonic()))
                biggest.append(max(n for at, n in frames if start <= at))
                apply_ms.append(leaflet.evaluate("() => window.wayhomeLive.stats.lastApplyMs"))
                seen.append(end - start)
            store.close()
            print(f"after:  one sector started ({len(sizes)} in turn) -> median "
                  f"{statistics.median(sizes) / 1e3:,.1f} kB over the WebSocket, max "
                  f"{max(sizes) / 1e3:,.1f} kB (the whole page's run; idle: "
                  f"{idle / 1e3:,.1f} kB per 10 s); largest single message: median "
                  f"{statistics.median(biggest) / 1e3:,.1f} kB")
            print(f"        browser time to apply it: median {statistics.median(apply_ms):.1f} ms;"
                  f" on screen median {statistics.median(seen):.1f} s after the save "
                  "(poll interval included)")

            # before: the whole map sent again, as on every change until now
            base = leaflet.evaluate("() => window.wayhomeLive.version('sectors')")
            feed = next(f for f in page.frames if "layer_feed" in f.url)
            start = time.monotonic()
            feed.evaluate("() => window.wayhomeFeedMissed()")
            leaflet.wait_for_function(
                f"() => (window.wayhomeLive.version('sectors') || '{base}').split(':')[0]"
                f" !== '{base.split(':')[0]}'", timeout=180_000)
            end = time.monotonic()
            wait_for_app_run(page)
            full = received(frames, start, time.monotonic())
            print(f"before: the whole map sent again -> {full / 1e3:,.1f} kB over the WebSocket;"
                  f" drawn {end - start:.1f} s after the request")
            browser.close()
    finally:
        server.stop()


if __name__ == "__main__":
    main()
