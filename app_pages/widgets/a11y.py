"""Page-level accessibility fixes Streamlit does not make itself (checked with axe-core).

* the map component's frame is titled by what it shows ("Map of …"), not by the
  component's module name, and marked ``data-wayhome-map``;
* the page's main area is a ``main`` landmark;
* captions are dark enough to read (Streamlit's grey caption is 3.9:1 on white;
  WCAG AA asks 4.5:1 for small text).

The script (``static/wayhome-a11y.js``, served by the app: the Content-Security-
Policy allows no inline script) only sets attributes on Streamlit's own elements;
it reads the title from an escaped attribute. One call per page run.
"""

from __future__ import annotations

import streamlit as st

from layers.escape import safe_text

#: caption colour: 8.6:1 on white (WCAG AA needs 4.5:1); Streamlit also fades
#: captions with opacity, which is undone
CAPTION_COLOUR = "#444444"

#: the script, a file the app serves (static/): the Content-Security-Policy allows no
#: inline script
A11Y_SCRIPT = "app/static/wayhome-a11y.js"

_CSS = """
<style>
[data-testid="stCaptionContainer"], [data-testid="stCaptionContainer"] p,
.stCaption, [data-testid="stWidgetLabel"] small {
  color: %(caption)s !important; opacity: 1 !important;
}
</style>
"""


def accessible_page(map_title: str) -> None:
    """Title the page's map frame ``map_title``, add the main landmark, darken captions."""
    st.html(_CSS % {"caption": CAPTION_COLOUR})
    base = (st.get_option("server.baseUrlPath") or "").strip("/")
    st.html(  # the title as an escaped attribute; our own fixed script, served by the app
        f'<span hidden data-wayhome-map-title="{safe_text(map_title)}"></span>'
        f'<script src="{"/" + base if base else ""}/{A11Y_SCRIPT}"></script>',
        unsafe_allow_javascript=True,
    )
