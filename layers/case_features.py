"""The case map's marks as keyed features, so a change can be sent as the marks it touches.

Why: the case map's sightings, path, last-known location, planning point, home,
rendezvous point and enquiry tasks were one block of folium JavaScript, sent again
in full on every change. Here each mark is a GeoJSON feature with a stable key
(``properties.k``: ``s<id>`` a sighting, ``t<id>`` a task, ``path``, ``lkl``,
``ipp``, ``home``, ``rv``) and everything the map frame needs to draw it: the
Leaflet options (chosen here, never from user text), a tooltip and a popup as
escaped HTML. ``static/wayhome-live-layers.js`` draws them and later applies the
added, changed and removed ones in place. Coordinates are lon/lat (EPSG:4326).
The drawing matches :mod:`layers.sightings` and :mod:`layers.tasks` (same classes,
colours and words).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import folium
from branca.element import MacroElement
from folium.template import Template
from folium.vector_layers import path_options

from geo.coordinates import grid_reference
from layers.escape import safe_text
from layers.sightings import (
    _LABEL_STYLE,
    HOME_COLOUR,
    IPP_COLOUR,
    LKL_COLOUR,
    PATH_STYLE,
    RV_COLOUR,
    SIGHTING_STYLES,
    CaseLike,
    LastKnownLike,
    SightingLike,
    _popup_html,
    time_label,
    verified_path,
)
from layers.tasks import task_colour, task_tooltip
from vocab import task_types as tt

__all__ = ["case_features", "field_marks", "live_case_layer"]


def _point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [round(float(lon), 6), round(float(lat), 6)]}


def _feature(key: str, geometry: dict[str, Any], **props: Any) -> dict[str, Any]:
    return {"type": "Feature", "geometry": geometry, "properties": {"k": key, **props}}


def _label(text: str, class_name: str, *, direction: str = "right") -> list[Any]:
    """A permanent label: [escaped HTML, Leaflet tooltip options]."""
    return [f'<div style="{_LABEL_STYLE}">{safe_text(text)}</div>',
            {"permanent": True, "direction": direction, "className": class_name,
             "offset": [8, 0] if direction == "right" else [0, -14]}]


def _hover(text: str) -> list[Any]:
    return [safe_text(text), {"sticky": True}]


def _pin_icon(text: str, colour: str, class_name: str) -> dict[str, Any]:
    html = (
        f'<div style="background:{colour};color:#fff;font:700 11px/16px system-ui,sans-serif;'
        "text-align:center;border:2px solid #fff;border-radius:3px;"
        f'box-shadow:0 1px 3px rgba(0,0,0,.5);">{safe_text(text)}</div>'
    )
    return {"html": html, "iconSize": [40, 20], "iconAnchor": [20, 10], "className": class_name}


def _sighting(s: SightingLike, now: datetime | None, *,
              always_day: bool = False) -> dict[str, Any] | None:
    style = SIGHTING_STYLES.get(s.status, SIGHTING_STYLES["unverified"])
    o = style.options()
    options = path_options(line=False, radius=o.pop("radius"), **o)
    label = None
    if style.status != "dismissed":
        label = _label(time_label(s.seen_at, now, always_day=always_day),
                       f"wayhome-time wayhome-time-{style.status}")
    return _feature(f"s{int(s.id)}", _point(s.lon, s.lat), m="circle", o=options,
                    tt=label, pp=_popup_html(s))


def _task(task: Any, with_titles: bool, *, by_number: bool = False) -> dict[str, Any] | None:
    """A task's mark, keyed ``t<id>`` (``t<number>`` with ``by_number``: a partner's
    pared-down tasks carry no id; numbers are unique in a case)."""
    geom = getattr(task, "geometry", None)
    if geom is None:
        return None
    colour = task_colour(task.status)
    finished = task.status in tt.finished_statuses()
    tip = [task_tooltip(task, with_titles=with_titles), {"sticky": True}]  # escaped there
    key = f"t{int(task.number if by_number else task.id)}"
    if geom.geom_type == "LineString":
        options = path_options(line=True, color=colour, weight=6, opacity=0.9,
                               dash_array="2 8" if finished else None,
                               class_name="wayhome-task wayhome-task-line")
        coords = [[round(x, 6), round(y, 6)] for x, y in geom.coords]
        return _feature(key, {"type": "LineString", "coordinates": coords}, m="line", o=options,
                        tt=tip)
    fill = "transparent" if finished else colour
    html = (f'<div class="wayhome-task" style="width:14px;height:14px;'
            f"transform:rotate(45deg);border:3px solid {colour};background:{fill};"
            'box-sizing:border-box" aria-hidden="true"></div>')
    icon = {"html": html, "iconSize": [14, 14], "iconAnchor": [7, 7], "className": ""}
    # the marker is a keyboard-focusable button: its accessible name, from vocabulary
    # words only (set as text in the map frame), as in layers.tasks
    name = f"Task T{int(task.number)}: {tt.label(task.kind)}, {tt.status_label(task.status)}"
    return _feature(key, _point(geom.x, geom.y), m="icon", i=icon, tt=tip, ti=name)


def case_features(
    case: CaseLike,
    sightings: Sequence[SightingLike],
    last_known: LastKnownLike,
    *,
    rendezvous: Any = None,
    tasks: Sequence[Any] = (),
    show_dismissed: bool = True,
    with_titles: bool = True,
    now: datetime | None = None,
) -> dict[str, dict[str, Any]]:
    """Every mark of the case map keyed by ``properties.k``, bottom to top."""
    out: list[dict[str, Any] | None] = []
    ipp = _feature("ipp", _point(case.ipp_lon, case.ipp_lat), m="icon",
                   i=_pin_icon("IPP", IPP_COLOUR, "wayhome-pin wayhome-ipp"),
                   tt=_hover(f"Initial planning point · case {case.reference}"))
    out.append(ipp)
    if case.home_lat is not None and case.home_lon is not None:
        out.append(_feature("home", _point(case.home_lon, case.home_lat), m="icon",
                            i=_pin_icon("Home", HOME_COLOUR, "wayhome-pin wayhome-home"),
                            tt=_hover("Home")))
    route = verified_path(sightings)
    if len(route) >= 2:
        out.append(_feature(
            "path", {"type": "LineString",
                     "coordinates": [[round(s.lon, 6), round(s.lat, 6)] for s in route]},
            m="line", o=path_options(line=True, **PATH_STYLE)))
    for s in sorted(sightings, key=lambda s: (s.seen_at, s.id)):
        if s.status == "dismissed" and not show_dismissed:
            continue
        out.append(_sighting(s, now))
    out.append(_last_known(last_known, now))
    out.append(_rendezvous(rendezvous))
    out += [_task(t, with_titles) for t in tasks]
    return {f["properties"]["k"]: f for f in out if f is not None}


def _last_known(last_known: LastKnownLike, now: datetime | None, *,
                always_day: bool = False) -> dict[str, Any]:
    if last_known.kind == "sighting" and last_known.at is not None:
        text = f"Last known · {time_label(last_known.at, now, always_day=always_day)}"
    else:
        text = "Last known · IPP (no verified sighting yet)"
    lkl = path_options(line=False, radius=18, color=LKL_COLOUR, weight=4, fill=True,
                       fill_color=LKL_COLOUR, fill_opacity=0.12, class_name="wayhome-lkl",
                       bubbling_mouse_events=True)
    return _feature("lkl", _point(last_known.lon, last_known.lat), m="circle", o=lkl,
                    tt=_label(text, "wayhome-lkl-label", direction="top"), front=True)


def _rendezvous(rendezvous: Any) -> dict[str, Any] | None:
    if rendezvous is None:
        return None
    words = (f"Rendezvous point · {rendezvous.text()} · "
             f"{grid_reference(rendezvous.lat, rendezvous.lon, 8)}")
    return _feature("rv", _point(rendezvous.lon, rendezvous.lat), m="icon",
                    i=_pin_icon("RV", RV_COLOUR, "wayhome-pin wayhome-rv"), tt=_hover(words))


def field_marks(
    sightings: Sequence[SightingLike],
    last_known: LastKnownLike | None = None,
    *,
    rendezvous: Any = None,
    tasks: Sequence[Any] = (),
    with_titles: bool = True,
    now: datetime | None = None,
) -> dict[str, dict[str, Any]]:
    """The marks of a field phone's map keyed by ``properties.k``, bottom to top.

    What the team lead's and partner's maps drew as separate layers: sightings as
    shared (dismissed ones left off), enquiry tasks, the last-known location and the
    rendezvous point when given. Times always carry their day (read across midnight).
    ``with_titles=False`` keeps a task's title off (a partner unit's map). Tasks are
    keyed by their number (``t<number>``).
    """
    out: list[dict[str, Any] | None] = [
        _sighting(s, now, always_day=True)
        for s in sorted(sightings, key=lambda s: (s.seen_at, s.id)) if s.status != "dismissed"]
    out += [_task(t, with_titles, by_number=True) for t in tasks]
    if last_known is not None:
        out.append(_last_known(last_known, now, always_day=True))
    out.append(_rendezvous(rendezvous))
    return {f["properties"]["k"]: f for f in out if f is not None}


class _LiveLayerScript(MacroElement):
    """Hands keyed features to ``wayhomeLive.draw`` in the map frame; every value goes
    through ``tojson`` (``<``, ``>`` and ``&`` escaped), so no value can end the script."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        window.wayhomeLive.draw({{ this._parent.get_name() }}, {{ this.layer|tojson }},
            {{ this.base|tojson }}, {{ this.version|tojson }}, {{ this.data|tojson }},
            {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, layer: str, base: str, version: str, data: dict[str, Any]) -> None:
        super().__init__()
        self._name = "LiveLayerScript"
        self.layer, self.base, self.version, self.data = layer, base, version, data
        self.options = {"marks": True}


def live_case_layer(
    features: Sequence[dict[str, Any]], *, layer: str, base: str, version: str,
    name: str = "Case",
) -> folium.FeatureGroup:
    """The case's marks drawn by the map frame's live-layer script: full draw ``base``
    at ``version`` (needs a base map with ``layers.sectors.LiveLayerSupport``)."""
    group = folium.FeatureGroup(name=safe_text(name), control=False)
    data = {"type": "FeatureCollection", "features": list(features)}
    _LiveLayerScript(layer, base, version, data).add_to(group)
    return group
