"""The live map sends exactly what st_folium would, from a base map rendered once."""

from __future__ import annotations

import re

import folium
import pytest
import streamlit_folium as sf

from app_pages.widgets.live_map import feature_groups_script, live_folium, render_base
from layers.assets import asset_urls
from layers.basemap import base_map, parse_tiles
from layers.boundaries import BoundarySet
from layers.sightings import places_layer, sightings_layer
from tests.layers.conftest import collection
from tests.layers.test_sightings import SIGHTINGS, C

RANDOM_ID = re.compile(r"html_[0-9a-f]{32}")


def fresh_map() -> folium.Map:
    boundaries = BoundarySet(
        inline={
            "borough": collection(["Camden", "Islington"], "borough"),
            "bcu": collection(["Central North"], "bcu"),
            "force": collection(["Metropolitan Police"], "force"),
        },
        lazy={},
        vintages={"borough": "2018"},
    )
    return base_map(boundaries, asset_urls(), parse_tiles("none"))


def groups() -> list[folium.FeatureGroup]:
    return [places_layer(C()), sightings_layer(SIGHTINGS)]


@pytest.fixture
def calls(monkeypatch):
    seen: list[dict] = []

    def record(**kwargs):
        seen.append(kwargs)
        return kwargs["default"]

    monkeypatch.setattr(sf, "_component_func", record)
    return seen


def test_same_arguments_as_st_folium(calls):
    sf.st_folium(
        fresh_map(),
        key="case_map",
        height=600,
        use_container_width=True,
        returned_objects=["last_clicked"],
        feature_group_to_add=groups(),
    )
    base = render_base(fresh_map())
    live_folium(
        base,
        key="case_map",
        height=600,
        returned_objects=["last_clicked"],
        feature_group_to_add=groups(),
    )
    expected, got = calls
    expected.pop("on_change")
    got.pop("on_change")
    # folium names popup contents with random ids; everything else is identical
    for args in (expected, got):
        args["feature_group"] = RANDOM_ID.sub("html_X", args["feature_group"])
    assert got == expected
    assert got["feature_group"] and "wayhome-sighting" in got["feature_group"]


def test_rendered_base_is_reused_with_the_same_component_key(calls):
    base = render_base(fresh_map())
    live_folium(base, key="k", feature_group_to_add=groups())
    live_folium(base, key="k", feature_group_to_add=[sightings_layer(SIGHTINGS[:2])])
    first, second = calls
    assert first["key"] == second["key"]  # same component: the browser keeps the map
    assert first["script"] == second["script"]
    assert first["feature_group"] != second["feature_group"]


def test_a_prepared_script_is_sent_as_it_is(calls):
    base = render_base(fresh_map())
    script = feature_groups_script(groups())
    live_folium(base, key="k", feature_group_to_add=script)
    live_folium(base, key="k", feature_group_to_add=script)
    assert calls[0]["feature_group"] == calls[1]["feature_group"] == script
