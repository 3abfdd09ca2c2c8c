"""Turn what a user handed over (a path, or a file name with its bytes) into bytes.

Uploads arrive from Streamlit as a name and bytes; scripts and tests pass paths.
Both become ``(filename, data)`` here, so every reader has one code path and one
size limit. User text never becomes a path GDAL would open (no ``/vsicurl/``), and
GDAL's own network access is switched off when this module is imported (a file's
linked coordinate system or style must never make the server call an address).

The helpers every importer shares live here too, each raising only
:class:`geo.InputError`: a nesting check for JSON before it is parsed, zip members
unpacked with a running byte count (headers can lie), and XML parsed without DTDs,
entities or external references. The limits come from :mod:`vocab.settings`.
"""

from __future__ import annotations

import io
import re
import zipfile
import zlib
from os import PathLike
from pathlib import Path
from struct import error as struct_error
from typing import TypeAlias
from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as DET
import numpy as np
import pyogrio
from defusedxml import DefusedXmlException

from geo.errors import InputError
from vocab import settings

#: A path, or ``(filename, bytes)`` as an upload widget returns it.
Source: TypeAlias = "str | PathLike[str] | tuple[str, bytes]"

#: Largest file a user may hand over, in bytes. Sector and track files of a real
#: search are a few megabytes; anything this large is a mistake or an attack.
MAX_BYTES: int = int(settings.IMPORT_MAX_MB * 1024 * 1024)

# GDAL may fetch what a file names (a GeoJSON ``crs`` link, a KML style or
# NetworkLink, a ``/vsicurl/`` path). Every HTTP request it makes goes to a proxy
# on a closed local port, with no retries and a one-second timeout, and
# ``/vsicurl/`` accepts no file name at all.
_GDAL_OFFLINE = {
    "GDAL_HTTP_PROXY": "127.0.0.1:1",
    "GDAL_HTTPS_PROXY": "127.0.0.1:1",
    "GDAL_HTTP_TIMEOUT": "1",
    "GDAL_HTTP_CONNECTTIMEOUT": "1",
    "GDAL_HTTP_MAX_RETRY": "0",
    "GDAL_HTTP_NETRC": "NO",
    "CPL_VSIL_CURL_ALLOWED_EXTENSIONS": ".wayhome-offline",
    "GDAL_ALLOW_REMOTE_RESOURCE_TO_ACCESS_LOCAL_FILE": "NO",
    "LIBKML_RESOLVE_STYLE": "NO",
    "LIBKML_EXTERNAL_STYLE": "NO",
}
pyogrio.set_gdal_config_options(_GDAL_OFFLINE)


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


# --- JSON -------------------------------------------------------------------------------

_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)


def json_depth(data: bytes) -> int:
    """Deepest nesting of ``[`` / ``{`` in JSON text, without parsing it (no recursion).

    Strings are blanked first so brackets inside names do not count. Linear in the
    size of the file; vectorised with numpy.
    """
    bare = _JSON_STRING.sub(b'""', data)
    arr = np.frombuffer(bare, dtype=np.uint8)
    step = (np.isin(arr, (ord("["), ord("{"))).astype(np.int32)
            - np.isin(arr, (ord("]"), ord("}"))).astype(np.int32))
    if not len(step):
        return 0
    return int(np.cumsum(step).max())


def check_json_depth(name: str, data: bytes) -> None:
    """Refuse JSON nested deeper than ``settings.IMPORT_MAX_JSON_DEPTH`` before parsing."""
    depth = json_depth(data)
    if depth > settings.IMPORT_MAX_JSON_DEPTH:
        raise InputError(
            f"{name!r} is nested {depth:,} levels deep; GeoJSON needs a handful and at most "
            f"{settings.IMPORT_MAX_JSON_DEPTH} are read (maximum JSON depth). Export it again."
        )


# --- zip archives -----------------------------------------------------------------------

_ZIP_METHODS = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_CHUNK = 1 << 20


def open_zip(name: str, data: bytes) -> tuple[zipfile.ZipFile, list[zipfile.ZipInfo]]:
    """Open a zip held in memory and list its files, or refuse it as damaged.

    Member names that are not UTF-8 when flagged so, a central directory that
    points past the end, and every other damage a header can carry become
    :class:`InputError`; the declared sizes are checked against
    ``settings.IMPORT_MAX_UNZIPPED_MB`` here (the real sizes again while unpacking).
    """
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
        infos = [i for i in zf.infolist() if not i.is_dir()]
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            UnicodeDecodeError, NotImplementedError, RuntimeError, OverflowError,
            IndexError, KeyError, TypeError, struct_error) as exc:
        raise InputError(f"{name!r} is a damaged or incomplete zip file. Zip it again.") from exc
    limit = unzipped_limit()
    if sum(i.file_size for i in infos) > limit:
        raise InputError(_bomb(name, limit))
    return zf, infos


def unzipped_limit() -> int:
    """Most bytes a zip may unpack to (``settings.IMPORT_MAX_UNZIPPED_MB``)."""
    return int(settings.IMPORT_MAX_UNZIPPED_MB * 1024 * 1024)


def _bomb(name: str, limit: int) -> str:
    return (f"{name!r} unpacks to more than {limit / 1e6:.0f} MB (the limit on bytes after "
            "decompression), far more than a search file; it was refused.")


def read_member(name: str, zf: zipfile.ZipFile, info: zipfile.ZipInfo,
                budget: list[int] | None = None) -> bytes:
    """The bytes of one zip member, unpacked in chunks under the size and ratio limits.

    ``budget`` (a one-item list of bytes still allowed) is shared between the members
    of one archive so their total stays under ``settings.IMPORT_MAX_UNZIPPED_MB``.
    Encrypted members and compression methods other than stored / deflate (deflate64,
    AES, bzip2, LZMA) are refused by name; a damaged stream is refused as damaged.
    """
    member = repr(info.filename)
    if info.flag_bits & 0x1:
        raise InputError(f"{member} inside {name!r} is password-protected; zip it again "
                         "without a password.")
    if info.compress_type not in _ZIP_METHODS:
        raise InputError(f"{member} inside {name!r} is compressed with a method Wayhome does "
                         "not read (only plain zip 'deflate'); zip it again with the "
                         "standard method.")
    limit = unzipped_limit() if budget is None else budget[0]
    ratio_cap = max(int(settings.IMPORT_MAX_ZIP_RATIO * max(info.compress_size, 1)), _CHUNK)
    cap = min(limit, ratio_cap)
    out = bytearray()
    try:
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(_CHUNK)
                if not chunk:
                    break
                out += chunk
                if len(out) > cap:
                    if cap == ratio_cap and cap < limit:
                        raise InputError(
                            f"{member} inside {name!r} expands more than "
                            f"{settings.IMPORT_MAX_ZIP_RATIO:g} times (the zip-bomb ratio "
                            "limit); it was refused.")
                    raise InputError(_bomb(name, limit))
    except InputError:
        raise
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, RuntimeError,
            NotImplementedError, zlib.error, UnicodeDecodeError, OverflowError,
            struct_error) as exc:
        raise InputError(f"{name!r} is damaged: {member} inside it cannot be unpacked. "
                         "Zip it again.") from exc
    if budget is not None:
        budget[0] -= len(out)
    return bytes(out)


# --- XML --------------------------------------------------------------------------------

def parse_xml(name: str, data: bytes, what: str) -> Element:
    """Parse GPX / KML text with no DTDs, entities or external references (defusedxml)."""
    if not data.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"<"):
        raise InputError(f"{name!r} is not a {what} file (it is not XML). Export the track "
                         f"as {what} from the app and upload that file.")
    try:
        root: Element = DET.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                       forbid_external=True)
    except DefusedXmlException:
        raise InputError(
            f"{name!r} contains document type declarations or entities; it is not a {what} "
            "export. Export it again from the app."
        ) from None
    except (ParseError, ValueError, UnicodeDecodeError, RecursionError) as exc:
        line = getattr(exc, "position", (None,))[0]
        where = f" near line {line}" if line else ""
        raise InputError(
            f"{name!r} is not a complete {what} file (the XML breaks off or is damaged{where}). "
            "Export it again from the app and re-upload."
        ) from None
    return root



