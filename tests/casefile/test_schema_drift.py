"""One source for the schema: the migrations build exactly ``casefile/schema.py``.

Alembic's autogenerate comparison (the diff ``alembic revision --autogenerate``
would write) runs between a freshly migrated database and the table definitions,
on SQLite and, with DATABASE_URL set, on PostgreSQL + PostGIS; any difference
(tables, columns, types, nullability, indexes, unique and foreign keys with their
ON DELETE, server defaults) fails. Autogenerate does not compare CHECK expressions
or SQLite's AUTOINCREMENT; the latter is checked here by hand.

Every migration must also undo cleanly, keeping the rows of the tables it did not
create, and the database must work again after redoing them all.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from shapely.geometry import box

from casefile import open_store
from casefile import schema as t
from casefile.engine import (
    current_revision,
    downgrade,
    head_revision,
    make_engine,
    migration_revisions,
    upgrade,
)
from casefile.types import Geom
from tests.browser.stores import module_store_url
from tests.casefile.conftest import IS_PG, make_case, make_coordinator, sighting_kwargs

pytestmark = pytest.mark.db

#: the tables of a PostgreSQL schema that belong to us: not an extension's (PostGIS
#: puts ``spatial_ref_sys`` in the schema it is created in), not another schema's
#: that the search path makes visible
_OWN_PG_TABLES = """
    SELECT c.relname FROM pg_class c
    WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind IN ('r', 'p')
      AND NOT EXISTS (
          SELECT 1 FROM pg_depend d
          WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid AND d.deptype = 'e'
      )
"""


def _own_tables(conn: sa.Connection) -> set[str]:
    """The tables of the database (on PostgreSQL: of its current schema, none of PostGIS)."""
    if conn.dialect.name == "postgresql":
        return set(conn.exec_driver_sql(_OWN_PG_TABLES).scalars())
    return set(sa.inspect(conn).get_table_names())


@pytest.fixture(scope="module")
def migrated() -> Iterator[sa.Engine]:
    """A fresh database migrated to head (read only: shared by this module's tests)."""
    with module_store_url("drift") as url:
        engine = make_engine(url)
        upgrade(engine)
        yield engine
        engine.dispose()


def _flat(diff: list[Any]) -> list[tuple]:
    """compare_metadata's answer as one list (column changes come grouped in lists)."""
    out: list[tuple] = []
    for item in diff:
        out.extend(item if isinstance(item, list) else [item])
    return out


def schema_diff(engine: sa.Engine, metadata: sa.MetaData = t.metadata) -> list[tuple]:
    """What autogenerate would change to turn the database into ``metadata`` ([] = none)."""
    with engine.connect() as conn:
        own = _own_tables(conn)

        def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
            return type_ != "table" or name in own

        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": True,
                "include_name": include_name,
            },
        )
        diff = _flat(compare_metadata(context, metadata))
        if conn.dialect.name == "sqlite":
            # AUTOINCREMENT (ids never reused) is invisible to autogenerate
            made = {
                name
                for name, sql in conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_master WHERE type = 'table'"
                )
                if "AUTOINCREMENT" in (sql or "").upper()
            }
            declared = {
                table.name
                for table in metadata.tables.values()
                if table.dialect_options["sqlite"]["autoincrement"]
            }
            diff += [("sqlite_autoincrement", name) for name in sorted(made ^ declared)]
    return diff


def test_the_migrated_database_is_exactly_schema_py(migrated):
    assert current_revision(migrated) == head_revision()
    assert schema_diff(migrated) == []


def _copy() -> sa.MetaData:
    md = sa.MetaData(naming_convention=dict(t.metadata.naming_convention))
    for table in t.metadata.sorted_tables:
        table.to_metadata(md)
    return md


def _nullable(md: sa.MetaData) -> None:
    md.tables["sightings"].c.ward.nullable = False


def _length(md: sa.MetaData) -> None:
    md.tables["sightings"].c.source.type = sa.String(33)


def _on_delete(md: sa.MetaData) -> None:
    (fk,) = md.tables["sightings"].foreign_key_constraints
    fk.ondelete = "SET NULL"


def _index(md: sa.MetaData) -> None:
    sa.Index("ix_sightings_lat", md.tables["sightings"].c.lat)


def _server_default(md: sa.MetaData) -> None:
    md.tables["sightings"].c.ward.server_default = sa.DefaultClause("x")


def _table(md: sa.MetaData) -> None:
    sa.Table("briefings", md, sa.Column("id", sa.Integer, primary_key=True))


def _autoincrement(md: sa.MetaData) -> None:
    md.tables["teams"].dialect_options["sqlite"]["autoincrement"] = True


def _geometry_type(md: sa.MetaData) -> None:
    md.tables["sightings"].c.geom.type = Geom("POLYGON")


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (_nullable, "modify_nullable"),
        (_length, "modify_type"),
        (_on_delete, "add_fk"),
        (_index, "add_index"),
        (_server_default, "modify_default"),
        (_table, "add_table"),
        pytest.param(
            _autoincrement,
            "sqlite_autoincrement",
            marks=pytest.mark.skipif(IS_PG, reason="SQLite's AUTOINCREMENT"),
        ),
        pytest.param(
            _geometry_type,
            "modify_type",
            marks=pytest.mark.skipif(not IS_PG, reason="a BLOB on SQLite, whatever the shape"),
        ),
    ],
    ids=lambda v: getattr(v, "__name__", v).strip("_"),
)
def test_the_comparison_sees_each_kind_of_drift(migrated, change, expected):
    md = _copy()
    change(md)
    assert expected in {d[0] for d in schema_diff(migrated, md)}


def _counts(engine: sa.Engine) -> dict[str, int]:
    """Rows per table of schema.py that the database has."""
    with engine.connect() as conn:
        present = _own_tables(conn) & set(t.metadata.tables)
        return {
            name: conn.execute(
                sa.select(sa.func.count()).select_from(t.metadata.tables[name])
            ).scalar_one()
            for name in sorted(present)
        }


def test_every_migration_undoes_and_redoes():
    with module_store_url("undo") as url:
        store = open_store(url)
        coord = make_coordinator(store)
        case = make_case(store, coord)
        store.add_sighting(coord, case.id, **sighting_kwargs())
        team = store.create_team(coord, case.id, name="Team 1", org_type="volunteer_group")
        sector = store.create_sector(coord, case.id, geometry=box(-0.13, 51.50, -0.12, 51.51))
        store.assign_sector(coord, sector.id, team.id, version=sector.version)
        store.close()

        engine = make_engine(url)
        try:
            # one step at a time: each undo keeps the rows of the tables it did not make
            revisions = migration_revisions()
            for target in [*reversed(revisions[:-1]), "base"]:
                before = _counts(engine)
                assert downgrade(engine, target) == (None if target == "base" else target)
                after = _counts(engine)
                assert after == {name: before[name] for name in after}, target
            assert _counts(engine) == {}

            assert upgrade(engine) == head_revision()
            assert schema_diff(engine) == []
            assert _counts(engine) == {name: 0 for name in t.metadata.tables}
        finally:
            engine.dispose()

        again = open_store(url)
        try:
            coord = make_coordinator(again)
            case = make_case(again, coord)
            assert [c.reference for c in again.list_cases(coord)] == [case.reference]
        finally:
            again.close()
