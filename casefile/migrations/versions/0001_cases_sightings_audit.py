"""Accounts, cases, case members, sightings, the audit log and the change counter.

Revision ID: 0001
Revises:
Create Date: 2026-03-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casefile.types import Geom, UTCDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

BigId = sa.BigInteger().with_variant(sa.Integer, "sqlite")


def upgrade() -> None:
    bind = op.get_bind()
    pg = bind.dialect.name == "postgresql"
    if pg:
        op.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    op.create_table(
        "users",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("display_name", sa.String(120), nullable=False),
        sa.Column("password_hash", sa.String(255), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_name", sa.String(120), nullable=False),
        sa.Column("last_login_at", UTCDateTime()),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("username", name="uq_users_username"),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("child_name", sa.String(80), nullable=False),
        sa.Column("age", sa.Integer),
        sa.Column("risk", sa.String(40), nullable=False),
        sa.Column("reported_missing_at", UTCDateTime(), nullable=False),
        sa.Column("home_geom", Geom("POINT")),
        sa.Column("home_lon", sa.Float),
        sa.Column("home_lat", sa.Float),
        sa.Column("ipp_geom", Geom("POINT"), nullable=False),
        sa.Column("ipp_lon", sa.Float, nullable=False),
        sa.Column("ipp_lat", sa.Float, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_changed_at", UTCDateTime()),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer),
        sa.Column("updated_by_name", sa.String(120), nullable=False),
        sa.Column("purged_at", UTCDateTime()),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        sa.UniqueConstraint("reference", name="uq_cases_reference"),
    )
    op.create_table(
        "case_change",
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_change"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_change_case_id_cases", ondelete="CASCADE"
        ),
    )
    op.create_table(
        "case_member",
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.Integer, nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("added_at", UTCDateTime(), nullable=False),
        sa.Column("added_by_name", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "user_id", name="pk_case_member"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_case_member_case_id_cases", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_case_member_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_case_member_user_id", "case_member", ["user_id"])
    op.create_table(
        "sightings",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("geom", Geom("POINT"), nullable=False),
        sa.Column("lon", sa.Float, nullable=False),
        sa.Column("lat", sa.Float, nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=False),
        sa.Column("source", sa.String(32), nullable=False),
        sa.Column("confidence", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reported_by", sa.String(120), nullable=False),
        sa.Column("reporter_contact", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("borough", sa.String(80)),
        sa.Column("borough_code", sa.String(16)),
        sa.Column("bcu", sa.String(80)),
        sa.Column("force", sa.String(80)),
        sa.Column("ward", sa.String(120)),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer),
        sa.Column("updated_by_name", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_sightings"),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name="fk_sightings_case_id_cases", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_sightings_case_id_seen_at", "sightings", ["case_id", "seen_at"])
    op.create_index(
        "ix_sightings_case_id_status_seen_at", "sightings", ["case_id", "status", "seen_at"]
    )
    op.create_table(
        "audit_log",
        sa.Column("id", BigId, primary_key=True),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.Column("actor_id", sa.Integer),
        sa.Column("actor_name", sa.String(120), nullable=False),
        sa.Column("actor_role", sa.String(32), nullable=False),
        sa.Column("case_id", sa.Integer),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.Integer),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("fields", sa.JSON, nullable=False),
        sa.Column("changes", sa.JSON, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_case_id_id", "audit_log", ["case_id", "id"])
    op.create_index(
        "ix_audit_log_case_id_entity_entity_id", "audit_log", ["case_id", "entity", "entity_id"]
    )
    op.create_index("ix_audit_log_case_id_actor_id", "audit_log", ["case_id", "actor_id"])
    op.create_table(
        "audit_detail",
        sa.Column("audit_id", BigId, nullable=False),
        sa.Column("case_id", sa.Integer),
        sa.Column("reason", sa.Text),
        sa.Column("personal", sa.JSON),
        sa.PrimaryKeyConstraint("audit_id", name="pk_audit_detail"),
        sa.ForeignKeyConstraint(
            ["audit_id"], ["audit_log.id"], name="fk_audit_detail_audit_id_audit_log"
        ),
    )
    op.create_index("ix_audit_detail_case_id", "audit_detail", ["case_id"])
    op.create_table(
        "idempotency",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("entity", sa.String(32), nullable=False),
        sa.Column("entity_id", sa.Integer, nullable=False),
        sa.Column("case_id", sa.Integer),
        sa.Column("actor_id", sa.Integer),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_idempotency"),
    )

    if pg:
        for table, column in (("cases", "ipp_geom"), ("sightings", "geom")):
            op.execute(f"CREATE INDEX ix_{table}_{column}_gist ON {table} USING gist ({column})")
        # The audit log is append-only: refuse UPDATE and DELETE at the database.
        op.execute(
            """
            CREATE FUNCTION wayhome_audit_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'the audit log is append-only';
            END;
            $$
            """
        )
        op.execute(
            "CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log "
            "FOR EACH ROW EXECUTE FUNCTION wayhome_audit_append_only()"
        )
    else:
        for action in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER audit_log_no_{action.lower()} BEFORE {action} ON audit_log "
                "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
            )


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS audit_log_append_only ON audit_log")
        op.execute("DROP FUNCTION IF EXISTS wayhome_audit_append_only()")
    for table in (
        "idempotency",
        "audit_detail",
        "audit_log",
        "sightings",
        "case_member",
        "case_change",
        "cases",
        "users",
    ):
        op.drop_table(table)
