"""Sector layers: a non-colour cue per status, labels and popups escaped, straddles, hazards."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

import folium
import pytest
import shapely
from streamlit_folium import _get_feature_group_string

from layers.escape import safe_text
from layers.locate import UNAVAILABLE_TEXT, LocateControl
from layers.sectors import (
    CANVAS_FROM,
    HAZARD_STYLE,
    NOT_SEARCHED_STYLE,
    SECTOR_STYLES,
    UNKNOWN_STYLE,
    candidate_layer,
    details_html,
    hazards_layer,
    neighbours_layer,
    sector_legend_html,
    sectors_layer,
)
from tests.layers.conftest import HOSTILE

OKABE_ITO = {"#000000", "#e69f00", "#56b4e9", "#009e73", "#f0e442", "#0072b2", "#d55e00",
             "#cc79a7"}
STATUSES = ("draft", "ready", "assigned", "in_progress", "searched", "suspended",
            "needs_re_search")
EXTRA_HOSTILE = [*HOSTILE, "`backtick`", "${alert(1)}", "it's \"quoted\"", "<b>bold</b>"]


@dataclass(frozen=True)
class Sec:
    id: int
    code: str
    name: str = ""
    status: str = "ready"
    geometry: object = field(default_factory=lambda: shapely.box(-0.1, 51.5, -0.09, 51.51))
    team_id: int | None = None
    straddles_bcu: bool = False
    straddles_force: bool = False
    area_m2: float = 12_345.0
    searched_at: datetime | None = None
    search_type: str | None = None
    jurisdiction: dict = field(default_factory=dict)
    not_searched: object = None
    not_searched_reason: str = ""


@dataclass(frozen=True)
class Haz:
    id: int
    kind: str
    note: str
    geometry: object = field(default_factory=lambda: shapely.box(-0.12, 51.5, -0.11, 51.51))


def script_of(group: folium.FeatureGroup) -> str:
    return _get_feature_group_string(group, map=folium.Map(tiles=None))


def popup_of(feature: dict) -> str:
    """The popup the browser builds from a feature's escaped title and rows."""
    p = feature["properties"]
    return details_html(p["t"], p["d"]) if p.get("t") else ""


def data_of(script: str) -> dict:
    m = re.search(r"var data = (\{.*?\});\n", script)
    assert m, "the layer should carry its GeoJSON"
    return json.loads(m.group(1))


def test_palette_is_colour_blind_safe_and_never_colour_alone():
    assert set(SECTOR_STYLES) == set(STATUSES)
    cues = set()
    for style in SECTOR_STYLES.values():
        assert style.colour.lower() in OKABE_ITO | {"#7a7a7a"}
        # the pattern of the outline, its width and the fill tell statuses apart
        # even in greyscale
        cues.add((style.dash, style.weight, style.fill_opacity))
        assert style.pattern and style.label
    assert len(cues) == len(SECTOR_STYLES)
    assert len({s.dash for s in SECTOR_STYLES.values()}) >= 5
    assert len({s.label for s in SECTOR_STYLES.values()}) == len(SECTOR_STYLES)
    assert HAZARD_STYLE["color"] == "#d55e00"
    assert all(s.colour != HAZARD_STYLE["color"] for s in SECTOR_STYLES.values())


def test_styles_refuse_markup_in_colour_or_dash():
    from layers.sectors import SectorStyle

    with pytest.raises(ValueError):
        SectorStyle("x", "x", "red;<script>", "", 1, 0.1, "p")
    with pytest.raises(ValueError):
        SectorStyle("x", "x", "#000000", '1" onload="x', 1, 0.1, "p")


def test_legend_has_a_row_per_status_with_its_pattern():
    html = sector_legend_html()
    for style in SECTOR_STYLES.values():
        assert safe_text(style.label) in html
        if style.dash:
            assert f'stroke-dasharray="{style.dash}"' in html
    assert "Hazard" in html and "Straddles" in html


def test_every_sector_is_drawn_with_its_id_status_label_and_details():
    sectors = [Sec(i + 1, f"S{i + 1}", f"Sector {i}", status) for i, status in enumerate(STATUSES)]
    script = script_of(sectors_layer(sectors, {}))
    data = data_of(script)
    assert [f["properties"]["sid"] for f in data["features"]] == list(range(1, 8))
    for f, s in zip(data["features"], sectors, strict=True):
        p = f["properties"]
        assert p["style"] == s.status
        assert p["label"].startswith(f"{s.code} · {SECTOR_STYLES[s.status].label}")
        assert f"<b>{s.code} — {s.name}</b>" in popup_of(f)
        assert p["lp"] is not None  # label anchor inside the sector
        lat, lon = p["lp"]
        assert shapely.contains_xy(s.geometry, lon, lat)
    assert "L.svg()" in script and "L.canvas" not in script.split("var data")[1].split(";")[0]


def test_unknown_status_gets_the_neutral_style_not_user_text():
    script = script_of(sectors_layer([Sec(1, "S1", status="<b>odd</b>")], {}))
    p = data_of(script)["features"][0]["properties"]
    assert p["style"] == UNKNOWN_STYLE.status
    assert "<b>odd</b>" not in script


@pytest.mark.parametrize("payload", EXTRA_HOSTILE)
def test_hostile_names_teams_and_notes_are_escaped_everywhere(payload):
    sectors = [
        Sec(1, payload, payload, "assigned", team_id=7, search_type=payload,
            jurisdiction={"bcu": [{"code": "X", "name": payload, "share": 1.0}]}),
    ]
    hazards = [Haz(1, payload, payload)]
    scripts = [
        script_of(sectors_layer(sectors, {7: payload})),
        script_of(hazards_layer(hazards)),
        script_of(candidate_layer(sectors[0].geometry, sectors, label=payload)),
    ]
    for script in scripts:
        # nothing can end the script, open a template literal or a substitution
        assert "</script" not in script.lower()
        assert "`" not in script and "${" not in script
        for feature in data_of(script)["features"]:
            texts = {k: feature["properties"].get(k) or "" for k in ("label", "code", "t")}
            texts["popup"] = popup_of(feature)
            for text in texts.values():
                assert payload not in text or payload == safe_text(payload)
                assert "`" not in text and "$" not in text
                # the only tags are Wayhome's own
                for tag in re.findall(r"<\s*([a-zA-Z]+)", text):
                    assert tag in {"div", "b", "table", "tr", "th", "td", "br", "span"}, text
    popup = popup_of(data_of(scripts[0])["features"][0])
    assert popup.count(safe_text(payload)) >= 3  # name, code, team, search type, BCU


def test_straddling_sectors_have_a_halo_and_say_so():
    sectors = [Sec(1, "S1", straddles_bcu=True), Sec(2, "S2"), Sec(3, "S3", straddles_force=True)]
    script = script_of(sectors_layer(sectors, {}))
    feats = data_of(script)["features"]
    assert [f["properties"]["under"] for f in feats] == [True, False, True]
    assert "straddles BCU boundary" in feats[0]["properties"]["label"]
    assert "Straddles force boundary" in popup_of(feats[2])
    assert "wayhome-straddles" in script


def test_many_sectors_go_on_a_canvas_with_rounded_coordinates():
    boxes = [shapely.box(-0.1 + i * 1e-3, 51.5, -0.1 + i * 1e-3 + 9.123456789e-4, 51.501)
             for i in range(CANVAS_FROM)]
    sectors = [Sec(i, f"S{i}", geometry=g) for i, g in enumerate(boxes)]
    script = script_of(sectors_layer(sectors, {}))
    assert "L.canvas(" in script
    coords = data_of(script)["features"][5]["geometry"]["coordinates"][0]
    for x, y in coords:
        assert round(x, 6) == x and round(y, 6) == y
    assert not any(len(str(x).split(".")[-1]) > 6 for x, _ in coords)


def test_hazards_are_hatched_and_labelled():
    script = script_of(hazards_layer([Haz(3, "unsafe", "Railway cutting")]))
    p = data_of(script)["features"][0]["properties"]
    assert p["hid"] == 3 and p["style"] == "hazard"
    assert "HAZARD" in p["label"] and "Unsafe" in p["label"]
    assert "Railway cutting" in popup_of(data_of(script)["features"][0])
    assert "wayhome-hatch" in script and "wayhome-hazard" in script


def test_candidate_rings_the_sectors_it_overlaps():
    a = Sec(4, "S4", status="searched", searched_at=datetime(2026, 3, 3, 12, tzinfo=UTC))
    script = script_of(candidate_layer(shapely.box(-0.095, 51.5, -0.085, 51.51), [a]))
    feats = data_of(script)["features"]
    assert [f["properties"]["style"] for f in feats] == ["overlap", "candidate"]
    assert feats[0]["properties"]["sid"] == 4
    assert "overlaps S4 · searched" in feats[0]["properties"]["label"]
    empty = data_of(script_of(candidate_layer(None)))
    assert empty["features"] == []


@pytest.mark.parametrize("reason", EXTRA_HOSTILE[:4])
def test_ground_not_searched_is_drawn_over_its_sector_and_labelled(reason):
    hole = shapely.box(-0.1, 51.5, -0.095, 51.505)
    done = Sec(3, "S3", status="searched", not_searched=hole, not_searched_reason=reason)
    plain = Sec(4, "S4", status="searched")
    script = script_of(sectors_layer([done, plain]))
    feats = data_of(script)["features"]
    holes = [f for f in feats if f["properties"]["style"] == "not_searched"]
    assert len(holes) == 1  # only the sector with a recorded remainder
    (h,) = holes
    assert h["properties"]["sid"] == 3
    assert h["properties"]["label"] == "S3 · not searched"
    assert shapely.geometry.shape(h["geometry"]).equals_exact(hole, 1e-6)
    # drawn after (on top of) its sector, white and dashed, not by colour alone
    assert feats.index(h) > [f["properties"].get("sid") for f in feats].index(3)
    assert NOT_SEARCHED_STYLE.dash and NOT_SEARCHED_STYLE.status in script
    popup = popup_of(h)
    assert safe_text(reason) in popup
    assert "<script>" not in popup and "<img" not in popup
    assert "not searched" in sector_legend_html()


@pytest.mark.parametrize("payload", EXTRA_HOSTILE)
def test_neighbours_are_faint_with_their_id_and_status_only(payload):
    near = [Sec(1, payload, "Secret Road", "searched"), Sec(2, "S2", "Park", "<b>odd</b>")]
    script = script_of(neighbours_layer(near))
    labels = [f["properties"] for f in data_of(script)["features"]]
    assert [p["lc"] for p in labels] == ["wayhome-neighbour-label"] * 2
    assert '"className": "wayhome-neighbour"' in script
    assert labels[1]["label"] == f"S2 · {UNKNOWN_STYLE.label}"
    # faint outlines only: not clickable, no popup (no other team's name or notes)
    assert "interactive: false" in script and not any("t" in p for p in labels)
    assert "Secret Road" not in script and "Park" not in script and "<b>odd</b>" not in script
    assert "</script" not in script.lower() and "${" not in script
    if payload != safe_text(payload):
        assert payload not in script


def test_the_locate_control_keeps_the_position_in_the_map_frame():
    m = folium.Map(tiles=None)
    LocateControl().add_to(m)
    html = m.get_root().render()
    assert "map.locate(" in html and "isSecureContext" in html
    assert "Show where I am" in html and "secure (https) address" in UNAVAILABLE_TEXT
    assert "secure (https) address, and this page is not one." in html
    # nothing leaves the frame: no posting, fetching, storing or moving the view
    for leak in ("postMessage", "fetch(", "XMLHttpRequest", "sendBeacon", "localStorage",
                 "setView: true", "Streamlit"):
        assert leak not in html.split("wayhome-locate")[1], leak


def test_labels_are_thinned_across_layers_hazards_then_own_sectors_then_neighbours():
    """One map, one set of label boxes: tiny sectors (about 50 m) and their neighbours
    must not print their names over each other on a team lead's phone."""
    from layers.sectors import RANK_HAZARD, RANK_NEIGHBOUR, RANK_SECTOR, RANK_WARNING

    assert RANK_WARNING < RANK_HAZARD < RANK_SECTOR < RANK_NEIGHBOUR
    tiny = shapely.box(-0.1, 51.5, -0.0993, 51.50045)  # about 50 m a side
    ranks = {}
    for kind, group in (("hazard", hazards_layer([Haz(1, "unsafe", "", tiny)])),
                        ("sector", sectors_layer([Sec(1, "S1", geometry=tiny)])),
                        ("neighbour", neighbours_layer([Sec(2, "S2", geometry=tiny)])),
                        ("candidate", candidate_layer(tiny))):
        script = script_of(group)
        # the shared registry on the map, and this layer's place in it
        assert "map._wayhomeLabels" in script and "all.layers.push(me)" in script
        ranks[kind] = int(re.search(r"var me = \{rank: (-?\d+)", script).group(1))
    assert ranks == {"hazard": RANK_HAZARD, "sector": RANK_SECTOR,
                     "neighbour": RANK_NEIGHBOUR, "candidate": RANK_WARNING}
