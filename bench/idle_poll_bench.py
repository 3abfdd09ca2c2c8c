"""CPU the app server spends on open, idle case maps (the live fragment's polls).

``bench/store_bench.py`` times the store's ``change_token`` query alone. This
bench measures the whole idle poll as the server runs it: the fragment re-run,
the token query, and re-sending the unchanged map. It starts the app on a fresh
SQLite store with the demo case, opens N signed-in case maps in headless
Chromium (one browser context each), lets them sit idle, and reads the server
process's CPU time from ``/proc``:

    .venv/bin/python bench/idle_poll_bench.py            # 30 sessions, 60 s, SQLite
    .venv/bin/python bench/idle_poll_bench.py 10 30      # 10 sessions, 30 s
    .venv/bin/python bench/idle_poll_bench.py 30 60 --pg postgresql://postgres@127.0.0.1:5432/postgres

With ``--pg`` it runs on SQLite and then on PostgreSQL + PostGIS (a scratch
schema it creates and drops); the server's CPU is the app process's only, not
PostgreSQL's.

It also times how long one coordinator's saved sighting takes to appear on
another open map. Prints figures; asserts nothing.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
import time
import uuid
from pathlib import Path
from urllib.parse import quote

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


@contextlib.contextmanager
def scratch_store_url(pg: str | None):
    """A fresh SQLite file, or a fresh schema on the PostgreSQL server ``pg``."""
    if not pg:
        workdir = Path(tempfile.mkdtemp(prefix="wayhome-bench-"))
        yield f"sqlite:///{workdir / 'bench.sqlite3'}"
        return
    import sqlalchemy as sa

    schema = f"wh_idle_bench_{uuid.uuid4().hex[:8]}"
    base = "postgresql+psycopg://" + pg.strip().split("://", 1)[1].split("?", 1)[0]
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        yield base + "?options=" + quote(f"-csearch_path={schema},public")
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


def main(sessions: int = 30, idle_s: float = 60.0, pg: str | None = None) -> None:
    with scratch_store_url(pg) as url:
        print(f"== {'PostgreSQL + PostGIS' if pg else 'SQLite'}")
        run(url, sessions, idle_s)


def run(url: str, sessions: int, idle_s: float) -> None:
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
    argv = sys.argv[1:]
    pg_url = None
    if "--pg" in argv:
        i = argv.index("--pg")
        pg_url = argv[i + 1]
        del argv[i : i + 2]
    args = [float(a) for a in argv[:2]]
    n, seconds = (int(args[0]) if args else 30), (args[1] if len(args) > 1 else 60.0)
    main(n, seconds)
    if pg_url:
        main(n, seconds, pg_url)
