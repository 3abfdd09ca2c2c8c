"""geo.task_places: the keys a repeat is looked up by, and the repeat rules, with known
answers (BNG metres, UTC windows)."""

from __future__ import annotations

from datetime import UTC, datetime

from shapely.geometry import LineString, Point

from geo import task_places as tp


def at(h: int) -> datetime:
    return datetime(2026, 12, 5, h, tzinfo=UTC)


def test_addresses_and_streets_normalise_to_one_key():
    assert tp.normalise_address("Flat 3, 14 Union St.") == "flat 3 14 union street"
    assert tp.normalise_address("flat 3 14 UNION STREET, SE1 0NS") == "flat 3 14 union street"
    assert tp.normalise_address("Apt 3, 14 Union St") == "flat 3 14 union street"
    assert tp.premises_key("se1 0ns", "Flat 3, 14 Union St.") == "SE10NS|flat 3 14 union street"
    assert tp.premises_key("SE1 0NS", "  ") is None
    assert tp.normalise_street("St Thomas St") == "st thomas street"
    assert tp.street_key(street="Union St.") == "union street"
    assert tp.street_key(route="Bus 344") == "route:bus344"


def test_cells_around_a_point_hold_every_point_within_a_cell():
    x, y = 532_019.0, 180_001.0
    around = set(tp.cells_around(x, y))
    assert len(around) == 9
    for dx, dy in ((19, 0), (-19, 5), (0, -19.9), (14, 14)):
        assert tp.cell_of(x + dx, y + dy) in around
    assert tp.cell_of(x + 45, y) not in around


def test_windows_overlap_and_open_ends():
    assert tp.windows_overlap(at(14), at(16), at(15), at(17))
    assert not tp.windows_overlap(at(14), at(16), at(16), at(18))  # touching is not sharing
    assert tp.windows_overlap(None, None, at(1), at(2))  # no window: any time
    assert tp.windows_overlap(at(14), None, at(20), at(21))  # open end
    assert not tp.windows_overlap(None, at(10), at(11), at(12))


def test_sides_meet():
    assert tp.sides_meet("odd", "odd") and tp.sides_meet("both", "even")
    assert not tp.sides_meet("odd", "even")


def test_repeat_rules():
    shop = Point(532_000, 180_000)
    cam = tp.TaskPlace("camera", shop, start=at(14), end=at(16))
    candidates = [
        tp.TaskPlace("camera", Point(532_004, 180_003), start=at(15), end=at(17)),  # 5 m, overlap
        tp.TaskPlace("camera", Point(532_004, 180_003), start=at(16), end=at(18)),  # no overlap
        tp.TaskPlace("camera", Point(532_030, 180_000), start=at(14), end=at(16)),  # 30 m away
        tp.TaskPlace("premises", shop),  # a visit at the same place: another rule
    ]
    assert tp.find_repeats(cam, candidates) == [0]
    visit = tp.TaskPlace("premises", shop, premises="SE10NS|flat 3", has_address=True)
    others = [
        tp.TaskPlace("premises", Point(533_000, 180_000), premises="SE10NS|flat 3",
                     has_address=True),  # same address placed far away: a repeat
        tp.TaskPlace("premises", shop, premises="SE10NS|flat 4", has_address=True),  # neighbour
        tp.TaskPlace("premises", Point(532_010, 180_000)),  # 10 m, no address: same place
    ]
    assert tp.find_repeats(visit, others) == [0, 2]
    line = LineString([(532_000, 180_000), (532_200, 180_000)])
    odd = tp.TaskPlace("street", line, street="union street", side="odd")
    streets = [
        tp.TaskPlace("street", line, street="union street", side="both"),
        tp.TaskPlace("street", line, street="union street", side="even"),
        tp.TaskPlace("street", LineString([(540_000, 180_000), (540_100, 180_000)]),
                     street="union street", side="odd"),  # another Union Street, 8 km off
    ]
    assert tp.find_repeats(odd, streets) == [0]
