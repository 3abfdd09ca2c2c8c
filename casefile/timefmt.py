"""Times: stored in UTC, shown in Europe/London (zone and formats: :mod:`vocab.london_time`).

Every time the store accepts must carry a time zone; pages that read a date and
a time from a widget (naive, London wall-clock) convert with :func:`from_london`.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from vocab import london_time
from vocab.london_time import LONDON

__all__ = [
    "CLOCK_SKEW", "LONDON", "format_london", "format_london_full", "from_london", "to_london",
    "utcnow",
]


def utcnow() -> datetime:
    """Now, timezone-aware UTC."""
    return datetime.now(UTC)


def to_london(dt: datetime) -> datetime:
    """``dt`` (aware) as Europe/London wall-clock time (GMT or BST)."""
    if dt.tzinfo is None:
        raise ValueError("naive datetime: cannot tell which time zone it is in")
    return dt.astimezone(LONDON)


def from_london(day: date | datetime, at: time | None = None) -> datetime:
    """A London wall-clock date and time (e.g. from a form) as aware UTC.

    In the autumn hour that happens twice the earlier (BST) reading is taken;
    in the spring hour that never happens the clock is read as GMT.
    """
    if isinstance(day, datetime):
        if day.tzinfo is not None:
            return day.astimezone(UTC)
        naive = day
    else:
        naive = datetime.combine(day, at or time(0, 0))
    local = naive.replace(tzinfo=LONDON, fold=0)
    # a non-existent time round-trips to a different wall clock: read it as GMT
    if local.astimezone(UTC).astimezone(LONDON).replace(tzinfo=None) != naive:
        return naive.replace(tzinfo=UTC)
    return local.astimezone(UTC)


def format_london(dt: datetime | None, now: datetime | None = None) -> str:
    """A short London time for people: ``14:05`` today, else ``14:05 on Tue 3 Mar``.

    The year is added when it is not the current year. ``None`` gives ``""``.
    """
    if dt is None:
        return ""
    local = to_london(dt)
    today = to_london(now or utcnow()).date()
    hm = local.strftime(london_time.CLOCK)
    if local.date() == today:
        return hm
    day = f"{local:%a} {local.day} {local:%b}"
    if local.year != today.year:
        day += f" {local.year}"
    return f"{hm} on {day}"


def format_london_day(dt: datetime | None, now: datetime | None = None) -> str:
    """A London day and time in words for families: ``Sunday 6 December at 14:05``.

    Minutes as stored (never rounded); the year is added when it is not the current
    year. ``None`` gives ``""``.
    """
    if dt is None:
        return ""
    local = to_london(dt)
    today = to_london(now or utcnow()).date()
    day = f"{local:%A} {local.day} {local:%B}"
    if local.year != today.year:
        day += f" {local.year}"
    return f"{day} at {local.strftime(london_time.CLOCK)}"


def format_london_dated(dt: datetime | None, now: datetime | None = None) -> str:
    """A short London day and time that never leaves the day out: ``Sun 6 Dec 03:55``.

    For pages read in the field, where "03:55" alone may be yesterday's. The year is
    added when it is not the current year. ``None`` gives ``""``.
    """
    if dt is None:
        return ""
    local = to_london(dt)
    day = f"{local:%a} {local.day} {local:%b}"
    if local.year != to_london(now or utcnow()).year:
        day += f" {local.year}"
    return f"{day} {local.strftime(london_time.CLOCK)}"


def format_london_full(dt: datetime | None) -> str:
    """An unambiguous London time for logs and exports: ``2026-03-03 14:05 GMT``."""
    if dt is None:
        return ""
    return to_london(dt).strftime(london_time.LOG)


#: how far in the future a reported time may be (clocks on phones drift)
CLOCK_SKEW = timedelta(minutes=5)
