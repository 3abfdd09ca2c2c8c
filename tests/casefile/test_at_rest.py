"""Data at rest: owner-only store files, no SQL parameters in messages or logs, and a
PostgreSQL purge that leaves no personal value in the raw table files."""

from __future__ import annotations

import logging
import stat
import traceback
from pathlib import Path

import pytest
import sqlalchemy as sa

from casefile import Actor, StoreError, open_store
from casefile.unit_of_work import run
from tests.casefile.conftest import IS_PG, make_coordinator
from tests.casefile.test_purge import PERSONAL, _fill

SECRET = "parameter-value-that-must-not-leak-7f3a"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.skipif(IS_PG, reason="the SQLite file")
def test_sqlite_store_wal_and_backup_are_owner_only(tmp_path):
    folder = tmp_path / "new" / "store"
    path = folder / "wayhome.sqlite3"
    store = open_store(f"sqlite:///{path}")
    try:
        make_coordinator(store)  # a write: the write-ahead log and shared memory exist
        wal, shm = Path(f"{path}-wal"), Path(f"{path}-shm")
        assert wal.exists() and shm.exists()
        assert _mode(folder) == 0o700
        assert {_mode(p) for p in (path, wal, shm)} == {0o600}
        copy = store.backup(tmp_path / "backups")
        assert _mode(copy) == 0o600 and _mode(tmp_path / "backups") == 0o700
    finally:
        store.close()


def test_a_failing_statement_carries_no_parameter_values(store, caplog):
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")
    with pytest.raises(sa.exc.DBAPIError) as caught, store.engine.connect() as conn:
        conn.execute(sa.text("SELECT * FROM no_such_table WHERE x = :v"), {"v": SECRET})
    assert SECRET not in str(caught.value) and SECRET not in caplog.text
    assert "parameters hidden" in str(caught.value)


def _insert_bad_row(db, value: str) -> None:
    with db.engine.begin() as conn:  # no reference NOT NULL value: the database refuses
        conn.execute(sa.text("INSERT INTO cases (id, child_name) VALUES (1, :v)"), {"v": value})


def test_a_database_error_reaches_page_and_log_without_stored_values(store, caplog):
    """PostgreSQL's own error text quotes the row ("Failing row contains ..."): the
    store's error carries none of it, in its message, its chain or the log."""
    caplog.set_level(logging.DEBUG)
    with pytest.raises(StoreError) as caught:
        run(_insert_bad_row, store.db, SECRET)
    shown = "".join(traceback.format_exception(caught.value))
    assert SECRET not in shown and SECRET not in caplog.text
    assert "nothing was saved" in str(caught.value)


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL's connection pool")
def test_postgresql_pings_pooled_connections(store):
    assert store.engine.pool._pre_ping is True


def _relation_files(conn: sa.Connection) -> list[Path]:
    """Every file (all segments) of every table, TOAST table and index of the store's schema."""
    data_dir = Path(conn.exec_driver_sql("SHOW data_directory").scalar_one())
    rels = conn.exec_driver_sql(
        "SELECT pg_relation_filepath(c.oid) FROM pg_class c "
        "WHERE c.relkind IN ('r', 't', 'i', 'm') AND c.relfilenode <> 0 AND ("
        " c.relnamespace = current_schema()::regnamespace"
        " OR c.oid IN (SELECT reltoastrelid FROM pg_class"
        "              WHERE relnamespace = current_schema()::regnamespace)"
        " OR c.oid IN (SELECT indexrelid FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
        "              WHERE t.relnamespace = current_schema()::regnamespace"
        "                 OR t.oid IN (SELECT reltoastrelid FROM pg_class"
        "                       WHERE relnamespace = current_schema()::regnamespace)))"
    ).scalars()
    files: list[Path] = []
    for rel in rels:
        base = data_dir / rel  # segments past 1 GB are base.1, base.2, ...
        files += [base, *base.parent.glob(base.name + ".[0-9]*")]
    return [p for p in files if p.is_file()]


def _raw_hits(store) -> set[str]:
    with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("CHECKPOINT")  # what is in shared buffers reaches the files
        files = _relation_files(conn)
    assert files
    blob = b"".join(p.read_bytes() for p in files)
    return {v for v in PERSONAL if v.encode() in blob}


@pytest.mark.skipif(not IS_PG, reason="PostgreSQL's table files")
def test_postgresql_purge_leaves_no_personal_value_in_the_table_files(store, coord):
    case, *_ = _fill(store, coord)
    try:
        before = _raw_hits(store)
    except PermissionError:
        pytest.skip("the server's data directory is not readable here")
    assert len(before) >= len(PERSONAL) - 2, "the scan does not see the table files"
    case = store.update_case(coord, case.id, version=case.version, status="closed")
    store.purge_case(Actor.system("test"), case.id, force=True)
    assert _raw_hits(store) == set()


@pytest.mark.skipif(IS_PG, reason="the SQLite file")
def test_sqlite_purge_leaves_no_personal_value_in_the_file(store, coord, store_url):
    case, *_ = _fill(store, coord)
    path = Path(sa.engine.make_url(store_url).database)

    def hits() -> set[str]:
        blob = b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal")) if p.exists())
        return {v for v in PERSONAL if v.encode() in blob}

    assert len(hits()) >= len(PERSONAL) - 2
    case = store.update_case(coord, case.id, version=case.version, status="closed")
    store.purge_case(Actor.system("test"), case.id, force=True)
    assert hits() == set()
