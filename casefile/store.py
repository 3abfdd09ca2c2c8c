r"""The store's front: one :class:`Store` that pages and the command line call.

Every operation is a plain function in the module named for what it acts on —
:mod:`casefile.cases`, :mod:`casefile.sightings`, :mod:`casefile.accounts`,
:mod:`casefile.sectors`, :mod:`casefile.teams`, :mod:`casefile.hazards`,
:mod:`casefile.handovers`, :mod:`casefile.links`, :mod:`casefile.sessions`,
:mod:`casefile.tips`, :mod:`casefile.tracks`, :mod:`casefile.probability`,
:mod:`casefile.motion`, :mod:`casefile.streets`, :mod:`casefile.tasks`,
:mod:`casefile.purge`, :mod:`casefile.audit`, :mod:`casefile.briefings`,
:mod:`casefile.handover_reports` — taking the
:class:`~casefile.database.Database` first, positional-only. Each runs in one
:class:`~casefile.unit_of_work.UnitOfWork`, which keeps the rules every write
keeps, by construction rather than by convention:

* the actor's role (from the one role table, :mod:`casefile.access`) and case
  membership, and a team lead's or partner unit's row scope;
* no stale ``version`` (:class:`~casefile.errors.StaleVersion`: who changed it, when);
* the case's change counter (``case_change.n``, which live views poll) moved
  first, in the same transaction;
* an audit record per change (field names; non-personal before/after values;
  the personal ones and the reason go to the purgeable ``audit_detail``),

or nothing written at all. Creating calls take an ``idempotency_key`` so a form
or drawing handed back again by a rerun is saved once. This module only lists
the operations (:class:`~casefile.unit_of_work.operation` makes each a method
that retries a deadlocked transaction and turns database errors into plain
:class:`~casefile.errors.StoreError`\ s); no store module imports it.
"""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from casefile import accounts as accounts_ops
from casefile import audit as audit_ops
from casefile import briefings as briefings_ops
from casefile import cases as cases_ops
from casefile import handover_reports as handover_reports_ops
from casefile import handovers as handovers_ops
from casefile import hazards as hazards_ops
from casefile import links as links_ops
from casefile import motion as motion_ops
from casefile import probability as probability_ops
from casefile import purge as purge_ops
from casefile import rendezvous as rendezvous_ops
from casefile import sector_index as sector_index_ops
from casefile import sectors as sectors_ops
from casefile import sessions as sessions_ops
from casefile import sightings as sightings_ops
from casefile import streets as streets_ops
from casefile import tasks as tasks_ops
from casefile import team_view as team_view_ops
from casefile import teams as teams_ops
from casefile import tips as tips_ops
from casefile import tracks as tracks_ops
from casefile.changes import ChangeFeed
from casefile.database import Database
from casefile.engine import describe_url
from casefile.unit_of_work import operation

__all__ = ["Store", "open_store"]


class Store:
    """Cases, sightings, sectors, tracks, links and the audit log over one database.

    Thread-safe; share one per process. Every method takes the acting
    :class:`~casefile.permissions.Actor` first (sign-in and link opening take
    the secret instead) and is checked by the store, whatever page calls.
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

    def __repr__(self) -> str:
        return f"Store({describe_url(self.url)!r})"

    def close(self) -> None:
        """Close every pooled connection."""
        self.db.close()

    def change_feed(self) -> ChangeFeed | None:
        """The process's listener for pushed changes (PostgreSQL; None on SQLite)."""
        return self.db.change_feed()

    def backup(self, dest_dir: str | Path) -> Path:
        """A consistent copy of the whole store in ``dest_dir`` (see Database.backup)."""
        return self.db.backup(dest_dir)

    # ------------------------------------------------------------------ operations
    # One line per operation: the function (in the module named for what it acts
    # on) becomes a method; see casefile.unit_of_work.operation.

    # audit log
    audit_log = operation(audit_ops.audit_log)

    # hazard areas
    add_hazard = operation(hazards_ops.add_hazard)
    update_hazard = operation(hazards_ops.update_hazard)
    remove_hazard = operation(hazards_ops.remove_hazard)
    hazards = operation(hazards_ops.hazards)

    # streets from an OpenStreetMap extract (no case's)
    load_streets = operation(streets_ops.load_streets)
    street_lines = operation(streets_ops.street_lines)
    streets_version = operation(streets_ops.streets_version)

    # cases, sightings, accounts, teams, purge
    create_user = operation(accounts_ops.create_user)
    set_password = operation(accounts_ops.set_password)
    get_user = operation(accounts_ops.get_user)
    authenticate = operation(accounts_ops.authenticate)
    create_case = operation(cases_ops.create_case)
    update_case = operation(cases_ops.update_case)
    add_case_member = operation(cases_ops.add_case_member)
    case_id_for = operation(cases_ops.case_id_for)
    list_cases = operation(cases_ops.list_cases)
    get_case = operation(cases_ops.get_case)
    find_case = operation(cases_ops.find_case)
    load_case = operation(cases_ops.load_case)
    change_token = operation(cases_ops.change_token)
    add_sighting = operation(sightings_ops.add_sighting)
    add_sightings = operation(sightings_ops.add_sightings)
    update_sighting = operation(sightings_ops.update_sighting)
    delete_sighting = operation(sightings_ops.delete_sighting)
    get_sighting = operation(sightings_ops.get_sighting)
    path = operation(sightings_ops.path)
    last_known_location = operation(sightings_ops.last_known_location)
    create_team = operation(teams_ops.create_team)
    update_team = operation(teams_ops.update_team)
    get_team = operation(teams_ops.get_team)
    purges_due = operation(purge_ops.purges_due)
    purge_case = operation(purge_ops.purge_case)
    teams = operation(teams_ops.teams)
    sightings = operation(sightings_ops.sightings)

    # sectors, sector index, handovers, tips
    create_sector = operation(sectors_ops.create_sector)
    create_sectors = operation(sectors_ops.create_sectors)
    get_sector = operation(sectors_ops.get_sector)
    find_sector = operation(sectors_ops.find_sector)
    sectors_frame = operation(sectors_ops.sectors_frame)
    duplication_figure = operation(sectors_ops.duplication_figure)
    update_sector = operation(sectors_ops.update_sector)
    set_sector_status = operation(sectors_ops.set_sector_status)
    assign_sector = operation(sectors_ops.assign_sector)
    start_sector = operation(sectors_ops.start_sector)
    finish_sector = operation(sectors_ops.finish_sector)
    delete_sector = operation(sectors_ops.delete_sector)
    check_overlaps = operation(sector_index_ops.check_overlaps)
    sectors = operation(sectors_ops.sectors)
    create_handover = operation(handovers_ops.create_handover)
    acknowledge_handover = operation(handovers_ops.acknowledge_handover)
    get_handover = operation(handovers_ops.get_handover)
    sectors_near_unit = operation(handovers_ops.sectors_near_unit)
    handovers = operation(handovers_ops.handovers)
    family_view = operation(tips_ops.family_view)
    send_tip = operation(tips_ops.send_tip)
    family_search_check = operation(tips_ops.family_search_check)
    report_family_search = operation(tips_ops.report_family_search)
    family_streets = operation(tips_ops.family_streets)
    family_street_ground = operation(tips_ops.family_street_ground)
    family_map_streets = operation(tips_ops.family_map_streets)
    triage_queue = operation(tips_ops.triage_queue)
    triage_count = operation(tips_ops.triage_count)
    review_report = operation(tips_ops.review_report)
    my_reports = operation(tips_ops.my_reports)

    # tracks, passes, probability, links
    upload_track = operation(tracks_ops.upload_track)
    refresh_coverage = operation(tracks_ops.refresh_coverage)
    set_pass_sweep = operation(tracks_ops.set_pass_sweep)
    delete_track = operation(tracks_ops.delete_track)
    passes = operation(tracks_ops.passes)
    tracks_frame = operation(tracks_ops.tracks_frame)
    sector_coverage = operation(tracks_ops.sector_coverage)
    coverage_timeline = operation(tracks_ops.coverage_timeline)
    set_up_poa = operation(probability_ops.set_up_poa)
    poa_state = operation(probability_ops.poa_state)
    poa_history = operation(probability_ops.poa_history)
    poa_origin_moved = operation(probability_ops.poa_origin_moved)
    sector_poa_table = operation(probability_ops.sector_poa_table)
    cell_pods = operation(probability_ops.cell_pods)
    motion_model = operation(motion_ops.motion_model)
    set_motion_model = operation(motion_ops.set_motion_model)
    poa_replay = operation(motion_ops.poa_replay)
    stale_ground = operation(motion_ops.stale_ground)
    tracks = operation(tracks_ops.tracks)
    sign_in = operation(sessions_ops.sign_in)
    sign_in_oidc = operation(sessions_ops.sign_in_oidc)
    start_session = operation(sessions_ops.start_session)
    open_session = operation(sessions_ops.open_session)
    end_session = operation(sessions_ops.end_session)
    issue_link = operation(links_ops.issue_link)
    team_id_for = operation(links_ops.team_id_for)
    revoke_link = operation(links_ops.revoke_link)
    open_link = operation(links_ops.open_link)
    link_poll = operation(links_ops.link_poll)
    sharing = operation(links_ops.sharing)
    set_sharing = operation(links_ops.set_sharing)
    case_brief = operation(links_ops.case_brief)
    team_sectors = operation(links_ops.team_sectors)
    team_name = operation(links_ops.team_name)
    shared_sightings = operation(links_ops.shared_sightings)
    partner_handovers = operation(links_ops.partner_handovers)
    partner_sectors = operation(links_ops.partner_sectors)
    team_hazards = operation(links_ops.team_hazards)
    team_neighbours = operation(team_view_ops.team_neighbours)
    team_last_known = operation(team_view_ops.team_last_known)
    links = operation(links_ops.links)

    # enquiry tasks (house-to-house, CCTV, visits, checks) and their repeat check
    add_task = operation(tasks_ops.add_task)
    task_repeats = operation(tasks_ops.task_repeats)
    update_task = operation(tasks_ops.update_task)
    assign_task = operation(tasks_ops.assign_task)
    set_task_status = operation(tasks_ops.set_task_status)
    delete_task = operation(tasks_ops.delete_task)
    tasks = operation(tasks_ops.tasks)
    get_task = operation(tasks_ops.get_task)
    team_tasks = operation(tasks_ops.team_tasks)
    task_counts = operation(tasks_ops.task_counts)
    partner_tasks = operation(tasks_ops.partner_tasks)
    tasks_near_unit = operation(tasks_ops.tasks_near_unit)

    # briefing packs
    print_briefing = operation(briefings_ops.print_briefing)
    print_period_pack = operation(briefings_ops.print_period_pack)

    # the rendezvous point
    rendezvous = operation(rendezvous_ops.rendezvous)
    set_rendezvous = operation(rendezvous_ops.set_rendezvous)
    clear_rendezvous = operation(rendezvous_ops.clear_rendezvous)

    # handover reports
    make_handover_report = operation(handover_reports_ops.make_handover_report)


def open_store(url: str | None = None, *, migrate: bool = True) -> Store:
    """Open the store named by ``url`` (default: ``DATABASE_URL`` / the SQLite file).

    Brings the schema up to date first unless ``migrate=False``.
    """
    return Store(url, migrate=migrate)
