"""Likely places (geo.likely_places): known answers on London's open place data."""

from __future__ import annotations

import numpy as np
import pytest
import shapely

import geo
from geo.crs import lonlat_to_bng
from geo.detection import load_search_data
from geo.likely_places import AREA_KINDS, COLUMNS, distance_kernel, reach_m
from geo.places import ALL_KINDS

#: Elephant & Castle: the junction by the Underground station (lon, lat)
EC = (-0.1006, 51.4946)


def test_a_twelve_year_old_near_elephant_and_castle() -> None:
    res = geo.likely_places(*EC, age=12, elapsed_s=3600)
    top = res.places
    assert list(top.columns) == list(COLUMNS) and len(top) == 25
    assert top["rank"].tolist() == list(range(1, 26))
    # the town centre we stand in (the shops) first, then the station, parks soon after
    assert top.loc[0, ["kind", "name"]].tolist() == [
        "town_centre", "Elephant and Castle/ Walworth Road"]
    assert top.loc[0, "distance_m"] == 0.0
    assert top.loc[1, "kind"] == "station" and top.loc[1, "name"] == "Elephant & Castle"
    first_park = top.index[top["kind"] == "park"][0]
    assert first_park <= 4
    assert "Geraldine Mary Harmsworth Park" in set(top["name"].head(10))
    # scores fall, best = 100
    assert (np.diff(top["score"].to_numpy()) <= 0).all() and top.loc[0, "relative"] == 100
    # a park 300 m away beats a bus stop 120 m away (weights 19 against 1) ...
    park = top[top["kind"] == "park"].iloc[0]
    stop = top[(top["kind"] == "bus_stop") & (top["distance_m"] > 100)].iloc[0]
    assert park["rank"] < stop["rank"]
    # ... and the score is exactly weight × kernel
    assert np.allclose(top["score"], top["type_weight"] * top["kernel_per_km2"])
    # each row says why: the weight's source (or that it is assumed) and the distance
    assert "walking in a street or park" in park["why"] and "planning assumption" in stop["why"]
    assert f"at {park['distance_m']:,.0f} m" in park["why"]
    assert "Grampian 12-14" in res.weights_basis and "planning" not in res.weights_basis
    assert "Child 10-12" in res.rings_label


def test_nothing_beyond_reach() -> None:
    res = geo.likely_places(*EC, age=12, elapsed_s=600, limit=0)
    assert res.reach_m == pytest.approx(720.0)  # 1.2 m/s for 10 minutes
    assert len(res.places) > 30 and (res.places["distance_m"] <= 720.0).all()
    # every place of the data within reach is listed (checked the slow way)
    x, y = (float(v) for v in lonlat_to_bng(*EC))
    every = geo.load_places(ALL_KINDS)
    pts = shapely.points(every["easting"], every["northing"])
    r = np.where(every["kind"].isin(AREA_KINDS), np.sqrt(every["size"] * 1e4 / np.pi), 0.0)
    d = np.maximum(shapely.distance(shapely.points(x, y), pts) - r, 0.0)
    assert len(res.places) == int((d <= 720.0 + 0.5).sum())
    assert res.places["key"].is_unique


def test_reach_bounds_and_ages_without_a_table() -> None:
    rings = geo.distance_rings(5)
    assert reach_m(5, 0) == 500.0  # at least the minimum
    assert reach_m(5, 10 * 3600) == pytest.approx(rings[95])  # never past the 95 % ring
    assert reach_m(16, 10 * 3600) == 10_000.0  # Grampian's 95 % ring is 120 km: capped
    young = geo.likely_places(*EC, age=5, elapsed_s=3600)
    assert "planning assumption" in young.weights_basis
    assert any("planning assumption" in a for a in young.assumptions)


def test_the_kernel_follows_the_rings() -> None:
    rings = geo.distance_rings(12)
    d = np.array([10.0, 50.0, 200.0, 1000.0, 2000.0, 5000.0])
    k = distance_kernel(d, rings)
    assert k[0] == k[1]  # nearer than 50 m counts as 50 m
    assert (np.diff(k[1:]) < 0).all()
    # integrating the density over the 25-50 % ring gives its 25 %
    r = np.linspace(rings[25], rings[50], 20_001)
    share = np.trapezoid(distance_kernel(r, rings) / 1e6 * 2 * np.pi * r, r)
    assert share == pytest.approx(0.25, rel=1e-3)


def test_ties_are_stable_and_kinds_filter() -> None:
    a = geo.likely_places(*EC, age=12, elapsed_s=7200, limit=0)
    b = geo.likely_places(*EC, age=12, elapsed_s=7200, limit=0)
    assert a.places["key"].tolist() == b.places["key"].tolist()
    tied = a.places[a.places.duplicated(["score"], keep=False)]
    assert len(tied) >= 2  # schools sharing a site: same kind, same distance, same score
    for _, g in tied.groupby("score"):
        kind = g["kind"].map(ALL_KINDS.index)
        order = list(zip(g["distance_m"], kind, g["name"], g["key"], strict=True))
        assert order == sorted(order)  # then by distance, kind, name and key
        assert (np.diff(g["rank"].to_numpy()) == 1).all()
    parks = geo.likely_places(*EC, age=12, elapsed_s=7200, kinds=("park",))
    assert set(parks.places["kind"]) == {"park"}
    assert geo.likely_places(*EC, age=12, elapsed_s=60, kinds=()).places.empty
    with pytest.raises(geo.InputError):
        geo.likely_places(*EC, age=12, elapsed_s=60, kinds=("leisure_centre",))
    with pytest.raises(geo.InputError):
        geo.likely_places(20.0, 40.0, age=12, elapsed_s=60)


def test_a_row_is_a_place_record_for_a_task() -> None:
    res = geo.likely_places(*EC, age=12, elapsed_s=3600, kinds=("library", "school"))
    rec = res.record(1)
    assert rec == geo.place_record(res.places.iloc[0])
    assert rec.kind in ("library", "school") and rec.postcode  # both sources give postcodes
    assert -0.2 < rec.lon < 0.0 and 51.4 < rec.lat < 51.6
    assert rec.key.startswith(rec.kind + ":")


def test_every_kind_is_weighted_with_its_source() -> None:
    data = load_search_data("likely_places")
    kinds = data["type_weights"]["kinds"]
    assert set(kinds) == set(ALL_KINDS)
    published = data["type_weights"]["published"]
    for kind in kinds.values():
        assert kind["status"]
        if kind["status"].startswith("published"):
            assert kind["weight"] == published[kind["category"]]
    assert "Gibb" in data["type_weights"]["source"]
