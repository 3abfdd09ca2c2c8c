"""Read an uploaded file in a child process with a memory ceiling and a wall-clock kill.

One hostile upload (a zip bomb, a file of a million tiny tracks, a GeoPackage
that makes GDAL loop) must not stall the process that serves everyone else's
maps. :func:`read_sectors_guarded` and :func:`read_tracks_guarded` return what
:func:`geo.read_sectors` / :func:`geo.read_tracks` return, but the reading happens
in a forked child whose address space may grow by at most
``settings.IMPORT_MEMORY_MB`` and which is killed after
``settings.IMPORT_TIME_BUDGET_S`` seconds. Every failure is a
:class:`geo.InputError` with a plain message; an unexpected exception in the
reader (a bug) is logged with the file's extension, size and SHA-256, never its
name (file names carry children's names) or content.

POSIX only (``fork`` and ``resource``), like the servers Wayhome runs on.
"""

from __future__ import annotations

import hashlib
import logging
import multiprocessing
import os
import resource
from collections.abc import Callable
from multiprocessing.connection import Connection

import geopandas as gpd
import pyarrow as pa

from geo._sources import Source, read_source, suffix
from geo.errors import InputError
from geo.sector_files import read_sector_files, read_sectors
from geo.track_files import read_tracks
from vocab import settings

log = logging.getLogger(__name__)

Reader = Callable[[Source], gpd.GeoDataFrame]

# environment variables that would let GDAL's HTTP requests bypass its dead proxy
_PROXY_BYPASS = ("no_proxy", "NO_PROXY")


def read_sectors_guarded(source: Source, *, seconds: float | None = None,
                         memory_mb: int | None = None) -> gpd.GeoDataFrame:
    """:func:`geo.read_sectors` in a child process under the time and memory limits.

    ``seconds`` and ``memory_mb`` default to ``settings.IMPORT_TIME_BUDGET_S`` and
    ``settings.IMPORT_MEMORY_MB``. Returns the lon/lat (EPSG:4326) sectors with
    their ``attrs["notes"]``; raises only :class:`geo.InputError`.
    """
    return run_guarded(read_sectors, source, seconds=seconds, memory_mb=memory_mb)


def read_tracks_guarded(source: Source, *, seconds: float | None = None,
                        memory_mb: int | None = None) -> gpd.GeoDataFrame:
    """:func:`geo.read_tracks` in a child process under the time and memory limits."""
    return run_guarded(read_tracks, source, seconds=seconds, memory_mb=memory_mb)


def read_sector_files_guarded(files: list[tuple[str, bytes]], *, seconds: float | None = None,
                              memory_mb: int | None = None) -> gpd.GeoDataFrame:
    """:func:`geo.read_sector_files` (a shapefile's parts, or several sector files chosen
    together) in a child process under the time and memory limits.

    The budget holds for the whole set. Raises only :class:`geo.InputError`.
    """
    if not files:
        raise InputError("Choose at least one file to import.")
    checked = [(str(n), bytes(d)) for n, d in files]
    label = ", ".join(n for n, _ in checked[:4]) + (" …" if len(checked) > 4 else "")
    # the fault log names the first file's extension and hashes every byte read
    first = suffix(checked[0][0])
    return _guarded_call(lambda: read_sector_files(checked), label,
                         b"".join(d for _, d in checked), f".{first}" if first else "",
                         seconds=seconds, memory_mb=memory_mb)


def run_guarded(reader: Reader, source: Source, *, seconds: float | None = None,
                memory_mb: int | None = None) -> gpd.GeoDataFrame:
    """Run ``reader((name, data))`` in a forked child; return its result or raise InputError."""
    name, data = read_source(source)
    ext = suffix(name)
    return _guarded_call(lambda: reader((name, data)), name, data, f".{ext}" if ext else "",
                         seconds=seconds, memory_mb=memory_mb)


def _guarded_call(call: Callable[[], gpd.GeoDataFrame], name: str, data: bytes, ext: str, *,
                  seconds: float | None, memory_mb: int | None) -> gpd.GeoDataFrame:
    """Run ``call()`` in a forked child under the limits; ``name`` is only for the user's
    message, ``ext`` and ``data`` (size, hash) only for the fault log."""
    limit_s = settings.IMPORT_TIME_BUDGET_S if seconds is None else float(seconds)
    limit_mb = settings.IMPORT_MEMORY_MB if memory_mb is None else int(memory_mb)
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(child, call, limit_mb, limit_s),
                       daemon=True)
    proc.start()
    child.close()
    try:
        if not parent.poll(limit_s):
            raise InputError(
                f"{name!r} took longer than {limit_s:g} s to read (the per-file time budget) "
                "and was stopped. Split it, or export only the area of this search.")
        try:
            kind, payload = parent.recv()
        except (EOFError, OSError):
            kind, payload = "died", None
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join(5)
        parent.close()
    if kind == "ok":
        result: gpd.GeoDataFrame = payload
        return result
    if kind == "input":
        raise InputError(str(payload))
    if kind in ("memory", "died"):
        raise InputError(
            f"{name!r} needed more than {limit_mb:,} MB of memory to read (the memory limit) "
            "and was stopped. Split it, or export only the area of this search.")
    log.error("import fault: %s in reader for a %s file of %d bytes, sha256 %s", payload,
              ext or "(no extension)", len(data), hashlib.sha256(data).hexdigest())
    raise InputError(
        f"Wayhome could not read {name!r}: the reader hit a fault (it has been logged "
        "without the file's name or contents). Export the file again, or try another format.")


def _address_space() -> int:
    """Bytes of address space this process has now (``VmSize``)."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def _child(conn: Connection, call: Callable[[], gpd.GeoDataFrame], memory_mb: int,
           seconds: float) -> None:
    """The forked reader: limit itself, read, send one message back, exit."""
    for var in _PROXY_BYPASS:
        os.environ.pop(var, None)
    # pandas keeps strings in Arrow; Arrow's default allocator (mimalloc) reserves
    # address space in large arenas, so under RLIMIT_AS even a one-feature file
    # failed to read. The system allocator asks only for what it uses.
    pa.set_memory_pool(pa.system_memory_pool())
    ceiling = _address_space() + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
    cpu = int(seconds) + 2  # a backstop to the parent's kill
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    message: tuple[str, object]
    try:
        message = ("ok", call())
    except InputError as exc:
        message = ("input", str(exc))
    except MemoryError:
        message = ("memory", None)
    except Exception as exc:  # a bug in a reader: reported by type only, never content
        message = ("fault", type(exc).__name__)
    try:
        conn.send(message)
    except MemoryError:
        conn.send(("memory", None))
    finally:
        conn.close()
    os._exit(0)  # no atexit handlers of the parent (Streamlit's, pytest's) in the child
