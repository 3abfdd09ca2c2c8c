"""Type a London postcode instead of coordinates.

The lookup table (``settings.POSTCODES_FILE``, built by ``data/boundaries/build.py``)
holds the 180,792 live postcodes of the 33 London authorities from OS Code-Point
Open 2025.4: postcode, centroid lat/lon (EPSG:4326, 6 decimals) and borough code.
Code-Point Open holds live postcodes only, and postal areas do not follow the GLA
boundary (a Harrow postcode may start with HA, an Epsom one with KT), so a
well-formed postcode we do not hold gets a plain "not a London postcode we hold"
answer, never an error.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd

from vocab import settings

#: A full UK postcode written without spaces: outward code (area letters, district)
#: and inward code (sector digit, unit letters). Also the special "GIR 0AA".
_POSTCODE = re.compile(r"(?:[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}|GIR0AA)")
#: Just the outward code ("SW1A"): a common partial entry.
_OUTWARD = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?")

Status = Literal["found", "not_in_london", "invalid"]


@dataclass(frozen=True)
class PostcodeResult:
    """Answer to a postcode lookup.

    ``postcode`` is the normalised form (``"SW1A 2AA"``) or the trimmed input when it
    is not a postcode; ``lat``/``lon`` (EPSG:4326) and ``borough_code`` are set only
    when ``status == "found"``; ``message`` is a plain sentence for the user.
    """

    postcode: str
    status: Status
    message: str
    lat: float | None = None
    lon: float | None = None
    borough_code: str | None = None

    @property
    def found(self) -> bool:
        return self.status == "found"


def _postcodes_file() -> Path:
    return Path(settings.POSTCODES_FILE)


@dataclass(frozen=True)
class _Table:
    index: pd.Index  # postcodes without spaces, unique
    lat: np.ndarray
    lon: np.ndarray
    borough_code: np.ndarray

    def get(self, key: str) -> tuple[float, float, str] | None:
        try:
            i = self.index.get_loc(key)
        except KeyError:
            return None
        return float(self.lat[i]), float(self.lon[i]), str(self.borough_code[i])


@cache
def _table() -> _Table:
    """Postcodes indexed without spaces. Loaded once, in about a quarter of a second."""
    df = pd.read_csv(_postcodes_file(), engine="pyarrow")
    index = pd.Index(df["postcode"].str.replace(" ", "", regex=False))
    return _Table(index, df["lat"].to_numpy(float), df["lon"].to_numpy(float),
                  df["borough_code"].to_numpy(object))


def normalise_postcode(text: str) -> str:
    """Upper-case, all spaces removed, then one space before the last three characters
    when the result is a well-formed postcode (``" sw1a2aa "`` -> ``"SW1A 2AA"``)."""
    compact = re.sub(r"\s+", "", str(text)).upper()
    if _POSTCODE.fullmatch(compact):
        return f"{compact[:-3]} {compact[-3:]}"
    return compact


def lookup_postcode(text: str) -> PostcodeResult:
    """Look up a London postcode; never raises for user text.

    ``status`` is ``"found"`` (with ``lat``/``lon``), ``"not_in_london"`` for a
    well-formed UK postcode that is not in the London file, or ``"invalid"``.
    """
    raw = "" if text is None else str(text)
    shown = raw.strip()[:40]
    compact = re.sub(r"\s+", "", raw).upper()
    if not compact:
        return PostcodeResult(shown, "invalid", "Type a postcode, for example SW1A 2AA.")
    if not _POSTCODE.fullmatch(compact):
        if _OUTWARD.fullmatch(compact):
            return PostcodeResult(
                compact, "invalid",
                f"{compact} is only the first half of a postcode. Type the full postcode, "
                "for example SW1A 2AA.",
            )
        return PostcodeResult(
            shown, "invalid",
            f"'{shown}' is not a UK postcode. A postcode looks like SW1A 2AA or E1 6AN.",
        )
    postcode = normalise_postcode(compact)
    hit = _table().get(compact)
    if hit is None:
        return PostcodeResult(
            postcode, "not_in_london",
            f"{postcode} is not a London postcode we hold. It may be outside the 33 London "
            "boroughs, or no longer in use. Enter the place on the map or as latitude, "
            "longitude instead.",
        )
    lat, lon, borough_code = hit
    return PostcodeResult(postcode, "found", f"{postcode} found.", lat, lon, borough_code)


def postcodes_in(bbox: tuple[float, float, float, float]) -> pd.DataFrame:
    """The postcode centroids inside a lon/lat box (west, south, east, north).

    Columns ``postcode`` (``"SE1 0AA"``), ``lon`` and ``lat`` (EPSG:4326). Used to
    draw postcode-unit cells where no street extract is loaded.
    """
    table = _table()
    west, south, east, north = (float(v) for v in bbox)
    keep = (table.lon >= west) & (table.lon <= east) & (table.lat >= south) & (table.lat <= north)
    compact = pd.Series(table.index[keep], dtype=object)
    return pd.DataFrame({
        "postcode": (compact.str.slice(0, -3) + " " + compact.str.slice(-3)).to_numpy(object),
        "lon": table.lon[keep], "lat": table.lat[keep]})
