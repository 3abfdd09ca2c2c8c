"""Store fixtures: the backend comes from DATABASE_URL, exactly as the app picks it.

* unset / empty -> SQLite: each test gets its own file, copied from a template
  migrated once per session (fast, and every test starts from an empty store).
* ``postgresql://…`` -> PostgreSQL + PostGIS: the session migrates a private
  schema (``search_path=<schema>,public``; PostGIS lives in ``public``) and each
  test starts from truncated tables. The schema is dropped at the end.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
import sqlalchemy as sa

from casefile import Actor, Store, open_store, utcnow
from casefile import schema as t

BACKEND_URL = (
    os.environ.get("WAYHOME_DATABASE_URL") or os.environ.get("DATABASE_URL") or ""
).strip()
IS_PG = BACKEND_URL.startswith(("postgresql", "postgres:"))
PASSWORD = "correct horse battery staple"


def pg_admin_url(url: str = BACKEND_URL) -> str:
    """The SQLAlchemy URL for the same server and database, no schema options."""
    return "postgresql+psycopg://" + url.split("://", 1)[1].split("?", 1)[0]


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    if IS_PG:
        schema = f"wh_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
        admin = sa.create_engine(pg_admin_url())
        with admin.begin() as conn:
            conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS postgis")
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = pg_admin_url() + "?options=" + quote(f"-csearch_path={schema},public")
        open_store(url).close()
        yield url
        with admin.begin() as conn:
            conn.exec_driver_sql(f'DROP SCHEMA "{schema}" CASCADE')
        admin.dispose()
    else:
        path = tmp_path_factory.mktemp("store") / "template.sqlite3"
        open_store(f"sqlite:///{path}").close()
        yield str(path)


@pytest.fixture
def store_url(_template: str, tmp_path: Path) -> str:
    """An empty, migrated store for this test only."""
    if IS_PG:
        engine = sa.create_engine(_template)
        with engine.begin() as conn:
            names = ", ".join(table.name for table in t.ALL_TABLES)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        engine.dispose()
        return _template
    path = tmp_path / "wayhome.sqlite3"
    shutil.copyfile(_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


def make_coordinator(store: Store, username: str = "coord.a", name: str = "Coordinator A") -> Actor:
    user = store.create_user(Actor.system("test"), username, name, PASSWORD)
    return Actor(user_id=user.id, display_name=user.display_name, role="coordinator")


def make_case(store: Store, actor: Actor, reference: str = "CASE-A", **overrides) -> object:
    fields = dict(
        reference=reference,
        child_name="Robin",
        age=13,
        risk="high",
        reported_missing_at=utcnow() - timedelta(hours=6),
        ipp=(51.5074, -0.1278),
        home=(51.5155, -0.0922),
        description="Green school jumper, grey rucksack",
        notes="Likes the river path",
    )
    fields.update(overrides)
    return store.create_case(actor, **fields)


def sighting_kwargs(**overrides) -> dict:
    kw = dict(
        lat=51.5033,
        lon=-0.1196,
        seen_at=utcnow() - timedelta(hours=2),
        source="public",
        confidence="medium",
        status="unverified",
        reported_by="Sam Passer-by",
        reporter_contact="07700 900123",
        description="Boy in green jumper by the river",
    )
    kw.update(overrides)
    return kw


def count_rows(store: Store, table: sa.Table) -> int:
    with store.engine.connect() as conn:
        return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()


@pytest.fixture
def coord(store: Store) -> Actor:
    return make_coordinator(store)


@pytest.fixture
def case(store: Store, coord: Actor):
    return make_case(store, coord)


@pytest.fixture
def team(store, coord, case):
    """Team Red (a Met BCU team of six) on the case; test_links has its own."""
    return store.create_team(coord, case.id, name="Team Red", org_type="met_bcu", size=6)
