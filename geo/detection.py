"""Probability of detection (POD): how likely a pass would have found the child if there.

Land-search theory (Koopman's random-search law, as used in ground search and
rescue): effort coverage ``C = W·L/A`` gives ``POD = 1 − e^(−C)``; independent
passes combine as ``1 − Π(1 − PODᵢ)``. Where a pass has no GPS tracks the team's
reported level of assurance stands in for a number. Every default figure comes
from ``data/search_science`` with its source or its "planning assumption" label.

These are decision support for a coordinator, not a prediction.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from geo.errors import InputError
from vocab import settings
from vocab.search import ASSURANCE_LEVELS as ASSURANCE_LEVELS  # part of geo.detection's API


def _data_dir() -> Path:
    return settings.SEARCH_SCIENCE_DIR


@cache
def load_search_data(name: str) -> dict[str, Any]:
    """One JSON file of ``data/search_science`` (``name`` without ``.json``), parsed."""
    path = _data_dir() / f"{name}.json"
    try:
        data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        return data
    except FileNotFoundError:
        raise InputError(f"The search-science data file {path.name!r} is missing.") from None


def _check_pod(value: Any, what: str = "A POD") -> float:
    try:
        p = float(value)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be a number between 0 and 1, not {value!r}.") from None
    if not (0.0 <= p <= 1.0):
        raise InputError(f"{what} must be between 0 and 1 (0 % to 100 %), not {p!r}.")
    return p


def pod(coverage: float) -> float:
    """POD of one pass from its effort coverage C (dimensionless): ``1 − e^(−C)``."""
    try:
        c = float(coverage)
    except (TypeError, ValueError):
        raise InputError(f"Coverage must be a number, not {coverage!r}.") from None
    if not (c >= 0.0) or math.isnan(c):
        raise InputError(f"Coverage cannot be negative or missing (got {coverage!r}).")
    return float(-math.expm1(-c))


def pod_array(coverage: np.ndarray) -> np.ndarray:
    """Vectorised :func:`pod` for arrays of coverage (no validation beyond NaN → 0)."""
    c = np.nan_to_num(np.asarray(coverage, dtype=float), nan=0.0)
    out: np.ndarray = -np.expm1(-np.maximum(c, 0.0))
    return out


def coverage_for_pod(target_pod: float) -> float:
    """Effort coverage needed for a target POD: ``C = −ln(1 − POD)`` (inf for POD 1)."""
    p = _check_pod(target_pod, "The target POD")
    return math.inf if p == 1.0 else float(-math.log1p(-p))


def cumulative_pod(pods: Iterable[float]) -> float:
    """POD of several independent passes over the same ground: ``1 − Π(1 − PODᵢ)``.

    No passes means nothing searched: 0.0.
    """
    miss = 1.0
    for i, p in enumerate(pods):
        miss *= 1.0 - _check_pod(p, f"POD number {i + 1}")
    return float(1.0 - miss)


def cumulative_pod_array(pods: np.ndarray, axis: int = 0) -> np.ndarray:
    """Vectorised :func:`cumulative_pod` along ``axis`` (e.g. passes × cells → per cell)."""
    p = np.asarray(pods, dtype=float)
    if p.size and (np.nanmin(p) < 0 or np.nanmax(p) > 1):
        raise InputError("Every POD must be between 0 and 1.")
    out: np.ndarray = 1.0 - np.prod(1.0 - np.nan_to_num(p, nan=0.0), axis=axis)
    return out


def assurance_pods() -> dict[str, float]:
    """Default POD per reported assurance level (planning assumptions, see the data file)."""
    levels = load_search_data("assurance_pod")["levels"]
    return {k: float(v["pod"]) for k, v in levels.items()}


def assurance_pod(level: str, mapping: Mapping[str, float] | None = None) -> float:
    """POD standing in for a pass without tracks, from its level of assurance.

    ``mapping`` overrides the defaults (a deployment's own figures); levels are
    matched case-insensitively.
    """
    table = {k.lower(): _check_pod(v, f"The POD for {k!r}") for k, v in
             (mapping if mapping is not None else assurance_pods()).items()}
    key = str(level).strip().lower()
    if key not in table:
        raise InputError(
            f"Unknown level of assurance {level!r}; expected one of {', '.join(table)}."
        )
    return table[key]


def pass_pod(
    track_pod: float | None,
    assurance: str | None = None,
    mapping: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """Which POD counts for a pass, and both numbers for display.

    The POD computed from tracks counts where the pass has tracks; otherwise the
    reported assurance level mapped to a number. Returns ``{"pod", "basis",
    "track_pod", "assurance_pod"}`` with ``basis`` ``"tracks"``, ``"assurance"`` or
    ``"none"`` (nothing known: POD 0, the pass changes no probability).
    """
    t = None if track_pod is None else _check_pod(track_pod, "The track POD")
    a = None if assurance in (None, "") else assurance_pod(assurance, mapping)
    if t is not None:
        return {"pod": t, "basis": "tracks", "track_pod": t, "assurance_pod": a}
    if a is not None:
        return {"pod": a, "basis": "assurance", "track_pod": None, "assurance_pod": a}
    return {"pod": 0.0, "basis": "none", "track_pod": None, "assurance_pod": None}


def sweep_widths() -> dict[str, dict[str, Any]]:
    """Default sweep width per search type: ``{type: {"label", "sweep_width_m", "status"}}``."""
    return dict(load_search_data("sweep_widths")["search_types"])


def sweep_width(search_type: str | None = None) -> float:
    """Default sweep width W in metres for a search type (the default type when None)."""
    data = load_search_data("sweep_widths")
    key = data["default_search_type"] if search_type is None else str(search_type)
    types = data["search_types"]
    if key not in types:
        raise InputError(
            f"Unknown search type {search_type!r}; expected one of {', '.join(types)}."
        )
    return float(types[key]["sweep_width_m"])


def check_sweep_width(sweep_width_m: Any) -> float:
    """A usable sweep width in metres (positive, finite, under 1 km)."""
    try:
        w = float(sweep_width_m)
    except (TypeError, ValueError):
        raise InputError(
            f"The sweep width must be a number of metres, not {sweep_width_m!r}."
        ) from None
    if not (0.0 < w <= 1000.0):
        raise InputError(f"The sweep width must be between 0 and 1,000 m, not {w!r}.")
    return w


def fastest_plausible_search_s(
    area_m2: float, team_size: int | None, sweep_width_m: float | None = None
) -> float:
    """The least time in seconds a team could have searched ``area_m2`` (square metres).

    ``n`` searchers walking non-stop at the stated walking speed, each sweeping the
    sweep width (``W`` m; the default search type's when None), reach the stated
    coverage of the area no sooner than ``C·A / (n·W·v)``. Used only to ask whether a
    sector was really searched that fast (``search_pace.json``, planning assumptions).
    """
    pace = load_search_data("search_pace")
    a = float(area_m2)
    if not (a >= 0.0) or math.isinf(a):
        raise InputError(f"An area must be a finite number of square metres, not {area_m2!r}.")
    n = int(team_size) if team_size and team_size > 0 else int(pace["default_team_size"])
    w = check_sweep_width(sweep_width(None) if sweep_width_m is None else sweep_width_m)
    v = float(pace["walking_speed_ms"])
    return float(pace["coverage_for_question"]) * a / (n * w * v)


def searched_too_fast(
    area_m2: float, seconds_taken: float, team_size: int | None,
    sweep_width_m: float | None = None,
) -> float | None:
    """The fastest plausible time (s) when ``seconds_taken`` is under the stated share of
    it (a question worth asking), else None. Decision support: it never blocks a record."""
    if seconds_taken < 0:
        return None
    fastest = fastest_plausible_search_s(area_m2, team_size, sweep_width_m)
    share = float(load_search_data("search_pace")["question_below_share"])
    return fastest if seconds_taken < share * fastest else None


def first_sector_side_m(team_size: int | None, sweep_width_m: float | None = None) -> float:
    """Side in metres of a first-hour sector one team can sweep once in the stated time.

    ``n`` searchers at the stated walking pace and sweep width cover ``n·W·v·t`` m² at
    coverage 1 in ``t`` seconds; the side is its square root, rounded to 50 m and kept
    within the stated limits (``search_pace.json``, planning assumptions).
    """
    pace = load_search_data("search_pace")
    n = int(team_size) if team_size and team_size > 0 else int(pace["default_team_size"])
    w = check_sweep_width(sweep_width(None) if sweep_width_m is None else sweep_width_m)
    seconds = float(pace["first_sector_team_hours"]) * 3600.0
    side = math.sqrt(n * w * float(pace["walking_speed_ms"]) * seconds)
    low, high = (float(v) for v in pace["first_sector_side_limits_m"])
    return float(min(high, max(low, round(side / 50.0) * 50.0)))
