"""The family's map: searched, being searched and planned ground in plain colours and words.

Colour is never the only cue: each group has its own outline pattern and every
area a tooltip in words ("Searched today, 14:05"). Colours are from the
Okabe-Ito colour-blind-safe palette. Family-reported ground is drawn with a
dotted outline and says so. All text is escaped (:func:`layers.escape.safe_text`).
No database, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import folium
import shapely

from layers.escape import safe_text
from vocab import sector_statuses
from vocab.search import HAZARD_REGISTRY

#: the family map's groups in the key's order
_KEY_ORDER: tuple[str, ...] = ("searched_today", "searched_earlier", "in_progress", "planned")


def family_styles() -> dict[str, tuple[str, str, float]]:
    """Group -> (fill colour, outline dash pattern, fill opacity), from the registry now.

    The groups and their look live in :data:`vocab.sector_statuses.FAMILY_GROUPS`
    (Okabe-Ito colours: searched today bluish green, before today sky blue, being
    searched orange and dashed, planned grey, dotted and faint).
    """
    groups = sector_statuses.FAMILY_GROUPS
    order = [g for g in _KEY_ORDER if g in groups] + [g for g in groups if g not in _KEY_ORDER]
    return {g: (groups[g].colour, groups[g].dash, groups[g].fill_opacity) for g in order}


#: group -> (fill colour, outline dash pattern, fill opacity), as registered at import
FAMILY_STYLES: dict[str, tuple[str, str, float]] = family_styles()
HAZARD_WORDS: dict[str, str] = {h.name: h.family_words for h in HAZARD_REGISTRY.values()}


#: dash pattern of family- or volunteer-reported ground (not checked by a coordinator)
VOLUNTEER_DASH = "6 3 1 3"
HAZARD_COLOUR = "#D55E00"


def _swatch(colour: str, dash: str, fill_opacity: float) -> str:
    # every value is one of the constants above (colours, dashes, numbers)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    return ('<svg width="30" height="14" aria-hidden="true"><rect x="2" y="2" width="26" '
            f'height="10" fill="{colour}" fill-opacity="{fill_opacity:g}" stroke="{colour}" '
            f'stroke-width="2.5"{dash_attr}/></svg>')


def family_legend_html(*, open_: bool = False) -> str:
    """The family map's legend in plain words, folded by default (a tap opens it)."""
    groups = sector_statuses.FAMILY_GROUPS
    rows = [
        f"<li>{_swatch(c, d, max(o, 0.15))}<span>{safe_text(groups[g].legend)}</span></li>"
        for g, (c, d, o) in family_styles().items()
    ]
    rows.append(f"<li>{_swatch('#009E73', VOLUNTEER_DASH, 0.15)}<span>"
                f"{safe_text('Searched by family or volunteers (dash-dot) — not checked')}"
                "</span></li>")
    rows.append(f"<li>{_swatch(HAZARD_COLOUR, '1 4', 0.25)}<span>"
                f"{safe_text('Please keep away')}</span></li>")
    rows.append('<li><svg width="30" height="14" aria-hidden="true"><circle cx="15" cy="7" '
                'r="5" fill="#F0E442" stroke="#000000" stroke-width="2"/></svg><span>'
                f"{safe_text('Last known location (if shared)')}</span></li>")
    return (f'<details{" open" if open_ else ""}><summary>Key</summary>'
            f'<ul>{"".join(rows)}</ul></details>')


def area_words(area: Any, when: str) -> str:
    """The plain-language line for an area ("Searched today at 14:05 (reported by family)")."""
    text = f"{area.label} · area {area.code}"
    if when:
        text += f" · {when}"
    if area.volunteer:
        text += " · reported by a family or volunteer, not checked"
    return text


def family_layer(areas: Sequence[Any], when: Sequence[str],
                 hazards: Sequence[Any] = (), lkl: tuple[float, float] | None = None,
                 *, name: str = "Search progress") -> folium.FeatureGroup:
    """Areas (``casefile.FamilyArea``) with their time text, hazard areas and the shared LKL."""
    group = folium.FeatureGroup(name=safe_text(name), control=False)
    styles = family_styles()
    for area, text in zip(areas, when, strict=True):
        colour, dash, opacity = styles.get(area.group, ("#999999", "2 6", 0.15))
        style = {"color": colour, "weight": 3, "fillColor": colour,
                 "fillOpacity": min(opacity, 0.15) if area.volunteer else opacity,
                 "dashArray": VOLUNTEER_DASH if area.volunteer else dash}
        folium.GeoJson(
            shapely.geometry.mapping(area.geometry),
            style_function=lambda _f, s=style: s,
            tooltip=folium.Tooltip(safe_text(area_words(area, text))),
        ).add_to(group)
    for hz in hazards:
        words = HAZARD_WORDS.get(str(hz.kind), "Please keep away")
        style = {"color": HAZARD_COLOUR, "weight": 3, "fillColor": HAZARD_COLOUR,
                 "fillOpacity": 0.25,
                 "dashArray": "1 4"}
        folium.GeoJson(
            shapely.geometry.mapping(hz.geometry),
            style_function=lambda _f, s=style: s,
            tooltip=folium.Tooltip(safe_text(words)),
        ).add_to(group)
    if lkl is not None:
        folium.CircleMarker(
            location=[float(lkl[0]), float(lkl[1])], radius=9, color="#000000", weight=3,
            fill=True, fill_color="#F0E442", fill_opacity=1.0,
            tooltip=folium.Tooltip("Last known location"),
        ).add_to(group)
    return group


#: how the plain map (no tiles) draws each kind of loaded line: (colour, weight, dash)
STREET_STYLES: dict[str, tuple[str, float, str]] = {
    "road": ("#6b6b6b", 2.0, ""),
    "path": ("#8a8a8a", 1.2, "3 3"),
    "rail": ("#3d3d3d", 1.5, "8 3"),
    "water": ("#56B4E9", 2.0, ""),
}


def street_layer(lines: Any, *, name: str = "Streets") -> folium.FeatureGroup:
    """Streets, paths, railways and water (lon/lat lines with ``name`` and ``kind``) as
    thin grey lines under the search areas, each named in a tooltip: a plain map that
    still reads where no tiles can be fetched. Names are escaped here."""
    group = folium.FeatureGroup(name=safe_text(name), control=False)
    features = [
        {"type": "Feature", "geometry": shapely.geometry.mapping(geom),
         "properties": {"name": safe_text(str(n or "")) or safe_text(str(k)),
                        "kind": str(k)}}
        for n, k, geom in zip(lines["name"], lines["kind"], lines.geometry, strict=True)
    ] if len(lines) else []
    if not features:
        return group

    def style(feature: dict[str, Any]) -> dict[str, Any]:
        colour, weight, dash = STREET_STYLES.get(feature["properties"]["kind"],
                                                 ("#8a8a8a", 1.0, ""))
        return {"color": colour, "weight": weight, "dashArray": dash, "opacity": 0.9}

    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        style_function=style,
        tooltip=folium.GeoJsonTooltip(fields=["name"], labels=False),
        interactive=True,
    ).add_to(group)
    return group
