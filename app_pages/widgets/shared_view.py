"""One computation of a case's view per change, shared by every session of the process.

When a case changes, every open page of it re-runs at about the same moment: 25
family pages on one replica each read the same view from the store and render the
same map layer (about 0.1-0.3 s of CPU each, one after another under the GIL), so
the last page showed the change seconds after the first. Here the first session
to ask for ``(name, case id, counter)`` computes the value while the others wait
for it, and everyone gets the same object (the same map script too, so browsers
that already show it are not redrawn).

A session may only ask after the store has confirmed its access at that counter
(``link_poll``/``change_token`` in the same run): the cache never decides who
may see a case. Entries also expire after :data:`MAX_AGE_SECONDS`, for what the
clock moves without a change (a delayed family view, "searched today" at
midnight). Bounded: at most :data:`MAX_ENTRIES` values per process.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any, Final, TypeVar

T = TypeVar("T")

#: seconds a shared value is reused for one counter (the clock-driven parts of a view)
MAX_AGE_SECONDS: Final[float] = 15.0
#: most values kept per process (oldest dropped first)
MAX_ENTRIES: Final[int] = 256

_lock = threading.Lock()
_values: OrderedDict[Hashable, tuple[float, Any]] = OrderedDict()
_computing: dict[Hashable, threading.Lock] = {}


def shared(key: Hashable, compute: Callable[[], T], *, max_age: float = MAX_AGE_SECONDS) -> T:
    """``compute()`` once per ``key`` (include the case's counter) and age, for every session.

    Concurrent callers with the same key wait for the one computing it; an exception
    is raised to that caller only and nothing is stored.
    """
    with _lock:
        found = _values.get(key)
        if found is not None and time.monotonic() - found[0] < max_age:
            return found[1]  # type: ignore[no-any-return]
        gate = _computing.setdefault(key, threading.Lock())
    with gate:
        with _lock:
            found = _values.get(key)
            if found is not None and time.monotonic() - found[0] < max_age:
                return found[1]  # type: ignore[no-any-return]
        value = compute()
        with _lock:
            _values[key] = (time.monotonic(), value)
            _values.move_to_end(key)
            while len(_values) > MAX_ENTRIES:
                _values.popitem(last=False)
            _computing.pop(key, None)
        return value


def clear() -> None:
    """Forget every shared value (tests)."""
    with _lock:
        _values.clear()
        _computing.clear()
