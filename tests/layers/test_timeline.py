"""The sightings timeline: London wall clock, status by colour and shape, one legend."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from layers.timeline import STATUS_COLOURS, STATUS_SHAPES, timeline_chart, timeline_frame


@dataclass
class S:
    id: int
    seen_at: datetime
    source: str
    status: str
    confidence: str = "medium"
    borough: str | None = "Lambeth"


SUMMER = datetime(2026, 7, 1, 13, 5, tzinfo=UTC)  # 14:05 BST in London


def _layers(spec: dict) -> list[dict]:
    return spec["layer"]


def _points(spec: dict) -> dict:
    return next(layer for layer in _layers(spec) if layer["mark"]["type"] == "point")


def test_no_sightings_no_chart():
    assert timeline_chart([]) is None


def test_times_are_london_wall_clock():
    frame = timeline_frame([S(1, SUMMER, "police", "verified")])
    assert frame.loc[0, "Time seen"] == datetime(2026, 7, 1, 14, 5)
    assert frame.loc[0, "When"] == "Wed 01 Jul 2026, 14:05 BST"
    winter = timeline_frame([S(2, datetime(2026, 12, 1, 14, 5, tzinfo=UTC), "cctv", "verified")])
    assert winter.loc[0, "When"].endswith("14:05 GMT")
    with pytest.raises(ValueError):
        timeline_frame([S(3, datetime(2026, 7, 1, 13, 5), "public", "verified")])


def test_status_has_colour_and_shape_and_one_visible_legend():
    rows = [
        S(1, SUMMER, "police", "verified"),
        S(2, SUMMER + timedelta(minutes=20), "public", "unverified"),
        S(3, SUMMER + timedelta(minutes=40), "family", "dismissed"),
    ]
    spec = timeline_chart(rows).to_dict()
    enc = _points(spec)["encoding"]
    assert enc["color"]["field"] == enc["shape"]["field"] == "Status"
    assert enc["color"]["scale"]["domain"] == ["verified", "unverified", "dismissed"]
    assert enc["color"]["scale"]["range"] == list(STATUS_COLOURS.values())
    assert enc["shape"]["scale"]["range"] == list(STATUS_SHAPES.values())
    # both legends on and titled alike, so Vega-Lite draws one merged legend
    assert enc["color"]["legend"]["title"] == enc["shape"]["legend"]["title"] == "Status"
    assert len(set(STATUS_SHAPES.values())) == len(STATUS_SHAPES)
    assert enc["y"]["field"] == "Source"


def test_axis_names_the_day_only_when_sightings_span_days():
    same_day = timeline_chart([S(1, SUMMER, "police", "verified")]).to_dict()
    assert _points(same_day)["encoding"]["x"]["axis"]["format"] == "%H:%M"
    two_days = timeline_chart(
        [S(1, SUMMER, "police", "verified"), S(2, SUMMER + timedelta(days=1), "cctv", "verified")]
    ).to_dict()
    assert "%a" in _points(two_days)["encoding"]["x"]["axis"]["format"]
    # reported missing the evening before the only sighting: two days on the axis
    spec = timeline_chart(
        [S(1, SUMMER, "police", "verified")], reported_missing_at=SUMMER - timedelta(hours=20)
    ).to_dict()
    assert "%a" in _points(spec)["encoding"]["x"]["axis"]["format"]


def test_reported_missing_rule():
    spec = timeline_chart(
        [S(1, SUMMER, "police", "verified")], reported_missing_at=SUMMER - timedelta(hours=2)
    ).to_dict()
    kinds = [layer["mark"]["type"] for layer in _layers(spec)]
    assert kinds == ["rule", "text", "point"]
    data = spec["datasets"]
    rule_rows = [rows for rows in data.values() if rows and "What" in rows[0]]
    assert rule_rows and rule_rows[0][0]["Time seen"].startswith("2026-07-01T12:05")


def test_unknown_status_still_drawn():
    spec = timeline_chart([S(1, SUMMER, "police", "escalated")]).to_dict()
    assert _points(spec)["encoding"]["color"]["scale"]["domain"] == ["escalated"]
