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

#: group -> (fill colour, outline dash pattern, fill opacity)
FAMILY_STYLES: dict[str, tuple[str, str, float]] = {
    "searched_today": ("#009E73", "", 0.45),  # bluish green, solid
    "searched_earlier": ("#56B4E9", "", 0.30),  # sky blue, solid
    "in_progress": ("#E69F00", "8 4", 0.40),  # orange, dashed
    "planned": ("#999999", "2 6", 0.15),  # grey, dotted, faint
}
HAZARD_WORDS: dict[str, str] = {
    "unsafe": "Unsafe — please keep away",
    "do_not_search": "Please do not search here",
    "preserve_scene": "Police area — please keep away",
}


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
    words = {
        "searched_today": "Searched today",
        "searched_earlier": "Searched before today",
        "in_progress": "Being searched now (dashes)",
        "planned": "Planned (faint dots)",
    }
    rows = [
        f"<li>{_swatch(c, d, max(o, 0.15))}<span>{safe_text(words[g])}</span></li>"
        for g, (c, d, o) in FAMILY_STYLES.items()
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
    for area, text in zip(areas, when, strict=True):
        colour, dash, opacity = FAMILY_STYLES.get(area.group, ("#999999", "2 6", 0.15))
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
