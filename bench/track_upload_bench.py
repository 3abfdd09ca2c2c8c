"""Prints how long a GPS track upload takes, upload to recomputed pass and POA, on the demo case.

The demo case (``wayhome demo``) gets one team, 48 sectors of 400 m around its
IPP, POA set up from the age band's rings on a 100 m grid, and 24 finished
sectors each with an uploaded track (24 closed passes taken into POA). Then, on
SQLite and on PostgreSQL + PostGIS (``--pg`` or ``DATABASE_URL``):

* a track uploaded to a sector being searched (an open pass: POA does not move);
* a late track uploaded to a sector already finished (its closed pass is
  recomputed, then POA: only that pass's per-cell POD is worked out again);
* the same late upload from a freshly opened store (a new app process: nothing
  in memory, the other passes' per-cell PODs come from the database);
* setting POA up again (a reset applies every closed pass from scratch).

Usage: ``.venv/bin/python bench/track_upload_bench.py [--pg postgresql://…]``.
Figures only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import shapely
import sqlalchemy as sa
from shapely.geometry import LineString, box

from casefile import open_store
from geo.crs import geoms_to_lonlat, lonlat_to_bng
from wayhome.demo import load_demo

PASSWORD = "bench password for track uploads"
SIDE = 400.0
N_SIDE = (8, 6)  # 48 sectors
FINISHED = 24


def gpx(points_bng: list[tuple[float, float]], start: datetime, step_m: float = 3.0) -> bytes:
    """A GPX walk through BNG points, a point every ``step_m`` metres at 1.5 m/s."""
    line = LineString(points_bng)
    n = max(2, int(line.length // step_m) + 1)
    pts = geoms_to_lonlat(shapely.MultiPoint(
        [line.interpolate(i * line.length / (n - 1)) for i in range(n)]))
    rows = "".join(
        f'<trkpt lat="{p.y:.8f}" lon="{p.x:.8f}"><time>'
        f"{(start + timedelta(seconds=i * step_m / 1.5)).strftime('%Y-%m-%dT%H:%M:%SZ')}"
        "</time></trkpt>" for i, p in enumerate(pts.geoms))
    return ('<?xml version="1.0"?><gpx version="1.1" creator="bench" '
            'xmlns="http://www.topografix.com/GPX/1/1">'
            f"<trk><trkseg>{rows}</trkseg></trk></gpx>").encode()


def zigzag(x0: float, y0: float, legs: int = 8) -> list[tuple[float, float]]:
    """A line search across a 400 m square: ``legs`` sweeps 50 m apart."""
    pts = []
    for i in range(legs):
        y = y0 + 25 + i * (SIDE - 50) / max(legs - 1, 1)
        xs = (x0 + 20, x0 + SIDE - 20) if i % 2 == 0 else (x0 + SIDE - 20, x0 + 20)
        pts += [(xs[0], y), (xs[1], y)]
    return pts


def timed(fn, repeat: int = 1) -> tuple[float, object]:
    out, times = None, []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def run(url: str, label: str) -> None:
    print(f"\n== {label}")
    store = open_store(url)
    demo = load_demo(store, password=PASSWORD)
    actor = store.authenticate("demo.coordinator", PASSWORD)
    case = store.get_case(actor, demo.case_id)
    team = store.create_team(actor, case.id, name="Bench team", org_type="met_bcu")
    x, y = (float(v) for v in lonlat_to_bng(case.ipp_lon, case.ipp_lat))
    x0, y0 = round(x) - N_SIDE[0] * SIDE / 2, round(y) - N_SIDE[1] * SIDE / 2
    corners = [(x0 + i * SIDE, y0 + j * SIDE) for j in range(N_SIDE[1]) for i in range(N_SIDE[0])]
    sectors = store.create_sectors(actor, case.id, [
        _new(geoms_to_lonlat(box(cx, cy, cx + SIDE, cy + SIDE)), f"B{k}")
        for k, (cx, cy) in enumerate(corners)])
    t_setup, state = timed(lambda: store.set_up_poa(actor, case.id))
    print(f"POA set up from rings: {len(state.prior) - 1:,} cells of {state.cell_m:g} m "
          f"({t_setup:.2f} s)")
    start = datetime(2026, 3, 1, 16, 0, tzinfo=UTC)
    walked = []
    t0 = time.perf_counter()
    for k, (sec, (cx, cy)) in enumerate(zip(sectors[:FINISHED], corners, strict=False)):
        s = store.set_sector_status(actor, sec.id, "ready", version=sec.version)
        s = store.assign_sector(actor, s.id, team.id, version=s.version)
        s = store.start_sector(actor, s.id, version=s.version)
        store.upload_track(actor, case.id, (f"walk-{k}.gpx", gpx(zigzag(cx, cy),
                           start + timedelta(minutes=10 * k))), team_id=team.id,
                           sector_id=s.id, searchers=3)
        s = store.get_sector(actor, s.id)
        store.finish_sector(actor, s.id, version=s.version, search_type="thorough",
                            assurance="medium")
        walked.append((s, cx, cy))
    print(f"{FINISHED} sectors searched with a track each, finished: "
          f"{time.perf_counter() - t0:.1f} s in all")
    # an open pass: a sector being searched
    sec = sectors[FINISHED]
    s = store.set_sector_status(actor, sec.id, "ready", version=sec.version)
    s = store.assign_sector(actor, s.id, team.id, version=s.version)
    s = store.start_sector(actor, s.id, version=s.version)
    cx, cy = corners[FINISHED]
    t, up = timed(lambda: store.upload_track(
        actor, case.id, ("open.gpx", gpx(zigzag(cx, cy, 10), start + timedelta(hours=5))),
        team_id=team.id, sector_id=s.id))
    print(f"upload to a sector being searched (open pass, POA unchanged): {t:6.2f} s "
          f"[{up.track.n_points} points]")
    # late uploads to finished sectors, warm store
    late = []
    for i in range(3):
        s, cx, cy = walked[i]
        pts = [(cx + 10, cy + 60 + 100 * i), (cx + SIDE - 10, cy + 90 + 100 * i)]
        late.append((s, gpx(pts, start + timedelta(hours=6, minutes=i))))
    times = []
    for i, (s, data) in enumerate(late[:2]):
        t, up = timed(lambda s=s, data=data, i=i: store.upload_track(
            actor, case.id, (f"late-{i}.gpx", data), team_id=team.id, sector_id=s.id))
        times.append(t)
    print(f"late upload to a finished sector (closed pass + POA), warm store: "
          f"{', '.join(f'{x:.2f}' for x in times)} s")
    store.close()
    fresh = open_store(url, migrate=False)
    s, data = late[2]
    t, up = timed(lambda: fresh.upload_track(actor, case.id, ("late-2.gpx", data),
                                             team_id=team.id, sector_id=s.id))
    print(f"late upload to a finished sector, freshly opened store:           {t:.2f} s")
    t, state = timed(lambda: fresh.set_up_poa(actor, case.id, reason="bench reset"))
    print(f"POA reset (every closed pass applied from scratch, {len(state.applied)} passes): "
          f"{t:.2f} s")
    fresh.close()


def _new(geom, name: str):
    from casefile import NewSector

    return NewSector(geometry=geom, name=name)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pg", default=os.environ.get("DATABASE_URL", ""))
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        run(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite")
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
        run(admin_url + "?options=" + quote(f"-csearch_path={schema},public"),
            "PostgreSQL + PostGIS")
    finally:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()


if __name__ == "__main__":
    main()
