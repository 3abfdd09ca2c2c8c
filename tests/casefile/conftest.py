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
import sqlite3
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
    return fresh_store_url(_template, tmp_path)


@pytest.fixture
def store(store_url: str) -> Iterator[Store]:
    s = open_store(store_url)
    yield s
    s.close()


class StoreSnapshot:
    """Every row of a store, saved once and put back before each test that uses it.

    Building a rich case through the store takes seconds (password hashing, boundary
    tagging, probability set-up); a module of tests over the same case builds it once.
    SQLite: an online backup of the file, copied per test. PostgreSQL: a copy of every
    table in a side schema, put back after ``TRUNCATE`` with the id sequences moved on.
    """

    def __init__(self, store_url: str, workdir: Path) -> None:
        self._url = store_url
        self._dir = workdir
        self._made = 0
        if IS_PG:
            self._schema = f"wh_snap_{uuid.uuid4().hex[:10]}"
            engine = sa.create_engine(store_url)
            with engine.begin() as conn:
                conn.exec_driver_sql(f'CREATE SCHEMA "{self._schema}"')
                for table in t.ALL_TABLES:
                    conn.exec_driver_sql(
                        f'CREATE TABLE "{self._schema}"."{table.name}" AS TABLE "{table.name}"')
            engine.dispose()
        else:
            self._file = workdir / "snapshot.sqlite3"
            src = sqlite3.connect(store_url.removeprefix("sqlite:///"))
            dst = sqlite3.connect(self._file)
            with dst:
                src.backup(dst)
            src.close()
            dst.close()

    def restore(self) -> str:
        """A store URL holding exactly the saved rows (a new file on SQLite)."""
        if not IS_PG:
            self._made += 1
            path = self._dir / f"restored-{self._made}.sqlite3"
            shutil.copyfile(self._file, path)
            return f"sqlite:///{path}"
        engine = sa.create_engine(self._url)
        with engine.begin() as conn:
            names = ", ".join(table.name for table in t.ALL_TABLES)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
            for table in t.metadata.sorted_tables:
                if table not in t.ALL_TABLES:
                    continue
                conn.exec_driver_sql(
                    f'INSERT INTO "{table.name}" SELECT * FROM "{self._schema}"."{table.name}"')
                if "id" in table.c and table.c.id.primary_key:
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT max(id) FROM \"{table.name}\"), 1), "
                        f"(SELECT max(id) FROM \"{table.name}\") IS NOT NULL)")
        engine.dispose()
        return self._url

    def drop(self) -> None:
        if IS_PG:
            engine = sa.create_engine(self._url)
            with engine.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA "{self._schema}" CASCADE')
            engine.dispose()


def fresh_store_url(template: str, workdir: Path) -> str:
    """An empty, migrated store (what ``store_url`` gives, for wider-scoped fixtures)."""
    if IS_PG:
        engine = sa.create_engine(template)
        with engine.begin() as conn:
            names = ", ".join(table.name for table in t.ALL_TABLES)
            conn.exec_driver_sql(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
        engine.dispose()
        return template
    path = workdir / "wayhome.sqlite3"
    shutil.copyfile(template, path)
    return f"sqlite:///{path}"


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
