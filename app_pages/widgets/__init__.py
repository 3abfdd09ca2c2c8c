"""Shared parts of the pages: session, forms, maps and panels used by more than one page.

Nothing here is a page: the pages routed by ``dashboard.py`` sit one folder up.
"""
