"""Small helpers the case forms share: typed places, London times, one key per submission."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time

import streamlit as st

from casefile import from_london, to_london, utcnow
from geo.coordinates import find_place
from geo.errors import InputError


def point_from_text(label: str, text: str, *, required: bool) -> tuple[float, float] | None:
    """(lat, lon) from a postcode, "lat, lon" or OS grid reference; InputError if unusable."""
    raw = (text or "").strip()
    if not raw:
        if required:
            raise InputError(f"{label} is required: type a postcode or coordinates.")
        return None
    place = find_place(raw)
    if not place.found:
        raise InputError(f"{label}: {place.message}")
    return float(place.lat), float(place.lon)  # type: ignore[arg-type]


def london_moment(day: date | None, at: time | None, label: str) -> datetime:
    """A London wall-clock date and time from two widgets, as aware UTC."""
    if day is None or at is None:
        raise InputError(f"{label}: give both a date and a time.")
    return from_london(day, at)


def london_now() -> tuple[date, time]:
    """Today's date and the current minute, London wall clock (form defaults)."""
    now = to_london(utcnow())
    return now.date(), now.time().replace(second=0, microsecond=0)


def form_key(name: str) -> str:
    """This form's idempotency key: the same until :func:`renew_form_key` after a save."""
    slot = f"_formkey_{name}"
    if slot not in st.session_state:
        st.session_state[slot] = f"{name[:20]}-{uuid.uuid4().hex}"
    return st.session_state[slot]


def renew_form_key(name: str) -> None:
    """Give the form a new key: the next submission is a new record."""
    st.session_state[f"_formkey_{name}"] = f"{name[:20]}-{uuid.uuid4().hex}"


def point_text(point: tuple[float, float] | None) -> str:
    """How a stored point is shown in a form field."""
    return "" if point is None else f"{point[0]:.5f}, {point[1]:.5f}"
