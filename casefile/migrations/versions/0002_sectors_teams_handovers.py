"""Search sectors, teams, hazard areas and handovers between units.

Revision ID: 0002
Revises: 0001
Create Date: 2026-03-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casefile.types import Geom, UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _stamps() -> list[sa.Column]:
    return [
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer),
        sa.Column("updated_by_name", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
    ]


def _box() -> list[sa.Column]:
    return [
        sa.Column("minx", sa.Float, nullable=False),
        sa.Column("miny", sa.Float, nullable=False),
        sa.Column("maxx", sa.Float, nullable=False),
        sa.Column("maxy", sa.Float, nullable=False),
        sa.Column("area_m2", sa.Float, nullable=False),
    ]


def _case_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["case_id"], ["cases.id"], name=f"fk_{table}_case_id_cases", ondelete="CASCADE"
    )


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"

    op.create_table(
        "teams",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("org_type", sa.String(32), nullable=False),
        sa.Column("lead_name", sa.String(120), nullable=False),
        sa.Column("size", sa.Integer),
        sa.Column("contact", sa.Text, nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_teams"),
        sa.UniqueConstraint("case_id", "name", name="uq_teams_case_id_name"),
        _case_fk("teams"),
    )
    op.create_table(
        "sector_counter",
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("next_n", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_sector_counter"),
        _case_fk("sector_counter"),
    )
    op.create_table(
        "sectors",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("priority", sa.Integer, nullable=False),
        sa.Column("notes", sa.Text, nullable=False),
        sa.Column("share_with_family", sa.Boolean, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("status_changed_at", UTCDateTime(), nullable=False),
        sa.Column("team_id", sa.Integer),
        sa.Column("assigned_at", UTCDateTime()),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("searched_at", UTCDateTime()),
        sa.Column("searched_by_team_id", sa.Integer),
        sa.Column("search_type", sa.String(16)),
        sa.Column("assurance", sa.String(8)),
        sa.Column("not_searched_geom", Geom("GEOMETRY")),
        sa.Column("not_searched_reason", sa.Text, nullable=False),
        sa.Column("re_search", sa.Boolean, nullable=False),
        sa.Column("re_search_reason", sa.Text, nullable=False),
        sa.Column("overlap_kept_reason", sa.Text, nullable=False),
        sa.Column("geom", Geom("GEOMETRY"), nullable=False),
        *_box(),
        sa.Column("borough_code", sa.String(16)),
        sa.Column("bcu_code", sa.String(40)),
        sa.Column("force_code", sa.String(16)),
        sa.Column("straddles_bcu", sa.Boolean, nullable=False),
        sa.Column("straddles_force", sa.Boolean, nullable=False),
        sa.Column("jurisdiction", sa.JSON, nullable=False),
        sa.Column("change_n", sa.BigInteger, nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_sectors"),
        sa.UniqueConstraint("case_id", "code", name="uq_sectors_case_id_code"),
        _case_fk("sectors"),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name="fk_sectors_team_id_teams", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["searched_by_team_id"],
            ["teams.id"],
            name="fk_sectors_searched_by_team_id_teams",
            ondelete="SET NULL",
        ),
        sqlite_autoincrement=True,  # ids of deleted sectors are never reused
    )
    op.create_index("ix_sectors_case_id_status", "sectors", ["case_id", "status"])
    op.create_index("ix_sectors_case_id_change_n", "sectors", ["case_id", "change_n"])
    op.create_index("ix_sectors_case_id_minx_maxx", "sectors", ["case_id", "minx", "maxx"])
    op.create_index("ix_sectors_team_id", "sectors", ["team_id"])
    op.create_table(
        "hazards",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("geom", Geom("GEOMETRY"), nullable=False),
        *_box(),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_hazards"),
        _case_fk("hazards"),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_hazards_case_id", "hazards", ["case_id"])
    op.create_table(
        "handovers",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("from_layer", sa.String(8), nullable=False),
        sa.Column("from_code", sa.String(40), nullable=False),
        sa.Column("from_name", sa.String(120), nullable=False),
        sa.Column("to_layer", sa.String(8), nullable=False),
        sa.Column("to_code", sa.String(40), nullable=False),
        sa.Column("to_name", sa.String(120), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer),
        sa.Column("created_by_name", sa.String(120), nullable=False),
        sa.Column("acknowledged_at", UTCDateTime()),
        sa.Column("acknowledged_by", sa.String(120)),
        sa.Column("acknowledged_recorded_by", sa.String(120)),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_id", sa.Integer),
        sa.Column("updated_by_name", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_handovers"),
        _case_fk("handovers"),
    )
    op.create_index("ix_handovers_case_id_to_code", "handovers", ["case_id", "to_code"])
    op.create_table(
        "handover_sectors",
        sa.Column("handover_id", sa.Integer, nullable=False),
        sa.Column("sector_id", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("handover_id", "sector_id", name="pk_handover_sectors"),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["handovers.id"],
            name="fk_handover_sectors_handover_id_handovers",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["sector_id"],
            ["sectors.id"],
            name="fk_handover_sectors_sector_id_sectors",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_handover_sectors_sector_id", "handover_sectors", ["sector_id"])

    if pg:
        for table in ("sectors", "hazards"):
            op.execute(f"CREATE INDEX ix_{table}_geom_gist ON {table} USING gist (geom)")


def downgrade() -> None:
    for table in ("handover_sectors", "handovers", "hazards", "sectors", "sector_counter", "teams"):
        op.drop_table(table)
