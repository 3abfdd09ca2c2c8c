"""Sign out: forget this browser session's sign-in and everything it held."""

from __future__ import annotations

import streamlit as st

from app_pages.widgets.session import sign_out

sign_out()
st.rerun()
