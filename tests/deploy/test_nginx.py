"""deploy/nginx/wayhome.conf, run as shipped (ports and paths substituted) on loopback.

Two stand-in replicas (``stand_in_replica.py``) behind the real nginx: affinity by
the configuration's own cookie, the WebSocket upgrade under the base path, TLS,
failover when a replica dies (the cookie follows), and no query string (where
private-link tokens travel) in any log. The real app behind the same file is
driven by ``tests/browser/test_replicas.py``.
"""

from __future__ import annotations

import http.client
import re
import secrets
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from http.cookies import SimpleCookie
from pathlib import Path

import pytest
from websockets.sync.client import connect as ws_connect

from tests.deploy.nginx_proxy import PATIENCE, Nginx, free_port, nginx_binary, start_nginx

HERE = Path(__file__).resolve().parent

pytestmark = pytest.mark.skipif(
    nginx_binary() is None,
    reason="nginx is not installed (scripts/test installs Debian's nginx as root)",
)


def start_replica(name: str, port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "stand_in_replica.py"), name, str(port)],
        stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    return proc


def await_routes(proxy: Nginx, routes: tuple[str, ...] = ("a", "b")) -> None:
    """Return once each route answers through the proxy from its own replica.

    Every test then starts from a whole path (nginx worker, upstream, replica) that
    has served a request, rather than from sockets that merely accept connections.
    """
    for route in routes:
        _, body, _, _ = get(proxy, "/wayhome/", route=route)
        assert body.startswith(f"replica {route} "), body


@pytest.fixture(scope="module")
def stack() -> Iterator[tuple[Nginx, dict[str, subprocess.Popen]]]:
    ports = {"a": free_port(), "b": free_port()}
    replicas = {name: start_replica(name, port) for name, port in ports.items()}
    proxy = start_nginx([ports["a"], ports["b"]])
    await_routes(proxy)
    yield proxy, replicas
    proxy.stop()
    for proc in replicas.values():
        if proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=PATIENCE)


def tls(proxy: Nginx) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(proxy.cafile))


def get(proxy: Nginx, path: str, *, route: str | None = None,
        headers: dict[str, str] | None = None) -> tuple[int, str, SimpleCookie, dict[str, str]]:
    conn = http.client.HTTPSConnection("127.0.0.1", proxy.https_port, context=tls(proxy),
                                       timeout=PATIENCE)
    sent = dict(headers or {})
    if route is not None:
        sent["Cookie"] = f"wayhome_route={route}"
    conn.request("GET", path, headers=sent)
    resp = conn.getresponse()
    body = resp.read().decode()
    cookie = SimpleCookie()
    for value in resp.headers.get_all("Set-Cookie") or []:
        cookie.load(value)
    out = resp.status, body, cookie, {k.lower(): v for k, v in resp.getheaders()}
    conn.close()
    return out


def test_a_new_browser_is_given_a_replica_and_pinned_to_it_by_cookie(stack):
    proxy, _ = stack
    seen = set()
    for _ in range(24):
        status, body, cookie, _ = get(proxy, "/wayhome/")
        assert status == 200
        route = cookie["wayhome_route"]
        assert body.startswith(f"replica {route.value} /wayhome/")  # the cookie names who answered
        assert route["path"] == "/wayhome/"
        assert route["secure"] and route["httponly"]
        assert route["samesite"] == "Lax"
        seen.add(route.value)
    assert seen == {"a", "b"}  # random spread over both (each of 24 draws is 50/50)
    for route in ("a", "b"):
        for _ in range(5):
            status, body, cookie, _ = get(proxy, "/wayhome/app/static/x.js", route=route)
            assert body.startswith(f"replica {route} /wayhome/app/static/x.js")
            assert cookie["wayhome_route"].value == route
    # an unknown cookie value is replaced, not trusted
    _, body, cookie, _ = get(proxy, "/wayhome/", route="z")
    assert cookie["wayhome_route"].value in ("a", "b")
    assert body.startswith(f"replica {cookie['wayhome_route'].value} ")


def test_forwarded_headers_base_path_and_https_only(stack):
    proxy, _ = stack
    _, body, _, headers = get(proxy, "/wayhome/", route="a")
    assert body.split()[3:5] == ["127.0.0.1", "https"]  # X-Forwarded-For, -Proto
    assert "max-age" in headers["strict-transport-security"]
    status, _, _, headers = get(proxy, "/wayhome")
    assert (status, headers["location"].endswith("/wayhome/")) == (301, True)
    assert get(proxy, "/somewhere-else")[0] == 404
    plain = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=PATIENCE)
    plain.request("GET", "/wayhome/?x=1")
    resp = plain.getresponse()
    assert resp.status == 301
    assert resp.getheader("Location").startswith("https://")
    plain.close()


def test_websocket_upgrade_on_the_stream_path_sticks_to_the_route(stack):
    proxy, _ = stack
    # The handshake crosses the test, nginx and a Python replica: on a starved 2-core
    # machine it can take seconds (a replica stalled past websockets' default 10 s
    # open_timeout fails with "timed out while waiting for handshake response"), so
    # the wait is generous; it still ends as soon as the 101 arrives. (The fixture has
    # already seen each route answer through the proxy.)
    for route in ("a", "b"):
        with ws_connect(
            f"wss://127.0.0.1:{proxy.https_port}/wayhome/_stcore/stream",
            ssl=tls(proxy),
            additional_headers={"Cookie": f"wayhome_route={route}"},
            open_timeout=PATIENCE,
            close_timeout=PATIENCE,
        ) as ws:
            assert ws.recv(timeout=PATIENCE) == f"replica {route}"
            ws.send("ping across the proxy")
            assert ws.recv(timeout=PATIENCE) == "ping across the proxy"
            set_cookie = ws.response.headers.get("Set-Cookie", "")
            assert f"wayhome_route={route}" in set_cookie  # the 101 carries the cookie too


def test_no_query_string_reaches_any_log(stack):
    proxy, _ = stack
    token = secrets.token_urlsafe(32)
    page = f"/wayhome/link?link={token}"
    get(proxy, page, route="a")
    get(proxy, "/wayhome/component/x/index.html?streamlitUrl=" + token, route="b",
        headers={"Referer": f"https://127.0.0.1:{proxy.https_port}{page}"})
    plain = http.client.HTTPConnection("127.0.0.1", proxy.http_port, timeout=PATIENCE)
    plain.request("GET", page)
    plain.getresponse().read()
    plain.close()
    # nginx writes a request's line once it has answered it: the client may be first
    deadline = time.monotonic() + PATIENCE
    while True:
        logs = proxy.logs()
        logged = (re.search(r'"GET /wayhome/link HTTP/1\.1" 200 .*route=a', logs)  # it was
                  and '"GET /wayhome/link HTTP/1.1" 301' in logs)  # the plain-http redirect too
        if logged or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert re.search(r'"GET /wayhome/link HTTP/1\.1" 200 .*route=a', logs)
    assert '"GET /wayhome/link HTTP/1.1" 301' in logs
    assert token not in logs


def test_a_dead_replica_is_skipped_and_its_browsers_move_with_their_cookie(stack):
    proxy, replicas = stack
    replicas["a"].terminate()
    replicas["a"].wait(timeout=PATIENCE)
    for _ in range(3):
        status, body, cookie, _ = get(proxy, "/wayhome/", route="a")
        assert status == 200
        assert body.startswith("replica b ")
        assert cookie["wayhome_route"].value == "b"  # from now on pinned to the live one
    with ws_connect(
        f"wss://127.0.0.1:{proxy.https_port}/wayhome/_stcore/stream",
        ssl=tls(proxy), additional_headers={"Cookie": "wayhome_route=a"},
        open_timeout=PATIENCE, close_timeout=PATIENCE,
    ) as ws:
        assert ws.recv(timeout=PATIENCE) == "replica b"
    assert re.search(r'upstream="127\.0\.0\.1:\d+, 127\.0\.0\.1:\d+"', proxy.logs())
