"""Alembic environment: runs on the connection the store hands over (see casefile.engine)."""

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
with context.begin_transaction():
    context.run_migrations()
