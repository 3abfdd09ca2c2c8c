"""Streets loaded from an OpenStreetMap extract (used on PostgreSQL; SQLite keeps them in
a GeoParquet file beside the database).

The kind word is held to the registry by ``ck_street_lines_kind``, written out here as
it stood when this migration was made.

Revision ID: 0009
Revises: 0008
Create Date: 2026-03-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casefile.types import Geom

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_KINDS = ("road", "path", "rail", "water")


def upgrade() -> None:
    op.create_table(
        "street_lines",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("major", sa.Boolean, nullable=False),
        sa.Column("ground", sa.Boolean, nullable=False),
        sa.Column("geom", Geom("LINESTRING"), nullable=False),
        sa.Column("minx", sa.Float, nullable=False),
        sa.Column("miny", sa.Float, nullable=False),
        sa.Column("maxx", sa.Float, nullable=False),
        sa.Column("maxy", sa.Float, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_street_lines"),
        sa.CheckConstraint(
            f"kind IN ({', '.join(repr(w) for w in _KINDS)})", name="ck_street_lines_kind"
        ),
    )
    op.create_index("ix_street_lines_minx_maxx", "street_lines", ["minx", "maxx"])


def downgrade() -> None:
    op.drop_table("street_lines")
