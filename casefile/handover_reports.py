"""Handover reports: what a neighbouring BCU or force is given about a case's ground.

A coordinator makes a report for one unit (a Met BCU or a police force): the
sectors searched, in progress and planned in the unit's area or within a
distance of it (:func:`casefile.handovers.sectors_near`), the sightings the case
shares beyond its coordinators (the team leads' setting, never who reported them
or how to reach them) in or near that area, the hazard and no-go areas there, and
the handover records to or from the unit with their acknowledgements.

Making one is a write: the audit log records who made which report for which
unit, when. :func:`make_handover_report` returns plain records; the PDF and the
GeoPackage are drawn from them without the database
(:mod:`layers.handover_report`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

import numpy as np
import shapely

from casefile import permissions as perm
from casefile.briefings import BriefSighting
from casefile.database import Database
from casefile.errors import InvalidInput
from casefile.fieldwork import Handover, Hazard, Unit, UnitSector
from casefile.handovers import (
    MAX_WITHIN_M,
    handovers_of_case,
    resolve_unit,
    sectors_near,
    unit_area,
)
from casefile.hazards import hazards_of_case
from casefile.links import sharing_of
from casefile.permissions import Actor
from casefile.rendezvous import Rendezvous, rendezvous_of
from casefile.sightings import sightings_query
from casefile.tasks import PartnerTask, tasks_near
from casefile.unit_of_work import UnitOfWork, writes
from geo.crs import geoms_to_bng, lonlat_to_bng

__all__ = ["DEFAULT_WITHIN_M", "HandoverReport", "make_handover_report"]

#: the report covers the unit's area and this many metres around it by default
DEFAULT_WITHIN_M: Final[float] = 500.0


@dataclass(frozen=True, slots=True)
class HandoverReport:
    """Everything one handover report shows (plain records; see the module)."""

    reference: str
    case_status: str
    unit: Unit
    #: the unit's outline (BNG)
    unit_area_bng: shapely.Geometry
    within_m: float
    sectors: tuple[UnitSector, ...]
    sightings: tuple[BriefSighting, ...]
    hazards: tuple[Hazard, ...]
    handovers: tuple[Handover, ...]
    made_by: str
    made_at: datetime
    #: where the case's teams meet (None when no coordinator has set it)
    rendezvous: Rendezvous | None = None
    #: enquiry tasks in and near the unit, as a partner sees them (no address or title)
    tasks: tuple[PartnerTask, ...] = ()


@writes
def make_handover_report(
    db: Database, /,
    actor: Actor,
    case_id: int,
    unit: str | Unit,
    *,
    within_m: float = DEFAULT_WITHIN_M,
) -> HandoverReport:
    """The handover report of ``case_id`` for ``unit`` (a BCU or force code or name).

    Records in the audit log who made it, for which unit, when. Raises
    :class:`InvalidInput` for an unknown unit or a distance out of range.
    """
    work = UnitOfWork(db, actor, perm.HANDOVER_REPORT)
    target = resolve_unit(unit)
    try:
        within = float(within_m)
    except (TypeError, ValueError):
        raise InvalidInput("The distance must be a number of metres.") from None
    if not 0 <= within <= MAX_WITHIN_M:
        raise InvalidInput(f"The distance must be between 0 and {MAX_WITHIN_M:,.0f} m.")
    with work as uow:
        conn = uow.conn
        case = uow.enter_case(case_id)
        near = tuple(sectors_near(db, conn, case_id, target, within))
        area, wide = unit_area(target.layer, target.code, within)
        share = sharing_of(conn, case_id).team_sightings
        keep = {"none": (), "verified": ("verified",), "all": ("verified", "unverified")}[share]
        rows = [r for r in conn.execute(sightings_query(case_id)).all() if r.status in keep]
        if rows:
            xs, ys = lonlat_to_bng(np.array([r.lon for r in rows]), np.array([r.lat for r in rows]))
            inside = np.asarray(shapely.intersects(wide, shapely.points(xs, ys)), dtype=bool)
        else:
            inside = np.zeros(0, dtype=bool)
        sightings = tuple(
            BriefSighting(r.lat, r.lon, r.seen_at, r.status, r.confidence, r.description or "")
            for r, hit in zip(rows, inside, strict=True) if hit
        )
        every = hazards_of_case(conn, case_id)
        if every:
            outlines = np.empty(len(every), dtype=object)
            outlines[:] = [h.geometry for h in every]
            hit = np.asarray(shapely.intersects(wide, geoms_to_bng(outlines)), dtype=bool)
            hazards = tuple(h for h, x in zip(every, hit, strict=True) if x)
        else:
            hazards = ()
        handovers = tuple(handovers_of_case(conn, case_id, target))
        tasks = tuple(tasks_near(conn, case_id, target, within))
        uow.record("handover_report", None, "make", {
            "unit": (None, target.code),
            "within_m": (None, within),
            "sectors": (None, ", ".join(u.sector.code for u in near)),
            "sightings": (None, len(sightings)),
            "hazards": (None, len(hazards)),
            "tasks": (None, len(tasks)),
        })
        now = uow.now
        meet = rendezvous_of(conn, case_id)
    return HandoverReport(
        reference=case.reference,
        case_status=case.status,
        unit=target,
        unit_area_bng=area,
        within_m=within,
        sectors=near,
        sightings=sightings,
        hazards=hazards,
        handovers=handovers,
        made_by=actor.display_name,
        made_at=now,
        rendezvous=meet,
        tasks=tasks,
    )
