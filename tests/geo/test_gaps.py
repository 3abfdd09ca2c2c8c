"""Unsearched ground below a target POD, and effort spent on ground already cleared."""

from __future__ import annotations

import math

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
from shapely import LineString, box

import geo
from geo.gaps import (
    cleared_effort_summary,
    effort_on_cleared_ground,
    pass_cell_pod,
    unsearched_ground,
)
from geo.probability import grid_cells

X, Y = 530_000.0, 180_000.0


@pytest.fixture
def cells():
    # a 5 × 5 block of 100 m cells: x 530000..530500, y 180000..180500
    g = grid_cells(X + 250, Y + 250, 240, 100)
    assert len(g) == 25
    return g


def _cell_index(cells, e, n):
    return int(np.flatnonzero(cells["cell"] == f"E{int(e)}N{int(n)}")[0])


def test_unsearched_ground_is_the_cells_below_target(cells):
    cum = np.full(len(cells), 0.9)
    cum[_cell_index(cells, X, Y)] = 0.5              # a corner cell: gap of 1 cell
    cum[_cell_index(cells, X + 400, Y + 400)] = 0.2  # the opposite corner
    cum[_cell_index(cells, X + 300, Y + 400)] = 0.79  # next to it: one gap of 2 cells
    gaps = unsearched_ground(cells, cum, 0.8)
    assert list(gaps["area_m2"]) == pytest.approx([20_000, 10_000])
    assert gaps.crs.to_epsg() == 27700
    assert gaps.geometry.iloc[0].equals(box(X + 300, Y + 400, X + 500, Y + 500))
    # clipped to an area of interest
    clipped = unsearched_ground(cells, cum, 0.8, aoi=box(X, Y, X + 250, Y + 250))
    assert clipped["area_m2"].sum() == pytest.approx(10_000)
    assert len(unsearched_ground(cells, np.ones(len(cells)), 0.8)) == 0
    with pytest.raises(geo.InputError):
        unsearched_ground(cells, cum[:3], 0.8)
    with pytest.raises(geo.InputError):
        unsearched_ground(cells, cum, 0)


def test_cumulative_pod_from_passes_clears_ground(cells):
    p1 = np.full(len(cells), 0.5)
    p2 = np.where(np.arange(len(cells)) < 10, 0.6, 0.0)
    cum = geo.detection.cumulative_pod_array(np.vstack([p1, p2]))
    # 1 − 0.5 × 0.4 = 0.8 in the first ten cells, 0.5 elsewhere
    assert cum[:10] == pytest.approx(0.8)
    gaps = unsearched_ground(cells, cum, 0.8)
    assert gaps["area_m2"].sum() == pytest.approx(15 * 10_000)


def test_pass_cell_pod_from_tracks(cells):
    line = LineString([(X + 10, Y + 50), (X + 90, Y + 50)])  # 80 m in one cell
    tracks = gpd.GeoDataFrame(geometry=[line], crs="EPSG:27700")
    pods = pass_cell_pod(tracks, cells, 25)
    i = _cell_index(cells, X, Y)
    assert pods[i] == pytest.approx(1 - math.exp(-25 * 80 / 100**2), abs=1e-9)
    assert np.delete(pods, i).max() == 0


def test_effort_on_already_cleared_ground(cells):
    t0 = pd.Timestamp("2024-05-01T10:00Z")
    # pass 1 (ended 11:00) cleared the bottom row to POD 0.9; pass 2 (ended 13:00) the rest
    bottom = np.array([geom.bounds[1] == Y for geom in cells.geometry])
    pass_pods = np.vstack([np.where(bottom, 0.9, 0.0), np.where(bottom, 0.0, 0.9)])
    ends = [t0 + pd.Timedelta(hours=1), t0 + pd.Timedelta(hours=3)]
    # each track walks 100 m along the bottom row, then 100 m up into the second row
    line = LineString([(X + 150, Y + 50), (X + 250, Y + 50), (X + 250, Y + 150)])
    tracks = gpd.GeoDataFrame(
        {"id": ["a", "b", "c", "d"], "team": ["T1", "T1", "T2", "T2"], "case": ["C"] * 4,
         "start": [t0, t0 + pd.Timedelta(hours=2), t0 + pd.Timedelta(hours=4), pd.NaT]},
        geometry=[line] * 4, crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    out = effort_on_cleared_ground(tracks, cells, pass_pods, ends, 0.8).set_index("id")
    assert out["length_m"].to_numpy() == pytest.approx([200] * 4, abs=0.01)
    # a: before any pass → nothing cleared; b: after pass 1 → the 100 m bottom stretch
    # (the 50 m of the climb inside the bottom row too: 150 m); c: after both → all
    assert out.loc["a", "cleared_share"] == 0
    assert out.loc["b", "cleared_m"] == pytest.approx(150, abs=0.01)
    assert out.loc["c", "cleared_share"] == pytest.approx(1, abs=1e-6)
    assert math.isnan(out.loc["d", "cleared_share"])  # no start time: unknown, not zero
    teams = cleared_effort_summary(out, "team").set_index("team")
    assert teams.loc["T1", "cleared_share"] == pytest.approx(150 / 400, abs=1e-4)
    assert teams.loc["T2", "tracks"] == 1
    case = cleared_effort_summary(out, "case")
    assert case["cleared_share"].iloc[0] == pytest.approx(350 / 600, abs=1e-4)
    assert case.attrs["tracks_without_time"] == 1
    with pytest.raises(geo.InputError):
        effort_on_cleared_ground(tracks, cells, pass_pods, ends[:1], 0.8)


def test_a_late_track_is_not_wasted_on_ground_its_own_pass_cleared(cells):
    t0 = pd.Timestamp("2024-05-01T10:00Z")
    bottom = np.array([geom.bounds[1] == Y for geom in cells.geometry])
    # pass 0 closed at 11:00 with POD 0.9 on the bottom row; pass 1 (13:00) elsewhere
    pass_pods = np.vstack([np.where(bottom, 0.9, 0.0), np.where(bottom, 0.0, 0.9)])
    ends = [t0 + pd.Timedelta(hours=1), t0 + pd.Timedelta(hours=3)]
    line = LineString([(X + 150, Y + 50), (X + 250, Y + 50)])  # 100 m along the bottom row
    # two tracks walked at 12:00 along the bottom row, uploaded after pass 0 closed:
    # "own" is part of pass 0 (its effort is in that pass), "other" belongs to pass 1
    tracks = gpd.GeoDataFrame(
        {"id": ["own", "other"], "start": [t0 + pd.Timedelta(hours=2)] * 2},
        geometry=[line] * 2, crs="EPSG:27700",
    ).to_crs("EPSG:4326")
    naive = effort_on_cleared_ground(tracks, cells, pass_pods, ends, 0.8).set_index("id")
    assert naive.loc["own", "cleared_share"] == pytest.approx(1, abs=1e-6)
    out = effort_on_cleared_ground(tracks, cells, pass_pods, ends, 0.8,
                                   own_pass=[0, 1]).set_index("id")
    assert out.loc["own", "cleared_share"] == 0  # it cleared that ground itself
    assert out.loc["other", "cleared_share"] == pytest.approx(1, abs=1e-6)
    # two earlier passes of 0.6 each reach 0.84 together: cleared at 0.8, not at 0.9
    both = np.vstack([np.where(bottom, 0.6, 0.0)] * 2)
    ends = [t0 + pd.Timedelta(minutes=60), t0 + pd.Timedelta(minutes=90)]  # both before 12:00
    two = effort_on_cleared_ground(tracks.iloc[:1], cells, both, ends, 0.8)
    assert two["cleared_share"].iloc[0] == pytest.approx(1, abs=1e-6)
    assert effort_on_cleared_ground(tracks.iloc[:1], cells, both, ends, 0.9)[
        "cleared_share"].iloc[0] == 0
    with pytest.raises(geo.InputError, match="own-pass"):
        effort_on_cleared_ground(tracks, cells, pass_pods, ends, 0.8, own_pass=[0])


def test_area_of_interest_limits_gaps_before_anything_is_searched(cells):
    from geo.crs import bng_to_lonlat
    from geo.gaps import area_of_interest

    cells = cells.assign(poa=0.02)
    nothing = np.zeros(len(cells))
    # the whole grid is one gap before any search...
    whole = unsearched_ground(cells, nothing, 0.5, aoi=area_of_interest(cells))
    assert list(whole["area_m2"]) == pytest.approx([250_000])
    # ...inside two sectors (lon/lat, one half outside the grid) only their ground
    sectors = gpd.GeoSeries([box(X + 100, Y + 100, X + 300, Y + 200),
                             box(X + 400, Y + 400, X + 700, Y + 500)], crs=27700).to_crs(4326)
    inside = unsearched_ground(cells, nothing, 0.5, aoi=area_of_interest(cells, regions=sectors))
    assert sorted(inside["area_m2"]) == pytest.approx([10_000, 20_000], rel=1e-4)
    # ...within a ring around a point
    lon, lat = (float(v) for v in bng_to_lonlat(X + 250, Y + 250))
    ring = area_of_interest(cells, centre=(lat, lon), radius_m=100)
    assert ring.area == pytest.approx(math.pi * 100**2, rel=1e-3)
    # no sectors searched yet: no ground at all
    none = area_of_interest(cells, regions=gpd.GeoSeries([], crs=4326))
    assert none.is_empty
    # cells without probability are not part of it
    cells.loc[cells.index[:5], "poa"] = 0.0
    assert area_of_interest(cells).area == pytest.approx(200_000)
    with pytest.raises(geo.InputError):
        area_of_interest(cells, radius_m=100)
