"""CPU the app server spends on open, idle case maps (the live fragment's polls).

``bench/store_bench.py`` times the store's ``change_token`` query alone. This
bench measures the whole idle poll as the server runs it: the fragment re-run,
the token query, and re-sending the unchanged map. It starts the app on a fresh
SQLite store with the demo case, opens N signed-in case maps in headless
Chromium (one browser context each), lets them sit idle, and reads the server
process's CPU time from ``/proc``:

    .venv/bin/python bench/idle_poll_bench.py            # 30 sessions, 60 s
    .venv/bin/python bench/idle_poll_bench.py 10 30      # 10 sessions, 30 s

It also times how long one coordinator's saved sighting takes to appear on
another open map. Prints figures; asserts nothing.
"""

from __future__ import annotations

import os
import re
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from playwright.sync_api import sync_playwright  # noqa: E402

from casefile import open_store, utcnow  # noqa: E402
from tests.browser.conftest import CHROMIUM, start_app, wait_for_app_run  # noqa: E402
from wayhome.demo import load_demo  # noqa: E402

PASSWORD = "idle poll bench password"
# the page module runs when imported, so read its poll interval from the source
POLL_SECONDS = float(
    re.search(
        r"^POLL_SECONDS = (\d+)", (REPO / "app_pages/case_map.py").read_text(), re.M
    ).group(1)
)
FRAME = 'iframe[title="streamlit_folium.st_folium"]'


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_case_map(context, url: str):
    page = context.new_page()
    page.goto(url + "/")
    wait_for_app_run(page)
    page.frame_locator(FRAME).locator("#map_div.leaflet-container").wait_for(timeout=60_000)
    page.get_by_role("link", name="Sign in").click()
    wait_for_app_run(page)
    page.get_by_label("Username").fill("demo.coordinator")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app_run(page)
    page.get_by_role("link", name="Case map").click()
    page.frame_locator(FRAME).locator("path.wayhome-sighting").first.wait_for(
        state="attached", timeout=60_000
    )
    return page


def main(sessions: int = 30, idle_s: float = 60.0) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="wayhome-bench-"))
    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
    store = open_store(url)
    demo = load_demo(store, password=PASSWORD)
    server = start_app({"WAYHOME_DATABASE_URL": url, "WAYHOME_TILES": "none"})
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    # every open map keeps polling, as a coordinator's screens do
                    "--disable-background-timer-throttling",
                    "--disable-renderer-backgrounding",
                    "--disable-backgrounding-occluded-windows",
                ],
            )
            pages = []
            for _ in range(sessions):
                pages.append(open_case_map(browser.new_context(), server.url))
            time.sleep(2 * POLL_SECONDS)  # let start-up work settle
            cpu0, t0 = cpu_seconds(server.process.pid), time.monotonic()
            time.sleep(idle_s)
            cpu1, t1 = cpu_seconds(server.process.pid), time.monotonic()
            polls = sessions * (t1 - t0) / POLL_SECONDS
            print(f"{sessions} open case maps idle {t1 - t0:.0f} s, polling every {POLL_SECONDS} s")
            print(
                f"  server CPU {cpu1 - cpu0:.2f} s = {100 * (cpu1 - cpu0) / (t1 - t0):.1f}% of "
                f"one core; {1000 * (cpu1 - cpu0) / polls:.1f} ms CPU per idle poll "
                f"(~{polls:.0f} polls)"
            )

            # time for one save to reach another open map
            viewer = pages[-1].frame_locator(FRAME)
            before = viewer.locator("path.wayhome-sighting").count()
            actor = store.authenticate("demo.coordinator", PASSWORD)
            delays = []
            for i in range(5):
                saved_at = time.monotonic()
                store.add_sighting(
                    actor,
                    demo.case_id,
                    lat=51.50 + i * 0.002,
                    lon=-0.12,
                    seen_at=utcnow(),
                    source="public",
                )
                viewer.locator("path.wayhome-sighting").nth(before + i).wait_for(
                    state="attached", timeout=30_000
                )
                delays.append(time.monotonic() - saved_at)
                time.sleep(1.3)  # spread the saves across the poll cycle
            print(
                f"  a saved sighting appeared on another open map after "
                f"{min(delays):.1f}-{max(delays):.1f} s (mean {sum(delays) / len(delays):.1f} s)"
            )
            browser.close()
    finally:
        server.stop()
        store.close()


if __name__ == "__main__":
    args = [float(a) for a in sys.argv[1:3]]
    main(int(args[0]) if args else 30, args[1] if len(args) > 1 else 60.0)
