"""Case layers: styles by status, path order, last-known choice, escaping of every string."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

import folium
import pytest
from streamlit_folium import _get_feature_group_string

from layers.escape import safe_text
from layers.sightings import (
    SIGHTING_STYLES,
    case_layers,
    last_known_layer,
    path_layer,
    places_layer,
    rendezvous_layer,
    sightings_layer,
    time_label,
    verified_path,
)
from tests.layers.conftest import HOSTILE

NOW = datetime(2026, 3, 3, 15, 0, tzinfo=UTC)


@dataclass(frozen=True)
class S:
    id: int
    lat: float
    lon: float
    seen_at: datetime
    source: str = "public"
    confidence: str = "medium"
    status: str = "unverified"
    reported_by: str = ""
    description: str = ""
    borough: str | None = "Westminster"
    bcu: str | None = "Central West"
    force: str | None = "Metropolitan Police Service"


@dataclass(frozen=True)
class C:
    reference: str = "WH-2026-0001"
    ipp_lat: float = 51.5074
    ipp_lon: float = -0.1278
    home_lat: float | None = 51.5155
    home_lon: float | None = -0.0922


@dataclass(frozen=True)
class LK:
    lat: float
    lon: float
    at: datetime | None
    kind: str
    sighting_id: int | None


def at(hours_ago: float) -> datetime:
    return NOW - timedelta(hours=hours_ago)


def render_group(group: folium.FeatureGroup) -> str:
    """The JavaScript streamlit-folium sends to the browser for this group."""
    return _get_feature_group_string(group, folium.Map(tiles=None))


def options_of(js: str, call: str) -> list[dict]:
    """The options object of every ``L.<call>(location, {...})`` in the script."""
    found = re.findall(rf"L\.{call}\(\s*\[[^\]]*\],\s*(\{{.*?\}})\s*\)", js, flags=re.S)
    return [json.loads(x) for x in found]


SIGHTINGS = [
    S(1, 51.501, -0.141, at(5), status="verified", source="police"),
    S(2, 51.503, -0.120, at(1), status="verified", source="CCTV"),
    S(3, 51.505, -0.110, at(3), status="verified", source="family"),
    S(4, 51.510, -0.100, at(0.5), status="unverified"),
    S(5, 51.520, -0.090, at(2), status="dismissed"),
]


def test_each_status_has_its_own_look():
    js = render_group(sightings_layer(SIGHTINGS, now=NOW))
    opts = options_of(js, "circleMarker")
    by_class = {o["className"].split()[-1]: o for o in opts}
    assert set(by_class) == {
        "wayhome-sighting-verified",
        "wayhome-sighting-unverified",
        "wayhome-sighting-dismissed",
    }
    verified = by_class["wayhome-sighting-verified"]
    unverified = by_class["wayhome-sighting-unverified"]
    dismissed = by_class["wayhome-sighting-dismissed"]
    assert verified["dashArray"] is None and unverified["dashArray"]  # dashed = not checked
    assert unverified["fillColor"] == "#ffffff"  # hollow
    assert verified["fillOpacity"] > 0.8
    assert dismissed["opacity"] < 1 and dismissed["radius"] < verified["radius"]
    assert len({verified["color"], unverified["color"], dismissed["color"]}) == 3
    assert len(opts) == 5


def test_dismissed_can_be_left_off_and_unknown_status_is_never_hidden():
    js = render_group(sightings_layer(SIGHTINGS, show_dismissed=False, now=NOW))
    classes = [o["className"] for o in options_of(js, "circleMarker")]
    assert len(classes) == 4
    assert not any("dismissed" in c for c in classes)
    odd = [S(9, 51.5, -0.1, at(1), status="something new")]
    js = render_group(sightings_layer(odd))
    classes = [o["className"] for o in options_of(js, "circleMarker")]
    assert classes == [SIGHTING_STYLES["unverified"].class_name]


def test_time_labels_are_london_wall_clock():
    summer = datetime(2026, 7, 1, 13, 5, tzinfo=UTC)  # BST: 14:05 in London
    assert time_label(summer, now=summer) == "14:05"
    winter = datetime(2026, 1, 6, 13, 5, tzinfo=UTC)  # GMT
    assert time_label(winter, now=winter) == "13:05"
    assert time_label(winter, now=winter + timedelta(days=1)) == "Tue 6 Jan 13:05"
    assert time_label(winter, now=winter + timedelta(days=400)) == "6 Jan 2026 13:05"
    with pytest.raises(ValueError):
        time_label(datetime(2026, 1, 6, 13, 5))
    js = render_group(sightings_layer([S(1, 51.5, -0.1, summer)], now=summer))
    assert "14:05" in js and "13:05" not in js
    assert '"permanent": true' in js


def test_path_joins_verified_sightings_in_time_order():
    route = verified_path(SIGHTINGS)
    assert [s.id for s in route] == [1, 3, 2]  # by time seen, not by id
    js = render_group(path_layer(SIGHTINGS))
    coords = json.loads(re.search(r"L\.polyline\(\s*(\[\[.*?\]\])", js, flags=re.S).group(1))
    assert coords == [[s.lat, s.lon] for s in route]
    assert "wayhome-path" in js
    # ties in time are broken by id, so the path is the same on every run
    tie = [replace(SIGHTINGS[0], id=8), replace(SIGHTINGS[0], id=7, lat=51.6)]
    assert [s.id for s in verified_path(tie)] == [7, 8]


def test_no_path_from_fewer_than_two_verified_sightings():
    one = [s for s in SIGHTINGS if s.id in (1, 4, 5)]
    assert "L.polyline" not in render_group(path_layer(one))


def test_last_known_marker_uses_the_record_it_is_given():
    lk = LK(51.503, -0.120, at(1), "sighting", 2)
    js = render_group(last_known_layer(lk, now=NOW))
    opts = options_of(js, "circleMarker")
    assert len(opts) == 1 and opts[0]["className"] == "wayhome-lkl"
    assert opts[0]["radius"] > max(s.radius for s in SIGHTING_STYLES.values())
    assert "[51.503, -0.12]" in js
    assert "Last known · 14:00" in js
    ipp = render_group(last_known_layer(LK(51.5074, -0.1278, None, "ipp", None)))
    assert "IPP (no verified sighting yet)" in ipp


def test_ipp_and_home_pins():
    js = render_group(places_layer(C()))
    assert "wayhome-ipp" in js and "wayhome-home" in js
    no_home = render_group(places_layer(C(home_lat=None, home_lon=None)))
    assert "wayhome-ipp" in no_home and "wayhome-home" not in no_home


def test_case_layers_stack_lkl_on_top():
    lk = LK(51.503, -0.120, at(1), "sighting", 2)
    groups = case_layers(C(), SIGHTINGS, lk, now=NOW)
    names = [g.layer_name for g in groups]
    assert names == ["IPP and home", "Verified path", "Sightings", "Last known location"]


@pytest.mark.parametrize("payload", HOSTILE)
def test_every_user_string_is_escaped(payload):
    hostile = S(
        1,
        51.5,
        -0.1,
        at(1),
        source=payload,
        confidence=payload,
        status="verified",
        reported_by=payload,
        description=payload,
        borough=payload,
        bcu=payload,
        force=payload,
    )
    case = C(reference=payload)
    lk = LK(51.5, -0.1, at(1), "sighting", 1)
    js = "".join(
        _get_feature_group_string(g, folium.Map(tiles=None), i)
        for i, g in enumerate(case_layers(case, [hostile, replace(hostile, id=2)], lk, now=NOW))
    )
    assert payload not in js
    assert json.dumps(payload)[1:-1] not in js
    assert "${" not in js
    assert "<img" not in js and "<svg" not in js and "<script" not in js
    # every backtick in the script is folium's own template-literal delimiter
    assert js.count("`") % 2 == 0
    for literal in re.findall(r"`(.*?)`", js, flags=re.S):
        assert "`" not in literal and "${" not in literal
    # the escaped text is what is shown
    assert safe_text(payload) in js


def test_escaping_does_not_mangle_ordinary_text():
    s = S(1, 51.5, -0.1, at(1), reported_by="Sam O'Neill", description="Red coat & blue hat")
    js = render_group(sightings_layer([s], now=NOW))
    assert "Sam O&#x27;Neill" in js
    assert "Red coat &amp; blue hat" in js


def test_case_legend_rows_look_like_their_markers():
    from layers.legend import legend_html
    from layers.sightings import sighting_legend_rows

    rows = sighting_legend_rows()
    marks = {text.split(" (")[0]: mark for _, text, mark in rows}
    assert marks["Verified sighting"] == "dot"
    assert marks["Unverified sighting"] == "dashed-ring"  # hollow and dashed, as on the map
    assert marks["Last-known location"] == "ring"
    html = legend_html([], extra=rows, title="Case")
    assert html.count("<li>") == len(rows)
    assert 'stroke-dasharray="3 2"' in html
    assert len(set(re.findall(r"<svg[^>]*>(.*?)</svg>", html))) == len(rows)
    with pytest.raises(ValueError):
        legend_html([], extra=[("#123456", "x", "<script>")])


@pytest.mark.parametrize("payload", HOSTILE)
def test_the_rendezvous_pin_names_the_point_and_escapes_its_words(payload):
    from types import SimpleNamespace

    point = SimpleNamespace(lat=51.5, lon=-0.1, text=lambda: payload)
    js = _get_feature_group_string(rendezvous_layer(point), folium.Map(tiles=None))
    assert "wayhome-rv" in js and "\\u003eRV\\u003c" in js and "Rendezvous point" in js
    assert "TQ 3" in js  # its grid reference
    assert payload not in js and json.dumps(payload)[1:-1] not in js and "${" not in js
    assert "Marker" not in _get_feature_group_string(rendezvous_layer(None),
                                                     folium.Map(tiles=None))
