"""Opening a private link, and keeping a coordinator signed in across reloads.

**Private links.** A link is ``https://…/?link=<token>``: the opaque token is the
only thing in the URL (no case, name or role), so a bookmarked link keeps
working across reloads and a phone dropping the tab. :func:`link_pages` checks
the token with the store on *every* script run (``Store.open_link``: hashed
lookup, throttled per client), so a revoked or expired link shows "This link no
longer works" at the next rerun, and the live views' polls (``Store.link_poll``)
trigger that rerun within seconds. The token is never logged or shown.

**Coordinator sessions.** After a password sign-in the store issues an opaque
session token (only its hash is stored; valid ``SESSION_HOURS``). The page puts
it in a cookie, ``wayhome_session`` — ``SameSite=Strict``, ``Secure`` over
HTTPS, path ``/``, ``Max-Age`` the session's life — through a tiny fixed script
run in the page (``st.html`` with JavaScript allowed; Streamlit has no
server-side "set cookie"); later sessions read
it with ``st.context.cookies``. A cookie rather than the URL keeps the token out
of history, screenshots, shared links and Referer headers. It cannot be
``HttpOnly`` because script sets it; the app already treats every user string as
hostile (escaped everywhere) so no foreign script runs in its origin. Sign-out
ends the session server-side and clears the cookie.
"""

from __future__ import annotations

import json

import streamlit as st

from app_pages.session import store
from casefile import LinkGone, LinkSession, StoreError, TooManyAttempts
from casefile.links import client_address
from vocab import settings

LINK_KEY = "wayhome_link_session"
COOKIE = "wayhome_session"
_TOKEN_KEY = "wayhome_session_token"  # noqa: S105 - a session-state key
_COOKIE_PENDING = "wayhome_cookie_pending"


def client_key() -> str:
    """Who is knocking, for throttling (``casefile.links.client_address``): the peer's
    address, or the forwarded one when ``TRUSTED_PROXY_HOPS`` proxies stand in front."""
    try:
        forwarded = st.context.headers.get("X-Forwarded-For", "")
        peer = st.context.ip_address
    except Exception:
        return "local"
    return client_address(forwarded if isinstance(forwarded, str) else None,
                          peer if isinstance(peer, str) else None,
                          settings.TRUSTED_PROXY_HOPS)


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
PHONE_STYLE = (
    "<style>[data-testid='stMainBlockContainer']{padding-top:2.75rem;"
    "padding-bottom:3rem}</style>"
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


# ---------------------------------------------------------------------- coordinator session


def restore_session() -> object | None:
    """The coordinator of this browser's session cookie, if it is still valid."""
    try:
        token = st.context.cookies.get(COOKIE)
    except Exception:
        return None
    if not isinstance(token, str) or not token:
        return None
    try:
        actor = store().open_session(token, client_key=client_key())
    except (TooManyAttempts, StoreError):
        return None
    if actor is not None:
        st.session_state[_TOKEN_KEY] = token
    return actor


def remember_session(actor: object) -> None:
    """Issue a session token for ``actor`` and set the cookie (shown once to the browser)."""
    try:
        token = store().start_session(actor)  # type: ignore[arg-type]
    except StoreError:
        return
    st.session_state[_TOKEN_KEY] = token
    # set on the next run: the sign-in page reruns at once, which would drop the element
    st.session_state[_COOKIE_PENDING] = (token, int(settings.SESSION_HOURS * 3600))


def forget_session() -> None:
    """End the session server-side and clear the cookie."""
    token = st.session_state.get(_TOKEN_KEY)
    if token:
        try:
            store().end_session(token)
        except StoreError:
            pass


def clear_cookie_next_run() -> None:
    """After sign-out has cleared session state: clear the cookie on the next run."""
    st.session_state[_COOKIE_PENDING] = ("", 0)


def flush_cookie() -> None:
    """Set or clear the session cookie if a sign-in or sign-out asked for it."""
    pending = st.session_state.pop(_COOKIE_PENDING, None)
    if pending is not None:
        _set_cookie(*pending)


def _set_cookie(value: str, max_age: int) -> None:
    # json.dumps gives a JS string literal; the token is base64url anyway
    # our own fixed script, run in the app's page (the value is a JSON string literal)
    st.html(
        "<script>(function(){var s=location.protocol==='https:'?'; Secure':'';"
        f"document.cookie={json.dumps(COOKIE + '=')}+{json.dumps(value)}+"
        f"'; Path=/; Max-Age={int(max_age)}; SameSite=Strict'+s;}})();</script>",
        unsafe_allow_javascript=True,
    )
