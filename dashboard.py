"""Wayhome's entry point: page set-up, who is this, and the router. Nothing else.

Run with ``streamlit run dashboard.py`` (``bash scripts/demo`` does it for you).
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# A local file: Material or emoji icons would make the browser fetch the favicon
# from a font CDN, which locked-down networks block.
ICON = Path(__file__).resolve().parent / "static" / "wayhome-icon.png"

st.set_page_config(
    page_title="Wayhome",
    page_icon=str(ICON),
    layout="wide",
    initial_sidebar_state="collapsed",
)

# Public pages: anyone who can reach the app sees these; no personal data on them.
public_pages = [
    st.Page(
        "app_pages/area_map.py",
        title="Who is responsible here?",
        icon=":material/map:",
        url_path="map",
        default=True,
    ),
]

# --- Who is this? -----------------------------------------------------------------
# Later: sign-in (coordinators, team leads) and private family links decide which
# role pages below are added. Each role's pages live in app_pages/ and are added
# to `pages` here, under a section named for the role.
pages: dict[str, list[st.Page]] = {"London": public_pages}

page_count = sum(len(group) for group in pages.values())
st.navigation(pages, position="top" if page_count > 1 else "hidden").run()
