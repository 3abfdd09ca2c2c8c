"""Drop the PostGIS GiST indexes: no query reads geometry through them.

Every spatial read narrows by ``case_id`` (and the ``minx``/``maxx`` box columns)
and does the geometry work in ``geo`` with shapely and STRtree, the same on both
backends, so the five GiST indexes only slowed every write of a sector, hazard,
track, sighting or case. ``casefile/schema.py`` never declared them; now the
migrated database and the table definitions agree (``tests/casefile/test_schema_drift.py``).

Revision ID: 0006
Revises: 0005
Create Date: 2026-03-05
"""

from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

#: (table, geometry column) of each GiST index migrations 0001, 0002 and 0004 made
GIST_INDEXED = (
    ("cases", "ipp_geom"),
    ("sightings", "geom"),
    ("sectors", "geom"),
    ("hazards", "geom"),
    ("tracks", "geom"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in GIST_INDEXED:
        op.drop_index(f"ix_{table}_{column}_gist", table_name=table)


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, column in GIST_INDEXED:
        op.create_index(f"ix_{table}_{column}_gist", table, [column], postgresql_using="gist")
