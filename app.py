"""Serve Wayhome: ``streamlit run app.py`` (``bash scripts/demo`` does it for you).

``dashboard.py`` is the app; this wraps Streamlit's server around it with the
middleware that adds the security headers to every response and sets the
``HttpOnly`` session cookie (:mod:`app_pages.widgets.http_security`), and the one
that tells waiting live views their case changed (:mod:`app_pages.widgets.change_push`). Streamlit
has no header setting, and ``st.App``'s ``middleware=`` is its supported hook:
installed here, it is in place before the first request is answered.
"""

from __future__ import annotations

import streamlit as st
from starlette.middleware import Middleware

from app_pages.widgets.change_push import ChangePush
from app_pages.widgets.http_security import SecurityHeaders

app = st.App("dashboard.py", middleware=[Middleware(SecurityHeaders), Middleware(ChangePush)])
