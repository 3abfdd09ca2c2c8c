"""Reading a place someone typed: "lat, lon", an OS grid reference, or a postcode.

Coordinators copy positions from many places: a phone's map app gives
``51.5074, -0.1278``; a police search adviser's OS map gives ``TQ 301 803``; a
caller gives a postcode. :func:`find_place` accepts all three and answers in
plain words; nothing here raises for ordinary bad input except
:func:`parse_lat_lon` and :func:`parse_grid_reference`, which raise
:class:`geo.InputError` with a message a coordinator understands.

Coordinates out: latitude/longitude in degrees, EPSG:4326.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from geo.crs import bng_to_lonlat, lonlat_to_bng
from geo.errors import InputError
from geo.postcodes import lookup_postcode
from geo.uk import check_point_in_uk

__all__ = ["Place", "find_place", "format_grid_reference", "grid_reference", "parse_grid_reference",
           "parse_lat_lon"]

_NUMBER = r"[-+]?\d+(?:\.\d+)?"
# one coordinate: number, optional degree sign, optional hemisphere letter
_COORD = rf"({_NUMBER})\s*°?\s*([NSEWnsew])?"
_LAT_LON = re.compile(rf"^\(?\s*{_COORD}\s*(?:[,;/]\s*|\s+){_COORD}\s*\)?$")
_GRID = re.compile(r"^([A-Za-z]{2})\s*(\d+)\s*(\d*)$")
_EN = re.compile(r"^\(?\s*(\d{3,7}(?:\.\d+)?)\s*[,;\s]\s*(\d{3,7}(?:\.\d+)?)\s*\)?$")


def _signed(value: str, hemisphere: str | None) -> tuple[float, str | None]:
    number = float(value)
    if hemisphere is None:
        return number, None
    h = hemisphere.upper()
    if number < 0:
        raise InputError(
            f"'{value}{h}' has both a minus sign and a compass letter; use one or the other."
        )
    return (-number if h in "SW" else number), h


def parse_lat_lon(text: str) -> tuple[float, float]:
    """Read ``"lat, lon"`` in decimal degrees; return ``(lat, lon)`` (EPSG:4326).

    Accepts a comma, semicolon, slash or space between the two numbers, optional
    brackets, degree signs and compass letters (``51.5074° N, 0.1278° W``). With
    compass letters the order may be ``lon, lat`` (``0.1278W 51.5074N``). The
    point must lie in the UK; if it only does with the numbers swapped, the
    message says so.
    """
    match = _LAT_LON.match((text or "").strip())
    if not match:
        raise InputError(
            f"'{text}' is not a latitude, longitude pair. Type it like 51.5074, -0.1278."
        )
    a, ha = _signed(match.group(1), match.group(2))
    b, hb = _signed(match.group(3), match.group(4))
    if ha in ("E", "W") or hb in ("N", "S"):
        if (ha or "E") in "EW" and (hb or "N") in "NS":
            a, b = b, a
        else:
            raise InputError(f"'{text}' gives two latitudes or two longitudes.")
    lat, lon = a, b
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise InputError(
            f"'{text}' is out of range: latitude goes from -90 to 90 and longitude "
            "from -180 to 180."
        )
    check_point_in_uk(lat, lon)
    return lat, lon


def _square_origin(letters: str) -> tuple[int, int]:
    """South-west corner (metres, EPSG:27700) of a 100 km square such as ``TQ``."""
    idx = []
    for ch in letters.upper():
        if ch == "I" or not ("A" <= ch <= "Z"):
            raise InputError(f"'{letters}' is not an OS 100 km square (like TQ or SU).")
        n = ord(ch) - ord("A")
        idx.append(n - 1 if n > 7 else n)  # the grid alphabet has no I
    l1, l2 = idx
    e = ((l1 - 2) % 5) * 5 + (l2 % 5)
    n = (19 - (l1 // 5) * 5) - (l2 // 5)
    if not (0 <= e <= 6 and 0 <= n <= 12):
        raise InputError(f"'{letters}' is not a square of the British National Grid.")
    return e * 100_000, n * 100_000


def format_grid_reference(x: float, y: float, digits: int = 10) -> str:
    """The OS grid reference of easting ``x``, northing ``y`` (metres, EPSG:27700).

    ``digits`` (2 to 10, even) counts the figures after the 100 km square's letters:
    10 gives ``TQ 30123 80456`` (a 1 m square), 6 gives ``TQ 301 804`` (a 100 m
    square). Figures are truncated, not rounded, as on an OS map, so the reference
    names the square the point lies in and :func:`parse_grid_reference` reads it back
    to that square's centre.
    """
    if digits % 2 or not 2 <= digits <= 10:
        raise InputError("A grid reference has an even number of figures, 2 to 10.")
    if not (0 <= x < 700_000 and 0 <= y < 1_300_000):
        raise InputError("That point is off the British National Grid.")
    e100, n100 = int(x // 100_000), int(y // 100_000)
    l1 = (19 - n100) - (19 - n100) % 5 + (e100 + 10) // 5
    l2 = (19 - n100) * 5 % 25 + e100 % 5
    letters = "".join(chr(ord("A") + n + (1 if n > 7 else 0)) for n in (l1, l2))
    half = digits // 2
    size = 10 ** (5 - half)
    e = int((x % 100_000) // size)
    n = int((y % 100_000) // size)
    return f"{letters} {e:0{half}d} {n:0{half}d}"


def grid_reference(lat: float, lon: float, digits: int = 10) -> str:
    """The OS grid reference of a lat/lon point (see :func:`format_grid_reference`)."""
    x, y = lonlat_to_bng(lon, lat)
    return format_grid_reference(float(x), float(y), digits)


def parse_grid_reference(text: str) -> tuple[float, float]:
    """Read an OS grid reference or an easting/northing pair; return ``(lat, lon)``.

    ``TQ 301 803``, ``TQ3010080300`` and ``TQ 30100 80300`` (2 to 10 digits)
    give the *centre* of the square they name (a 6-figure reference is a 100 m
    square). ``530100, 180300`` is read as easting, northing in metres. The
    result is converted from British National Grid to EPSG:4326.
    """
    raw = (text or "").strip()
    en = _EN.match(raw)
    if en:
        x, y = float(en.group(1)), float(en.group(2))
        if not (0 <= x <= 700_000 and 0 <= y <= 1_300_000):
            raise InputError(
                f"'{text}' is not an easting, northing on the British National Grid."
            )
    else:
        match = _GRID.match(raw)
        if not match:
            raise InputError(f"'{text}' is not an OS grid reference (like TQ 301 803).")
        digits = match.group(2) + match.group(3)
        if len(digits) % 2 or not 2 <= len(digits) <= 10:
            raise InputError(
                f"'{text}' needs an even number of digits (2 to 10), as many for the "
                "easting as for the northing."
            )
        half = len(digits) // 2
        size = 10 ** (5 - half)  # metres covered by the last digit
        e0, n0 = _square_origin(match.group(1))
        x = e0 + int(digits[:half]) * size + size / 2
        y = n0 + int(digits[half:]) * size + size / 2
    lons, lats = bng_to_lonlat(x, y)
    lat, lon = float(lats), float(lons)
    check_point_in_uk(lat, lon)
    return lat, lon


@dataclass(frozen=True)
class Place:
    """Where a typed text points, or why it points nowhere.

    ``status`` is ``"found"`` (``lat``/``lon`` set), ``"not_in_london"`` (a real
    postcode outside the 33 authorities), or ``"invalid"`` (nothing usable);
    ``message`` is a plain sentence to show the user either way.
    """

    status: str
    message: str
    lat: float | None = None
    lon: float | None = None
    label: str = ""

    @property
    def found(self) -> bool:
        return self.status == "found" and self.lat is not None and self.lon is not None


def _looks_like_coordinates(text: str) -> bool:
    """Only digits, separators, degree signs and compass letters, and two numbers."""
    return bool(re.fullmatch(r"[\s\d.,;/()°+\-NSEWnsew]+", text)) and (
        len(re.findall(r"\d+(?:\.\d+)?", text)) == 2
    )


def find_place(text: str) -> Place:
    """Read what a user typed: ``lat, lon``, an OS grid reference, or a postcode.

    Never raises for bad input: the answer's ``status`` and ``message`` say what
    happened ("That postcode is not in London", "not a postcode or
    coordinates"…).
    """
    raw = (text or "").strip()
    if not raw:
        return Place("invalid", "Type a postcode, or coordinates such as 51.5074, -0.1278.")
    if len(raw) > 100:
        return Place("invalid", "That is too long to be a postcode or coordinates.")
    try:
        if _EN.match(raw):  # two whole numbers of 3+ digits: metres, not degrees
            lat, lon = parse_grid_reference(raw)
            return Place("found", f"Easting, northing {raw}", lat, lon, raw)
        grid = _GRID.match(raw)
        # 4+ digits: a postcode district such as "SW11" is not a grid reference
        if grid and len(grid.group(2) + grid.group(3)) >= 4:
            lat, lon = parse_grid_reference(raw)
            label = raw.upper()
            return Place("found", f"OS grid reference {label}", lat, lon, label)
        if _looks_like_coordinates(raw):
            lat, lon = parse_lat_lon(raw)
            label = f"{lat:.5f}, {lon:.5f}"
            return Place("found", f"Latitude, longitude {label}", lat, lon, label)
    except InputError as exc:
        return Place("invalid", str(exc))
    return _postcode_place(raw)


def _postcode_place(raw: str) -> Place:
    try:
        result = lookup_postcode(raw)
    except InputError as exc:
        return Place("invalid", str(exc))
    status = getattr(result, "status", "invalid")
    message = getattr(result, "message", "") or ""
    postcode = getattr(result, "postcode", "") or raw.upper()
    lat, lon = getattr(result, "lat", None), getattr(result, "lon", None)
    if status == "found" and lat is not None and lon is not None:
        return Place("found", message or f"Postcode {postcode}", float(lat), float(lon), postcode)
    if status == "not_in_london":
        return Place(
            "not_in_london",
            message or f"{postcode} is not a postcode in London's 33 boroughs.",
            lat,
            lon,
            postcode,
        )
    return Place("invalid", message or f"'{raw}' is not a postcode or coordinates Wayhome knows.")
