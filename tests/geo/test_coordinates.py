"""Typed places: "lat, lon", OS grid references, eastings/northings, postcodes."""

from __future__ import annotations

import pytest

from geo.coordinates import (
    Place,
    find_place,
    format_grid_reference,
    grid_reference,
    parse_grid_reference,
    parse_lat_lon,
)
from geo.crs import lonlat_to_bng
from geo.errors import InputError


@pytest.mark.parametrize(
    "text",
    [
        "51.5074, -0.1278",
        "51.5074,-0.1278",
        "51.5074 -0.1278",
        "51.5074; -0.1278",
        "(51.5074, -0.1278)",
        "51.5074° N, 0.1278° W",
        "51.5074N 0.1278W",
        "0.1278W, 51.5074N",  # compass letters make the order unambiguous
        "+51.5074 / -0.1278",
    ],
)
def test_lat_lon_forms(text):
    lat, lon = parse_lat_lon(text)
    assert lat == pytest.approx(51.5074) and lon == pytest.approx(-0.1278)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-0.1278, 51.5074", "swapped"),
        ("0, 0", "not in the UK"),
        ("95, 0", "out of range"),
        ("51.5", "not a latitude, longitude pair"),
        ("51.5N 0.1N", "two latitudes"),
        ("-51.5N, 0.1W", "minus sign and a compass letter"),
        ("", "not a latitude"),
    ],
)
def test_lat_lon_errors_explain_themselves(text, message):
    with pytest.raises(InputError, match=message):
        parse_lat_lon(text)


@pytest.mark.parametrize(
    ("text", "lat", "lon", "tol"),
    [
        # Trafalgar Square area, TQ 301 803 (100 m square, centre)
        ("TQ 301 803", 51.5071, -0.1261, 1e-3),
        ("TQ3010080300", 51.5067, -0.1268, 1e-3),
        ("tq 30100 80300", 51.5067, -0.1268, 1e-3),
        ("530100, 180300", 51.5067, -0.1268, 1e-3),
        # 1 km square: centre is 500 m in
        ("TQ 30 80", 51.5084, -0.1210, 1e-3),
        # Other 100 km squares: Windsor Castle (SU 969 770), Hertford (TL 32 12)
        ("SU 969 770", 51.4839, -0.6045, 2e-3),
        ("TL 32 12", 51.7962, -0.0812, 5e-3),
    ],
)
def test_grid_references(text, lat, lon, tol):
    got_lat, got_lon = parse_grid_reference(text)
    assert got_lat == pytest.approx(lat, abs=tol) and got_lon == pytest.approx(lon, abs=tol)


@pytest.mark.parametrize("text", ["TQ 301 80", "TI 100 100", "ZZ 100 100", "TQ", "900000, 100"])
def test_bad_grid_references(text):
    with pytest.raises(InputError):
        parse_grid_reference(text)


def test_find_place_reads_every_form():
    for text in ["51.5074, -0.1278", "TQ 301 803", "530100, 180300"]:
        place = find_place(text)
        assert place.found, (text, place)
        assert place.lat == pytest.approx(51.507, abs=2e-3)
        assert place.message


@pytest.mark.parametrize("text", ["", "   ", "x" * 200, "-0.1278, 51.5074", "0,0"])
def test_find_place_answers_plainly_instead_of_raising(text):
    place = find_place(text)
    assert isinstance(place, Place)
    assert place.status == "invalid" and not place.found
    assert place.message


def test_find_place_swapped_hint():
    assert "swapped" in find_place("-0.1278, 51.5074").message


@pytest.mark.parametrize(
    ("x", "y", "digits", "ref"),
    [
        (530123.7, 180456.2, 10, "TQ 30123 80456"),
        (530123.7, 180456.2, 6, "TQ 301 804"),  # truncated, as on an OS map
        (216600, 771200, 6, "NN 166 712"),  # Ben Nevis
        (400000, 1000, 4, "SZ 00 01"),
        (651000, 310000, 4, "TG 51 10"),
    ],
)
def test_grid_references_are_written_as_on_an_os_map(x, y, digits, ref):
    assert format_grid_reference(x, y, digits) == ref


def test_a_written_grid_reference_reads_back_to_its_square():
    for lat, lon in [(51.5074, -0.1278), (51.4703, -0.1176), (51.6, -0.45)]:
        ref = grid_reference(lat, lon, 10)
        back = parse_grid_reference(ref)
        x0, y0 = lonlat_to_bng(lon, lat)
        x1, y1 = lonlat_to_bng(back[1], back[0])
        assert abs(float(x0) - float(x1)) <= 1 and abs(float(y0) - float(y1)) <= 1


@pytest.mark.parametrize(("x", "y", "digits"), [(-1, 0, 10), (700_000, 0, 10), (5, 5, 3),
                                                (5, 5, 12)])
def test_grid_reference_refuses_what_it_cannot_write(x, y, digits):
    with pytest.raises(InputError):
        format_grid_reference(x, y, digits)
