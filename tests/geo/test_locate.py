"""geo.locate / geo.locate_many on real places, the river, boundaries and bad input."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import shapely

import geo
from geo.boundaries import LOCATE_COLUMNS, load_layer, locate_many
from geo.crs import bng_to_lonlat, lonlat_to_bng
from vocab import settings

# One landmark well inside each authority: (name, lat, lon, borough code).
LANDMARKS = [
    ("Guildhall", 51.5157, -0.0919, "E09000001"),
    ("Barking Town Hall", 51.5390, 0.0810, "E09000002"),
    ("Hendon Town Hall", 51.5866, -0.2296, "E09000003"),
    ("Bexleyheath Broadway", 51.4567, 0.1423, "E09000004"),
    ("Wembley Stadium", 51.5560, -0.2795, "E09000005"),
    ("Bromley South station", 51.3999, 0.0173, "E09000006"),
    ("British Museum", 51.5194, -0.1270, "E09000007"),
    ("East Croydon station", 51.3755, -0.0927, "E09000008"),
    ("Ealing Broadway station", 51.5150, -0.3017, "E09000009"),
    ("Enfield Civic Centre", 51.6530, -0.0810, "E09000010"),
    ("Royal Observatory Greenwich", 51.4769, -0.0005, "E09000011"),
    ("Hackney Town Hall", 51.5446, -0.0553, "E09000012"),
    ("Hammersmith station", 51.4927, -0.2240, "E09000013"),
    ("Alexandra Palace", 51.5942, -0.1310, "E09000014"),
    ("Harrow-on-the-Hill station", 51.5793, -0.3366, "E09000015"),
    ("Romford station", 51.5748, 0.1830, "E09000016"),
    ("Uxbridge station", 51.5465, -0.4787, "E09000017"),
    ("Osterley Park House", 51.4875, -0.3520, "E09000018"),
    ("Emirates Stadium", 51.5549, -0.1084, "E09000019"),
    ("Natural History Museum", 51.4967, -0.1764, "E09000020"),
    ("Kingston station", 51.4128, -0.3011, "E09000021"),
    ("Brixton station", 51.4627, -0.1145, "E09000022"),
    ("Lewisham station", 51.4657, -0.0142, "E09000023"),
    ("Morden station", 51.4022, -0.1948, "E09000024"),
    ("Stratford station", 51.5416, -0.0034, "E09000025"),
    ("Ilford station", 51.5592, 0.0686, "E09000026"),
    ("Richmond station", 51.4633, -0.3015, "E09000027"),
    ("Peckham Rye station", 51.4700, -0.0694, "E09000028"),
    ("Sutton station", 51.3596, -0.1912, "E09000029"),
    ("One Canada Square", 51.5049, -0.0195, "E09000030"),
    ("Walthamstow Central station", 51.5829, -0.0197, "E09000031"),
    ("Clapham Junction station", 51.4642, -0.1704, "E09000032"),
    ("Buckingham Palace", 51.5014, -0.1419, "E09000033"),
]

# Places outside London: a force, but no borough, BCU or ward.
NEIGHBOURS = [
    ("Watford Junction", 51.6636, -0.3961, "Hertfordshire Constabulary"),
    ("St Albans Cathedral", 51.7505, -0.3425, "Hertfordshire Constabulary"),
    ("Slough station", 51.5119, -0.5916, "Thames Valley Police"),
    ("Reading station", 51.4587, -0.9718, "Thames Valley Police"),
    ("Chelmsford station", 51.7363, 0.4686, "Essex Police"),
    ("Brentwood station", 51.6137, 0.2998, "Essex Police"),
    ("Dartford station", 51.4470, 0.2194, "Kent Police"),
    ("Sevenoaks station", 51.2770, 0.1818, "Kent Police"),
    ("Guildford station", 51.2370, -0.5803, "Surrey Police"),
    ("Epsom station", 51.3344, -0.2690, "Surrey Police"),
]

MET = "Metropolitan Police Service"
CITY_POLICE = "City of London Police"


@pytest.mark.parametrize(("place", "lat", "lon", "code"), LANDMARKS, ids=[p[0] for p in LANDMARKS])
def test_landmark_in_each_authority(place, lat, lon, code):
    boroughs = load_layer("borough").set_index("code")
    got = geo.locate(lat, lon)
    assert set(got) == set(LOCATE_COLUMNS)
    assert got["borough_code"] == code, place
    assert got["borough"] == boroughs.loc[code, "name"]
    assert got["ward"] is not None
    if code == "E09000001":
        assert got["force"] == CITY_POLICE
        assert got["bcu"] is None
    else:
        assert got["force"] == MET
        assert got["bcu"] == boroughs.loc[code, "bcu"]
        assert got["bcu"] is not None


def test_landmarks_cover_all_33_authorities():
    assert sorted({c for *_, c in LANDMARKS}) == sorted(load_layer("borough")["code"])


@pytest.mark.parametrize(("place", "lat", "lon", "force"), NEIGHBOURS,
                         ids=[p[0] for p in NEIGHBOURS])
def test_neighbouring_forces(place, lat, lon, force):
    got = geo.locate(lat, lon)
    assert got == {"borough": None, "borough_code": None, "bcu": None, "force": force,
                   "ward": None}, place


def test_every_neighbouring_force_is_tested():
    names = set(load_layer("force")["name"]) - {MET, CITY_POLICE}
    assert names == {f for *_, f in NEIGHBOURS}


@pytest.mark.parametrize(
    ("place", "lat", "lon", "either"),
    [
        ("Westminster Bridge, mid-river", 51.50080, -0.12170, {"Westminster", "Lambeth"}),
        ("off Greenwich pier, mid-river", 51.48680, -0.00900, {"Greenwich", "Tower Hamlets"}),
        ("Thames Barrier reach", 51.49700, 0.03000, {"Greenwich", "Newham"}),
        ("Thames at Putney Bridge", 51.46690, -0.21320, {"Wandsworth", "Hammersmith and Fulham"}),
        ("Thames off Kew Gardens", 51.48300, -0.29200, {"Richmond upon Thames", "Hounslow"}),
    ],
)
def test_points_on_the_thames_get_a_borough_and_bcu(place, lat, lon, either):
    got = geo.locate(lat, lon)
    assert got["borough"] in either, place
    assert got["bcu"] is not None
    assert got["force"] == MET
    assert got["ward"] is not None


def test_thames_point_is_outside_the_gla_mhw_borough_outline_but_still_located():
    # Mid-river at Westminster Bridge is ~100 m from either bank: the GLA borough file
    # "excluding MHW" has no borough there; the river-included boroughs do.
    boroughs = load_layer("borough")
    x, y = lonlat_to_bng(-0.1217, 51.5008)
    pt = shapely.Point(float(x), float(y))
    assert int(boroughs.intersects(pt).sum()) == 1


def test_city_of_london_has_its_own_force_and_no_bcu():
    got = geo.locate(51.5138, -0.0984)  # St Paul's Cathedral
    assert got["borough"] == "City of London"
    assert got["force"] == CITY_POLICE
    assert got["bcu"] is None


def test_points_just_inside_every_borough_edge():
    """200 points per borough, 25 m inside its edge (incl. edges on the river)."""
    boroughs = load_layer("borough")
    inset = shapely.buffer(boroughs.geometry.values, -25.0)
    lats, lons, expect = [], [], []
    for code, geom in zip(boroughs["code"], inset, strict=True):
        ring = shapely.get_exterior_ring(max(shapely.get_parts(geom), key=shapely.area))
        pts = shapely.line_interpolate_point(ring, np.linspace(0, 1, 200, endpoint=False),
                                             normalized=True)
        lon, lat = bng_to_lonlat(shapely.get_x(pts), shapely.get_y(pts))
        lats.append(lat), lons.append(lon), expect.extend([code] * len(pts))
    got = locate_many(np.concatenate(lats), np.concatenate(lons))
    wrong = got["borough_code"].to_numpy() != np.array(expect, dtype=object)
    assert not wrong.any(), got[wrong].head()


def test_either_side_of_the_london_boundary():
    """300 m inside London: Met and a borough; 300 m outside: a neighbour, no borough."""
    forces = load_layer("force").set_index("force_id")
    london = shapely.union(forces.loc["metropolitan", "geometry"],
                           forces.loc["city-of-london", "geometry"])
    outer = shapely.Polygon(shapely.get_exterior_ring(
        max(shapely.get_parts(london), key=shapely.area)))
    frac = np.linspace(0, 1, 300, endpoint=False)
    results = {}
    for side, dist in (("inside", -300.0), ("outside", 300.0)):
        ring = shapely.get_exterior_ring(
            max(shapely.get_parts(shapely.buffer(outer, dist)), key=shapely.area))
        pts = shapely.line_interpolate_point(ring, frac, normalized=True)
        lon, lat = bng_to_lonlat(shapely.get_x(pts), shapely.get_y(pts))
        results[side] = locate_many(lat, lon)
    inside, outside = results["inside"], results["outside"]
    assert (inside["force"] == MET).all()
    assert inside["borough"].notna().all()
    assert inside["bcu"].notna().all()
    assert outside["borough"].isna().all()
    neighbours = {f for *_, f in NEIGHBOURS}
    # the outer ring crosses the Thames estuary, where a few points may be in no force
    in_neighbour = outside["force"].isin(neighbours)
    assert in_neighbour.mean() >= 0.97, outside["force"].value_counts(dropna=False)
    assert set(outside["force"].dropna()) <= neighbours


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(48.8566, 2.3522), (55.9533, -3.1883), (50.5, -1.0), (0.0, 0.0), (-33.86, 151.2), (89.9, 0)],
    ids=["Paris", "Edinburgh", "English Channel", "null island", "Sydney", "near the pole"],
)
def test_far_points_get_all_none(lat, lon):
    assert geo.locate(lat, lon) == dict.fromkeys(LOCATE_COLUMNS)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [(math.nan, 0.0), (51.5, math.inf), (-math.inf, 0.0), (91.0, 0.0), (51.5, 181.0),
     ("51.5", "-0.1"), (None, 0.0), ("abc", 1.0), (True, 0.0)],
)
def test_garbage_raises_input_error(lat, lon):
    with pytest.raises(geo.InputError):
        geo.locate(lat, lon)


def test_locate_is_positional_lat_then_lon():
    a = geo.locate(51.5014, -0.1419)
    assert a["borough"] == "Westminster"
    assert geo.locate(lat=51.5014, lon=-0.1419) == a
    # swapped: (-0.1419, 51.5014) is in the Indian Ocean -> nothing, not Westminster
    assert geo.locate(-0.1419, 51.5014) == dict.fromkeys(LOCATE_COLUMNS)


def test_locate_many_shape_types_and_codes():
    lats = [51.5014, 51.6636, 48.8566, 51.5157]
    lons = [-0.1419, -0.3961, 2.3522, -0.0919]
    df = locate_many(lats, lons, codes=True)
    assert list(df.columns[:5]) == list(LOCATE_COLUMNS)
    assert len(df) == 4
    assert df.loc[0, "ward_code"].startswith("E05")
    assert df.loc[0, "force_code"] == "E23000001"
    assert df.loc[3, "force_code"] == "E23000034"
    assert df.loc[0, "bcu_code"] == "central-west"
    assert df.loc[2, "borough"] is None and df.loc[2, "force"] is None  # None, not NaN
    assert df.loc[1, "borough"] is None
    single = [geo.locate(a, b) for a, b in zip(lats, lons, strict=True)]
    assert df[list(LOCATE_COLUMNS)].to_dict("records") == single


def test_locate_many_empty_and_mismatched():
    empty = locate_many([], [])
    assert len(empty) == 0 and list(empty.columns) == list(LOCATE_COLUMNS)
    with pytest.raises(geo.InputError):
        locate_many([51.5, 51.6], [-0.1])
    with pytest.raises(geo.InputError):
        locate_many([51.5, np.nan], [-0.1, -0.1])


def test_postcodes_land_in_their_own_borough():
    """Cross-check against OS Code-Point Open: 2,000 random London postcodes."""
    pc = pd.read_csv(settings.POSTCODES_FILE)
    sample = pc.sample(2000, random_state=20240601)
    got = locate_many(sample["lat"].to_numpy(), sample["lon"].to_numpy())
    agree = float((got["borough_code"].to_numpy() == sample["borough_code"].to_numpy()).mean())
    print(f"postcode borough agreement: {agree:.2%} of {len(sample)}")
    assert agree >= 0.995
    city = sample["borough_code"].to_numpy() == "E09000001"
    assert (got["force"].to_numpy()[city] == CITY_POLICE).mean() >= 0.99
    assert (got["force"].to_numpy()[~city] == MET).mean() >= 0.995
