"""Load test: two replicas behind deploy/nginx/wayhome.conf on one PostGIS, many live viewers.

Everything runs on loopback: a fresh schema on the PostgreSQL server given, two
``streamlit run`` replicas (same cookie secret, base path ``/wayhome``), the
shipped nginx file in front (``tests/deploy/nginx_proxy.py``), then:

* N protocol-level viewers: each speaks Streamlit's WebSocket protocol (the
  ``BackMsg``/``ForwardMsg`` protobufs the browser sends and receives, including
  the timer reruns of ``st.fragment(run_every=…)``, one timer per fragment as the
  browser keeps them) on a family link's page, half pinned to each replica by the
  proxy's ``wayhome_route`` cookie.
* B real Chromium viewers (at most 4, default 4; on a 2-core machine 50 Chromiums
  would measure Chromium) on the same page, half on each replica; a script in the
  page reports each new "Planned: K". Their times are printed separately.
* W writers (processes of their own, straight to the store, as users elsewhere) each
  add a shared, ready sector now and then; the family page's "Planned: K" line is
  the change every viewer waits for. Latency of change K = when a viewer first
  showed "Planned: >= K" minus when the K-th sector was committed (one monotonic
  clock for all processes).
* Half-way, replica A is killed (SIGKILL): its viewers reconnect through nginx
  (the cookie still says A; nginx passes them to B) and start a new session there.

Prints p50/p95 commit-to-viewer time, CPU per replica, database transactions per
second, memory per session, reconnections and how long they took, that every
acknowledged write is in the store, and the machine's load average and how late the
bench's own event loop woke (the viewers' clock). Asserts nothing::

    .venv/bin/python bench/load_test.py --pg postgresql://postgres@127.0.0.1:5432/DB
    .venv/bin/python bench/load_test.py --pg ... --viewers 20 --seconds 40 --browsers 0

Numbers depend on the machine and on what else runs on it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import re
import signal
import ssl
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import httpx  # noqa: E402
import sqlalchemy as sa  # noqa: E402
from shapely.geometry import box  # noqa: E402
from streamlit.proto.BackMsg_pb2 import BackMsg  # noqa: E402
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg  # noqa: E402
from websockets.asyncio.client import connect  # noqa: E402

from casefile import Actor, open_store, utcnow  # noqa: E402
from geo.jurisdiction import Jurisdictions  # noqa: E402
from tests.browser.conftest import start_app  # noqa: E402
from tests.deploy.nginx_proxy import start_nginx  # noqa: E402

PASSWORD = "load test password"
PLANNED = re.compile(r"\*\*Planned:\*\* (\d+)")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Viewer:
    """One protocol-level viewer's record."""

    route: str
    seen: dict[int, float] = field(default_factory=dict)  # planned count -> first seen
    connected: int = 0
    dropped_at: float | None = None
    back_at: float | None = None
    runs: int = 0


def rerun(query: str, page_hash: str, fragment: str = "",
          value: tuple[str, str] | None = None) -> bytes:
    """A rerun request: the page, a fragment's timer, or (``value``: widget id and
    JSON) a component in a fragment that set its value."""
    msg = BackMsg()
    state = msg.rerun_script
    state.query_string = query
    state.page_script_hash = page_hash
    if fragment:
        state.fragment_id = fragment
        state.is_auto_rerun = value is None
    if value is not None:
        widget = state.widget_states.widgets.add()
        widget.id, widget.json_value = value
    return msg.SerializeToString()


async def watch_changes(http: httpx.AsyncClient, url: str, args: dict[str, Any],
                        on_change: Callable[[int], Awaitable[None]]) -> None:
    """What the change-watch component does in a browser (app_pages/widgets/change_push.py):
    wait with the server for the case's counter to move past ``seen``, then set the
    component's value (a rerun of its fragment); stop on 410 (another replica)."""
    seen = args["seen"]
    pause = 0.5
    while True:
        try:
            response = await http.get(url + args["url"], params={"n": str(seen)},
                                      headers={"X-Wayhome-Watch": args["token"]})
        except httpx.HTTPError:
            await asyncio.sleep(pause)
            pause = min(pause * 2, 10.0)
            continue
        if response.status_code == 410:
            return
        n = response.json().get("n") if response.status_code == 200 else None
        if isinstance(n, int):
            pause = 0.5
            if n != seen:
                seen = n
                await on_change(n)
            continue
        await asyncio.sleep(pause)
        pause = min(pause * 2, 10.0)


async def run_viewer(viewer: Viewer, ws_url: str, query: str, tls: ssl.SSLContext,
                     stop: asyncio.Event) -> None:
    """Stay on the page; reconnect (through the proxy) whenever the connection drops."""
    while not stop.is_set():
        # one timer per fragment, as the browser keeps them (a full run re-sends the same
        # auto_rerun; starting another timer each time would multiply the reruns)
        timers: dict[str, tuple[float, asyncio.Task]] = {}
        watch: dict[str, Any] = {}  # the change-watch component: its args and task
        http_base = "https://" + ws_url.split("://", 1)[1].split("/", 1)[0]
        http = httpx.AsyncClient(verify=tls, timeout=60.0,
                                 headers={"Cookie": f"wayhome_route={viewer.route}"})
        try:
            async with connect(ws_url, ssl=tls, subprotocols=["streamlit"],
                               additional_headers={"Cookie": f"wayhome_route={viewer.route}"},
                               max_size=None, open_timeout=20, ping_interval=None) as ws:
                viewer.connected += 1
                page = {"hash": ""}
                await ws.send(rerun(query, page["hash"]))

                async def tick(fragment: str, every: float, ws=ws, page=page) -> None:
                    # a fixed cadence, like the browser's setInterval
                    start = time.monotonic()
                    beat = 0
                    while True:
                        beat += 1
                        await asyncio.sleep(max(0.0, start + beat * every - time.monotonic()))
                        await ws.send(rerun(query, page["hash"], fragment))

                while not stop.is_set():
                    try:
                        raw = await asyncio.wait_for(ws.recv(), timeout=1.0)
                    except TimeoutError:
                        continue
                    if isinstance(raw, str):
                        continue
                    msg = ForwardMsg.FromString(raw)
                    kind = msg.WhichOneof("type")
                    if kind == "navigation":
                        page["hash"] = msg.navigation.page_script_hash
                    elif kind == "auto_rerun":
                        fragment, every = msg.auto_rerun.fragment_id, msg.auto_rerun.interval
                        if fragment in timers and timers[fragment][0] == every:
                            continue
                        if fragment in timers:
                            timers[fragment][1].cancel()
                        timers[fragment] = (every, asyncio.create_task(tick(fragment, every)))
                    elif kind == "stop_auto_rerun":
                        for fragment in msg.stop_auto_rerun.fragment_ids:
                            if fragment in timers:
                                timers.pop(fragment)[1].cancel()
                    elif kind == "script_finished":
                        viewer.runs += 1
                        if viewer.dropped_at is not None and viewer.back_at is None:
                            viewer.back_at = time.monotonic()
                    elif kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                        element = msg.delta.new_element
                        if (element.WhichOneof("type") == "component_instance"
                                and element.component_instance.component_name.endswith(
                                    "change_watch")):
                            args = json.loads(element.component_instance.json_args)
                            if args != watch.get("args"):
                                if "task" in watch:
                                    watch["task"].cancel()
                                widget, fragment = (element.component_instance.id,
                                                    msg.delta.fragment_id)

                                async def changed(n: int, ws=ws, page=page, widget=widget,
                                                  fragment=fragment) -> None:
                                    await ws.send(rerun(query, page["hash"], fragment,
                                                        (widget, json.dumps(n))))

                                watch.update(args=args, task=asyncio.create_task(
                                    watch_changes(http, http_base, args, changed)))
                        elif element.WhichOneof("type") == "markdown":
                            found = PLANNED.search(element.markdown.body)
                            if found:
                                k = int(found.group(1))
                                viewer.seen.setdefault(k, time.monotonic())
        except Exception:  # a dropped connection, a dead replica: reconnect
            pass
        finally:
            for _, task in timers.values():
                task.cancel()
            if "task" in watch:
                watch["task"].cancel()
            await http.aclose()
        if not stop.is_set():
            if viewer.dropped_at is None:
                viewer.dropped_at = time.monotonic()
            await asyncio.sleep(0.5)


#: at most this many real browsers beside the protocol-level viewers (2 cores)
MAX_BROWSERS = 4
CHROMIUM = os.environ.get("WAYHOME_CHROMIUM", "/usr/bin/chromium")
#: in the page: report the family page's "Planned: K" whenever it changes
WATCH_PLANNED = """
new MutationObserver(() => {
  for (const el of document.querySelectorAll('[data-testid="stMarkdownContainer"]')) {
    const m = /Planned:\\s*(\\d+)/.exec(el.textContent || "");
    if (m && m[1] !== window.__plannedSeen) {
      window.__plannedSeen = m[1];
      window.reportPlanned(Number(m[1]));
    }
  }
}).observe(document, {subtree: true, childList: true, characterData: true});
"""


async def run_browsers(viewers: list[Viewer], url: str) -> tuple[Any, Any]:
    """Open the family page in real Chromium (one browser, a context per viewer, each
    pinned to its replica by the proxy's cookie); returns (playwright, browser) to close."""
    from playwright.async_api import async_playwright

    pw = await async_playwright().start()
    browser = await pw.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
        "--disable-background-networking", "--disable-extensions", "--no-first-run"])
    for viewer in viewers:
        context = await browser.new_context(ignore_https_errors=True,
                                            viewport={"width": 390, "height": 844})
        await context.add_cookies([{"name": "wayhome_route", "value": viewer.route,
                                    "url": url.split("?", 1)[0]}])

        def seen(k: int, viewer: Viewer = viewer) -> None:
            viewer.seen.setdefault(k, time.monotonic())
            viewer.runs += 1

        await context.expose_function("reportPlanned", seen)
        await context.add_init_script(WATCH_PLANNED)
        page = await context.new_page()
        await page.goto(url, wait_until="commit")
    return pw, browser


async def loop_lag(lags: list[float], stop: asyncio.Event) -> None:
    """How late this process's event loop wakes (all viewers' clocks run on it)."""
    while not stop.is_set():
        before = time.monotonic()
        await asyncio.sleep(0.1)
        lags.append(time.monotonic() - before - 0.1)


def writer(url: str, coord: tuple[int, str, str], case_id: int, origin: tuple[float, float],
           index: int, every: float, stop: Any, out: Any) -> None:
    """One writer in its own process (as another user on another machine would be): the
    viewers' clock in the bench process is then not held up by the writers' work."""
    actor = Actor(*coord)
    Jurisdictions()  # the borough/BCU/force layers, prepared before the clock starts
    lat, lon = origin
    n = 0
    store = open_store(url, migrate=False)  # its own, as on another replica
    out.put(("ready", index, 0.0))
    while not stop.wait(every):
        x = lon + 0.003 * (index + 1)
        y = lat + 0.002 * n
        area = box(x, y, x + 0.002, y + 0.0015)
        try:
            sector = store.create_sector(actor, case_id, geometry=area, name=f"W{index}-{n}",
                                         on_overlap="keep", reason="load test")
            store.set_sector_status(actor, sector.id, "ready", version=sector.version)
        except Exception as exc:
            print(f"  writer {index}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        finally:
            n += 1
        # CLOCK_MONOTONIC is one clock for every process of the machine
        out.put(("commit", sector.id, time.monotonic()))
    store.close()
    out.put(("done", index, 0.0))


def scratch_url(pg: str) -> tuple[str, str]:
    base = "postgresql+psycopg://" + pg.split("://", 1)[1].split("?", 1)[0]
    schema = f"wh_load_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    return base + "?options=" + quote(f"-csearch_path={schema},public"), schema


def db_transactions(base: str) -> int:
    admin = sa.create_engine(base)
    with admin.connect() as conn:
        n = conn.execute(sa.text(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database "
            "WHERE datname = current_database()")).scalar_one()
    admin.dispose()
    return int(n)


async def main_async(args: argparse.Namespace) -> None:
    url, schema = scratch_url(args.pg)
    base = url.split("?", 1)[0]
    store = open_store(url)
    system = Actor.system("load test")
    user = store.create_user(system, "load.coordinator", "Load Coordinator", PASSWORD)
    coord = Actor(user.id, user.display_name, "coordinator")
    case = store.create_case(coord, reference="LOAD-1", child_name="Alex", age=11,
                             risk="high", reported_missing_at=utcnow() - timedelta(hours=2),
                             ipp=(51.5137, -0.0990), description="d", notes="n")
    token = store.issue_link(coord, case.id, role="family", label="load").token
    env = {"WAYHOME_DATABASE_URL": url, "STREAMLIT_SERVER_COOKIE_SECRET": uuid.uuid4().hex,
           "WAYHOME_TRUSTED_PROXY_HOPS": "1"}
    replicas = {r: start_app(env, args=("--server.baseUrlPath=wayhome",)) for r in "ab"}
    proxy = start_nginx([replicas["a"].port, replicas["b"].port])
    tls = ssl.create_default_context(cafile=str(proxy.cafile))
    ws_url = f"wss://127.0.0.1:{proxy.https_port}/wayhome/_stcore/stream"
    pids = {r: s.process.pid for r, s in replicas.items()}
    chromium = None
    lags: list[float] = []
    try:
        viewers = [Viewer(route="ab"[i % 2]) for i in range(args.viewers)]
        stop = asyncio.Event()
        # one viewer per replica first: the app's imports and caches are not per session
        tasks = [asyncio.create_task(run_viewer(v, ws_url, f"link={token}", tls, stop))
                 for v in viewers[:2]]
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(0 in v.seen for v in viewers[:2]):
            await asyncio.sleep(0.5)
        rss0 = {r: rss_mb(p) for r, p in pids.items()}
        tasks += [asyncio.create_task(run_viewer(v, ws_url, f"link={token}", tls, stop))
                  for v in viewers[2:]]
        # everyone on the page before the clock starts
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not all(0 in v.seen for v in viewers):
            await asyncio.sleep(0.5)
        ready = sum(0 in v.seen for v in viewers)
        # the real browsers last, half on each replica, each on the page before the clock
        browsers = [Viewer(route="ab"[i % 2]) for i in range(min(args.browsers, MAX_BROWSERS))]
        if browsers:
            chromium = await run_browsers(
                browsers, f"https://127.0.0.1:{proxy.https_port}/wayhome/?link={token}")
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not all(0 in v.seen for v in browsers):
                await asyncio.sleep(0.5)
        commits: list[float] = []
        ids: list[int] = []
        spawn = multiprocessing.get_context("spawn")
        halt = spawn.Event()
        out = spawn.Queue()
        writers = [spawn.Process(target=writer, args=(
            url, (coord.user_id, coord.display_name, coord.role), case.id,
            (51.5137, -0.0990), i, args.write_every, halt, out), daemon=True)
            for i in range(args.writers)]
        for w in writers:
            w.start()
        for _ in writers:  # every writer warmed up before the clock starts
            await asyncio.to_thread(out.get, True, 300)
        rss1 = {r: rss_mb(p) for r, p in pids.items()}
        cpu0 = {r: cpu_seconds(p) for r, p in pids.items()}
        tx0, t0 = db_transactions(base), time.monotonic()
        me0 = cpu_seconds(os.getpid())
        tasks.append(asyncio.create_task(loop_lag(lags, stop)))
        await asyncio.sleep(args.seconds / 2)
        cpu_half = {r: cpu_seconds(p) for r, p in pids.items()}
        half_t = time.monotonic()
        killed_at = time.monotonic()
        os.kill(pids["a"], signal.SIGKILL)
        await asyncio.sleep(args.seconds / 2)
        halt.set()
        finished = 0
        while finished < len(writers):
            kind, value, at = await asyncio.to_thread(out.get, True, 60)
            if kind == "commit":
                commits.append(at)
                ids.append(int(value))
            elif kind == "done":
                finished += 1
        for w in writers:  # off the event loop: the viewers' clocks keep running
            await asyncio.to_thread(w.join, 30)
        await asyncio.sleep(3)  # the last change reaches the viewers
        t1 = time.monotonic()
        me1 = cpu_seconds(os.getpid())
        tx1 = db_transactions(base)
        cpu_b_end = cpu_seconds(pids["b"])
        stop.set()
        await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        if chromium is not None:
            await chromium[1].close()
            await chromium[0].stop()
        proxy.stop()
        for server in replicas.values():
            server.stop()

    def commit_to_screen(group: list[Viewer], when: str = "all") -> list[float]:
        """The K-th commit against the first time each viewer showed >= K (``when``:
        "all", or only the changes committed "before" or "after" the kill)."""
        out: list[float] = []
        for k, committed in enumerate(sorted(commits), start=1):
            if (when == "before" and committed >= killed_at) or (
                    when == "after" and committed < killed_at):
                continue
            for v in group:
                if v.dropped_at is not None and v.back_at is None:
                    continue
                seen = [t for count, t in v.seen.items() if count >= k]
                if seen:
                    out.append(max(0.0, min(seen) - committed))
        return out

    latencies = commit_to_screen(viewers)
    in_browsers = commit_to_screen(browsers)
    on_a = [v for v in viewers if v.route == "a"]
    moved = [v for v in on_a if v.dropped_at is not None and v.back_at is not None]
    took = sorted(v.back_at - killed_at for v in moved)
    check = open_store(url, migrate=False)
    stored = {s.id for s in check.sectors(coord, case.id)}
    check.close()
    admin = sa.create_engine(base)
    with admin.begin() as conn:
        conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
    admin.dispose()
    store.close()

    def pct(xs: list[float], p: float) -> float:
        return statistics.quantiles(xs, n=100)[p - 1] if len(xs) >= 2 else float("nan")

    busy = half_t - t0
    print(f"load test: {args.viewers} protocol-level viewers ({ready} on the page), "
          f"{args.writers} writers (one shared sector each every {args.write_every:g} s), "
          f"{args.seconds:g} s, replica A killed half-way")
    print(f"  changes committed: {len(commits)}; viewer updates measured: {len(latencies)}; "
          f"script runs per viewer: {statistics.mean(v.runs for v in viewers):.0f} "
          "(page loads, change reruns and the family page's 1 s timer reruns)")
    print(f"  load test client: {100 * (me1 - me0) / (t1 - t0):.0f} % of one core; its event "
          f"loop woke late by p95 {pct(lags, 95) * 1000:.0f} ms, "
          f"max {max(lags, default=0) * 1000:.0f} ms (what the viewers' clocks can be off "
          f"by); load average {os.getloadavg()[0]:.1f}")
    print(f"  commit -> viewer shows it: p50 {pct(latencies, 50):.2f} s, "
          f"p95 {pct(latencies, 95):.2f} s, max {max(latencies, default=float('nan')):.2f} s")
    for when in ("before", "after"):
        part = commit_to_screen(viewers, when)
        print(f"    changes committed {when} the kill: p50 {pct(part, 50):.2f} s, "
              f"p95 {pct(part, 95):.2f} s ({len(part)} updates)")
    if browsers:
        print(f"  real Chromium viewers: {len(browsers)} ({sum(0 in v.seen for v in browsers)} "
              f"on the page); commit -> the page shows it: p50 {pct(in_browsers, 50):.2f} s, "
              f"p95 {pct(in_browsers, 95):.2f} s, "
              f"max {max(in_browsers, default=float('nan')):.2f} s ({len(in_browsers)} updates)")
        on_a_browsers = [v for v in browsers if v.route == "a"]
        back = [min(t for t in v.seen.values() if t > killed_at) - killed_at
                for v in on_a_browsers if any(t > killed_at for t in v.seen.values())]
        print(f"  browsers on A showing changes again after the kill (on B): {len(back)} of "
              f"{len(on_a_browsers)}, first change shown after "
              f"{', '.join(f'{x:.1f}' for x in sorted(back)) or '-'} s")
    for r in "ab":
        used = cpu_half[r] - cpu0[r]
        print(f"  replica {r.upper()} CPU before the kill: {used:.1f} s in {busy:.0f} s "
              f"({100 * used / busy:.0f} % of one core)")
    after = t1 - half_t
    print(f"  replica B CPU after the kill (all viewers): {cpu_b_end - cpu_half['b']:.1f} s "
          f"in {after:.0f} s ({100 * (cpu_b_end - cpu_half['b']) / after:.0f} % of one core)")
    for r in "ab":
        per = (rss1[r] - rss0[r]) / max(1, sum(v.route == r for v in viewers) - 1)
        print(f"  replica {r.upper()} memory: {rss0[r]:.0f} MB with one viewer, {rss1[r]:.0f} MB "
              f"with all of its viewers ({per:.1f} MB per further session)")
    print(f"  database: {(tx1 - tx0) / (t1 - t0):.1f} transactions/s over the run, every "
          f"client included (writers too); polling the counter every 10 s per viewer "
          f"would add ~{args.viewers / 10:.0f}/s, every 1 s ~{args.viewers}/s")
    print(f"  reconnections after the kill: {len(moved)} of {len(on_a)} viewers on A back on "
          f"B; time to their first run there: p50 {pct(took, 50):.1f} s, "
          f"max {max(took, default=float('nan')):.1f} s")
    lost = [i for i in ids if i not in stored]
    print(f"  acknowledged writes: {len(ids)}; missing from the store: {len(lost)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg", default=os.environ.get("DATABASE_URL", ""),
                        help="a PostgreSQL server (postgresql://user@host:port/db)")
    parser.add_argument("--viewers", type=int, default=50)
    parser.add_argument("--writers", type=int, default=5)
    parser.add_argument("--write-every", type=float, default=12.0,
                        help="seconds between two sectors of one writer")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--browsers", type=int, default=MAX_BROWSERS,
                        help=f"real Chromium viewers besides (at most {MAX_BROWSERS}; 0: none)")
    args = parser.parse_args()
    if not args.pg.startswith(("postgresql", "postgres:")):
        parser.error("give a PostgreSQL server with --pg (replicas share one PostGIS store)")
    asyncio.run(main_async(args))


if __name__ == "__main__":
    main()
