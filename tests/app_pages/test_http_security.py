"""The security-header middleware and the session-cookie tickets, without a server.

The browser test (``tests/browser/test_security_headers.py``) checks what Chromium
receives and enforces; these check the middleware's rules directly and fast.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib

from app_pages.widgets import cookies
from app_pages.widgets import http_security as hs


def _call(scope: dict, inner_headers=()) -> list[dict]:
    sent: list[dict] = []
    reached: list[dict] = []

    async def app(scope, receive, send):
        reached.append(scope)
        await send({"type": "http.response.start", "status": 200,
                    "headers": list(inner_headers)})
        await send({"type": "http.response.body", "body": b"ok"})

    async def receive():
        return {"type": "http.request"}

    async def send(message):
        sent.append(message)

    asyncio.run(hs.SecurityHeaders(app)(scope, receive, send))
    return sent


def _headers(messages: list[dict]) -> dict[bytes, list[bytes]]:
    out: dict[bytes, list[bytes]] = {}
    for name, value in messages[0]["headers"]:
        out.setdefault(name, []).append(value)
    return out


def _scope(path: str, **extra) -> dict:
    return {"type": "http", "path": path, "scheme": "http", "headers": [], **extra}


def test_every_response_gets_the_headers_once_and_ours_win():
    inner = [(b"x-content-type-options", b"sniff-please"), (b"content-type", b"text/html")]
    headers = _headers(_call(_scope("/app/static/x.js"), inner))
    assert headers[b"x-content-type-options"] == [b"nosniff"]
    assert headers[b"x-frame-options"] == [b"SAMEORIGIN"]
    assert headers[b"referrer-policy"] == [b"no-referrer"]
    assert headers[b"content-type"] == [b"text/html"]
    policy = headers[b"content-security-policy"][0].decode()
    assert "frame-ancestors 'self'" in policy
    script_src = next(d for d in policy.split("; ") if d.startswith("script-src"))
    assert "'unsafe-inline'" not in script_src and "'unsafe-eval'" not in script_src


def test_the_map_frame_alone_allows_eval_and_the_registered_map_scripts():
    script = "var map_div = L.map('map_div');"
    hs.allow_map_script(script)
    digest = hashlib.sha256((script + hs.MAP_SCRIPT_SUFFIX).encode()).digest()
    expected = f"'sha256-{base64.b64encode(digest).decode()}'"
    frame = _headers(_call(_scope(hs.MAP_FRAME_PATH)))
    frame_policy = frame[b"content-security-policy"][0].decode()
    assert expected in frame_policy and "'unsafe-eval'" in frame_policy
    assert frame[b"cache-control"] == [b"no-cache"]
    page_policy = _headers(_call(_scope("/")))[b"content-security-policy"][0].decode()
    assert expected not in page_policy and "'unsafe-eval'" not in page_policy


def test_map_scripts_remembered_are_bounded():
    for i in range(hs.MAX_MAP_SCRIPTS + 10):
        hs.allow_map_script(f"var n = {i};")
    assert len(hs._map_hashes) == hs.MAX_MAP_SCRIPTS


def test_websockets_pass_untouched():
    sent = _call({"type": "websocket", "path": "/_stcore/stream", "headers": []})
    assert b"content-security-policy" not in _headers(sent)


def test_a_ticket_sets_an_http_only_cookie_once():
    ticket = cookies.issue_ticket("opaque-token", 3600)
    forwarded = [(b"x-forwarded-proto", b"https")]
    first = _headers(_call(_scope(cookies.COOKIE_PATH + ticket, headers=forwarded)))
    cookie = first[b"set-cookie"][0].decode()
    assert cookie.startswith("wayhome_session=opaque-token;")
    for part in ("HttpOnly", "SameSite=Strict", "Secure", "Path=/", "Max-Age=3600"):
        assert part in cookie, cookie
    assert first[b"cache-control"] == [b"no-store"]
    assert first[b"referrer-policy"] == [b"no-referrer"]
    again = _headers(_call(_scope(cookies.COOKIE_PATH + ticket)))  # used: nothing set
    assert b"set-cookie" not in again
    guessed = _headers(_call(_scope(cookies.COOKIE_PATH + "not-a-ticket")))
    assert b"set-cookie" not in guessed


def test_plain_http_cookie_is_not_secure_and_sign_out_clears_it():
    ticket = cookies.issue_ticket("", 0)
    cookie = _headers(_call(_scope(cookies.COOKIE_PATH + ticket)))[b"set-cookie"][0].decode()
    assert "Max-Age=0" in cookie and "HttpOnly" in cookie and "Secure" not in cookie
    logout = _headers(_call(_scope("/auth/logout")))[b"set-cookie"][0].decode()
    assert logout.startswith("wayhome_session=;") and "Max-Age=0" in logout
