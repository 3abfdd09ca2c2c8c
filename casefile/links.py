"""Private links for team leads, families and partner units, and what a link may read.

Operations of the :class:`casefile.Store` front. Signing in, coordinator
sessions and the throttle live in :mod:`casefile.sessions`.

**A private link** opens one case in one role (team lead of one team, family, or
partner unit of one BCU/force). It is a principal of its own: a ``users`` row
that cannot sign in, with ``expires_at``, and a ``case_member`` row for its case,
so the store's one permission check (:func:`casefile.access.authorize`: account
active, not expired, role, case) applies to every call it makes, and the role
table's row scopes (:mod:`casefile.access`) keep a team lead to its own team's
sectors and a partner unit to its own handovers. Revoking switches that row
off, so a page already open on the link fails its next store call or poll.

**Tokens** are ``secrets.token_urlsafe(32)`` (256 random bits) and only their
SHA-256 is stored. A slow password hash (argon2) protects *low-entropy* secrets
from guessing after a database leak; a 256-bit random token cannot be guessed
whatever the hash speed, so a fast, unsalted hash is enough, and it allows an
indexed lookup by hash (no scan, no per-row verify). The token appears once, in
the link given to the coordinator; never in a log, an audit record or the
database. The URL carries only that opaque token, no personal data.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

import sqlalchemy as sa

from casefile import fieldwork as fw
from casefile import hazards as hazard_ops
from casefile import permissions as perm
from casefile import schema as t
from casefile import validate as v
from casefile.accounts import insert_account
from casefile.database import Database
from casefile.errors import (
    InvalidInput,
    LinkGone,
    NotFound,
    PermissionDenied,
)
from casefile.fieldwork import Handover, Hazard, Sector, Unit, UnitSector
from casefile.handovers import load_handover, resolve_unit, sectors_near
from casefile.permissions import Actor
from casefile.records import Sighting
from casefile.sector_rows import code_number, pared_down, sector_record
from casefile.sessions import (
    client_address,
    client_hash,
    gatekeeper,
    hash_token,
    knock,
    refuse,
)
from casefile.sightings import sighting_record, sightings_query
from casefile.timefmt import utcnow
from casefile.unit_of_work import UnitOfWork, writes
from vocab import roles, settings

#: what team leads may be shown of sightings: none, verified ones, or all but dismissed
TEAM_SIGHTINGS: Final[tuple[str, ...]] = ("none", "verified", "all")
MAX_LABEL: Final[int] = 120
#: a link principal's password hash: not an argon2 hash, so no password ever verifies
NO_PASSWORD: Final[str] = "!private-link"  # noqa: S105
#: last-used time is written at most this often per link (not on every page run)
LAST_USED_EVERY: Final[timedelta] = timedelta(minutes=1)


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
        return roles.label(self.role)


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
    ``team_sightings``: "none", "verified" or "all" (not dismissed) for team leads;
    ``team_lkl``: show team leads the last-known location. By default team leads see
    the last-known location and verified sightings (never contacts or who reported).
    """

    case_id: int
    family_lkl: bool = False
    family_delay_min: int = 0
    team_sightings: str = "verified"
    team_lkl: bool = True
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


# ---------------------------------------------------------------------- issuing links


@writes
def issue_link(
    db: Database, /,
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
    unit_of_work = UnitOfWork(db, actor, perm.LINK_MANAGE)
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
    with unit_of_work as uow:
        uow.enter_case(case_id)
        return insert_link(uow, case_id, role=role, label=label, team_id=team_id, unit=target,
                           expires=uow.now + timedelta(days=float(life)))


def insert_link(uow: UnitOfWork, case_id: int, *, role: str, label: str,
                team_id: int | None, unit: Unit | None, expires: datetime) -> IssuedLink:
    """Issue a link inside ``uow`` (its case entered, the label checked): the link's own
    account and case membership, the link row and its audit record. For
    :func:`issue_link` and for the link printed on a briefing pack."""
    conn, now, actor = uow.conn, uow.now, uow.actor
    target = unit
    token = secrets.token_urlsafe(32)
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
    who = roles.label(role)
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
    link_id = int(conn.execute(
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
        ).returning(t.access_links.c.id)
    ).scalar_one())
    uow.record(
        "link", link_id, "issue",
        {
            "role": (None, role),
            "team_id": (None, team_id),
            "unit": (None, target.code if target else None),
            "expires_at": (None, expires),
            "label": (None, label),
        },
    )
    link = links_where(conn, t.access_links.c.id == link_id)[0]
    return IssuedLink(link=link, token=token)


def team_id_for(db: Database, /, actor: Actor, case_id: int, name: str) -> int:
    """The id of the case's team called ``name`` (for issuing a team lead's link)."""
    with UnitOfWork(db, actor, perm.LINK_MANAGE, case_id=case_id, mode="read") as uow:
        found = uow.conn.execute(
            sa.select(t.teams.c.id).where(t.teams.c.case_id == case_id, t.teams.c.name == name)
        ).scalar()
    if found is None:
        raise NotFound(f"This case has no team called {name!r}.")
    return int(found)


def links(db: Database, /, actor: Actor, case_id: int) -> list[PrivateLink]:
    """The case's private links, newest first (coordinators of the case)."""
    with UnitOfWork(db, actor, perm.LINK_MANAGE, case_id=case_id, mode="read") as uow:
        return links_where(uow.conn, t.access_links.c.case_id == case_id)


@writes
def revoke_link(db: Database, /, actor: Actor, link_id: int, *, reason: str | None = None
                ) -> PrivateLink:
    """Stop a link now: pages open on it fail at their next refresh. Repeating is harmless."""
    unit = UnitOfWork(db, actor, perm.LINK_MANAGE)
    reason = v.text("reason", reason, 1000) or None
    with unit as uow:
        row = uow.open(t.access_links, link_id, what="link")
        if row.revoked_at is None:
            uow.conn.execute(
                t.access_links.update()
                .where(t.access_links.c.id == link_id)
                .values(
                    revoked_at=uow.now,
                    revoked_by_name=actor.display_name,
                    version=t.access_links.c.version + 1,
                )
            )
            uow.conn.execute(
                t.users.update()
                .where(t.users.c.id == row.user_id)
                .values(active=False, updated_at=uow.now, updated_by_name=actor.display_name)
            )
            uow.record("link", link_id, "revoke", {"revoked_at": (None, uow.now)},
                       reason=reason)
        return links_where(uow.conn, t.access_links.c.id == link_id)[0]


# ---------------------------------------------------------------------- opening a link


def open_link(db: Database, /, token: str, *, client_key: str | None = None) -> LinkSession:
    """The session a private link's token opens, checked now.

    Raises :class:`LinkGone` (revoked, expired or unknown — one message) or
    :class:`TooManyAttempts`. Records the link's last-used time (at most once
    a minute). Pages call it on every run, so revocation takes effect at once (on
    PostgreSQL, as soon as the revoke's notice reaches this process: the answer is
    kept while the case's counter stands, at most ``ACCESS_RECHECK_SECONDS``).
    """
    who = knock(client_key)
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        refuse(db, "link", who)
        raise LinkGone()
    now = utcnow()
    token_hash = hash_token(token)
    feed = db.change_feed()  # PostgreSQL: the process's listener; None on SQLite
    if feed is not None:
        # every page run opens its link: on PostgreSQL the answer read with the case's
        # counter stands until that counter moves (revoking a link moves it) or
        # ACCESS_RECHECK_SECONDS pass; expiry is checked here each time
        kept = feed.recall(("open_link", token_hash), settings.ACCESS_RECHECK_SECONDS)
        if (kept is not None and kept[0].expires_at > now
                and now - kept[1] < LAST_USED_EVERY):
            return kept[0]
    with UnitOfWork(db, gatekeeper("link"), None, mode="read") as uow:
        row = uow.conn.execute(
            sa.select(t.access_links, t.users.c.display_name, t.users.c.active,
                      t.case_change.c.n.label("case_counter"))
            .join(t.users, t.users.c.id == t.access_links.c.user_id)
            .outerjoin(t.case_change, t.case_change.c.case_id == t.access_links.c.case_id)
            .where(t.access_links.c.token_hash == token_hash)
        ).first()
    if row is None or row.revoked_at is not None or row.expires_at <= now or not row.active:
        refuse(db, "link", who)
        raise LinkGone()
    last_used = row.last_used_at
    if last_used is None or now - last_used >= LAST_USED_EVERY:
        # bookkeeping: when a link was last used is shown to coordinators, not audited
        with UnitOfWork(db, gatekeeper("link"), None, mode="bookkeeping",
                        unaudited={"access_links"}) as uow:
            uow.conn.execute(
                t.access_links.update()
                .where(t.access_links.c.id == row.id)
                .values(last_used_at=now)
            )
        last_used = now
    session = link_session_record(row)
    if feed is not None and row.case_counter is not None:
        feed.remember(("open_link", token_hash), row.case_id, int(row.case_counter),
                      (session, last_used))
    return session


def link_poll(db: Database, /, actor: Actor, case_id: int) -> int:
    """The case's change counter for a link's live view; raises :class:`LinkGone`
    once the link is revoked or expired (the view then shows so).

    On PostgreSQL, answered from the process's listener without a query while
    nothing changed since the database last accepted the link, for at most
    ``ACCESS_RECHECK_SECONDS`` (revoking a link moves the case's counter, so a
    revoked link is checked at once; an expired one within that time)."""
    key = ("link", actor.user_id, actor.role, case_id)
    feed = db.change_feed()  # PostgreSQL: the process's listener; None on SQLite
    if feed is not None:
        pushed = feed.confirmed(key, case_id, settings.ACCESS_RECHECK_SECONDS)
        if pushed is not None:
            return pushed  # no query: nothing changed since the database last said yes
    unit = UnitOfWork(db, actor, perm.LINK_POLL, case_id=case_id, mode="read")
    try:
        with unit as uow:
            n = int(
                uow.conn.execute(
                    sa.select(t.case_change.c.n).where(t.case_change.c.case_id == case_id)
                ).scalar_one()
            )
    except PermissionDenied:
        raise LinkGone() from None
    if feed is not None:
        feed.vouch(key, n)
    return n


# ---------------------------------------------------------------------- sharing settings


def sharing(db: Database, /, actor: Actor, case_id: int) -> Sharing:
    """The case's sharing settings (defaults when never set)."""
    with UnitOfWork(db, actor, perm.LINK_MANAGE, case_id=case_id, mode="read") as uow:
        return sharing_of(uow.conn, case_id)


@writes
def set_sharing(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    version: int,
    family_lkl: bool | None = None,
    family_delay_min: int | None = None,
    team_sightings: str | None = None,
    team_lkl: bool | None = None,
) -> Sharing:
    """Change what the family and team leads see (version-checked; audited)."""
    unit = UnitOfWork(db, actor, perm.LINK_MANAGE)
    changes: dict[str, Any] = {}
    if family_lkl is not None:
        changes["family_lkl"] = fw.flag("family_lkl", family_lkl)
    if family_delay_min is not None:
        changes["family_delay_min"] = v.integer("family_delay_min", family_delay_min, 0, 24 * 60)
    if team_sightings is not None:
        changes["team_sightings"] = v.choice("team_sightings", team_sightings, TEAM_SIGHTINGS)
    if team_lkl is not None:
        changes["team_lkl"] = fw.flag("team_lkl", team_lkl)
    with unit as uow:
        conn = uow.conn
        uow.enter_case(case_id)
        current = sharing_of(conn, case_id)
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
            "team_lkl": current.team_lkl,
            **{k: after for k, (_, after) in diff.items()},
            "updated_at": uow.now,
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
        uow.record("sharing", case_id, "update", diff)
        return sharing_of(conn, case_id)


# ---------------------------------------------------------------------- what a link reads


def case_brief(db: Database, /, actor: Actor, case_id: int) -> CaseBrief:
    """Reference and status (every role); searchers also get the child's first name or
    alias, age, description for searchers, time missing and the IPP."""
    with UnitOfWork(db, actor, perm.CASE_BRIEF, case_id=case_id, mode="read") as uow:
        row = uow.case_row
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


def team_link_of(uow: UnitOfWork, case_id: int) -> Any:
    """The unit's private link, when it is a team lead's link to ``case_id`` (else refused)."""
    link = uow.link
    if link is None:
        raise LinkGone()
    if link.case_id != case_id or link.team_id is None:
        raise PermissionDenied("This link is not for a team of this case.")
    return link


def team_sectors(db: Database, /, actor: Actor, case_id: int) -> list[Sector]:
    """A team lead's own team's sectors (assigned to it, or searched by it), by ID."""
    with UnitOfWork(db, actor, perm.TEAM_SECTORS, case_id=case_id, mode="read") as uow:
        link = team_link_of(uow, case_id)
        rows = uow.conn.execute(
            sa.select(t.sectors).where(
                t.sectors.c.case_id == case_id,
                sa.or_(
                    t.sectors.c.team_id == link.team_id,
                    t.sectors.c.searched_by_team_id == link.team_id,
                ),
            )
        ).all()
    out = [sector_record(r) for r in rows]
    out.sort(key=lambda x: code_number(x.code))
    return out


def team_name(db: Database, /, actor: Actor) -> str:
    """The name of a team lead link's team."""
    with UnitOfWork(db, actor, None, mode="read") as uow:
        link = uow.link
        if link is None:
            raise LinkGone()
        if link.team_id is None:
            raise PermissionDenied("This link is not for a team.")
        return str(fw.require_row(uow.conn, t.teams, link.team_id, "team").name)


def shared_sightings(db: Database, /, actor: Actor, case_id: int) -> list[Sighting]:
    """Sightings as far as the coordinator shares them with team leads, without who
    reported them or how to reach them."""
    with UnitOfWork(db, actor, perm.SIGHTING_READ_SHARED, case_id=case_id, mode="read") as uow:
        share = sharing_of(uow.conn, case_id).team_sightings
        if share == "none":
            return []
        rows = uow.conn.execute(sightings_query(case_id)).all()
    keep = ("verified",) if share == "verified" else ("verified", "unverified")
    return [
        replace(sighting_record(r), reported_by="", reporter_contact="")
        for r in rows
        if r.status in keep
    ]


def partner_handovers(db: Database, /, actor: Actor, case_id: int) -> list[Handover]:
    """Handovers to or from the partner link's own unit, newest first."""
    with UnitOfWork(db, actor, perm.PARTNER_VIEW, case_id=case_id, mode="read") as uow:
        unit = _partner_unit(uow, case_id)
        ids = uow.conn.execute(
            sa.select(t.handovers.c.id)
            .where(
                t.handovers.c.case_id == case_id,
                sa.or_(t.handovers.c.to_code == unit.code, t.handovers.c.from_code == unit.code),
            )
            .order_by(t.handovers.c.id.desc())
        ).scalars().all()
        return [load_handover(uow.conn, i) for i in ids]


def partner_sectors(db: Database, /, actor: Actor, case_id: int, *,
                    within_m: float = 1000.0) -> list[UnitSector]:
    """Sectors in and within ``within_m`` m of the partner link's unit (the handover view).

    Team names and sector notes are left out; statuses, times and shapes stay.
    """
    with UnitOfWork(db, actor, perm.PARTNER_VIEW, case_id=case_id, mode="read") as uow:
        unit = _partner_unit(uow, case_id)
        found = sectors_near(db, uow.conn, case_id, unit, float(within_m))
    return [replace(u, sector=pared_down(u.sector)) for u in found]


def team_hazards(db: Database, /, actor: Actor, case_id: int) -> list[Hazard]:
    """Hazard and no-go areas for a team lead (same as :func:`casefile.hazards.hazards`)."""
    return hazard_ops.hazards(db, actor, case_id)


def _partner_unit(uow: UnitOfWork, case_id: int) -> Unit:
    link = uow.link
    if link is None:
        raise LinkGone()
    if link.case_id != case_id or link.unit_code is None:
        raise PermissionDenied("This link is not for a unit on this case.")
    return Unit(link.unit_layer, link.unit_code, link.unit_name)


# ---------------------------------------------------------------------- helpers


def link_session_record(row: Any) -> LinkSession:
    """A :class:`LinkSession` from a link row joined with its account's name."""
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


def links_where(conn: sa.Connection, where: Any) -> list[PrivateLink]:
    """The links matching ``where``, newest first, with their team's name."""
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


def sharing_of(conn: sa.Connection, case_id: int) -> Sharing:
    """The case's sharing settings (defaults when never set; no permission check)."""
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
        team_lkl=bool(row.team_lkl),
        version=row.version,
    )



__all__ = [
    "TEAM_SIGHTINGS", "CaseBrief", "IssuedLink", "LinkSession", "PrivateLink", "Sharing",
    "client_address", "client_hash", "hash_token", "sharing_of",
]
