"""``wayhome handover report``: the handover report for a BCU or force, PDF and GeoPackage.

The report is made through the store (the audit log records who made which
report for which unit, see :mod:`casefile.handover_reports`) and drawn by
:mod:`layers.handover_report` into ``DIR/<REF>-handover-<UNIT_CODE>.pdf`` and
``.gpkg``. The files are created readable by their owner only.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import TextIO

from casefile import Actor, InvalidInput, NotFound, Store
from casefile.handovers import resolve_unit
from layers.handover_report import render_handover_report, report_file_stem, write_handover_gpkg

__all__ = ["write_handover_report"]


def _private_file(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def write_handover_report(store: Store, args: argparse.Namespace, out: TextIO,
                          err: TextIO) -> int:
    """Write the report ``args`` asks for into ``args.out``; 0, or 2 for an unknown name."""
    system = Actor.system("wayhome handover report (command line)")
    try:
        unit = resolve_unit(args.to)
    except InvalidInput:
        err.write(f"wayhome: unknown unit {args.to!r}: no Met BCU or police force has that "
                  "code or name.\n")
        return 2
    try:
        case_id = store.case_id_for(system, args.case)
    except NotFound as exc:
        err.write(f"wayhome: unknown case: {exc}\n")
        return 2
    target = Path(args.out)
    target.mkdir(parents=True, exist_ok=True)
    report = store.make_handover_report(system, case_id, unit, within_m=args.within)
    stem = report_file_stem(report.reference, unit.code)
    pdf_path, gpkg_path = target / f"{stem}.pdf", target / f"{stem}.gpkg"
    _private_file(pdf_path, render_handover_report(report))
    gpkg_path.unlink(missing_ok=True)
    write_handover_gpkg(gpkg_path, report)
    os.chmod(gpkg_path, 0o600)
    out.write(f"Handover report of {report.reference} for {unit.name} ({unit.code}): "
              f"{len(report.sectors)} sector(s), {len(report.sightings)} sighting(s), "
              f"{len(report.hazards)} hazard area(s); written to {pdf_path} and {gpkg_path}.\n")
    return 0
