"""The repeat check of enquiry tasks, end to end, against 10,000 stored tasks.

Per backend (SQLite; PostGIS with ``--pg`` or ``DATABASE_URL``) one case is filled
with 10,000 tasks spread over 10 km × 10 km of South London: CCTV with two-hour
windows, visits with addresses, house-to-house on named streets and place checks.
They are written straight into the ``tasks`` table with the store's own keys
(:mod:`geo.task_places`) — a fixture, so filling takes seconds rather than the
minutes 10,000 audited saves would. Then, median and 95th percentile of 50 calls:

* ``Store.task_repeats`` — what a form asks before saving (permission, input checks,
  the three indexed look-ups, the repeat rules), for a CCTV at a stored camera
  with an overlapping window (one repeat), and a visit at a new address (none);
* ``Store.add_task`` of a repeating CCTV — the whole write up to the warning
  (jurisdiction tags, the case's lock, the check, the rollback).

Target: ≤ 50 ms end to end on both backends.

Usage: ``python bench/task_duplicates_bench.py [--pg postgresql://user@host:5432/db]
[--n 10000] [--no-sqlite]`` (on PostGIS a private schema is made and dropped).
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import numpy as np
import shapely
import sqlalchemy as sa

from casefile import Actor, TaskRepeatWarning, open_store, utcnow
from casefile import schema as t
from geo import task_places as tp
from geo.crs import geoms_to_lonlat

X0, Y0 = 525_000.0, 170_000.0  # Lambeth / Wandsworth, BNG metres
SIDE = 10_000.0
DAY = datetime(2026, 12, 5, tzinfo=UTC)


def _rows(case_id: int, n: int, now: datetime) -> list[dict]:
    rnd = random.Random(7)
    rows = []
    for k in range(n):
        x, y = X0 + rnd.random() * SIDE, Y0 + rnd.random() * SIDE
        pick = k % 10
        start = end = None
        address = postcode = street = ""
        side = None
        if pick < 4:
            kind = "cctv"
            start = DAY + timedelta(hours=rnd.randrange(0, 22))
            end = start + timedelta(hours=2)
            bng = shapely.Point(x, y)
        elif pick < 7:
            kind = "visit_friend"
            address, postcode = f"Flat {k % 9 + 1}, {k} Bench Road", f"SW{k % 20 + 1} 1AA"
            bng = shapely.Point(x, y)
        elif pick < 9:
            kind = "house_to_house"
            street, side = f"Street {k % 500}", ("odd", "even", "both")[k % 3]
            bng = shapely.LineString([(x, y), (x + 150, y + 20)])
        else:
            kind = "station_check"
            bng = shapely.Point(x, y)
        lonlat = geoms_to_lonlat(np.array([bng], dtype=object))[0]
        lon, lat = tp.anchor(lonlat)
        rows.append({
            "case_id": case_id, "number": k + 1, "kind": kind, "title": f"Task {k + 1}",
            "status": "planned", "status_changed_at": now, "team_id": None, "note": "",
            "result_note": "", "address": address, "postcode": postcode, "street": street,
            "side": side, "route": "", "window_start": start, "window_end": end,
            "geom": lonlat, "lon": lon, "lat": lat,
            "premises_key": tp.premises_key(postcode, address),
            "street_key": tp.street_key(street=street), "cell": tp.cell_of(*tp.anchor(bng)),
            "borough_code": None, "bcu_code": None, "force_code": None,
            "repeat_kept_reason": "", "change_n": 1, "created_at": now, "created_by_id": None,
            "updated_at": now, "updated_by_id": None, "updated_by_name": "bench", "version": 1,
        })
    return rows


def _ms(fn, repeat: int = 50) -> tuple[float, float]:
    fn()  # warm the process (boundary layers, postcode table, pools)
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    out.sort()
    return statistics.median(out), out[int(0.95 * (len(out) - 1))]


def run(url: str, label: str, n: int) -> None:
    store = open_store(url)
    sysa = Actor.system("bench")
    user = store.create_user(sysa, f"bench.{uuid.uuid4().hex[:8]}", "Bench", "x" * 16)
    me = Actor(user.id, user.display_name, "coordinator")
    case = store.create_case(me, reference=f"BENCH-{uuid.uuid4().hex[:8]}", child_name="B",
                             age=12, risk="high", reported_missing_at=utcnow() - timedelta(hours=1),
                             ipp=(51.45, -0.12))
    rows = _rows(case.id, n, utcnow())
    t0 = time.perf_counter()
    with store.engine.begin() as conn:
        for i in range(0, len(rows), 2000):
            conn.execute(t.tasks.insert(), rows[i:i + 2000])
    fill = time.perf_counter() - t0
    camera = next(r for r in rows if r["kind"] == "cctv")
    cam_point = camera["geom"]
    start = camera["window_start"] + timedelta(minutes=30)
    end = start + timedelta(hours=1)
    found = store.task_repeats(me, case.id, kind="cctv", place_lonlat=cam_point,
                               window_start=start, window_end=end)
    assert found, "the probe should repeat a stored camera"
    new_place = geoms_to_lonlat(np.array([shapely.Point(X0 + 5001, Y0 + 5003)],
                                         dtype=object))[0]
    print(f"\n== {label}: {n:,} stored tasks (filled in {fill:.1f} s)")
    med, p95 = _ms(lambda: store.task_repeats(me, case.id, kind="cctv", place_lonlat=cam_point,
                                              window_start=start, window_end=end))
    print(f"task_repeats, CCTV at a stored camera ({len(found)} repeat): "
          f"median {med:.1f} ms, p95 {p95:.1f} ms")
    med, p95 = _ms(lambda: store.task_repeats(me, case.id, kind="visit_other",
                                              place_lonlat=new_place,
                                              address="9 Nowhere Lane", postcode="SW9 9ZZ"))
    print(f"task_repeats, visit at a new address (none): median {med:.1f} ms, p95 {p95:.1f} ms")

    def warned() -> None:
        try:
            store.add_task(me, case.id, kind="cctv", title="again", place_lonlat=cam_point,
                           window_start=start, window_end=end)
        except TaskRepeatWarning:
            return
        raise AssertionError("the repeat was not flagged")

    med, p95 = _ms(warned)
    print(f"add_task up to the repeat warning (nothing saved): median {med:.1f} ms, "
          f"p95 {p95:.1f} ms")
    print("target: <= 50 ms end to end")
    store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=os.environ.get("DATABASE_URL"))
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--no-sqlite", action="store_true")
    args = parser.parse_args()
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory() as tmp:
            run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite", args.n)
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
        run(url, "PostgreSQL + PostGIS", args.n)
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


if __name__ == "__main__":
    main()
