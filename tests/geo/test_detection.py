"""POD from coverage, cumulative POD, assurance levels and sweep-width defaults."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import geo
from geo.detection import (
    assurance_pod,
    assurance_pods,
    check_sweep_width,
    coverage_for_pod,
    cumulative_pod_array,
    load_search_data,
    pass_pod,
    sweep_width,
    sweep_widths,
)


@pytest.mark.parametrize(("c", "expected"), [(0.5, 0.39), (1, 0.63), (1.5, 0.78), (2, 0.86),
                                             (3, 0.95)])
def test_pod_matches_the_published_coverage_table(c, expected):
    # sarmath / SAR nomograph table: C 0.5 → 39 %, 1 → 63 %, 1.5 → 78 %, 2 → 86 %, 3 → 95 %
    assert geo.pod(c) == pytest.approx(expected, abs=0.005)
    assert geo.pod(c) == pytest.approx(1 - math.exp(-c), abs=1e-12)


def test_pod_worked_example_from_nomograph():
    # W = 95 ft, 6 searchers × 5 mi, A = 0.5 mi² → C ≈ 1.08, POD ≈ 66 %
    c = (95 / 5280) * 6 * 5 / 0.5
    assert c == pytest.approx(1.08, abs=0.005)
    assert geo.pod(c) == pytest.approx(0.66, abs=0.005)


def test_pod_refuses_negative_or_missing_coverage():
    assert geo.pod(0) == 0.0
    for bad in (-0.1, float("nan"), "lots", None):
        with pytest.raises(geo.InputError):
            geo.pod(bad)


def test_cumulative_pod_by_hand():
    # 1 − (1 − 0.5)(1 − 0.3)(1 − 0.2) = 1 − 0.5·0.7·0.8 = 1 − 0.28 = 0.72
    assert geo.cumulative_pod([0.5, 0.3, 0.2]) == pytest.approx(0.72, abs=1e-12)
    assert geo.cumulative_pod([]) == 0.0
    assert geo.cumulative_pod([1.0, 0.3]) == 1.0
    with pytest.raises(geo.InputError, match="POD number 2"):
        geo.cumulative_pod([0.5, 1.5])


@given(st.lists(st.floats(0, 1), max_size=8))
def test_cumulative_pod_never_decreases_and_matches_array_form(pods):
    total = geo.cumulative_pod(pods)
    assert 0 <= total <= 1
    assert total >= max(pods, default=0.0) - 1e-12
    arr = cumulative_pod_array(np.array(pods).reshape(-1, 1))
    assert arr[0] == pytest.approx(total, abs=1e-12)


def test_coverage_for_pod_inverts_pod():
    for p in (0.1, 0.5, 0.63, 0.9):
        assert geo.pod(coverage_for_pod(p)) == pytest.approx(p, abs=1e-12)
    assert coverage_for_pod(1.0) == math.inf


def test_assurance_defaults_are_labelled_planning_assumptions():
    assert assurance_pods() == {"high": 0.8, "medium": 0.5, "low": 0.3}
    levels = load_search_data("assurance_pod")["levels"]
    assert all(v["status"] == "planning assumption" for v in levels.values())
    assert assurance_pod("High") == 0.8
    assert assurance_pod("low", {"high": 0.9, "low": 0.2}) == 0.2
    with pytest.raises(geo.InputError, match="Unknown level"):
        assurance_pod("certain")


def test_pass_pod_prefers_tracks_and_shows_both():
    both = pass_pod(0.42, "high")
    assert both == {"pod": 0.42, "basis": "tracks", "track_pod": 0.42, "assurance_pod": 0.8}
    assert pass_pod(None, "medium")["pod"] == 0.5
    assert pass_pod(None, "medium")["basis"] == "assurance"
    assert pass_pod(None, None) == {"pod": 0.0, "basis": "none", "track_pod": None,
                                    "assurance_pod": None}


def test_sweep_width_defaults_each_carry_a_status_and_basis():
    types = sweep_widths()
    assert sweep_width() == types["street_and_open_urban"]["sweep_width_m"]
    for t in types.values():
        assert t["status"] in ("planning assumption", "published (secondary)")
        assert t["basis"]
    # the urban defaults are factor × assumed detection range, as the file says
    for t in types.values():
        if "assumed_detection_range_m" in t:
            assert t["sweep_width_m"] == pytest.approx(
                t["factor"] * t["assumed_detection_range_m"], rel=0.05)
    with pytest.raises(geo.InputError):
        sweep_width("helicopter")
    for bad in (0, -5, "wide", 5000):
        with pytest.raises(geo.InputError):
            check_sweep_width(bad)


def test_fastest_plausible_search_is_area_over_team_sweep_and_pace():
    # 152 ha, 4 searchers 40 m apart at 1.2 m/s: 1,520,000 / (4 x 40 x 1.2) s.
    fastest = geo.fastest_plausible_search_s(1_520_000, 4, 40.0)
    assert fastest == pytest.approx(1_520_000 / 192.0)
    assert fastest / 3600 == pytest.approx(2.2, abs=0.05)
    # doubling the team halves it; an unknown team size takes the stated default (4)
    assert geo.fastest_plausible_search_s(1_520_000, 8, 40.0) == pytest.approx(fastest / 2)
    assert geo.fastest_plausible_search_s(1_520_000, None, 40.0) == pytest.approx(fastest)
    with pytest.raises(geo.InputError):
        geo.fastest_plausible_search_s(float("nan"), 4)


def test_searched_too_fast_asks_only_when_under_half_the_fastest_time():
    fastest = geo.fastest_plausible_search_s(1_520_000, 4, 40.0)
    assert geo.searched_too_fast(1_520_000, 10 * 60, 4, 40.0) == pytest.approx(fastest)
    assert geo.searched_too_fast(1_520_000, 0.6 * fastest, 4, 40.0) is None
    # a small sector searched in ten minutes raises no question
    assert geo.searched_too_fast(5_000, 10 * 60, 4, 40.0) is None


def test_search_pace_figures_say_where_they_come_from():
    pace = load_search_data("search_pace")
    assert pace["walking_speed_status"] == "planning assumption"
    assert "1.2 m/s" in pace["walking_speed_source"]
    for key in ("coverage_for_question", "question_below_share", "default_team_size"):
        assert "planning assumption" in pace[f"{key}_status"]
