"""Family- or volunteer-reported searched ground ("we searched here") looks unlike team-searched
ground on the coordinator's map and the family's map, by more than colour, and says so."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

import folium
import shapely

from layers.escape import safe_text
from layers.family import FAMILY_STYLES, VOLUNTEER_DASH, family_layer, family_legend_html
from layers.sectors import SECTOR_STYLES, VOLUNTEER_STYLE, sector_legend_html, sectors_layer
from tests.layers.test_sectors_layer import data_of, popup_of, script_of


@dataclass(frozen=True)
class Sec:
    id: int
    code: str
    status: str = "searched"
    origin: str = "drawn"
    name: str = ""
    geometry: object = field(default_factory=lambda: shapely.box(-0.1, 51.5, -0.09, 51.51))
    team_id: int | None = None
    straddles_bcu: bool = False
    straddles_force: bool = False


@dataclass(frozen=True)
class Area:
    code: str
    group: str
    volunteer: bool
    geometry: object = field(default_factory=lambda: shapely.box(-0.1, 51.5, -0.09, 51.51))
    last_searched_at: datetime | None = datetime(2025, 1, 1, 12, tzinfo=UTC)

    @property
    def label(self) -> str:
        return {"searched_today": "Searched today"}.get(self.group, self.group)


def test_volunteer_style_differs_from_searched_by_more_than_colour():
    searched = SECTOR_STYLES["searched"]
    assert VOLUNTEER_STYLE.status not in SECTOR_STYLES
    assert VOLUNTEER_STYLE.dash and VOLUNTEER_STYLE.dash != searched.dash
    assert VOLUNTEER_STYLE.fill_opacity < searched.fill_opacity / 2
    assert all((VOLUNTEER_STYLE.dash, VOLUNTEER_STYLE.weight) != (s.dash, s.weight)
               for s in SECTOR_STYLES.values())
    assert "not checked" in VOLUNTEER_STYLE.label


def test_coordinator_map_draws_family_searches_distinctly_and_labels_them():
    team = Sec(1, "S1")
    family = Sec(2, "S2", origin="volunteer", name="Family search S2 (not checked)")
    dismissed = Sec(3, "S3", status="needs_re_search", origin="volunteer")
    data = data_of(script_of(sectors_layer([team, family, dismissed], {})))
    styles = [f["properties"]["style"] for f in data["features"]]
    assert styles == ["searched", "volunteer", "needs_re_search"]
    p = data["features"][1]["properties"]
    assert "family-reported, not checked" in p["label"]
    assert "family-reported, not checked" in popup_of(data["features"][1])
    script = script_of(sectors_layer([family], {}))
    assert '"wayhome-sector wayhome-sector-volunteer"' in script  # its own Leaflet style
    legend = sector_legend_html()
    assert safe_text(VOLUNTEER_STYLE.label) in legend
    assert f'stroke-dasharray="{VOLUNTEER_STYLE.dash}"' in legend


def test_family_map_draws_own_reports_distinctly_and_the_legend_says_so():
    own = Area("S2", "searched_today", True)
    team = Area("S1", "searched_today", False)
    html = folium.Map(tiles=None).add_child(
        family_layer([team, own], ["", ""])).get_root().render()
    assert "reported by a family or volunteer, not checked" in html
    # the team's area has the group's solid outline, the family's a dash-dot one
    assert FAMILY_STYLES["searched_today"][1] == ""
    assert f'"dashArray": "{VOLUNTEER_DASH}"' in html
    assert VOLUNTEER_DASH not in {dash for _, dash, _ in FAMILY_STYLES.values()}
    assert '"fillOpacity": 0.15' in html and '"fillOpacity": 0.45' in html  # lighter fill
    legend = family_legend_html()
    assert "not checked" in legend and "Searched today" in legend
