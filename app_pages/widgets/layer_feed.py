"""Small map updates: a changed sector reaches an open map as a few hundred bytes.

Why: a live map re-sends its layers through streamlit-folium's
``feature_group_to_add``, and any change of that string makes Streamlit send the
whole map component again: the base map's script (boundaries inlined, about
0.7 MB) plus every layer (2.5 MB of sectors at 5,000 sectors). So the sectors
layer is drawn in full only when the view needs it (first load, another case,
a toggle, a drawing waiting to be saved, or many changes at once); after that the
map component is sent unchanged (Streamlit's message cache turns it into a
reference) and the changes travel beside it as data:

* :func:`live_sector_update` keeps, per browser session, the features the map
  was last drawn with (its *base*, a random id) and works out what differs now:
  the sectors added or changed (with geometry, style and escaped text) and the
  ids removed, always relative to the base, so a map that missed a message is
  put right by the next one;
* :func:`layer_feed` sends that message through a tiny component with no face
  (``layer_feed_frontend/``: a static page and script, no build step, no inline
  script) that posts it into the map frame, where
  ``static/wayhome-live-layers.js`` redraws only the features that differ. A
  message whose base the frame has not drawn waits for that full redraw.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import folium
import streamlit.components.v1 as components

from layers.sectors import live_sectors_layer, sector_changes, sector_features

__all__ = ["MAX_CHANGED", "LiveSectorUpdate", "layer_feed", "live_sector_update"]

#: with more changed features than this, one full redraw is cheaper than the message
MAX_CHANGED = 300
_FEED = components.declare_component(
    "layer_feed", path=str(Path(__file__).resolve().parent / "layer_feed_frontend")
)


@dataclass
class LiveSectorUpdate:
    """The sectors layer as the map was drawn (``group`` is rebuilt only on a full draw)."""

    base: str
    view: Hashable
    features: dict[str, dict[str, Any]]
    group: folium.FeatureGroup | None
    message: dict[str, Any] = field(default_factory=dict)
    version: Hashable = None
    full: bool = True


def live_sector_update(
    previous: LiveSectorUpdate | None,
    sectors: Sequence[Any],
    team_names: dict[int, str],
    *,
    version: Hashable,
    view: Hashable,
    layer: str = "sectors",
) -> LiveSectorUpdate:
    """The layer to draw (when the view needs a full draw) and the message for the feed.

    ``version`` identifies the data (the case's change counter); ``view`` is
    everything else the map shows, and any change of it means a full redraw.
    Call again only when either moved; otherwise reuse ``previous``.
    """
    features = {f["properties"]["k"]: f for f in sector_features(sectors, team_names)}
    if previous is not None and previous.view == view:
        upsert, removed = sector_changes(previous.features, features)
        if len(upsert) + len(removed) <= MAX_CHANGED:
            message = {"layer": layer, "base": previous.base,
                       "version": f"{previous.base}:{version}",
                       "upsert": upsert, "remove": removed}
            return LiveSectorUpdate(previous.base, view, previous.features, previous.group,
                                    message, version, full=False)
    base = uuid.uuid4().hex[:16]
    group = live_sectors_layer(list(features.values()), layer=layer, base=base)
    message = {"layer": layer, "base": base, "version": base, "upsert": [], "remove": []}
    return LiveSectorUpdate(base, view, features, group, message, version, full=True)


def layer_feed(message: dict[str, Any], *, key: str) -> None:
    """Hand ``message`` to the page's map frames (a zero-height component)."""
    _FEED(message=json.dumps(message, separators=(",", ":")), key=key, default=None)
