"""Pushed changes on PostgreSQL (casefile/changes.py): NOTIFY at commit, one listener per process.

A write committed by another process reaches this process's listener within 2 s;
an idle live view then costs no query; the listener survives its connection being
killed and catches up on what it missed. SQLite has no listener (views poll).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap
import time

import psycopg
import pytest
import sqlalchemy as sa

from tests.casefile.conftest import IS_PG, pg_admin_url, sighting_kwargs

pytestmark = pytest.mark.db
pg_only = pytest.mark.skipif(
    not IS_PG, reason="pushed changes are PostgreSQL's (LISTEN/NOTIFY); SQLite views poll "
    "the counter: set DATABASE_URL=postgresql://... to run this")

WRITER = textwrap.dedent("""
    import json, sys
    from datetime import timedelta
    from casefile import Actor, open_store, utcnow
    url, user_id, case_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = open_store(url, migrate=False)
    me = Actor(user_id=user_id, display_name="Coordinator A", role="coordinator")
    for line in sys.stdin:
        store.add_sighting(me, case_id, lat=51.5033, lon=-0.1196,
                           seen_at=utcnow() - timedelta(hours=1), source="public",
                           confidence="medium", status="unverified")
        print(json.dumps({"n": store.change_token(me, case_id)}), flush=True)
""")


def libpq(store_url: str) -> str:
    return sa.engine.make_url(store_url).set(drivername="postgresql").render_as_string(
        hide_password=False)


@pytest.mark.skipif(IS_PG, reason="the SQLite store's behaviour")
def test_sqlite_has_no_listener_and_every_poll_asks_the_database(store, coord, case):
    assert store.db.change_feed() is None and store.db.notify_channel() is None
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda *args: statements.append(args[2]))
    n = store.change_token(coord, case.id)
    assert store.change_token(coord, case.id) == n
    assert sum("case_change" in q for q in statements) == 2


@pg_only
def test_a_write_in_another_process_reaches_the_listener_within_two_seconds(
        store, store_url, coord, case):
    feed = store.db.change_feed()
    assert feed is not None and feed.wait_live(10)
    before = store.change_token(coord, case.id)
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, store_url, str(coord.user_id), str(case.id)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    try:
        for _ in range(3):
            writer.stdin.write("go\n")
            writer.stdin.flush()
            committed = json.loads(writer.stdout.readline())["n"]  # after its commit
            assert committed > before
            assert feed.wait_until(case.id, committed, timeout=2.0) == committed
            before = committed
    finally:
        writer.stdin.close()
        writer.wait(timeout=30)
    assert store.change_token(coord, case.id) == before


@pg_only
def test_notices_carry_ids_only_and_only_for_committed_changes(store, store_url, coord, case):
    channel = store.db.notify_channel()
    with psycopg.connect(libpq(store_url), autocommit=True) as conn:
        conn.execute(psycopg.sql.SQL("LISTEN {}").format(psycopg.sql.Identifier(channel)))
        store.add_sighting(coord, case.id, **sighting_kwargs())
        with pytest.raises(Exception):  # refused after the counter moved: rolled back
            store.add_sighting(coord, case.id, **sighting_kwargs(lat=99.0))
        store.update_case(coord, case.id, version=store.get_case(coord, case.id).version,
                          notes="Seen near the bridge")
        payloads = [n.payload for n in conn.notifies(timeout=1.0)]
    assert len(payloads) == 2
    assert all(re.fullmatch(r"\d+ \d+", p) for p in payloads)
    assert [int(p.split()[0]) for p in payloads] == [case.id, case.id]
    counters = [int(p.split()[1]) for p in payloads]
    assert counters[1] == counters[0] + 1  # the refused write moved nothing
    assert counters[1] == store.change_token(coord, case.id)


@pg_only
def test_an_idle_view_costs_no_query_and_a_change_is_checked_again(store, coord, case):
    feed = store.db.change_feed()
    assert feed.wait_live(10)
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda *args: statements.append(args[2]))
    n = store.change_token(coord, case.id)  # the database says yes once
    asked = len(statements)
    assert asked >= 1
    for _ in range(20):
        assert store.change_token(coord, case.id) == n
    assert len(statements) == asked  # answered from memory
    store.add_sighting(coord, case.id, **sighting_kwargs())
    assert feed.wait_until(case.id, n + 1, timeout=10) == n + 1
    before = len(statements)
    assert store.change_token(coord, case.id) == n + 1
    assert len(statements) > before  # a moved counter is checked with the database


@pg_only
def test_a_revoked_link_stops_its_view_at_once(store, coord, case):
    from casefile import LinkGone

    issued = store.issue_link(coord, case.id, role="family", label="Mum's phone")
    actor = store.open_link(issued.token).actor
    feed = store.db.change_feed()
    assert feed.wait_live(10)
    n = store.link_poll(actor, case.id)
    assert store.link_poll(actor, case.id) == n
    store.revoke_link(coord, issued.link.id)
    feed.wait_until(case.id, n + 1, timeout=10)
    with pytest.raises(LinkGone):
        store.link_poll(actor, case.id)


@pg_only
def test_the_listener_survives_its_connection_being_killed_and_catches_up(
        store, coord, case):
    feed = store.db.change_feed()
    assert feed.wait_live(10)
    pid, connects = feed.backend_pid, feed.connects
    admin = sa.create_engine(pg_admin_url())
    with admin.connect() as conn:
        assert conn.execute(sa.text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
    admin.dispose()
    # written while the listener may well be down: its notice can be lost
    store.add_sighting(coord, case.id, **sighting_kwargs())
    n = store.change_token(coord, case.id)
    deadline = time.monotonic() + 30
    while feed.connects == connects and time.monotonic() < deadline:
        feed.wait_live(0.1)
        time.sleep(0.05)
    assert feed.connects > connects and feed.backend_pid != pid
    assert feed.wait_until(case.id, n, timeout=10) == n  # re-read after reconnecting
    store.add_sighting(coord, case.id, **sighting_kwargs())
    assert feed.wait_until(case.id, n + 1, timeout=10) == n + 1  # and listening again
