"""Twenty writers in separate processes, released together, on one sighting and one case.

Optimistic versions must give exactly one winner per version, lose no update
when everyone retries, and leave exactly one audit record per successful write.
"""

from __future__ import annotations

import multiprocessing as mp
import random
import time
import traceback

import pytest
import sqlalchemy as sa

from casefile import Actor, StaleVersion, open_store
from casefile import schema as t
from tests.casefile.conftest import make_case, make_coordinator, sighting_kwargs

pytestmark = pytest.mark.db

WRITERS = 20
ROUNDS = 2  # successful appends per writer in the no-lost-update phase


def _writer(url, actor_tuple, case_id, sighting_id, versions, barrier, results, index):
    """One process: a single shot at a known version, then ROUNDS read-modify-write retries."""
    try:
        store = open_store(url, migrate=False)
        actor = Actor(*actor_tuple)
        case_version, sighting_version = versions
        out = {
            "index": index,
            "case_won": False,
            "sighting_won": False,
            "case_ok": 0,
            "sighting_ok": 0,
            "stale": 0,
        }
        barrier.wait(timeout=120)
        # phase 1: everyone saves over the same version at once
        try:
            store.update_sighting(
                actor, sighting_id, version=sighting_version, description=f"first:{index}"
            )
            out["sighting_won"] = True
        except StaleVersion:
            out["stale"] += 1
        try:
            store.update_case(actor, case_id, version=case_version, notes=f"first:{index}")
            out["case_won"] = True
        except StaleVersion:
            out["stale"] += 1
        barrier.wait(timeout=120)
        # phase 2: append a token, reloading and retrying on every conflict
        for j in range(ROUNDS):
            token = f"[w{index}.{j}]"
            while True:
                s = store.get_sighting(actor, sighting_id)
                try:
                    store.update_sighting(
                        actor, sighting_id, version=s.version, description=s.description + token
                    )
                    out["sighting_ok"] += 1
                    break
                except StaleVersion:
                    out["stale"] += 1
                    time.sleep(random.uniform(0, 0.02))  # a person reloads; not in lockstep
            while True:
                c = store.get_case(actor, case_id)
                try:
                    store.update_case(actor, case_id, version=c.version, notes=c.notes + token)
                    out["case_ok"] += 1
                    break
                except StaleVersion:
                    out["stale"] += 1
                    time.sleep(random.uniform(0, 0.02))
        store.close()
        results.put(out)
    except BaseException:  # report, never hang the parent
        results.put({"index": index, "error": traceback.format_exc()})


def test_twenty_processes_one_winner_per_version_no_lost_update(store_url):
    store = open_store(store_url)
    coord = make_coordinator(store)
    case = make_case(store, coord)
    s = store.add_sighting(coord, case.id, **sighting_kwargs(description=""))
    audit_before = {
        "case": len(store.audit_log(coord, case.id, entity="case")),
        "sighting": len(store.audit_log(coord, case.id, entity="sighting")),
    }
    token_before = store.change_token(coord, case.id)
    store.close()  # no pooled connection crosses the fork

    ctx = mp.get_context("fork")
    barrier = ctx.Barrier(WRITERS)
    results = ctx.Queue()
    procs = [
        ctx.Process(
            target=_writer,
            args=(
                store_url,
                (coord.user_id, coord.display_name, coord.role),
                case.id,
                s.id,
                (case.version, s.version),
                barrier,
                results,
                i,
            ),
        )
        for i in range(WRITERS)
    ]
    for p in procs:
        p.start()
    outs = [results.get(timeout=300) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    errors = [o["error"] for o in outs if "error" in o]
    assert not errors, errors[0]

    # phase 1: exactly one winner for the version everyone held
    assert sum(o["sighting_won"] for o in outs) == 1
    assert sum(o["case_won"] for o in outs) == 1
    # phase 2: every append landed, none overwritten
    store = open_store(store_url)
    final_s = store.get_sighting(coord, s.id)
    final_c = store.get_case(coord, case.id)
    for i in range(WRITERS):
        for j in range(ROUNDS):
            assert final_s.description.count(f"[w{i}.{j}]") == 1
            assert final_c.notes.count(f"[w{i}.{j}]") == 1
    successes_s = 1 + sum(o["sighting_ok"] for o in outs)
    successes_c = 1 + sum(o["case_ok"] for o in outs)
    assert successes_s == successes_c == 1 + WRITERS * ROUNDS
    assert final_s.version == s.version + successes_s
    assert final_c.version == case.version + successes_c
    # one audit record per successful write, none for the refused ones
    assert len(store.audit_log(coord, case.id, entity="sighting", limit=5000)) == (
        audit_before["sighting"] + successes_s
    )
    assert len(store.audit_log(coord, case.id, entity="case", limit=5000)) == (
        audit_before["case"] + successes_c
    )
    # the counter moved once per successful write transaction
    assert store.change_token(coord, case.id) == token_before + successes_s + successes_c
    with store.engine.connect() as conn:
        assert conn.execute(sa.select(sa.func.count()).select_from(t.sightings)).scalar_one() == 1
    store.close()
