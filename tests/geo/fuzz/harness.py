"""Run generated inputs through the guarded readers and sort what happened.

Each run forks (``geo.guarded``), so a reader that loops or balloons is killed at
the time budget or stopped at the memory ceiling and counted, never hangs the
suite. Outcomes: ``refused`` (a plain InputError), ``accepted`` (a valid result),
``crash`` (anything else, or the guarded reader's fault message), ``over time``,
``over memory``.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import geopandas as gpd
import shapely

import geo
from geo.guarded import run_guarded

READERS: dict[str, Callable[..., gpd.GeoDataFrame]] = {
    "sectors": geo.read_sectors, "tracks": geo.read_tracks}
OUTCOMES = ("refused", "accepted", "crash", "over time", "over memory")


@dataclass
class Run:
    category: str
    name: str
    reader: str
    outcome: str
    seconds: float
    detail: str


class _Faults(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append(record.getMessage())


def valid_result(reader: str, gdf: gpd.GeoDataFrame) -> bool:
    """A usable result: lon/lat, non-empty, valid finite geometries of the right kind."""
    if gdf.crs is None or gdf.crs.to_epsg() != 4326 or len(gdf) == 0:
        return False
    g = gdf.geometry.values
    kinds = {"sectors": {"Polygon", "MultiPolygon"}, "tracks": {"LineString"}}[reader]
    coords = shapely.get_coordinates(g)
    return (set(gdf.geom_type) <= kinds and bool(shapely.is_valid(g).all())
            and bool((abs(coords[:, 0]) <= 180).all() and (abs(coords[:, 1]) <= 90).all()))


def run_one(category: str, name: str, data: bytes, reader: str, *, seconds: float,
            memory_mb: int) -> Run:
    handler = _Faults()
    log = logging.getLogger("geo.guarded")
    log.addHandler(handler)
    t0 = time.monotonic()
    try:
        gdf = run_guarded(READERS[reader], (name, data), seconds=seconds, memory_mb=memory_mb)
        outcome = "accepted" if valid_result(reader, gdf) else "crash"
        detail = "" if outcome == "accepted" else "invalid result"
    except geo.InputError as exc:
        msg = str(exc)
        if "reader hit a fault" in msg:
            outcome, detail = "crash", "; ".join(handler.seen)
        elif "(the per-file time budget) and was stopped" in msg:
            outcome, detail = "over time", msg
        elif "(the memory limit) and was stopped" in msg:
            outcome, detail = "over memory", msg
        else:
            outcome, detail = "refused", msg
    except Exception as exc:  # the guarded reader itself must not fail this way
        outcome, detail = "crash", f"{type(exc).__name__}: {exc}"
    finally:
        log.removeHandler(handler)
    return Run(category, name, reader, outcome, time.monotonic() - t0, detail)


def run_all(cases: Iterable[tuple[str, str, bytes]], *, seconds: float = 10.0,
            memory_mb: int = 1024) -> list[Run]:
    return [run_one(cat, name, data, reader, seconds=seconds, memory_mb=memory_mb)
            for cat, name, data in cases for reader in READERS]


def table(runs: list[Run], inputs: Counter[str]) -> str:
    """Per-category figures: inputs, then runs (one per input and reader) by outcome."""
    cats = list(dict.fromkeys(r.category for r in runs))
    head = f"{'category':<14}{'inputs':>7}{'runs':>6}" + "".join(f"{o:>13}" for o in OUTCOMES)
    lines = [head, "-" * len(head)]
    for cat in [*cats, "total"]:
        mine = [r for r in runs if cat in ("total", r.category)]
        n_in = sum(inputs.values()) if cat == "total" else inputs[cat]
        counts = Counter(r.outcome for r in mine)
        lines.append(f"{cat:<14}{n_in:>7}{len(mine):>6}"
                     + "".join(f"{counts[o]:>13}" for o in OUTCOMES))
    return "\n".join(lines)
