"""Page-level accessibility fixes Streamlit does not make itself (checked with axe-core).

Made once for every page by the router (``dashboard.py`` calls :func:`accessible_page`):

* the map component's frame is titled by what it shows, not by the component's
  module name ("streamlit_folium.st_folium"), and marked ``data-wayhome-map``;
  a page names its map with :func:`map_title` (else :data:`DEFAULT_MAP_TITLE`);
* the page's main area is a ``main`` landmark;
* captions and other grey small print are dark enough to read (Streamlit's grey
  caption, #828180 at 60 % opacity, is 3.9:1 on white; WCAG AA asks 4.5:1 for
  small text).

The script (``static/wayhome-a11y.js``, served by the app: the Content-Security-
Policy allows no inline script) only sets attributes on Streamlit's own elements;
it reads the title from an escaped attribute.
"""

from __future__ import annotations

import streamlit as st

from layers.escape import safe_text

#: caption colour: 9.7:1 on white (WCAG AA needs 4.5:1); Streamlit also fades
#: captions with opacity, which is undone
CAPTION_COLOUR = "#444444"

#: the map frame's title where a page names none (still better than a module name)
DEFAULT_MAP_TITLE = "Interactive map"

#: the script, a file the app serves (static/): the Content-Security-Policy allows no
#: inline script
A11Y_SCRIPT = "app/static/wayhome-a11y.js"

# grey small print Streamlit draws: captions, widget help, help-text under inputs,
# the "Press Enter to submit" hint, metric labels and the page navigation's
# disabled links
_CSS = """
<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
.stCaption, [data-testid="stWidgetLabel"] small,
[data-testid="InputInstructions"], [data-testid="stMetricLabel"],
[data-testid="stMetricLabel"] p, [data-testid="stTooltipHoverTarget"] small,
[data-testid="stFileUploaderDropzoneInstructions"] small {
  color: %(caption)s !important; opacity: 1 !important;
}
/* the hidden title holders and the page's scripts take no room (on a phone the map
   should be on the first screen) */
[data-testid="stElementContainer"]:has([data-wayhome-map-title]),
[data-testid="stElementContainer"]:has([data-wayhome-map-default]),
[data-testid="stElementContainer"]:has([data-wayhome-script]) { display: none; }
/* the change watch (app_pages/widgets/change_watch.py): a frame of no height that must
   still run, so out of the flow rather than hidden (no gap above the page's title) */
[data-testid="stElementContainer"][class*="st-key-change_watch_"] {
  position: absolute; width: 0; height: 0; overflow: hidden;
}
</style>
"""


def accessible_page() -> None:
    """The landmark and frame-title script and the darker captions: once per page run."""
    st.html(_CSS % {"caption": CAPTION_COLOUR})
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    st.html(  # our own fixed script, served by the app; the default title, escaped
        f'<span hidden data-wayhome-map-default="{safe_text(DEFAULT_MAP_TITLE)}"></span>'
        f'<script src="{"/" + base if base else ""}/{A11Y_SCRIPT}"></script>',
        unsafe_allow_javascript=True,
    )


def map_title(title: str) -> None:
    """Title the page's map frame ``title`` ("Map of …"): what it shows, for a screen reader."""
    st.html(f'<span hidden data-wayhome-map-title="{safe_text(title)}"></span>')
