"""Text length caps (characters) the store enforces on what people type.

One home for the caps of every record (cases, sightings, accounts, sectors,
teams, hazards, handovers): the store's checks read them from here.
"""

from __future__ import annotations

from typing import Final

#: field -> most characters it may hold
MAX_LEN: Final[dict[str, int]] = {
    # cases, sightings and accounts
    "reference": 40,
    "child_name": 80,
    "family_name": 80,
    "liaison_name": 120,
    "liaison_phone": 40,
    "description": 4000,
    "reported_by": 120,
    "reporter_contact": 200,
    "display_name": 120,
    "password": 1024,
    # sectors, teams, hazard areas and handovers
    "name": 200,
    "team_name": 120,
    "lead_name": 120,
    "contact": 2000,
    "note": 4000,
    "by_name": 120,
    "unit": 120,
    # both
    "notes": 10_000,
    "reason": 1000,
}
#: most sectors in one import or grid
MAX_BULK: Final[int] = 100_000
