"""Print what one sector change costs an open Sectors map, in a case of 5,000 sectors.

    .venv/bin/python bench/sector_update_bench.py [--sectors 5000]

Starts the app on a fresh SQLite store with the demo case plus a grid of N
sectors (120 m squares over central London, saved through the store), opens the
Sectors page signed in, in headless Chromium, and counts the bytes the page's
WebSocket receives:

* **after** (small updates): another user moves one sector from draft to ready,
  five times in turn; bytes received from each save until the map frame has
  applied it (an idle poll in that window counts too; an idle poll's bytes are
  printed beside it), and the browser's time to apply it
  (``wayhomeLive.stats.lastApplyMs``: redraw of the changed sector and the labels,
  measured in the page);
* **before** (every change until now): the map component sent again with the whole
  sectors layer. The page still does exactly that when the view needs a full
  redraw, so it is measured here by switching the case marks off: bytes received,
  and the time from the click until the new layer is drawn.

Also prints the size of the whole-layer JavaScript and of the base map's script.
Goal: at most 20 kB per change at 5,000 sectors. Figures only; no pass/fail.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import shapely  # noqa: E402
from playwright.sync_api import sync_playwright  # noqa: E402

from casefile import NewSector, open_store  # noqa: E402
from geo.grid import make_grid  # noqa: E402
from tests.browser.conftest import CHROMIUM, start_app, wait_for_app_run  # noqa: E402
from wayhome.demo import load_demo  # noqa: E402

PASSWORD = "sector update bench password"
FRAME = 'iframe[title="streamlit_folium.st_folium"]'
# the page module runs when imported, so read the sector map's poll interval from the source
POLL_SECONDS = float(re.search(r"^POLL_SECONDS = live_every\((\d+)\)",
                               (REPO / "app_pages/widgets/sector_common.py").read_text(),
                               re.M).group(1))


def make_case(url: str, n: int) -> tuple[int, list[int]]:
    """The demo case plus ``n`` draft sectors; (case id, ids of five sectors to change)."""
    store = open_store(url)
    demo = load_demo(store, password=PASSWORD)
    me = store.authenticate("demo.coordinator", PASSWORD)
    area = shapely.box(-0.20, 51.47, -0.02, 51.55)
    grid = make_grid(area, 120.0 * (5000 / n) ** 0.5, shape="square").head(n)
    geoms = list(grid.geometry)
    t0 = time.perf_counter()
    made = []
    for k in range(0, len(geoms), 500):
        made += store.create_sectors(me, demo.case_id, [
            NewSector(geometry=g, name=f"Grid {k + i}") for i, g in enumerate(geoms[k:k + 500])])
    print(f"case: {len(made):,} sectors saved in {time.perf_counter() - t0:.0f} s")
    targets = [s.id for s in made[len(made) // 2:len(made) // 2 + 5] if s is not None]
    store.close()
    return demo.case_id, targets


def received(frames: list[tuple[float, int]], start: float, end: float) -> int:
    return sum(size for at, size in frames if start <= at <= end)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sectors", type=int, default=5000)
    args = parser.parse_args()
    args.poll = POLL_SECONDS
    workdir = Path(tempfile.mkdtemp(prefix="wayhome-bench-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    case_id, sector_ids = make_case(url, args.sectors)
    layer_js_and_base(url, case_id)
    server = start_app({"WAYHOME_DATABASE_URL": url, "WAYHOME_TILES": "none"})
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM,
                                         args=["--no-sandbox", "--disable-gpu"])
            page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            frames: list[tuple[float, int]] = []
            page.on("websocket", lambda ws: ws.on(
                "framereceived", lambda p: frames.append((time.monotonic(), len(p)))))
            page.goto(server.url + "/")
            wait_for_app_run(page)
            page.frame_locator(FRAME).locator("#map_div.leaflet-container").wait_for(
                timeout=60_000)
            page.get_by_role("link", name="Sign in").click()
            wait_for_app_run(page)
            page.get_by_label("Username").fill("demo.coordinator")
            page.get_by_role("textbox", name="Password").fill(PASSWORD)
            page.get_by_role("button", name="Sign in").click()
            wait_for_app_run(page)
            t0 = time.monotonic()
            page.get_by_role("link", name="Sectors", exact=True).click()
            leaflet = next_map_frame(page)
            leaflet.wait_for_function(
                "() => window.wayhomeLive && window.wayhomeLive.version('sectors')",
                timeout=180_000)
            print(f"Sectors page: map with {args.sectors:,} sectors drawn "
                  f"{time.monotonic() - t0:.1f} s after the click")
            wait_for_app_run(page)
            page.wait_for_timeout(3_000)  # let the first polls settle

            # an idle poll (nothing changed), for scale
            t_idle = time.monotonic()
            page.wait_for_timeout(4 * POLL_SECONDS * 1000)
            idle = received(frames, t_idle, time.monotonic()) / 4

            # after: one status change at a time, saved by another session
            store = open_store(url)
            me = store.authenticate("demo.coordinator", PASSWORD)
            sizes, apply_ms, seen = [], [], []
            for sid in sector_ids:
                sector = store.get_sector(me, sid)
                applied = leaflet.evaluate("() => window.wayhomeLive.stats.applied")
                start = time.monotonic()
                store.set_sector_status(me, sector.id, "ready", version=sector.version)
                leaflet.wait_for_function(
                    f"() => window.wayhomeLive.stats.applied > {applied} && "
                    "window.wayhomeLive.stats.redrawn === 1", timeout=60_000)
                end = time.monotonic()
                stats = leaflet.evaluate("() => window.wayhomeLive.stats")
                sizes.append(received(frames, start, end))
                apply_ms.append(stats["lastApplyMs"])
                seen.append(end - start)
            store.close()
            print(f"after:  one status change ({len(sizes)} in turn) -> median "
                  f"{statistics.median(sizes) / 1e3:,.1f} kB over the WebSocket, max "
                  f"{max(sizes) / 1e3:,.1f} kB (goal <= 20 kB)")
            print(f"        counted from the save until the map has it, so other live parts "
                  f"of the page in that window count too (idle: {idle / 1e3:,.1f} kB per "
                  f"{args.poll:g} s)")
            print(f"        browser time to apply it: median {statistics.median(apply_ms):.1f} ms"
                  f" (max {max(apply_ms):.1f} ms, one sector redrawn); on screen median "
                  f"{statistics.median(seen):.1f} s after the save (poll interval included)")

            # before: the whole layer sent again (what every change cost until now)
            base = leaflet.evaluate("() => window.wayhomeLive.version('sectors')")
            start = time.monotonic()
            page.get_by_text("Show the planning point, last-known location and sightings").click()
            leaflet.wait_for_function(
                f"() => (window.wayhomeLive.version('sectors') || '{base}').split(':')[0]"
                f" !== '{base.split(':')[0]}'", timeout=180_000)
            end = time.monotonic()
            wait_for_app_run(page)
            full = received(frames, start, end)
            print(f"before: the whole map sent again -> {full:,} bytes over the WebSocket "
                  f"({full / 1e6:,.2f} MB); drawn {end - start:.1f} s after the click")
            browser.close()
    finally:
        server.stop()


def next_map_frame(page):
    """The map frame of the page now open (after a navigation)."""
    page.frame_locator(FRAME).locator("#map_div.leaflet-container").wait_for(timeout=120_000)
    for frame in page.frames:
        if "streamlit_folium" in frame.url:
            return frame
    raise RuntimeError("no map frame")


def layer_js_and_base(url: str, case_id: int) -> None:
    """Sizes of the whole sectors layer's JavaScript and of the Sectors base map's script."""
    from app_pages.widgets.live_map import feature_groups_script, render_base
    from layers.assets import asset_urls
    from layers.basemap import base_map, parse_tiles
    from layers.boundaries import load_boundary_set
    from layers.sectors import sectors_layer

    store = open_store(url)
    me = store.authenticate("demo.coordinator", PASSWORD)
    sectors = store.sectors(me, case_id)
    store.close()
    script = feature_groups_script([sectors_layer(sectors, {})])
    m = base_map(load_boundary_set(REPO / "static"), asset_urls(""), parse_tiles("none"))
    base = render_base(m).script
    print(f"whole sectors layer: {len(script.encode()) / 1e6:,.2f} MB of JavaScript; "
          f"London base map script: {len(base.encode()) / 1e6:,.2f} MB (both sent on every change "
          "before small updates)")


if __name__ == "__main__":
    main()
