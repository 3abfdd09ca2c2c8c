"""``wayhome brief``: write one briefing pack (a sector's, a team's, or an operational
period's) to a PDF file.

The pack is printed through the store (its own team-lead link and the audit record
of who printed it, see :mod:`casefile.briefings`) and drawn by
:func:`layers.briefing.render_briefing`. The QR code opens the link under
``--base-url``, else ``WAYHOME_PUBLIC_URL``; with neither it holds only
``/?link=…`` and a warning says so. The file holds the child's description, so
it is created readable by its owner only. A period pack (``--period``) is a cover
sheet and every tasked sector's sheet, each QR code its own team link (see
:func:`casefile.briefings.print_period_pack`). The address follows the rules of
``wayhome link issue`` (:func:`vocab.link_address.command_line_base`).
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TextIO

from casefile import Actor, InvalidInput, NotFound, Store, format_london_full
from layers.briefing import render_briefing, render_period_pack
from vocab import settings
from vocab.link_address import command_line_base

__all__ = ["write_brief"]


def write_brief(store: Store, args: argparse.Namespace, out: TextIO, err: TextIO) -> int:
    """Print the pack ``args`` asks for into ``args.out``; 0, or 2 for an unknown name."""
    system = Actor.system("wayhome brief (command line)")
    try:  # the address first: a malformed one prints nothing
        base, warnings = command_line_base(args.base_url, settings.PUBLIC_URL)
    except ValueError as exc:
        err.write(f"wayhome: {exc}; no pack was printed.\n")
        return 2
    if getattr(args, "period", None) is not None:
        return _write_period(store, system, args, base, warnings, out, err)
    try:
        case_id = store.case_id_for(system, args.case)
        brief = store.print_briefing(
            system, case_id, sector_code=args.sector, team_name=args.team,
            orientation="landscape" if args.landscape else "portrait")
    except NotFound as exc:
        err.write(f"wayhome: unknown: {exc}\n")
        return 2
    url = None
    if brief.link is not None:
        url = brief.link.url(base) if base else f"/?link={brief.link.token}"
        for warning in warnings:
            err.write(f"wayhome: warning: {warning} (on the QR code of the pack)\n")
    pdf = render_briefing(brief, link_url=url, rendezvous=args.rendezvous or "",
                          radio=args.radio or "", time_box=args.time_box or "")
    target = _save(args.out, pdf)
    what = f"sector {args.sector}" if args.sector else f"team {args.team}"
    link = (f"; its QR code is link {brief.link.link.id}, working until "
            f"{format_london_full(brief.link.link.expires_at)}" if brief.link else
            "; no team, so no link")
    out.write(f"Briefing pack for {args.case} {what} written to {target}{link}.\n")
    return 0


def _save(path: str, pdf: bytes) -> Path:
    """Write ``pdf`` to ``path`` readable by its owner only (it holds the description)."""
    target = Path(path)
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pdf)
    return target


def _write_period(store: Store, system: Actor, args: argparse.Namespace, base: str | None,
                  warnings: list[str], out: TextIO, err: TextIO) -> int:
    """``--period``: the cover sheet and every tasked sector's sheet in one PDF."""
    try:
        case_id = store.case_id_for(system, args.case)
    except NotFound as exc:
        err.write(f"wayhome: unknown: {exc}\n")
        return 2
    try:
        pack = store.print_period_pack(
            system, case_id, period=args.period,
            orientation="landscape" if args.landscape else "portrait")
    except InvalidInput as exc:
        err.write(f"wayhome: {exc} No pack was printed.\n")
        return 2
    urls = [None if b.link is None else (b.link.url(base) if base else f"/?link={b.link.token}")
            for b in pack.sheets]
    if pack.sheets:
        for warning in warnings:
            err.write(f"wayhome: warning: {warning} (on the QR codes of the pack)\n")
    pdf = render_period_pack(pack, link_urls=urls, rendezvous=args.rendezvous or "",
                             radio=args.radio or "")
    target = _save(args.out, pdf)
    out.write(f"Operational period {pack.period} pack for {args.case} "
              f"({format_london_full(pack.starts)} to {format_london_full(pack.ends)}) written "
              f"to {target}: {len(pack.sheets)} sector sheet(s), each with its own team link "
              f"working until {format_london_full(pack.ends)}.\n")
    return 0
