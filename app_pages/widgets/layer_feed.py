"""Small map updates: a changed sector, sighting or task reaches an open map as a few
hundred bytes.

Why: a live map re-sends its layers through streamlit-folium's
``feature_group_to_add``, and any change of that string makes Streamlit send the
whole map component again: the base map's script (boundaries inlined, about
0.7 MB) plus every layer (2.5 MB of sectors at 5,000 sectors). So the sectors
layer is drawn in full only when the view needs it (first load, another case,
a toggle, a drawing waiting to be saved, or many changes at once); after that the
map component is sent unchanged (Streamlit's message cache turns it into a
reference) and the changes travel beside it as data:

* :func:`live_layer_update` keeps, per browser session, a keyed layer's features
  last sent and works out what differs now: the features added or changed (with
  geometry, style and escaped text) and the keys removed
  (:func:`live_sector_update` for the Sectors page; the case map's marks come from
  :func:`layers.case_features.case_features`). Each message names the full draw it
  builds on (*base*, a random id) and the version it goes from and to;
  :func:`live_map_layers` does the same for a map with several keyed layers (the
  team lead's and partner's phones), which are drawn in full together or not at all;
* :func:`layer_feed` sends that message through a tiny component with no face
  (``layer_feed_frontend/``: a static page and script, no build step, no inline
  script) that hands it to the map frame, where ``static/wayhome-live-layers.js``
  redraws only the features that differ. A message for a base the frame has not
  drawn yet waits for that draw; a frame at another version of the same base (it
  was remounted, or missed a message) answers "missed", and the feed's value asks
  the server for a full redraw.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import streamlit as st
import streamlit.components.v1 as components

from app_pages.widgets.live_map import feature_groups_script
from layers.sectors import live_sectors_layer, sector_changes, sector_features

__all__ = [
    "MAX_CHANGED",
    "KeyedLayer",
    "LiveLayerUpdate",
    "LiveMapLayers",
    "LiveSectorUpdate",
    "layer_feed",
    "live_layer_update",
    "live_layers_update",
    "live_map_layers",
    "live_sector_update",
    "map_feed",
]

#: with more changed features than this, one full redraw is cheaper than the message
MAX_CHANGED = 300
_FEED = components.declare_component(
    "layer_feed", path=str(Path(__file__).resolve().parent / "layer_feed_frontend")
)


@dataclass
class LiveLayerUpdate:
    """A keyed layer as sent to this session's map: the last full draw and the change
    since the previous message (``group`` is set only on a full draw)."""

    base: str
    view: Hashable
    features: dict[str, dict[str, Any]]
    group: folium.FeatureGroup | None
    message: dict[str, Any] = field(default_factory=dict)
    version: Hashable = None
    full: bool = True


#: the name the Sectors page knows it by
LiveSectorUpdate = LiveLayerUpdate


def _version(base: str, version: Hashable) -> str:
    return f"{base}:{version}"


def live_layer_update(
    previous: LiveLayerUpdate | None,
    features: dict[str, dict[str, Any]],
    build: Callable[..., folium.FeatureGroup],
    *,
    version: Hashable,
    view: Hashable,
    layer: str,
    redraw: bool = False,
) -> LiveLayerUpdate:
    """The keyed layer to draw (when the view needs a full draw) and the message for the feed.

    ``features`` are keyed by ``properties.k``; ``build(features, layer=, base=,
    version=)`` makes the full draw (e.g. :func:`layers.sectors.live_sectors_layer`).
    ``version`` identifies the data (the case's change counter); ``view`` is
    everything else the map shows, and any change of it means a full redraw, as
    does ``redraw`` (the map said it missed a change). Otherwise the message holds
    what changed since the previous message, to be applied on top of it. Call again
    only when one of these moved; otherwise reuse ``previous``.
    """
    if previous is not None and previous.view == view and not redraw:
        upsert, removed = sector_changes(previous.features, features)
        if len(upsert) + len(removed) <= MAX_CHANGED:
            message = {"layer": layer, "base": previous.base,
                       "from": previous.message["to"], "to": _version(previous.base, version),
                       "upsert": upsert, "remove": removed}
            return LiveLayerUpdate(previous.base, view, features, None, message, version,
                                   full=False)
    base = uuid.uuid4().hex[:16]
    to = _version(base, version)
    group = build(list(features.values()), layer=layer, base=base, version=to)
    message = {"layer": layer, "base": base, "from": to, "to": to, "upsert": [], "remove": []}
    return LiveLayerUpdate(base, view, features, group, message, version, full=True)


def live_sector_update(
    previous: LiveLayerUpdate | None,
    sectors: Sequence[Any],
    team_names: dict[int, str],
    *,
    version: Hashable,
    view: Hashable,
    layer: str = "sectors",
    redraw: bool = False,
) -> LiveLayerUpdate:
    """:func:`live_layer_update` for the sectors layer."""
    features = {f["properties"]["k"]: f for f in sector_features(sectors, team_names)}
    return live_layer_update(previous, features, live_sectors_layer, version=version, view=view,
                             layer=layer, redraw=redraw)


#: one keyed layer of a map: its features keyed by ``properties.k`` and its full-draw builder
KeyedLayer = tuple[dict[str, dict[str, Any]], Callable[..., folium.FeatureGroup]]


def live_layers_update(
    previous: Mapping[str, LiveLayerUpdate] | None,
    layers: Mapping[str, KeyedLayer],
    *,
    version: Hashable,
    view: Hashable,
    redraw: bool = False,
) -> dict[str, LiveLayerUpdate]:
    """:func:`live_layer_update` for every keyed layer of one map, by layer name.

    The map's layers travel in one ``feature_group_to_add`` script, so when one layer
    must be drawn in full (too many changes, a new view) they all are.
    """
    def each(force: bool) -> dict[str, LiveLayerUpdate]:
        return {name: live_layer_update(None if previous is None else previous.get(name),
                                        features, build, version=version, view=view,
                                        layer=name, redraw=force)
                for name, (features, build) in layers.items()}

    updates = each(redraw)
    if any(u.full for u in updates.values()) and not all(u.full for u in updates.values()):
        updates = each(True)
    return updates


@dataclass
class LiveMapLayers:
    """What a session's map was last sent: each keyed layer's state and the layers' script
    (kept in ``st.session_state[key]``)."""

    key: str
    layers: dict[str, LiveLayerUpdate]
    script: str
    version: Hashable
    view: Hashable

    @property
    def message(self) -> dict[str, Any]:
        """One message for the map's feed: every keyed layer's change."""
        return {"layers": [u.message for u in self.layers.values()]}

    @property
    def full(self) -> bool:
        return any(u.full for u in self.layers.values())


def live_map_layers(
    key: str,
    layers: Callable[[], Mapping[str, KeyedLayer]],
    arrange: Callable[[dict[str, folium.FeatureGroup]], Sequence[folium.FeatureGroup]],
    *,
    version: Hashable,
    view: Hashable,
) -> LiveMapLayers:
    """A map's keyed layers as this session's map should get them (state in ``key``).

    ``layers()`` gives the keyed layers at ``version`` (called only when the version
    or view moved); ``arrange(groups)`` puts the full draws among the map's other
    layers, bottom to top, when a full draw is needed. Use with :func:`map_feed`.
    """
    previous: LiveMapLayers | None = st.session_state.get(key)
    redraw = bool(st.session_state.pop(f"{key}_redraw", False))
    if (previous is not None and previous.version == version and previous.view == view
            and not redraw):
        return previous
    updates = live_layers_update(None if previous is None else previous.layers, layers(),
                                 version=version, view=view, redraw=redraw)
    if previous is None or any(u.full for u in updates.values()):
        groups = {name: u.group for name, u in updates.items() if u.group is not None}
        script = feature_groups_script(arrange(groups))
        for u in updates.values():
            u.group = None  # rendered: only the features are kept, for the next diff
    else:
        script = previous.script
    state = LiveMapLayers(key, updates, script, version, view)
    st.session_state[key] = state
    return state


def map_feed(state: LiveMapLayers) -> None:
    """Send ``state``'s change beside the unchanged map; a map that missed a change makes
    the page run again with every keyed layer drawn in full."""
    if layer_feed(state.message, key=f"{state.key}_feed"):
        st.session_state[f"{state.key}_redraw"] = True
        st.rerun()


def layer_feed(message: dict[str, Any], *, key: str) -> bool:
    """Hand ``message`` to the page's map frames (a zero-height component).

    ``message`` is one layer's message, or ``{"layers": [...]}`` with one per keyed
    layer of the map (one feed per map, whatever its layers).

    True when a map answered that it missed a change (the caller then draws the
    layer in full): once per answer.
    """
    value = _FEED(message=json.dumps(message, separators=(",", ":")), key=key, default=None)
    answered = value.get("missed") if isinstance(value, dict) else None
    seen_key = f"{key}_answered"
    if answered is None or st.session_state.get(seen_key) == answered:
        return False
    st.session_state[seen_key] = answered
    return True
