"""Wayhome's entry point: page set-up, who is this, and the router. Nothing else.

Served by ``streamlit run app.py`` (``bash scripts/demo`` does it for you), which
wraps this script in the security headers and the ``HttpOnly`` session cookie.
"""

from __future__ import annotations

from pathlib import Path

import streamlit as st

from app_pages.widgets.a11y import accessible_page
from app_pages.widgets.link_entry import link_pages, phone_layout
from app_pages.widgets.session import current_actor
from app_pages.widgets.triage_badge import triage_title

# A local file: Material or emoji icons would make the browser fetch the favicon
# from a font CDN, which locked-down networks block.
ICON = Path(__file__).resolve().parent / "static" / "wayhome-icon.png"

st.set_page_config(
    page_title="Wayhome",
    page_icon=str(ICON),
    layout="wide",
    initial_sidebar_state="collapsed",
)
# Every page: a main landmark, the map frame titled by what it shows, readable captions.
accessible_page()

# --- Who is this? -----------------------------------------------------------------
# A coordinator signs in with a username and password (app_pages/login.py); the
# store re-checks the actor on every call, so these page lists are convenience,
# not the security boundary.
# A private link (?link=<opaque token>) opens only its case and role: checked with
# the store on every run (app_pages/widgets/link_entry.py), its own page and nothing else.
link_nav = link_pages()
if link_nav is not None:
    phone_layout()
    st.navigation(link_nav, position="hidden").run()
    st.stop()
actor = current_actor()

# Public pages: anyone who can reach the app sees these; no personal data on them.
public_pages = [
    st.Page(
        "app_pages/area_map.py",
        title="Who is responsible here?",
        icon=":material/map:",
        url_path="map",
        default=actor is None,
    ),
]

# One row of links (section ""): few pages, and a team lead's phone has room for them.
role_pages: list[st.Page] = []
if actor is not None and actor.role == "coordinator":
    role_pages = [
        st.Page(
            "app_pages/cases.py",
            title="Cases",
            icon=":material/folder_open:",
            url_path="cases",
            default=True,
        ),
        st.Page(
            "app_pages/first_hour.py",
            title="First hour",
            icon=":material/bolt:",
            url_path="first-hour",
        ),
        st.Page(
            "app_pages/case_map.py",
            title="Case map",
            icon=":material/pin_drop:",
            url_path="case-map",
        ),
        st.Page(
            "app_pages/sectors.py",
            title="Sectors",
            icon=":material/grid_view:",
            url_path="sectors",
        ),
        st.Page(
            "app_pages/sector_tools.py",
            title="Make sectors",
            icon=":material/add_box:",
            url_path="make-sectors",
        ),
        st.Page(
            "app_pages/tasks.py",
            title="Tasks",
            icon=":material/checklist:",
            url_path="tasks",
        ),
        st.Page(
            "app_pages/coverage.py",
            title="Coverage",
            icon=":material/route:",
            url_path="coverage",
        ),
        st.Page(
            "app_pages/probability.py",
            title="Where next",
            icon=":material/target:",
            url_path="where-next",
        ),
        st.Page(
            "app_pages/likely_places.py",
            title="Likely places",
            icon=":material/explore:",
            url_path="likely-places",
        ),
        st.Page(
            "app_pages/handover.py",
            title="Handover",
            icon=":material/swap_horiz:",
            url_path="handover",
        ),
        st.Page(
            "app_pages/audit_log.py",
            title="Audit log",
            icon=":material/history:",
            url_path="audit-log",
        ),
        st.Page(
            "app_pages/triage.py",
            title=triage_title(actor),
            icon=":material/inbox:",
            url_path="triage",
        ),
        st.Page(
            "app_pages/links.py",
            title="Private links",
            icon=":material/link:",
            url_path="links",
        ),
    ]
if actor is None:
    account = st.Page(
        "app_pages/login.py", title="Sign in", icon=":material/login:", url_path="sign-in"
    )
else:
    account = st.Page(
        "app_pages/sign_out.py", title="Sign out", icon=":material/logout:", url_path="sign-out"
    )
pages: dict[str, list[st.Page]] = {"": [*role_pages, *public_pages, account]}

page_count = sum(len(group) for group in pages.values())
st.navigation(pages, position="top" if page_count > 1 else "hidden").run()
