"""Sign in: username and password, checked by the store.

The password field is masked, cleared after every attempt, never kept in
session state, never put in the URL and never logged. A failed attempt gets
one message whatever was wrong. Where an identity provider is configured
(``[auth]`` in ``.streamlit/secrets.toml``) a button offers ``st.login`` too.
"""

from __future__ import annotations

import streamlit as st

from app_pages.widgets.session import (
    OIDC_PROBLEM,
    SIGN_IN_FAILED,
    current_actor,
    identity_logged_in,
    identity_provider_missing,
    oidc_providers,
    sign_in,
)

st.title("Sign in")

if current_actor() is not None:
    st.success("You are signed in.")
    st.stop()

st.caption(
    "For search coordinators. Families and search teams use the private link "
    "their coordinator sends them."
)

# Optional: the organisation's identity provider (only where one is configured).
providers = oidc_providers()
if providers:
    problem = st.session_state.get(OIDC_PROBLEM)
    if problem:
        st.error(problem)
    for provider in providers:
        label = f"Sign in with {provider}" if provider else "Sign in with your organisation"
        if st.button(label, type="primary", key=f"oidc_{provider or 'default'}"):
            # e.g. Authlib or its HTTP client missing: say so, keep passwords working
            unavailable = identity_provider_missing()
            if unavailable is None:
                try:
                    st.login(provider)
                except Exception as exc:
                    unavailable = str(exc)
            if unavailable:
                st.error(f"Sign-in with the identity provider is not available: {unavailable}")
    if identity_logged_in() and problem:
        if st.button("Sign out of the organisation's account"):
            st.logout()
    st.caption("Or with your Wayhome username and password:")

with st.form("sign_in", clear_on_submit=True, enter_to_submit=True):
    username = st.text_input("Username", autocomplete="username")
    password = st.text_input("Password", type="password", autocomplete="current-password")
    submitted = st.form_submit_button("Sign in", type="primary")

if submitted:
    with st.spinner("Checking…"):
        actor = sign_in(username, password)
    del password
    if actor is None:
        st.error(SIGN_IN_FAILED)
    else:
        st.rerun()
