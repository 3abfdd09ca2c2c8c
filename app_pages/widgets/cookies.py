"""Keeping a coordinator signed in across reloads: the session cookie.

After a password sign-in the store issues an opaque session token (only its hash
is stored; valid ``SESSION_HOURS``). The page puts it in a cookie,
``wayhome_session`` — ``SameSite=Strict``, ``Secure`` over HTTPS, path ``/``,
``Max-Age`` the session's life — through a tiny fixed script run in the page
(``st.html`` with JavaScript allowed; Streamlit has no server-side "set cookie");
later sessions read it with ``st.context.cookies``. A cookie rather than the URL
keeps the token out of history, screenshots, shared links and Referer headers. It
cannot be ``HttpOnly`` because script sets it; the app already treats every user
string as hostile (escaped everywhere) so no foreign script runs in its origin.
Sign-out ends the session server-side and clears the cookie.
"""

from __future__ import annotations

import json

import streamlit as st

from app_pages.widgets.connection import client_key, store
from casefile import StoreError, TooManyAttempts
from vocab import settings

COOKIE = "wayhome_session"
_TOKEN_KEY = "wayhome_session_token"  # noqa: S105 - a session-state key
_COOKIE_PENDING = "wayhome_cookie_pending"


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
