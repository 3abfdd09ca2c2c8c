"""CHECK constraints on every vocabulary column: the database refuses a word no registry has.

The allowed words are written out here as they stood when this migration was
made (a migration must not change with later code). Adding a word to a registry
in ``vocab`` needs a new migration that drops and re-creates the column's
constraint with the longer list; ``tests/casefile/test_vocabulary_checks.py``
fails until it exists.

SQLite cannot add a constraint to a table: batch mode re-creates each table
(``env.py`` switches foreign keys off meanwhile, so dropping the old table does
not cascade into its children).

Revision ID: 0007
Revises: 0006
Create Date: 2026-03-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_ROLES = ("system", "coordinator", "team_lead", "family", "partner")
_LINK_ROLES = ("team_lead", "family", "partner")
_UNIT_LAYERS = ("bcu", "force")
_SEARCH_TYPES = ("hasty", "thorough", "specialist", "property")
_ASSURANCE = ("high", "medium", "low")

#: table -> column -> allowed words
CHECKS: dict[str, dict[str, tuple[str, ...]]] = {
    "users": {"role": _ROLES},
    "case_member": {"role": _ROLES},
    "access_links": {"role": _LINK_ROLES, "unit_layer": _UNIT_LAYERS},
    "cases": {"status": ("open", "found", "closed")},
    "sightings": {
        "source": ("police", "family", "public", "CCTV", "school", "transport", "other"),
        "confidence": ("high", "medium", "low"),
        "status": ("unverified", "verified", "dismissed"),
    },
    "teams": {
        "org_type": (
            "met_bcu", "city_of_london_police", "other_force", "volunteer_group", "family",
        ),
    },
    "sectors": {
        "origin": (
            "drawn", "grid", "ward", "neighbourhood", "imported", "proposed", "volunteer",
        ),
        "status": (
            "draft", "ready", "assigned", "in_progress", "searched", "suspended",
            "needs_re_search",
        ),
        "search_type": _SEARCH_TYPES,
        "assurance": _ASSURANCE,
    },
    "hazards": {"kind": ("unsafe", "do_not_search", "preserve_scene")},
    "handovers": {"from_layer": _UNIT_LAYERS, "to_layer": _UNIT_LAYERS},
    "case_sharing": {"team_sightings": ("none", "verified", "all")},
    "volunteer_reports": {
        "kind": ("tip", "search"),
        "status": ("new", "accepted", "dismissed"),
    },
    "passes": {
        "state": ("open", "closed"),
        "search_type": _SEARCH_TYPES,
        "assurance": _ASSURANCE,
        "basis": ("tracks", "assurance", "none"),
    },
    "poa_states": {
        "method": ("rings", "consensus"),
        "origin_kind": ("sighting", "ipp"),
    },
    "sign_in_failures": {"scope": ("password", "oidc", "session", "link")},
}
#: tables whose ids are never reused (SQLite AUTOINCREMENT must survive the re-creation)
_AUTOINCREMENT = ("sectors", "hazards")


def _condition(column: str, words: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(w) for w in words)})"


def _refuse_unknown(table: str, column: str, words: tuple[str, ...]) -> None:
    """Stop with a plain message if stored rows hold a word the constraint would refuse."""
    t = sa.table(table, sa.column(column))
    bad = op.get_bind().execute(
        sa.select(t.c[column])
        .where(t.c[column].is_not(None), t.c[column].not_in(list(words)))
        .distinct()
    ).scalars().all()
    if bad:
        raise RuntimeError(
            f"{table}.{column} holds values no vocabulary knows: {sorted(map(str, bad))}. "
            "Correct those rows, then run the upgrade again."
        )


def _sequence(table: str) -> int | None:
    if op.get_bind().dialect.name != "sqlite" or table not in _AUTOINCREMENT:
        return None
    return op.get_bind().execute(
        sa.text("SELECT seq FROM sqlite_sequence WHERE name = :t"), {"t": table}
    ).scalar()


def _restore_sequence(table: str, seq: int | None) -> None:
    if seq is not None:
        op.get_bind().execute(
            sa.text("UPDATE sqlite_sequence SET seq = :n WHERE name = :t AND seq < :n"),
            {"n": seq, "t": table},
        )


def _table_kwargs(table: str) -> dict[str, bool]:
    return {"sqlite_autoincrement": True} if table in _AUTOINCREMENT else {}


def upgrade() -> None:
    for table, columns in CHECKS.items():
        for column, words in columns.items():
            _refuse_unknown(table, column, words)
        seq = _sequence(table)
        with op.batch_alter_table(table, table_kwargs=_table_kwargs(table)) as batch:
            for column, words in columns.items():
                batch.create_check_constraint(f"ck_{table}_{column}", _condition(column, words))
        _restore_sequence(table, seq)


def downgrade() -> None:
    for table, columns in CHECKS.items():
        seq = _sequence(table)
        with op.batch_alter_table(table, table_kwargs=_table_kwargs(table)) as batch:
            for column in columns:
                batch.drop_constraint(f"ck_{table}_{column}", type_="check")
        _restore_sequence(table, seq)
