"""Signing in: coordinator sign-in (password or OpenID Connect), sessions, and throttling.

**Sessions.** A signed-in coordinator gets an opaque token (256 random bits,
kept by the browser as a cookie) that is valid for ``SESSION_HOURS``; only its
SHA-256 is stored (:func:`hash_token`; see :mod:`casefile.links` for why a fast
hash is enough for a high-entropy token).

**Throttling.** Unknown/expired link tokens, wrong passwords, refused identities
and bad session tokens are recorded (``sign_in_failures``: the kind as scope, a
SHA-256 of the address — and for passwords of the username and of the pair —,
time) in the database, so the limits hold across server processes. Every limit
counts one kind only, and none lets strangers lock a coordinator out
(:func:`throttle_check`): per address, per kind from everyone (holding back only
addresses that failed themselves, for passwords), and per account as a short
growing delay for addresses that failed on that account. A password attempt is
refused with :class:`TooManyAttempts` before the password is even checked
(passwords can be guessed); a *link or session token* is looked up first and a
right one always works (256 random bits cannot be guessed, and a flood of wrong
tokens must not lock every family out) — only wrong ones are then refused.

Failures, sessions and a link's last-used time are bookkeeping: written in
``mode="bookkeeping"`` units, never audited and never moving a case's counter
(they are not changes to a case, and a flood of wrong tokens must not fill the
append-only audit log). A sign-in itself is audited, as the account's login.
"""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

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

#: kinds of sign-in where a secret can be guessed (a token of 256 random bits cannot)
GUESSABLE: Final[frozenset[str]] = frozenset({"password", "oidc"})


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


@dataclass(frozen=True, slots=True)
class Knock:
    """Who is trying, as the throttle counts them (hashes only, see :func:`client_hash`).

    ``client``: the address. ``account``: the username tried (passwords only) and
    ``pair``: that username from this address — so the per-account limit holds back
    only addresses that have themselves failed on the account.
    """

    client: str
    account: str | None = None
    pair: str | None = None

    def keys(self) -> list[str]:
        return [k for k in (self.client, self.account, self.pair) if k is not None]


def knock(client_key: str | None, username: str | None = None) -> Knock:
    """The throttle's keys for a request from ``client_key`` (for ``username``)."""
    if username is None:
        return Knock(client_hash(client_key))
    return Knock(client_hash(client_key), client_hash("user:" + username),
                 client_hash(f"{client_key or 'unknown'}\x00user:{username}"))


def _failures(conn: sa.Connection, scope: str, key: str, since: datetime) -> tuple[int, Any]:
    """How often ``key`` failed for ``scope`` since ``since``, and when it last did."""
    f = t.sign_in_failures.c
    row = conn.execute(
        sa.select(sa.func.count(), sa.func.max(f.at))
        .where(f.scope == scope, f.client_key == key, f.at > since)
    ).one()
    return int(row[0]), row[1]


def account_delay_s(failures: int) -> float:
    """Seconds an address that failed on an account waits after the account's last
    failure, once the account has ``failures`` within the window (0 below the limit):
    ``THROTTLE_ACCOUNT_DELAY_S`` doubling per further failure, at most
    ``THROTTLE_ACCOUNT_MAX_DELAY_S``."""
    over = failures - settings.THROTTLE_PER_ACCOUNT
    if over < 0:
        return 0.0
    return float(min(settings.THROTTLE_ACCOUNT_DELAY_S * 2.0 ** min(over, 30),
                     settings.THROTTLE_ACCOUNT_MAX_DELAY_S))


def throttle_check(db: Database, scope: str, who: Knock) -> None:
    """Refuse with :class:`TooManyAttempts` when this kind of attempt failed too often.

    Everything is counted per kind (``scope``: link, password, oidc, session), so a
    flood of wrong link tokens never holds back a coordinator's password. In order:

    * **the address** (``THROTTLE_PER_CLIENT`` in ``THROTTLE_WINDOW_MIN``) — an
      address that keeps failing waits out the window;
    * **everyone** (``THROTTLE_GLOBAL_PER_MIN`` of this kind per minute) — for
      passwords and identity-provider sign-ins only addresses that have themselves
      failed are held back, so a distributed guessing run cannot lock out every
      coordinator; wrong tokens are held back whoever sends them (a right token is
      checked first and always works);
    * **the account** (passwords: ``THROTTLE_PER_ACCOUNT``) — beyond it, an
      address that has itself failed on this username waits a short, growing delay
      after the account's last failure (:func:`account_delay_s`); an address that
      never failed on it signs in at once, so strangers cannot lock a coordinator out.
    """
    with UnitOfWork(db, gatekeeper(), None, mode="read") as uow:
        conn, now = uow.conn, uow.now
        since = now - timedelta(minutes=settings.THROTTLE_WINDOW_MIN)
        own, _ = _failures(conn, scope, who.client, since)
        if own >= settings.THROTTLE_PER_CLIENT:
            raise TooManyAttempts(
                f"Too many failed attempts. Wait {settings.THROTTLE_WINDOW_MIN:.0f} "
                "minutes and try again."
            )
        if own > 0 or scope not in GUESSABLE:
            f = t.sign_in_failures.c
            # one failure's rows (address, account, pair) share its time: count times
            total = conn.execute(
                sa.select(sa.func.count(sa.distinct(f.at)))
                .where(f.scope == scope, f.at > now - timedelta(minutes=1))
            ).scalar_one()
            if total >= settings.THROTTLE_GLOBAL_PER_MIN:
                raise TooManyAttempts(
                    "Too many failed attempts on this service just now. Wait a minute and "
                    "try again."
                )
        if who.account is None or who.pair is None:
            return
        tried, _ = _failures(conn, scope, who.pair, since)
        if tried == 0:
            return
        n, last = _failures(conn, scope, who.account, since)
        wait = account_delay_s(n)
        if last is not None and wait > 0:
            left = wait - (now - last).total_seconds()
            if left > 0:
                raise TooManyAttempts(
                    "Too many failed attempts for this account just now. Wait "
                    f"{max(1, math.ceil(left))} seconds and try again."
                )


def throttle_fail(db: Database, scope: str, who: Knock) -> None:
    """Record one failure under each of ``who``'s keys (bookkeeping: not audited),
    forgetting day-old ones."""
    with UnitOfWork(db, gatekeeper(), None, mode="bookkeeping",
                    unaudited={"sign_in_failures"}) as uow:
        uow.conn.execute(
            t.sign_in_failures.insert(),
            [{"scope": scope, "client_key": k, "at": uow.now} for k in who.keys()],
        )
        # keep the table small: forget failures older than a day
        uow.conn.execute(
            t.sign_in_failures.delete().where(
                t.sign_in_failures.c.at
                < uow.now - timedelta(minutes=max(settings.THROTTLE_WINDOW_MIN, 24 * 60))
            )
        )


def refuse(db: Database, scope: str, who: Knock) -> None:
    """A wrong link or session token: refused with TooManyAttempts once this client (or
    everyone, for this kind) failed too often, else recorded as one more failure.

    Tokens are 256 random bits, so a *right* token is checked first and always
    works: a guessing run can slow the guessers down but never lock out the
    families and team leads holding real links.
    """
    throttle_check(db, scope, who)
    throttle_fail(db, scope, who)


# ---------------------------------------------------------------------- coordinator sign-in


@writes
def sign_in(db: Database, /, username: str, password: str, *, client_key: str | None = None
            ) -> Actor | None:
    """:func:`casefile.accounts.authenticate` behind the throttle (per address, per
    kind from everyone, per account: see :func:`throttle_check`).

    Returns the actor, or None for a wrong username or password; raises
    :class:`TooManyAttempts` when this client or username failed too often.
    """
    name = (username or "").strip().lower() if isinstance(username, str) else ""
    who = knock(client_key, name)
    throttle_check(db, "password", who)
    actor = authenticate(db, username, password)
    if actor is None or actor.role in perm.LINK_ROLES:
        throttle_fail(db, "password", who)
        return None
    return actor


@writes
def sign_in_oidc(db: Database, /, claims: Any, *, client_key: str | None = None) -> Actor | None:
    """The coordinator an OpenID Connect identity maps to (:mod:`casefile.oidc`), else None.

    Unknown, switched-off and non-coordinator accounts are refused (and counted
    by the throttle like a wrong password); a sign-in is audited like one.
    """
    who = knock(client_key)
    throttle_check(db, "oidc", who)
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
        throttle_fail(db, "oidc", who)
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
    who = knock(client_key)
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        refuse(db, "session", who)
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
        refuse(db, "session", who)
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
