"""How each case's POA treats the child between searches: stationary or moving.

One row per case (none: stationary, today's behaviour). The model word is held
to the registry by ``ck_case_motion_model``, written out here as it stood when
this migration was made.

Revision ID: 0008
Revises: 0007
Create Date: 2026-03-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casefile.types import UTCDateTime

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_MODELS = ("stationary", "moving")


def upgrade() -> None:
    op.create_table(
        "case_motion",
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("model", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_name", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_motion"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"],
                                name="fk_case_motion_case_id_cases", ondelete="CASCADE"),
        sa.CheckConstraint(
            f"model IN ({', '.join(repr(w) for w in _MODELS)})", name="ck_case_motion_model"
        ),
    )


def downgrade() -> None:
    op.drop_table("case_motion")
