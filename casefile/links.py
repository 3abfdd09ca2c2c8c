"""Private links for team leads, families and partner units; coordinator sessions; throttling.

Mixed into :class:`casefile.Store` (first among the mixins, so its narrowing of
``start_sector``, ``finish_sector`` and ``acknowledge_handover`` runs before the
general method).

**A private link** opens one case in one role (team lead of one team, family, or
partner unit of one BCU/force). It is a principal of its own: a ``users`` row
that cannot sign in, with ``expires_at``, and a ``case_member`` row for its case,
so the store's one permission check (``Store._authorize``: account active, not
expired, role, case) applies to every call it makes. Revoking switches that row
off, so a page already open on the link fails its next store call or poll.

**Tokens** are ``secrets.token_urlsafe(32)`` (256 random bits) and only their
SHA-256 is stored. A slow password hash (argon2) protects *low-entropy* secrets
from guessing after a database leak; a 256-bit random token cannot be guessed
whatever the hash speed, so a fast, unsalted hash is enough, and it allows an
indexed lookup by hash (no scan, no per-row verify). The token appears once, in
the link given to the coordinator; never in a log, an audit record or the
database. The URL carries only that opaque token, no personal data.

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
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from casefile import fieldwork as fw
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.accounts import insert_account
from casefile.errors import (
    InvalidInput,
    LinkGone,
    NotFound,
    PermissionDenied,
    TooManyAttempts,
)
from casefile.fieldwork import Handover, Hazard, Sector, Unit
from casefile.permissions import Actor
from casefile.records import Sighting
from casefile.timefmt import utcnow

#: the one answer to a revoked, expired or unknown link (it says nothing more)
#: what team leads may be shown of sightings: none, verified ones, or all but dismissed
TEAM_SIGHTINGS: tuple[str, ...] = ("none", "verified", "all")
MAX_LABEL = 120
#: a link principal's password hash: not an argon2 hash, so no password ever verifies
NO_PASSWORD = "!private-link"  # noqa: S105
#: last-used time is written at most this often per link (not on every page run)
LAST_USED_EVERY = timedelta(minutes=1)


def hash_token(token: str) -> str:
    """SHA-256 hex of a high-entropy token (see the module docstring for why not argon2)."""
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


@dataclass(frozen=True, slots=True)
class PrivateLink:
    """A link as the coordinator's link manager sees it (never its token)."""

    id: int
    case_id: int
    role: str
    #: the link's own account: the audit log's ``actor_id`` for what the link did
    user_id: int
    team_id: int | None
    team_name: str | None
    unit: Unit | None
    label: str
    created_at: datetime
    created_by_name: str
    expires_at: datetime
    revoked_at: datetime | None
    revoked_by_name: str | None
    last_used_at: datetime | None
    version: int

    def works(self, now: datetime | None = None) -> bool:
        return self.revoked_at is None and self.expires_at > (now or utcnow())

    @property
    def role_label(self) -> str:
        return {"team_lead": "Team lead", "family": "Family", "partner": "Partner unit"}.get(
            self.role, self.role
        )


@dataclass(frozen=True, slots=True)
class IssuedLink:
    """A new link and its token: shown once, never stored."""

    link: PrivateLink
    token: str

    def url(self, base_url: str) -> str:
        """The link to send: ``base_url`` (the app's address) with ``?link=<token>``."""
        return f"{base_url.rstrip('/')}/?link={self.token}"


@dataclass(frozen=True, slots=True)
class LinkSession:
    """What an opened link may do: its actor, case, role and team or unit."""

    actor: Actor
    link_id: int
    case_id: int
    role: str
    team_id: int | None
    unit: Unit | None
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Sharing:
    """What a case shares beyond its coordinators.

    ``family_lkl``: show the family the last-known location; ``family_delay_min``:
    minutes before a sector's new status appears in the family view;
    ``team_sightings``: "none", "verified" or "all" (not dismissed) for team leads.
    """

    case_id: int
    family_lkl: bool = False
    family_delay_min: int = 0
    team_sightings: str = "none"
    version: int = 0


@dataclass(frozen=True, slots=True)
class CaseBrief:
    """The part of a case a link may see. Searchers (team leads) also get who to look for."""

    id: int
    reference: str
    status: str
    found: bool
    child_name: str | None = None
    age: int | None = None
    description: str | None = None
    reported_missing_at: datetime | None = None
    ipp: tuple[float, float] | None = None


def _s() -> Any:
    from casefile import store

    return store


class LinksMixin:
    """Private links, sessions, throttling and link-narrowed reads (see module docstring)."""

    _writing: Any
    _reading: Any
    _authorize: Any
    _audit: Any
    _bump: Any
    _replay: Any
    _remember: Any

    # ---------------------------------------------------------------- throttling

    def _throttle_check(self, scope: str, keys: list[str]) -> None:
        from wayhome import settings

        now = utcnow()
        since = now - timedelta(minutes=settings.THROTTLE_WINDOW_MIN)
        with self._reading() as conn:
            total = conn.execute(
                sa.select(sa.func.count())
                .select_from(t.sign_in_failures)
                .where(t.sign_in_failures.c.at > now - timedelta(minutes=1))
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

    def _throttle_fail(self, scope: str, keys: list[str]) -> None:
        from wayhome import settings

        now = utcnow()
        with self._writing() as conn:
            conn.execute(
                t.sign_in_failures.insert(),
                [{"scope": scope, "client_key": k, "at": now} for k in keys],
            )
            # keep the table small: forget failures older than a day
            conn.execute(
                t.sign_in_failures.delete().where(
                    t.sign_in_failures.c.at
                    < now - timedelta(minutes=max(settings.THROTTLE_WINDOW_MIN, 24 * 60))
                )
            )

    def _refuse(self, scope: str, keys: list[str]) -> None:
        """A wrong link or session token: refused with TooManyAttempts once this client (or
        everyone) failed too often, else recorded as one more failure.

        Tokens are 256 random bits, so a *right* token is checked first and always
        works: a guessing run can slow the guessers down but never lock out the
        families and team leads holding real links.
        """
        self._throttle_check(scope, keys)
        self._throttle_fail(scope, keys)

    # ---------------------------------------------------------------- coordinator sign-in

    def sign_in(self, username: str, password: str, *, client_key: str | None = None
                ) -> Actor | None:
        """:meth:`authenticate` behind the throttle (per client, per username, global).

        Returns the actor, or None for a wrong username or password; raises
        :class:`TooManyAttempts` when this client or username failed too often.
        """
        name = (username or "").strip().lower() if isinstance(username, str) else ""
        keys = [client_hash(client_key), client_hash("user:" + name)]
        self._throttle_check("password", keys)
        actor = self.authenticate(username, password)  # type: ignore[attr-defined]
        if actor is None or actor.role in perm.LINK_ROLES:
            self._throttle_fail("password", keys)
            return None
        return actor

    def sign_in_oidc(self, claims: Any, *, client_key: str | None = None) -> Actor | None:
        """The coordinator an OpenID Connect identity maps to (:mod:`casefile.oidc`), else None.

        Unknown, switched-off and non-coordinator accounts are refused (and counted
        by the throttle like a wrong password); a sign-in is audited like one.
        """
        from casefile.oidc import oidc_username
        from wayhome import settings

        keys = [client_hash(client_key)]
        self._throttle_check("oidc", keys)
        name = oidc_username(claims, domains=settings.OIDC_EMAIL_DOMAINS)
        row = None
        if name is not None:
            with self._reading() as conn:
                row = conn.execute(sa.select(t.users).where(t.users.c.username == name)).first()
        if row is None or not row.active or row.role != "coordinator" or (
            row.expires_at is not None and row.expires_at <= utcnow()
        ):
            self._throttle_fail("oidc", keys)
            return None
        actor = Actor(user_id=row.id, display_name=row.display_name, role=row.role)
        now = utcnow()
        with self._writing() as conn:
            conn.execute(t.users.update().where(t.users.c.id == row.id)
                         .values(last_login_at=now))
            self._audit(conn, actor, now, case_id=None, entity="user", entity_id=row.id,
                        action="login", changes={"via_identity_provider": (None, True)})
        return actor

    def start_session(self, actor: Actor) -> str:
        """A new opaque session token for a signed-in coordinator (valid ``SESSION_HOURS``).

        Only its SHA-256 is stored; the caller keeps the token (a cookie).
        """
        from wayhome import settings

        _s()._check_actor_shape(actor, None)
        if actor.role in perm.LINK_ROLES or actor.role == "system":
            raise PermissionDenied("Only coordinator accounts keep a sign-in session.")
        token = secrets.token_urlsafe(32)
        now = utcnow()
        with self._writing() as conn:
            self._authorize(conn, actor, perm.CASE_READ)
            conn.execute(
                t.login_sessions.insert().values(
                    token_hash=hash_token(token),
                    user_id=actor.user_id,
                    created_at=now,
                    expires_at=now + timedelta(hours=settings.SESSION_HOURS),
                    last_used_at=now,
                )
            )
        return token

    def open_session(self, token: str, *, client_key: str | None = None) -> Actor | None:
        """The coordinator of a live session token, else None (ended, expired, unknown)."""
        keys = [client_hash(client_key)]
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            self._refuse("session", keys)
            return None
        now = utcnow()
        with self._reading() as conn:
            row = conn.execute(
                sa.select(
                    t.users.c.id, t.users.c.display_name, t.users.c.role, t.users.c.active
                )
                .join(t.login_sessions, t.login_sessions.c.user_id == t.users.c.id)
                .where(
                    t.login_sessions.c.token_hash == hash_token(token),
                    t.login_sessions.c.ended_at.is_(None),
                    t.login_sessions.c.expires_at > now,
                )
            ).first()
        if row is None or not row.active or row.role in perm.LINK_ROLES:
            self._refuse("session", keys)
            return None
        return Actor(user_id=row.id, display_name=row.display_name, role=row.role)

    def end_session(self, token: str) -> None:
        """Sign out: the session token stops working at once."""
        if not isinstance(token, str) or not token:
            return
        with self._writing() as conn:
            conn.execute(
                t.login_sessions.update()
                .where(t.login_sessions.c.token_hash == hash_token(token))
                .values(ended_at=utcnow())
            )

    # ---------------------------------------------------------------- issuing links

    def issue_link(
        self,
        actor: Actor,
        case_id: int,
        *,
        role: str,
        label: str,
        team_id: int | None = None,
        unit: str | Unit | None = None,
        days: float | None = None,
    ) -> IssuedLink:
        """A new private link to ``case_id`` for ``role`` (team_lead needs ``team_id``,
        partner needs ``unit``, a BCU or force). ``label`` says whose it is ("Mum's
        phone"; personal, purged with the case). ``days`` defaults to ``LINK_DAYS``.
        """
        from casefile.handovers import resolve_unit
        from wayhome import settings

        s = _s()
        s._check_actor_shape(actor, perm.LINK_MANAGE)
        role = v.choice("role", role, perm.LINK_ROLES)
        label = v.text("label", label, MAX_LABEL, required=True)
        life = settings.LINK_DAYS if days is None else days
        if isinstance(life, bool) or not isinstance(life, int | float) or not (
            0 < life <= settings.LINK_MAX_DAYS
        ):
            raise InvalidInput(
                f"A link can work for between a few hours and {settings.LINK_MAX_DAYS} days."
            )
        target: Unit | None = None
        if role == "team_lead":
            if team_id is None:
                raise InvalidInput("A team lead's link needs the team it is for.")
        elif team_id is not None:
            raise InvalidInput("Only a team lead's link belongs to a team.")
        if role == "partner":
            if unit is None:
                raise InvalidInput("A partner unit's link needs the BCU or force it is for.")
            target = resolve_unit(unit)
        elif unit is not None:
            raise InvalidInput("Only a partner unit's link belongs to a BCU or force.")
        token = secrets.token_urlsafe(32)
        now = utcnow()
        expires = now + timedelta(days=float(life))
        with self._writing() as conn:
            s._require_case(conn, case_id)
            self._authorize(conn, actor, perm.LINK_MANAGE, case_id)
            if team_id is not None:
                team = fw.require_row(conn, t.teams, team_id, "team")
                if team.case_id != case_id:
                    raise InvalidInput("That team works on another case.")
            n = conn.execute(
                sa.select(sa.func.count())
                .select_from(t.access_links)
                .where(t.access_links.c.case_id == case_id)
            ).scalar_one()
            # the principal's name appears in the append-only audit log: never the
            # personal label, nor the team's name (a family's team names itself)
            who = {"team_lead": "Team lead", "family": "Family", "partner": "Partner unit"}[role]
            extra = f" — team {team_id}" if team_id is not None else (
                f" — {target.name}" if target else "")
            display = f"{who} link {int(n) + 1}{extra}"[:120]
            user_id = insert_account(conn, actor, now, username=f"link.{secrets.token_hex(12)}",
                                     display_name=display, password_hash=NO_PASSWORD,
                                     role=role, expires_at=expires)
            conn.execute(
                t.case_member.insert().values(
                    case_id=case_id,
                    user_id=user_id,
                    role=role,
                    added_at=now,
                    added_by_name=actor.display_name,
                )
            )
            link_id = conn.execute(
                t.access_links.insert().values(
                    case_id=case_id,
                    user_id=user_id,
                    role=role,
                    team_id=team_id,
                    unit_layer=target.layer if target else None,
                    unit_code=target.code if target else None,
                    unit_name=target.name if target else None,
                    token_hash=hash_token(token),
                    label=label,
                    created_at=now,
                    created_by_id=actor.user_id,
                    created_by_name=actor.display_name,
                    expires_at=expires,
                    version=1,
                )
            ).inserted_primary_key[0]
            self._bump(conn, case_id)
            self._audit(
                conn,
                actor,
                now,
                case_id=case_id,
                entity="link",
                entity_id=link_id,
                action="issue",
                changes={
                    "role": (None, role),
                    "team_id": (None, team_id),
                    "unit": (None, target.code if target else None),
                    "expires_at": (None, expires),
                    "label": (None, label),
                },
            )
            link = _links(conn, sa.and_(t.access_links.c.id == link_id))[0]
        return IssuedLink(link=link, token=token)

    def team_id_for(self, actor: Actor, case_id: int, name: str) -> int:
        """The id of the case's team called ``name`` (for issuing a team lead's link)."""
        s = _s()
        s._check_actor_shape(actor, perm.LINK_MANAGE)
        with self._reading() as conn:
            s._require_case(conn, case_id)
            self._authorize(conn, actor, perm.LINK_MANAGE, case_id)
            found = conn.execute(
                sa.select(t.teams.c.id).where(t.teams.c.case_id == case_id,
                                              t.teams.c.name == name)
            ).scalar()
        if found is None:
            raise NotFound(f"This case has no team called {name!r}.")
        return int(found)

    def links(self, actor: Actor, case_id: int) -> list[PrivateLink]:
        """The case's private links, newest first (coordinators of the case)."""
        s = _s()
        s._check_actor_shape(actor, perm.LINK_MANAGE)
        with self._reading() as conn:
            s._require_case(conn, case_id)
            self._authorize(conn, actor, perm.LINK_MANAGE, case_id)
            return _links(conn, t.access_links.c.case_id == case_id)

    def revoke_link(self, actor: Actor, link_id: int, *, reason: str | None = None
                    ) -> PrivateLink:
        """Stop a link now: pages open on it fail at their next refresh. Repeating is harmless."""
        s = _s()
        s._check_actor_shape(actor, perm.LINK_MANAGE)
        reason = v.text("reason", reason, 1000) or None
        now = utcnow()
        with self._writing() as conn:
            row = fw.require_row(conn, t.access_links, link_id, "link", lock=True)
            self._authorize(conn, actor, perm.LINK_MANAGE, row.case_id)
            if row.revoked_at is None:
                conn.execute(
                    t.access_links.update()
                    .where(t.access_links.c.id == link_id)
                    .values(
                        revoked_at=now,
                        revoked_by_name=actor.display_name,
                        version=t.access_links.c.version + 1,
                    )
                )
                conn.execute(
                    t.users.update()
                    .where(t.users.c.id == row.user_id)
                    .values(active=False, updated_at=now, updated_by_name=actor.display_name)
                )
                self._bump(conn, row.case_id)
                self._audit(
                    conn,
                    actor,
                    now,
                    case_id=row.case_id,
                    entity="link",
                    entity_id=link_id,
                    action="revoke",
                    changes={"revoked_at": (None, now)},
                    reason=reason,
                )
            return _links(conn, t.access_links.c.id == link_id)[0]

    # ---------------------------------------------------------------- opening a link

    def open_link(self, token: str, *, client_key: str | None = None) -> LinkSession:
        """The session a private link's token opens, checked now.

        Raises :class:`LinkGone` (revoked, expired or unknown — one message) or
        :class:`TooManyAttempts`. Records the link's last-used time (at most once
        a minute). Pages call it on every run, so revocation takes effect at once.
        """
        keys = [client_hash(client_key)]
        if not isinstance(token, str) or not 20 <= len(token) <= 100:
            self._refuse("link", keys)
            raise LinkGone()
        now = utcnow()
        with self._reading() as conn:
            row = conn.execute(
                sa.select(t.access_links, t.users.c.display_name, t.users.c.active)
                .join(t.users, t.users.c.id == t.access_links.c.user_id)
                .where(t.access_links.c.token_hash == hash_token(token))
            ).first()
        if (
            row is None
            or row.revoked_at is not None
            or row.expires_at <= now
            or not row.active
        ):
            self._refuse("link", keys)
            raise LinkGone()
        if row.last_used_at is None or now - row.last_used_at >= LAST_USED_EVERY:
            with self._writing() as conn:
                conn.execute(
                    t.access_links.update()
                    .where(t.access_links.c.id == row.id)
                    .values(last_used_at=now)
                )
        return _session(row)

    def link_session(self, actor: Actor) -> LinkSession:
        """The link behind a link actor, checked now (raises :class:`LinkGone`)."""
        _s()._check_actor_shape(actor, None)
        if actor.role not in perm.LINK_ROLES:
            raise PermissionDenied("This is not a private link.")
        with self._reading() as conn:
            return self._link(conn, actor)

    def _link(self, conn: sa.Connection, actor: Actor) -> LinkSession:
        row = conn.execute(
            sa.select(t.access_links, t.users.c.display_name, t.users.c.active)
            .join(t.users, t.users.c.id == t.access_links.c.user_id)
            .where(t.access_links.c.user_id == actor.user_id)
        ).first()
        if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or (
            not row.active
        ) or row.role != actor.role:
            raise LinkGone()
        return _session(row)

    def link_poll(self, actor: Actor, case_id: int) -> int:
        """The case's change counter for a link's live view; raises :class:`LinkGone`
        once the link is revoked or expired (the view then shows so)."""
        s = _s()
        s._check_actor_shape(actor, perm.LINK_POLL)
        with self._reading() as conn:
            try:
                self._authorize(conn, actor, perm.LINK_POLL, case_id)
            except PermissionDenied:
                raise LinkGone() from None
            return int(
                conn.execute(
                    sa.select(t.case_change.c.n).where(t.case_change.c.case_id == case_id)
                ).scalar_one()
            )

    # ---------------------------------------------------------------- sharing settings

    def sharing(self, actor: Actor, case_id: int) -> Sharing:
        """The case's sharing settings (defaults when never set)."""
        s = _s()
        s._check_actor_shape(actor, perm.LINK_MANAGE)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.LINK_MANAGE, case_id)
            return _sharing(conn, case_id)

    def set_sharing(
        self,
        actor: Actor,
        case_id: int,
        *,
        version: int,
        family_lkl: bool | None = None,
        family_delay_min: int | None = None,
        team_sightings: str | None = None,
    ) -> Sharing:
        """Change what the family and team leads see (version-checked; audited)."""
        s = _s()
        s._check_actor_shape(actor, perm.LINK_MANAGE)
        changes: dict[str, Any] = {}
        if family_lkl is not None:
            changes["family_lkl"] = fw.flag("family_lkl", family_lkl)
        if family_delay_min is not None:
            changes["family_delay_min"] = v.integer(
                "family_delay_min", family_delay_min, 0, 24 * 60
            )
        if team_sightings is not None:
            changes["team_sightings"] = v.choice("team_sightings", team_sightings, TEAM_SIGHTINGS)
        now = utcnow()
        with self._writing() as conn:
            s._require_case(conn, case_id, lock=True)
            self._authorize(conn, actor, perm.LINK_MANAGE, case_id)
            current = _sharing(conn, case_id)
            if current.version != version:
                raise InvalidInput(
                    "The sharing settings were changed by someone else; reload to see them."
                )
            diff = {k: (getattr(current, k), x) for k, x in changes.items()
                    if getattr(current, k) != x}
            if not diff:
                return current
            values = {
                "family_lkl": current.family_lkl,
                "family_delay_min": current.family_delay_min,
                "team_sightings": current.team_sightings,
                **{k: after for k, (_, after) in diff.items()},
                "updated_at": now,
                "updated_by_name": actor.display_name,
                "version": version + 1,
            }
            if version == 0:
                conn.execute(t.case_sharing.insert().values(case_id=case_id, **values))
            else:
                conn.execute(
                    t.case_sharing.update().where(t.case_sharing.c.case_id == case_id)
                    .values(**values)
                )
            self._bump(conn, case_id)
            self._audit(conn, actor, now, case_id=case_id, entity="sharing", entity_id=case_id,
                        action="update", changes=diff)
            return _sharing(conn, case_id)

    # ---------------------------------------------------------------- link-narrowed reads

    def case_brief(self, actor: Actor, case_id: int) -> CaseBrief:
        """Reference and status (every role); searchers also get the child's first name or
        alias, age, description for searchers, time missing and the IPP."""
        s = _s()
        s._check_actor_shape(actor, perm.CASE_BRIEF)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.CASE_BRIEF, case_id)
            row = s._require_case(conn, case_id)
        brief = CaseBrief(
            id=row.id, reference=row.reference, status=row.status, found=row.status == "found"
        )
        if actor.role in ("team_lead", "coordinator"):
            brief = CaseBrief(
                id=row.id,
                reference=row.reference,
                status=row.status,
                found=row.status == "found",
                child_name=row.child_name,
                age=row.age,
                description=row.description,
                reported_missing_at=row.reported_missing_at,
                ipp=(row.ipp_lat, row.ipp_lon),
            )
        return brief

    def team_sectors(self, actor: Actor, case_id: int) -> list[Sector]:
        """A team lead's own team's sectors (assigned to it, or searched by it), by ID."""
        from casefile.sectors import _code_number, _sector

        s = _s()
        s._check_actor_shape(actor, perm.TEAM_SECTORS)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.TEAM_SECTORS, case_id)
            link = self._link(conn, actor)
            if link.case_id != case_id or link.team_id is None:
                raise PermissionDenied("This link is not for a team of this case.")
            rows = conn.execute(
                sa.select(t.sectors).where(
                    t.sectors.c.case_id == case_id,
                    sa.or_(
                        t.sectors.c.team_id == link.team_id,
                        t.sectors.c.searched_by_team_id == link.team_id,
                    ),
                )
            ).all()
        out = [_sector(r) for r in rows]
        out.sort(key=lambda x: _code_number(x.code))
        return out

    def team_name(self, actor: Actor) -> str:
        """The name of a team lead link's team."""
        with self._reading() as conn:
            link = self._link(conn, actor)
            if link.team_id is None:
                raise PermissionDenied("This link is not for a team.")
            return str(fw.require_row(conn, t.teams, link.team_id, "team").name)

    def shared_sightings(self, actor: Actor, case_id: int) -> list[Sighting]:
        """Sightings as far as the coordinator shares them with team leads, without who
        reported them or how to reach them."""
        from dataclasses import replace

        s = _s()
        s._check_actor_shape(actor, perm.SIGHTING_READ_SHARED)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.SIGHTING_READ_SHARED, case_id)
            share = _sharing(conn, case_id).team_sightings
            if share == "none":
                return []
            q = s._sightings_query(case_id)
            rows = conn.execute(q).all()
        keep = ("verified",) if share == "verified" else ("verified", "unverified")
        return [
            replace(s._sighting(r), reported_by="", reporter_contact="")
            for r in rows
            if r.status in keep
        ]

    def partner_handovers(self, actor: Actor, case_id: int) -> list[Handover]:
        """Handovers to or from the partner link's own unit, newest first."""
        from casefile.handovers import _load

        s = _s()
        s._check_actor_shape(actor, perm.PARTNER_VIEW)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.PARTNER_VIEW, case_id)
            link = self._link(conn, actor)
            if link.case_id != case_id or link.unit is None:
                raise PermissionDenied("This link is not for a unit on this case.")
            ids = conn.execute(
                sa.select(t.handovers.c.id)
                .where(
                    t.handovers.c.case_id == case_id,
                    sa.or_(
                        t.handovers.c.to_code == link.unit.code,
                        t.handovers.c.from_code == link.unit.code,
                    ),
                )
                .order_by(t.handovers.c.id.desc())
            ).scalars().all()
            return [_load(conn, i) for i in ids]

    def partner_sectors(self, actor: Actor, case_id: int, *, within_m: float = 1000.0) -> list:
        """Sectors in and within ``within_m`` m of the partner link's unit (the handover view).

        Team names and sector notes are left out; statuses, times and shapes stay.
        """
        from dataclasses import replace

        s = _s()
        s._check_actor_shape(actor, perm.PARTNER_VIEW)
        with self._reading() as conn:
            self._authorize(conn, actor, perm.PARTNER_VIEW, case_id)
            link = self._link(conn, actor)
        if link.case_id != case_id or link.unit is None:
            raise PermissionDenied("This link is not for a unit on this case.")
        found = self._units_sectors(case_id, link.unit, within_m)
        return [
            replace(
                u,
                sector=replace(
                    u.sector,
                    notes="",
                    team_id=None,
                    searched_by_team_id=None,
                    not_searched_reason="",
                    re_search_reason="",
                    overlap_kept_reason="",
                    updated_by_name="",
                ),
            )
            for u in found
        ]

    def _units_sectors(self, case_id: int, unit: Unit, within_m: float) -> list:
        """Sectors in or near ``unit`` (as ``sectors_near_unit``), for an already-checked
        caller: the case's warm spatial index, distances in BNG metres."""
        import shapely

        from casefile.handovers import MAX_WITHIN_M, _unit_area
        from casefile.sectors import _sector

        within = float(within_m)
        if not 0 <= within <= MAX_WITHIN_M:
            raise InvalidInput(f"The distance must be between 0 and {MAX_WITHIN_M:,.0f} m.")
        area, wide = _unit_area(unit.layer, unit.code, within)
        with self._reading() as conn:
            token = conn.execute(
                sa.select(t.case_change.c.n).where(t.case_change.c.case_id == case_id)
            ).scalar_one()
            index = self._case_index(conn, case_id, int(token))  # type: ignore[attr-defined]
            hits = index.index.query(wide)
            if not len(hits):
                return []
            dist = shapely.distance(area, index.index.geoms[hits])
            ids = [int(i) for i in index.ids[hits]]
            rows = {r.id: r for r in conn.execute(
                sa.select(t.sectors).where(t.sectors.c.id.in_(ids))).all()}
        out = []
        for sid, d in zip(ids, dist, strict=True):
            if sid in rows and d <= within:
                sector = _sector(rows[sid])
                out.append(fw.UnitSector(sector=sector, inside=bool(d <= 0.0),
                                         distance_m=float(d),
                                         share_in_unit=sector.share_in(unit.code)))
        out.sort(key=lambda u: (not u.inside, u.distance_m, u.sector.code))
        return out

    def team_hazards(self, actor: Actor, case_id: int) -> list[Hazard]:
        """Hazard and no-go areas for a team lead (same as :meth:`hazards`)."""
        return self.hazards(actor, case_id)  # type: ignore[attr-defined]

    # ---------------------------------------------------------------- narrowed writes

    def _require_own_sector(self, actor: Actor, sector_id: int, version: int,
                            team_id: int | None = None) -> None:
        """A team lead may only touch its own team's sector, at the version it saw.

        Checked before the general method runs; that method re-checks the version
        under a row lock, so a sector reassigned in between is refused as stale.
        """
        if not isinstance(actor, Actor) or actor.role != "team_lead":
            return
        with self._reading() as conn:
            link = self._link(conn, actor)
            row = fw.require_row(conn, t.sectors, sector_id, "sector")
            if row.case_id != link.case_id:
                raise PermissionDenied("This sector belongs to another case.")
            if row.team_id != link.team_id or link.team_id is None:
                raise PermissionDenied(
                    f"Sector {row.code} is not your team's: only its own team can record it."
                )
            if team_id is not None and team_id != link.team_id:
                raise PermissionDenied("A team lead records searches for their own team only.")
            if row.version != version:
                _s()._check_version("sector", sector_id, row, version)

    def start_sector(self, actor: Actor, sector_id: int, *, version: int, **kw: Any) -> Sector:
        self._require_own_sector(actor, sector_id, version)
        return super().start_sector(actor, sector_id, version=version, **kw)  # type: ignore[misc]

    start_sector.__doc__ = "Team leads: their own team's sectors only. " + (
        "The assigned team has started searching (``at`` defaults to now)."
    )

    def finish_sector(self, actor: Actor, sector_id: int, *, version: int, **kw: Any) -> Sector:
        self._require_own_sector(actor, sector_id, version, kw.get("team_id"))
        if isinstance(actor, Actor) and actor.role == "team_lead" and (
            kw.get("share_with_family") is True
        ):
            raise PermissionDenied("Only a coordinator decides what the family sees.")
        return super().finish_sector(actor, sector_id, version=version, **kw)  # type: ignore[misc]

    finish_sector.__doc__ = "Team leads: their own team's sectors only. " + (
        "Record a sector as searched (see SectorsMixin.finish_sector)."
    )

    def acknowledge_handover(self, actor: Actor, handover_id: int, *, by_name: str,
                             version: int, **kw: Any) -> Handover:
        """Partner links acknowledge only handovers addressed to their own unit."""
        if isinstance(actor, Actor) and actor.role == "partner":
            with self._reading() as conn:
                link = self._link(conn, actor)
                row = fw.require_row(conn, t.handovers, handover_id, "handover")
                if row.case_id != link.case_id or link.unit is None or (
                    row.to_code != link.unit.code
                ):
                    raise PermissionDenied(
                        "Only the unit a handover is addressed to can acknowledge it."
                    )
        return super().acknowledge_handover(  # type: ignore[misc]
            actor, handover_id, by_name=by_name, version=version, **kw
        )


# ---------------------------------------------------------------------- helpers


def _session(row: Any) -> LinkSession:
    unit = Unit(row.unit_layer, row.unit_code, row.unit_name) if row.unit_code else None
    return LinkSession(
        actor=Actor(user_id=row.user_id, display_name=row.display_name, role=row.role),
        link_id=row.id,
        case_id=row.case_id,
        role=row.role,
        team_id=row.team_id,
        unit=unit,
        expires_at=row.expires_at,
    )


def _links(conn: sa.Connection, where: Any) -> list[PrivateLink]:
    rows = conn.execute(
        sa.select(t.access_links, t.teams.c.name.label("team_name"))
        .select_from(t.access_links.outerjoin(t.teams, t.teams.c.id == t.access_links.c.team_id))
        .where(where)
        .order_by(t.access_links.c.id.desc())
    ).all()
    return [
        PrivateLink(
            id=r.id,
            case_id=r.case_id,
            role=r.role,
            user_id=r.user_id,
            team_id=r.team_id,
            team_name=r.team_name,
            unit=Unit(r.unit_layer, r.unit_code, r.unit_name) if r.unit_code else None,
            label=r.label,
            created_at=r.created_at,
            created_by_name=r.created_by_name,
            expires_at=r.expires_at,
            revoked_at=r.revoked_at,
            revoked_by_name=r.revoked_by_name,
            last_used_at=r.last_used_at,
            version=r.version,
        )
        for r in rows
    ]


def _sharing(conn: sa.Connection, case_id: int) -> Sharing:
    row = conn.execute(
        sa.select(t.case_sharing).where(t.case_sharing.c.case_id == case_id)
    ).first()
    if row is None:
        return Sharing(case_id=case_id)
    return Sharing(
        case_id=case_id,
        family_lkl=bool(row.family_lkl),
        family_delay_min=int(row.family_delay_min),
        team_sightings=row.team_sightings,
        version=row.version,
    )

