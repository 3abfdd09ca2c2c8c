"""Signing in with the organisation's identity provider, end to end in real Chromium.

The app runs with an ``[auth]`` secrets section pointing ``st.login`` at a local
OpenID Connect provider (:mod:`tests.browser.oidc_provider`), and
``WAYHOME_OIDC_EMAIL_DOMAINS=met.police.uk``. Nothing is mocked between the button
and the store: Streamlit and Authlib discover the provider, send the browser there
with ``state``, ``nonce`` and a PKCE challenge, exchange the code, check the
RS256-signed identity token, and Wayhome maps the verified email to a coordinator
account (or refuses it). A provider that forges its identity token (wrong nonce,
audience, issuer, expiry or key) signs nobody in. The ``hermetic`` guard fails a test
on any request that leaves 127.0.0.1.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
import sqlalchemy as sa
from playwright.sync_api import Page, expect

from app_pages.widgets.session import OIDC_REFUSED, OIDC_REFUSED_NOTE
from casefile import Actor, open_store, utcnow
from casefile import schema as t
from tests.browser.conftest import (
    AppServer,
    NetworkGuard,
    free_port,
    map_frame_handle,
    nav_link,
    screenshot,
    start_app,
    wait_for_app_run,
    wait_for_map,
)
from tests.browser.oidc_provider import FORGERIES, FakeIdentityProvider
from tests.browser.stores import module_store_url

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

PROVIDER = "corp"  # [auth.corp]: the button reads "Sign in with corp"
CLIENT_ID = "wayhome-test-client"
JANE = ("jane.smith@met.police.uk", "Jane Smith")
TOKEN_REFUSED = "OAuth token exchange failed"  # logged by Streamlit when Authlib says no


@dataclass
class OidcApp:
    server: AppServer
    idp: FakeIdentityProvider
    store_url: str
    jane: Actor


def _seed(store_url: str) -> Actor:
    """Jane (a coordinator on case OIDC-1) and a colleague on another case."""
    store = open_store(store_url)
    try:
        system = Actor.system("test")
        user = store.create_user(system, "jane.smith", "Jane Smith", secrets.token_urlsafe(16))
        jane = Actor(user.id, user.display_name, "coordinator")
        other = store.create_user(system, "sam.other", "Sam Other", secrets.token_urlsafe(16))
        for who, ref, name in ((jane, "OIDC-1", "Alex"),
                               (Actor(other.id, other.display_name, "coordinator"), "OIDC-2",
                                "Charlie")):
            store.create_case(who, reference=ref, child_name=name, age=10, risk="high",
                              reported_missing_at=utcnow() - timedelta(hours=2),
                              ipp=(51.5137, -0.0990), description="d", notes="n")
        return jane
    finally:
        store.close()


def _secrets_toml(redirect_uri: str, idp: FakeIdentityProvider) -> str:
    # JSON strings are valid TOML basic strings
    q = json.dumps
    return "\n".join([
        "[auth]",
        f"redirect_uri = {q(redirect_uri)}",
        f"cookie_secret = {q(secrets.token_urlsafe(32))}",
        "",
        f"[auth.{PROVIDER}]",
        f"client_id = {q(idp.client_id)}",
        f"client_secret = {q(idp.client_secret)}",
        f"server_metadata_url = {q(idp.metadata_url)}",
        "",
    ])


@pytest.fixture(scope="module")
def oidc_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[OidcApp]:
    port = free_port()  # the redirect URI must be known before the app starts
    redirect_uri = f"http://127.0.0.1:{port}/oauth2callback"
    idp = FakeIdentityProvider(client_id=CLIENT_ID, client_secret=secrets.token_urlsafe(24),
                               redirect_uri=redirect_uri)
    with module_store_url("oidc") as url, idp:
        jane = _seed(url)
        secrets_file = tmp_path_factory.mktemp("oidc-secrets") / "secrets.toml"
        secrets_file.write_text(_secrets_toml(redirect_uri, idp))
        server = start_app(
            {
                "WAYHOME_DATABASE_URL": url,
                "WAYHOME_OIDC_EMAIL_DOMAINS": "met.police.uk",
                # every browser here is 127.0.0.1: retried refusals must not add up to
                # the per-client throttle (tests/casefile/test_oidc.py covers it)
                "WAYHOME_THROTTLE_PER_CLIENT": "100",
            },
            args=(f"--secrets.files={secrets_file}",),
            port=port,
        )
        try:
            yield OidcApp(server=server, idp=idp, store_url=url, jane=jane)
        finally:
            server.stop()


#: true once every script, stylesheet and image the map's document asked for has loaded
_MAP_LOADED_JS = """() => {
  const done = new Set(performance.getEntriesByType('resource').map(e => e.name));
  const wanted = [...document.querySelectorAll('script[src], link[rel=stylesheet][href]')]
    .map(e => e.src || e.href);
  return wanted.length > 0 && wanted.every(u => done.has(u))
    && [...document.images].every(i => i.complete);
}"""


def _let_map_finish(page: Page) -> None:
    """Wait until the public map has loaded all it asked for, so leaving the page aborts
    nothing (the network guard counts an aborted local request as a failure)."""
    wait_for_map(page)
    map_frame_handle(page).wait_for_function(_MAP_LOADED_JS, timeout=30_000)


def _open_sign_in(page: Page, app: OidcApp) -> None:
    """The Sign in page, reached as a person does: the app's address, then its link.

    (Opening ``/sign-in`` directly makes Streamlit's front end probe
    ``/sign-in/_stcore/health`` first, a 404 the network guard would count.)
    """
    page.goto(f"{app.server.url}/")
    wait_for_app_run(page)
    _let_map_finish(page)
    page.get_by_role("link", name="Sign in").click()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible(timeout=30_000)


def _continue_at_provider(page: Page, app: OidcApp, email: str, name: str, *,
                          verified: bool = True, shot: str, on_sign_in: bool = False) -> None:
    """From the Sign in page to the provider, "Continue as <email>", back to the app."""
    app.idp.present(email, name, verified=verified)
    if not on_sign_in:
        _open_sign_in(page, app)
    page.get_by_role("button", name=f"Sign in with {PROVIDER}").click()
    button = page.get_by_role("button", name=f"Continue as {email}")
    expect(button).to_be_visible(timeout=30_000)
    assert page.url.startswith(app.idp.issuer + "/authorize?")
    screenshot(page, f"{shot}-at-provider")
    button.click()
    page.wait_for_url(re.compile("^" + re.escape(app.server.url) + "/"), timeout=30_000)
    wait_for_app_run(page)


def _logins(app: OidcApp) -> list[tuple]:
    store = open_store(app.store_url)
    try:
        with store.engine.connect() as conn:
            return [tuple(r) for r in conn.execute(
                sa.select(t.audit_log.c.actor_id, t.audit_log.c.actor_name,
                          t.audit_log.c.actor_role, t.audit_log.c.entity_id,
                          t.audit_log.c.fields)
                .where(t.audit_log.c.entity == "user", t.audit_log.c.action == "login")
                .order_by(t.audit_log.c.id))]
    finally:
        store.close()


def test_coordinator_signs_in_with_the_identity_provider(page: Page, oidc_app: OidcApp,
                                                         hermetic: NetworkGuard):
    app = oidc_app
    before = len(_logins(app))
    _open_sign_in(page, app)
    expect(page.get_by_role("button", name=f"Sign in with {PROVIDER}")).to_be_visible()
    expect(page.get_by_role("textbox", name="Username")).to_be_visible()  # passwords still work
    screenshot(page, "oidc-sign-in-page")
    _continue_at_provider(page, app, *JANE, shot="oidc-jane", on_sign_in=True)
    # back at the app, signed in as her coordinator account: her case, not her colleague's
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible(timeout=30_000)
    expect(page.get_by_role("heading", name="Case OIDC-1 · Alex")).to_be_visible()
    # signed in: the menu holds "Sign out" (in its "N more" overflow when the menu is full)
    expect(page.locator("a[data-testid='stTopNavLink'][href$='/sign-out']")).to_have_count(1)
    assert "OIDC-2" not in page.locator("body").inner_text()
    screenshot(page, "oidc-jane-signed-in")
    # the protocol really ran: state, nonce and PKCE sent; the issued code redeemed once
    (auth,) = app.idp.events_of("authorize")[-1:]
    assert auth["refused"] is None
    query = auth["query"]
    assert query["client_id"] == CLIENT_ID and "openid" in query["scope"].split()
    assert len(query["state"]) >= 16 and len(query["nonce"]) >= 16
    assert query["code_challenge_method"] == "S256"
    (consent,) = app.idp.events_of("consent")[-1:]
    assert consent["state"] == query["state"] and consent["email"] == JANE[0]
    (token,) = app.idp.events_of("token")[-1:]
    assert token["code"] == consent["code"] and token["error"] is None
    assert token["pkce_checked"] and token["nonce"] == query["nonce"]
    # the sign-in is audited with its actor
    logins = _logins(app)[before:]
    assert logins == [(app.jane.user_id, "Jane Smith", "coordinator", app.jane.user_id,
                       ["via_identity_provider"])]
    # a reload keeps her signed in (Wayhome's session cookie, or the provider's)
    page.reload()
    wait_for_app_run(page)
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible(timeout=30_000)
    hermetic.assert_clean()


@pytest.mark.parametrize(
    ("email", "name", "verified"),
    [
        ("jane.smith@gmail.com", "Jane Smith", True),  # another domain
        ("jane.smith@met.police.uk", "Jane Smith", False),  # unverified email
        ("nobody.here@met.police.uk", "Nobody Here", True),  # no such account
    ],
    ids=["other-domain", "unverified", "unknown-account"],
)
def test_other_identities_are_refused(page: Page, oidc_app: OidcApp, hermetic: NetworkGuard,
                                      email: str, name: str, verified: bool):
    app = oidc_app
    before = len(_logins(app))
    _continue_at_provider(page, app, email, name, verified=verified, shot=f"oidc-refused-{email}")
    # the provider vouched for them (the code was redeemed) ...
    (token,) = app.idp.events_of("token")[-1:]
    assert token["error"] is None
    # ... but Wayhome says no, clearly: at once on the page the provider returns to ...
    expect(page.get_by_test_id("stToast").filter(has_text=OIDC_REFUSED_NOTE)).to_be_visible(
        timeout=30_000)
    _let_map_finish(page)
    screenshot(page, f"oidc-refused-back-{email}")
    # ... and on the Sign in page, where nobody is signed in
    page.get_by_role("link", name="Sign in").click()
    wait_for_app_run(page)
    expect(page.get_by_test_id("stAlert").filter(has_text=OIDC_REFUSED)).to_be_visible(
        timeout=30_000)
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_have_count(0)
    expect(page.get_by_role("link", name="Sign out")).to_have_count(0)
    screenshot(page, f"oidc-refused-{'verified' if verified else 'unverified'}-{email}")
    assert _logins(app)[before:] == []
    store = open_store(app.store_url)
    try:
        with store.engine.connect() as conn:
            names = set(conn.execute(sa.select(t.users.c.username)).scalars())
    finally:
        store.close()
    assert "nobody.here" not in names  # refused, never created
    hermetic.assert_clean()


@pytest.mark.parametrize("forgery", FORGERIES)
def test_a_forged_identity_token_signs_nobody_in(page: Page, oidc_app: OidcApp,
                                                 hermetic: NetworkGuard, forgery: str):
    """The checks are real: Jane's own email, but a token the client must not trust."""
    app = oidc_app
    before = len(_logins(app))
    refusals = app.server.log().count(TOKEN_REFUSED)
    app.idp.forge = forgery
    try:
        _continue_at_provider(page, app, *JANE, shot=f"oidc-forged-{forgery}")
    finally:
        app.idp.forge = None
    (token,) = app.idp.events_of("token")[-1:]
    assert token["error"] is None  # the provider issued it; Streamlit's Authlib refused it
    _let_map_finish(page)  # back on the public map ...
    expect(page.get_by_role("link", name="Sign in")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("link", name="Sign out")).to_have_count(0)
    expect(page.get_by_role("link", name="Cases")).to_have_count(0)
    assert not [c for c in page.context.cookies() if c["name"].startswith("_streamlit_user")]
    assert _logins(app)[before:] == []  # ... and nobody signed in
    assert app.server.log().count(TOKEN_REFUSED) == refusals + 1  # Streamlit's own warning
    hermetic.assert_clean()


def test_signing_out_ends_the_session(page: Page, oidc_app: OidcApp, hermetic: NetworkGuard):
    app = oidc_app
    _continue_at_provider(page, app, *JANE, shot="oidc-sign-out")
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_be_visible(timeout=30_000)
    # Wayhome's session cookie is set by the server (HttpOnly) on the next run
    for _ in range(120):
        if any(c["name"] == "wayhome_session" for c in page.context.cookies()):
            break
        page.wait_for_timeout(250)
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    assert "_streamlit_user" in cookies and "wayhome_session" in cookies, cookies.keys()
    nav_link(page, "Sign out").click()
    # st.logout sends the browser through Streamlit's /auth/logout back to the app
    expect(page.get_by_role("link", name="Sign in")).to_be_visible(timeout=30_000)
    wait_for_app_run(page)
    _let_map_finish(page)
    page.get_by_role("link", name="Sign in").click()
    wait_for_app_run(page)
    expect(page.get_by_role("textbox", name="Username")).to_be_visible(timeout=30_000)
    expect(page.get_by_role("button", name=f"Sign in with {PROVIDER}")).to_be_visible()
    expect(page.get_by_role("heading", name="Cases", exact=True)).to_have_count(0)
    screenshot(page, "oidc-signed-out")
    # loading the app again, in this tab or a new one, stays signed out: neither
    # Wayhome's cookie nor the identity provider's signs her back in
    for tab in (page, page.context.new_page()):
        tab.goto(f"{app.server.url}/")
        wait_for_app_run(tab)
        _let_map_finish(tab)
        expect(tab.get_by_role("link", name="Sign in")).to_be_visible(timeout=30_000)
        expect(tab.get_by_role("link", name="Sign out")).to_have_count(0)
        expect(tab.get_by_role("link", name="Cases")).to_have_count(0)
    names = {c["name"] for c in page.context.cookies()}
    assert not {n for n in names if n.startswith("_streamlit_user")}, names
    assert "wayhome_session" not in names, names
    # the Wayhome session ended server-side too: the old cookie would open nothing
    store = open_store(app.store_url)
    try:
        assert store.open_session(cookies["wayhome_session"]) is None
    finally:
        store.close()
    hermetic.assert_clean()
