"""A fresh store for one browser-test module, on the backend the run names.

``DATABASE_URL`` (or ``WAYHOME_DATABASE_URL``) set to ``postgresql://…`` — the
PostGIS run of ``scripts/test`` — gives a private schema on that server
(``search_path=<schema>,public``; PostGIS lives in ``public``), dropped
afterwards; otherwise a SQLite file in a temporary folder. The app under test
is started with ``WAYHOME_DATABASE_URL`` set to the URL yielded here, so the
browser drives the same backend the store tests run on.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import sqlalchemy as sa

BACKEND_URL = (os.environ.get("WAYHOME_DATABASE_URL") or os.environ.get("DATABASE_URL")
               or "").strip()
IS_PG = BACKEND_URL.startswith(("postgresql", "postgres:"))


def _server_url() -> str:
    return "postgresql+psycopg://" + BACKEND_URL.split("://", 1)[1].split("?", 1)[0]


@contextlib.contextmanager
def module_store_url(tag: str) -> Iterator[str]:
    """Yield the URL of an empty store (migrated on first open) for one test module."""
    if IS_PG:
        schema = f"wh_{tag}_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(_server_url())
        with admin.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        try:
            yield _server_url() + "?options=" + quote(f"-csearch_path={schema},public")
        finally:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
            admin.dispose()
    else:
        workdir = Path(tempfile.mkdtemp(prefix=f"wayhome-{tag}-"))
        try:
            yield f"sqlite:///{workdir / 'wayhome.sqlite3'}"
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
