"""Who is this, and which case are they on: the signed-in actor and the shared store.

* :func:`store` — one :class:`casefile.Store` per server process
  (``st.cache_resource``; the store is thread-safe). Opening it brings the
  schema up to date, so the app upgrades the database on start-up.
* :func:`current_actor` / :func:`sign_in` / :func:`sign_out` — the
  :class:`casefile.Actor` in this browser session's ``st.session_state``. The
  password never goes into session state, the URL or a log; only the actor the
  store hands back is kept. The store re-checks the actor on every call.
* Optional: where ``.streamlit/secrets.toml`` has an ``[auth]`` section, a
  coordinator may sign in with the organisation's identity provider
  (``st.login``); the store maps the verified email to an existing coordinator
  account and refuses every other identity (:mod:`casefile.oidc`).
* :func:`current_case_id` / :func:`choose_case` — the case being worked on.
  Only the opaque numeric case id may appear in the URL (``?case=7``), never a
  name or reference.
"""

from __future__ import annotations

import time

import streamlit as st

from app_pages.widgets.connection import client_key, store
from app_pages.widgets.cookies import (
    clear_cookie_next_run,
    flush_cookie,
    forget_session,
    remember_session,
    restore_session,
)
from casefile import Actor, StoreError, TooManyAttempts
from casefile.oidc import configured_providers

ACTOR_KEY = "wayhome_actor"
_OIDC_CHECKED = "_wayhome_oidc_checked"
OIDC_PROBLEM = "wayhome_oidc_problem"
#: an identity the provider vouched for but that is no coordinator here
OIDC_REFUSED = ("Your organisation's account is not a Wayhome coordinator account. Ask the "
                "person who runs Wayhome to add you, or sign in with your password.")
#: the same, short enough for a toast on the page the provider returns to
OIDC_REFUSED_NOTE = "Not signed in: that account is not a Wayhome coordinator. See Sign in."
CASE_KEY = "wayhome_case_id"
_FAILED_KEY = "wayhome_failed_logins"

#: one message for every failed sign-in: it does not say which part was wrong
SIGN_IN_FAILED = "That username and password did not match an active account."
#: failed attempts in one browser session before each further try is slowed down
FREE_ATTEMPTS = 3


def current_actor() -> Actor | None:
    """The signed-in actor of this browser session, or None."""
    actor = st.session_state.get(ACTOR_KEY)
    if actor is None and not st.session_state.get("_wayhome_cookie_checked"):
        # a reload: the sign-in survives for a working day through the session cookie
        st.session_state["_wayhome_cookie_checked"] = True
        actor = restore_session()
        if isinstance(actor, Actor):
            st.session_state[ACTOR_KEY] = actor
    if actor is None and not st.session_state.get(_OIDC_CHECKED):
        actor = _identity_provider_actor()
    flush_cookie()
    return actor if isinstance(actor, Actor) else None


# ------------------------------------------------------------------ optional OIDC sign-in


def oidc_providers() -> list[str | None]:
    """Identity providers configured for ``st.login`` (``[auth]`` in secrets); [] if none.

    Never required: without an ``[auth]`` section coordinators sign in with a password.
    """
    try:
        auth = st.secrets.get("auth")
    except Exception:  # no secrets file at all
        return []
    return configured_providers(auth)


def identity_provider_missing() -> str | None:
    """What this server lacks for ``st.login`` to finish, or None if nothing.

    ``st.login`` checks only that Authlib is installed, but Streamlit's Starlette
    server hands the code exchange to Authlib's Starlette client, which needs an
    HTTP client package (httpx) too. Without it the browser would end on a bare
    "Internal Server Error" page after the click; asked first, the sign-in page can
    say so and keep passwords working.
    """
    import importlib
    import importlib.util

    try:
        if importlib.util.find_spec("streamlit.web.server.starlette") is None:
            return None  # another server: st.login's own check is the whole story
        importlib.import_module("authlib.integrations.starlette_client")
    except ImportError as exc:
        return f"this server is missing the {exc.name or 'Authlib'} package"
    return None


def identity_logged_in() -> bool:
    """Has this browser signed in with the identity provider (``st.user``)?"""
    if not oidc_providers():
        return False
    try:
        return bool(st.user.get("is_logged_in"))
    except Exception:
        return False


def _identity_provider_actor() -> Actor | None:
    """The coordinator account the identity provider's identity maps to (checked once)."""
    if not identity_logged_in():
        return None
    st.session_state[_OIDC_CHECKED] = True
    try:
        actor = store().sign_in_oidc(dict(st.user), client_key=client_key())
    except TooManyAttempts as exc:
        actor, problem, note = None, str(exc), str(exc)
    else:
        problem, note = (OIDC_REFUSED, OIDC_REFUSED_NOTE) if actor is None else (None, None)
    if problem is not None:
        # The provider sends the browser back to the app's home page (the public map),
        # not to Sign in: say it there too, or the refusal would go unseen.
        st.session_state[OIDC_PROBLEM] = problem
        st.toast(note, duration="long")
        return None
    st.session_state[ACTOR_KEY] = actor
    remember_session(actor)
    return actor


def sign_in(username: str, password: str) -> Actor | None:
    """Check the password with the store; keep only the actor. None on any failure.

    After :data:`FREE_ATTEMPTS` failures in this session each attempt waits a
    little longer (up to 5 s), which slows guessing from one browser.
    """
    failures = int(st.session_state.get(_FAILED_KEY, 0))
    if failures >= FREE_ATTEMPTS:
        time.sleep(min(5.0, 0.5 * (failures - FREE_ATTEMPTS + 1)))
    try:
        actor = store().sign_in(username or "", password or "", client_key=client_key())
    except TooManyAttempts as exc:
        st.warning(str(exc))
        actor = None
    if actor is None:
        st.session_state[_FAILED_KEY] = failures + 1
        return None
    st.session_state[_FAILED_KEY] = 0
    st.session_state[ACTOR_KEY] = actor
    remember_session(actor)
    return actor


def sign_out() -> None:
    """Forget everything this session held (actor, chosen case, forms, cached case).

    After an identity-provider sign-in this also ends Streamlit's identity cookie
    (``st.logout``) and stops the run there: the browser then loads the app afresh,
    signed out. Without that stop, the caller's ``st.rerun()`` would drop the
    logout before it reached the browser, and the identity cookie would sign the
    person straight back in at the next page load.
    """
    forget_session()
    logged_in_elsewhere = identity_logged_in()
    for key in list(st.session_state.keys()):
        del st.session_state[key]
    st.query_params.clear()
    st.session_state["_wayhome_cookie_checked"] = True  # signed out: not back in by cookie
    st.session_state[_OIDC_CHECKED] = True  # nor by the identity provider's cookie
    clear_cookie_next_run()
    if logged_in_elsewhere:
        flush_cookie()  # clear Wayhome's cookie in this run: there is no next one
        st.logout()  # also forget the identity provider's sign-in in this browser
        st.stop()  # a rerun now would discard the logout redirect


def require_actor() -> Actor:
    """The signed-in actor; stops the page with a sign-in prompt if there is none."""
    actor = current_actor()
    if actor is None:
        st.warning("Please sign in to see cases.")
        st.stop()
    return actor


def current_case_id() -> int | None:
    """The case chosen in this session, else the ``?case=`` id from the URL."""
    case_id = st.session_state.get(CASE_KEY)
    if isinstance(case_id, int):
        return case_id
    raw = st.query_params.get("case")
    if raw and raw.isdigit():
        st.session_state[CASE_KEY] = int(raw)
        return int(raw)
    # a coordinator opening a case page afresh (no ?case=) lands on their last case
    recent = _most_recent_case()
    if recent is not None:
        choose_case(recent)
    return recent


def _most_recent_case() -> int | None:
    """The signed-in coordinator's open case changed most recently (None: no case)."""
    actor = current_actor()
    if actor is None or actor.role != "coordinator":
        return None
    try:
        summaries = store().list_cases(actor)
    except StoreError:
        return None
    ongoing = [c for c in summaries if c.status not in ("found", "closed")] or summaries
    return ongoing[0].id if ongoing else None


def choose_case(case_id: int | None) -> None:
    """Work on ``case_id`` from now on (None: no case)."""
    if case_id is None:
        st.session_state.pop(CASE_KEY, None)
        if "case" in st.query_params:
            del st.query_params["case"]
        return
    st.session_state[CASE_KEY] = int(case_id)
    st.query_params["case"] = str(int(case_id))


def show_store_error(exc: Exception) -> None:
    """The store's own message (written for coordinators), as an error box."""
    st.error(str(exc))
