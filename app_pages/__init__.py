"""Floor 3: one Streamlit page per role, UI only (see ``dashboard.py`` for the router)."""
