"""The ``wayhome`` command: admin tasks over the store, run on the server.

    wayhome db upgrade              bring the database schema up to date
    wayhome db current              show the backend and schema revision
    wayhome demo [--new-links] [--base-url URL]
                                    load the fictional demo case (idempotent); its
                                    private links are printed once, when made
    wayhome user add USERNAME --name "Full Name" [--case REF ...]
    wayhome user password USERNAME  set a new password
    wayhome team add --case REF --name NAME [--org-type TYPE] [--size N] [--lead NAME]
    wayhome backup [--dest DIR]     copy the whole store to a timestamped file
    wayhome link issue --case REF --role family|team_lead|partner --label "Mum's phone"
                       [--team NAME | --unit BCU-or-force] [--days N] [--base-url URL]
                                    print a new private link (shown once) under
                                    --base-url or WAYHOME_PUBLIC_URL (else /?link=…)
    wayhome link list --case REF    the case's links (never their tokens)
    wayhome link revoke ID          stop a link now
    wayhome purge --due | --case REF  remove personal data of closed cases (run daily)
    wayhome brief --case REF --sector CODE | --team NAME --out FILE.pdf
                                    print a briefing pack (its QR code is a new team link)
    wayhome brief --case REF --period [N|current|next] --out FILE.pdf
                                    one operational period's pack: a cover sheet and every
                                    tasked sector's sheet, each with its own team link
    wayhome streets import PATH     load an OpenStreetMap extract (.osm / .osm.pbf) for the app
    wayhome handover report --case REF --to UNIT_CODE --out DIR
                                    the handover report for a BCU or force (PDF + GeoPackage)

The database is ``--database-url`` if given, else ``DATABASE_URL`` /
``WAYHOME_DATABASE_URL``, else the SQLite file ``WAYHOME_SQLITE_PATH``.
Passwords are never taken as command-line arguments (they would land in shell
history and process lists): they are prompted for, or read from standard input
(``--password-stdin``). The demo coordinator's password may also come from
``WAYHOME_DEMO_PASSWORD``.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from collections.abc import Sequence
from typing import TextIO

from casefile import Actor, StoreError, format_london_full, open_store
from casefile.engine import current_revision, describe_url, head_revision
from vocab import settings
from vocab.link_address import command_line_base
from vocab.search import TEAM_ORG_TYPES
from wayhome.briefing import write_brief
from wayhome.demo import load_demo
from wayhome.handover_report import write_handover_report
from wayhome.streets_import import import_streets


def _read_password(args: argparse.Namespace, stdin: TextIO, *, confirm: bool = True) -> str:
    """The password from stdin (``--password-stdin`` or a pipe) or an interactive prompt."""
    if getattr(args, "password_stdin", False) or not stdin.isatty():
        line = stdin.readline()
        return line.rstrip("\r\n")
    first = getpass.getpass("Password (at least 10 characters): ")
    if confirm and getpass.getpass("Same again: ") != first:
        raise StoreError("The two passwords differ; nothing was changed.")
    return first


def _cmd_db_upgrade(args: argparse.Namespace, out: TextIO) -> int:
    store = open_store(args.database_url)
    try:
        out.write(f"{describe_url(store.url)} ({store.backend}) is at schema {head_revision()}.\n")
    finally:
        store.close()
    return 0


def _cmd_db_current(args: argparse.Namespace, out: TextIO) -> int:
    store = open_store(args.database_url, migrate=False)
    try:
        current = current_revision(store.engine)
        out.write(
            f"{describe_url(store.url)} ({store.backend}): schema {current or 'none'}; "
            f"this version of Wayhome needs {head_revision()}.\n"
        )
    finally:
        store.close()
    return 0


def _cmd_demo(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    password = None
    if args.password_stdin:
        password = _read_password(args, stdin, confirm=False)
    elif settings.DEMO_PASSWORD:
        password = settings.DEMO_PASSWORD
    try:  # the address first: a malformed one makes nothing
        base, warnings = command_line_base(args.base_url, settings.PUBLIC_URL)
    except ValueError as exc:
        sys.stderr.write(f"wayhome: {exc}; nothing was loaded.\n")
        return 2
    store = open_store(args.database_url)
    try:
        result = load_demo(store, password=password, everything=True, new_links=args.new_links)
        out.write(
            f"Demo case {result.reference} (fictional child, {result.sightings} sightings, "
            f"{result.teams} teams, {result.sectors} sectors) is ready in "
            f"{describe_url(store.url)}.\n"
        )
        if result.links:
            out.write("Its private links, shown only now (`wayhome demo --new-links` makes "
                      "new ones):\n")
            out.writelines(f"  {issued.link.role_label} ({label}): {issued.url(base)}\n"
                           for label, issued in result.links)
            sys.stderr.writelines(f"wayhome: warning: {w}\n" for w in warnings)
        if result.new_password:
            out.write(
                f"Sign in as {result.username} with password: {result.new_password}\n"
                "(shown only this once; set your own with `wayhome user password "
                f"{result.username}`)\n"
            )
        elif result.password_set:
            out.write(f"Sign in as {result.username} with the password you gave.\n")
        else:
            out.write(f"Sign in as {result.username} (password unchanged).\n")
    finally:
        store.close()
    return 0


def _cmd_user_add(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    password = _read_password(args, stdin)
    system = Actor.system("wayhome user add")
    store = open_store(args.database_url)
    try:
        user = store.create_user(system, args.username, args.name, password)
        out.write(f"Coordinator account {user.username} ({user.display_name}) created.\n")
        for reference in args.case or ():
            store.add_case_member(system, store.case_id_for(system, reference), user.username)
            out.write(f"{user.username} can now work on case {reference}.\n")
    finally:
        store.close()
    return 0


def _cmd_user_password(args: argparse.Namespace, out: TextIO, stdin: TextIO) -> int:
    password = _read_password(args, stdin)
    store = open_store(args.database_url)
    try:
        store.set_password(Actor.system("wayhome user password"), args.username, password)
        out.write(f"Password for {args.username} changed.\n")
    finally:
        store.close()
    return 0


def _cmd_team_add(args: argparse.Namespace, out: TextIO) -> int:
    system = Actor.system("wayhome team add")
    store = open_store(args.database_url)
    try:
        case_id = store.case_id_for(system, args.case)
        team = store.create_team(system, case_id, name=args.name, org_type=args.org_type,
                                 size=args.size, lead_name=args.lead or "")
        out.write(f"Team {team.name} added to case {args.case}.\n")
    finally:
        store.close()
    return 0


def _cmd_backup(args: argparse.Namespace, out: TextIO) -> int:
    store = open_store(args.database_url, migrate=False)
    try:
        target = store.backup(args.dest or settings.BACKUP_DIR)
        out.write(f"Backup written to {target}\n")
    finally:
        store.close()
    return 0


def _cmd_link(args: argparse.Namespace, out: TextIO) -> int:
    system = Actor.system(f"wayhome link {args.link_command}")
    store = open_store(args.database_url)
    try:
        if args.link_command == "issue":
            try:  # the address first: a malformed one makes no link
                base, warnings = command_line_base(args.base_url, settings.PUBLIC_URL)
            except ValueError as exc:
                sys.stderr.write(f"wayhome: {exc}; no link was made.\n")
                return 2
            case_id = store.case_id_for(system, args.case)
            team_id = store.team_id_for(system, case_id, args.team) if args.team else None
            issued = store.issue_link(
                system, case_id, role=args.role, label=args.label, team_id=team_id,
                unit=args.unit, days=args.days,
            )
            link = issued.link
            out.write(
                f"Link {link.id} ({link.role_label}, {args.case}) works until "
                f"{format_london_full(link.expires_at)}. Send it privately; it is shown "
                "only now:\n"
            )
            out.write(issued.url(base) + "\n")
            sys.stderr.writelines(f"wayhome: warning: {w}\n" for w in warnings)
            return 0
        if args.link_command == "list":
            case_id = store.case_id_for(system, args.case)
            for link in store.links(system, case_id):
                state = "works" if link.works() else ("revoked" if link.revoked_at else "expired")
                whom = link.team_name or (link.unit.name if link.unit else "")
                used = format_london_full(link.last_used_at) if link.last_used_at else "never"
                out.write(
                    f"{link.id}\t{link.role_label}\t{whom}\t{link.label!r}\t{state}\t"
                    f"until {format_london_full(link.expires_at)}\tlast used {used}\n"
                )
            return 0
        link = store.revoke_link(system, args.id)
        out.write(f"Link {link.id} revoked; pages open on it stop at their next refresh.\n")
        return 0
    finally:
        store.close()


def _cmd_purge(args: argparse.Namespace, out: TextIO) -> int:
    system = Actor.system("wayhome purge")
    store = open_store(args.database_url)
    try:
        if args.case:
            todo = [(store.case_id_for(system, args.case), args.case)]
        else:
            todo = store.purges_due(system)
        for case_id, reference in todo:
            result = store.purge_case(system, case_id, force=bool(args.case))
            out.write(
                f"Case {reference}: personal data removed ({sum(result.rows.values())} rows "
                "cleared); the searched-ground record stays.\n"
            )
        if not todo:
            out.write("No case is due for purging.\n")
    finally:
        store.close()
    return 0


def _cmd_brief(args: argparse.Namespace, out: TextIO) -> int:
    store = open_store(args.database_url)
    try:
        return write_brief(store, args, out, sys.stderr)
    finally:
        store.close()


def _cmd_streets(args: argparse.Namespace, out: TextIO) -> int:
    store = open_store(args.database_url)
    try:
        return import_streets(store, args.path, out)
    finally:
        store.close()


def _cmd_handover(args: argparse.Namespace, out: TextIO) -> int:
    store = open_store(args.database_url)
    try:
        return write_handover_report(store, args, out, sys.stderr)
    finally:
        store.close()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="wayhome",
        description="Wayhome administration: database, demo case, accounts, backups.",
    )
    parser.add_argument(
        "--database-url",
        default=None,
        help="postgresql://user@host:5432/dbname or sqlite:///path (default: DATABASE_URL, "
        "else the SQLite file in WAYHOME_SQLITE_PATH)",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    db = sub.add_parser("db", help="the database schema")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="bring the schema up to date (safe to repeat)")
    db_sub.add_parser("current", help="show the backend and schema revision")

    demo = sub.add_parser("demo", help="load the fictional demo case (safe to repeat)")
    demo.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the demo coordinator's password from standard input "
        "(else WAYHOME_DEMO_PASSWORD, else one is generated and printed once)",
    )
    demo.add_argument("--new-links", action="store_true",
                      help="make a new private link of each role even if the demo has some")
    demo.add_argument("--base-url", default=None, help="the app's address for the links "
                      "(default: WAYHOME_PUBLIC_URL; without either, /?link=… and a warning)")

    user = sub.add_parser("user", help="coordinator accounts")
    user_sub = user.add_subparsers(dest="user_command", required=True)
    add = user_sub.add_parser("add", help="create a coordinator account")
    add.add_argument("username", help="login name: lower-case letters, digits, . _ -")
    add.add_argument("--name", required=True, help="name shown to colleagues and in the audit log")
    add.add_argument(
        "--case", action="append", metavar="REFERENCE", help="also put them on this case"
    )
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    pw = user_sub.add_parser("password", help="set a new password for an account")
    pw.add_argument("username")
    pw.add_argument("--password-stdin", action="store_true", help="read the password from stdin")

    team = sub.add_parser("team", help="search teams of a case")
    team_sub = team.add_subparsers(dest="team_command", required=True)
    team_add = team_sub.add_parser("add", help="add a team to a case")
    team_add.add_argument("--case", required=True, metavar="REFERENCE")
    team_add.add_argument("--name", required=True, help="unique in the case, e.g. \"Team Red\"")
    team_add.add_argument("--org-type", default="met_bcu", choices=TEAM_ORG_TYPES,
                          help="who the team is (default met_bcu)")
    team_add.add_argument("--size", type=int, default=None, help="people in the team")
    team_add.add_argument("--lead", default=None, help="the team lead's name")

    backup = sub.add_parser("backup", help="copy the whole store to a timestamped file")
    backup.add_argument("--dest", default=None, help="folder (default: WAYHOME_BACKUP_DIR)")

    link = sub.add_parser("link", help="private links for team leads, families, partner units")
    link_sub = link.add_subparsers(dest="link_command", required=True)
    issue = link_sub.add_parser("issue", help="make a new private link and print it once")
    issue.add_argument("--case", required=True, metavar="REFERENCE")
    issue.add_argument("--role", required=True, choices=["family", "team_lead", "partner"])
    issue.add_argument("--label", required=True, help="whose link it is, e.g. \"Mum's phone\"")
    issue.add_argument("--team", default=None, help="team name (team_lead links)")
    issue.add_argument("--unit", default=None, help="BCU or force, code or name (partner links)")
    issue.add_argument("--days", type=float, default=None, help="how long it works")
    issue.add_argument("--base-url", default=None, help="the app's address (default: "
                       "WAYHOME_PUBLIC_URL; without either, /?link=… and a warning)")
    listing = link_sub.add_parser("list", help="list a case's links (never their tokens)")
    listing.add_argument("--case", required=True, metavar="REFERENCE")
    revoke = link_sub.add_parser("revoke", help="stop a link now")
    revoke.add_argument("id", type=int)

    purge = sub.add_parser("purge", help="remove personal data of closed cases")
    which = purge.add_mutually_exclusive_group(required=True)
    which.add_argument("--due", action="store_true",
                       help="every case closed more than WAYHOME_PURGE_AFTER_DAYS ago")
    which.add_argument("--case", metavar="REFERENCE", help="one closed case, now")

    brief = sub.add_parser(
        "brief", help="print a sector's, a team's or an operational period's briefing pack (PDF)")
    brief.add_argument("--case", required=True, metavar="REFERENCE")
    one = brief.add_mutually_exclusive_group(required=True)
    one.add_argument("--sector", metavar="CODE", help="one sector, e.g. S3")
    one.add_argument("--team", metavar="NAME", help="every sector of one team")
    one.add_argument(
        "--period", nargs="?", const="current", metavar="N|current|next",
        help="one operational period (WAYHOME_BRIEF_PERIOD_HOURS long, counted from when "
             "the case was opened; 1 is the first): a cover sheet, then every tasked "
             "sector's sheet; the current period (the default) or the next one")
    brief.add_argument("--out", required=True, metavar="FILE.pdf")
    brief.add_argument("--landscape", action="store_true", help="A4 landscape (default portrait)")
    brief.add_argument("--base-url", default=None, help="the app's address (WAYHOME_PUBLIC_URL)")
    brief.add_argument("--rendezvous", default=None,
                       help="the rendezvous point in words (overrides the words a "
                            "coordinator stored; the stored point stays on the map)")
    brief.add_argument("--radio", default=None, help="radio channel / phone instructions")
    brief.add_argument("--time-box", default=None, help="e.g. \"back by 16:00\"")

    streets = sub.add_parser("streets", help="streets from an OpenStreetMap extract")
    streets_sub = streets.add_subparsers(dest="streets_command", required=True)
    load = streets_sub.add_parser("import", help="load an extract's streets (replaces them)")
    load.add_argument("path", help=".osm or .osm.pbf file on this server (up to "
                      "WAYHOME_STREETS_MAX_MB)")
    handover = sub.add_parser("handover", help="handovers to a neighbouring BCU or force")
    handover_sub = handover.add_subparsers(dest="handover_command", required=True)
    report = handover_sub.add_parser("report", help="the handover report (PDF + GeoPackage)")
    report.add_argument("--case", required=True, metavar="REFERENCE")
    report.add_argument("--to", required=True, metavar="UNIT_CODE", help="BCU or force code")
    report.add_argument("--out", required=True, metavar="DIR")
    report.add_argument("--within", type=float, default=500.0, metavar="METRES",
                        help="also the ground this near the unit's area (default 500)")
    return parser


def main(
    argv: Sequence[str] | None = None, *, stdin: TextIO | None = None, out: TextIO | None = None
) -> int:
    """Entry point of the ``wayhome`` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    try:
        if args.command == "db":
            if args.db_command == "upgrade":
                return _cmd_db_upgrade(args, out)
            return _cmd_db_current(args, out)
        if args.command == "demo":
            return _cmd_demo(args, out, stdin)
        if args.command == "user":
            if args.user_command == "add":
                return _cmd_user_add(args, out, stdin)
            return _cmd_user_password(args, out, stdin)
        if args.command == "team":
            return _cmd_team_add(args, out)
        if args.command == "backup":
            return _cmd_backup(args, out)
        if args.command == "link":
            return _cmd_link(args, out)
        if args.command == "purge":
            return _cmd_purge(args, out)
        if args.command == "brief":
            return _cmd_brief(args, out)
        if args.command == "streets":
            return _cmd_streets(args, out)
        if args.command == "handover":
            return _cmd_handover(args, out)
    except StoreError as exc:
        sys.stderr.write(f"wayhome: {exc}\n")
        return 1
    except KeyboardInterrupt:
        sys.stderr.write("wayhome: interrupted; nothing more was changed.\n")
        return 130
    return 2  # pragma: no cover - argparse requires a command


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
