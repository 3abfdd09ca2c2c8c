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
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

from casefile import Actor, NewSighting, NotFound, Store, utcnow

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


def demo_data() -> dict[str, Any]:
    """The demo case as stored in ``demo_case.json``."""
    return json.loads(DEMO_FILE.read_text(encoding="utf-8"))


def load_demo(store: Store, password: str | None = None) -> DemoResult:
    """Create (or find) the demo coordinator and the demo case with its sightings.

    ``password``: set it for the demo coordinator (also when the account exists).
    None: keep an existing account's password, or generate one for a new account
    (returned in ``new_password``).
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
    return DemoResult(
        case_id=case.id,
        reference=case.reference,
        username=who["username"],
        new_password=generated,
        created_user=created,
        password_set=password_set,
        sightings=len(saved),
    )
