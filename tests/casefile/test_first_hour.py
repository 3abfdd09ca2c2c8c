"""The first-hour step: a case, a verified police sighting, first sectors sized for a
team and cut at BCU/force lines with no slivers, a tasked team and its link — on both
backends, and safe to press twice."""

from __future__ import annotations

from datetime import timedelta

import pytest

import geo
from casefile import schema as t
from casefile import utcnow
from casefile.first_hour import first_hour
from tests.casefile.conftest import count_rows

pytestmark = pytest.mark.db

#: near Elephant & Castle
LAT, LON = 51.4950, -0.1005


def _go(store, coord, key="form-key-0001"):
    return first_hour(store, coord, reference="FH-1", child_name="Sam", age=13, risk="high",
                      lat=LAT, lon=LON, seen_at=utcnow() - timedelta(minutes=30),
                      place_text="Outside 12 <b>High</b> St", team_name="Team Red",
                      team_size=4, key=key)


def test_first_hour_opens_a_case_and_tasks_a_team(store, coord):
    done = _go(store, coord)
    assert (done.sighting.status, done.sighting.source) == ("verified", "police")
    assert "Outside 12 <b>High</b> St" in done.sighting.description
    lk = store.last_known_location(coord, done.case.id)
    assert (round(lk.lat, 4), round(lk.lon, 4)) == (LAT, LON)
    side = geo.first_sector_side_m(4)
    areas = [s.area_m2 for s in done.sectors]
    assert len(done.sectors) >= 7
    assert max(areas) <= 2 * side**2
    # no sliver: under a quarter of a cell only where cut lines leave that little ground
    small = [s for s in done.sectors if s.area_m2 < 0.25 * side**2]
    assert len(small) <= 0.1 * len(done.sectors)
    assert not any(s.straddles for s in done.sectors)  # cut at BCU and force lines
    assert done.first_sector.team_id == done.team.id
    assert done.first_sector.status == "assigned"
    assert done.link.link.role == "team_lead" and done.link.link.team_id == done.team.id
    opened = store.open_link(done.link.token)
    assert opened.case_id == done.case.id


def test_pressing_again_doubles_nothing_but_the_link(store, coord):
    first = _go(store, coord)
    counts = {tab.name: count_rows(store, tab) for tab in (t.cases, t.sightings, t.sectors,
                                                          t.teams)}
    again = _go(store, coord)
    assert again.case.id == first.case.id and again.team.id == first.team.id
    assert {tab.name: count_rows(store, tab) for tab in (t.cases, t.sightings, t.sectors,
                                                        t.teams)} == counts
