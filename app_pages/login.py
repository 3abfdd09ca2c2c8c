"""Sign in: username and password, checked by the store.

The password field is masked, cleared after every attempt, never kept in
session state, never put in the URL and never logged. A failed attempt gets
one message whatever was wrong.
"""

from __future__ import annotations

import streamlit as st

from app_pages.session import SIGN_IN_FAILED, current_actor, sign_in

st.title("Sign in")

if current_actor() is not None:
    st.success("You are signed in.")
    st.stop()

st.caption(
    "For search coordinators. Families and search teams use the private link "
    "their coordinator sends them."
)

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
