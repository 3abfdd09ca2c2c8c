"""Case purge: remove every personal value of a closed case, keep the searched-ground record.

Closing a case (status "closed") schedules its
purge: it is *due* ``PURGE_AFTER_DAYS`` after the status last changed (reopening
the case cancels it, because the status changes again). ``wayhome purge --due``
runs every due purge; ``wayhome purge --case REF`` runs one now.

What goes (in one transaction, audited as ``case``/``purge`` by the actor):

* private links (and their principals' accounts and sessions), their labels;
* the child's name (replaced by "purged"), age, home point, description, notes,
  the family page's name for the child and the family liaison contact;
* sightings' reporters, contact details and descriptions (tips included);
* teams' names (a family searching as a team names itself; "Team <id>" replaces
  them), lead names and contact details; sector names (they can be addresses;
  the short ID replaces them), notes and free-text reasons;
  hazard notes; enquiry tasks' titles, addresses, postcodes and notes, and the
  place of every visit to an address; handover reasons and who acknowledged
  them; family-search notes; GPS tracks' file names and reading notes; the
  rendezvous point (its words can name a home: "outside number 12");
* every ``audit_detail`` row of the case (the personal before/after values and
  reasons) and every form key (``idempotency``) of the case.

What stays: the reference, risk, times, the IPP, sightings' places, times and
sources, every sector's outline, status, times, search type, assurance and what
was not searched (as a shape), GPS tracks' lines and times, passes (coverage and
POD) and POA grids (no personal value: the child's age is never stored there),
hazard shapes, handovers' units and times, and the
append-only audit log (field names, non-personal values, who acted).

On SQLite the purge turns ``secure_delete`` on and checkpoints the write-ahead
log, so removed values do not linger in free pages of the file. On PostgreSQL,
after the purge's transaction, the touched tables are rewritten (``VACUUM FULL``,
each locked while it is copied), so no old row version keeps a personal value in
the table files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from casefile import access
from casefile import permissions as perm
from casefile import schema as t
from casefile.database import Database
from casefile.errors import InvalidInput
from casefile.permissions import Actor
from casefile.timefmt import utcnow
from casefile.unit_of_work import UnitOfWork, writes
from vocab import settings, task_types

PURGED_NAME = "purged"
PURGED_TRACK_NAME = "GPS track (file name purged)"


@dataclass(frozen=True, slots=True)
class PurgeResult:
    case_id: int
    reference: str
    purged_at: datetime
    rows: dict[str, int]  # table -> rows cleared or removed


def purge_due_at(status: str, status_changed_at: datetime | None) -> datetime | None:
    """When a case with this status becomes due for purging (None: not scheduled)."""
    if status != "closed" or status_changed_at is None:
        return None
    return status_changed_at + timedelta(days=settings.PURGE_AFTER_DAYS)


def purges_due(db: Database, /, actor: Actor, *, now: datetime | None = None
               ) -> list[tuple[int, str]]:
    """(case id, reference) of closed cases whose purge is due and not yet done."""
    unit = UnitOfWork(db, actor, perm.CASE_PURGE, mode="read")
    now = now or utcnow()
    with unit as uow:
        access.authorize(uow.conn, actor, perm.CASE_PURGE)
        rows = uow.conn.execute(
            sa.select(t.cases.c.id, t.cases.c.reference)
            .where(
                t.cases.c.status == "closed",
                t.cases.c.purged_at.is_(None),
                t.cases.c.status_changed_at <= now - timedelta(days=settings.PURGE_AFTER_DAYS),
            )
            .order_by(t.cases.c.id)
        ).all()
    return [(int(r.id), str(r.reference)) for r in rows]


@writes
def purge_case(db: Database, /, actor: Actor, case_id: int, *, force: bool = False) -> PurgeResult:
    """Remove every personal value of a closed case (see the module docstring).

    Refused unless the case is closed and its purge is due, or ``force`` (the
    command line, on an operator's decision) for a closed case.
    """
    unit = UnitOfWork(db, actor, perm.CASE_PURGE)
    with unit as uow:
        conn = uow.conn
        now = uow.now
        if db.backend == "sqlite":
            conn.exec_driver_sql("PRAGMA secure_delete = ON")
        uow.enter_case(case_id)
        case = access.require_case(conn, case_id, lock=True)
        if case.status != "closed":
            raise InvalidInput("Only a closed case can be purged; close it first.")
        due = purge_due_at(case.status, case.status_changed_at)
        if not force and (due is None or due > now):
            raise InvalidInput("This case's purge is not due yet.")
        counts: dict[str, int] = {}

        def run(name: str, stmt: Any) -> None:
            counts[name] = counts.get(name, 0) + int(conn.execute(stmt).rowcount or 0)

        principals = sa.select(t.access_links.c.user_id).where(
            t.access_links.c.case_id == case_id
        )
        user_ids = [int(x) for x in conn.execute(principals).scalars()]
        run("volunteer_reports", t.volunteer_reports.update()
            .where(t.volunteer_reports.c.case_id == case_id)
            .values(note="", link_id=None))
        run("access_links", t.access_links.delete().where(t.access_links.c.case_id == case_id))
        if user_ids:
            run("login_sessions", t.login_sessions.delete()
                .where(t.login_sessions.c.user_id.in_(user_ids)))
            run("case_member", t.case_member.delete().where(
                t.case_member.c.user_id.in_(user_ids)))
            # the principals' display names stay in the audit log; they never held
            # the label. Their rows are switched off for good.
            run("users", t.users.update().where(t.users.c.id.in_(user_ids))
                .values(active=False, expires_at=now, updated_at=now,
                        updated_by_name=actor.display_name))
        run("cases", t.cases.update().where(t.cases.c.id == case_id).values(
            child_name=PURGED_NAME, age=None, home_geom=None, home_lat=None, home_lon=None,
            description="", notes="", family_name=None, liaison_name=None,
            liaison_phone=None, purged_at=now, updated_at=now,
            updated_by_id=actor.user_id, updated_by_name=actor.display_name,
            version=t.cases.c.version + 1))
        run("sightings", t.sightings.update().where(t.sightings.c.case_id == case_id)
            .values(reported_by="", reporter_contact="", description=""))
        run("teams", t.teams.update().where(t.teams.c.case_id == case_id)
            .values(name=sa.literal("Team ") + sa.cast(t.teams.c.id, sa.String),
                    lead_name="", contact=""))
        # a sector's name can be an address ("12 Acacia Avenue — family home"): it
        # becomes the sector's short ID, which the searched-ground record keeps
        run("sectors", t.sectors.update().where(t.sectors.c.case_id == case_id).values(
            name=t.sectors.c.code, notes="", not_searched_reason=sa.case(
                (t.sectors.c.not_searched_reason != "", "recorded (purged)"), else_=""),
            re_search_reason=sa.case(
                (t.sectors.c.re_search_reason != "", "recorded (purged)"), else_=""),
            overlap_kept_reason=sa.case(
                (t.sectors.c.overlap_kept_reason != "", "recorded (purged)"), else_="")))
        # enquiry tasks keep what kind of place was checked, when and with what outcome;
        # their addresses, titles and notes go, and a visit loses its place (a home)
        run("tasks", t.tasks.update().where(t.tasks.c.case_id == case_id).values(
            title=t.tasks.c.kind, note="", address="", postcode="", premises_key=None,
            result_note=sa.case((t.tasks.c.result_note != "", "recorded (purged)"), else_=""),
            repeat_kept_reason=sa.case(
                (t.tasks.c.repeat_kept_reason != "", "recorded (purged)"), else_="")))
        run("tasks", t.tasks.update().where(
            t.tasks.c.case_id == case_id, t.tasks.c.kind.in_(sorted(task_types.personal_types())))
            .values(geom=None, lon=None, lat=None, cell=None, street="", street_key=None))
        run("hazards", t.hazards.update().where(t.hazards.c.case_id == case_id)
            .values(note=""))
        run("handovers", t.handovers.update().where(t.handovers.c.case_id == case_id)
            .values(reason="", acknowledged_by=sa.case(
                (t.handovers.c.acknowledged_by.is_not(None), "recorded (purged)"),
                else_=None)))
        # GPS tracks stay (where feet went) but lose their file names and the
        # reader's notes (which quote the file's own column names)
        run("tracks", t.tracks.update().where(t.tracks.c.case_id == case_id)
            .values(file_name=PURGED_TRACK_NAME, notes=[]))
        run("case_rendezvous", t.case_rendezvous.delete().where(
            t.case_rendezvous.c.case_id == case_id))
        run("audit_detail", t.audit_detail.delete().where(
            t.audit_detail.c.case_id == case_id))
        run("idempotency", t.idempotency.delete().where(t.idempotency.c.case_id == case_id))
        # one record for the whole purge: what it cleared, table by table
        uow.record("case", case_id, "purge", {"purged": (None, sorted(counts))})
        result = PurgeResult(case_id=case_id, reference=case.reference, purged_at=now,
                             rows=counts)
    if db.backend == "sqlite":
        # after the commit, so removed values do not linger in the write-ahead log
        with UnitOfWork(db, actor, perm.CASE_PURGE, mode="read") as checkpoint:
            checkpoint.conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    else:
        # after the commit: the old row versions are dead rows in the table files
        # until the tables are rewritten
        db.rewrite_tables(list(counts))
    return result
