"""What families see and send: the family view, tips, and "we searched here" reports.

* :func:`family_view` — searched / being searched / planned ground of
  sectors whose share-with-family switch is on, with times, plus hazard areas
  (kind and shape only) and, if the coordinator shares it, the last-known
  location, the child's name as the coordinator chose it for this page and the
  family liaison contact. No sector names (they can be addresses), notes, teams, searchers,
  sightings or tips. An optional delay shows every sector as it stood that many
  minutes ago (its previous status, from the audit log) until the delay has passed.
* :func:`send_tip` — a tip (place, time, text, optional contact) becomes
  an *unverified* sighting with source "family" and joins the triage queue.
* :func:`report_family_search` — "we searched here" (a drawn outline or
  a GPS track, swept :data:`TRACK_SWEEP_M` either side) is saved as a *searched*
  sector with origin "volunteer" (volunteer-reported, unverified, search type
  hasty, assurance low), so it takes part in every duplicate check and in the
  duplication figure like any other searched ground; it joins the triage queue.
* :func:`family_streets` / :func:`family_street_ground` — where a street layer is
  loaded, the streets near ground the family page shows, and the ground along the
  ones a family chooses (then checked and saved as a drawn area would be);
  :func:`family_map_streets` — the lines a plain map (no tiles) draws round it.
* :func:`triage_queue` / :func:`review_report` — coordinators
  accept or dismiss each report (a dismissed family search is marked "needs
  re-search", so its ground counts as not searched).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa
from shapely.geometry.base import BaseGeometry

from casefile import fieldwork as fw
from casefile import permissions as perm
from casefile import schema as t
from casefile import streets as streets_ops
from casefile import validate as v
from casefile.audit_records import from_json
from casefile.database import Database
from casefile.errors import InvalidInput, PermissionDenied
from casefile.motion import assumptions, model_for, motion_of
from casefile.permissions import Actor
from casefile.records import family_page_name
from casefile.sector_index import ground_bng, overlaps_with_stored, unit_index
from casefile.sector_rows import decode, geom_of, take_codes
from casefile.sightings import (
    SIGHTING_FIELDS,
    clean_sighting,
    last_known_location_of,
    sighting_columns,
    tag_points,
)
from casefile.timefmt import to_london, utcnow
from casefile.unit_of_work import UnitOfWork, writes
from geo import (
    place_names,
    postcode_circles,
    read_tracks_guarded,
    street_ground,
    streets_near,
    streets_through,
)
from geo.crs import BngGeometry, geoms_to_bng, geoms_to_lonlat
from geo.errors import InputError
from vocab import sector_statuses, settings

#: share of a family's ground already searched by police that is "most of this"
REPEAT_SHARE = settings.FAMILY_REPEAT_SHARE
#: half-width swept either side of a family's GPS track, m (a walker looking around)
TRACK_SWEEP_M = 10.0
MAX_TIP_TEXT = 2000
MAX_CONTACT = 200
MAX_NOTE = 1000
#: family-view groups, in the order the page shows them
FAMILY_GROUPS: tuple[str, ...] = tuple(sector_statuses.FAMILY_GROUPS)
FAMILY_GROUP_LABELS: dict[str, str] = {
    g.key: g.label for g in sector_statuses.FAMILY_GROUPS.values()
}
#: one line on what "searched" means, shown to families
SEARCHED_MEANS = (
    "“Searched” means a team has walked and looked through this area once. It does not "
    "mean every place in it was seen, and areas can be searched again."
)


@dataclass(frozen=True, slots=True)
class FamilyArea:
    """One area as the family sees it: short ID, plain-language group, shape, times."""

    code: str
    group: str  # one of FAMILY_GROUPS
    geometry: BaseGeometry  # lon/lat; searched ground excludes what was not searched
    last_searched_at: datetime | None
    since: datetime  # when it entered this group
    volunteer: bool  # reported by a family or volunteer (not checked)
    area_m2: float
    #: where it is in words: ward, borough and nearest postcode ("" if unknown)
    place: str = ""

    @property
    def label(self) -> str:
        return sector_statuses.FAMILY_GROUPS[self.group].label


@dataclass(frozen=True, slots=True)
class FamilyHazard:
    kind: str
    geometry: BaseGeometry


@dataclass(frozen=True, slots=True)
class FamilyView:
    reference: str
    status: str
    areas: tuple[FamilyArea, ...]
    hazards: tuple[FamilyHazard, ...]
    last_known: tuple[float, float] | None  # (lat, lon) only when the coordinator shares it
    as_of: datetime
    #: the case's POA treats the child as moving: searched ground may be searched again
    moving: bool = False
    #: the motion model's assumptions in words (decision support)
    motion_notes: tuple[str, ...] = ()
    #: the child's name as the coordinator chose it for this page (first name or alias)
    child_name: str = ""
    #: the family liaison officer's name and phone, as the coordinator set them
    liaison_name: str = ""
    liaison_phone: str = ""


@dataclass(frozen=True, slots=True)
class Report:
    """A tip or family search waiting in (or taken out of) the triage queue."""

    id: int
    case_id: int
    kind: str  # "tip" | "search"
    status: str  # "new" | "accepted" | "dismissed"
    created_at: datetime
    from_name: str  # the link's name ("Family link 2"), not the label
    note: str
    sighting_id: int | None
    sector_id: int | None
    sector_code: str | None
    overlaps: tuple[dict[str, Any], ...]
    lat: float | None
    lon: float | None
    seen_at: datetime | None
    text: str
    contact: str
    geometry: BaseGeometry | None
    reviewed_at: datetime | None
    reviewed_by_name: str | None
    version: int


# ---------------------------------------------------------------- the family view


def family_view(db: Database, /, actor: Actor, case_id: int) -> FamilyView:
    """What a family link shows (see the module docstring)."""
    now = utcnow()
    with UnitOfWork(db, actor, perm.FAMILY_VIEW, case_id=case_id, mode="read") as uow:
        conn = uow.conn
        case = uow.case_row
        delay_min, share_lkl = _family_sharing(conn, case_id)
        rows = conn.execute(
            sa.select(
                t.sectors.c.id,
                t.sectors.c.code,
                t.sectors.c.status,
                t.sectors.c.status_changed_at,
                t.sectors.c.searched_at,
                t.sectors.c.origin,
                t.sectors.c.area_m2,
                fw.wkb_column(t.sectors.c.geom, db.backend),
                fw.wkb_column(t.sectors.c.not_searched_geom, db.backend),
            ).where(
                t.sectors.c.case_id == case_id,
                t.sectors.c.share_with_family.is_(True),
                t.sectors.c.status != "draft",
            )
        ).all()
        shown = _as_of_delay(conn, rows, now - timedelta(minutes=delay_min))
        hazards = conn.execute(
            sa.select(t.hazards.c.kind, fw.wkb_column(t.hazards.c.geom, db.backend))
            .where(t.hazards.c.case_id == case_id)
            .order_by(t.hazards.c.id)
        ).all()
        lkl = None
        if share_lkl:
            last = last_known_location_of(conn, case_id)
            lkl = (last.lat, last.lon)
        motion = motion_of(conn, case_id)
        notes = assumptions(motion, model_for(motion, case))
    today = to_london(now).date()
    areas: list[FamilyArea] = []
    if shown:
        _, ground_bng_ = ground_bng([r for r, _ in shown])
        ground = geoms_to_lonlat(ground_bng_)
        for (r, (status, since, searched_at)), g in zip(shown, ground, strict=True):
            day = to_london(searched_at or since).date()
            group = sector_statuses.family_group(status, searched_today=day == today)
            if group is None:
                continue
            areas.append(
                FamilyArea(
                    code=r.code,
                    group=group,
                    geometry=g,
                    last_searched_at=searched_at if status == "searched" else None,
                    since=since,
                    volunteer=r.origin == fw.VOLUNTEER_ORIGIN,
                    area_m2=float(r.area_m2),
                )
            )
    if areas:
        geoms = [a.geometry for a in areas]
        names = place_names(geoms)
        _, lines = _streets_around(db, actor, case_id, geoms)
        through = streets_through(lines, geoms)
        areas = [replace(a, place=_place_words(n, s))
                 for a, n, s in zip(areas, names, through, strict=True)]
    order = list(sector_statuses.FAMILY_GROUPS)
    areas.sort(key=lambda a: (order.index(a.group), a.code))
    hz = tuple(
        FamilyHazard(kind=h.kind, geometry=g)
        for h, g in zip(hazards, decode([h.geom for h in hazards]), strict=True)
    ) if hazards else ()
    return FamilyView(
        reference=case.reference,
        status=case.status,
        areas=tuple(areas),
        hazards=hz,
        last_known=lkl,
        as_of=now,
        moving=motion.moving,
        motion_notes=notes,
        child_name=family_page_name(case.family_name, case.child_name),
        liaison_name=case.liaison_name or "",
        liaison_phone=case.liaison_phone or "",
    )


def _place_words(name: Any, streets: list[str]) -> str:
    """An area in words: its streets and borough where streets are loaded ("Union Street,
    Redcross Way · Southwark"), else its ward, borough and nearest postcode."""
    if not streets:
        return str(name.text)
    return " · ".join(p for p in (", ".join(streets), name.borough) if p)


def _streets_around(db: Database, actor: Actor, case_id: int,
                    geoms: Sequence[BaseGeometry]) -> tuple[bool, Any]:
    """(any streets loaded?, the loaded lines meeting the box of the lon/lat ``geoms``).

    Read under the family's own permission: the streets are public reference data,
    and only those around ground the family may already see are read."""
    with UnitOfWork(db, actor, perm.FAMILY_VIEW, case_id=case_id, mode="read") as uow:
        loaded = streets_ops.streets_loaded(db, uow.conn)
        if not loaded or not geoms:
            return loaded, streets_ops.empty_lines()
        west, south, east, north = (float(b) for b in shapely.total_bounds(
            np.asarray(list(geoms), dtype=object)))
        return True, streets_ops.read_lines(db, uow.conn, (west, south, east, north))


@dataclass(frozen=True, slots=True)
class FamilyStreets:
    """The streets a family may choose to say "we searched here"."""

    #: a street layer is loaded at all (without one, postcodes are the way)
    loaded: bool
    #: names of the streets near ground the family page shows, A to Z (may be empty)
    names: tuple[str, ...]
    #: metres either side of each chosen street taken as searched (planning assumption)
    half_width_m: float


def _neighbourhood(view: FamilyView) -> BaseGeometry | None:
    """Where a family may choose streets (BNG): within ``FAMILY_STREETS_REACH_M`` of the
    police ground their page shows and of the last-known location if it is shared.

    Only what the family may already see sets it, so the list of streets tells them
    nothing new (an unshared last-known location is never its centre)."""
    shapes: list[BaseGeometry] = [a.geometry for a in view.areas if not a.volunteer]
    if view.last_known is not None:
        shapes.append(shapely.Point(view.last_known[1], view.last_known[0]))
    if not shapes:
        return None
    bng = geoms_to_bng(np.asarray(shapes, dtype=object))
    return shapely.buffer(shapely.union_all(bng), settings.FAMILY_STREETS_REACH_M)


def _near_lines(db: Database, actor: Actor, case_id: int
                ) -> tuple[bool, BaseGeometry | None, Any]:
    """(streets loaded?, the family's neighbourhood in BNG, the lines around it)."""
    near = _neighbourhood(family_view(db, actor, case_id))
    if near is None:
        loaded, lines = _streets_around(db, actor, case_id, [])
        return loaded, None, lines
    loaded, lines = _streets_around(db, actor, case_id,
                                    [geoms_to_lonlat(BngGeometry(shapely.envelope(near)))])
    return loaded, near, lines


def family_streets(db: Database, /, actor: Actor, case_id: int) -> FamilyStreets:
    """The streets a family may pick from for "we searched here" (see :func:`_neighbourhood`)."""
    loaded, near, lines = _near_lines(db, actor, case_id)
    names = streets_near(lines, near) if near is not None else []
    return FamilyStreets(loaded=loaded, names=tuple(names),
                         half_width_m=settings.FAMILY_STREET_HALF_WIDTH_M)


def family_street_ground(db: Database, /, actor: Actor, case_id: int,
                         names: Sequence[str], *, postcodes: str = "",
                         radius_m: float = 100.0) -> tuple[BaseGeometry, list[str]]:
    """The ground along the chosen streets (lon/lat), as "we searched here" reports it,
    with the ground within ``radius_m`` of any ``postcodes`` typed beside them.

    Each street's named lines, merged, clipped to the family's neighbourhood and
    buffered ``FAMILY_STREET_HALF_WIDTH_M`` either side; then checked and saved like a
    drawn area (:func:`family_search_check`, :func:`report_family_search`). Reads only.
    """
    loaded, near, lines = _near_lines(db, actor, case_id)
    if not loaded or near is None:
        raise InvalidInput("No streets can be chosen for this search; type postcodes instead.")
    try:
        ground, used = street_ground(lines, names, near, settings.FAMILY_STREET_HALF_WIDTH_M)
        if postcodes.strip():
            ground = shapely.union(ground, postcode_circles(postcodes, radius_m)[0])
    except InputError as exc:
        raise InvalidInput(str(exc)) from None
    return ground, used


#: how far past the ground the family page shows its plain map draws streets, m
MAP_STREETS_PAD_M = 300.0
#: simplification of the streets drawn on the family's plain map, m (a phone screen)
MAP_STREETS_TOLERANCE_M = 2.0


def family_map_streets(db: Database, /, actor: Actor, case_id: int) -> Any:
    """The loaded streets, paths, railways and water on the ground around what the
    family page shows (its areas, hazards and the shared last-known location, plus
    :data:`MAP_STREETS_PAD_M`), simplified, lon/lat (``name``, ``kind``): for a plain
    map where no tiles can be fetched. Empty without a street layer or ground."""
    view = family_view(db, actor, case_id)
    shapes: list[BaseGeometry] = ([a.geometry for a in view.areas]
                                  + [h.geometry for h in view.hazards])
    if view.last_known is not None:
        shapes.append(shapely.Point(view.last_known[1], view.last_known[0]))
    if not shapes:
        return streets_ops.empty_lines()
    box = shapely.buffer(shapely.envelope(shapely.union_all(
        geoms_to_bng(np.asarray(shapes, dtype=object)))), MAP_STREETS_PAD_M, join_style="mitre")
    _, lines = _streets_around(db, actor, case_id, [geoms_to_lonlat(BngGeometry(box))])
    lines = lines[lines["ground"].astype(bool)]
    if len(lines) == 0:
        return streets_ops.empty_lines()
    bng = shapely.intersection(geoms_to_bng(np.asarray(lines.geometry.values, dtype=object)), box)
    bng = shapely.simplify(bng, MAP_STREETS_TOLERANCE_M)
    keep = ~shapely.is_empty(bng)
    return gpd.GeoDataFrame(
        {"name": lines["name"].to_numpy()[keep], "kind": lines["kind"].to_numpy()[keep]},
        geometry=geoms_to_lonlat(bng[keep]), crs=4326)


@dataclass(frozen=True, slots=True)
class RepeatSearch:
    """Ground the family is about to report that police searched most of already."""

    share: float  # of the family's ground, 0-1, on police-searched ground they may see
    searched_at: datetime  # when the police searched the biggest part of it
    codes: tuple[str, ...]  # the areas it falls on


def family_search_check(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    geometry: Any = None,
    track: Any = None,
) -> RepeatSearch | None:
    """Before a family saves "we searched here": did police search most of it already?

    Compared only with what the family view shows this link (shared sectors, the
    family delay applied; ground reported by families or volunteers does not count),
    so it tells the family nothing they could not already see. ``None``: less than
    :data:`REPEAT_SHARE` of the ground was searched, or the shape is not valid (the
    save itself says why). Reads only; the family still decides.
    """
    if (geometry is None) == (track is None):
        raise InvalidInput("Draw the area you searched, or upload the track of your walk.")
    if track is not None:
        geometry = _track_outline(track)
    try:
        _, bng, _ = fw.clean_outlines([geometry], ["The area you searched"])
    except InvalidInput:
        return None
    view = family_view(db, actor, case_id)
    searched = [a for a in view.areas
                if a.last_searched_at is not None and not a.volunteer]
    mine = bng[0]
    total = float(shapely.area(mine))
    if not searched or total <= 0:
        return None
    ground = geoms_to_bng(np.array([a.geometry for a in searched], dtype=object))
    each = shapely.area(shapely.intersection(ground, mine))
    share = float(shapely.area(shapely.intersection(shapely.union_all(ground), mine))) / total
    if share < REPEAT_SHARE:
        return None
    hit = [i for i in np.argsort(-each) if each[i] > 0]
    biggest = searched[int(hit[0])]
    assert biggest.last_searched_at is not None
    return RepeatSearch(share=round(share, 4), searched_at=biggest.last_searched_at,
                        codes=tuple(searched[int(i)].code for i in hit))


# ---------------------------------------------------------------- sending


@writes
def send_tip(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    lat: float,
    lon: float,
    seen_at: datetime,
    text: str,
    contact: str = "",
    place: str = "",
    idempotency_key: str | None = None,
) -> Report:
    """A family's tip: lands in the triage queue as an unverified "family" sighting.

    ``place`` is where it was, as the family typed it (a postcode): kept on the report
    so the coordinator reads the family's own words beside the point."""
    unit = UnitOfWork(db, actor, perm.FAMILY_REPORT)
    clean = clean_sighting(
        {
            "location": (lat, lon),
            "seen_at": seen_at,
            "source": "family",
            "confidence": "low",
            "status": "unverified",
            "reported_by": "",
            "reporter_contact": v.text("contact", contact, MAX_CONTACT),
            "description": v.text("text", text, MAX_TIP_TEXT, required=True),
        },
        creating=True,
    )
    key = v.idempotency_key(idempotency_key)
    tags = tag_points([clean["location"][0]], [clean["location"][1]])[0]
    with unit as uow:
        uow.enter_case(case_id)
        existing = uow.replay(key, "report")
        if existing is not None:
            return report_of(uow.conn, existing)
        clean["reported_by"] = actor.display_name
        sighting_id = uow.insert(
            t.sightings,
            {**sighting_columns(clean), **tags},
            entity="sighting",
            changes={k: (None, clean[k]) for k in SIGHTING_FIELDS},
        )
        typed = v.text("place", place, 100)
        report_id = _insert_report(uow, kind="tip", sighting_id=sighting_id,
                                   note=f"Where, as typed: {typed}" if typed else "",
                                   overlaps=[], key=key,
                                   changes={"kind": (None, "tip"),
                                            "sighting_id": (None, sighting_id)})
        return report_of(uow.conn, report_id)


@writes
def report_family_search(
    db: Database, /,
    actor: Actor,
    case_id: int,
    *,
    searched_at: datetime,
    geometry: Any = None,
    track: Any = None,
    note: str = "",
    idempotency_key: str | None = None,
) -> Report:
    """"We searched here": a drawn outline (lon/lat, shapely or GeoJSON) or a GPS track
    (path or ``(filename, bytes)``; swept :data:`TRACK_SWEEP_M` m either side).

    Saved as a searched, volunteer-reported sector (unverified) shared with the
    family; overlaps with the case's sectors are recorded for the coordinator,
    never shown to the family.
    """
    unit = UnitOfWork(db, actor, perm.FAMILY_REPORT)
    if (geometry is None) == (track is None):
        raise InvalidInput("Draw the area you searched, or upload the track of your walk.")
    when = v.moment("searched_at", searched_at)
    note = v.text("note", note, MAX_NOTE)
    key = v.idempotency_key(idempotency_key)
    if track is not None:
        geometry = _track_outline(track)
    lonlat, bng, _ = fw.clean_outlines([geometry], ["The area you searched"])
    tags = fw.jurisdiction_rows(bng)[0]
    with unit as uow:
        uow.enter_case(case_id)
        conn = uow.conn
        existing = uow.replay(key, "report")
        if existing is not None:
            return report_of(conn, existing)
        found = overlaps_with_stored(conn, unit_index(uow), bng).get(0, [])
        overlaps = [
            {"code": o.code, "status": o.status, "overlap_m2": round(o.overlap_m2, 1),
             "share": round(o.share, 4)}
            for o in found
        ]
        code = f"S{take_codes(conn, case_id, 1)}"
        sector_id = uow.insert(
            t.sectors,
            {
                "code": code,
                "name": f"Family search {code} (not checked)",
                "origin": fw.VOLUNTEER_ORIGIN,
                "priority": fw.DEFAULT_PRIORITY,
                "notes": "",
                "share_with_family": True,
                "status": "searched",
                "status_changed_at": uow.now,
                "searched_at": when,
                "search_type": "hasty",
                "assurance": "low",
                "not_searched_reason": "",
                "re_search": False,
                "re_search_reason": "",
                "overlap_kept_reason": "family report" if found else "",
                "geom": lonlat[0],
                **fw.box_values(lonlat[0], bng[0]),
                **tags,
                "change_n": uow.change_n,
            },
            entity="sector",
            changes={
                "code": (None, code),
                "origin": (None, fw.VOLUNTEER_ORIGIN),
                "status": (None, "searched"),
                "searched_at": (None, when),
                "outline": (None, fw.outline_text(lonlat[0])),
                "area_m2": (None, round(float(shapely.area(bng[0])), 1)),
                "overlaps": (None, overlaps),
            },
        )
        report_id = _insert_report(uow, kind="search", sector_id=sector_id, note=note,
                                   overlaps=overlaps, key=key,
                                   changes={"kind": (None, "search"), "note": (None, note)})
        return report_of(conn, report_id)


def _insert_report(
    uow: UnitOfWork,
    *,
    kind: str,
    note: str,
    overlaps: list[dict[str, Any]],
    key: str | None,
    changes: dict[str, tuple[Any, Any]],
    sighting_id: int | None = None,
    sector_id: int | None = None,
) -> int:
    """A new report of the unit's family link in the triage queue (audited; form key kept)."""
    report_id = int(
        uow.conn.execute(
            t.volunteer_reports.insert().values(
                case_id=uow.case_id,
                kind=kind,
                link_id=uow.link.id,
                sighting_id=sighting_id,
                sector_id=sector_id,
                note=note,
                overlaps=overlaps,
                status="new",
                created_at=uow.now,
                created_by_id=uow.actor.user_id,
                version=1,
            ).returning(t.volunteer_reports.c.id)
        ).scalar_one()
    )
    uow.remember(key, "report", report_id)
    uow.record("report", report_id, "create", changes)
    return report_id


# ---------------------------------------------------------------- triage


def triage_queue(
    db: Database, /, actor: Actor, case_id: int, *, include_reviewed: bool = False
) -> list[Report]:
    """Tips and family searches of the case, newest first (new ones only by default)."""
    with UnitOfWork(db, actor, perm.TRIAGE, case_id=case_id, mode="read") as uow:
        q = sa.select(t.volunteer_reports.c.id).where(t.volunteer_reports.c.case_id == case_id)
        if not include_reviewed:
            q = q.where(t.volunteer_reports.c.status == "new")
        ids = uow.conn.execute(q.order_by(t.volunteer_reports.c.id.desc())).scalars().all()
        return [report_of(uow.conn, i) for i in ids]


def triage_count(db: Database, /, actor: Actor, case_id: int) -> int:
    """How many tips and family searches of the case wait for a coordinator (one count)."""
    with UnitOfWork(db, actor, perm.TRIAGE, case_id=case_id, mode="read") as uow:
        return int(uow.conn.execute(
            sa.select(sa.func.count()).select_from(t.volunteer_reports).where(
                t.volunteer_reports.c.case_id == case_id,
                t.volunteer_reports.c.status == "new")
        ).scalar_one())


@writes
def review_report(
    db: Database, /,
    actor: Actor,
    report_id: int,
    decision: str,
    *,
    version: int,
    reason: str | None = None,
) -> Report:
    """Accept or dismiss a tip or family search (coordinators).

    A tip's sighting becomes verified (accept) or dismissed; a dismissed family
    search's sector is marked "needs re-search" so its ground counts as unsearched.
    """
    unit = UnitOfWork(db, actor, perm.TRIAGE)
    decision = v.choice("decision", decision, ("accepted", "dismissed"))
    reason = v.text("reason", reason, 1000) or None
    with unit as uow:
        conn = uow.conn
        row = uow.open(t.volunteer_reports, report_id, what="report")
        if row.version != version:
            raise InvalidInput(
                f"This report was already handled by {row.reviewed_by_name or 'someone'}"
                " — reload to see it."
            )
        if row.status != "new":
            raise InvalidInput("This report was already handled.")
        who = {"updated_at": uow.now, "updated_by_id": actor.user_id,
               "updated_by_name": actor.display_name}
        if row.kind == "tip" and row.sighting_id is not None:
            status = "verified" if decision == "accepted" else "dismissed"
            old = conn.execute(
                sa.select(t.sightings.c.status).where(t.sightings.c.id == row.sighting_id)
            ).scalar()
            if old is not None and old != status:
                conn.execute(
                    t.sightings.update()
                    .where(t.sightings.c.id == row.sighting_id)
                    .values(status=status, version=t.sightings.c.version + 1, **who)
                )
                uow.record("sighting", row.sighting_id, "update", {"status": (old, status)},
                           reason=reason)
        if row.kind == "search" and row.sector_id is not None and decision == "dismissed":
            sec = conn.execute(
                sa.select(t.sectors.c.status).where(t.sectors.c.id == row.sector_id)
            ).first()
            if sec is not None and sec.status == "searched":
                why = reason or "Family-reported search not accepted"
                conn.execute(
                    t.sectors.update()
                    .where(t.sectors.c.id == row.sector_id)
                    .values(status="needs_re_search", status_changed_at=uow.now,
                            re_search=True, re_search_reason=why, change_n=uow.change_n,
                            version=t.sectors.c.version + 1, **who)
                )
                uow.record("sector", row.sector_id, "status",
                           {"status": ("searched", "needs_re_search"),
                            "re_search_reason": (None, why)}, reason=reason)
        conn.execute(
            t.volunteer_reports.update()
            .where(t.volunteer_reports.c.id == report_id)
            .values(status=decision, reviewed_at=uow.now, reviewed_by_name=actor.display_name,
                    version=version + 1)
        )
        uow.record("report", report_id, "review", {"status": ("new", decision)},
                   reason=reason)
        return report_of(conn, report_id)


def my_reports(db: Database, /, actor: Actor, case_id: int) -> list[Report]:
    """What this family link itself sent (so a family sees its tip was received)."""
    with UnitOfWork(db, actor, perm.FAMILY_REPORT, case_id=case_id, mode="read") as uow:
        if uow.link.case_id != case_id:  # pragma: no cover - entering the case refuses it
            raise PermissionDenied("This link is for another case.")
        ids = uow.conn.execute(
            sa.select(t.volunteer_reports.c.id)
            .where(t.volunteer_reports.c.link_id == uow.link.id)
            .order_by(t.volunteer_reports.c.id.desc())
        ).scalars().all()
        return [report_of(uow.conn, i) for i in ids]


# ---------------------------------------------------------------------- helpers


#: statuses a family sees (draft, suspended and deleted ground is not shown)
FAMILY_STATUSES: tuple[str, ...] = sector_statuses.family_statuses()


def _as_of_delay(conn: sa.Connection, rows: Sequence[Any], cutoff: datetime
                 ) -> list[tuple[Any, tuple[str, datetime, datetime | None]]]:
    """Each sector as the family may see it: (row, (status, since, searched_at)).

    With a delay the family sees every sector *as it stood at* ``cutoff``: a status
    that changed after it is replaced by the one before, read from the append-only
    audit log (every status change is audited with its before and after values, and
    the purge keeps them). A sector that was not visible at ``cutoff`` (new, or a
    draft then) is left out for now. Ground the family reported itself is shown at
    once: they know about it already.
    """
    out: list[tuple[Any, tuple[str, datetime, datetime | None]]] = []
    recent: dict[int, Any] = {}
    shown = frozenset(sector_statuses.family_statuses())  # read once, not per sector
    for r in rows:
        if r.status_changed_at <= cutoff or r.origin == fw.VOLUNTEER_ORIGIN:
            if r.status in shown:
                out.append((r, (r.status, r.status_changed_at, r.searched_at)))
        else:
            recent[int(r.id)] = r
    if recent:
        history = conn.execute(
            sa.select(t.audit_log.c.entity_id, t.audit_log.c.at, t.audit_log.c.changes)
            .where(
                t.audit_log.c.entity == "sector",
                t.audit_log.c.entity_id.in_(list(recent)),
                t.audit_log.c.at <= cutoff,
            )
            .order_by(t.audit_log.c.id)
        ).all()
        before: dict[int, tuple[str, datetime, datetime | None]] = {}
        for h in history:
            changes = from_json(h.changes)
            pair = (changes or {}).get("status")
            if not pair or pair[1] is None:
                continue
            searched = _moment((changes.get("searched_at") or [None, None])[1]) or h.at
            before[int(h.entity_id)] = (str(pair[1]), h.at, searched)
        for sid, r in recent.items():
            then = before.get(sid)
            if then is not None and then[0] in shown:
                out.append((r, then))
    return out


def _family_sharing(conn: sa.Connection, case_id: int) -> tuple[int, bool]:
    """(delay in minutes, show the last-known location?) the coordinator set for families."""
    row = conn.execute(
        sa.select(t.case_sharing.c.family_delay_min, t.case_sharing.c.family_lkl).where(
            t.case_sharing.c.case_id == case_id
        )
    ).first()
    if row is None:
        return 0, False
    return int(row.family_delay_min), bool(row.family_lkl)


def _moment(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except ValueError:
            return None
    return None


def _track_outline(track: Any) -> BaseGeometry:
    """The ground a walker's GPS track covers: lines swept TRACK_SWEEP_M either side (lon/lat)."""
    try:
        lines = read_tracks_guarded(track)
    except InputError as exc:
        raise InvalidInput(str(exc)) from None
    if lines.empty:
        raise InvalidInput("The track file has no track in it.")
    bng = geoms_to_bng(np.asarray(lines.geometry.values, dtype=object))
    swept = shapely.union_all(shapely.buffer(bng, TRACK_SWEEP_M))
    return geoms_to_lonlat(np.array([swept], dtype=object))[0]


def report_of(conn: sa.Connection, report_id: int) -> Report:
    """A :class:`Report` with its sighting or sector (no permission check: callers do)."""
    row = conn.execute(
        sa.select(
            t.volunteer_reports,
            t.users.c.display_name.label("from_name"),
            t.sightings.c.lat,
            t.sightings.c.lon,
            t.sightings.c.seen_at,
            t.sightings.c.description.label("text"),
            t.sightings.c.reporter_contact.label("contact"),
            t.sectors.c.code.label("sector_code"),
            t.sectors.c.geom.label("sector_geom"),
        )
        .select_from(
            t.volunteer_reports.outerjoin(
                t.users, t.users.c.id == t.volunteer_reports.c.created_by_id
            )
            .outerjoin(t.sightings, t.sightings.c.id == t.volunteer_reports.c.sighting_id)
            .outerjoin(t.sectors, t.sectors.c.id == t.volunteer_reports.c.sector_id)
        )
        .where(t.volunteer_reports.c.id == report_id)
    ).one()
    overlaps = from_json(row.overlaps)
    return Report(
        id=row.id,
        case_id=row.case_id,
        kind=row.kind,
        status=row.status,
        created_at=row.created_at,
        from_name=row.from_name or "a private link",
        note=row.note,
        sighting_id=row.sighting_id,
        sector_id=row.sector_id,
        sector_code=row.sector_code,
        overlaps=tuple(overlaps or ()),
        lat=row.lat,
        lon=row.lon,
        seen_at=row.seen_at,
        text=row.text or "",
        contact=row.contact or "",
        geometry=geom_of(row.sector_geom) if row.sector_geom is not None else None,
        reviewed_at=row.reviewed_at,
        reviewed_by_name=row.reviewed_by_name,
        version=row.version,
    )
