"""The demo case: a fictional missing child with plausible London sightings.

``wayhome demo`` (and browser-test fixtures) call :func:`load_demo`. It is
idempotent: the demo coordinator is created once, the case and each sighting
carry fixed idempotency keys, so running it again changes nothing (unless a new
password is given for the demo coordinator). The data lives in
``demo_case.json`` next to this module; every person in it is invented.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import LineString, box

from casefile import Actor, NewSector, NewSighting, NotFound, Store, utcnow
from casefile.links import IssuedLink
from geo.crs import BngGeometry, geoms_to_bng, geoms_to_lonlat, lonlat_to_bng

DEMO_FILE = Path(__file__).with_name("demo_case.json")


@dataclass(frozen=True)
class DemoResult:
    """What :func:`load_demo` did."""

    case_id: int
    reference: str
    username: str
    #: the password, only when it was generated just now (print it once); else None
    new_password: str | None
    created_user: bool
    password_set: bool
    sightings: int
    teams: int = 0
    sectors: int = 0
    #: links issued just now, (what it is for, the link with its token): print once
    links: list[tuple[str, IssuedLink]] = field(default_factory=list)


def demo_data() -> dict[str, Any]:
    """The demo case as stored in ``demo_case.json``."""
    return json.loads(DEMO_FILE.read_text(encoding="utf-8"))


def load_demo(
    store: Store,
    password: str | None = None,
    *,
    everything: bool = False,
    new_links: bool = False,
) -> DemoResult:
    """Create (or find) the demo coordinator and the demo case with its sightings.

    ``password``: set it for the demo coordinator (also when the account exists).
    None: keep an existing account's password, or generate one for a new account
    (returned in ``new_password``). ``everything``: add the teams, sectors, track,
    family reports, handover and links too (see the module's docstring);
    ``new_links``: issue a fresh link of each role even if the demo has some.
    """
    data = demo_data()
    system = Actor.system("wayhome demo")
    who = data["coordinator"]
    generated: str | None = None
    created = False
    password_set = False
    try:
        user = store.get_user(system, who["username"])
        if password:
            store.set_password(system, who["username"], password)
            password_set = True
    except NotFound:
        if not password:
            generated = secrets.token_urlsafe(12)
        user = store.create_user(
            system, who["username"], who["display_name"], password or generated or ""
        )
        created = True
        password_set = True
    actor = Actor(user_id=user.id, display_name=user.display_name, role="coordinator")

    now = utcnow()
    c = data["case"]
    case = store.create_case(
        actor,
        reference=c["reference"],
        child_name=c["child_name"],
        age=c["age"],
        risk=c["risk"],
        reported_missing_at=now - timedelta(minutes=c["reported_missing_minutes_ago"]),
        ipp=tuple(c["ipp"]),
        home=tuple(c["home"]),
        description=c["description"],
        notes=c["notes"],
        idempotency_key=c["key"],
    )
    items = [
        NewSighting(
            lat=s["lat"],
            lon=s["lon"],
            seen_at=now - timedelta(minutes=s["minutes_ago"]),
            source=s["source"],
            confidence=s["confidence"],
            status=s["status"],
            reported_by=s["reported_by"],
            reporter_contact=s["reporter_contact"],
            description=s["description"],
            idempotency_key=s["key"],
        )
        for s in data["sightings"]
    ]
    saved = store.add_sightings(actor, case.id, items, reason="Demo case loaded")
    extra = _load_everything(store, actor, case.id, data, now, new_links) if everything else {}
    return DemoResult(
        case_id=case.id,
        reference=case.reference,
        username=who["username"],
        new_password=generated,
        created_user=created,
        password_set=password_set,
        sightings=len(saved),
        **extra,
    )


def last_known_location(data: dict[str, Any]) -> tuple[float, float]:
    """(lat, lon) of the demo's latest verified sighting."""
    verified = [s for s in data["sightings"] if s["status"] == "verified"]
    latest = min(verified, key=lambda s: s["minutes_ago"])
    return latest["lat"], latest["lon"]


def _square(data: dict[str, Any], col: float, row: float, side_m: float | None = None) -> Any:
    """A lon/lat square of the demo grid, ``col``/``row`` cells from the LKL's cell."""
    lat, lon = last_known_location(data)
    x, y = lonlat_to_bng(lon, lat)
    cell = float(data["sector_grid"]["cell_m"])
    side = cell if side_m is None else side_m
    cx, cy = float(x) + col * cell, float(y) + row * cell
    half = side / 2
    return geoms_to_lonlat(BngGeometry(box(cx - half, cy - half, cx + half, cy + half)))


def demo_gpx(square_lonlat: Any, start: datetime, *, lane_m: float = 25.0,
             speed_ms: float = 1.2, every_s: float = 5.0) -> bytes:
    """A GPX file of a team sweeping a lon/lat square in lanes ``lane_m`` apart."""
    minx, miny, maxx, maxy = shapely.bounds(geoms_to_bng(square_lonlat)).tolist()
    corners: list[tuple[float, float]] = []
    y, left = miny + lane_m / 2, True
    while y < maxy:
        a, b = (minx + 5, maxx - 5) if left else (maxx - 5, minx + 5)
        corners += [(a, y), (b, y)]
        y, left = y + lane_m, not left
    line = LineString(corners)
    n = max(2, int(line.length / (speed_ms * every_s)) + 1)
    points = shapely.line_interpolate_point(line, [i * line.length / (n - 1) for i in range(n)])
    lonlat = shapely.get_parts(geoms_to_lonlat(BngGeometry(shapely.MultiPoint(list(points)))))
    rows = "".join(
        f'<trkpt lat="{p.y:.7f}" lon="{p.x:.7f}"><time>'
        f"{(start + timedelta(seconds=i * every_s)).astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}"
        "</time></trkpt>"
        for i, p in enumerate(lonlat)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<gpx version="1.1" creator="wayhome demo" xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><name>Team Red sweep (fictional)</name><trkseg>{rows}</trkseg></trk></gpx>"
    ).encode()


def _walk_sector(store: Store, actor: Actor, sector: Any, spec: dict[str, Any],
                 teams: dict[str, int], data: dict[str, Any], now: datetime) -> None:
    """Take a freshly made (draft) demo sector to its status through the store."""
    target = spec["status"]
    if target == "draft":
        return
    s = store.set_sector_status(actor, sector.id, "ready", version=sector.version)
    if target == "suspended":
        store.set_sector_status(actor, s.id, "suspended", version=s.version,
                                reason=spec.get("reason"))
        return
    if target == "ready":
        return
    team_id = teams[spec["team"]]
    s = store.assign_sector(actor, s.id, team_id, version=s.version)
    if target == "assigned":
        return
    s = store.start_sector(actor, s.id, version=s.version)
    if target == "in_progress":
        return
    if spec.get("track"):
        start = now - timedelta(minutes=90)
        store.upload_track(
            actor, sector.case_id, ("demo-team-red.gpx", demo_gpx(sector.geometry, start)),
            team_id=team_id, sector_id=s.id,
        )
        s = store.get_sector(actor, s.id)
    s = store.finish_sector(actor, s.id, version=s.version, search_type="thorough",
                            assurance="medium")
    if target == "needs_re_search":
        store.set_sector_status(actor, s.id, "needs_re_search", version=s.version,
                                reason=spec.get("reason"))


def _load_everything(store: Store, actor: Actor, case_id: int, data: dict[str, Any],
                     now: datetime, new_links: bool) -> dict[str, Any]:
    teams = {
        t["name"]: store.create_team(
            actor, case_id, name=t["name"], org_type=t["org_type"], size=t["size"],
            lead_name=t["lead_name"], idempotency_key=t["key"],
        ).id
        for t in data["teams"]
    }
    specs = data["sectors"]
    saved = store.create_sectors(
        actor, case_id,
        [NewSector(geometry=_square(data, s["col"], s["row"]), name=s["name"],
                   idempotency_key=s["key"]) for s in specs],
        reason="Demo case loaded",
    )
    for spec, sector in zip(specs, saved, strict=True):
        if sector is not None and sector.status == "draft":
            _walk_sector(store, actor, sector, spec, teams, data, now)
    h = data["handover"]
    ids = [s.id for s in saved if s is not None]
    store.create_handover(actor, case_id, from_unit=h["from_unit"], to_unit=h["to_unit"],
                          reason=h["reason"], sector_ids=ids, idempotency_key=h["key"])
    labels = {link.label for link in store.links(actor, case_id)}
    issued: list[tuple[str, IssuedLink]] = []
    first = not any(spec["label"] in labels for spec in data["links"])
    if first or new_links:
        for spec in data["links"]:
            link = store.issue_link(
                actor, case_id, role=spec["role"], label=spec["label"],
                team_id=teams[spec["team"]] if "team" in spec else None,
                unit=spec.get("unit"),
            )
            issued.append((spec["label"], link))
    if first:  # the family's reports come through their first link, as they would
        family = next(link for (_, link) in issued if link.link.role == "family")
        _family_reports(store, store.open_link(family.token).actor, case_id, data, now)
    return {"teams": len(teams), "sectors": len(ids), "links": issued}


def _family_reports(store: Store, family: Actor, case_id: int, data: dict[str, Any],
                    now: datetime) -> None:
    """The family's tip and "we searched here", sent as the family's link would."""
    tip = data["tip"]
    store.send_tip(family, case_id, lat=tip["lat"], lon=tip["lon"],
                   seen_at=now - timedelta(minutes=tip["minutes_ago"]), text=tip["text"],
                   idempotency_key=tip["key"])
    fs = data["family_search"]
    store.report_family_search(
        family, case_id, geometry=_square(data, fs["col"], fs["row"], fs["side_m"]),
        searched_at=now - timedelta(minutes=fs["minutes_ago"]), note=fs["note"],
        idempotency_key=fs["key"],
    )
