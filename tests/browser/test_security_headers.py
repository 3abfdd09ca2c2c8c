"""Security headers and the session cookie, in real Chromium against the served app.

One app (``app.py``, as deployed) on a store holding the demo case and a family
link. The tests read the headers the browser received for a page, a static file
and the map's frame; check that the sign-in cookie is ``HttpOnly`` (the browser's
cookie jar says so and ``document.cookie`` does not show it) and still keeps the
coordinator signed in across a reload; that a private-link page sends no Referer
with anything it loads or opens; and that the Content-Security-Policy blocks
nothing the app needs while the case map renders and a sector is drawn
(every frame reports ``securitypolicyviolation`` events to the console).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from playwright.sync_api import BrowserContext, Page, Request, expect

from casefile import open_store
from tests.browser.conftest import (
    AppServer,
    NetworkGuard,
    nav_link,
    screenshot,
    start_app,
    wait_for_app_run,
    wait_for_map,
)
from tests.browser.drawing import draw_polygon
from tests.browser.stores import module_store_url
from wayhome.demo import load_demo

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PASSWORD = "demo password for header tests"
COOKIE = "wayhome_session"
MAP_FRAME = "/component/streamlit_folium.st_folium/index.html"

#: every frame (the app page and the map's iframe) reports CSP violations on the console
REPORT_VIOLATIONS = """
document.addEventListener('securitypolicyviolation', e => console.error(
  'CSP violation: ' + e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') +
  ' in ' + e.documentURI));
"""


@dataclass
class HeaderApp:
    server: AppServer
    url: str
    family_token: str


@pytest.fixture(scope="module")
def header_app() -> Iterator[HeaderApp]:
    with module_store_url("headers") as store_url:
        store = open_store(store_url)
        try:
            demo = load_demo(store, password=PASSWORD)
            coord = store.authenticate("demo.coordinator", PASSWORD)
            assert coord is not None
            family = store.issue_link(coord, demo.case_id, role="family", label="Phone")
        finally:
            store.close()
        server = start_app({"WAYHOME_DATABASE_URL": store_url})
        try:
            yield HeaderApp(server, server.url, family.token)
        finally:
            server.stop()


def script_sources(policy: str) -> list[str]:
    for directive in policy.split(";"):
        name, _, values = directive.strip().partition(" ")
        if name == "script-src":
            return values.split()
    raise AssertionError(f"no script-src in {policy!r}")


def assert_security_headers(headers: dict[str, str], what: str) -> str:
    policy = headers.get("content-security-policy", "")
    assert "frame-ancestors 'self'" in policy, (what, policy)
    assert "'unsafe-inline'" not in script_sources(policy), (what, policy)
    assert "object-src 'none'" in policy, (what, policy)
    assert headers.get("x-frame-options") == "SAMEORIGIN", what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("referrer-policy") == "no-referrer", what
    return policy


def sign_in(page: Page, url: str) -> None:
    page.goto(url + "/")
    wait_for_app_run(page)
    wait_for_map(page)
    page.get_by_role("link", name="Sign in").click()
    wait_for_app_run(page)
    page.get_by_label("Username").fill("demo.coordinator")
    page.get_by_role("textbox", name="Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    wait_for_app_run(page)
    expect(page.get_by_role("link", name="Case map")).to_be_visible(timeout=30_000)


def session_cookie(context: BrowserContext) -> dict | None:
    return next((c for c in context.cookies() if c["name"] == COOKIE), None)


def test_headers_on_the_page_a_static_file_and_the_map_frame(
    page: Page, header_app: HeaderApp, hermetic: NetworkGuard
):
    frames: list = []
    page.on("response", lambda r: frames.append(r) if MAP_FRAME in r.url else None)
    response = page.goto(header_app.url + "/")
    assert response is not None
    policy = assert_security_headers(response.all_headers(), "the app page")
    # the app page: its own files and Streamlit's one hashed inline script, never eval
    sources = script_sources(policy)
    assert sources[:2] == ["'self'", "'wasm-unsafe-eval'"], sources  # WebAssembly, not eval
    assert all(re.fullmatch(r"'sha256-[A-Za-z0-9+/=]+'", s) for s in sources[2:]), sources
    wait_for_app_run(page)
    wait_for_map(page)

    static = page.request.get(header_app.url + "/app/static/vendor/leaflet/leaflet.js")
    assert static.ok
    assert_security_headers(static.headers, "a static file")
    assert static.headers["content-type"].startswith(("text/javascript", "application/javascript"))

    assert frames, "the map frame was not loaded"
    frame_policy = assert_security_headers(frames[-1].all_headers(), "the map frame")
    frame_sources = script_sources(frame_policy)
    # the map frame: its own files, eval for in-place layer updates, and the map's script
    assert "'unsafe-eval'" in frame_sources
    assert any(s.startswith("'sha256-") for s in frame_sources), frame_sources
    assert frames[-1].all_headers().get("cache-control") == "no-cache"  # never a stale policy
    hermetic.assert_clean()


def test_session_cookie_is_http_only(page: Page, header_app: HeaderApp, hermetic: NetworkGuard):
    sign_in(page, header_app.url)
    cookie = None
    for _ in range(40):  # the hidden image's response sets it just after the run
        cookie = session_cookie(page.context)
        if cookie is not None:
            break
        page.wait_for_timeout(250)
    assert cookie is not None, page.context.cookies()
    assert cookie["httpOnly"] is True
    assert cookie["sameSite"] == "Strict"
    assert cookie["path"] == "/"
    assert cookie["secure"] is False  # plain http on loopback; Secure is set over https
    assert COOKIE not in page.evaluate("() => document.cookie")
    assert cookie["value"] not in page.url

    # a reload keeps the coordinator signed in through the cookie alone
    page.reload()
    wait_for_app_run(page)
    expect(page.get_by_role("link", name="Case map")).to_be_visible(timeout=30_000)
    assert COOKIE not in page.evaluate("() => document.cookie")

    # signing out clears it (and a reload stays signed out)
    nav_link(page, "Sign out").click()
    wait_for_app_run(page)
    wait_for_map(page)  # signed out: the public map
    for _ in range(40):
        if session_cookie(page.context) is None:
            break
        page.wait_for_timeout(250)
    assert session_cookie(page.context) is None
    page.reload()
    wait_for_app_run(page)
    wait_for_map(page)
    expect(page.get_by_role("link", name="Sign in")).to_be_visible(timeout=30_000)
    hermetic.assert_clean()


def test_private_link_page_sends_no_referer(
    page: Page, header_app: HeaderApp, hermetic: NetworkGuard
):
    sent: list[Request] = []
    page.context.on("request", lambda r: sent.append(r))
    response = page.goto(f"{header_app.url}/?link={header_app.family_token}")
    assert response is not None
    assert_security_headers(response.all_headers(), "the private-link page")
    wait_for_app_run(page)
    wait_for_map(page)
    # a navigation the page itself starts: a link followed, in a new tab (so the page's own
    # loads are not cut short)
    with page.context.expect_page() as opened:
        page.evaluate(
            """() => { const a = document.createElement('a');
                       a.href = '/app/static/wayhome-icon.png'; a.target = '_blank';
                       document.body.appendChild(a); a.click(); a.remove(); }"""
        )
    opened.value.wait_for_load_state()
    screenshot(page, "headers-link-page")
    later = [r for r in sent if r.url.endswith("/app/static/wayhome-icon.png")]
    assert later and later[-1].is_navigation_request()
    # every request the link page made: scripts, styles, the map frame, its files, the link
    assert len(sent) > 10, [r.url for r in sent]
    with_referer = [r.url for r in sent if "referer" in r.all_headers()]
    assert not with_referer, with_referer
    token_elsewhere = [r.url for r in sent if header_app.family_token in r.url
                       and not r.is_navigation_request()]
    assert not token_elsewhere, token_elsewhere
    hermetic.assert_clean()


def test_no_csp_violation_while_the_case_map_renders_and_a_sector_is_drawn(
    page: Page, header_app: HeaderApp, hermetic: NetworkGuard
):
    console: list[str] = []
    page.context.add_init_script(REPORT_VIOLATIONS)
    page.context.on("console", lambda m: console.append(m.text))
    sign_in(page, header_app.url)

    page.get_by_role("link", name="Case map").click()
    wait_for_app_run(page)
    frame = wait_for_map(page)
    expect(frame.locator("path.wayhome-sighting").first).to_be_attached(timeout=30_000)
    screenshot(page, "headers-case-map")

    page.get_by_role("link", name="Sectors", exact=True).click()
    wait_for_app_run(page)
    frame = wait_for_map(page)
    expect(frame.get_by_role("link", name="Draw a polygon")).to_be_visible(timeout=20_000)
    draw_polygon(page, [(260, 170), (430, 170), (430, 330), (260, 330)])
    wait_for_app_run(page)
    panel = page.locator(".st-key-pending_drawing")
    expect(panel.get_by_text("No overlap with the case's other sectors.")).to_be_visible(
        timeout=20_000
    )
    # the drawing came back as a layer swapped in place (the map frame's eval)
    expect(frame.locator("path.wayhome-candidate")).to_have_count(1)
    screenshot(page, "headers-sector-drawn")

    violations = [m for m in console if "CSP violation" in m or "Content Security Policy" in m]
    assert not violations, violations
    hermetic.assert_clean()
