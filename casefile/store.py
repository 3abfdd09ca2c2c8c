"""The store: one :class:`Store` over SQLite or PostGIS, and the rules every write keeps.

One :class:`Store` over one SQLAlchemy engine. Every public method takes the
acting :class:`~casefile.permissions.Actor` first and checks it, whatever page
calls. Every write is one transaction that

* checks the actor's role and case membership,
* refuses a stale ``version`` (:class:`StaleVersion`: who changed it, when),
* writes the entity,
* bumps the case's change counter (``case_change.n``) that live views poll,
* appends an audit record (field names; non-personal before/after values; the
  personal ones and the reason go to the purgeable ``audit_detail``),

or writes nothing at all. Creating calls take an ``idempotency_key`` so a form
or drawing handed back again by a rerun is saved once.

This module holds what those rules share: the connection and transaction
plumbing, the permission check, the idempotency keys, the version check and the
text caps, plus backup and :func:`open_store`. The operations come from one
mixin module each: :mod:`casefile.cases`, :mod:`casefile.sightings`,
:mod:`casefile.accounts`, :mod:`casefile.audit`, :mod:`casefile.sectors`,
:mod:`casefile.teams`, :mod:`casefile.hazards`, :mod:`casefile.handovers`,
:mod:`casefile.links`, :mod:`casefile.tips`, :mod:`casefile.tracks`,
:mod:`casefile.probability` and :mod:`casefile.purge`. Those modules reach the
shared helpers here at call time (``versioned.store_module()``, ``_s()``),
because this module imports them; the helpers they define themselves are
re-exported here under their old names.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from casefile import (
    access,
    accounts,
    audit,
    cases,
    handovers,
    hazards,
    links,
    probability,
    purge,
    sector_index,
    sectors,
    sessions,
    sightings,
    teams,
    tips,
    tracks,
)
from casefile import schema as t
from casefile.audit_records import NAMES_ONLY_ENTITIES, PERSONAL_FIELDS, Change, append_records
from casefile.audit_records import from_json as _json
from casefile.database import Database
from casefile.engine import describe_url
from casefile.errors import InvalidInput, RetryIdempotent, StoreError
from casefile.permissions import Actor
from casefile.unit_of_work import check_version, operation

__all__ = [  # the store, and the helpers other store modules reach through ``_s()``
    "NAMES_ONLY_ENTITIES", "PERSONAL_FIELDS", "Store", "_RetryIdempotent",
    "_check_actor_shape", "_check_version", "_json", "_require_case", "open_store",
]

class _LegacyPlumbing:
    """Transitional: what the mixins not yet turned into operations still call."""

    db: Database

    @contextmanager
    def _writing(self) -> Iterator[sa.Connection]:
        try:
            with self.db.write_engine.begin() as conn:
                yield conn
        except sa.exc.IntegrityError as exc:
            raise _integrity_message(exc) from exc

    @contextmanager
    def _reading(self) -> Iterator[sa.Connection]:
        with self.db.engine.connect() as conn, conn.begin():
            yield conn

    def _authorize(
        self,
        conn: sa.Connection,
        actor: Actor | None,
        permission: str,
        case_id: int | None = None,
    ) -> None:
        access.check_actor_shape(actor, permission)
        assert actor is not None
        access.authorize(conn, actor, permission, case_id)

    def _audit(
        self,
        conn: sa.Connection,
        actor: Actor,
        at: datetime,
        *,
        case_id: int | None,
        entity: str,
        entity_id: int | None,
        action: str,
        changes: Any,
        reason: str | None = None,
    ) -> None:
        change = Change(case_id, entity, entity_id, action, changes, reason)
        append_records(conn, actor, at, [change])

    def _audit_many(
        self, conn: sa.Connection, actor: Actor, at: datetime, entries: Sequence[Any], *,
        reason: str | None = None,
    ) -> None:
        append_records(conn, actor, at, [Change(*e, reason=reason) for e in entries])

    def _bump(self, conn: sa.Connection, case_id: int) -> None:
        conn.execute(
            t.case_change.update()
            .where(t.case_change.c.case_id == case_id)
            .values(n=t.case_change.c.n + 1)
        )

    def _replay(
        self, conn: sa.Connection, key: str | None, entity: str, actor: Actor
    ) -> int | None:
        """The id already saved under ``key``, if this form was submitted before."""
        if key is None:
            return None
        row = conn.execute(
            sa.select(
                t.idempotency.c.entity, t.idempotency.c.entity_id, t.idempotency.c.actor_id
            ).where(t.idempotency.c.key == key)
        ).first()
        if row is None:
            return None
        if row.entity != entity or row.actor_id != actor.user_id:
            raise InvalidInput("This form was already used for something else; reload the page.")
        return int(row.entity_id)

    def _replay_many(
        self, conn: sa.Connection, keys: Sequence[str | None], entity: str, actor: Actor
    ) -> dict[str, int]:
        """{key: id} for the keys already saved (forms handed back again)."""
        wanted = sorted({k for k in keys if k is not None})
        if not wanted:
            return {}
        found: dict[str, int] = {}
        for row in conn.execute(
            sa.select(
                t.idempotency.c.key,
                t.idempotency.c.entity,
                t.idempotency.c.entity_id,
                t.idempotency.c.actor_id,
            ).where(t.idempotency.c.key.in_(wanted))
        ):
            if row.entity != entity or row.actor_id != actor.user_id:
                raise InvalidInput(
                    "This form was already used for something else; reload the page."
                )
            found[row.key] = int(row.entity_id)
        if len(set(keys) - {None}) != sum(k is not None for k in keys):
            raise InvalidInput("Two items of one save carry the same form key.")
        return found

    def _remember(
        self,
        conn: sa.Connection,
        key: str | None,
        entity: str,
        entity_id: int,
        case_id: int | None,
        actor: Actor,
        at: datetime,
    ) -> None:
        if key is not None:
            conn.execute(
                t.idempotency.insert().values(
                    key=key,
                    entity=entity,
                    entity_id=entity_id,
                    case_id=case_id,
                    actor_id=actor.user_id,
                    created_at=at,
                )
            )

    @contextmanager
    def _idempotent(self) -> Iterator[None]:
        """Turn a lost race on an idempotency key (two reruns at once) into a retry."""
        try:
            yield
        except StoreError as exc:
            if (
                isinstance(exc.__cause__, sa.exc.IntegrityError)
                and "idempotency" in str(exc.__cause__.orig).lower()
            ):
                raise _RetryIdempotent() from exc
            raise



class Store(_LegacyPlumbing):
    """Cases, sightings, accounts and audit over one database. Thread-safe; share one.

    Every operation comes from a mixin (one module each, see the module docstring);
    the class itself holds the connections and the plumbing they share. LinksMixin
    comes first: it narrows team leads' and partner units' writes to their own team
    or unit before the general method runs.
    """

    def __init__(self, url: str | None = None, *, migrate: bool = True) -> None:
        self.db = Database(url, migrate=migrate)

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of the database (password included: never log it)."""
        return self.db.url

    @property
    def engine(self) -> sa.Engine:
        """The database's engine (for tests and the command line's schema commands)."""
        return self.db.engine

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgis"``."""
        return self.db.backend

    @property
    def _write_engine(self) -> sa.Engine:
        return self.db.write_engine

    @property
    def _poll_engine(self) -> sa.Engine:
        return self.db.poll_engine

    def __repr__(self) -> str:
        return f"Store({describe_url(self.url)!r})"

    def close(self) -> None:
        """Close every pooled connection."""
        self.db.close()

    def backup(self, dest_dir: str | Path) -> Path:
        """A consistent copy of the whole store in ``dest_dir`` (see Database.backup)."""
        return self.db.backup(dest_dir)

    # ------------------------------------------------------------------ operations
    # One line per operation: the function (in the module named for what it acts
    # on) becomes a method; see casefile.unit_of_work.operation.

    # audit log
    audit_log = operation(audit.audit_log)

    # hazard areas
    add_hazard = operation(hazards.add_hazard)
    update_hazard = operation(hazards.update_hazard)
    remove_hazard = operation(hazards.remove_hazard)
    hazards = operation(hazards.hazards)

    # cases, sightings, accounts, teams, purge
    create_user = operation(accounts.create_user)
    set_password = operation(accounts.set_password)
    get_user = operation(accounts.get_user)
    authenticate = operation(accounts.authenticate)
    create_case = operation(cases.create_case)
    update_case = operation(cases.update_case)
    add_case_member = operation(cases.add_case_member)
    case_id_for = operation(cases.case_id_for)
    list_cases = operation(cases.list_cases)
    get_case = operation(cases.get_case)
    find_case = operation(cases.find_case)
    load_case = operation(cases.load_case)
    change_token = operation(cases.change_token)
    add_sighting = operation(sightings.add_sighting)
    add_sightings = operation(sightings.add_sightings)
    update_sighting = operation(sightings.update_sighting)
    delete_sighting = operation(sightings.delete_sighting)
    get_sighting = operation(sightings.get_sighting)
    path = operation(sightings.path)
    last_known_location = operation(sightings.last_known_location)
    create_team = operation(teams.create_team)
    update_team = operation(teams.update_team)
    get_team = operation(teams.get_team)
    purges_due = operation(purge.purges_due)
    purge_case = operation(purge.purge_case)
    teams = operation(teams.teams)  # last: the name is the module's until here
    sightings = operation(sightings.sightings)  # last: the name is the module's until here

    # sectors, sector index, handovers, tips
    create_sector = operation(sectors.create_sector)
    create_sectors = operation(sectors.create_sectors)
    get_sector = operation(sectors.get_sector)
    find_sector = operation(sectors.find_sector)
    sectors_frame = operation(sectors.sectors_frame)
    duplication_figure = operation(sectors.duplication_figure)
    update_sector = operation(sectors.update_sector)
    set_sector_status = operation(sectors.set_sector_status)
    assign_sector = operation(sectors.assign_sector)
    start_sector = operation(sectors.start_sector)
    finish_sector = operation(sectors.finish_sector)
    delete_sector = operation(sectors.delete_sector)
    check_overlaps = operation(sector_index.check_overlaps)
    sectors = operation(sectors.sectors)  # last: the name is the module's until here
    create_handover = operation(handovers.create_handover)
    acknowledge_handover = operation(handovers.acknowledge_handover)
    get_handover = operation(handovers.get_handover)
    sectors_near_unit = operation(handovers.sectors_near_unit)
    handovers = operation(handovers.handovers)  # last: the name is the module's until here
    family_view = operation(tips.family_view)
    send_tip = operation(tips.send_tip)
    report_family_search = operation(tips.report_family_search)
    triage_queue = operation(tips.triage_queue)
    review_report = operation(tips.review_report)
    my_reports = operation(tips.my_reports)

    # tracks, passes, probability, links
    upload_track = operation(tracks.upload_track)
    refresh_coverage = operation(tracks.refresh_coverage)
    set_pass_sweep = operation(tracks.set_pass_sweep)
    delete_track = operation(tracks.delete_track)
    passes = operation(tracks.passes)
    tracks_frame = operation(tracks.tracks_frame)
    sector_coverage = operation(tracks.sector_coverage)
    coverage_timeline = operation(tracks.coverage_timeline)
    set_up_poa = operation(probability.set_up_poa)
    poa_state = operation(probability.poa_state)
    poa_history = operation(probability.poa_history)
    poa_origin_moved = operation(probability.poa_origin_moved)
    sector_poa_table = operation(probability.sector_poa_table)
    cell_pods = operation(probability.cell_pods)
    tracks = operation(tracks.tracks)  # last: it rebinds the module's name in this class
    sign_in = operation(sessions.sign_in)
    sign_in_oidc = operation(sessions.sign_in_oidc)
    start_session = operation(sessions.start_session)
    open_session = operation(sessions.open_session)
    end_session = operation(sessions.end_session)
    issue_link = operation(links.issue_link)
    team_id_for = operation(links.team_id_for)
    revoke_link = operation(links.revoke_link)
    open_link = operation(links.open_link)
    link_poll = operation(links.link_poll)
    sharing = operation(links.sharing)
    set_sharing = operation(links.set_sharing)
    case_brief = operation(links.case_brief)
    team_sectors = operation(links.team_sectors)
    team_name = operation(links.team_name)
    shared_sightings = operation(links.shared_sightings)
    partner_handovers = operation(links.partner_handovers)
    partner_sectors = operation(links.partner_sectors)
    team_hazards = operation(links.team_hazards)
    links = operation(links.links)  # last: it rebinds the module's name in this class


_RetryIdempotent = RetryIdempotent


# ---------------------------------------------------------------------- helpers


_check_actor_shape = access.check_actor_shape
_check_version = check_version
_require_case = access.require_case


def _integrity_message(exc: sa.exc.IntegrityError) -> StoreError:
    text = str(exc.orig).lower()
    if "idempotency" in text:
        return StoreError("This form is being saved twice at once; reload the page.")
    if "reference" in text:
        return InvalidInput("A case with this reference already exists.")
    return StoreError("The change conflicts with what is stored; reload and try again.")


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open the store named by ``url`` (default: ``DATABASE_URL`` / the SQLite file).

    Brings the schema up to date first unless ``migrate=False``.
    """
    return Store(url, migrate=migrate)
