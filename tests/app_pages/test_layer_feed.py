"""Small map updates: what the Sectors map and the case map are sent when things change.

The browser side (``static/wayhome-live-layers.js``) is driven in
``tests/browser/test_case_live.py``; here, the messages the server builds.
"""

from __future__ import annotations

import dataclasses
import json

import pytest
import shapely

from app_pages.widgets.layer_feed import (
    MAX_CHANGED,
    live_layer_update,
    live_layers_update,
    live_sector_update,
)
from app_pages.widgets.live_map import feature_groups_script
from layers.case_features import case_features, field_marks, live_case_layer
from layers.sectors import (
    live_neighbours_layer,
    live_sectors_layer,
    neighbour_features,
    sector_changes,
    sector_features,
)
from layers.sightings import case_layers
from layers.tasks import tasks_layer
from tests.layers.conftest import HOSTILE
from tests.layers.test_sectors_layer import EXTRA_HOSTILE, Sec
from tests.layers.test_sightings import LK, NOW, C, S, at


def grid(n: int) -> list[Sec]:
    return [Sec(id=i + 1, code=f"S{i + 1}", status="draft",
                geometry=shapely.box(-0.1 + 0.001 * i, 51.5, -0.0995 + 0.001 * i, 51.5005))
            for i in range(n)]


def test_features_are_keyed_by_sector_and_unsearched_part():
    holed = Sec(id=7, code="S7", status="searched",
                not_searched=shapely.box(-0.099, 51.501, -0.098, 51.502))
    keys = [f["properties"]["k"] for f in sector_features([*grid(2), holed])]
    assert keys == ["s1", "s2", "s7", "n7"]


def test_changes_name_only_what_differs():
    before = {f["properties"]["k"]: f for f in sector_features(grid(5))}
    moved = grid(5)
    moved[2] = dataclasses.replace(moved[2], status="ready")
    after = {f["properties"]["k"]: f for f in sector_features(moved[:4])}
    upsert, removed = sector_changes(before, after)
    assert [f["properties"]["k"] for f in upsert] == ["s3"]
    assert upsert[0]["properties"]["style"] == "ready"
    assert removed == ["s5"]


def test_a_status_change_is_a_small_message_on_top_of_the_previous_one():
    sectors = grid(400)
    first = live_sector_update(None, sectors, {}, version=1, view="v")
    assert first.full and first.group is not None
    assert first.message == {"layer": "sectors", "base": first.base, "from": first.message["to"],
                             "to": f"{first.base}:1", "upsert": [], "remove": []}
    whole = len(feature_groups_script([first.group]))

    sectors[10] = dataclasses.replace(sectors[10], status="ready")
    second = live_sector_update(first, sectors, {}, version=2, view="v")
    assert not second.full and second.base == first.base and second.group is None
    assert second.message["from"] == first.message["to"] != second.message["to"]
    assert [f["properties"]["k"] for f in second.message["upsert"]] == ["s11"]
    size = len(json.dumps(second.message))
    assert size < 2_000 < whole / 50, (size, whole)

    # the next message holds only the next change, and goes on from the last one
    sectors[20] = dataclasses.replace(sectors[20], status="ready")
    third = live_sector_update(second, sectors[:-1], {}, version=3, view="v")
    assert not third.full and third.base == first.base
    assert third.message["from"] == second.message["to"]
    assert [f["properties"]["k"] for f in third.message["upsert"]] == ["s21"]
    assert third.message["remove"] == ["s400"]

    # a map that missed a message asks again: the layer is drawn in full, as it is now
    again = live_sector_update(third, sectors[:-1], {}, version=3, view="v", redraw=True)
    assert again.full and again.base != first.base
    assert again.message["from"] == again.message["to"] and again.message["upsert"] == []


def test_a_view_change_or_many_changes_draw_the_layer_again():
    sectors = grid(MAX_CHANGED + 5)
    first = live_sector_update(None, sectors, {}, version=1, view="v")
    toggled = live_sector_update(first, sectors, {}, version=1, view="other")
    assert toggled.full and toggled.base != first.base
    assert toggled.message["upsert"] == []
    many = [dataclasses.replace(s, status="ready") for s in sectors]
    again = live_sector_update(toggled, many, {}, version=2, view="other")
    assert again.full and again.base != toggled.base


def test_the_live_layer_script_keeps_hostile_text_inert():
    sectors = [Sec(id=i + 1, code=text, name=text) for i, text in enumerate(EXTRA_HOSTILE)]
    group = live_sectors_layer(sector_features(sectors), layer="sectors", base="b1",
                               version="b1:1")
    script = feature_groups_script([group])
    assert 'window.wayhomeLive.draw(feature_group_feature_group_0, "sectors",' in script
    assert "</script" not in script.lower() and "<img" not in script
    assert "${" not in script and "`" not in script.split("wayhomeLive.draw", 1)[1]


# ------------------------------------------------------------------ the case map's marks


@dataclasses.dataclass(frozen=True)
class Task:
    id: int
    number: int
    kind: str
    status: str
    title: str
    geometry: object
    team_name: str | None = None


def case_marks(n_sightings: int, n_tasks: int, payload: str = "") -> tuple[list[S], list[Task]]:
    sightings = [S(i + 1, 51.5 + 0.0005 * i, -0.1, at(i / 60), reported_by=payload,
                   description=payload, status="verified" if i % 3 == 0 else "unverified")
                 for i in range(n_sightings)]
    tasks = [Task(i + 1, i + 1, "cctv", "open", f"Camera {i} {payload}",
                  shapely.Point(-0.11, 51.5 + 0.0005 * i)) for i in range(n_tasks)]
    return sightings, tasks


def test_a_new_sighting_on_a_busy_case_map_is_a_small_message():
    sightings, tasks = case_marks(400, 200)
    lk = LK(sightings[0].lat, sightings[0].lon, sightings[0].seen_at, "sighting", 1)
    first = live_layer_update(None, case_features(C(), sightings, lk, tasks=tasks, now=NOW),
                              live_case_layer, version=1, view="v", layer="case")
    assert first.full and first.group is not None
    whole = len(feature_groups_script([first.group]))
    old = feature_groups_script([*case_layers(C(), sightings, lk, now=NOW), tasks_layer(tasks)])
    assert len(old) > whole / 3  # the folium layers were as large

    # one new unverified sighting: only it travels
    new = S(999, 51.49, -0.12, at(0.1), reported_by="Ann")
    second = live_layer_update(first, case_features(C(), [*sightings, new], lk, tasks=tasks,
                                                    now=NOW),
                               live_case_layer, version=2, view="v", layer="case")
    assert not second.full and second.group is None
    assert [f["properties"]["k"] for f in second.message["upsert"]] == ["s999"]
    assert second.message["remove"] == []
    assert len(json.dumps(second.message)) < 2_000 < whole / 50

    # a task done: only that task; a task gone: its key
    done = [dataclasses.replace(tasks[5], status="done"), *tasks[6:]]
    third = live_layer_update(second, case_features(C(), [*sightings, new], lk, tasks=done,
                                                    now=NOW),
                              live_case_layer, version=3, view="v", layer="case")
    assert [f["properties"]["k"] for f in third.message["upsert"]] == ["t6"]
    assert third.message["remove"] == [f"t{i}" for i in range(1, 6)]
    assert third.message["from"] == second.message["to"]

    # the dismissed toggle (the view) draws the layer again
    toggled = live_layer_update(third, case_features(C(), sightings, lk, show_dismissed=False,
                                                     now=NOW),
                                live_case_layer, version=3, view="w", layer="case")
    assert toggled.full and toggled.base != first.base


@pytest.mark.parametrize("payload", HOSTILE)
def test_case_marks_keep_hostile_text_inert(payload):
    sightings, tasks = case_marks(2, 2, payload)
    lk = LK(51.5, -0.1, at(1), "sighting", 1)
    features = case_features(C(reference=payload), sightings, lk, tasks=tasks, now=NOW)
    message = json.dumps({"upsert": list(features.values())})
    assert payload not in message
    group = live_case_layer(list(features.values()), layer="case", base="b", version="b:1")
    script = feature_groups_script([group])
    assert payload not in script and "</script" not in script.lower()
    # the classes the page and its tests know the marks by
    keys = set(features)
    assert {"ipp", "home", "lkl", "s1", "s2", "t1", "t2"} <= keys
    assert "wayhome-sighting-verified" in features["s1"]["properties"]["o"]["className"]


# ------------------------------------------------------------- the phones' maps (team, partner)


@dataclasses.dataclass(frozen=True)
class Near:
    code: str
    status: str
    geometry: object


def phone_layers(sectors: list[Sec], near: list[Near], sightings: list[S],
                 tasks: list[Task]) -> dict:
    """The team lead's keyed layers, as ``app_pages/team.py`` builds them."""
    return {
        "neighbours": ({f["properties"]["k"]: f for f in neighbour_features(near)},
                       live_neighbours_layer),
        "sectors": ({f["properties"]["k"]: f for f in sector_features(sectors, {})},
                    live_sectors_layer),
        "marks": (field_marks(sightings, None, tasks=tasks, now=NOW), live_case_layer),
    }


def test_a_status_change_on_a_team_phone_sends_only_that_sector():
    sectors = grid(500)
    near = [Near(f"N{i}", "ready", shapely.box(-0.2 + 0.001 * i, 51.5, -0.1995 + 0.001 * i,
                                              51.5005)) for i in range(100)]
    sightings, tasks = case_marks(20, 20)
    first = live_layers_update(None, phone_layers(sectors, near, sightings, tasks),
                               version=1, view="v")
    assert set(first) == {"neighbours", "sectors", "marks"}
    assert all(u.full and u.group is not None for u in first.values())
    whole = len(feature_groups_script([u.group for u in first.values()]))

    sectors[7] = dataclasses.replace(sectors[7], status="in_progress")
    second = live_layers_update(first, phone_layers(sectors, near, sightings, tasks),
                                version=2, view="v")
    assert not any(u.full for u in second.values())
    message = {"layers": [u.message for u in second.values()]}
    assert [f["properties"]["k"] for f in second["sectors"].message["upsert"]] == ["s8"]
    assert second["neighbours"].message["upsert"] == second["marks"].message["upsert"] == []
    assert all(second[k].message["from"] == first[k].message["to"] for k in second)
    assert len(json.dumps(message)) < 2_000 < whole / 100, (len(json.dumps(message)), whole)

    # a neighbour's new status and a new task: each in its own layer's message
    near[3] = dataclasses.replace(near[3], status="searched")
    tasks = [*tasks, Task(99, 99, "cctv", "open", "New camera", shapely.Point(-0.1, 51.49))]
    third = live_layers_update(second, phone_layers(sectors, near, sightings, tasks),
                               version=3, view="v")
    assert [f["properties"]["k"] for f in third["neighbours"].message["upsert"]] == ["xN3"]
    assert [f["properties"]["k"] for f in third["marks"].message["upsert"]] == ["t99"]
    assert third["sectors"].message["upsert"] == []

    # one layer with too many changes draws every layer again (one script holds them all)
    many = [dataclasses.replace(s, status="searched") for s in sectors]
    fourth = live_layers_update(third, phone_layers(many, near, sightings, tasks),
                                version=4, view="v")
    assert all(u.full and u.base != third[k].base for k, u in fourth.items())


def test_field_marks_leave_off_dismissed_sightings_and_titles_when_asked():
    sightings, tasks = case_marks(3, 2)
    sightings.append(S(50, 51.5, -0.1, at(1), status="dismissed"))
    lk = LK(51.5, -0.1, at(1), "sighting", 1)
    marks = field_marks(sightings, lk, tasks=tasks, now=NOW)
    assert {"s1", "s2", "s3", "t1", "t2", "lkl"} == set(marks)  # no s50, no rv, no ipp
    # times carry their day on a field map (read across midnight)
    assert "Tue 3 Mar" in marks["s1"]["properties"]["tt"][0]
    assert "Camera 0" in marks["t1"]["properties"]["tt"][0]
    # a focusable task marker has an accessible name from vocabulary words only
    assert marks["t1"]["properties"]["ti"].startswith("Task T1: ")
    partner = field_marks([], None, tasks=tasks, with_titles=False, now=NOW)
    assert set(partner) == {"t1", "t2"}
    assert "Camera" not in json.dumps(partner)


@pytest.mark.parametrize("payload", HOSTILE)
def test_live_neighbours_keep_hostile_text_inert(payload):
    near = [Near(payload, payload, shapely.box(-0.1, 51.5, -0.099, 51.501))]
    features = neighbour_features(near)
    group = live_neighbours_layer(features, layer="neighbours", base="b", version="b:1")
    script = feature_groups_script([group])
    assert payload not in script and "</script" not in script.lower()
    assert '"interactive": false' in script and '"label_rank": 2' in script
