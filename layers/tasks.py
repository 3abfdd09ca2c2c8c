"""Enquiry tasks on a map: a diamond at a premises, a line along a street or bus route.

Open tasks are blue, done and no-trace green, not possible vermilion (Okabe–Ito);
finished tasks are drawn hollow, so the state reads without colour too. Each
carries a tooltip with its ID, type, status and team — and, for the coordinator's
own map only (``with_titles``), its title. Every string goes through
:func:`layers.escape.safe_text`. Coordinates are lon/lat (EPSG:4326); the builders
take any objects with the attributes of ``casefile.Task``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import folium
from folium.features import DivIcon

from layers.escape import safe_text
from vocab import task_types as tt

OPEN_COLOUR = "#0072b2"
DONE_COLOUR = "#009e73"
NOT_POSSIBLE_COLOUR = "#d55e00"


def task_colour(status: str) -> str:
    """The colour of a task in ``status``."""
    if status == "not_possible":
        return NOT_POSSIBLE_COLOUR
    return DONE_COLOUR if status in tt.finished_statuses() else OPEN_COLOUR


def task_tooltip(task: Any, *, with_titles: bool) -> str:
    """One line: "T3 · CCTV collection · assigned · Team Red" (+ the title), escaped."""
    parts = [f"T{task.number}", tt.label(task.kind), tt.status_label(task.status)]
    team = getattr(task, "team_name", None)
    if team:
        parts.append(str(team))
    title = str(getattr(task, "title", "") or "")
    if with_titles and title:
        parts.append(title)
    return safe_text(" · ".join(parts))


def tasks_layer(tasks: Iterable[Any], *, with_titles: bool = True) -> folium.FeatureGroup:
    """Every task with a place as one group (tasks whose place was purged are left out)."""
    group = folium.FeatureGroup(name="Enquiry tasks", control=False)
    for task in tasks:
        geom = getattr(task, "geometry", None)
        if geom is None:
            continue
        colour = task_colour(task.status)
        finished = task.status in tt.finished_statuses()
        tip = folium.Tooltip(task_tooltip(task, with_titles=with_titles), sticky=True)
        if geom.geom_type == "LineString":
            folium.PolyLine(
                [(y, x) for x, y in geom.coords], color=colour, weight=6,
                dash_array="2 8" if finished else None, opacity=0.9,
                class_name="wayhome-task wayhome-task-line", tooltip=tip,
            ).add_to(group)
            continue
        fill = "transparent" if finished else colour
        html = (f'<div class="wayhome-task" style="width:14px;height:14px;'
                f"transform:rotate(45deg);border:3px solid {colour};background:{fill};"
                'box-sizing:border-box" aria-hidden="true"></div>')
        # the marker is a keyboard-focusable button: its accessible name (Leaflet sets it
        # as the icon's title, as text) is built from vocabulary words only
        name = (f"Task T{int(task.number)}: {tt.label(task.kind)}, "
                f"{tt.status_label(task.status)}")
        marker = folium.Marker(location=(geom.y, geom.x), title=name, alt=name,
                               icon=DivIcon(html=html, icon_size=(14, 14), icon_anchor=(7, 7)))
        tip.add_to(marker)
        marker.add_to(group)
    return group


def task_legend_rows() -> list[tuple[str, str]]:
    """(colour, words) for a legend."""
    return [(OPEN_COLOUR, "Task to do (filled diamond, solid line)"),
            (DONE_COLOUR, "Task done or no trace (hollow, dotted)"),
            (NOT_POSSIBLE_COLOUR, "Task not possible")]
