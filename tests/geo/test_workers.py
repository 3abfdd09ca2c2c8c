"""The shared worker threads: order kept, the same threads every call, no self-wait."""

from __future__ import annotations

import multiprocessing
import os
import threading

import pytest

from geo import workers


@pytest.fixture
def two_cores(monkeypatch):
    monkeypatch.setattr(workers, "cores", lambda: 2)


def test_results_in_order_on_the_same_threads_every_call(two_cores):
    def name(i: int) -> tuple[int, str]:
        return i * i, threading.current_thread().name

    first = workers.in_workers(name, list(range(20)))
    second = workers.in_workers(name, list(range(20)))
    assert [r for r, _ in first] == [i * i for i in range(20)]
    threads = {n for _, n in first} | {n for _, n in second}
    assert all(n.startswith("geo-worker") for n in threads)
    # the pool's own threads (as many as the machine's cores at most), not new ones per call
    assert len(threads) <= min(os.cpu_count() or 1, 8)


def test_a_worker_asking_for_workers_runs_inline(two_cores):
    def outer(i: int) -> list[str]:
        return workers.in_workers(lambda _: threading.current_thread().name, [0, 1, 2])

    got = workers.in_workers(outer, [0, 1, 2, 3])
    for names in got:
        assert len(set(names)) == 1  # all three ran in the worker that asked


def test_one_item_runs_in_the_callers_thread(two_cores):
    me = threading.current_thread().name
    assert workers.in_workers(lambda _: threading.current_thread().name, [0]) == [me]


def _in_child(conn) -> None:
    conn.send(workers.in_workers(lambda i: i + 1, [1, 2, 3, 4]))
    conn.close()


def test_a_forked_child_gets_threads_of_its_own(two_cores):
    workers.in_workers(lambda i: i, [1, 2, 3])  # the parent's pool is running
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_in_child, args=(child,), daemon=True)
    proc.start()
    try:
        assert parent.poll(30), "the child waited on threads it does not have"
        assert parent.recv() == [2, 3, 4, 5]
    finally:
        proc.kill()
        proc.join(5)
