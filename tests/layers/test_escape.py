"""Every string that reaches the map is neutralised, and still reads the same."""

from __future__ import annotations

import html
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from layers.escape import (
    escape_feature_collection,
    escape_properties,
    markdown_text,
    safe_text,
)
from tests.layers.conftest import HOSTILE, collection

DANGEROUS = set("<>\"'`$\\")


@pytest.mark.parametrize("payload", HOSTILE)
def test_safe_text_leaves_no_markup_or_template_characters(payload):
    out = safe_text(payload)
    assert not DANGEROUS & set(out), out
    assert html.unescape(out) == payload  # the browser shows the original text


@given(st.text())
def test_safe_text_round_trips_any_text(text):
    out = safe_text(text)
    assert not DANGEROUS & set(out)
    assert html.unescape(out) == text


def test_safe_text_of_none_and_numbers():
    assert safe_text(None) == ""
    assert safe_text(42) == "42"


def test_escape_properties_escapes_strings_keeps_numbers_and_filters_fields():
    props = {"name": HOSTILE[1], "code": "E09000007", "area": 21.8, "secret": "x", "n": None}
    out = escape_properties(props, fields=["name", "code", "area", "n"])
    assert set(out) == {"name", "code", "area", "n"}
    assert out["area"] == 21.8 and out["n"] is None
    assert "<" not in out["name"] and html.unescape(out["name"]) == HOSTILE[1]


def test_escape_properties_turns_nested_values_into_escaped_text():
    out = escape_properties({"tags": ["<b>a</b>"]})
    assert isinstance(out["tags"], str) and "<" not in out["tags"]


def test_escape_feature_collection_escapes_every_feature_and_id():
    fc = collection(HOSTILE)
    fc["features"][0]["id"] = "<i>1</i>"
    out = escape_feature_collection(fc, fields=["name", "code"])
    assert len(out["features"]) == len(HOSTILE)
    text = json.dumps(out)
    for payload in HOSTILE:
        assert payload not in text
    assert "<" not in out["features"][0]["id"]
    # the input is not modified
    assert fc["features"][0]["properties"]["name"] == HOSTILE[0]


def test_escape_feature_collection_rejects_other_geojson():
    with pytest.raises(ValueError, match="FeatureCollection"):
        escape_feature_collection({"type": "Feature"})


@pytest.mark.parametrize(
    "raw",
    ["[click](javascript:alert(1))", ":red[alarm]", "**bold** _it_", "a\nb", "<b>x</b>"],
)
def test_markdown_text_escapes_markdown_syntax(raw):
    out = markdown_text(raw)
    for ch in "[]()*_:<>":
        assert f"\\{ch}" in out or ch not in raw
    assert "\n" not in out
