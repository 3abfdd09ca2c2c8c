"""The migrations build exactly the tables the store queries, on either backend."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from casefile import open_store
from casefile import schema as t
from casefile.engine import current_revision, head_revision

pytestmark = pytest.mark.db


def test_migrated_database_matches_the_table_definitions(store):
    inspector = sa.inspect(store.engine)
    for table in t.metadata.sorted_tables:
        columns = {c["name"]: c for c in inspector.get_columns(table.name)}
        assert set(columns) == {c.name for c in table.columns}, table.name
        for column in table.columns:
            if column.primary_key:
                continue
            assert columns[column.name]["nullable"] == column.nullable, (table.name, column.name)
        declared = {i.name for i in table.indexes}
        present = {i["name"] for i in inspector.get_indexes(table.name)}
        assert declared <= present, (table.name, declared - present)


def test_upgrade_is_repeatable_and_at_head(store_url):
    store = open_store(store_url)
    assert current_revision(store.engine) == head_revision()
    store.close()
    again = open_store(store_url)  # a second start-up migrates nothing and fails nothing
    assert current_revision(again.engine) == head_revision()
    again.close()


def test_sqlite_pragmas_and_postgis_geometry(store):
    with store.engine.connect() as conn:
        if store.backend == "sqlite":
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 5000
        else:
            rows = conn.exec_driver_sql(
                "SELECT f_table_name, f_geometry_column, type, srid FROM geometry_columns "
                "WHERE f_table_schema = current_schema()"
            ).all()
            assert set(rows) >= {
                ("cases", "home_geom", "POINT", 4326),
                ("cases", "ipp_geom", "POINT", 4326),
                ("sightings", "geom", "POINT", 4326),
            }


def test_foreign_keys_are_enforced(store):
    with pytest.raises(sa.exc.IntegrityError), store.engine.begin() as conn:
        conn.execute(t.case_change.insert().values(case_id=12345, n=1))
