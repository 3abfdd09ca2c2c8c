"""``wayhome streets import PATH``: load an OpenStreetMap extract's streets for the app.

Reads the extract offline with :func:`geo.read_streets` (``.osm`` XML or ``.osm.pbf``,
streamed), keeps roads, paths, railways and water, and replaces the store's streets
(:func:`casefile.streets.load_streets`: a GeoParquet file beside an SQLite store, the
``street_lines`` table on PostgreSQL). Prints what it kept: lines per kind, major
lines, the file's and the stored size, and the time taken.

Limits (``vocab.settings``, each named in the message that refuses an extract): the
file at most ``WAYHOME_STREETS_MAX_MB`` (default 1,024 MB), at most
``WAYHOME_STREETS_MAX_LINES`` lines (2,000,000) and ``WAYHOME_STREETS_MAX_POINTS``
points (30,000,000). A Greater London extract (on the order of 100-200 MB of PBF)
is well within them.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TextIO

import geo
from casefile import Actor, Store
from casefile.errors import StoreError
from vocab import settings


def import_streets(store: Store, path: str | Path, out: TextIO) -> int:
    """Read ``path``, load it into ``store``, print the summary; the exit status."""
    started = time.perf_counter()
    source = Path(path)
    try:
        lines = geo.read_streets(source)
    except geo.InputError as exc:
        raise StoreError(str(exc)) from None
    read_s = time.perf_counter() - started
    loaded = store.load_streets(Actor.system("wayhome streets import"), lines,
                                source=source.name)
    total_s = time.perf_counter() - started
    kinds = ", ".join(f"{n:,} {kind}" for kind, n in loaded.by_kind.items())
    out.write(f"Read {source.name} ({_size(source.stat().st_size)}) in {read_s:.2f} s.\n")
    out.write(f"Kept {loaded.lines:,} lines: {kinds}; {loaded.major:,} major "
              "(sector boundaries).\n")
    for note in lines.attrs.get("notes", []):
        out.write(f"Note: {note}\n")
    stored = f" ({_size(loaded.stored_bytes)})" if loaded.stored_bytes is not None else ""
    out.write(f"Stored in {loaded.where}{stored}; {total_s:.2f} s in all.\n")
    out.write(f"Limits: files up to {settings.STREETS_MAX_MB:,.0f} MB, "
              f"{settings.STREETS_MAX_LINES:,} lines, {settings.STREETS_MAX_POINTS:,} points. "
              "Data © OpenStreetMap contributors (ODbL).\n")
    return 0


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{n / 1e3:,.0f} kB"


__all__ = ["import_streets"]
