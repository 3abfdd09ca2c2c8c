"""The family's optional delay: ground appears as it stood that many minutes ago.

The family looks at the case "30 minutes later" (the clock of the family view is
moved on), so the delay's cut-off falls between the steps the test takes.
"""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from shapely.geometry import box

import casefile.tips
from casefile import utcnow

pytestmark = pytest.mark.db

SQ = [box(-0.0995 + i * 0.002, 51.5135, -0.0988 + i * 0.002, 51.5140) for i in range(3)]
DELAY = timedelta(minutes=30)
SEARCHED = {"searched_today", "searched_earlier"}  # which one depends on the hour it runs


def _moment():
    time.sleep(0.02)
    at = utcnow()
    time.sleep(0.02)
    return at


def _looking_at(monkeypatch, cutoff):
    """The family view's clock: ``DELAY`` after ``cutoff``."""
    monkeypatch.setattr(casefile.tips, "utcnow", lambda: cutoff + DELAY)


def _groups(view) -> dict[str, str]:
    return {a.code: a.group for a in view.areas}


def test_delayed_family_view_shows_the_previous_status_not_nothing(store, coord, case,
                                                                   monkeypatch):
    team = store.create_team(coord, case.id, name="Red", org_type="met_bcu")
    lead = store.open_link(store.issue_link(coord, case.id, role="team_lead", label="lead",
                                            team_id=team.id).token).actor
    fam = store.open_link(store.issue_link(coord, case.id, role="family", label="Mum").token).actor
    sharing = store.sharing(coord, case.id)
    store.set_sharing(coord, case.id, version=sharing.version, family_delay_min=30)
    a = store.create_sector(coord, case.id, geometry=SQ[0], name="A")
    a = store.assign_sector(coord, a.id, team.id, version=a.version)
    b = store.create_sector(coord, case.id, geometry=SQ[1], name="B")
    b = store.assign_sector(coord, b.id, team.id, version=b.version)
    b = store.start_sector(lead, b.id, version=b.version)
    first = _moment()
    # after the cut-off: A is started and finished, B finished, a draft C appears
    a = store.start_sector(lead, a.id, version=a.version)
    a = store.finish_sector(lead, a.id, version=a.version, search_type="hasty", assurance="low")
    b = store.finish_sector(lead, b.id, version=b.version, search_type="hasty", assurance="low")
    store.create_sector(coord, case.id, geometry=SQ[2], name="C")
    second = _moment()

    _looking_at(monkeypatch, first)
    view = store.family_view(fam, case.id)
    # as they stood at the cut-off: A assigned (planned), B being searched; C unseen
    assert _groups(view) == {a.code: "planned", b.code: "in_progress"}
    assert all(x.last_searched_at is None and x.since < first for x in view.areas)

    # the family's own report is not held back
    mine = store.report_family_search(fam, case.id, geometry=SQ[2].buffer(0.001),
                                      searched_at=utcnow() - timedelta(minutes=10))
    assert _groups(store.family_view(fam, case.id))[mine.sector_code] in SEARCHED

    # once the delay has passed, the searched ground shows, with its times
    _looking_at(monkeypatch, second)
    view = store.family_view(fam, case.id)
    assert {_groups(view)[a.code], _groups(view)[b.code]} <= SEARCHED
    assert all(x.last_searched_at is not None for x in view.areas)
    assert len(view.areas) == 3  # C is a draft: never shown
    # before anything was planned, nothing shows
    _looking_at(monkeypatch, a.created_at - timedelta(seconds=1))
    assert set(_groups(store.family_view(fam, case.id))) == {mine.sector_code}
