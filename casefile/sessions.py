"""Signing in: coordinator sign-in (password or OpenID Connect), sessions, and throttling.

**Sessions.** A signed-in coordinator gets an opaque token (256 random bits,
kept by the browser as a cookie) that is valid for ``SESSION_HOURS``; only its
SHA-256 is stored (:func:`hash_token`; see :mod:`casefile.links` for why a fast
hash is enough for a high-entropy token).

**Throttling.** Unknown/expired link tokens, wrong passwords and bad session
tokens are recorded (``sign_in_failures``: scope, SHA-256 of the client key, time)
in the database, so the limit holds across server processes: at most
``THROTTLE_PER_CLIENT`` failures per client (and per username) within
``THROTTLE_WINDOW_MIN`` minutes, and ``THROTTLE_GLOBAL_PER_MIN`` from everyone
per minute. Beyond that a password attempt is refused with :class:`TooManyAttempts`
before the password is even checked (passwords can be guessed); a *link or session
token* is looked up first and a right one always works (256 random bits cannot be
guessed, and a flood of wrong tokens must not lock every family out) — only wrong
ones are then refused with :class:`TooManyAttempts`.

Failures, sessions and a link's last-used time are bookkeeping: written in
``mode="bookkeeping"`` units, never audited and never moving a case's counter
(they are not changes to a case, and a flood of wrong tokens must not fill the
append-only audit log). A sign-in itself is audited, as the account's login.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta
from typing import Any

import sqlalchemy as sa

from casefile import access
from casefile import permissions as perm
from casefile import schema as t
from casefile.accounts import authenticate
from casefile.database import Database
from casefile.errors import PermissionDenied, TooManyAttempts
from casefile.oidc import oidc_username
from casefile.permissions import Actor
from casefile.timefmt import utcnow
from casefile.unit_of_work import UnitOfWork, writes
from vocab import settings


def hash_token(token: str) -> str:
    """SHA-256 hex of a high-entropy token (see :mod:`casefile.links` for why not argon2)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def client_address(forwarded_for: str | None, peer: str | None, trusted_hops: int) -> str:
    """The address to throttle a request by.

    Each reverse proxy appends the address it received the request from to
    ``X-Forwarded-For``, so with ``trusted_hops`` proxies of our own the client is
    the ``trusted_hops``-th entry from the right; anything further left was written
    by the client and proves nothing. With no trusted proxy the header is ignored
    and the connection's ``peer`` counts. "unknown" when neither is known.
    """
    if trusted_hops > 0 and forwarded_for:
        hops = [h.strip() for h in forwarded_for.split(",") if h.strip()]
        if hops:
            # fewer entries than proxies: a proxy was bypassed or mis-set; take the
            # leftmost, which is the furthest any of them saw
            return hops[-trusted_hops] if len(hops) >= trusted_hops else hops[0]
    return peer.strip() if isinstance(peer, str) and peer.strip() else "unknown"


def client_hash(client_key: str | None) -> str:
    """A stored stand-in for a client's address (the address itself is not kept)."""
    return hashlib.sha256(("wayhome-client:" + (client_key or "unknown")).encode()).hexdigest()


def gatekeeper(what: str = "sign-in") -> Actor:
    """The actor of a unit run before anyone is signed in (the server itself)."""
    return Actor.system(what)


# ---------------------------------------------------------------------- throttling


def throttle_check(db: Database, scope: str, keys: list[str]) -> None:
    """Refuse with :class:`TooManyAttempts` when these keys (or everyone) failed too often."""
    with UnitOfWork(db, gatekeeper(), None, mode="read") as uow:
        conn = uow.conn
        since = uow.now - timedelta(minutes=settings.THROTTLE_WINDOW_MIN)
        total = conn.execute(
            sa.select(sa.func.count())
            .select_from(t.sign_in_failures)
            .where(t.sign_in_failures.c.at > uow.now - timedelta(minutes=1))
        ).scalar_one()
        if total >= settings.THROTTLE_GLOBAL_PER_MIN:
            raise TooManyAttempts(
                "Too many failed attempts on this service just now. Wait a minute and "
                "try again."
            )
        for key in keys:
            n = conn.execute(
                sa.select(sa.func.count())
                .select_from(t.sign_in_failures)
                .where(
                    t.sign_in_failures.c.scope == scope,
                    t.sign_in_failures.c.client_key == key,
                    t.sign_in_failures.c.at > since,
                )
            ).scalar_one()
            if n >= settings.THROTTLE_PER_CLIENT:
                raise TooManyAttempts(
                    f"Too many failed attempts. Wait {settings.THROTTLE_WINDOW_MIN:.0f} "
                    "minutes and try again."
                )


def throttle_fail(db: Database, scope: str, keys: list[str]) -> None:
    """Record one failure per key (bookkeeping: not audited), forgetting day-old ones."""
    with UnitOfWork(db, gatekeeper(), None, mode="bookkeeping",
                    unaudited={"sign_in_failures"}) as uow:
        uow.conn.execute(
            t.sign_in_failures.insert(),
            [{"scope": scope, "client_key": k, "at": uow.now} for k in keys],
        )
        # keep the table small: forget failures older than a day
        uow.conn.execute(
            t.sign_in_failures.delete().where(
                t.sign_in_failures.c.at
                < uow.now - timedelta(minutes=max(settings.THROTTLE_WINDOW_MIN, 24 * 60))
            )
        )


def refuse(db: Database, scope: str, keys: list[str]) -> None:
    """A wrong link or session token: refused with TooManyAttempts once this client (or
    everyone) failed too often, else recorded as one more failure.

    Tokens are 256 random bits, so a *right* token is checked first and always
    works: a guessing run can slow the guessers down but never lock out the
    families and team leads holding real links.
    """
    throttle_check(db, scope, keys)
    throttle_fail(db, scope, keys)


# ---------------------------------------------------------------------- coordinator sign-in


@writes
def sign_in(db: Database, /, username: str, password: str, *, client_key: str | None = None
            ) -> Actor | None:
    """:func:`casefile.accounts.authenticate` behind the throttle (per client, per
    username, global).

    Returns the actor, or None for a wrong username or password; raises
    :class:`TooManyAttempts` when this client or username failed too often.
    """
    name = (username or "").strip().lower() if isinstance(username, str) else ""
    keys = [client_hash(client_key), client_hash("user:" + name)]
    throttle_check(db, "password", keys)
    actor = authenticate(db, username, password)
    if actor is None or actor.role in perm.LINK_ROLES:
        throttle_fail(db, "password", keys)
        return None
    return actor


@writes
def sign_in_oidc(db: Database, /, claims: Any, *, client_key: str | None = None) -> Actor | None:
    """The coordinator an OpenID Connect identity maps to (:mod:`casefile.oidc`), else None.

    Unknown, switched-off and non-coordinator accounts are refused (and counted
    by the throttle like a wrong password); a sign-in is audited like one.
    """
    keys = [client_hash(client_key)]
    throttle_check(db, "oidc", keys)
    name = oidc_username(claims, domains=settings.OIDC_EMAIL_DOMAINS)
    row = None
    if name is not None:
        with UnitOfWork(db, gatekeeper(), None, mode="read") as lookup:
            row = lookup.conn.execute(
                sa.select(t.users).where(t.users.c.username == name)
            ).first()
    if row is None or not row.active or row.role != "coordinator" or (
        row.expires_at is not None and row.expires_at <= utcnow()
    ):
        throttle_fail(db, "oidc", keys)
        return None
    actor = Actor(user_id=row.id, display_name=row.display_name, role=row.role)
    with UnitOfWork(db, actor, None) as uow:
        uow.conn.execute(t.users.update().where(t.users.c.id == row.id)
                         .values(last_login_at=uow.now))
        uow.record("user", row.id, "login", {"via_identity_provider": (None, True)},
                   case_id=None)
    return actor


# ---------------------------------------------------------------------- sessions


def start_session(db: Database, /, actor: Actor) -> str:
    """A new opaque session token for a signed-in coordinator (valid ``SESSION_HOURS``).

    Only its SHA-256 is stored; the caller keeps the token (a cookie).
    """
    # a session is bookkeeping of a sign-in already audited, not a change to record
    unit = UnitOfWork(db, actor, None, mode="bookkeeping", unaudited={"login_sessions"})
    if actor.role in perm.LINK_ROLES or actor.role == "system":
        raise PermissionDenied("Only coordinator accounts keep a sign-in session.")
    token = secrets.token_urlsafe(32)
    with unit as uow:
        access.authorize(uow.conn, actor, perm.CASE_READ)
        uow.conn.execute(
            t.login_sessions.insert().values(
                token_hash=hash_token(token),
                user_id=actor.user_id,
                created_at=uow.now,
                expires_at=uow.now + timedelta(hours=settings.SESSION_HOURS),
                last_used_at=uow.now,
            )
        )
    return token


def open_session(db: Database, /, token: str, *, client_key: str | None = None) -> Actor | None:
    """The coordinator of a live session token, else None (ended, expired, unknown)."""
    keys = [client_hash(client_key)]
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        refuse(db, "session", keys)
        return None
    with UnitOfWork(db, gatekeeper(), None, mode="read") as uow:
        row = uow.conn.execute(
            sa.select(t.users.c.id, t.users.c.display_name, t.users.c.role, t.users.c.active)
            .join(t.login_sessions, t.login_sessions.c.user_id == t.users.c.id)
            .where(
                t.login_sessions.c.token_hash == hash_token(token),
                t.login_sessions.c.ended_at.is_(None),
                t.login_sessions.c.expires_at > uow.now,
            )
        ).first()
    if row is None or not row.active or row.role in perm.LINK_ROLES:
        refuse(db, "session", keys)
        return None
    return Actor(user_id=row.id, display_name=row.display_name, role=row.role)


def end_session(db: Database, /, token: str) -> None:
    """Sign out: the session token stops working at once."""
    if not isinstance(token, str) or not token:
        return
    # bookkeeping: ending a session changes no case and is not an audited event
    with UnitOfWork(db, gatekeeper("sign-out"), None, mode="bookkeeping",
                    unaudited={"login_sessions"}) as uow:
        uow.conn.execute(
            t.login_sessions.update()
            .where(t.login_sessions.c.token_hash == hash_token(token))
            .values(ended_at=uow.now)
        )
