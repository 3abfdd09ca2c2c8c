"""Store benchmark: prints figures for SQLite and (when reachable) PostgreSQL + PostGIS.

    .venv/bin/python bench/store_bench.py [--pg postgresql://postgres@127.0.0.1:5432/postgres]

For each backend, on a scratch database it creates and removes:

* sightings written per second, each its own transaction with its audit record,
  change-counter bump and borough/BCU/force/ward tagging (what a form save costs);
  and the same for a batch of 1,000 in one transaction (an import);
* time to load a case with 1,000 sightings (``Store.load_case``);
* the idle poll (``Store.change_token``): wall time and this process's CPU per
  poll, then 30 simulated sessions each polling every 3 s (the live map's
  interval) for 15 s: CPU share of one core used by the polling, and latency.
  On PostgreSQL the server's own CPU per poll is not included.

Figures depend on the machine and its load; nothing here asserts a target.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from casefile import Actor, NewSighting, open_store, utcnow

SESSIONS = 30
POLL_INTERVAL_S = 3.0
POLL_WINDOW_S = 15.0


def _setup(url: str):
    store = open_store(url)
    user = store.create_user(
        Actor.system("bench"), f"bench.{uuid.uuid4().hex[:6]}", "Bench", "x" * 16
    )
    actor = Actor(user_id=user.id, display_name=user.display_name, role="coordinator")
    case = store.create_case(
        actor,
        reference=f"BENCH-{uuid.uuid4().hex[:8]}",
        child_name="Bench",
        age=12,
        risk="high",
        reported_missing_at=utcnow() - timedelta(hours=3),
        ipp=(51.47, -0.12),
    )
    return store, actor, case


def _points(n: int) -> list[NewSighting]:
    now = utcnow()
    return [
        NewSighting(
            lat=51.45 + (i % 97) / 1000,
            lon=-0.20 + (i % 89) / 1000,
            seen_at=now - timedelta(seconds=i * 7),
            source="public",
            status=("verified", "unverified", "dismissed")[i % 3],
            description="bench sighting",
        )
        for i in range(n)
    ]


def bench(url: str, label: str) -> None:
    print(f"\n== {label}")
    store, actor, case = _setup(url)
    # warm up: boundary layers for tagging, statement caches, pool
    store.add_sighting(actor, case.id, lat=51.47, lon=-0.12, seen_at=utcnow(), source="police")

    n = 300
    items = _points(n)
    t0 = time.perf_counter()
    for s in items:
        store.add_sighting(
            actor,
            case.id,
            lat=s.lat,
            lon=s.lon,
            seen_at=s.seen_at,
            source=s.source,
            status=s.status,
            description=s.description,
        )
    dt = time.perf_counter() - t0
    print(
        f"single-sighting saves (own transaction + audit + tags): {n / dt:,.0f}/s "
        f"({dt / n * 1000:.1f} ms each, {n} saves)"
    )

    _, _, big = _setup_case(store, actor)
    t0 = time.perf_counter()
    store.add_sightings(actor, big.id, _points(1000))
    dt = time.perf_counter() - t0
    print(f"batch of 1,000 sightings in one transaction: {1000 / dt:,.0f}/s ({dt:.2f} s)")

    times = []
    for _ in range(15):
        t0 = time.perf_counter()
        cf = store.load_case(actor, big.id)
        times.append(time.perf_counter() - t0)
    assert len(cf.sightings) == 1000
    print(
        f"load a case with 1,000 sightings: median {statistics.median(times) * 1000:.1f} ms "
        f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f})"
    )
    t0 = time.perf_counter()
    frame = cf.sightings_frame()
    print(f"  ...as a DataFrame: {(time.perf_counter() - t0) * 1000:.1f} ms ({len(frame)} rows)")

    polls = 2000
    store.change_token(actor, big.id)
    c0, t0 = time.process_time(), time.perf_counter()
    for _ in range(polls):
        store.change_token(actor, big.id)
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    print(
        f"idle poll (change_token), back to back: {wall / polls * 1e6:,.0f} µs wall, "
        f"{cpu / polls * 1e6:,.0f} µs CPU in this process per poll"
    )

    stop = time.perf_counter() + POLL_WINDOW_S
    latencies: list[float] = []
    lock = threading.Lock()

    def session(offset: float) -> None:
        time.sleep(offset)
        while time.perf_counter() < stop:
            t = time.perf_counter()
            store.change_token(actor, big.id)
            with lock:
                latencies.append(time.perf_counter() - t)
            time.sleep(POLL_INTERVAL_S)

    threads = [
        threading.Thread(target=session, args=(i * POLL_INTERVAL_S / SESSIONS,))
        for i in range(SESSIONS)
    ]
    c0, t0 = time.process_time(), time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    print(
        f"{SESSIONS} sessions polling every {POLL_INTERVAL_S:.0f} s for {wall:.0f} s: "
        f"{len(latencies)} polls, {cpu / wall * 100:.2f} % of one core, "
        f"median {statistics.median(latencies) * 1000:.2f} ms, "
        f"p95 {sorted(latencies)[int(len(latencies) * 0.95)] * 1000:.2f} ms per poll"
    )
    store.close()


def _setup_case(store, actor):
    case = store.create_case(
        actor,
        reference=f"BENCH-{uuid.uuid4().hex[:8]}",
        child_name="Bench",
        age=12,
        risk="high",
        reported_missing_at=utcnow() - timedelta(hours=3),
        ipp=(51.47, -0.12),
    )
    return store, actor, case


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--pg",
        default="postgresql://postgres@127.0.0.1:5432/postgres",
        help="a PostgreSQL server URL; a scratch database is created there and dropped",
    )
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        bench(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite (WAL, file)")

    server = "postgresql+psycopg://" + args.pg.split("://", 1)[1]
    name = f"wayhome_bench_{uuid.uuid4().hex[:8]}"
    try:
        admin = sa.create_engine(server, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
    except sa.exc.OperationalError as exc:
        print(
            f"\n== PostgreSQL + PostGIS: not reachable ({str(exc.orig).splitlines()[0]}); skipped"
        )
        return
    try:
        bench(server.rsplit("/", 1)[0] + "/" + name, "PostgreSQL + PostGIS (local server)")
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


if __name__ == "__main__":
    main()
