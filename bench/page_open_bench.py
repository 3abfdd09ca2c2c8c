"""Time to first map on each coordinator page, cold and warm, beside the floor.

    .venv/bin/python bench/page_open_bench.py [--rounds 3]

Starts the app on a fresh SQLite store holding the demo case (as ``wayhome demo``
makes it), signs a coordinator in with real Chromium, and opens every coordinator
page that draws a map by its address. "Cold" is the first open of a page after
the server started (caches empty); "warm" is the median of the later opens.

The time runs from the navigation to the moment the map frame shows a Leaflet map
with something drawn on it (an SVG path or a canvas in the overlay pane).

The floor is measured in the same run: a bare Streamlit page whose only content
is ``st_folium`` showing one polygon on a tile-less map, with Leaflet served
locally as Wayhome serves it, opened the same way.
A page's figure minus the floor is what Wayhome itself adds. Prints figures;
asserts nothing.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.sync_api import Page, sync_playwright  # noqa: E402

from casefile import Actor, open_store  # noqa: E402
from tests.browser.conftest import CHROMIUM, MAP_IFRAME, start_app, wait_for_app_run  # noqa: E402
from wayhome.demo import load_demo  # noqa: E402

PASSWORD = "demo password for the page bench"
#: coordinator pages that draw a map, by their address
PAGES = ("case-map", "sectors", "make-sectors", "coverage", "where-next", "handover")

FLOOR_APP = '''
from pathlib import Path

import folium
import streamlit as st
from streamlit_folium import st_folium

from layers.assets import asset_urls, install_assets

install_assets(Path(__file__).parent / "static")  # Leaflet served locally, as Wayhome does
urls = asset_urls()
st.title("Floor")
m = folium.Map(location=[51.5, -0.1], zoom_start=13, tiles=None)
m.default_js, m.default_css = list(urls.js), list(urls.css)
folium.Polygon([[51.50, -0.11], [51.51, -0.11], [51.51, -0.09]], color="red").add_to(m)
st_folium(m, height=600, returned_objects=[])
'''

DRAWN = ".leaflet-overlay-pane path, .leaflet-overlay-pane canvas"


def time_to_map(page: Page, url: str) -> float:
    """Seconds from navigating to ``url`` until its map shows something drawn.

    Raises ``RuntimeError`` (and saves a screenshot) when no map appears.
    """
    started = time.perf_counter()
    page.goto(url)
    try:
        page.frame_locator(MAP_IFRAME).locator(DRAWN).first.wait_for(state="attached",
                                                                      timeout=60_000)
    except Exception:
        page.screenshot(path=str(REPO / "test-artifacts" / "page-open-bench-failed.png"))
        raise RuntimeError(f"no map drawn at {url}") from None
    return time.perf_counter() - started


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/sign-in")
    wait_for_app_run(page)
    page.get_by_label("Username").fill("demo.coordinator")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app_run(page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="warm opens per page")
    args = parser.parse_args()

    workdir = Path(tempfile.mkdtemp(prefix="wayhome-page-bench-"))
    floor_script = workdir / "floor_app.py"
    floor_script.write_text(FLOOR_APP)
    # Streamlit serves static/ beside the script it runs: the floor shares the app's
    (workdir / "static").symlink_to(REPO / "static", target_is_directory=True)
    store_url = f"sqlite:///{workdir / 'cases.sqlite3'}"
    store = open_store(store_url)
    demo = load_demo(store, password=PASSWORD, everything=True)
    user = store.get_user(Actor.system("page bench"), demo.username)
    coordinator = Actor(user_id=user.id, display_name=user.display_name, role="coordinator")
    store.set_up_poa(coordinator, demo.case_id)  # Where next draws its map only with POA
    store.close()

    floor = start_app(script=str(floor_script))
    app = start_app({"WAYHOME_DATABASE_URL": store_url, "WAYHOME_TILES": "none"})
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            floor_times = [time_to_map(page, floor.url + "/") for _ in range(args.rounds + 1)]
            sign_in(page, app.url)
            rows = []
            for name in PAGES:
                url = f"{app.url}/{name}?case={demo.case_id}"
                try:
                    cold = time_to_map(page, url)
                    warm = [time_to_map(page, url) for _ in range(args.rounds)]
                except RuntimeError as no_map:
                    print(f"  {name}: {no_map}")
                    continue
                rows.append((name, cold, statistics.median(warm)))
            browser.close()
    finally:
        app.stop()
        floor.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    floor_cold, floor_warm = floor_times[0], statistics.median(floor_times[1:])
    print("Time to first map (s), real Chromium, SQLite demo case, tiles off")
    print(f"  {'page':<14}{'cold':>8}{'warm':>8}{'warm - floor':>14}")
    print(f"  {'(floor)':<14}{floor_cold:>8.2f}{floor_warm:>8.2f}{'':>14}")
    for name, cold, warm in rows:
        print(f"  {name:<14}{cold:>8.2f}{warm:>8.2f}{warm - floor_warm:>14.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
