"""The case's rendezvous point: where teams meet, set by a coordinator (one row per case).

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casefile.types import UTCDateTime

revision = "0013"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_rendezvous",
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("place", sa.String(100), nullable=False),
        sa.Column("words", sa.String(200), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_name", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_rendezvous"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name="fk_case_rendezvous_case_id_cases", ondelete="CASCADE"),
    )


def downgrade() -> None:
    op.drop_table("case_rendezvous")
