"""The ``wayhome`` command on the backend named by DATABASE_URL (SQLite by default)."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import shapely
import sqlalchemy as sa

import casefile.database
from casefile import Actor, open_store
from casefile.engine import head_revision
from tests.casefile.conftest import IS_PG, _template, pg_admin_url, store_url  # noqa: F401
from wayhome.cli import main
from wayhome.demo import demo_data

pytestmark = pytest.mark.db

DEMO_PASSWORD = "demo password for tests"


def wayhome_exe() -> list[str]:
    exe = Path(sys.executable).with_name("wayhome")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "wayhome.cli"]


def run(args: list[str], stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    code = main(args, stdin=io.StringIO(stdin), out=out)
    return code, out.getvalue()


@pytest.fixture
def fresh_db(tmp_path):
    """A brand-new, empty database: its own PostgreSQL database, or a new SQLite file.

    Yields (environment for the subprocess, SQLAlchemy URL).
    """
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "WAYHOME_DATABASE_URL")}
    if IS_PG:
        name = f"wayhome_demo_{uuid.uuid4().hex[:8]}"
        admin = sa.create_engine(pg_admin_url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        url = pg_admin_url().rsplit("/", 1)[0] + "/" + name
        env["DATABASE_URL"] = "postgresql://" + url.split("://", 1)[1]
        yield env, url
        with admin.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()
    else:
        path = tmp_path / "fresh" / "wayhome.sqlite3"
        env["WAYHOME_SQLITE_PATH"] = str(path)
        yield env, f"sqlite:///{path}"


def test_wayhome_demo_on_a_fresh_database_leaves_real_geometry(fresh_db):
    env, url = fresh_db
    env["WAYHOME_DEMO_PASSWORD"] = DEMO_PASSWORD
    first = subprocess.run(
        [*wayhome_exe(), "demo"], env=env, capture_output=True, text=True, timeout=300
    )
    assert first.returncode == 0, first.stderr
    assert "DEMO-0001" in first.stdout and DEMO_PASSWORD not in first.stdout
    again = subprocess.run(
        [*wayhome_exe(), "demo"], env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stderr

    data = demo_data()
    # the demo's sightings, and the family's tip (a tip lands as a family sighting)
    expected = sorted([(s["lon"], s["lat"]) for s in data["sightings"]]
                      + [(data["tip"]["lon"], data["tip"]["lat"])])
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM cases").scalar_one() == 1
        assert conn.exec_driver_sql("SELECT count(*) FROM sightings").scalar_one() == len(expected)
        if IS_PG:
            cols = set(
                conn.exec_driver_sql(
                    "SELECT f_table_name, f_geometry_column, type, srid FROM geometry_columns "
                    "WHERE f_table_schema = current_schema()"
                ).all()
            )
            assert {
                ("sightings", "geom", "POINT", 4326),
                ("cases", "ipp_geom", "POINT", 4326),
                ("cases", "home_geom", "POINT", 4326),
            } <= cols
            wkt = conn.exec_driver_sql(
                "SELECT ST_AsText(geom), ST_SRID(geom), lon, lat FROM sightings"
            ).all()
            got = sorted((shapely.from_wkt(w).x, shapely.from_wkt(w).y) for w, _, _, _ in wkt)
            assert {srid for _, srid, _, _ in wkt} == {4326}
            ipp = conn.exec_driver_sql("SELECT ST_AsText(ipp_geom) FROM cases").scalar_one()
            # the geometry answers spatial SQL: the BCU crossing shows as distance
            spread = conn.exec_driver_sql(
                "SELECT ST_Length(ST_MakeLine(geom ORDER BY seen_at)::geography) FROM sightings"
            ).scalar_one()
            assert spread > 5_000  # metres; Stockwell -> the City and back via Clapham
        else:
            rows = conn.exec_driver_sql("SELECT geom FROM sightings").scalars().all()
            got = sorted((p.x, p.y) for p in shapely.from_wkb(rows))
            ipp = shapely.from_wkb(
                conn.exec_driver_sql("SELECT ipp_geom FROM cases").scalar_one()
            ).wkt
    engine.dispose()
    assert [c for xy in got for c in xy] == pytest.approx([c for xy in expected for c in xy])
    lat, lon = data["case"]["ipp"]
    assert shapely.from_wkt(ipp).equals(shapely.Point(lon, lat))

    store = open_store(url)
    actor = store.authenticate("demo.coordinator", DEMO_PASSWORD)
    assert actor is not None
    cf = store.load_case(actor, store.list_cases(actor)[0].id)
    statuses = [s.status for s in cf.sightings]
    assert {"verified", "unverified", "dismissed"} <= set(statuses)
    assert len({s.bcu for s in cf.sightings}) >= 3  # crosses BCU boundaries
    assert {s.force for s in cf.sightings} >= {
        "Metropolitan Police Service",
        "City of London Police",
    }
    assert cf.last_known().kind == "sighting"
    store.close()


def test_demo_prints_a_generated_password_once(store_url):  # noqa: F811
    code, out = run(["--database-url", store_url, "demo"])
    assert code == 0
    line = next(x for x in out.splitlines() if "password:" in x)
    password = line.rsplit("password: ", 1)[1].strip()
    store = open_store(store_url)
    assert store.authenticate("demo.coordinator", password) is not None
    code, out2 = run(["--database-url", store_url, "demo"])
    assert code == 0 and password not in out2 and "unchanged" in out2
    assert store.authenticate("demo.coordinator", password) is not None
    store.close()


def test_user_add_takes_the_password_from_stdin_never_argv(store_url):  # noqa: F811
    run(["--database-url", store_url, "demo"])
    code, out = run(
        [
            "--database-url",
            store_url,
            "user",
            "add",
            "pat.lee",
            "--name",
            "Pat Lee",
            "--case",
            "DEMO-0001",
            "--password-stdin",
        ],
        stdin="a good long password\n",
    )
    assert code == 0, out
    assert "a good long password" not in out
    store = open_store(store_url)
    actor = store.authenticate("pat.lee", "a good long password")
    assert actor is not None and actor.display_name == "Pat Lee"
    assert [c.reference for c in store.list_cases(actor)] == ["DEMO-0001"]
    store.close()
    with pytest.raises(SystemExit):
        main(
            [
                "--database-url",
                store_url,
                "user",
                "add",
                "x.y",
                "--name",
                "X",
                "--password",
                "on the command line",
            ]
        )


def test_user_add_refuses_bad_input_clearly(store_url, capsys):  # noqa: F811
    code, _ = run(
        [
            "--database-url",
            store_url,
            "user",
            "add",
            "pat.lee",
            "--name",
            "Pat",
            "--password-stdin",
        ],
        stdin="short\n",
    )
    assert code == 1
    assert "at least 10 characters" in capsys.readouterr().err


def test_db_upgrade_and_current(store_url):  # noqa: F811
    head = head_revision()
    code, out = run(["--database-url", store_url, "db", "upgrade"])
    assert code == 0 and f"schema {head}" in out
    code, out = run(["--database-url", store_url, "db", "current"])
    assert code == 0 and f"schema {head}; this version of Wayhome needs {head}" in out


def test_backup_writes_a_restorable_copy(store_url, tmp_path):  # noqa: F811
    run(["--database-url", store_url, "demo"])
    code, out = run(["--database-url", store_url, "backup", "--dest", str(tmp_path / "bk")])
    assert code == 0, out
    files = list((tmp_path / "bk").iterdir())
    assert len(files) == 1
    # every personal value is in it: owner-only, in a folder made owner-only
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert stat.S_IMODE((tmp_path / "bk").stat().st_mode) == 0o700
    if IS_PG:
        assert files[0].suffix == ".dump" and files[0].read_bytes()[:5] == b"PGDMP"
    else:
        with sqlite3.connect(files[0]) as conn:
            assert conn.execute("SELECT reference FROM cases").fetchall() == [("DEMO-0001",)]


def test_backup_without_pg_dump_says_what_to_do(store_url, tmp_path, monkeypatch, capsys):  # noqa: F811
    if not IS_PG:
        pytest.skip("pg_dump is only used for PostgreSQL")
    monkeypatch.setattr(casefile.database.shutil, "which", lambda name: None)
    code, _ = run(["--database-url", store_url, "backup", "--dest", str(tmp_path)])
    assert code == 1
    assert "pg_dump is not installed" in capsys.readouterr().err


def test_demo_data_is_fictional_and_well_formed():
    data = demo_data()
    assert "FICTIONAL" in data["about"]
    assert "fictional" in data["case"]["child_name"].lower()
    for s in data["sightings"]:
        assert s["reporter_contact"] in ("",) or s["reporter_contact"].startswith("07700 900")
    keys = [s["key"] for s in data["sightings"]]
    assert len(set(keys)) == len(keys)
    assert json.dumps(data)  # serialisable


def test_streets_import_loads_an_extract_and_says_what_it_kept(store_url):  # noqa: F811
    pbf = Path(__file__).resolve().parent.parent / "data" / "streets" / "southwark_lambeth.osm.pbf"
    code, text = run(["--database-url", store_url, "streets", "import", str(pbf)])
    assert code == 0, text
    assert "Kept 438 lines" in text and "major" in text and "road" in text
    assert "OpenStreetMap contributors" in text and "WAYHOME" not in text
    store = open_store(store_url)
    try:
        assert len(store.street_lines(Actor.system("test"))) == 438
    finally:
        store.close()


def test_streets_import_refuses_a_file_that_is_not_an_extract(store_url, tmp_path, capsys):  # noqa: F811
    bad = tmp_path / "notes.osm"
    bad.write_text("not an extract")
    code, _ = run(["--database-url", store_url, "streets", "import", str(bad)])
    assert code == 1
    assert "not an OpenStreetMap extract" in capsys.readouterr().err
