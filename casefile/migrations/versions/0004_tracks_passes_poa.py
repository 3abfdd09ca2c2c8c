"""GPS tracks, passes (one search of a sector, with its coverage and POD) and POA grids.

Revision ID: 0004
Revises: 0003
Create Date: 2026-03-04
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from casefile.types import Geom, UTCDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _fk(table: str, column: str, other: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{other}.id"], name=f"fk_{table}_{column}_{other}", ondelete=ondelete
    )


def upgrade() -> None:
    pg = op.get_bind().dialect.name == "postgresql"

    op.create_table(
        "passes",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("sector_id", sa.Integer, nullable=False),
        sa.Column("team_id", sa.Integer),
        sa.Column("state", sa.String(8), nullable=False),
        sa.Column("record_at", UTCDateTime()),
        sa.Column("started_at", UTCDateTime()),
        sa.Column("ended_at", UTCDateTime()),
        sa.Column("search_type", sa.String(16)),
        sa.Column("assurance", sa.String(8)),
        sa.Column("not_searched_geom", Geom("GEOMETRY")),
        sa.Column("sweep_type", sa.String(40), nullable=False),
        sa.Column("sweep_width_m", sa.Float, nullable=False),
        sa.Column("area_m2", sa.Float, nullable=False),
        sa.Column("searched_share", sa.Float, nullable=False),
        sa.Column("n_tracks", sa.Integer, nullable=False),
        sa.Column("effort_m", sa.Float, nullable=False),
        sa.Column("coverage", sa.Float),
        sa.Column("track_pod", sa.Float),
        sa.Column("assurance_pod", sa.Float),
        sa.Column("pod_searched", sa.Float, nullable=False),
        sa.Column("pod", sa.Float, nullable=False),
        sa.Column("basis", sa.String(16), nullable=False),
        sa.Column("swept_m2", sa.Float),
        sa.Column("swept_share", sa.Float),
        sa.Column("change_n", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("updated_by_name", sa.String(120), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_passes"),
        _fk("passes", "case_id", "cases", "CASCADE"),
        _fk("passes", "sector_id", "sectors", "CASCADE"),
        _fk("passes", "team_id", "teams", "SET NULL"),
    )
    op.create_index("ix_passes_case_id", "passes", ["case_id"])
    op.create_index("ix_passes_sector_id_state", "passes", ["sector_id", "state"])

    op.create_table(
        "tracks",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("team_id", sa.Integer),
        sa.Column("sector_id", sa.Integer),
        sa.Column("pass_id", sa.Integer),
        sa.Column("file_name", sa.String(200), nullable=False),
        sa.Column("file_hash", sa.String(64), nullable=False),
        sa.Column("searchers", sa.Integer, nullable=False),
        sa.Column("spacing_m", sa.Float),
        sa.Column("trim_m", sa.Float, nullable=False),
        sa.Column("geom", Geom("MULTILINESTRING"), nullable=False),
        sa.Column("minx", sa.Float, nullable=False),
        sa.Column("miny", sa.Float, nullable=False),
        sa.Column("maxx", sa.Float, nullable=False),
        sa.Column("maxy", sa.Float, nullable=False),
        sa.Column("length_m", sa.Float, nullable=False),
        sa.Column("n_points", sa.Integer, nullable=False),
        sa.Column("n_segments", sa.Integer, nullable=False),
        sa.Column("start_at", UTCDateTime()),
        sa.Column("end_at", UTCDateTime()),
        sa.Column("notes", sa.JSON, nullable=False),
        sa.Column("change_n", sa.BigInteger, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer),
        sa.Column("created_by_name", sa.String(120), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_tracks"),
        sa.UniqueConstraint("case_id", "file_hash", name="uq_tracks_case_id_file_hash"),
        _fk("tracks", "case_id", "cases", "CASCADE"),
        _fk("tracks", "team_id", "teams", "SET NULL"),
        _fk("tracks", "sector_id", "sectors", "SET NULL"),
        _fk("tracks", "pass_id", "passes", "SET NULL"),
    )
    op.create_index("ix_tracks_pass_id", "tracks", ["pass_id"])
    op.create_index("ix_tracks_team_id", "tracks", ["team_id"])

    op.create_table(
        "poa_states",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("method", sa.String(16), nullable=False),
        sa.Column("origin_kind", sa.String(16), nullable=False),
        sa.Column("origin_lat", sa.Float, nullable=False),
        sa.Column("origin_lon", sa.Float, nullable=False),
        sa.Column("origin_sighting_id", sa.Integer),
        sa.Column("params", sa.JSON, nullable=False),
        sa.Column("cell_m", sa.Float, nullable=False),
        sa.Column("prior", sa.JSON, nullable=False),
        sa.Column("current", sa.JSON, nullable=False),
        sa.Column("rest_of_world", sa.Float, nullable=False),
        sa.Column("applied", sa.JSON, nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("created_by_id", sa.Integer),
        sa.Column("created_by_name", sa.String(120), nullable=False),
        sa.Column("replaced_at", UTCDateTime()),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_poa_states"),
        _fk("poa_states", "case_id", "cases", "CASCADE"),
    )
    op.create_index("ix_poa_states_case_id_active", "poa_states", ["case_id", "active"])

    op.create_table(
        "poa_updates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("case_id", sa.Integer, nullable=False),
        sa.Column("poa_id", sa.Integer, nullable=False),
        sa.Column("pass_id", sa.Integer),
        sa.Column("sector_code", sa.String(16), nullable=False),
        sa.Column("pod", sa.Float, nullable=False),
        sa.Column("found", sa.Float, nullable=False),
        sa.Column("rest_of_world", sa.Float, nullable=False),
        sa.Column("at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_poa_updates"),
        _fk("poa_updates", "case_id", "cases", "CASCADE"),
        _fk("poa_updates", "poa_id", "poa_states", "CASCADE"),
        _fk("poa_updates", "pass_id", "passes", "SET NULL"),
    )
    op.create_index("ix_poa_updates_poa_id", "poa_updates", ["poa_id"])

    if pg:
        op.execute("CREATE INDEX ix_tracks_geom_gist ON tracks USING gist (geom)")


def downgrade() -> None:
    for table in ("poa_updates", "poa_states", "tracks", "passes"):
        op.drop_table(table)
