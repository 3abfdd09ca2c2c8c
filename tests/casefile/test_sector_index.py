"""The warm per-case overlap index: refreshed by what changed, answering as a fresh build would.

Pure in-memory tests of :class:`casefile.sector_index.CaseIndex` (no store):
random edits, moves and deletions are applied both incrementally and by a full
rebuild, and every query is compared with a brute-force answer.
"""

from __future__ import annotations

import numpy as np
import shapely

from casefile.sector_index import COMPACT_MIN, CaseIndex


def squares(xs, ys, d=100.0):
    return shapely.box(np.asarray(xs, float), np.asarray(ys, float),
                       np.asarray(xs, float) + d, np.asarray(ys, float) + d)


def brute(ids: dict[int, object], probe) -> set[int]:
    keys = list(ids)
    hit = shapely.intersects(np.array([ids[k] for k in keys], dtype=object), probe)
    return {k for k, h in zip(keys, hit, strict=True) if h}


def test_refresh_masks_moved_and_deleted_sectors_and_keeps_the_big_tree():
    n = 2000
    xs, ys = (np.arange(n) % 50) * 100.0, (np.arange(n) // 50) * 100.0
    truth = dict(zip(range(1, n + 1), squares(xs, ys), strict=True))
    index = CaseIndex.build(1, np.arange(1, n + 1), squares(xs, ys))
    base = index._base
    # move sector 7 far away, add sector n+1 where 7 was, delete sector 8
    moved = squares([90_000], [90_000])[0]
    truth[7] = moved
    truth[n + 1] = squares([600], [0])[0]
    del truth[8]
    index = index.refreshed(2, np.array([7, n + 1]), np.array([moved, truth[n + 1]]),
                            case_ids=np.array(sorted(truth)))
    assert index._base is base  # a small change does not rebuild the big tree
    assert len(index) == len(truth)
    for probe in (squares([650], [50], 10)[0], squares([750], [0], 250)[0],
                  squares([90_050], [90_050], 10)[0], squares([-500], [-500], 10)[0]):
        got = {int(index.ids[p]) for p in index.query(probe)}
        assert got == brute(truth, probe)
        table = index.overlaps_bng(probe)
        assert set(table["id"]) <= got
    assert index.ground_of([7])[0].equals(moved)


def test_many_random_refreshes_answer_like_a_fresh_build_and_compact():
    rng = np.random.default_rng(4)
    n = 1500
    xs, ys = rng.uniform(0, 5000, n), rng.uniform(0, 5000, n)
    truth = dict(zip(range(1, n + 1), squares(xs, ys), strict=True))
    index = CaseIndex.build(1, np.arange(1, n + 1), squares(xs, ys))
    next_id, compacted = n + 1, False
    for step in range(2, 60):
        base = index._base
        k = int(rng.integers(1, 12))
        ids = rng.choice(sorted(truth), size=k, replace=False).tolist()
        ids += list(range(next_id, next_id + 3))
        next_id += 3
        geoms = squares(rng.uniform(0, 5000, len(ids)), rng.uniform(0, 5000, len(ids)))
        truth.update(zip(ids, geoms, strict=True))
        gone = rng.choice(sorted(truth), size=2, replace=False).tolist()
        for g in gone:
            truth.pop(g)
        index = index.refreshed(step, np.array(ids), geoms, case_ids=np.array(sorted(truth)))
        compacted |= index._base is not base
        probe = squares(rng.uniform(0, 5000, 1), rng.uniform(0, 5000, 1), 400)[0]
        assert {int(index.ids[p]) for p in index.query(probe)} == brute(truth, probe)
        c, h = index.query_many(np.array([probe, shapely.box(-10, -10, -5, -5)], dtype=object))
        assert set(c.tolist()) <= {0} and len(h) == len(brute(truth, probe))
        fresh = CaseIndex.build(step, np.array(sorted(truth)),
                                np.array([truth[k] for k in sorted(truth)], dtype=object))
        assert len(index) == len(fresh) == len(truth)
    assert compacted  # 58 rounds of ~15 rewrites pass the compaction threshold
    assert len(index.ids) - index.n_base <= max(COMPACT_MIN, 0.05 * len(index)) + 20
