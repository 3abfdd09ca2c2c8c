"""Each pass's POD per POA grid cell, kept so a late track recomputes only its own pass.

Revision ID: 0005
Revises: 0004
Create Date: 2026-03-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pass_cell_pods",
        sa.Column("pass_id", sa.Integer, nullable=False),
        sa.Column("cell_m", sa.Float, nullable=False),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("pass_version", sa.Integer, nullable=False),
        sa.Column("cells", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("pass_id", "cell_m", name="pk_pass_cell_pods"),
        sa.ForeignKeyConstraint(["pass_id"], ["passes.id"],
                                name="fk_pass_cell_pods_pass_id_passes", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name="fk_pass_cell_pods_case_id_cases", ondelete="CASCADE"),
    )
    op.create_index("ix_pass_cell_pods_case_id", "pass_cell_pods", ["case_id"])


def downgrade() -> None:
    op.drop_table("pass_cell_pods")
