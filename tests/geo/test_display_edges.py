"""BCU and force outlines for the map with every stretch of line drawn once.

A dashed line drawn twice (once per neighbouring BCU) looks solid because the two
copies' dashes fall out of step; ``geo.display_edges`` gives each stretch once and
names the units on both sides of it.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely

import geo
import geo.boundaries
from geo.boundaries import display_layer


def _geoms(fc):
    return np.array(shapely.from_geojson([json.dumps(f["geometry"]) for f in fc["features"]]))


@pytest.mark.parametrize("name", ["bcu", "force"])
def test_every_stretch_of_outline_is_drawn_exactly_once(name):
    outlines = _geoms(display_layer(name))
    edges = _geoms(geo.display_edges(name))
    # the same lines as the display outlines, nothing lost, nothing added
    assert shapely.hausdorff_distance(shapely.union_all(edges), shapely.union_all(outlines)) < 1e-6
    # no two features share any length of line
    left, right = shapely.STRtree(edges).query(edges, predicate="intersects")
    pairs = left < right
    overlap = shapely.length(shapely.intersection(edges[left[pairs]], edges[right[pairs]]))
    assert overlap.max(initial=0) < 1e-9
    assert shapely.length(edges).sum() == pytest.approx(shapely.union_all(edges).length, rel=1e-9)


def test_a_line_between_two_bcus_names_both_and_lies_on_both():
    by_name = {f["properties"]["name"]: g for f, g in
               zip(display_layer("bcu")["features"], _geoms(display_layer("bcu")), strict=True)}
    fc = geo.display_edges("bcu")
    shared = [f for f in fc["features"] if " / " in f["properties"]["name"]]
    assert shared
    for f, g in zip(fc["features"], _geoms(fc), strict=True):
        names = f["properties"]["name"].split(" / ")
        codes = f["properties"]["code"].split(" / ")
        assert len(names) == len(codes) in (1, 2)
        for n in names:
            assert shapely.hausdorff_distance(g, shapely.intersection(g, by_name[n])) < 1e-6
    # Westminster and Lambeth meet mid-Thames: their BCUs' line names both
    pairs = {frozenset(f["properties"]["name"].split(" / ")) for f in shared}
    repo = Path(geo.boundaries.__file__).parents[1]
    mapping = pd.read_csv(repo / "data/boundaries/bcu_boroughs.csv")
    bcu_of = dict(zip(mapping["borough_name"], mapping["bcu_name"], strict=True))
    assert frozenset({bcu_of["Westminster"], bcu_of["Lambeth"]}) in pairs


def test_only_outline_layers_have_edges():
    with pytest.raises(geo.InputError):
        geo.display_edges("borough")
    with pytest.raises(geo.InputError):
        geo.display_edges("nothing")


def test_each_call_gets_its_own_copy():
    a = geo.display_edges("bcu")
    a["features"].clear()
    assert geo.display_edges("bcu")["features"]
