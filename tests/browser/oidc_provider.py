"""A small OpenID Connect identity provider on 127.0.0.1, for the sign-in browser tests.

Why not a mock: ``st.login`` hands the whole flow to Authlib inside the Streamlit
server (discovery, authorization redirect with ``state``/``nonce``/PKCE, code
exchange, signature and claim checks on the identity token). Only a provider that
speaks the protocol over HTTP exercises that path end to end, and it keeps the run
hermetic: nothing leaves this machine.

What it implements (OpenID Connect Core 1.0, authorization code flow):

``/.well-known/openid-configuration``
    discovery metadata: the endpoints below, RS256, ``response_type=code``,
    PKCE with S256 (so Streamlit turns PKCE on).
``/authorize``
    checks ``client_id``, ``redirect_uri`` (exact match with the registered one),
    ``response_type=code`` and the ``openid`` scope; shows a page with one button,
    "Continue as <email>", for the identity the test chose with :meth:`present`.
    Submitting it redirects to ``redirect_uri`` with a one-time ``code`` and the
    request's own ``state``.
``/token``
    checks the client's credentials (HTTP Basic or form fields), that the code was
    issued here, to this client, for this ``redirect_uri``, is unused and fresh, and
    the PKCE ``code_verifier``; returns an access token and an RS256-signed identity
    token carrying the authorize request's ``nonce``.
``/userinfo``
    the identity's claims for a bearer access token.
``/jwks``
    the public half of the signing key.

Every request the relying party made, and what the provider decided, is kept in
:attr:`FakeIdentityProvider.events` so a test can assert the checks happened.
:attr:`FakeIdentityProvider.forge` makes it issue a bad identity token (wrong
nonce, audience or issuer, expired, signed with an unpublished key), to show the
client really checks what it is given.
The signing key is an RSA key generated once per test process (``cryptography``)
and used through ``joserfc``, the JOSE library Authlib itself uses.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import html
import http.server
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote_plus, urlencode, urlsplit

from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.jwk import RSAKey

#: how long an authorization code may wait for its exchange (seconds)
CODE_LIFETIME = 120
TOKEN_LIFETIME = 3600


@functools.cache
def signing_key() -> RSAKey:
    """One RSA key per test process: fresh for every run, cheap for every test."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    key = RSAKey.import_key(private)
    key.ensure_kid()
    return key


@functools.cache
def impostor_key() -> RSAKey:
    """A key the provider never published, under the published key's id (for forgeries)."""
    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return RSAKey.import_key(private, parameters={"kid": signing_key().kid})


#: what :attr:`FakeIdentityProvider.forge` can get wrong in the next identity token
FORGERIES = ("nonce", "audience", "issuer", "signature", "expired")


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class Identity:
    """The person the provider vouches for at the next "Continue as …"."""

    email: str
    name: str
    email_verified: bool = True

    @property
    def sub(self) -> str:
        # stable per email, opaque like a real provider's subject identifier
        return hashlib.sha256(self.email.lower().encode()).hexdigest()[:24]

    def claims(self) -> dict[str, Any]:
        return {"sub": self.sub, "email": self.email, "email_verified": self.email_verified,
                "name": self.name}


@dataclass
class _Grant:
    """What an authorization code stands for until it is exchanged (once)."""

    client_id: str
    redirect_uri: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    identity: Identity
    issued_at: float
    used: bool = False


@dataclass
class FakeIdentityProvider:
    """An OpenID Connect provider for one registered client; start with :meth:`start`."""

    client_id: str
    client_secret: str
    redirect_uri: str
    identity: Identity = field(
        default_factory=lambda: Identity("jane.smith@met.police.uk", "Jane Smith"))
    #: one of :data:`FORGERIES` to issue a bad identity token (the client must refuse it)
    forge: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    _pending: dict[str, tuple[dict[str, str], Identity]] = field(default_factory=dict)
    _grants: dict[str, _Grant] = field(default_factory=dict)
    _tokens: dict[str, Identity] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: http.server.ThreadingHTTPServer | None = None

    # ----------------------------------------------------------------- set-up

    @property
    def issuer(self) -> str:
        assert self._server is not None, "start() the provider first"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    @property
    def metadata_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    def present(self, email: str, name: str, *, verified: bool = True) -> None:
        """Whom the next authorization page offers to continue as."""
        self.identity = Identity(email, name, verified)

    def start(self) -> FakeIdentityProvider:
        provider = self

        class Handler(_Handler):
            idp = provider

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeIdentityProvider:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def events_of(self, kind: str) -> list[dict[str, Any]]:
        with self._lock:
            return [e for e in self.events if e["kind"] == kind]

    def _record(self, kind: str, **details: Any) -> None:
        with self._lock:
            self.events.append({"kind": kind, **details})

    # ----------------------------------------------------------------- endpoints

    def configuration(self) -> dict[str, Any]:
        base = self.issuer
        return {
            "issuer": base,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "userinfo_endpoint": f"{base}/userinfo",
            "jwks_uri": f"{base}/jwks",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["client_secret_basic",
                                                      "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": ["sub", "iss", "aud", "exp", "iat", "nonce", "email",
                                 "email_verified", "name"],
        }

    def authorize(self, query: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """The "Continue as …" page for a valid request; a plain 400 page otherwise.

        Per OpenID Connect Core 3.1.2.6, an unknown client or redirect URI is never
        redirected to: the error is shown here. The identity on the page is the one
        chosen when the page was asked for; the code is issued only on the click.
        """
        problem = None
        if query.get("client_id") != self.client_id:
            problem = "unknown client_id"
        elif query.get("redirect_uri") != self.redirect_uri:
            problem = "redirect_uri is not registered for this client"
        elif query.get("response_type") != "code":
            problem = "only response_type=code is supported"
        elif "openid" not in query.get("scope", "").split():
            problem = "the openid scope is required"
        elif query.get("code_challenge") and query.get("code_challenge_method") != "S256":
            problem = "only the S256 code challenge method is supported"
        self._record("authorize", query=dict(query), refused=problem)
        if problem:
            return 400, {}, _page("Sign-in refused", f"<p>{html.escape(problem)}</p>")
        ticket = secrets.token_urlsafe(16)
        with self._lock:
            self._pending[ticket] = (dict(query), self.identity)
        body = (f"<p>{html.escape(self.client_id)} asks who you are.</p>"
                '<form method="post" action="/authorize/continue">'
                f'<input type="hidden" name="ticket" value="{ticket}">'
                f"<button type=\"submit\">Continue as {html.escape(self.identity.email)}"
                "</button></form>")
        return 200, {}, _page("Test identity provider", body)

    def consent(self, form: dict[str, str]) -> tuple[int, dict[str, str], str]:
        """The click on "Continue as …": a one-time code, back to the client with its state."""
        with self._lock:
            pending = self._pending.pop(form.get("ticket", ""), None)
        if pending is None:
            return 400, {}, _page("Sign-in refused", "<p>unknown or used request</p>")
        query, identity = pending
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._grants[code] = _Grant(
                client_id=query["client_id"], redirect_uri=query["redirect_uri"],
                nonce=query.get("nonce"), code_challenge=query.get("code_challenge"),
                code_challenge_method=query.get("code_challenge_method"),
                identity=identity, issued_at=time.time())
        back = {"code": code}
        if "state" in query:
            back["state"] = query["state"]
        self._record("consent", code=code, state=query.get("state"), email=identity.email)
        return 302, {"Location": f"{query['redirect_uri']}?{urlencode(back)}"}, ""

    def token(self, form: dict[str, str], authorization: str | None
              ) -> tuple[int, dict[str, Any]]:
        """Exchange a code for tokens after checking the client, the code and PKCE."""
        client_id, client_secret = form.get("client_id"), form.get("client_secret")
        if authorization and authorization.startswith("Basic "):
            # RFC 6749 2.3.1: each part is form-urlencoded before the base64
            raw = base64.b64decode(authorization[6:]).decode()
            user, _, password = raw.partition(":")
            client_id, client_secret = unquote_plus(user), unquote_plus(password)
        code = form.get("code", "")
        with self._lock:
            grant = self._grants.get(code)
            fresh = grant is not None and not grant.used
            if grant is not None:
                grant.used = True  # one try per code, right or wrong
        error = None
        if client_id != self.client_id or not secrets.compare_digest(
                client_secret or "", self.client_secret):
            error = "invalid_client"
        elif form.get("grant_type") != "authorization_code":
            error = "unsupported_grant_type"
        elif grant is None or not fresh or grant.client_id != client_id:
            error = "invalid_grant"
        elif time.time() - grant.issued_at > CODE_LIFETIME:
            error = "invalid_grant"
        elif form.get("redirect_uri") != grant.redirect_uri:
            error = "invalid_grant"
        elif grant.code_challenge is not None and _b64url(hashlib.sha256(
                form.get("code_verifier", "").encode()).digest()) != grant.code_challenge:
            error = "invalid_grant"
        self._record("token", code=code, client_id=client_id, error=error,
                     pkce_checked=grant is not None and grant.code_challenge is not None,
                     nonce=grant.nonce if grant else None)
        if error:
            return (401 if error == "invalid_client" else 400), {"error": error}
        assert grant is not None
        access_token = secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[access_token] = grant.identity
        now = int(time.time())
        claims = {
            "iss": self.issuer, "aud": client_id, "iat": now, "auth_time": now,
            "exp": now + TOKEN_LIFETIME,
            # at_hash: the left half of the access token's SHA-256 (Core 3.1.3.6)
            "at_hash": _b64url(hashlib.sha256(access_token.encode()).digest()[:16]),
            **grant.identity.claims(),
        }
        if grant.nonce is not None:
            claims["nonce"] = grant.nonce
        key = signing_key()
        if self.forge == "nonce":
            claims["nonce"] = secrets.token_urlsafe(16)
        elif self.forge == "audience":
            claims["aud"] = "some-other-client"
        elif self.forge == "issuer":
            claims["iss"] = "http://127.0.0.1:9"
        elif self.forge == "expired":
            claims.update(iat=now - 7200, auth_time=now - 7200, exp=now - 3600)
        elif self.forge == "signature":
            key = impostor_key()
        elif self.forge is not None:
            raise ValueError(f"unknown forgery {self.forge!r}")
        id_token = jwt.encode({"alg": "RS256", "kid": key.kid, "typ": "JWT"}, claims, key)
        return 200, {"access_token": access_token, "token_type": "Bearer",
                     "expires_in": TOKEN_LIFETIME, "scope": "openid email profile",
                     "id_token": id_token}

    def userinfo(self, authorization: str | None) -> tuple[int, dict[str, Any]]:
        token = (authorization or "").removeprefix("Bearer ").strip()
        with self._lock:
            identity = self._tokens.get(token)
        self._record("userinfo", known=identity is not None)
        if identity is None:
            return 401, {"error": "invalid_token"}
        return 200, identity.claims()

    @staticmethod
    def jwks() -> dict[str, Any]:
        public = signing_key().as_dict(private=False)
        return {"keys": [{**public, "use": "sig", "alg": "RS256"}]}


def _page(title: str, body: str) -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>"
            f"<title>{html.escape(title)}</title></head><body><h1>{html.escape(title)}</h1>"
            f"{body}</body></html>")


class _Handler(http.server.BaseHTTPRequestHandler):
    """HTTP plumbing only; every decision is made by :class:`FakeIdentityProvider`."""

    idp: FakeIdentityProvider

    def log_message(self, *args: object) -> None:  # keep test output clean
        pass

    def _send(self, status: int, body: str | dict[str, Any],
              headers: dict[str, str] | None = None) -> None:
        is_json = isinstance(body, dict)
        data = (json.dumps(body) if is_json else body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json" if is_json
                         else "text/html; charset=utf-8")
        self.send_header("Cache-Control", "no-store")
        self.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if parts.path == "/.well-known/openid-configuration":
            self._send(200, self.idp.configuration())
        elif parts.path == "/jwks":
            self._send(200, self.idp.jwks())
        elif parts.path == "/authorize":
            status, headers, page = self.idp.authorize(query)
            self._send(status, page, headers)
        elif parts.path == "/userinfo":
            self._send(*self.idp.userinfo(self.headers.get("Authorization")))
        elif parts.path == "/favicon.ico":
            self._send(204, "")
        else:
            self._send(404, {"error": "not_found"})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        path = urlsplit(self.path).path
        if path == "/token":
            self._send(*self.idp.token(form, self.headers.get("Authorization")))
        elif path == "/authorize/continue":
            status, headers, page = self.idp.consent(form)
            self._send(status, page, headers)
        else:
            self._send(404, {"error": "not_found"})
