"""Security headers on every HTTP response, and the HttpOnly session cookie.

Why this module exists: Streamlit has no setting for response headers, and a page
can neither send headers nor set an ``HttpOnly`` cookie (script cannot). So the
app is served through ``st.App`` (``app.py``), whose supported ``middleware=``
hook wraps Streamlit's own server before it answers its first request. The one
ASGI middleware here, :class:`SecurityHeaders`:

* adds to every HTTP response (pages, ``/app/static`` files, component frames,
  errors) a Content-Security-Policy, ``X-Frame-Options: SAMEORIGIN``,
  ``X-Content-Type-Options: nosniff`` and ``Referrer-Policy: no-referrer`` (a
  private link carries its token in ``?link=``: no Referer may ever repeat it);
* answers ``<base>/_wayhome/session/<ticket>``: the page shows a hidden image of
  that address after a sign-in or sign-out (:mod:`app_pages.widgets.cookies`),
  and its response sets or clears the session cookie — ``HttpOnly``,
  ``SameSite=Strict``, ``Secure`` over HTTPS. The ticket is random, single-use
  and short-lived, so the session token itself never appears in a URL;
* clears that cookie on Streamlit's ``/auth/logout`` too (the identity-provider
  sign-out leaves the page before an image could load).

The policy, source by source (checked in ``tests/browser/test_security_headers.py``):

``script-src 'self'``
    Streamlit's bundle, the map's Leaflet, jQuery and Leaflet.draw, the sector
    map's live-layer script and the layer feed component's script
    (:mod:`app_pages.widgets.layer_feed`): files served by this app. No CDN, no
    ``'unsafe-inline'`` anywhere.
``'sha256-…'`` of ``window.prerenderReady = false``
    The one inline script in Streamlit's ``index.html`` (hashed from the
    installed file at start-up, so an upgrade cannot silently break it).
``'wasm-unsafe-eval'`` (the app page only)
    Streamlit's protobuf bundle (long.js) compiles a 100-byte WebAssembly module
    for 64-bit arithmetic on every page load. It falls back to plain JavaScript,
    but blocked it reports a violation each time, drowning real ones. This allows
    WebAssembly compilation only, never JavaScript ``eval``.
``'sha256-…'`` of each map script (the map frame only)
    streamlit-folium runs the map's folium-generated script as one inline
    ``<script>`` in its frame. The server made that script, so
    :func:`allow_map_script` (called by ``live_folium``) records its hash and the
    frame's document, fetched after the page has it, allows exactly those.
``'unsafe-eval'`` (the map frame only)
    streamlit-folium ``eval``s the ``feature_group_to_add`` layers to swap them
    in place without remounting the map; CSP has no hash for ``eval``. It is not
    given to the app page.
``style-src 'self' 'unsafe-inline'``
    Streamlit (emotion), Leaflet and folium write inline styles; styles run no code.
``img-src 'self' data: blob:`` (+ the tile server when tiles are on)
    Leaflet's and Streamlit's inline icons; tiles from ``WAYHOME_TILES``.
``connect-src 'self'``
    Streamlit's WebSocket and uploads, the ward layer fetched on demand.
``frame-ancestors 'self'``, ``base-uri 'self'``, ``form-action 'self'``, ``object-src 'none'``
    Only this app may frame it (clickjacking); no injected ``<base>`` or plug-in.
"""

from __future__ import annotations

import base64
import hashlib
import re
import threading
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import streamlit

from app_pages.widgets import cookies
from vocab import settings

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: what streamlit-folium appends to the map script before running it (return_on_hover=False)
MAP_SCRIPT_SUFFIX = "window.map = map_div; window.initComponent(map_div, false);"
#: the map component's frame document: it alone gets the map scripts' hashes
MAP_FRAME_PATH = "/component/streamlit_folium.st_folium/index.html"
#: map scripts remembered (a process has a handful of base maps; each is ~50 bytes of header)
MAX_MAP_SCRIPTS = 64

_map_hashes: OrderedDict[str, None] = OrderedDict()
_map_lock = threading.Lock()


def script_hash(text: str) -> str:
    """The CSP source (``'sha256-…'``) that allows an inline script of exactly ``text``."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def allow_map_script(script: str) -> None:
    """Let the map frame run this folium map script (as streamlit-folium wraps it)."""
    source = _map_script_hash(script)
    with _map_lock:
        _map_hashes[source] = None
        _map_hashes.move_to_end(source)
        while len(_map_hashes) > MAX_MAP_SCRIPTS:
            _map_hashes.popitem(last=False)


_hash_cache: dict[str, str] = {}


def _map_script_hash(script: str) -> str:
    # a base map's script is the same string on every poll: hash it once
    source = _hash_cache.get(script)
    if source is None:
        if len(_hash_cache) > MAX_MAP_SCRIPTS:
            _hash_cache.clear()
        source = _hash_cache[script] = script_hash(script + MAP_SCRIPT_SUFFIX)
    return source


def _streamlit_inline_scripts() -> list[str]:
    """Hashes of the inline scripts in Streamlit's own ``index.html``."""
    index = Path(streamlit.__file__).parent / "static" / "index.html"
    try:
        html = index.read_text(encoding="utf-8")
    except OSError:
        return []
    bodies = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", html, flags=re.S)
    return [script_hash(body) for body in bodies]


def _tile_origin() -> str:
    """The tile server's origin when background tiles are on, else ''."""
    value = settings.TILES.strip()
    if value.lower() in {"openstreetmap", "osm"}:
        return "https://tile.openstreetmap.org"
    parts = urlsplit(value)
    if parts.scheme in {"http", "https"} and parts.hostname:
        # a {s} subdomain template: allow the server's subdomains
        host = re.sub(r"^\{s\}\.", "*.", parts.netloc)
        return f"{parts.scheme}://{host}" if "{" not in host else f"{parts.scheme}:"
    return ""


def content_security_policy(*, map_frame: bool = False) -> str:
    """The policy for the app's pages, or (``map_frame``) for the map component's frame."""
    if map_frame:
        with _map_lock:
            hashes = list(_map_hashes)
        scripts = ["'self'", "'unsafe-eval'", *hashes]
    else:
        scripts = ["'self'", "'wasm-unsafe-eval'", *_STREAMLIT_SCRIPTS]
    images = ["'self'", "data:", "blob:", *([_TILES] if _TILES else [])]
    directives = {
        "default-src": ["'self'"],
        "script-src": scripts,
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": images,
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "worker-src": ["'self'", "blob:"],
        "frame-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'self'"],
    }
    return "; ".join(f"{name} {' '.join(values)}" for name, values in directives.items())


_STREAMLIT_SCRIPTS = _streamlit_inline_scripts()
_TILES = _tile_origin()
_FIXED_HEADERS = (
    (b"x-frame-options", b"SAMEORIGIN"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
)
#: a 1x1 transparent GIF: the body of the session-cookie image
_PIXEL = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")


class SecurityHeaders:
    """ASGI middleware: the headers above on every HTTP response; the cookie endpoint."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._page_policy = content_security_policy().encode("ascii")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)  # WebSocket, lifespan: no headers
            return
        path = app_path(scope)
        if path.startswith(cookies.COOKIE_PATH):
            await self._session_cookie(scope, send, path[len(cookies.COOKIE_PATH):])
            return
        map_frame = path.endswith(MAP_FRAME_PATH)
        policy = (
            content_security_policy(map_frame=True).encode("ascii")
            if map_frame
            else self._page_policy
        )
        extra: list[tuple[bytes, bytes]] = []
        if map_frame:
            # its policy lists the map scripts known now: always fetched afresh (Streamlit
            # sends no validator); "no-store" would leave its status check's fetch
            # unfinished in Chromium, which would then abort it on the next navigation
            extra.append((b"cache-control", b"no-cache"))
        if path.rstrip("/").endswith("/auth/logout"):
            extra.append((b"set-cookie", _cookie_header(scope, "", 0)))

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = _with_headers(
                    message.get("headers", []), policy, extra
                )
            await send(message)

        await self.app(scope, receive, send_with_headers)

    async def _session_cookie(self, scope: Scope, send: Send, ticket: str) -> None:
        headers = _with_headers(
            [
                (b"content-type", b"image/gif"),
                (b"content-length", str(len(_PIXEL)).encode()),
                (b"cache-control", b"no-store"),
            ],
            self._page_policy,
            [],
        )
        redeemed = cookies.redeem_ticket(ticket)
        if redeemed is not None:
            headers.append((b"set-cookie", _cookie_header(scope, *redeemed)))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": _PIXEL})


def app_path(scope: Scope) -> str:
    """The request path below ``server.baseUrlPath``."""
    path = str(scope.get("path", ""))
    base = (streamlit.get_option("server.baseUrlPath") or "").strip("/")
    if base and (path == f"/{base}" or path.startswith(f"/{base}/")):
        path = path[len(base) + 1:]
    return path


def _is_https(scope: Scope) -> bool:
    if scope.get("scheme") == "https":
        return True
    # behind a TLS-terminating proxy; a client forging it only makes its own cookie Secure
    for name, value in scope.get("headers", []):
        if name == b"x-forwarded-proto":
            return value.split(b",")[0].strip().lower() == b"https"
    return False


def _cookie_header(scope: Scope, value: str, max_age: int) -> bytes:
    secure = "; Secure" if _is_https(scope) else ""
    return (
        f"{cookies.COOKIE}={value}; Path=/; Max-Age={int(max_age)}; HttpOnly; "
        f"SameSite=Strict{secure}"
    ).encode("ascii")


def _with_headers(
    headers: Any, policy: bytes, extra: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    ours = [(b"content-security-policy", policy), *_FIXED_HEADERS, *extra]
    replaced = {name for name, _ in ours if name != b"set-cookie"}
    kept = [(bytes(n), bytes(v)) for n, v in headers if bytes(n).lower() not in replaced]
    return kept + ours
