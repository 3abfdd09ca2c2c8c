"""Opening a private link: its token checked with the store on every run, its one page.

**Private links.** A link is ``https://…/?link=<token>``: the opaque token is the
only thing in the URL (no case, name or role), so a bookmarked link keeps
working across reloads and a phone dropping the tab. :func:`link_pages` checks
the token with the store on *every* script run (``Store.open_link``: hashed
lookup, throttled per client), so a revoked or expired link shows "This link no
longer works" at the next rerun, and the live views' polls (``Store.link_poll``)
trigger that rerun within seconds. The token is never logged or shown.

**Coordinator sessions** (the cookie that keeps a coordinator signed in across
reloads) live in :mod:`app_pages.widgets.cookies`.
"""

from __future__ import annotations

import streamlit as st

from app_pages.widgets.connection import client_key, store
from casefile import LinkGone, LinkSession, TooManyAttempts

LINK_KEY = "wayhome_link_session"


def current_link() -> LinkSession | None:
    """The link this session was opened with, checked again now (None: no link)."""
    session = st.session_state.get(LINK_KEY)
    return session if isinstance(session, LinkSession) else None


def link_pages() -> list[st.Page] | None:
    """The pages of the private link in the URL, or None when there is no link.

    Checked with the store on every run; a link that no longer works gets the
    one "no longer works" page, whatever the reason.
    """
    token = st.query_params.get("link")
    if not token:
        st.session_state.pop(LINK_KEY, None)
        return None
    try:
        session = store().open_link(token, client_key=client_key())
    except TooManyAttempts as exc:
        st.session_state.pop(LINK_KEY, None)
        st.session_state["wayhome_link_problem"] = str(exc)
        return [_gone_page()]
    except LinkGone:
        st.session_state.pop(LINK_KEY, None)
        st.session_state.pop("wayhome_link_problem", None)
        return [_gone_page()]
    st.session_state[LINK_KEY] = session
    script = {"family": "app_pages/family.py", "team_lead": "app_pages/team.py",
              "partner": "app_pages/partner.py"}[session.role]
    title = {"family": "Search progress", "team_lead": "My sectors",
             "partner": "Handovers"}[session.role]
    return [st.Page(script, title=title, url_path="link", default=True)]


#: link pages are read on phones: less empty space above the title, so the map and
#: the first card are on the first screen (a style-only block takes no room)
#: On a narrow screen the headings are smaller too: the section headings (h2, under the
#: page's h1, as screen readers expect) would otherwise fill the first screen.
PHONE_STYLE = (
    "<style>[data-testid='stMainBlockContainer']{padding-top:2.75rem;"
    "padding-bottom:3rem}"
    "@media (max-width:640px){[data-testid='stMain'] h1{font-size:2rem!important}"
    "[data-testid='stMain'] h2{font-size:1.5rem!important}"
    "[data-testid='stMain'] h3{font-size:1.25rem!important}}</style>"
)


def phone_layout() -> None:
    """Tighten the page for a phone (private-link pages only)."""
    st.html(PHONE_STYLE)


def _gone_page() -> st.Page:
    return st.Page(_gone, title="Link not working", url_path="link", default=True)


def _gone() -> None:
    st.title("This link no longer works")
    problem = st.session_state.get("wayhome_link_problem")
    if problem:
        st.warning(problem)
    else:
        st.write(
            "It may have been switched off or reached its end date. Ask the coordinator "
            "who sent it to you for a new link."
        )


def gone_now() -> None:
    """Show the "no longer works" page at once (a store call was refused mid-run)."""
    st.session_state.pop(LINK_KEY, None)
    _gone()
    st.stop()
