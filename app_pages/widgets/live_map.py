"""A map that stays mounted and is cheap to send again: for views that refresh themselves.

A live view re-runs every few seconds (``st.fragment(run_every=…)``) and must
send its map each time, or Streamlit removes it. ``st_folium`` renders the whole
folium map on every call; with London's boundary layers inlined that is about
0.4 s of CPU per call, so 30 open case maps polling every 4 s would keep three
cores busy doing nothing.

Here the base map is rendered ONCE per process (:func:`render_base`, cached by
the page with ``st.cache_resource``) and :func:`live_folium` sends those same
strings with only the changing ``feature_group_to_add`` rendered per run. The
arguments are exactly what ``st_folium`` would send (``tests/layers`` has no
Streamlit; ``tests/browser/test_case_live.py`` drives it, and
``tests/app_pages/test_live_map.py`` compares the two), so the component key is
the same content hash and the map is never remounted.

This relies on streamlit-folium's module internals, which is why
``pyproject.toml`` pins ``streamlit-folium`` to one exact version.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import folium
import folium.elements
import streamlit_folium as sf

from app_pages.widgets.http_security import allow_map_script

__all__ = ["RenderedMap", "feature_groups_script", "live_folium", "render_base"]


@dataclass(frozen=True)
class RenderedMap:
    """A base map as streamlit-folium sends it: script, header, html, links, defaults."""

    script: str
    header: str
    html: str
    map_id: str
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    bounds: Any
    zoom: Any


def _links(m: folium.Map) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """CSS and JS links of every element, as ``st_folium`` collects them."""

    def walk(fig: Any) -> Iterable[Any]:
        if isinstance(fig, folium.elements.JSCSSMixin):
            yield fig
        for child in getattr(fig, "_children", {}).values():
            yield from walk(child)

    css: list[str] = []
    js: list[str] = []
    for elem in walk(m):
        css.extend(href for _, href in getattr(elem, "default_css", []))
        js.extend(src for _, src in getattr(elem, "default_js", []))
    return tuple(dict.fromkeys(css)), tuple(dict.fromkeys(js))


def render_base(m: folium.Map) -> RenderedMap:
    """Render ``m`` the way ``st_folium`` does (this consumes ``m``: do not reuse it)."""
    m.get_root().render()
    m.render()
    html = sf._get_html(m)
    header = sf._get_header(m)
    script = sf._get_map_string(m)
    try:
        bounds = m.get_bounds()
    except AttributeError:  # pragma: no cover - folium.Map always has bounds
        bounds = [[None, None], [None, None]]
    css, js = _links(m)
    return RenderedMap(
        script=script,
        header=header,
        html=html,
        map_id=sf.get_full_id(m),
        css_links=css,
        js_links=js,
        bounds=bounds,
        zoom=m.options.get("zoom") if hasattr(m, "options") else {},
    )


def _bounds_dict(bounds: Any) -> dict[str, dict[str, Any]]:
    southwest, northeast = bounds
    return {
        "_southWest": {"lat": southwest[0], "lng": southwest[1]},
        "_northEast": {"lat": northeast[0], "lng": northeast[1]},
    }


@functools.lru_cache(maxsize=32)
def _component_key(script: str, key: str) -> str:
    # a regex pass and a sha256 over the whole base script: once per process, not per poll
    return sf.generate_js_hash(script, key, False)


def feature_groups_script(groups: Sequence[folium.FeatureGroup]) -> str:
    """The JavaScript ``st_folium`` sends for ``feature_group_to_add=groups``."""
    host = folium.Map(tiles=None)  # only its id is used: it is replaced by "map_div"
    return "".join(
        sf._get_feature_group_string(group, map=host, idx=idx) for idx, group in enumerate(groups)
    )


def live_folium(
    base: RenderedMap,
    *,
    key: str,
    feature_group_to_add: Sequence[folium.FeatureGroup] | str = (),
    returned_objects: Sequence[str] = ("last_clicked",),
    height: int = 600,
    width: int | None = None,
    center: tuple[float, float] | None = None,
    zoom: int | None = None,
    on_change: Callable[[], None] | None = None,
) -> Any:
    """Show ``base`` with ``feature_group_to_add`` swapped in place; like ``st_folium``.

    ``feature_group_to_add`` may be the script :func:`feature_groups_script`
    made earlier: folium gives popups random ids, so a view that re-sends
    unchanged layers should re-send the same script, or the browser redraws
    them (and closes any open popup) on every poll.
    ``width=None`` fills the container. ``center`` (lat, lon) and ``zoom`` move the
    map in place, and only when they differ from what was last sent: keep them
    the same while the viewer should keep their own pan and zoom.

    The value the map returns is mirrored into ``st.session_state[key]`` before
    ``on_change`` runs, as ``st_folium`` does, so a callback can read the click.
    """
    import streamlit as st

    returned = list(returned_objects)
    all_defaults = {
        "last_clicked": None,
        "last_object_clicked": None,
        "last_object_clicked_count": None,
        "last_object_clicked_tooltip": None,
        "last_object_clicked_popup": None,
        "all_drawings": None,
        "last_active_drawing": None,
        "bounds": _bounds_dict(base.bounds),
        "zoom": base.zoom,
        "last_circle_radius": None,
        "last_circle_polygon": None,
        "selected_layers": None,
        "selected_tags": None,
        "last_geocoder_result": None,
    }
    defaults = {k: v for k, v in all_defaults.items() if k in returned}
    hash_key = _component_key(base.script, key)
    allow_map_script(base.script)  # the map frame's CSP allows exactly this inline script

    def _on_change() -> None:
        st.session_state[key] = st.session_state.get(hash_key, {})
        if on_change is not None:
            on_change()

    return sf._component_func(
        script=base.script,
        header=base.header,
        html=base.html,
        id=base.map_id,
        key=hash_key,
        height=height,
        width=width,
        returned_objects=returned,
        default=defaults,
        zoom=zoom,
        center=None if center is None else list(center),
        feature_group=(
            feature_group_to_add
            if isinstance(feature_group_to_add, str)
            else feature_groups_script(feature_group_to_add)
        ),
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=list(base.css_links),
        js_links=list(base.js_links),
        on_change=_on_change,
        wrap_longitude=False,
    )
