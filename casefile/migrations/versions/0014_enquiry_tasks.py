"""Enquiry tasks: places and streets teams go to (house-to-house, CCTV, visits, checks).

The kind, status and side words are held to the registry (``vocab.task_types``) by
CHECK constraints, written out here as they stood when this migration was made.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casefile.types import Geom, UTCDateTime

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

_KINDS = (
    "house_to_house", "cctv", "visit_friend", "visit_relative", "visit_placement",
    "visit_other", "hospital_check", "station_check", "place_check",
)
_STATUSES = ("planned", "assigned", "done", "no_trace", "not_possible")
_SIDES = ("both", "odd", "even")


def _in(column: str, words: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(w) for w in words)})"


def upgrade() -> None:
    op.create_table(
        "tasks",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_changed_at", UTCDateTime(), nullable=False),
        sa.Column("team_id", sa.Integer, nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("result_note", sa.Text, nullable=False),
        sa.Column("address", sa.Text, nullable=False),
        sa.Column("postcode", sa.String(10), nullable=False),
        sa.Column("street", sa.String(200), nullable=False),
        sa.Column("side", sa.String(8)),
        sa.Column("route", sa.String(40), nullable=False),
        sa.Column("window_start", UTCDateTime()),
        sa.Column("window_end", UTCDateTime()),
        sa.Column("geom", Geom("GEOMETRY")),
        sa.Column("lon", sa.Float),
        sa.Column("lat", sa.Float),
        sa.Column("premises_key", sa.String(300)),
        sa.Column("street_key", sa.String(220)),
        sa.Column("cell", sa.BigInteger),
        sa.Column("borough_code", sa.String(16)),
        sa.Column("bcu_code", sa.String(40)),
        sa.Column("force_code", sa.String(16)),
        sa.Column("repeat_kept_reason", sa.Text, nullable=False),
        sa.Column("change_n", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer),
        sa.Column("updated_by_name", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tasks"),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name="fk_tasks_case_id_cases",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_tasks_team_id_teams",
                                ondelete="SET NULL"),
        sa.UniqueConstraint("case_id", "number", name="uq_tasks_case_id_number"),
        sa.CheckConstraint(_in("kind", _KINDS), name="ck_tasks_kind"),
        sa.CheckConstraint(_in("status", _STATUSES), name="ck_tasks_status"),
        sa.CheckConstraint(_in("side", _SIDES), name="ck_tasks_side"),
    )
    op.create_index("ix_tasks_case_id_premises_key", "tasks", ["case_id", "premises_key"])
    op.create_index("ix_tasks_case_id_street_key", "tasks", ["case_id", "street_key"])
    op.create_index("ix_tasks_case_id_cell", "tasks", ["case_id", "cell"])
    op.create_index("ix_tasks_team_id", "tasks", ["team_id"])


def downgrade() -> None:
    op.drop_table("tasks")
