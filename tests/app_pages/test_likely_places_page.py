"""The Likely places page: a coordinator sees the ranked places; nobody else does."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from app_pages.widgets import connection
from app_pages.widgets.session import ACTOR_KEY, CASE_KEY
from casefile import Actor, open_store
from vocab import settings
from wayhome.demo import demo_data, load_demo

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "likely_places.py")


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    """The demo case in a SQLite store, loaded once for the module: (coordinator, case id)."""
    url = f"sqlite:///{tmp_path_factory.mktemp('likely') / 'w.sqlite3'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(settings, "DATABASE_URL", url)
        store = open_store(url)
        load_demo(store, password="demo password for tests")
        coord = store.authenticate("demo.coordinator", "demo password for tests")
        case_id = store.case_id_for(coord, demo_data()["case"]["reference"])
        store.close()
        connection.store.clear()  # the page opens this module's store, not an earlier one
        yield coord, case_id
        connection.store.clear()


def _tasks(coord, case_id):
    store = open_store(settings.DATABASE_URL)
    try:
        return store.tasks(coord, case_id)
    finally:
        store.close()


def test_a_coordinator_sees_the_ranked_places_and_their_assumptions(demo):
    coord, case_id = demo
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state[ACTOR_KEY] = coord
    at.session_state[CASE_KEY] = case_id
    at.run()
    assert not at.exception
    table = at.dataframe[0].value
    assert 0 < len(table) <= 25 and table["#"].tolist() == list(range(1, len(table) + 1))
    assert {"Type", "Name", "Distance (m)", "Why", "Postcode"} <= set(table.columns)
    captions = " ".join(c.value for c in at.caption).replace("\\", "")
    assert "Decision support" in captions and "Grampian 12-14" in captions
    assert "OpenStreetMap" in captions or "OGL" in captions or "GiGL" in captions
    # parks only, a child of 5: the list follows, and says the weights are assumed
    at.multiselect(key="likely_places_kinds").set_value(["park"])
    at.number_input(key="likely_places_age").set_value(5).run()
    assert not at.exception
    table = at.dataframe[0].value
    assert set(table["Type"]) == {"Park or open space"}
    assert "planning assumption" in " ".join(c.value for c in at.caption).replace("\\", "")


def test_a_place_becomes_a_task_with_one_click_and_never_twice(demo):
    coord, case_id = demo
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state[ACTOR_KEY] = coord
    at.session_state[CASE_KEY] = case_id
    at.run()
    first = at.dataframe[0].value.iloc[0]
    before = _tasks(coord, case_id)
    button = next(b for b in at.button if b.key and b.key.startswith("likely_task_"))
    assert button.label.startswith("1 · ")
    button.click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    after = _tasks(coord, case_id)
    assert len(after) == len(before) + 1
    made = next(t for t in after if t.id not in {b.id for b in before})
    assert made.title == f"Check {first['Name']}" and made.status == "planned"
    assert made.kind == ("station_check" if first["Type"].startswith("Station")
                         else "place_check")
    assert any("saved" in s.value for s in at.success)
    # the same place again: the case already has that task, so nothing is saved
    next(b for b in at.button if b.key == button.key).click().run()
    assert not at.exception
    assert len(_tasks(coord, case_id)) == len(after)
    assert any(made.code in w.value and "nothing saved" in w.value for w in at.warning)


@pytest.mark.parametrize("role", ["team_lead", "family", "partner"])
def test_anyone_else_is_turned_away(demo, role):
    coord, case_id = demo
    at = AppTest.from_file(PAGE, default_timeout=60)
    at.session_state[ACTOR_KEY] = Actor(user_id=coord.user_id, display_name="Not a coordinator",
                                        role=role)
    at.session_state[CASE_KEY] = case_id
    at.run()
    assert not at.exception and not at.dataframe
    assert "coordinators" in at.info[0].value
