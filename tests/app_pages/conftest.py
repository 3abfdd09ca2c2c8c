"""The store fixtures of tests/casefile, for page widgets that need a real store."""

from tests.casefile.conftest import _template, case, coord, store, store_url  # noqa: F401
