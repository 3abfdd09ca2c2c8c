"""Pushed changes to the browser (app_pages/widgets/change_push.py), on a real PostGIS store.

A waiting request answers as soon as another process commits a change to its case,
with the new counter and nothing else; it answers "no change" when its wait ends;
an unknown or expired token gets 410; a newer request for the same token ends the
older; the middleware answers only its own path and refuses bad requests. The
browser half (a page re-run by the change) is in tests/browser/test_replicas.py.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import subprocess
import sys
import textwrap

import httpx
import pytest
import sqlalchemy as sa
from starlette.types import Receive, Scope, Send

from app_pages.widgets import change_push
from app_pages.widgets.change_push import (
    CHANGES_PATH,
    TOKEN_HEADER,
    ChangePush,
    acknowledge_change,
    confirm_watch,
    hold_watch,
    release_watch,
    wait_for_change,
)
from tests.casefile.conftest import IS_PG, sighting_kwargs

pytestmark = [
    pytest.mark.db,
    pytest.mark.skipif(not IS_PG, reason="pushed changes are PostgreSQL's (LISTEN/NOTIFY): "
                       "set DATABASE_URL=postgresql://... to run this"),
]

WRITER = textwrap.dedent("""
    import sys
    from datetime import timedelta
    from casefile import Actor, open_store, utcnow
    url, user_id, case_id = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    store = open_store(url, migrate=False)
    me = Actor(user_id=user_id, display_name="Coordinator A", role="coordinator")
    store.add_sighting(me, case_id, lat=51.5033, lon=-0.1196,
                       seen_at=utcnow() - timedelta(hours=1), source="public",
                       confidence="medium", status="unverified")
""")


def counter(store, case_id: int) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT n FROM case_change WHERE case_id = :c"),
                                {"c": case_id}).scalar_one())


def live_feed(store):
    feed = store.change_feed()
    assert feed is not None and feed.wait_live(10)
    return feed


def write_elsewhere(store_url: str, coord, case) -> None:
    subprocess.run([sys.executable, "-c", WRITER, store_url, str(coord.user_id), str(case.id)],
                   check=True, timeout=120)


@pytest.fixture(autouse=True)
def _forget_tokens():
    yield
    change_push.forget_all()


def test_a_waiting_request_answers_with_the_new_counter_when_another_process_writes(
        store, store_url, coord, case):
    feed = live_feed(store)
    token = secrets.token_urlsafe(24)
    confirm_watch(token, case.id, feed)
    seen = counter(store, case.id)

    async def scenario():
        waiting = asyncio.create_task(wait_for_change(token, seen, wait_s=120))
        await asyncio.sleep(0)  # the request is waiting before the write starts
        await asyncio.to_thread(write_elsewhere, store_url, coord, case)
        return await asyncio.wait_for(waiting, 60)

    status, body = asyncio.run(scenario())
    assert status == 200
    assert body == {"n": counter(store, case.id)} and body["n"] > seen  # the counter only


def test_no_change_answers_the_same_counter_when_the_wait_ends(store, coord, case):
    feed = live_feed(store)
    token = secrets.token_urlsafe(24)
    confirm_watch(token, case.id, feed)
    seen = counter(store, case.id)
    assert asyncio.run(wait_for_change(token, seen, wait_s=0.3)) == (200, {"n": seen})
    # a page that shows an older counter is told at once
    assert asyncio.run(wait_for_change(token, seen - 1, wait_s=60)) == (200, {"n": seen})


def test_a_change_the_page_made_itself_is_not_pushed_back_to_it(store, store_url, coord, case):
    feed = live_feed(store)
    token = secrets.token_urlsafe(24)
    confirm_watch(token, case.id, feed)
    seen = counter(store, case.id)
    store.add_sighting(coord, case.id, **sighting_kwargs())  # the page's own save
    own = counter(store, case.id)
    assert feed.wait_until(case.id, own, 10) == own
    acknowledge_change(token, own)
    # no news for the page: the wait ends with the counter it showed
    assert asyncio.run(wait_for_change(token, seen, wait_s=0.3)) == (200, {"n": seen})
    # someone else's change is news
    write_elsewhere(store_url, coord, case)
    assert feed.wait_until(case.id, own + 1, 10) is not None
    status, body = asyncio.run(wait_for_change(token, seen, wait_s=60))
    assert status == 200 and body["n"] > own


def test_a_held_watch_answers_only_once_released(store, coord, case):
    feed = live_feed(store)
    token = secrets.token_urlsafe(24)
    confirm_watch(token, case.id, feed)
    seen = counter(store, case.id)

    async def scenario():
        hold_watch(token)  # the page is saving
        waiting = asyncio.create_task(wait_for_change(token, seen, wait_s=120))
        # this process's own commit moves its feed's counter at once and wakes the wait
        await asyncio.to_thread(store.add_sighting, coord, case.id, **sighting_kwargs())
        assert feed.counter(case.id) > seen
        for _ in range(10):  # let the woken request look again
            await asyncio.sleep(0)
        held_back = not waiting.done()  # its counter moved, but the page is still saving
        release_watch(token)  # ...and did not acknowledge it: the change is news
        return held_back, await asyncio.wait_for(waiting, 30)

    held_back, (status, body) = asyncio.run(scenario())
    assert held_back
    assert status == 200 and body["n"] == counter(store, case.id) > seen


def test_unknown_and_expired_tokens_are_gone(store, coord, case, monkeypatch):
    feed = live_feed(store)
    assert asyncio.run(wait_for_change("never-issued", 0, wait_s=60)) == (410, {"gone": True})
    token = secrets.token_urlsafe(24)
    monkeypatch.setattr(change_push, "TOKEN_TTL_SECONDS", -1.0)
    confirm_watch(token, case.id, feed)
    assert asyncio.run(wait_for_change(token, 0, wait_s=60)) == (410, {"gone": True})


def test_a_newer_request_for_the_same_token_ends_the_older(store, coord, case):
    feed = live_feed(store)
    token = secrets.token_urlsafe(24)
    confirm_watch(token, case.id, feed)
    seen = counter(store, case.id)

    async def scenario():
        older = asyncio.create_task(wait_for_change(token, seen, wait_s=120))
        await asyncio.sleep(0.05)
        newer = asyncio.create_task(wait_for_change(token, seen, wait_s=0.2))
        return await asyncio.wait_for(older, 30), await newer

    (status, body), newer = asyncio.run(scenario())
    assert (status, body) == (200, {"n": seen}) and newer == (200, {"n": seen})


async def _inner(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def test_the_middleware_answers_its_own_path_only_and_refuses_bad_requests(store, coord, case):
    feed = live_feed(store)
    token = secrets.token_urlsafe(24)
    confirm_watch(token, case.id, feed)
    seen = counter(store, case.id)

    async def scenario():
        transport = httpx.ASGITransport(app=ChangePush(_inner))
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            other = await client.get("/some/page")
            mine = {TOKEN_HEADER: token}
            bad = await client.get(CHANGES_PATH, params={"n": "x"}, headers=mine)
            post = await client.post(CHANGES_PATH, params={"n": "1"}, headers=mine)
            gone = await client.get(CHANGES_PATH, params={"n": "1"},
                                    headers={TOKEN_HEADER: "nope"})
            # a token in the address is never read (addresses end up in logs)
            in_url = await client.get(CHANGES_PATH, params={"n": "1", "w": token})
            told = await client.get(CHANGES_PATH, params={"n": str(seen - 1)}, headers=mine)
            return other, bad, post, gone, in_url, told

    other, bad, post, gone, in_url, told = asyncio.run(scenario())
    assert other.status_code == 204  # not ours: passed through
    assert (bad.status_code, post.status_code, gone.status_code) == (400, 405, 410)
    assert in_url.status_code == 410
    assert told.status_code == 200 and json.loads(told.text) == {"n": seen}
    assert told.headers["cache-control"] == "no-store"
