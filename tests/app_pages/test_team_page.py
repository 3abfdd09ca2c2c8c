"""The team lead's page: what a change costs when many phones of one team are open."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
import shapely
from streamlit.testing.v1 import AppTest

from app_pages.widgets import connection, shared_view
from app_pages.widgets.link_entry import LINK_KEY
from casefile import Actor, open_store, utcnow
from vocab import settings

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "team.py")
PASSWORD = "a long enough password"


@pytest.fixture
def team_case(tmp_path, monkeypatch):
    """A case with a team holding three sectors, two team-lead links for that team and a
    lead of another team: (store url, coordinator, sector ids, [link tokens], other token)."""
    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    monkeypatch.setattr(settings, "DATABASE_URL", url)
    store = open_store(url)
    user = store.create_user(Actor.system("test"), "coord.team", "Coordinator Team", PASSWORD)
    coord = Actor(user.id, user.display_name, "coordinator")
    case = store.create_case(coord, reference="TEAM-1", child_name="Robin", age=12,
                             risk="high", reported_missing_at=utcnow() - timedelta(hours=2),
                             ipp=(51.5137, -0.0990), description="d", notes="n")
    red = store.create_team(coord, case.id, name="Red", org_type="met_bcu")
    blue = store.create_team(coord, case.id, name="Blue", org_type="met_bcu")
    ids = []
    for i in range(4):
        s = store.create_sector(coord, case.id, name=f"Yard {i}", geometry=shapely.box(
            -0.0995 + i * 0.001, 51.5135, -0.0990 + i * 0.001, 51.5140))
        s = store.assign_sector(coord, s.id, (red if i < 3 else blue).id, version=s.version)
        ids.append(s.id)
    tokens = [store.issue_link(coord, case.id, role="team_lead", label=f"Red {n}",
                               team_id=red.id).token for n in range(2)]
    other = store.issue_link(coord, case.id, role="team_lead", label="Blue",
                             team_id=blue.id).token
    store.close()
    connection.store.clear()
    shared_view.clear()
    yield url, coord, ids, tokens, other
    connection.store.clear()
    shared_view.clear()


def _phone(url: str, token: str) -> AppTest:
    at = AppTest.from_file(PAGE, default_timeout=60)
    store = open_store(url)
    try:
        at.session_state[LINK_KEY] = store.open_link(token)
    finally:
        store.close()
    return at


def test_the_phones_of_one_team_share_one_read_per_change(team_case, monkeypatch):
    url, coord, ids, tokens, other = team_case
    reads: list[int] = []
    db = connection.store()  # the process's store, as the page opens it
    real = db.team_sectors

    def counted(actor, case_id):
        reads.append(case_id)
        return real(actor, case_id)

    monkeypatch.setattr(db, "team_sectors", counted)
    phones = [_phone(url, t) for t in tokens]
    for at in phones:
        at.run()
        assert not at.exception, at.exception
        assert at.title[0].value == "Red: my sectors"
    assert len(reads) == 1  # the second phone of the team got the first one's view

    # another team's phone reads its own (never the Red team's view)
    blue = _phone(url, other)
    blue.run()
    assert not blue.exception and blue.title[0].value == "Blue: my sectors"
    assert len(reads) == 2
    shown = json.dumps([m.value for m in [*blue.markdown, *blue.caption]])
    assert "Yard 3" in shown and "Yard 0" not in shown

    # a change: both Red phones run again and share one new read
    store = open_store(url)
    try:
        store.start_sector(coord, ids[1], version=store.get_sector(coord, ids[1]).version)
    finally:
        store.close()
    for at in phones:
        at.run()
        assert not at.exception
        assert any("in progress" in m.value.lower() for m in at.markdown)
    assert len(reads) == 3
