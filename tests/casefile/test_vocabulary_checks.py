"""The vocabularies live in one registry each, and the database holds every column to them.

* each vocabulary column's CHECK constraint, reflected from the migrated database,
  allows exactly the registry's words (autogenerate does not compare CHECKs);
* migration 0007 keeps every row (and every child row) and its downgrade removes
  the constraints;
* a status or a role added through one registry entry flows to the map style, the
  family grouping, the permission check and the CHECK constraint.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa
from alembic import command
from alembic.config import Config

from casefile import PermissionDenied
from casefile import permissions as perm
from casefile import schema as t
from casefile.access import check_actor_shape
from casefile.engine import MIGRATIONS_DIR, current_revision, head_revision, upgrade
from casefile.types import Geom
from layers.family import family_legend_html, family_styles
from layers.sectors import sector_legend_html, sector_styles, sectors_layer
from tests.casefile.conftest import count_rows, make_case, sighting_kwargs
from tests.layers.test_sectors_layer import script_of
from vocab import roles, sector_statuses

NOW = datetime(2026, 3, 5, 12, 0, tzinfo=UTC)


def _words(sqltext: str) -> set[str]:
    """The quoted words of a reflected ``col IN ('a', 'b')`` / ``col = ANY (ARRAY['a', …])``."""
    return set(re.findall(r"'([^']*)'", sqltext))


def _vocabulary_checks(engine: sa.Engine) -> dict[tuple[str, str], set[str]]:
    inspector = sa.inspect(engine)
    # the store's own schema only: on PostgreSQL, tables of the same names elsewhere on
    # the search path (another test's store in ``public``) are not this store's
    schema = None
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            schema = conn.exec_driver_sql("SELECT current_schema()").scalar()
    found: dict[tuple[str, str], set[str]] = {}
    # an older revision lacks later tables
    present = set(inspector.get_table_names(schema=schema))
    for table in t.metadata.sorted_tables:
        if table.name not in present:
            continue
        for ck in inspector.get_check_constraints(table.name, schema=schema):
            name = ck.get("name") or ""
            for column in table.columns:
                if name == f"ck_{table.name}_{column.name}":
                    found[(table.name, column.name)] = _words(ck["sqltext"])
    return found


# ---------------------------------------------------------------------- the migrated database


@pytest.mark.db
def test_each_vocabulary_column_allows_exactly_its_registry(store):
    found = _vocabulary_checks(store.engine)
    expected = {key: set(words) for key, words in t.vocabulary_columns().items()}
    assert set(found) == set(expected), "a vocabulary column lacks its CHECK (or has a stray one)"
    for key, words in expected.items():
        assert found[key] == words, (
            f"{key[0]}.{key[1]}: the database allows {sorted(found[key])}, the registry "
            f"{sorted(words)} — write a migration that widens the constraint"
        )


@pytest.mark.db
def test_the_database_refuses_a_word_no_registry_has(store, coord):
    case = make_case(store, coord)
    with store.engine.connect() as conn:
        with pytest.raises(sa.exc.IntegrityError), conn.begin():
            conn.execute(t.cases.update().where(t.cases.c.id == case.id).values(status="lost"))
        with pytest.raises(sa.exc.IntegrityError), conn.begin():
            conn.execute(t.users.update().values(role="superuser"))


def _alembic(store) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    return cfg


@pytest.mark.db
def test_migration_0007_keeps_every_row_and_its_downgrade_drops_the_checks(store, coord):
    case = make_case(store, coord)
    store.add_sighting(coord, case.id, **sighting_kwargs())
    (sector,) = store.create_sectors(coord, case.id, [_new_sector()])
    team = store.create_team(coord, case.id, name="Red", org_type="met_bcu")
    store.assign_sector(coord, sector.id, team.id, version=sector.version)
    store.issue_link(coord, case.id, role="family", label="Mum")
    tables = (t.users, t.case_member, t.cases, t.sightings, t.sectors, t.teams, t.access_links,
              t.audit_log)
    before = {tb.name: count_rows(store, tb) for tb in tables}
    down = "0006"
    cfg = _alembic(store)
    try:
        with store.engine.connect() as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, down)
            if conn.in_transaction():
                conn.commit()
        assert current_revision(store.engine) == down
        assert _vocabulary_checks(store.engine) == {}
        assert {tb.name: count_rows(store, tb) for tb in tables} == before
    finally:
        upgrade(store.engine)
    assert current_revision(store.engine) == head_revision()
    assert {tb.name: count_rows(store, tb) for tb in tables} == before
    assert set(_vocabulary_checks(store.engine)) == set(t.vocabulary_columns())
    if store.backend == "sqlite":
        with store.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def _new_sector():
    from casefile import NewSector

    return NewSector(geometry=shapely.box(-0.1300, 51.5000, -0.1280, 51.5012), name="Block")


# ---------------------------------------------------------------------- one entry: a status


@pytest.fixture
def cordoned(monkeypatch: pytest.MonkeyPatch) -> sector_statuses.SectorStatus:
    """A new sector status, added through one registry entry."""
    entry = sector_statuses.SectorStatus(
        "cordoned", "cordoned off", "#f0e442", "4 2 1 2", 3, 0.2, "yellow dash-dot",
        progress="planned", family="planned", moves_to=frozenset({"ready"}),
    )
    monkeypatch.setitem(sector_statuses.STATUSES, entry.name, entry)
    return entry


def _fresh_tables(path: Path) -> sa.Engine:
    engine = sa.create_engine(f"sqlite:///{path}")
    t.build_metadata().create_all(engine)
    return engine


def _sector_row(status: str) -> dict:
    return {
        "case_id": 1, "code": f"S-{status}", "name": "", "origin": "drawn", "priority": 3,
        "share_with_family": True, "status": status, "status_changed_at": NOW,
        "geom": shapely.box(0, 51, 0.01, 51.01), "minx": 0.0, "miny": 51.0, "maxx": 0.01,
        "maxy": 51.01, "area_m2": 770_000.0, "jurisdiction": {}, "change_n": 1,
        "created_at": NOW, "updated_at": NOW, "updated_by_name": "test",
    }


def test_a_new_status_flows_to_the_map_the_family_and_the_check(cordoned, tmp_path):
    # the map: its own style, in the legend, and chosen for a sector in that status
    style = sector_styles()["cordoned"]
    assert (style.colour, style.dash, style.label) == ("#f0e442", "4 2 1 2", "cordoned off")
    assert "cordoned off — yellow dash-dot" in sector_legend_html()
    sector = type("S", (), {
        "id": 1, "code": "S1", "name": "", "status": "cordoned", "origin": "drawn",
        "geometry": shapely.box(-0.13, 51.50, -0.128, 51.501), "team_id": None,
    })()
    html = script_of(sectors_layer([sector]))
    assert '"style": "cordoned"' in html and "#f0e442" in html
    # the family: shown, in the "planned" group
    assert "cordoned" in sector_statuses.family_statuses()
    assert sector_statuses.family_group("cordoned", searched_today=True) == "planned"
    assert sector_statuses.family_group("draft", searched_today=True) is None
    assert "cordoned" in sector_statuses.with_progress("planned")
    # the CHECK constraint of tables made from the registry as it is now
    engine = _fresh_tables(tmp_path / "fresh.sqlite3")
    with engine.begin() as conn:
        conn.execute(t.sectors.insert().values(**_sector_row("cordoned")))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(t.sectors.insert().values(**_sector_row("made_up")))
    engine.dispose()


def test_without_the_entry_the_fresh_tables_refuse_the_status(tmp_path):
    engine = _fresh_tables(tmp_path / "fresh.sqlite3")
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(t.sectors.insert().values(**_sector_row("cordoned")))
    engine.dispose()
    assert "cordoned" not in sector_styles()


def test_family_map_groups_come_from_the_registry(monkeypatch):
    planned = sector_statuses.FAMILY_GROUPS["planned"]
    monkeypatch.setitem(sector_statuses.FAMILY_GROUPS, "planned",
                        replace(planned, colour="#0072B2", legend="Planned (blue dots)"))
    assert family_styles()["planned"][0] == "#0072B2"
    assert "Planned (blue dots)" in family_legend_html()


# ---------------------------------------------------------------------- one entry: a role


@pytest.fixture
def observer(monkeypatch: pytest.MonkeyPatch) -> roles.Role:
    """A new link role that may read the case brief and poll, nothing else."""
    entry = roles.Role("observer", "Observer", "private_link", "family",
                       {roles.CASE_BRIEF: "case", roles.LINK_POLL: "case"})
    monkeypatch.setitem(roles.ROLE_REGISTRY, entry.name, entry)
    return entry


def test_a_new_role_gets_its_label_permissions_and_column_values(observer, tmp_path):
    assert roles.label("observer") == "Observer"
    assert "observer" in roles.link_roles()
    assert perm.role_allows("observer", perm.CASE_BRIEF)
    assert not perm.role_allows("observer", perm.SECTOR_WRITE)
    assert roles.scope_of("observer", perm.LINK_POLL) == "case"
    assert roles.scope_of("observer", perm.FAMILY_VIEW) is None
    assert perm.no_access_message("observer").startswith("This link no longer works")
    # the store's permission check accepts the role for what it holds, and only that
    actor = perm.Actor(user_id=7, display_name="Observer link 1", role="observer")  # type: ignore[arg-type]
    check_actor_shape(actor, perm.CASE_BRIEF)
    with pytest.raises(PermissionDenied):
        check_actor_shape(actor, perm.SECTOR_WRITE)
    # tables made now accept the role in every role column
    engine = _fresh_tables(tmp_path / "fresh.sqlite3")
    with engine.begin() as conn:
        conn.execute(t.users.insert().values(
            username="link.x", display_name="Observer link 1", password_hash="!",
            role="observer", created_at=NOW, updated_at=NOW, updated_by_name="test"))
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as conn:
        conn.execute(t.users.insert().values(
            username="link.y", display_name="?", password_hash="!", role="overlord",
            created_at=NOW, updated_at=NOW, updated_by_name="test"))
    engine.dispose()


def test_roles_keep_the_permissions_they_held():
    assert perm.ROLES == ("system", "coordinator", "team_lead", "family", "partner")
    assert perm.LINK_ROLES == ("team_lead", "family", "partner")
    assert perm.ACCOUNT_ROLES == ("coordinator",)
    assert perm.SYSTEM_CASE_PERMISSIONS == {
        perm.CASE_MEMBERS, perm.LINK_MANAGE, perm.CASE_PURGE, perm.BRIEFING_PRINT,
        perm.HANDOVER_REPORT, perm.TEAM_WRITE}
    assert perm.ROLE_PERMISSIONS["system"] == {
        perm.USER_ADMIN, perm.CASE_MEMBERS, perm.LINK_MANAGE, perm.CASE_PURGE,
        perm.BRIEFING_PRINT, perm.HANDOVER_REPORT, perm.TEAM_WRITE, perm.STREETS_LOAD,
        perm.STREETS_READ}
    assert len(perm.ROLE_PERMISSIONS["coordinator"]) == 35
    assert {perm.RENDEZVOUS_READ, perm.RENDEZVOUS_WRITE} <= perm.ROLE_PERMISSIONS["coordinator"]
    assert {perm.TASK_READ, perm.TASK_WRITE, perm.TASK_PROGRESS} <= perm.ROLE_PERMISSIONS[
        "coordinator"]
    assert perm.ROLE_PERMISSIONS["team_lead"] == {
        perm.LINK_POLL, perm.CASE_BRIEF, perm.TEAM_SECTORS, perm.SECTOR_PROGRESS,
        perm.HAZARD_READ, perm.SIGHTING_READ_SHARED, perm.TRACK_UPLOAD, perm.BRIEFING_PRINT,
        perm.RENDEZVOUS_READ, perm.TASK_READ_TEAM, perm.TASK_PROGRESS}
    assert roles.scope_of("team_lead", perm.TASK_PROGRESS) == "own_team"
    assert roles.scope_of("team_lead", perm.BRIEFING_PRINT) == "own_team"
    assert perm.ROLE_PERMISSIONS["family"] == {
        perm.LINK_POLL, perm.CASE_BRIEF, perm.FAMILY_VIEW, perm.FAMILY_REPORT}
    assert perm.ROLE_PERMISSIONS["partner"] == {
        perm.LINK_POLL, perm.CASE_BRIEF, perm.PARTNER_VIEW, perm.HANDOVER_ACK}
    assert roles.scope_of("team_lead", perm.TRACK_UPLOAD) == "own_team"
    assert roles.scope_of("family", perm.FAMILY_REPORT) == "own_reports"
    assert roles.scope_of("partner", perm.HANDOVER_ACK) == "own_unit"
    assert roles.scope_of("system", perm.USER_ADMIN) == "any"
    assert not roles.role_allows("nobody", perm.CASE_READ)


def test_geom_type_is_what_the_fresh_tables_use():
    assert isinstance(t.build_metadata().tables["sectors"].c.geom.type, Geom)
