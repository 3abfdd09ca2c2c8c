"""Turn what a user handed over (a path, or a file name with its bytes) into bytes.

Uploads arrive from Streamlit as a name and bytes; scripts and tests pass paths.
Both become ``(filename, data)`` here, so every reader has one code path and one
size limit. User text never becomes a path GDAL would open (no ``/vsicurl/``).
"""

from __future__ import annotations

from os import PathLike
from pathlib import Path
from typing import TypeAlias

from geo.errors import InputError

#: A path, or ``(filename, bytes)`` as an upload widget returns it.
Source: TypeAlias = "str | PathLike[str] | tuple[str, bytes]"

#: Largest file a user may hand over, in bytes. Sector and track files of a real
#: search are a few megabytes; anything this large is a mistake or an attack.
MAX_BYTES: int = 50 * 1024 * 1024


def read_source(source: Source, *, max_bytes: int = MAX_BYTES) -> tuple[str, bytes]:
    """Return ``(filename, data)`` for a path or an upload, refusing empty or huge files."""
    if isinstance(source, tuple):
        if len(source) != 2 or not isinstance(source[1], bytes | bytearray | memoryview):
            raise InputError("An upload must be given as (file name, file contents).")
        name, data = str(source[0]), bytes(source[1])
    elif isinstance(source, str | PathLike):
        path = Path(source)
        if not path.is_file():
            raise InputError(f"There is no file called {path.name!r}.")
        size = path.stat().st_size
        if size > max_bytes:
            raise InputError(_too_big(path.name, size, max_bytes))
        name, data = path.name, path.read_bytes()
    else:
        raise InputError("Expected a file path or an uploaded file.")
    if len(data) > max_bytes:
        raise InputError(_too_big(name, len(data), max_bytes))
    if not data.strip():
        raise InputError(f"The file {name!r} is empty.")
    return name, data


def suffix(name: str) -> str:
    """Lower-case file extension without the dot ('' when there is none)."""
    return Path(name).suffix.lower().lstrip(".")


def _too_big(name: str, size: int, limit: int) -> str:
    return (
        f"The file {name!r} is {size / 1e6:.1f} MB; files over {limit / 1e6:.0f} MB are "
        "refused. Split it, or export only the area of this search."
    )
