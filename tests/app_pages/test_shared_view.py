"""app_pages/widgets/shared_view.py: one computation per key for every session of a process."""

from __future__ import annotations

import threading

import pytest

from app_pages.widgets import shared_view


@pytest.fixture(autouse=True)
def _fresh():
    shared_view.clear()
    yield
    shared_view.clear()


def test_sessions_asking_at_once_share_one_computation():
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def compute() -> object:
        calls.append(1)
        started.set()
        release.wait(10)
        return object()

    results: list[object] = []
    threads = [threading.Thread(target=lambda: results.append(
        shared_view.shared(("view", 1, 7), compute))) for _ in range(8)]
    for th in threads:
        th.start()
    assert started.wait(10)
    release.set()
    for th in threads:
        th.join(10)
    assert len(calls) == 1
    assert len(results) == 8 and all(r is results[0] for r in results)


def test_a_new_counter_or_an_old_entry_computes_again():
    values = iter(range(100))
    first = shared_view.shared(("view", 1, 7), lambda: next(values))
    assert shared_view.shared(("view", 1, 7), lambda: next(values)) == first
    assert shared_view.shared(("view", 1, 8), lambda: next(values)) != first
    assert shared_view.shared(("view", 1, 7), lambda: next(values), max_age=0) != first


def test_a_failure_is_not_stored_and_the_cache_is_bounded():
    def fail() -> int:
        raise RuntimeError("store down")

    with pytest.raises(RuntimeError):
        shared_view.shared(("view", 2, 1), fail)
    assert shared_view.shared(("view", 2, 1), lambda: 5) == 5
    for n in range(shared_view.MAX_ENTRIES + 10):
        shared_view.shared(("many", n), lambda n=n: n)
    assert len(shared_view._values) == shared_view.MAX_ENTRIES
    assert shared_view.shared(("many", 0), lambda: "again") == "again"  # the oldest went
