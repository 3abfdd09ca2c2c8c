"""Small map updates: what the Sectors map is sent when sectors change.

The browser side (``static/wayhome-live-layers.js``) is driven in
``tests/browser/test_case_live.py``; here, the messages the server builds.
"""

from __future__ import annotations

import dataclasses
import json

import shapely

from app_pages.widgets.layer_feed import MAX_CHANGED, live_sector_update
from app_pages.widgets.live_map import feature_groups_script
from layers.sectors import live_sectors_layer, sector_changes, sector_features
from tests.layers.test_sectors_layer import EXTRA_HOSTILE, Sec


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
