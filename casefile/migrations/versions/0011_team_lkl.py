"""Whether team leads see the case's last-known location (one flag per case's sharing).

Existing sharing rows get ``true``: the last-known location is shown to team leads
unless the coordinator turns it off.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "case_sharing",
        sa.Column("team_lkl", sa.Boolean, nullable=False, server_default=sa.true()),
    )


def downgrade() -> None:
    with op.batch_alter_table("case_sharing") as batch:
        batch.drop_column("team_lkl")
