"""The default places of a moving child (data/places): what they hold and where."""

from __future__ import annotations

import numpy as np
import pandas as pd
import shapely

import geo
from geo.places import PLACE_FILES
from vocab import settings


def test_the_places_are_london_hubs_and_town_centres_in_bng() -> None:
    places = geo.load_places()
    counts = places["kind"].value_counts()
    assert counts["town_centre"] == 234
    assert counts["station"] > 500 and 20 <= counts["bus_station"] < 100  # stations, not stops
    assert set(places["group"]) == {"transport_hub", "town_centre"}
    assert (places["size"] > 0).all() and places["name"].str.len().gt(0).all()
    boroughs = shapely.union_all(geo.load_layer("borough").geometry.to_numpy())
    pts = shapely.points(places["easting"].to_numpy(), places["northing"].to_numpy())
    d = shapely.distance(boroughs, pts)
    assert (d <= 10_000).all() and (d == 0).mean() > 0.95
    # the West End is a town centre; King's Cross a station hub
    assert "West End" in set(places.loc[places["kind"] == "town_centre", "name"])
    assert places.loc[places["kind"] == "station", "name"].str.contains("King's Cross").any()


def test_each_licence_stays_in_its_own_file() -> None:
    for name, kinds in PLACE_FILES.items():
        df = pd.read_csv(settings.PLACES_DIR / name)
        assert set(df["kind"]) == set(kinds)
    readme = (settings.PLACES_DIR / "README.md").read_text(encoding="utf-8")
    assert "ODbL 1.0" in readme and "OGL v3" in readme


def test_places_within_a_radius() -> None:
    near = geo.places_within(530_000.0, 180_500.0, 1_000.0)
    assert len(near) > 3 and (near["distance_m"] < 1_000).all()
    assert np.allclose(near["distance_m"], np.hypot(near["easting"] - 530_000.0,
                                                    near["northing"] - 180_500.0))


def test_places_to_check_are_not_jump_destinations() -> None:
    from geo.places import ALL_KINDS, DESTINATION_KINDS, place_sources

    assert set(geo.load_places()["kind"]) == set(DESTINATION_KINDS)
    every = geo.load_places(ALL_KINDS)
    counts = every["kind"].value_counts()
    assert counts["bus_stop"] > 10_000 and counts["school"] > 3_000
    assert 300 <= counts["library"] < 400 and counts["park"] > 2_000
    assert (every.loc[every["kind"].isin(["school", "library"]), "postcode"] != "").all()
    assert (every.loc[every["group"] == "", "kind"].isin(
        ["bus_stop", "school", "library", "park"])).all()
    # every kind says where it comes from and under which licence
    sources = place_sources()
    assert set(sources) == set(ALL_KINDS)
    assert all(s["licence"] and s["attribution"] for s in sources.values())
    assert "TfL" in sources["bus_stop"]["attribution"]
    assert "Burgess Park" in set(every.loc[every["kind"] == "park", "name"])
