"""Alembic environment: runs on the connection the store hands over (see casefile.engine).

On SQLite, batch mode changes a table by re-creating it: the old table is
dropped, and with foreign keys on that drop first deletes its rows and cascades
into every child table. Foreign keys are therefore off while the migrations
run (a PRAGMA that only works outside a transaction, hence on the driver's
connection before the migration's transaction begins), checked when they
commit, and on again before the connection goes back to the pool.
"""

from __future__ import annotations

from alembic import context

from casefile.engine import version_table_schema

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - the store always passes its connection
    raise RuntimeError("Run migrations through `wayhome db upgrade` (casefile.engine.upgrade).")

context.configure(
    connection=connection,
    target_metadata=None,
    render_as_batch=connection.dialect.name == "sqlite",
    transaction_per_migration=False,
    version_table_schema=version_table_schema(connection),
)

if connection.dialect.name == "sqlite" and not connection.in_transaction():
    driver = connection.connection.driver_connection
    driver.execute("PRAGMA foreign_keys = OFF")
    try:
        with context.begin_transaction():
            context.run_migrations()
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
        if broken is not None:
            raise RuntimeError(f"A migration left a row pointing at nothing: {tuple(broken)}")
        connection.commit()
    finally:
        if connection.in_transaction():
            connection.rollback()
        driver.execute("PRAGMA foreign_keys = ON")
else:
    with context.begin_transaction():
        context.run_migrations()
