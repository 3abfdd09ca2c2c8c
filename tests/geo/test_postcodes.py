"""geo.lookup_postcode: normalising, found / not in London / invalid, plain messages."""

from __future__ import annotations

import pytest

import geo
from geo.postcodes import lookup_postcode, normalise_postcode


@pytest.mark.parametrize("text", ["SW1A 2AA", "sw1a2aa", "  Sw1A   2aA ", "SW1A\t2AA"])
def test_found_whatever_the_spacing_and_case(text):
    r = lookup_postcode(text)
    assert r.status == "found" and r.found
    assert r.postcode == "SW1A 2AA"
    assert r.borough_code == "E09000033"
    assert 51.50 < r.lat < 51.51 and -0.13 < r.lon < -0.12
    assert geo.locate(r.lat, r.lon)["borough"] == "Westminster"


def test_city_postcode():
    r = lookup_postcode("EC1A 1BB")
    assert r.status == "found"
    assert r.borough_code.startswith("E09")
    assert geo.locate(r.lat, r.lon)["borough_code"] == r.borough_code


def test_outer_london_postcode_outside_a_london_postal_area():
    # Biggin Hill is in Bromley but has a Kent-area (TN16) postcode
    r = lookup_postcode("tn163aa")
    assert r.status == "found"
    assert r.borough_code == "E09000006"


@pytest.mark.parametrize("text", ["M1 1AE", "m11ae", "EH1 1YZ", "WD17 1DA", "GIR 0AA"])
def test_well_formed_but_not_london(text):
    r = lookup_postcode(text)
    assert r.status == "not_in_london"
    assert r.lat is None and r.lon is None
    assert "not a London postcode we hold" in r.message
    assert r.postcode == normalise_postcode(text)
    assert r.postcode in r.message


@pytest.mark.parametrize(
    "text", ["", "   ", "hello", "SW1A 2A", "12345", "SW1A 2AAA", "<script>", "51.5,-0.1", None]
)
def test_garbage_is_invalid_not_an_error(text):
    r = lookup_postcode(text)
    assert r.status == "invalid"
    assert r.lat is None
    assert r.message


def test_outward_code_only_asks_for_the_full_postcode():
    r = lookup_postcode("sw1a")
    assert r.status == "invalid"
    assert "first half" in r.message


def test_normalise():
    assert normalise_postcode(" e16an ") == "E1 6AN"
    assert normalise_postcode("ec1a1bb") == "EC1A 1BB"
    assert normalise_postcode("not one") == "NOTONE"


def test_every_row_of_the_file_is_found():
    from geo.postcodes import _table

    table = _table()
    assert len(table.index) == 180_792
    assert table.index.is_unique
    # spot check a spread of rows round-trip through the public function
    for key in table.index[:: 10_000]:
        r = lookup_postcode(key.lower())
        assert r.status == "found"
        assert r.postcode.replace(" ", "") == key
