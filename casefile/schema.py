"""The store's tables (SQLAlchemy Core), shared by both backends.

The migrations in ``casefile/migrations`` create exactly these tables (checked on
both backends by ``tests/casefile/test_schema_drift.py``); the store queries
through them. A change here needs its migration, and the other way round.

Design notes for later migrations:

* Every case-scoped table carries ``case_id`` so that a case purge and the
  per-case change counter (``case_change``) can reach every row of a case.
* Mutable entities carry ``version`` (optimistic locking) and ``updated_at`` /
  ``updated_by_name`` so a stale save can say who changed it and when.
* Personal values (the child's name, age, description, home, notes; reporters'
  names, contacts and descriptions) live only in their entity row and, for the
  audit history, in ``audit_detail`` (keyed by ``case_id``, purgeable). The
  append-only ``audit_log`` holds field names and non-personal values only.
* ``case_member`` grants a principal a role on a case; teams, private links and
  partner units (later) add their own principal tables and grant through the
  same role -> permission map (:mod:`casefile.permissions`).
* Geometry columns are :class:`casefile.types.Geom` (PostGIS geometry on
  PostgreSQL, WKB on SQLite); points also keep ``lon``/``lat`` (their bounding
  box), polygons later keep ``minx``/``miny``/``maxx``/``maxy``.
"""

from __future__ import annotations

import sqlalchemy as sa

from casefile.types import Geom, UTCDateTime
from vocab import roles, sector_statuses, task_types
from vocab import search as sv
from vocab.boundary_layers import UNIT_LAYERS

NAMING_CONVENTION: dict[str, str] = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}
metadata = sa.MetaData(naming_convention=NAMING_CONVENTION)

users = sa.Table(
    "users",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("username", sa.String(64), nullable=False, unique=True),
    sa.Column("display_name", sa.String(120), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, default=True),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by_name", sa.String(120), nullable=False),
    sa.Column("last_login_at", UTCDateTime()),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    # migration 0003: a private link's principal stops working at this time (None: never)
    sa.Column("expires_at", UTCDateTime()),
)

cases = sa.Table(
    "cases",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("reference", sa.String(40), nullable=False, unique=True),
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
    sa.Column("description", sa.Text, nullable=False, default=""),
    sa.Column("notes", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.Integer),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by_id", sa.Integer),
    sa.Column("updated_by_name", sa.String(120), nullable=False),
    sa.Column("purged_at", UTCDateTime()),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    # the family page: the name it uses (empty: the first word of child_name) and the
    # family liaison contact; personal, purged with the case (migration 0010)
    sa.Column("family_name", sa.String(80)),
    sa.Column("liaison_name", sa.String(120)),
    sa.Column("liaison_phone", sa.String(40)),
)

case_change = sa.Table(
    "case_change",
    metadata,
    sa.Column(
        "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("n", sa.BigInteger, nullable=False, default=0),
)

case_member = sa.Table(
    "case_member",
    metadata,
    sa.Column(
        "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("added_at", UTCDateTime(), nullable=False),
    sa.Column("added_by_name", sa.String(120), nullable=False),
    sa.Index("ix_case_member_user_id", "user_id"),
)

sightings = sa.Table(
    "sightings",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("geom", Geom("POINT"), nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("seen_at", UTCDateTime(), nullable=False),
    sa.Column("source", sa.String(32), nullable=False),
    sa.Column("confidence", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reported_by", sa.String(120), nullable=False, default=""),
    sa.Column("reporter_contact", sa.String(200), nullable=False, default=""),
    sa.Column("description", sa.Text, nullable=False, default=""),
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
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Index("ix_sightings_case_id_seen_at", "case_id", "seen_at"),
    sa.Index("ix_sightings_case_id_status_seen_at", "case_id", "status", "seen_at"),
)

audit_log = sa.Table(
    "audit_log",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Column("actor_id", sa.Integer),
    sa.Column("actor_name", sa.String(120), nullable=False),
    sa.Column("actor_role", sa.String(32), nullable=False),
    sa.Column("case_id", sa.Integer),  # no FK: the log outlives anything it describes
    sa.Column("entity", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.Integer),
    sa.Column("action", sa.String(32), nullable=False),
    sa.Column("fields", sa.JSON, nullable=False),
    sa.Column("changes", sa.JSON, nullable=False),
    sa.Index("ix_audit_log_case_id_id", "case_id", "id"),
    sa.Index("ix_audit_log_case_id_entity_entity_id", "case_id", "entity", "entity_id"),
    sa.Index("ix_audit_log_case_id_actor_id", "case_id", "actor_id"),
)

audit_detail = sa.Table(
    "audit_detail",
    metadata,
    sa.Column(
        "audit_id",
        sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey("audit_log.id"),
        primary_key=True,
    ),
    sa.Column("case_id", sa.Integer),
    sa.Column("reason", sa.Text),
    sa.Column("personal", sa.JSON),
    sa.Index("ix_audit_detail_case_id", "case_id"),
)

idempotency = sa.Table(
    "idempotency",
    metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("entity", sa.String(32), nullable=False),
    sa.Column("entity_id", sa.Integer, nullable=False),
    sa.Column("case_id", sa.Integer),
    sa.Column("actor_id", sa.Integer),
    sa.Column("created_at", UTCDateTime(), nullable=False),
)

# ---------------------------------------------------------------- sectors, teams, handovers
# (migration 0002). Sector and hazard outlines are (Multi)Polygons in lon/lat with
# their bounding box in ``minx``/``miny``/``maxx``/``maxy`` (degrees) so either
# backend can narrow by box. No GiST index on ``geom`` (migration 0006 dropped them):
# no query filters by geometry in SQL; add one together with the query that uses it.

teams = sa.Table(
    "teams",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("name", sa.String(120), nullable=False),
    sa.Column("org_type", sa.String(32), nullable=False),
    sa.Column("lead_name", sa.String(120), nullable=False, default=""),
    sa.Column("size", sa.Integer),
    sa.Column("contact", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.Integer),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by_id", sa.Integer),
    sa.Column("updated_by_name", sa.String(120), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.UniqueConstraint("case_id", "name", name="uq_teams_case_id_name"),
)

#: the next sector number of each case: sector IDs ("S1", "S2"…) are never reused
sector_counter = sa.Table(
    "sector_counter",
    metadata,
    sa.Column(
        "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("next_n", sa.Integer, nullable=False, default=1),
)

sectors = sa.Table(
    "sectors",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("code", sa.String(16), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("origin", sa.String(16), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("notes", sa.Text, nullable=False, default=""),
    sa.Column("share_with_family", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_changed_at", UTCDateTime(), nullable=False),
    sa.Column(
        "team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column("assigned_at", UTCDateTime()),
    sa.Column("started_at", UTCDateTime()),
    sa.Column("searched_at", UTCDateTime()),
    sa.Column(
        "searched_by_team_id",
        sa.Integer,
        sa.ForeignKey("teams.id", ondelete="SET NULL"),
        nullable=True,
    ),
    sa.Column("search_type", sa.String(16)),
    sa.Column("assurance", sa.String(8)),
    sa.Column("not_searched_geom", Geom("GEOMETRY")),
    sa.Column("not_searched_reason", sa.Text, nullable=False, default=""),
    sa.Column("re_search", sa.Boolean, nullable=False, default=False),
    sa.Column("re_search_reason", sa.Text, nullable=False, default=""),
    sa.Column("overlap_kept_reason", sa.Text, nullable=False, default=""),
    sa.Column("geom", Geom("GEOMETRY"), nullable=False),
    sa.Column("minx", sa.Float, nullable=False),
    sa.Column("miny", sa.Float, nullable=False),
    sa.Column("maxx", sa.Float, nullable=False),
    sa.Column("maxy", sa.Float, nullable=False),
    sa.Column("area_m2", sa.Float, nullable=False),
    sa.Column("borough_code", sa.String(16)),
    sa.Column("bcu_code", sa.String(40)),
    sa.Column("force_code", sa.String(16)),
    sa.Column("straddles_bcu", sa.Boolean, nullable=False, default=False),
    sa.Column("straddles_force", sa.Boolean, nullable=False, default=False),
    sa.Column("jurisdiction", sa.JSON, nullable=False),
    sa.Column("change_n", sa.BigInteger, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.Integer),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by_id", sa.Integer),
    sa.Column("updated_by_name", sa.String(120), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.UniqueConstraint("case_id", "code", name="uq_sectors_case_id_code"),
    sa.Index("ix_sectors_case_id_status", "case_id", "status"),
    sa.Index("ix_sectors_case_id_change_n", "case_id", "change_n"),
    sa.Index("ix_sectors_case_id_minx_maxx", "case_id", "minx", "maxx"),
    sa.Index("ix_sectors_team_id", "team_id"),
    sqlite_autoincrement=True,  # a deleted sector's id is never handed to another
)

hazards = sa.Table(
    "hazards",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("geom", Geom("GEOMETRY"), nullable=False),
    sa.Column("minx", sa.Float, nullable=False),
    sa.Column("miny", sa.Float, nullable=False),
    sa.Column("maxx", sa.Float, nullable=False),
    sa.Column("maxy", sa.Float, nullable=False),
    sa.Column("area_m2", sa.Float, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.Integer),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by_id", sa.Integer),
    sa.Column("updated_by_name", sa.String(120), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Index("ix_hazards_case_id", "case_id"),
    sqlite_autoincrement=True,
)

handovers = sa.Table(
    "handovers",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
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
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Index("ix_handovers_case_id_to_code", "case_id", "to_code"),
)

handover_sectors = sa.Table(
    "handover_sectors",
    metadata,
    sa.Column(
        "handover_id",
        sa.Integer,
        sa.ForeignKey("handovers.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column(
        "sector_id", sa.Integer, sa.ForeignKey("sectors.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Index("ix_handover_sectors_sector_id", "sector_id"),
)

# ---------------------------------------------------------------- private links, tips, purge
# (migration 0003). A private link is a principal of its own: a ``users`` row that
# cannot sign in (no usable password; ``expires_at``) plus a ``case_member`` row for
# its one case and role. Only the SHA-256 of its token is stored. The label
# ("Mum's phone") is personal and purged with the case.

access_links = sa.Table(
    "access_links",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("role", sa.String(32), nullable=False),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL")),
    sa.Column("unit_layer", sa.String(8)),
    sa.Column("unit_code", sa.String(40)),
    sa.Column("unit_name", sa.String(120)),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("label", sa.Text, nullable=False, default=""),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.Integer),
    sa.Column("created_by_name", sa.String(120), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("revoked_at", UTCDateTime()),
    sa.Column("revoked_by_name", sa.String(120)),
    sa.Column("last_used_at", UTCDateTime()),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Index("ix_access_links_case_id", "case_id"),
    sa.Index("ix_access_links_user_id", "user_id"),
)

#: a coordinator's sign-in kept across reloads for a working day (token hashed)
login_sessions = sa.Table(
    "login_sessions",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column(
        "user_id", sa.Integer, sa.ForeignKey("users.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("expires_at", UTCDateTime(), nullable=False),
    sa.Column("last_used_at", UTCDateTime()),
    sa.Column("ended_at", UTCDateTime()),
    sa.Index("ix_login_sessions_user_id", "user_id"),
)

#: failed sign-ins and unknown link tokens, for rate limiting across processes
sign_in_failures = sa.Table(
    "sign_in_failures",
    metadata,
    sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
    sa.Column("scope", sa.String(16), nullable=False),
    sa.Column("client_key", sa.String(64), nullable=False),
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_sign_in_failures_scope_client_key_at", "scope", "client_key", "at"),
    sa.Index("ix_sign_in_failures_at", "at"),
)

#: what a case shares beyond coordinators (one row per case; defaults when absent)
case_sharing = sa.Table(
    "case_sharing",
    metadata,
    sa.Column(
        "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("family_lkl", sa.Boolean, nullable=False, default=False),
    sa.Column("family_delay_min", sa.Integer, nullable=False, default=0),
    sa.Column("team_sightings", sa.String(16), nullable=False, default="verified"),
    sa.Column("team_lkl", sa.Boolean, nullable=False, default=True, server_default=sa.true()),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by_name", sa.String(120), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
)

#: tips and "we searched here" reports from families, waiting for a coordinator
volunteer_reports = sa.Table(
    "volunteer_reports",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),  # "tip" | "search"
    sa.Column("link_id", sa.Integer, sa.ForeignKey("access_links.id", ondelete="SET NULL")),
    sa.Column("sighting_id", sa.Integer, sa.ForeignKey("sightings.id", ondelete="SET NULL")),
    sa.Column("sector_id", sa.Integer, sa.ForeignKey("sectors.id", ondelete="SET NULL")),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("overlaps", sa.JSON, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),  # new | accepted | dismissed
    sa.Column("reviewed_at", UTCDateTime()),
    sa.Column("reviewed_by_name", sa.String(120)),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.Integer),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Index("ix_volunteer_reports_case_id_status", "case_id", "status"),
)

# ---------------------------------------------------------------- tracks, passes, POA
# (migration 0004). A *pass* is one search of a sector: from the sector's "searched"
# record and/or GPS tracks. Tracks are lon/lat MultiLineStrings. POA lives per case
# on a fixed grid, stored as ``{cell id: poa, ..., "rest_of_world": p}`` JSON: the
# prior (as set up) and the current grid after every unsuccessful pass.

passes = sa.Table(
    "passes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "sector_id", sa.Integer, sa.ForeignKey("sectors.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL")),
    sa.Column("state", sa.String(8), nullable=False),  # open | closed
    sa.Column("record_at", UTCDateTime()),  # the sector's searched_at this pass closed with
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
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Index("ix_passes_case_id", "case_id"),
    sa.Index("ix_passes_sector_id_state", "sector_id", "state"),
)

tracks = sa.Table(
    "tracks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL")),
    sa.Column("sector_id", sa.Integer, sa.ForeignKey("sectors.id", ondelete="SET NULL")),
    sa.Column("pass_id", sa.Integer, sa.ForeignKey("passes.id", ondelete="SET NULL")),
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
    sa.UniqueConstraint("case_id", "file_hash", name="uq_tracks_case_id_file_hash"),
    sa.Index("ix_tracks_pass_id", "pass_id"),
    sa.Index("ix_tracks_team_id", "team_id"),
)

poa_states = sa.Table(
    "poa_states",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("method", sa.String(16), nullable=False),  # rings | consensus
    sa.Column("origin_kind", sa.String(16), nullable=False),  # sighting | ipp
    sa.Column("origin_lat", sa.Float, nullable=False),
    sa.Column("origin_lon", sa.Float, nullable=False),
    sa.Column("origin_sighting_id", sa.Integer),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("cell_m", sa.Float, nullable=False),
    sa.Column("prior", sa.JSON, nullable=False),
    sa.Column("current", sa.JSON, nullable=False),
    sa.Column("rest_of_world", sa.Float, nullable=False),
    sa.Column("applied", sa.JSON, nullable=False),  # {pass id: pass version} in ``current``
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.Integer),
    sa.Column("created_by_name", sa.String(120), nullable=False),
    sa.Column("replaced_at", UTCDateTime()),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.Index("ix_poa_states_case_id_active", "case_id", "active"),
)

#: one row per pass applied to a POA grid (the history of updates)
poa_updates = sa.Table(
    "poa_updates",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column(
        "poa_id", sa.Integer, sa.ForeignKey("poa_states.id", ondelete="CASCADE"), nullable=False
    ),
    sa.Column("pass_id", sa.Integer, sa.ForeignKey("passes.id", ondelete="SET NULL")),
    sa.Column("sector_code", sa.String(16), nullable=False),
    sa.Column("pod", sa.Float, nullable=False),
    sa.Column("found", sa.Float, nullable=False),  # sum of POA x POD over the cells
    sa.Column("rest_of_world", sa.Float, nullable=False),  # after the update
    sa.Column("at", UTCDateTime(), nullable=False),
    sa.Index("ix_poa_updates_poa_id", "poa_id"),
)

#: each pass's POD per POA grid cell (migration 0005), kept so that a change to one
#: pass recomputes that pass only: ``{cell id: pod}`` for the cells it reached (POD > 0)
#: on the fixed grid of ``cell_m`` metres, for pass ``pass_version``
pass_cell_pods = sa.Table(
    "pass_cell_pods",
    metadata,
    sa.Column("pass_id", sa.Integer, sa.ForeignKey("passes.id", ondelete="CASCADE"),
              primary_key=True),
    sa.Column("cell_m", sa.Float, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("pass_version", sa.Integer, nullable=False),
    sa.Column("cells", sa.JSON, nullable=False),
    sa.Index("ix_pass_cell_pods_case_id", "case_id"),
)

#: how a case's POA treats the child between searches (migration 0008; one row per
#: case, "stationary" when absent): ``model`` and its ``params`` (speeds, shares per
#: hour, whether the child's home is a likely place), as the coordinator chose them
case_motion = sa.Table(
    "case_motion",
    metadata,
    sa.Column(
        "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("model", sa.String(16), nullable=False),
    sa.Column("params", sa.JSON, nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by_name", sa.String(120), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
)

#: the case's rendezvous point (one row per case; none until a coordinator sets it):
#: lon/lat as typed (postcode, lat/lon or OS grid reference, ``place`` keeps the
#: typed words) and a short description for searchers ("Car park, north gate")
case_rendezvous = sa.Table(
    "case_rendezvous",
    metadata,
    sa.Column(
        "case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True
    ),
    sa.Column("lat", sa.Float, nullable=False),
    sa.Column("lon", sa.Float, nullable=False),
    sa.Column("place", sa.String(100), nullable=False),
    sa.Column("words", sa.String(200), nullable=False),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by_name", sa.String(120), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
)

#: Streets loaded from an OpenStreetMap extract on PostgreSQL (``wayhome streets import``;
#: on SQLite they are a GeoParquet file beside the database instead). Reference data of
#: no case, replaced whole by each import. Lon/lat like every stored geometry, with its
#: bounding box for a quick window query.
street_lines = sa.Table(
    "street_lines",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("major", sa.Boolean, nullable=False),
    sa.Column("ground", sa.Boolean, nullable=False),
    sa.Column("geom", Geom("LINESTRING"), nullable=False),
    sa.Column("minx", sa.Float, nullable=False),
    sa.Column("miny", sa.Float, nullable=False),
    sa.Column("maxx", sa.Float, nullable=False),
    sa.Column("maxy", sa.Float, nullable=False),
    sa.Index("ix_street_lines_minx_maxx", "minx", "maxx"),
)

#: Enquiry tasks (casefile.tasks): a place or a street a team goes to (house-to-house,
#: CCTV, a visit to an address, a hospital or station check). ``address``, ``postcode``,
#: ``premises_key``, ``title``, ``note``, ``result_note`` and, for a personal address
#: (vocab.task_types), ``geom``/``lon``/``lat``/``cell`` are purged with the case.
#: ``premises_key``, ``street_key`` and ``cell`` are the repeat check's index keys
#: (geo.task_places): one indexed look-up each, never a scan of the case's tasks.
tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("case_id", sa.Integer, sa.ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    sa.Column("number", sa.Integer, nullable=False),
    sa.Column("kind", sa.String(24), nullable=False),
    sa.Column("title", sa.String(200), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("status_changed_at", UTCDateTime(), nullable=False),
    sa.Column(
        "team_id", sa.Integer, sa.ForeignKey("teams.id", ondelete="SET NULL"), nullable=True
    ),
    sa.Column("note", sa.Text, nullable=False, default=""),
    sa.Column("result_note", sa.Text, nullable=False, default=""),
    sa.Column("address", sa.Text, nullable=False, default=""),
    sa.Column("postcode", sa.String(10), nullable=False, default=""),
    sa.Column("street", sa.String(200), nullable=False, default=""),
    sa.Column("side", sa.String(8)),
    sa.Column("route", sa.String(40), nullable=False, default=""),
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
    sa.Column("repeat_kept_reason", sa.Text, nullable=False, default=""),
    sa.Column("change_n", sa.BigInteger, nullable=False),
    sa.Column("created_at", UTCDateTime(), nullable=False),
    sa.Column("created_by_id", sa.Integer),
    sa.Column("updated_at", UTCDateTime(), nullable=False),
    sa.Column("updated_by_id", sa.Integer),
    sa.Column("updated_by_name", sa.String(120), nullable=False),
    sa.Column("version", sa.Integer, nullable=False, default=1),
    sa.UniqueConstraint("case_id", "number", name="uq_tasks_case_id_number"),
    sa.Index("ix_tasks_case_id_premises_key", "case_id", "premises_key"),
    sa.Index("ix_tasks_case_id_street_key", "case_id", "street_key"),
    sa.Index("ix_tasks_case_id_cell", "case_id", "cell"),
    sa.Index("ix_tasks_team_id", "team_id"),
)

#: every table, children first: the order a wipe (tests) or a purge walks
ALL_TABLES: tuple[sa.Table, ...] = (
    case_rendezvous,
    street_lines,
    tasks,
    case_motion,
    pass_cell_pods,
    poa_updates,
    poa_states,
    tracks,
    passes,
    volunteer_reports,
    case_sharing,
    sign_in_failures,
    login_sessions,
    access_links,
    handover_sectors,
    handovers,
    hazards,
    sectors,
    sector_counter,
    teams,
    audit_detail,
    audit_log,
    idempotency,
    sightings,
    case_member,
    case_change,
    cases,
    users,
)


# ---------------------------------------------------------------- vocabulary CHECKs
# Every column that holds a word from a registry (``vocab``) is held to it by a
# CHECK constraint named ``ck_<table>_<column>`` (migration 0007). Adding a word to
# a registry therefore also needs a migration that widens the constraint;
# tests/casefile/test_vocabulary_checks.py compares the migrated database with
# :func:`vocabulary_columns` and fails until it exists.


def vocabulary_columns() -> dict[tuple[str, str], tuple[str, ...]]:
    """(table, column) -> the values it may hold, read from the registries *now*.

    Nullable columns (``sectors.search_type``, ``access_links.unit_layer``, …) may
    also be NULL: a CHECK passes on NULL. Two word columns are deliberately left
    unchecked: ``cases.risk`` (a force sets its own grades, ``WAYHOME_RISK_GRADES``,
    and a case keeps the grade it was given) and ``audit_log.actor_role`` (the
    append-only history outlives any change of roles).
    """
    return {
        ("users", "role"): roles.names(),
        ("case_member", "role"): roles.names(),
        ("access_links", "role"): roles.link_roles(),
        ("access_links", "unit_layer"): UNIT_LAYERS,
        ("cases", "status"): sv.CASE_STATUSES,
        ("sightings", "source"): sv.SIGHTING_SOURCES,
        ("sightings", "confidence"): sv.SIGHTING_CONFIDENCES,
        ("sightings", "status"): sv.SIGHTING_STATUSES,
        ("teams", "org_type"): sv.TEAM_ORG_TYPES,
        ("sectors", "origin"): sv.STORED_SECTOR_ORIGINS,
        ("sectors", "status"): sector_statuses.names(),
        ("sectors", "search_type"): sv.SEARCH_TYPES,
        ("sectors", "assurance"): sv.ASSURANCE_LEVELS,
        ("hazards", "kind"): sv.HAZARD_KINDS,
        ("handovers", "from_layer"): UNIT_LAYERS,
        ("handovers", "to_layer"): UNIT_LAYERS,
        ("case_sharing", "team_sightings"): sv.TEAM_SIGHTINGS,
        ("volunteer_reports", "kind"): sv.REPORT_KINDS,
        ("volunteer_reports", "status"): sv.REPORT_STATUSES,
        ("passes", "state"): sv.PASS_STATES,
        ("passes", "search_type"): sv.SEARCH_TYPES,
        ("passes", "assurance"): sv.ASSURANCE_LEVELS,
        ("passes", "basis"): sv.PASS_BASES,
        ("poa_states", "method"): sv.POA_METHODS,
        ("poa_states", "origin_kind"): sv.POA_ORIGIN_KINDS,
        ("case_motion", "model"): sv.MOTION_MODELS,
        ("sign_in_failures", "scope"): sv.SIGN_IN_KINDS,
        ("street_lines", "kind"): sv.STREET_KINDS,
        ("tasks", "kind"): task_types.names(),
        ("tasks", "status"): task_types.status_names(),
        ("tasks", "side"): tuple(task_types.STREET_SIDES),
    }


def vocabulary_check(column: str, values: tuple[str, ...]) -> sa.CheckConstraint:
    """``column IN (values…)``, named ``column`` (``ck_<table>_<column>`` once attached)."""
    return sa.CheckConstraint(
        sa.column(column).in_(list(values)), name=column, info={"vocabulary": True}
    )


def _add_vocabulary_checks(md: sa.MetaData) -> None:
    for (table, column), values in vocabulary_columns().items():
        md.tables[table].append_constraint(vocabulary_check(column, values))


def build_metadata() -> sa.MetaData:
    """A fresh copy of every table, its CHECK constraints built from the registries now.

    The module's :data:`metadata` took the registries as they were at import; a
    test that adds a status or a role to a registry calls this and
    ``create_all`` to get tables that accept it.
    """
    fresh = sa.MetaData(naming_convention=NAMING_CONVENTION)
    for table in metadata.sorted_tables:
        copy = table.to_metadata(fresh)
        for constraint in [c for c in copy.constraints if c.info.get("vocabulary")]:
            copy.constraints.discard(constraint)
    _add_vocabulary_checks(fresh)
    return fresh


_add_vocabulary_checks(metadata)
