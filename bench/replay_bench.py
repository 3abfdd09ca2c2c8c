"""Prints how long a big case's POA history takes to replay under the moving model.

A case on a scratch SQLite store (or PostgreSQL with ``--pg URL``): POA rings for a
13-year-old set up 12.5 hours ago around a central London IPP, 2,000 sectors of 150 m
(a 6.75 km square), 500 of them searched one after another over 12 hours (one closed
pass each, high assurance) and 20 sightings over the same hours (4 verified, 16
unverified). The case is switched to the moving model (walk, Thames, leakage, jumps to
the child's home and to London's town centres and transport hubs), then:

* **cold**: ``Store.poa_replay`` with the per-process replay cache emptied — one read
  unit loads the passes (their stored per-cell POD), sightings and sectors; the replay
  moves the POA between every event and works out each searched sector's stale share;
* **cached**: the same call again (same case, change counter and 10-minute step);
* the stationary POA as stored (``poa_state``), for comparison;

and a profile of the cold replay's phases. Figures only; nothing is asserted.

Run: ``.venv/bin/python bench/replay_bench.py [--pg postgresql://…/db]``.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from datetime import timedelta
from pathlib import Path

import numpy as np
import shapely

import geo
from casefile import Actor, NewSighting, open_store, utcnow
from casefile import motion as mo
from casefile import passes as ps
from casefile import permissions as perm
from casefile import schema as t
from casefile.fieldwork import NewSector
from casefile.unit_of_work import UnitOfWork
from geo.crs import bng_to_lonlat, geoms_to_lonlat, lonlat_to_bng

LAT, LON = 51.5150, -0.1400  # Oxford Circus, north of the Thames
SIDE_M = 150.0
GRID = 45  # 45 x 45 = 2,025 sector places, 2,000 used
SECTORS, PASSES, SIGHTINGS, VERIFIED, HOURS = 2_000, 500, 20, 4, 12.0


def build(url: str):
    store = open_store(url)
    user = store.create_user(Actor.system("bench"), f"bench.{uuid.uuid4().hex[:6]}", "Bench",
                             "x" * 16)
    me = Actor(user_id=user.id, display_name=user.display_name, role="coordinator")
    now = utcnow()
    start = now - timedelta(hours=HOURS + 0.5)
    case = store.create_case(me, reference=f"BENCH-{uuid.uuid4().hex[:8]}", child_name="Bench",
                             age=13, risk="high", reported_missing_at=start - timedelta(hours=1),
                             ipp=(LAT, LON), home=(LAT + 0.02, LON + 0.03))
    t0 = time.perf_counter()
    store.set_up_poa(me, case.id, age=13)
    with store.engine.begin() as conn:  # the POA was set up 12.5 hours ago
        conn.execute(t.poa_states.update().where(t.poa_states.c.case_id == case.id)
                     .values(created_at=start))
    x, y = (float(v) for v in lonlat_to_bng(LON, LAT))
    x0, y0 = x - GRID * SIDE_M / 2, y - GRID * SIDE_M / 2
    ix, iy = np.meshgrid(np.arange(GRID), np.arange(GRID))
    ix, iy = ix.ravel()[:SECTORS], iy.ravel()[:SECTORS]
    boxes = shapely.box(x0 + ix * SIDE_M, y0 + iy * SIDE_M, x0 + (ix + 1) * SIDE_M,
                        y0 + (iy + 1) * SIDE_M)
    lonlat = geoms_to_lonlat(boxes)
    sectors = []
    for k in range(0, SECTORS, 500):
        sectors += store.create_sectors(me, case.id, [NewSector(geometry=g)
                                                      for g in lonlat[k:k + 500]])
    team = store.create_team(me, case.id, name="Team Blue", org_type="met_bcu")
    print(f"built: POA set up, {len(sectors)} sectors in {time.perf_counter() - t0:.1f} s")
    # the 500 searched sectors: nearest the IPP first (as a coordinator would)
    d = np.hypot(ix - GRID / 2, iy - GRID / 2)
    order = np.argsort(d, kind="stable")[:PASSES]
    t0 = time.perf_counter()
    for n, k in enumerate(order):
        s = sectors[int(k)]
        s = store.set_sector_status(me, s.id, "ready", version=s.version)
        s = store.assign_sector(me, s.id, team.id, version=s.version)
        s = store.start_sector(me, s.id, version=s.version)
        store.finish_sector(me, s.id, version=s.version, search_type="thorough",
                            assurance="high",
                            searched_at=start + timedelta(hours=0.25 + HOURS * n / PASSES))
    print(f"built: {PASSES} passes in {time.perf_counter() - t0:.1f} s")
    rng = np.random.default_rng(14)
    pts = [(x + rng.normal(0, 1500), y + rng.normal(0, 1500)) for _ in range(SIGHTINGS)]
    items = []
    for n, (px, py) in enumerate(pts):
        lon, lat = (float(v) for v in bng_to_lonlat(px, py))
        items.append(NewSighting(
            lat=lat, lon=lon, seen_at=start + timedelta(hours=0.5 + HOURS * n / SIGHTINGS),
            source="public", confidence="medium",
            status="verified" if n % (SIGHTINGS // VERIFIED) == SIGHTINGS // VERIFIED - 1
            else "unverified"))
    store.add_sightings(me, case.id, items)
    m = store.motion_model(me, case.id)
    store.set_motion_model(me, case.id, version=m.version, model="moving")
    return store, me, case


def bench(url: str, label: str) -> None:
    print(f"\n== {label} (figures taken on a shared, loaded machine)")
    store, me, case = build(url)
    cold = []
    for _ in range(3):
        store.db.caches.pop(mo.REPLAY_CACHE, None)
        t0 = time.perf_counter()
        rp = store.poa_replay(me, case.id)
        cold.append(time.perf_counter() - t0)
    t0 = time.perf_counter()
    again = store.poa_replay(me, case.id)
    cached = time.perf_counter() - t0
    assert again is rp
    g = rp.grid
    assert g is not None
    total = float(g.cells["poa"].sum()) + g.rest_of_world
    print(f"replay of {PASSES} passes and {SIGHTINGS} sightings over {HOURS:g} h on "
          f"{SECTORS} sectors: cold median {statistics.median(cold):.2f} s "
          f"(runs {', '.join(f'{c:.2f}' for c in cold)} s), cached {cached * 1000:.2f} ms")
    print(f"  grid {len(g.cells)} cells, rest of world {g.rest_of_world:.3f}, total "
          f"{total:.12f}; {len(rp.stale)} searched sectors with a stale share, "
          f"{sum(s.search_again for s in rp.stale)} suggest searching again; "
          f"{len(rp.notes)} note(s)")
    t0 = time.perf_counter()
    store.poa_state(me, case.id)  # moving: the replay (cached)
    print(f"  poa_state on the cached replay: {(time.perf_counter() - t0) * 1000:.1f} ms")
    phases(store, me, case)
    store.close()


def phases(store, me, case) -> None:
    """The cold replay's parts, timed apart (same code as ``casefile.motion``)."""
    db = store.db
    t0 = time.perf_counter()
    with UnitOfWork(db, me, perm.POA_READ, case_id=case.id, mode="read") as uow:
        row = ps.active_poa_row(uow.conn, case.id)
        motion = mo.motion_of(uow.conn, case.id)
        model = mo.model_for(motion, uow.case_row)
        loaded = mo._load(uow, row)
    load = time.perf_counter() - t0
    x, y = lonlat_to_bng(float(row.origin_lon), float(row.origin_lat))
    prior = geo.PoaGrid.from_dict(mo.from_json(row.prior), float(row.cell_m))
    t0 = time.perf_counter()
    grid, snaps, _ = mo.replay_grid(prior, loaded.start, loaded.events, model, utcnow(),
                                    (float(x), float(y)))
    replay = time.perf_counter() - t0
    t0 = time.perf_counter()
    for sid, (hole, removed, at, pid) in snaps.items():
        mo._stale(loaded.sectors[sid], hole, removed, at, pid, utcnow(), model,
                  (float(x), float(y)))
    stale = time.perf_counter() - t0
    print(f"  cold phases: load {load:.2f} s ({len(loaded.events)} events), replay "
          f"{replay:.2f} s (prior {len(prior.cells)} cells -> {len(grid.cells)}), stale shares "
          f"of {len(snaps)} sectors {stale:.2f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pg", help="a PostgreSQL database URL (PostGIS) to use as well")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        bench(f"sqlite:///{Path(tmp) / 'bench.sqlite3'}", "SQLite (WAL, file)")
    if args.pg:
        bench(args.pg, "PostgreSQL + PostGIS")


if __name__ == "__main__":
    main()
