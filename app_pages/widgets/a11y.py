"""Page-level accessibility fixes Streamlit does not make itself (checked with axe-core).

* the map component's frame is titled by what it shows ("Map of …"), not by the
  component's module name, and marked ``data-wayhome-map``;
* the page's main area is a ``main`` landmark;
* captions are dark enough to read (Streamlit's grey caption is 3.9:1 on white;
  WCAG AA asks 4.5:1 for small text).

The script only sets attributes on Streamlit's own elements; the title is escaped
as a JSON string inside the script. One call per page run.
"""

from __future__ import annotations

import json

import streamlit as st

#: caption colour: 8.6:1 on white (WCAG AA needs 4.5:1); Streamlit also fades
#: captions with opacity, which is undone
CAPTION_COLOUR = "#444444"

_SCRIPT = """
<script>
(() => {
  window.__wayhomeMapTitle = %(title)s;
  const fix = () => {
    document.querySelectorAll('iframe[title="streamlit_folium.st_folium"]').forEach((f) => {
      f.setAttribute("data-wayhome-map", "1");
    });
    document.querySelectorAll("iframe[data-wayhome-map]").forEach((f) => {
      if (f.title !== window.__wayhomeMapTitle) f.title = window.__wayhomeMapTitle;
    });
    const main = document.querySelector('[data-testid="stMain"]');
    if (main && !document.querySelector('main, [role="main"]')) {
      main.setAttribute("role", "main");
    }
  };
  fix();
  if (!window.__wayhomeA11y) {
    window.__wayhomeA11y = new MutationObserver(fix);
    window.__wayhomeA11y.observe(document.body, {childList: true, subtree: true,
                                                 attributes: true, attributeFilter: ["title"]});
  }
})();
</script>
"""

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
    title = json.dumps(str(map_title)).replace("<", "\\u003c")
    st.html(_SCRIPT % {"title": title}, unsafe_allow_javascript=True)
