"""Checking what users typed or drew before anything is written.

Each checker returns the cleaned value or raises :class:`InvalidInput` naming
the field as a coordinator sees it. Text is stored verbatim (escaping is the
job of whatever displays it) but length-capped, and NUL characters are refused
(PostgreSQL cannot store them, so the two backends would disagree).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from casefile.errors import InvalidInput
from casefile.timefmt import CLOCK_SKEW, format_london_full, utcnow
from geo.errors import InputError
from geo.uk import check_point_in_uk

#: no sighting or report is older than this (catches "0202" typed for "2026")
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)

#: the labels coordinators see in messages
LABELS: dict[str, str] = {
    "reference": "Case reference",
    "child_name": "Child's first name or alias",
    "age": "Age",
    "risk": "Risk grade",
    "reported_missing_at": "Time reported missing",
    "home": "Home",
    "ipp": "Initial planning point (IPP)",
    "status": "Status",
    "description": "Description",
    "notes": "Notes",
    "location": "Sighting location",
    "seen_at": "Time seen",
    "source": "Source",
    "confidence": "Confidence",
    "reported_by": "Reported by",
    "reporter_contact": "Reporter's contact details",
    "reason": "Reason",
    "username": "Username",
    "display_name": "Name",
    "password": "Password",
    "idempotency_key": "Form key",
}

_KEY_RE = re.compile(r"^[A-Za-z0-9_.:\-]{8,64}$")
_USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._\-]{2,63}$")


def _label(field: str) -> str:
    return LABELS.get(field, field.replace("_", " ").capitalize())


def text(field: str, value: Any, max_len: int, *, required: bool = False) -> str:
    """A string as typed (not trimmed), at most ``max_len`` characters."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{_label(field)} must be text.")
    if required and not value.strip():
        raise InvalidInput(f"{_label(field)} is required.")
    if len(value) > max_len:
        raise InvalidInput(
            f"{_label(field)} is too long ({len(value):,} characters; at most {max_len:,})."
        )
    if "\x00" in value:
        raise InvalidInput(f"{_label(field)} contains a NUL character; please retype it.")
    return value


def choice(field: str, value: Any, options: Sequence[str]) -> str:
    """One of ``options`` (exact spelling)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise InvalidInput(f"{_label(field)} is required.")
    if value not in options:
        raise InvalidInput(
            f"{_label(field)} must be one of: {', '.join(options)} (got {str(value)[:40]!r})."
        )
    return str(value)


def integer(field: str, value: Any, lo: int, hi: int, *, required: bool = True) -> int | None:
    """A whole number in [lo, hi]."""
    if value is None or value == "":
        if required:
            raise InvalidInput(f"{_label(field)} is required.")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidInput(f"{_label(field)} must be a whole number.")
    try:
        number = int(str(value).strip()) if not isinstance(value, float) else int(value)
    except ValueError:
        raise InvalidInput(f"{_label(field)} must be a whole number.") from None
    if isinstance(value, float) and value != number:
        raise InvalidInput(f"{_label(field)} must be a whole number.")
    if not lo <= number <= hi:
        raise InvalidInput(f"{_label(field)} must be between {lo} and {hi}.")
    return number


def moment(field: str, value: Any, *, now: datetime | None = None) -> datetime:
    """An aware datetime, not in the future (beyond clock skew), not absurdly old."""
    if value is None:
        raise InvalidInput(f"{_label(field)} is required.")
    if not isinstance(value, datetime):
        raise InvalidInput(f"{_label(field)} must be a date and time.")
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidInput(
            f"{_label(field)} has no time zone; convert London times with casefile.from_london()."
        )
    value = value.astimezone(UTC)
    now = now or utcnow()
    if value > now + CLOCK_SKEW:
        raise InvalidInput(
            f"{_label(field)} ({format_london_full(value)}) is in the future. "
            "Check the date and the time."
        )
    if value < EARLIEST:
        raise InvalidInput(f"{_label(field)} ({format_london_full(value)}) is too long ago.")
    return value


def point(field: str, value: Any, *, required: bool = True) -> tuple[float, float] | None:
    """A (lat, lon) pair in the UK, as floats."""
    if value is None:
        if required:
            raise InvalidInput(f"{_label(field)} is required.")
        return None
    try:
        lat, lon = value
        lat, lon = float(lat), float(lon)
    except (TypeError, ValueError):
        raise InvalidInput(f"{_label(field)} must be a latitude and a longitude.") from None
    if not (math.isfinite(lat) and math.isfinite(lon)):
        raise InvalidInput(f"{_label(field)} must be a latitude and a longitude.")
    try:
        check_point_in_uk(lat, lon)
    except InputError as exc:
        raise InvalidInput(f"{_label(field)}: {exc}") from None
    return lat, lon


def idempotency_key(value: Any) -> str | None:
    """A client-made key (e.g. a UUID) identifying one form submission or drawing."""
    if value is None:
        return None
    if not isinstance(value, str) or not _KEY_RE.match(value):
        raise InvalidInput(
            "Form key must be 8-64 letters, digits or - _ . : (use a UUID made by the page)."
        )
    return value


def username(value: Any) -> str:
    """A login name: lower-case letters, digits and . _ -, 3-64 long."""
    if not isinstance(value, str) or not _USERNAME_RE.match(value):
        raise InvalidInput(
            "Username must be 3-64 lower-case letters, digits, dots, dashes or underscores, "
            "starting with a letter or digit."
        )
    return value
