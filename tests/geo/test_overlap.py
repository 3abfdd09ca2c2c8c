"""Overlap of a new sector with existing ones, and the case's duplication figure.

Known answers on hand-built squares in British National Grid: a 100 × 100 m
square offset by 50 m from another overlaps it by 5,000 m², half its area.
Candidates travel in lon/lat (as drawn on the map), so areas are compared to
0.05 % (the lon/lat round trip bends straight edges by millimetres).
"""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pytest
import shapely
from shapely.geometry import box

import geo
from geo.crs import BNG, geoms_to_bng, geoms_to_lonlat
from geo.overlap import SectorIndex, duplication

X0, Y0 = 530_000.0, 180_000.0


def sq(dx: float, dy: float = 0.0, size: float = 100.0):
    return box(X0 + dx, Y0 + dy, X0 + dx + size, Y0 + dy + size)


def frame(geoms, ids=None, crs=BNG, **cols) -> gpd.GeoDataFrame:
    ids = ids or [f"S{i}" for i in range(len(geoms))]
    return gpd.GeoDataFrame({"id": ids, **cols}, geometry=list(geoms), crs=crs)


def test_half_overlap_is_5000_m2_and_half_share():
    sectors = frame([sq(0), sq(300)], ids=["A", "B"])
    out = geo.find_overlaps(geoms_to_lonlat(sq(50)), sectors)
    assert list(out.columns) == ["id", "overlap_m2", "share"]
    assert list(out["id"]) == ["A"]
    assert out["overlap_m2"].iloc[0] == pytest.approx(5_000, rel=5e-4)
    assert out["share"].iloc[0] == pytest.approx(0.5, rel=5e-4)


def test_several_overlaps_largest_first_touching_edges_ignored():
    # candidate 100x100 at origin; A covers its left quarter, B its right half,
    # C only touches its top edge
    sectors = frame([sq(-75), sq(50, size=100), sq(0, 100)], ids=["A", "B", "C"])
    out = geo.find_overlaps(geoms_to_lonlat(sq(0)), sectors)
    assert list(out["id"]) == ["B", "A"]
    assert out["overlap_m2"].to_numpy() == pytest.approx([5_000, 2_500], rel=5e-4)
    assert out["share"].to_numpy() == pytest.approx([0.5, 0.25], rel=5e-4)


def test_sectors_in_lonlat_and_candidate_inside_a_big_sector():
    sectors = frame([sq(0, size=1_000)], ids=["big"]).to_crs(4326)
    out = geo.find_overlaps(geoms_to_lonlat(sq(100)), sectors)
    assert out["share"].iloc[0] == pytest.approx(1.0, abs=1e-3)
    assert out["overlap_m2"].iloc[0] == pytest.approx(10_000, rel=5e-4)


def test_no_overlap_gives_empty_frame_with_columns():
    out = geo.find_overlaps(geoms_to_lonlat(sq(5_000)), frame([sq(0)]))
    assert len(out) == 0
    assert list(out.columns) == ["id", "overlap_m2", "share"]


def test_index_reused_matches_brute_force_on_random_sectors():
    rng = np.random.default_rng(7)
    n = 3_000
    x = rng.uniform(0, 20_000, n)
    y = rng.uniform(0, 20_000, n)
    w = rng.uniform(50, 600, n)
    geoms = shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + w)
    sectors = frame(geoms, ids=[f"S{i}" for i in range(n)])
    index = SectorIndex(sectors)
    assert len(index) == n
    for k in range(5):
        cand_bng = shapely.buffer(shapely.Point(X0 + 4_000 * k + 2_000, Y0 + 10_000), 800)
        out = index.overlaps(geoms_to_lonlat(cand_bng))
        # brute force over every sector (a test may loop; the code may not)
        want = shapely.area(shapely.intersection(geoms, geoms_to_bng(geoms_to_lonlat(cand_bng))))
        hit = want >= 1.0
        assert set(out["id"]) == {f"S{i}" for i in np.flatnonzero(hit)}
        got = out.set_index("id")["overlap_m2"]
        for i in np.flatnonzero(hit):
            assert got[f"S{i}"] == pytest.approx(want[i], rel=1e-9, abs=1e-6)


def test_invalid_stored_sector_is_repaired_not_crashing():
    bow = shapely.Polygon([(X0, Y0), (X0 + 100, Y0 + 100), (X0 + 100, Y0), (X0, Y0 + 100)])
    out = geo.find_overlaps(geoms_to_lonlat(sq(0)), frame([bow], ids=["bow"]))
    assert out["overlap_m2"].iloc[0] == pytest.approx(5_000, rel=5e-4)


# --- duplication figure --------------------------------------------------------------

def test_duplication_is_a_union_not_a_sum_of_pairs():
    # three squares stacked on the same 100x100 ground plus one elsewhere
    sectors = frame([sq(0), sq(0), sq(0), sq(1_000)], status=["searched"] * 4)
    d = duplication(sectors)
    assert d.repeated_m2 == pytest.approx(10_000)  # three pairs, one piece of ground
    assert d.searched_m2 == pytest.approx(20_000)
    assert d.accidental_m2 == pytest.approx(10_000)
    assert d.deliberate_m2 == 0
    assert d.repeated_share == pytest.approx(0.5)


def test_duplication_split_deliberate_and_accidental():
    sectors = frame(
        [sq(0), sq(50), sq(1_000), sq(1_000, 50)],
        status=["searched", "searched", "Needs re-search", "searched"],
        re_search=[False, False, False, False],
    )
    d = duplication(sectors)
    assert d.accidental_m2 == pytest.approx(5_000)
    assert d.deliberate_m2 == pytest.approx(5_000)
    assert d.repeated_m2 == pytest.approx(10_000)
    # the same overlap saved with a re-search reason counts as deliberate
    sectors["re_search"] = [False, True, False, False]
    sectors["status"] = ["searched"] * 4
    d = duplication(sectors)
    assert d.deliberate_m2 == pytest.approx(5_000)
    assert d.accidental_m2 == pytest.approx(5_000)
    assert geoms_to_bng(d.accidental).area == pytest.approx(5_000, rel=1e-3)


def test_duplication_ignores_planned_sectors_and_counts_ground_once_when_mixed():
    # A and B accidental over [50,100]; C deliberate over [50,150]; ground in
    # [50,100] is covered by both kinds and counts once, as deliberate
    sectors = frame(
        [sq(0), sq(50), sq(50, size=100), sq(0)],
        status=["searched", "searched", "searched", "assigned"],
        re_search=[False, False, True, False],
    )
    d = duplication(sectors)
    # union of all pairwise overlaps: [50,150]x[0,100] = 10,000 m²
    assert d.repeated_m2 == pytest.approx(10_000)
    assert d.deliberate_m2 == pytest.approx(10_000)
    assert d.accidental_m2 == pytest.approx(0)


def test_duplication_of_no_searched_sectors_is_zero():
    d = duplication(frame([sq(0), sq(0)], status=["draft", "assigned"]))
    assert (d.repeated_m2, d.searched_m2, d.repeated_share) == (0, 0, 0)


def test_duplication_equals_the_exact_unions_on_many_overlapping_sectors():
    # 250 seeded squares and circles packed onto 2.5 km x 2.5 km, some flagged re-searches:
    # the figures equal unions worked out the plain way, pair by pair
    rng = np.random.default_rng(7)
    n = 250
    x, y = X0 + rng.uniform(0, 2_500, n), Y0 + rng.uniform(0, 2_500, n)
    size = rng.uniform(50, 400, n)
    geoms = np.where(rng.random(n) < 0.5, shapely.box(x, y, x + size, y + size),
                     shapely.buffer(shapely.points(x, y), size / 2, quad_segs=8))
    status = np.where(rng.random(n) < 0.1, "needs_re_search", "searched")
    flagged = rng.random(n) < 0.05
    status[::9] = "assigned"  # not searched ground: left out
    d = duplication(frame(geoms, status=list(status), re_search=list(flagged)))

    counted = status != "assigned"
    g, re = geoms[counted], (flagged | (status == "needs_re_search"))[counted]
    i, j = np.triu_indices(len(g), 1)
    piece = shapely.intersection(g[i], g[j])
    real = shapely.area(piece) >= 1.0
    both = shapely.union_all(piece[real])
    on_purpose = shapely.union_all(piece[real & (re[i] | re[j])])
    assert d.searched_m2 == pytest.approx(shapely.union_all(g).area, rel=1e-9)
    assert d.repeated_m2 == pytest.approx(both.area, rel=1e-9)
    assert d.deliberate_m2 == pytest.approx(on_purpose.area, rel=1e-9)
    assert d.accidental_m2 == pytest.approx(both.difference(on_purpose).area, rel=1e-9)
    assert 0.1 < d.repeated_share < 0.9 and 0 < d.deliberate_m2 < d.repeated_m2
    # the shapes, worked out when asked for, match the figures
    assert geoms_to_bng(d.accidental).area == pytest.approx(d.accidental_m2, rel=1e-6)
    assert geoms_to_bng(d.deliberate).area == pytest.approx(d.deliberate_m2, rel=1e-6)


def test_hazard_overlaps_measures_what_a_new_sector_covers():
    x0, y0 = 530_000.0, 180_000.0
    hazards = gpd.GeoDataFrame(
        {"kind": ["unsafe", "preserve_scene"], "note": ["railway", ""]},
        geometry=[box(x0, y0, x0 + 100, y0 + 100), box(x0 + 1000, y0, x0 + 1100, y0 + 100)],
        crs=BNG,
    ).to_crs("EPSG:4326")
    sector = geoms_to_lonlat(box(x0 + 50, y0, x0 + 250, y0 + 100))  # 20,000 m², half on one
    found = geo.hazard_overlaps(sector, hazards)
    assert found["kind"].tolist() == ["unsafe"] and found["note"].tolist() == ["railway"]
    assert found["overlap_m2"].iloc[0] == pytest.approx(5_000, rel=1e-3)
    assert found["share"].iloc[0] == pytest.approx(0.25, rel=1e-3)
    assert geo.hazard_overlaps(sector, hazards.iloc[:0]).empty


def test_near_and_shared_tell_neighbours_from_ground_searched_again():
    x, y = 530_000.0, 180_000.0

    def sq(dx, dy, d=100.0):
        return geoms_to_lonlat(box(x + dx, y + dy, x + dx + d, y + dy + d))

    targets = np.array([sq(0, 0)], dtype=object)
    others = np.array([sq(100, 0), sq(50, 50), sq(0, 350), sq(0, 150), sq(10, 10, 0.5)],
                      dtype=object)
    near, shared = geo.near_and_shared(targets, others, 200.0)
    # touching, overlapping, 250 m away, 50 m away, overlapping by 0.25 m² (noise)
    assert near.tolist() == [True, True, False, True, True]
    assert shared.tolist() == [False, True, False, False, False]
    none = geo.near_and_shared(targets, np.array([], dtype=object), 200.0)
    assert none[0].shape == (0,) and none[1].shape == (0,)
