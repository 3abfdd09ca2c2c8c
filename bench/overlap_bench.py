"""Overlap check end to end, from the store to the warning, on SQLite and PostGIS.

Prints, per backend, for a case holding 10,000 and then 50,000 sectors (100 m
squares over South London, made with ``Store.create_sectors``):

* bulk-insert rate (sectors/s, everything included: validation, jurisdiction
  tags, overlap check against the case, insert, audit records);
* ``Store.check_overlaps`` of one new sector: cold (a fresh store process-state:
  every outline read and indexed), warm (index kept, the change counter checked),
  and after another process wrote one sector (only the changed rows re-read);
* on PostGIS, for comparison, the same question asked in SQL through the GiST
  index (``ST_Intersects`` + ``ST_Area`` in British National Grid);
* the cold index load alone (every outline of the case read, reprojected and
  indexed), before (rows through SQLAlchemy's result objects, decoded row by row:
  the previous path, kept here) and after (``casefile.sector_index.case_index``:
  one query straight from the driver, binary on PostgreSQL, decoded in slices on
  the shared worker threads with the garbage collector held off, each distinct
  vertex reprojected once), back to back, median of 5 each; then, with CPU time,
  the outlines reprojected by copying (before) against moved in place (after).
  Each cold load here also frees the index it replaces (some milliseconds).

Target: warm check under 50 ms on both backends.

Usage: ``python bench/overlap_bench.py [--pg postgresql://user@host:5432/db] [--sizes 10000 50000]
[--no-sqlite]`` (sizes also from ``WAYHOME_BENCH_SIZES``, e.g. ``2000`` for a quick run)
(PostGIS is skipped without ``--pg`` or ``DATABASE_URL``; a private schema is
created in that database and dropped afterwards.)
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa
from shapely.geometry import box

from casefile import Actor, NewSector, open_store, utcnow
from casefile import sector_index as si
from geo.crs import decoded_to_bng, geoms_to_lonlat

X0, Y0 = 525_000.0, 170_000.0  # Lambeth / Wandsworth, BNG metres
CELL = 100.0
COLS = 250  # 25 km wide


def cells(start: int, stop: int) -> list[NewSector]:
    out = []
    for k in range(start, stop):
        r, c = divmod(k, COLS)
        out.append(NewSector(
            geometry=geoms_to_lonlat(box(X0 + c * CELL, Y0 + r * CELL, X0 + (c + 1) * CELL,
                                         Y0 + (r + 1) * CELL)),
            origin="grid",
        ))
    return out


def timed(fn, repeat: int = 1) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def _index_before(db, case_id: int) -> None:
    """The previous cold load: SQLAlchemy rows, decoded by ``ground_bng``, then indexed."""
    with db.engine.connect() as conn:
        ids, geoms = si.ground_bng(si.index_rows(conn, db.backend, case_id, None))
        si.CaseIndex.build(0, ids, geoms)


def _index_copying(db, case_id: int) -> None:
    """The cold load with outlines reprojected by copying (``geoms_to_bng``), as it was
    before they were moved in place (``decoded_to_bng``)."""
    si.decoded_to_bng = si.geoms_to_bng
    try:
        _index_after(db, case_id)
    finally:
        si.decoded_to_bng = decoded_to_bng


def cpu_timed(fn, repeat: int) -> tuple[float, float]:
    """Median wall ms and median CPU ms (every thread of this process) of ``fn``."""
    walls, cpus = [], []
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        fn()
        walls.append((time.perf_counter() - t0) * 1000)
        cpus.append((time.process_time() - c0) * 1000)
    return statistics.median(walls), statistics.median(cpus)


def _index_after(db, case_id: int) -> None:
    """The cold load as the store does it now (the per-process cache emptied first)."""
    db.caches.pop(si.CACHE_NAME, None)
    with db.engine.connect() as conn:
        si.case_index(db, conn, case_id)


def run(url: str, label: str, sizes: list[int], pg_admin: str | None = None) -> None:
    store = open_store(url)
    sysa = Actor.system("bench")
    user = store.create_user(sysa, f"bench.{uuid.uuid4().hex[:8]}", "Bench", "x" * 16)
    me = Actor(user.id, user.display_name, "coordinator")
    case = store.create_case(me, reference=f"BENCH-{uuid.uuid4().hex[:8]}", child_name="B",
                             age=12, risk="high", reported_missing_at=utcnow() - timedelta(hours=1),
                             ipp=(51.45, -0.12))
    # the probe: a 150 m square over the corner of four stored cells
    probe = geoms_to_lonlat(box(X0 + 1050, Y0 + 350, X0 + 1200, Y0 + 500))
    have = 0
    print(f"\n== {label}")
    for n in sizes:
        items = cells(have, n)
        t0 = time.perf_counter()
        store.create_sectors(me, case.id, items)
        dt = time.perf_counter() - t0
        print(f"  bulk insert {len(items):>6,} sectors: {dt:6.1f} s  "
              f"({len(items) / dt:,.0f} sectors/s, tags + overlap check + audit included)")
        have = n
        fresh = open_store(url, migrate=False)  # empty in-process cache: cold
        cold = timed(lambda s=fresh: s.check_overlaps(me, case.id, probe))[0]
        found = fresh.check_overlaps(me, case.id, probe)
        warm = timed(lambda s=fresh: s.check_overlaps(me, case.id, probe), repeat=30)
        other = open_store(url, migrate=False)
        after = []
        y = Y0 - 5000 - 200 * sizes.index(n)
        for k in range(5):
            other.create_sector(me, case.id, geometry=geoms_to_lonlat(
                box(X0 + 200 * k, y, X0 + 100 + 200 * k, y + 100)))
            after += timed(lambda s=fresh: s.check_overlaps(me, case.id, probe))
        print(f"  check_overlaps against {n:>6,} sectors ({len(found)} overlapped, "
              f"{sum(o.overlap_m2 for o in found):,.0f} m²): cold {cold:7.1f} ms, "
              f"warm median {statistics.median(warm):5.2f} ms (max {max(warm):5.2f}), "
              f"after another process's write median {statistics.median(after):5.1f} ms")
        if pg_admin is not None:
            eng = store.engine
            q = sa.text(
                "SELECT id, ST_Area(ST_Intersection(ST_Transform(geom, 27700), "
                "ST_Transform(ST_GeomFromText(:w, 4326), 27700))) AS m2 FROM sectors "
                "WHERE case_id = :c AND ST_Intersects(geom, ST_GeomFromText(:w, 4326))"
            )
            with eng.connect() as conn:
                sql = timed(lambda c=conn, q=q: c.execute(q, {"w": probe.wkt, "c": case.id}).all(),
                            repeat=30)
            print(f"  PostGIS SQL alone (GiST ST_Intersects + BNG areas): median "
                  f"{statistics.median(sql):5.2f} ms")
        before = timed(lambda s=fresh: _index_before(s.db, case.id), repeat=5)
        after_load = timed(lambda s=fresh: _index_after(s.db, case.id), repeat=5)
        print(f"  cold index load of {n:>6,} sectors: before median "
              f"{statistics.median(before):6.0f} ms, after median "
              f"{statistics.median(after_load):6.0f} ms (load average {os.getloadavg()[0]:.1f})")
        copying = cpu_timed(lambda s=fresh: _index_copying(s.db, case.id), repeat=5)
        in_place = cpu_timed(lambda s=fresh: _index_after(s.db, case.id), repeat=5)
        print(f"  cold index load of {n:>6,} sectors, reprojected by copying (before) "
              f"{copying[0]:6.0f} ms wall {copying[1]:5.0f} ms cpu, in place (after) "
              f"{in_place[0]:6.0f} ms wall {in_place[1]:5.0f} ms cpu "
              f"(load average {os.getloadavg()[0]:.1f})")
        fresh.close()
        other.close()
    store.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg", default=os.environ.get("DATABASE_URL", ""))
    env_sizes = [int(x) for x in os.environ.get("WAYHOME_BENCH_SIZES", "").split()]
    ap.add_argument("--sizes", type=int, nargs="+", default=env_sizes or [10_000, 50_000])
    ap.add_argument("--no-sqlite", action="store_true", help="PostGIS only")
    args = ap.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite", args.sizes)
    if not args.pg:
        print("\n(PostGIS skipped: pass --pg postgresql://… or set DATABASE_URL)")
        return
    admin_url = "postgresql+psycopg://" + args.pg.split("://", 1)[1].split("?", 1)[0]
    schema = f"wh_bench_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(admin_url)
    with admin.begin() as conn:
        conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
        conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    try:
        url = admin_url + "?options=" + quote(f"-csearch_path={schema},public")
        run(url, "PostgreSQL + PostGIS", args.sizes, pg_admin=admin_url)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


if __name__ == "__main__":
    main()
