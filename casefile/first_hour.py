"""The first hour: from "a child is missing" to a team holding its link, in one step.

A plain service over the Store's own operations (each one transaction with its
audit record, each with an idempotency key from the form, so pressing the button
again after a failure finishes the work without doubling any of it):

1. open the case (reference, first name or alias, age, risk);
2. record the last-known location as a VERIFIED POLICE sighting, with the address or
   place as typed kept in its description;
3. make the first sectors: a ring round that point (``search_pace.json``), cells sized
   for one team (``geo.first_sector_side_m``), cut at BCU and force lines, no slivers;
4. make the team and task it with the sector holding the last-known location;
5. issue the team lead's private link (its token is returned once, never stored; a
   second press after a failure at this last step makes a second link, which the
   Private links page lists and can revoke).

Nothing here is a second copy of a store rule: every rule is checked by the
operation that applies it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import shapely

from casefile.fieldwork import NewSector, Sector, Team
from casefile.links import IssuedLink
from casefile.permissions import Actor
from casefile.records import Case, Sighting
from casefile.store import Store
from geo.detection import first_sector_side_m, load_search_data
from geo.grid import make_grid
from geo.jurisdiction import cutting_areas
from geo.shapes import circle


@dataclass(frozen=True, slots=True)
class FirstHour:
    """What the first-hour step made."""

    case: Case
    sighting: Sighting
    sectors: list[Sector]
    team: Team
    first_sector: Sector
    link: IssuedLink


def first_hour(
    store: Store,
    actor: Actor,
    *,
    reference: str,
    child_name: str,
    age: int | None,
    risk: str,
    lat: float,
    lon: float,
    seen_at: datetime,
    place_text: str,
    team_name: str,
    team_size: int | None,
    key: str,
) -> FirstHour:
    """Open a case and task its first team (see the module's docstring). ``key`` is the
    form's idempotency key (8+ safe characters); (lat, lon) in degrees, EPSG:4326."""
    case = store.create_case(
        actor, reference=reference, child_name=child_name, age=age, risk=risk,
        reported_missing_at=seen_at, ipp=(lat, lon), idempotency_key=f"{key}-case")
    sighting = store.add_sighting(
        actor, case.id, lat=lat, lon=lon, seen_at=seen_at, source="police",
        confidence="high", status="verified",
        description=f"Last-known location: {place_text}".strip(),
        idempotency_key=f"{key}-lkl")
    side = first_sector_side_m(team_size)
    ring = circle(lat, lon, float(load_search_data("search_pace")["first_ring_m"]))
    grid = make_grid(ring, side, cut_by=cutting_areas())
    items = [NewSector(geometry=g, name=f"First hour {i}", origin="grid",
                       idempotency_key=f"{key[:40]}-s{n}")
             for n, (i, g) in enumerate(zip(grid["id"].astype(str), grid.geometry,
                                            strict=True))]
    sectors = [s for s in store.create_sectors(actor, case.id, items, on_overlap="keep",
                                               reason="First-hour sectors")
               if s is not None]
    team = store.create_team(actor, case.id, name=team_name, org_type="met_bcu",
                             size=team_size, idempotency_key=f"{key}-team")
    here = shapely.Point(lon, lat)
    first = next((s for s in sectors if s.geometry.covers(here)), sectors[0])
    if first.status == "draft":
        first = store.set_sector_status(actor, first.id, "ready", version=first.version)
    if first.team_id is None:
        first = store.assign_sector(actor, first.id, team.id, version=first.version,
                                    on_overlap="keep", reason="First-hour task")
    link = store.issue_link(actor, case.id, role="team_lead", label=f"{team_name} lead",
                            team_id=team.id)
    return FirstHour(case, sighting, sectors, team, first, link)
