"""Worker threads shared by the whole process for vectorised geometry work.

Shapely and PROJ release the GIL, so slices of one array run on every core. The
threads live as long as the process, so what a thread sets up on first use stays
set up: pyproj builds a PROJ transformer in each thread that first reprojects
(about 20 ms of CPU), which a pool made per call paid again on every call.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

_A = TypeVar("_A")
_T = TypeVar("_T")

_PREFIX = "geo-worker"
_lock = threading.Lock()
#: the pool of each process by its id: a forked child has none of its parent's threads
_pools: dict[int, ThreadPoolExecutor] = {}


def _after_fork_in_child() -> None:
    global _lock  # a lock held by a thread the fork left behind
    _lock = threading.Lock()
    _pools.clear()


os.register_at_fork(after_in_child=_after_fork_in_child)


def cores() -> int:
    """Worker threads in the shared pool: the machine's cores, at most 8."""
    return min(os.cpu_count() or 1, 8)


def _shared() -> ThreadPoolExecutor:
    with _lock:
        pool = _pools.get(os.getpid())
        if pool is None:
            pool = _pools[os.getpid()] = ThreadPoolExecutor(max_workers=cores(),
                                                            thread_name_prefix=_PREFIX)
        return pool


def in_workers(fn: Callable[[_A], _T], items: Sequence[_A]) -> list[_T]:
    """``fn`` of each item, in order, on the shared worker threads.

    In the caller's own thread where there is one item or one core, or where the
    caller is a worker itself (a worker waiting on its own pool could wait forever).
    """
    if (len(items) <= 1 or cores() == 1
            or threading.current_thread().name.startswith(_PREFIX)):
        return [fn(x) for x in items]
    return list(_shared().map(fn, items))


def on_a_worker(fn: Callable[..., _T], *args: object) -> _T:
    """``fn(*args)`` on one of the shared worker threads, waited for (in the caller's
    own thread where the caller is a worker itself). For work whose set-up is kept per
    thread (pyproj's transformers): the app runs each page in a new thread."""
    if threading.current_thread().name.startswith(_PREFIX):
        return fn(*args)
    return _shared().submit(fn, *args).result()
