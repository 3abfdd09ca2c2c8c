"""Private links (hashed tokens) and coordinator sessions, sign-in throttling,
sharing settings, family tips and "we searched here" reports.

Revision ID: 0003
Revises: 0002
Create Date: 2026-03-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casefile.types import UTCDateTime

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def _case_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["case_id"], ["cases.id"], name=f"fk_{table}_case_id_cases", ondelete="CASCADE"
    )


def upgrade() -> None:
    op.add_column("users", sa.Column("expires_at", UTCDateTime()))

    op.create_table(
        "access_links",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("team_id", sa.Integer),
        sa.Column("unit_layer", sa.String(8)),
        sa.Column("unit_code", sa.String(40)),
        sa.Column("unit_name", sa.String(120)),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("label", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer),
        sa.Column("created_by_name", sa.String(120), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime()),
        sa.Column("revoked_by_name", sa.String(120)),
        sa.Column("last_used_at", UTCDateTime()),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_access_links"),
        sa.UniqueConstraint("token_hash", name="uq_access_links_token_hash"),
        _case_fk("access_links"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_access_links_user_id_users", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name="fk_access_links_team_id_teams", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_access_links_case_id", "access_links", ["case_id"])
    op.create_index("ix_access_links_user_id", "access_links", ["user_id"])

    op.create_table(
        "login_sessions",
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("last_used_at", UTCDateTime()),
        sa.Column("ended_at", UTCDateTime()),
        sa.PrimaryKeyConstraint("token_hash", name="pk_login_sessions"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_login_sessions_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_login_sessions_user_id", "login_sessions", ["user_id"])

    op.create_table(
        "sign_in_failures",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("client_key", sa.String(64), nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sign_in_failures"),
    )
    op.create_index(
        "ix_sign_in_failures_scope_client_key_at",
        "sign_in_failures",
        ["scope", "client_key", "at"],
    )
    op.create_index("ix_sign_in_failures_at", "sign_in_failures", ["at"])

    op.create_table(
        "case_sharing",
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("family_lkl", sa.Boolean, nullable=False),
        sa.Column("family_delay_min", sa.Integer, nullable=False),
        sa.Column("team_sightings", sa.String(16), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_name", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_sharing"),
        _case_fk("case_sharing"),
    )

    op.create_table(
        "volunteer_reports",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("link_id", sa.Integer),
        sa.Column("sighting_id", sa.Integer),
        sa.Column("sector_id", sa.Integer),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("overlaps", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reviewed_at", UTCDateTime()),
        sa.Column("reviewed_by_name", sa.String(120)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_volunteer_reports"),
        _case_fk("volunteer_reports"),
        sa.ForeignKeyConstraint(
            ["link_id"],
            ["access_links.id"],
            name="fk_volunteer_reports_link_id_access_links",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sighting_id"],
            ["sightings.id"],
            name="fk_volunteer_reports_sighting_id_sightings",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["sector_id"],
            ["sectors.id"],
            name="fk_volunteer_reports_sector_id_sectors",
            ondelete="SET NULL",
        ),
    )
    op.create_index(
        "ix_volunteer_reports_case_id_status", "volunteer_reports", ["case_id", "status"]
    )


def downgrade() -> None:
    for table in (
        "volunteer_reports",
        "case_sharing",
        "sign_in_failures",
        "login_sessions",
        "access_links",
    ):
        op.drop_table(table)
    # Not batch mode: on SQLite that copies ``users`` into a new table and drops the
    # old one, and with foreign keys on the drop cascades to every case membership.
    # SQLite (3.35+) drops the column in place.
    op.drop_column("users", "expires_at")
