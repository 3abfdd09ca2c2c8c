"""Wayhome's settings, in one place, each read from the environment once at import.

Every setting is a plain module attribute, documented here, so that a deployment
can see everything it may change without reading code.

DATABASE_URL : str
    ``WAYHOME_DATABASE_URL`` or ``DATABASE_URL``. Empty (the default) means the
    embedded SQLite file at ``SQLITE_PATH``. ``postgresql://user@host:port/dbname``
    selects PostgreSQL + PostGIS.
SQLITE_PATH : pathlib.Path
    ``WAYHOME_SQLITE_PATH``; default ``wayhome.sqlite3`` in the working directory.
BOUNDARIES_DIR : pathlib.Path
    ``WAYHOME_BOUNDARIES_DIR``; the built boundary layers (``data/boundaries``).
POSTCODES_FILE : pathlib.Path
    ``WAYHOME_POSTCODES_FILE``; London postcode centroids (``data/postcodes``).
TILES : str
    ``WAYHOME_TILES``: ``openstreetmap`` (default), ``none`` (no background; every
    overlay still shows), or a tile URL template ``https://…/{z}/{x}/{y}.png``.
TILES_ATTRIBUTION : str
    ``WAYHOME_TILES_ATTRIBUTION``; required by most tile servers for a custom URL.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT: Path = Path(__file__).resolve().parent.parent

DATABASE_URL: str = os.environ.get("WAYHOME_DATABASE_URL") or os.environ.get("DATABASE_URL", "")
SQLITE_PATH: Path = Path(os.environ.get("WAYHOME_SQLITE_PATH", "wayhome.sqlite3"))
BOUNDARIES_DIR: Path = Path(
    os.environ.get("WAYHOME_BOUNDARIES_DIR", REPO_ROOT / "data" / "boundaries")
)
POSTCODES_FILE: Path = Path(
    os.environ.get(
        "WAYHOME_POSTCODES_FILE", REPO_ROOT / "data" / "postcodes" / "london_postcodes.csv.gz"
    )
)
TILES: str = os.environ.get("WAYHOME_TILES", "openstreetmap")
TILES_ATTRIBUTION: str = os.environ.get("WAYHOME_TILES_ATTRIBUTION", "")
