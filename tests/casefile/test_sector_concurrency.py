"""Fifty workers in separate processes change the sectors of one case at once.

The unit of work takes its locks in one order (the case's change counter first,
then rows), so writers of one case queue instead of deadlocking; a transaction
the database still aborts is run again. What must hold, on both backends:

* no database error reaches a caller (no deadlock surfaces, no raw SQLAlchemy error);
* a sector claimed by five workers at the same version goes to exactly one team;
* every worker's note reaches its sector (read-modify-write with retries: no lost update);
* every sector finished is finished once, with exactly one pass record of that;
* one audit record per successful write, and the counter moved once per write.
"""

from __future__ import annotations

import multiprocessing as mp
import traceback

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from casefile import Actor, StaleVersion, open_store
from casefile import schema as t
from geo.crs import geoms_to_lonlat
from tests.casefile.conftest import make_case, make_coordinator

pytestmark = pytest.mark.db

WORKERS = 50
SECTORS = 10
X0, Y0 = 531_000.0, 180_000.0  # BNG metres, central London


def _square(i: int):
    """A 100 m square per sector, 200 m apart (no overlaps), as lon/lat."""
    x = X0 + (i % 5) * 200.0
    y = Y0 + (i // 5) * 200.0
    return geoms_to_lonlat(box(x, y, x + 100.0, y + 100.0))


def _retry(fn, store, actor, sector_id, attempts=200):
    """Reload and try again on a stale version (what a page does when told to reload)."""
    for _ in range(attempts):
        sector = store.get_sector(actor, sector_id)
        try:
            return fn(sector)
        except StaleVersion:
            continue
    raise AssertionError("gave up after many stale versions")


def _worker(url, actor_tuple, sector_ids, team_ids, versions, barrier, results, index):
    out = {"index": index, "claimed": None, "errors": [], "writes": 0, "finished": None}
    try:
        store = open_store(url, migrate=False)
        actor = Actor(*actor_tuple)
        mine = sector_ids[index % SECTORS]
        team = team_ids[index % len(team_ids)]
        barrier.wait(timeout=120)
        # 1. five workers claim each sector at the version they all loaded
        try:
            store.assign_sector(actor, mine, team, version=versions[mine])
            out["claimed"] = mine
            out["writes"] += 1
        except StaleVersion:
            pass
        barrier.wait(timeout=120)
        # 2. everyone appends a note to its sector, retrying on conflicts
        token = f"[w{index}]"
        _retry(
            lambda s: store.update_sector(actor, s.id, version=s.version,
                                          notes=(s.notes + " " + token).strip()),
            store, actor, mine,
        )
        out["writes"] += 1
        barrier.wait(timeout=120)
        # 3. the first worker of each sector starts and finishes it; the others add notes
        if index < SECTORS:
            _retry(lambda s: store.start_sector(actor, s.id, version=s.version),
                   store, actor, mine)
            _retry(lambda s: store.finish_sector(actor, s.id, version=s.version,
                                                 search_type="hasty", assurance="low"),
                   store, actor, mine)
            out["writes"] += 2
            out["finished"] = mine
        else:
            _retry(
                lambda s: store.update_sector(actor, s.id, version=s.version,
                                              notes=s.notes + f" [again{index}]"),
                store, actor, mine,
            )
            out["writes"] += 1
        store.close()
    except Exception:
        out["errors"].append(traceback.format_exc())
    results.put(out)


def test_fifty_workers_on_one_case_no_deadlock_no_lost_update_no_double_claim(store_url):
    store = open_store(store_url)
    coord = make_coordinator(store)
    case = make_case(store, coord)
    teams = [
        store.create_team(coord, case.id, name=f"Team {i}", org_type="met_bcu", size=4)
        for i in range(5)
    ]
    sectors = [
        store.create_sector(coord, case.id, geometry=_square(i), name=f"Block {i}")
        for i in range(SECTORS)
    ]
    sectors = [store.set_sector_status(coord, s.id, "ready", version=s.version) for s in sectors]
    with store.engine.connect() as conn:
        audit_before = conn.execute(sa.select(sa.func.count()).select_from(t.audit_log)).scalar()
        counter_before = conn.execute(
            sa.select(t.case_change.c.n).where(t.case_change.c.case_id == case.id)
        ).scalar()

    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(WORKERS)
    results = ctx.Queue()
    actor = (coord.user_id, coord.display_name, coord.role)
    ids = [s.id for s in sectors]
    versions = {s.id: s.version for s in sectors}
    procs = [
        ctx.Process(target=_worker, args=(store_url, actor, ids, [tm.id for tm in teams],
                                          versions, barrier, results, i))
        for i in range(WORKERS)
    ]
    for p in procs:
        p.start()
    outs = [results.get(timeout=600) for _ in procs]
    for p in procs:
        p.join(timeout=60)

    errors = [e for o in outs for e in o["errors"]]
    assert errors == [], errors[0]
    claims = [o["claimed"] for o in outs if o["claimed"] is not None]
    assert sorted(claims) == sorted(ids), "each sector is claimed exactly once"

    final = {s.id: s for s in store.sectors(coord, case.id)}
    for o in outs:
        sector = final[ids[o["index"] % SECTORS]]
        assert f"[w{o['index']}]" in sector.notes, "a note was lost"
        if o["index"] >= SECTORS:
            assert f"[again{o['index']}]" in sector.notes, "a note was lost"
    assert {s.status for s in final.values()} == {"searched"}
    passes = store.passes(coord, case.id)
    assert sorted(p.sector_id for p in passes) == sorted(ids), "one pass per finished sector"

    writes = sum(o["writes"] for o in outs)
    with store.engine.connect() as conn:
        audit_after = conn.execute(sa.select(sa.func.count()).select_from(t.audit_log)).scalar()
        counter_after = conn.execute(
            sa.select(t.case_change.c.n).where(t.case_change.c.case_id == case.id)
        ).scalar()
    assert audit_after - audit_before >= writes  # one record per write, and the passes' own
    assert counter_after - counter_before == writes
    store.close()
