"""Faults: a process killed mid-write leaves the store whole, and a dropped database
connection costs one failed call, never a half or a doubled change.

* SQLite: a process doing a large sector import, or a GPS track upload, is killed
  (SIGKILL) at 20 seeded moments each; after each kill ``PRAGMA integrity_check`` is
  ``ok`` and the import is all or nothing (every sector with its audit record, or
  none; the track with its pass and audit record, or nothing).
* PostgreSQL: the store's own backend connections are terminated while idle in the
  pool and in the middle of a write; the next call reconnects and succeeds, and a
  form sent again with its idempotency key is saved exactly once.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import time
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from casefile import NewSector, Store, StoreError, open_store
from casefile import schema as t
from geo.crs import geoms_to_lonlat
from tests.casefile.conftest import (
    IS_PG,
    count_rows,
    make_case,
    make_coordinator,
    pg_admin_url,
    sighting_kwargs,
)
from tests.casefile.test_tracks import X0, Y0, gpx

pytestmark = pytest.mark.db

MOMENTS = 20
GRID = 18  # 324 sectors in one import
SEED = 16


def _grid() -> list[NewSector]:
    cells = [box(X0 + i * 60, Y0 + j * 60, X0 + i * 60 + 60, Y0 + j * 60 + 60)
             for i in range(GRID) for j in range(GRID)]
    return [NewSector(geometry=geoms_to_lonlat(c), name=f"cell {k}", origin="imported",
                      idempotency_key=f"grid-key-{k:04d}") for k, c in enumerate(cells)]


def _long_walk() -> bytes:
    ys = [Y0 + 30 + 120 * k for k in range(8)]
    pts = [(X0 + (30 if k % 2 else GRID * 60 - 30), y) for k, y in enumerate(ys)]
    return gpx(pts, name="sweep")


def _in_child(url: str, work: Callable[[Store], object]) -> int:
    """Fork a process that opens the store itself, does ``work`` and exits; its pid."""
    pid = os.fork()
    if pid == 0:  # pragma: no cover - the child
        code = 1
        try:
            store = open_store(url, migrate=False)
            work(store)
            code = 0
        except BaseException:
            traceback.print_exc()
        finally:
            os._exit(code)
    return pid


def _wait(pid: int) -> int:
    _, status = os.waitpid(pid, 0)
    return status


def _check(path: Path, expect_sectors: int) -> tuple[str, str]:
    """Integrity and all-or-nothing of both imports; returns (sectors, track) state."""
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        sectors = conn.execute("SELECT count(*) FROM sectors WHERE origin = 'imported'"
                               ).fetchone()[0]
        created = conn.execute("SELECT count(*) FROM audit_log WHERE entity = 'sector' "
                               "AND action = 'create'").fetchone()[0]
        keys = conn.execute("SELECT count(*) FROM idempotency WHERE key LIKE 'grid-key-%'"
                            ).fetchone()[0]
        tracks = conn.execute("SELECT count(*) FROM tracks").fetchone()[0]
        uploads = conn.execute("SELECT count(*) FROM audit_log WHERE entity = 'track'"
                               ).fetchone()[0]
        passes = conn.execute("SELECT count(*) FROM passes").fetchone()[0]
    # the one hand-made sector of the set-up has its own create record
    assert (sectors, created - 1, keys) in {(0, 0, 0), (expect_sectors,) * 3}
    assert (tracks, uploads, passes) in {(0, 0, 0), (1, 1, 1)}
    return ("all" if sectors else "none"), ("all" if tracks else "none")


@pytest.mark.skipif(IS_PG, reason="SQLite's file after a killed writer")
def test_a_killed_import_or_upload_leaves_sqlite_whole_and_all_or_nothing(tmp_path):
    base = tmp_path / "base.sqlite3"
    store = open_store(f"sqlite:///{base}")
    coord = make_coordinator(store)
    case = make_case(store, coord)
    team = store.create_team(coord, case.id, name="Red", org_type="met_bcu", size=6)
    sector = store.create_sector(coord, case.id, name="walked",
                                 geometry=geoms_to_lonlat(box(X0 - 400, Y0 - 400, X0 - 100,
                                                              Y0 - 100)))
    with store.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    items, walk = _grid(), _long_walk()

    def import_sectors(s: Store) -> object:
        return s.create_sectors(coord, case.id, items)

    def upload(s: Store) -> object:
        return s.upload_track(coord, case.id, ("sweep.gpx", walk), team_id=team.id,
                              sector_id=sector.id)

    rng = random.Random(SEED)
    seen: dict[str, set[str]] = {"import": set(), "upload": set()}
    for what, work, slot in (("import", import_sectors, 0), ("upload", upload, 1)):
        # how long the whole operation takes here, to spread the kills over it
        path = tmp_path / f"{what}-full.sqlite3"
        shutil.copyfile(base, path)
        started = time.monotonic()
        assert _wait(_in_child(f"sqlite:///{path}", work)) == 0
        took = time.monotonic() - started
        assert _check(path, len(items))[slot] == "all"
        for n in range(MOMENTS):
            path = tmp_path / f"{what}-{n}.sqlite3"
            shutil.copyfile(base, path)
            pid = _in_child(f"sqlite:///{path}", work)
            time.sleep(rng.uniform(0.0, took * 1.1))  # the seeded moment of the kill
            os.kill(pid, signal.SIGKILL)
            _wait(pid)
            seen[what].add(_check(path, len(items))[slot])
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
    # kills landed mid-way in both, and after a commit at least once
    assert "none" in seen["import"] and "none" in seen["upload"]
    assert seen["import"] | seen["upload"] == {"none", "all"}


# ---------------------------------------------------------------------- PostgreSQL


def _backend_pids(store: Store, n: int = 4) -> set[int]:
    """The server processes behind the store's pooled connections (n held at once)."""
    conns = [store.engine.connect() for _ in range(n)]
    try:
        return {c.exec_driver_sql("SELECT pg_backend_pid()").scalar_one() for c in conns}
    finally:
        for c in conns:
            c.close()


def _terminate(pids: set[int]) -> None:
    admin = sa.create_engine(pg_admin_url())
    try:
        with admin.connect() as conn:
            for pid in pids:
                conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid})
            # wait until the server has let them go
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                alive = conn.execute(sa.text(
                    "SELECT count(*) FROM pg_stat_activity WHERE pid = ANY(:p)"),
                    {"p": list(pids)}).scalar_one()
                if not alive:
                    break
                conn.rollback()
    finally:
        admin.dispose()


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL connections")
def test_dropped_connections_reconnect_and_nothing_is_lost_or_doubled(store, coord, case):
    first = store.add_sighting(coord, case.id, idempotency_key="sight-0001", **sighting_kwargs())
    # idle connections in the pool die (a restart, a failover, a network blip)
    _terminate(_backend_pids(store))
    assert store.get_case(coord, case.id).id == case.id  # pinged, replaced, served
    assert [s.id for s in store.sightings(coord, case.id)] == [first.id]

    # a connection dies in the middle of a write: one plain message, nothing saved
    killed: set[int] = set()

    def kill_mid_write(conn, cursor, statement, parameters, context, executemany):
        if statement.lstrip().upper().startswith("INSERT INTO SIGHTINGS") and not killed:
            pid = conn.exec_driver_sql("SELECT pg_backend_pid()").scalar_one()
            killed.add(pid)
            _terminate({pid})

    sa.event.listen(store.engine, "before_cursor_execute", kill_mid_write)
    try:
        with pytest.raises(StoreError, match="reconnecting"):
            store.add_sighting(coord, case.id, idempotency_key="sight-0002",
                               **sighting_kwargs(description="second"))
    finally:
        sa.event.remove(store.engine, "before_cursor_execute", kill_mid_write)
    assert killed and count_rows(store, t.sightings) == 1
    # the same form sent again (same key): saved once, and a third send replays it
    second = store.add_sighting(coord, case.id, idempotency_key="sight-0002",
                                **sighting_kwargs(description="second"))
    again = store.add_sighting(coord, case.id, idempotency_key="sight-0002",
                               **sighting_kwargs(description="second"))
    assert second.id == again.id != first.id
    assert count_rows(store, t.sightings) == 2
