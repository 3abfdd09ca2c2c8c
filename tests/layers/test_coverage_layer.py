"""Coverage map layers: hostile names never reach the map unescaped; colours carry numbers."""

from __future__ import annotations

from types import SimpleNamespace

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import LineString, box

from geo.crs import geoms_to_lonlat
from geo.gaps import unsearched_ground
from geo.probability import initial_poa
from layers.coverage import (
    POD_COLOURS,
    coverage_legend_html,
    gaps_layer,
    poa_classes,
    poa_layer,
    pod_colour,
    pod_sectors_layer,
    swept_layer,
    tracks_layer,
)

HOSTILE = "<script>alert('x')</script><img src=x onerror=alert(1)>`${x}`\"q\""
X0, Y0 = 530_600.0, 178_600.0


def _html(group: folium.FeatureGroup) -> str:
    m = folium.Map(tiles=None)
    group.add_to(m)
    # folium writes GeoJSON with JSON escapes; read it as the browser will
    return m.get_root().render().replace("\\u0026", "&").replace("\\u00b7", "·")


def _assert_inert(html: str) -> None:
    assert "<script>alert" not in html
    assert "<img src=x" not in html
    assert "${x}" not in html and "`${" not in html


def test_tracks_layer_escapes_team_and_file_names():
    line = geoms_to_lonlat(LineString([(X0, Y0), (X0 + 300, Y0)]))
    frame = gpd.GeoDataFrame(
        {"team": [HOSTILE, "Team Blue"], "team_id": [2, 1], "file_name": [HOSTILE, "b.gpx"],
         "searchers": [3, 1]},
        geometry=[shapely.MultiLineString([line]), shapely.MultiLineString([line])],
        crs="EPSG:4326")
    html = _html(tracks_layer(frame))
    _assert_inert(html)
    assert "&lt;script&gt;" in html
    # two teams, two colours
    assert "#0072B2" in html and "#D55E00" in html


def test_pod_sector_layer_labels_numbers_and_escapes():
    sec = SimpleNamespace(id=7, code="S7", name=HOSTILE,
                          geometry=geoms_to_lonlat(box(X0, Y0, X0 + 200, Y0 + 200)))
    html = _html(pod_sectors_layer([sec], {7: {"cumulative_pod": 0.63, "passes": 2,
                                               "last_basis": HOSTILE, "swept_share": 0.5}}))
    _assert_inert(html)
    assert "S7 · POD 63 %" in html
    assert pod_colour(0.63) in html


@pytest.mark.parametrize(("pod", "k"), [(0.0, 0), (0.19, 0), (0.2, 1), (0.63, 3), (0.99, 4),
                                        (1.0, 4), (float("nan"), 0)])
def test_pod_colour_bins(pod, k):
    assert pod_colour(pod) == POD_COLOURS[k]


def test_poa_layer_merges_cells_by_class():
    grid = initial_poa(51.5074, -0.1278, {25: 200, 50: 400, 75: 700, 95: 1000})
    cls = poa_classes(grid.cells["poa"].to_numpy(), grid.cell_m**2)
    assert set(np.unique(cls)) <= {-1, 0, 1, 2, 3, 4}
    html = _html(poa_layer(grid))
    # one feature per class, not one per cell
    assert html.count('"type": "Feature"') <= 5 < len(grid.cells)


def test_gaps_and_swept_layers_and_legend():
    grid = initial_poa(51.5074, -0.1278, {25: 100, 50: 200, 75: 300, 95: 400})
    gaps = unsearched_ground(grid, np.zeros(len(grid.cells)), 0.5)
    html = _html(gaps_layer(gaps, 0.5))
    assert "Gap 1" in html and "below POD 50 %" in html
    swept = geoms_to_lonlat(shapely.buffer(LineString([(X0, Y0), (X0 + 100, Y0)]), 20))
    assert "Swept ground" in _html(swept_layer(swept))
    legend = coverage_legend_html([HOSTILE])
    _assert_inert(legend)
    assert "Decision support, not a prediction" in legend


def test_empty_inputs_give_empty_groups():
    empty = gpd.GeoDataFrame({"team": [], "team_id": [], "file_name": [], "searchers": []},
                             geometry=[], crs="EPSG:4326")
    for group in (tracks_layer(empty), swept_layer(shapely.Polygon()),
                  pod_sectors_layer([], {}), gaps_layer(pd.DataFrame(), 0.5)):
        assert isinstance(group, folium.FeatureGroup)


def test_poa_classes_split_the_probability_not_the_cell_count():
    # rings: the outer annulus has most cells but only 20 % of the POA
    grid = initial_poa(51.5074, -0.1278, {25: 300, 50: 1400, 75: 2900, 95: 5800})
    poa = grid.cells["poa"].to_numpy()
    cls = poa_classes(poa, grid.cell_m**2)
    held = [poa[cls == k].sum() / poa.sum() for k in range(5)]
    # every class holds some probability and none most of it
    assert all(h > 0.05 for h in held) and max(held) < 0.45
    # denser cells never sit in a lower class
    dens_order = np.argsort(poa)
    assert (np.diff(cls[dens_order]) >= 0).all()
    # the cells around the last-known location are the top class, the outer ring the lowest
    centre = int(np.argmax(poa))
    assert cls[centre] == 4 and cls[int(np.argmin(np.where(poa > 0, poa, 1)))] == 0
    # equal densities share a class; empty cells have none
    assert list(poa_classes(np.array([0.0, 0.2, 0.2, 0.6]), 1.0)) == [-1, 0, 0, 2]
