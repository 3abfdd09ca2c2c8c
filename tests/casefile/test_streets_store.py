"""Loaded streets on both backends: a GeoParquet file beside SQLite, the street_lines table
on PostgreSQL; replaced whole, audited, read back whole or by window."""

from __future__ import annotations

from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa

import geo
from casefile import Actor, PermissionDenied
from casefile import permissions as perm
from casefile import schema as t
from casefile.streets import PARQUET, streets_dir
from tests.casefile.conftest import IS_PG, make_coordinator
from vocab import roles

pytestmark = pytest.mark.db

DATA = Path(__file__).resolve().parents[2] / "data" / "streets"
SYSTEM = Actor.system("test")


@pytest.fixture(scope="module")
def extract():
    return geo.read_streets(DATA / "southwark_lambeth.osm.pbf")


def test_load_and_read_back(store, extract):
    coord = make_coordinator(store)
    assert len(store.street_lines(coord)) == 0
    loaded = store.load_streets(SYSTEM, extract, source="southwark_lambeth.osm.pbf")
    assert loaded.lines == len(extract)
    assert sum(loaded.by_kind.values()) == len(extract)
    assert loaded.major == int(extract["major"].sum())
    back = store.street_lines(coord)
    assert len(back) == len(extract) and back.crs.to_epsg() == 4326
    assert sorted(back["name"]) == sorted(extract["name"])
    assert back["major"].sum() == extract["major"].sum()
    assert shapely.length(back.to_crs(27700).geometry.values).sum() == pytest.approx(
        shapely.length(extract.to_crs(27700).geometry.values).sum(), rel=1e-6)
    if IS_PG:
        with store.engine.connect() as conn:
            assert conn.execute(sa.select(sa.func.count()).select_from(t.street_lines)
                                ).scalar() == len(extract)
    else:
        assert (streets_dir(store.db) / PARQUET).is_file()
        assert not list(streets_dir(store.db).glob("*.part"))
    # a window round Union Street holds it, and not Vauxhall Street
    near = store.street_lines(coord, bbox=(-0.1045, 51.4984, -0.0994, 51.5042))
    assert "Union Street" in set(near["name"])
    assert "Vauxhall Street" not in set(near["name"])
    assert len(near) < len(back)


def test_a_load_replaces_the_streets_and_is_audited(store, extract):
    assert store.streets_version(SYSTEM) == "none"
    store.load_streets(SYSTEM, extract, source="a.osm.pbf")
    first = store.streets_version(SYSTEM)
    assert first != "none" and store.streets_version(SYSTEM) == first
    few = extract[extract["name"] == "Union Street"]
    store.load_streets(SYSTEM, few, source="/somewhere/b.osm")
    # the maps see a new load by this token alone, without reading the streets
    assert store.streets_version(SYSTEM) not in ("none", first)
    back = store.street_lines(SYSTEM)
    assert set(back["name"]) == {"Union Street"}
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t.audit_log).where(t.audit_log.c.entity == "streets")
                            ).all()
    assert len(rows) == 2
    assert all(r.case_id is None for r in rows)


def test_only_the_command_line_loads_and_links_cannot_read(store, extract):
    coord = make_coordinator(store)
    with pytest.raises(PermissionDenied):
        store.load_streets(coord, extract, source="x.osm")
    for role in ("team_lead", "family", "partner"):
        assert not roles.role_allows(role, perm.STREETS_READ)
        assert not roles.role_allows(role, perm.STREETS_LOAD)
