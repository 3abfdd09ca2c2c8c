"""Streets from an OpenStreetMap extract: roads, paths, railways and water as lines.

:func:`read_streets` reads an extract the user supplies (``.osm`` XML or ``.osm.pbf``,
e.g. a Greater London file) with pyosmium, which streams it: nodes go into a
location index, each way is turned into a line as it passes, and nothing else of
the file is held. What search needs is kept (see :func:`classify`):

``name``
    the way's ``name`` (a road with none falls back to its ``ref``, e.g. ``A3``);
    may be empty.
``kind``
    ``road``, ``path``, ``rail`` or ``water``.
``major``
    True for motorway, trunk, primary and secondary roads and their ``_link`` s,
    railways (``rail``, ``light_rail``, ``narrow_gauge``), rivers and canals: lines a
    team sees on the ground and does not cross casually. Never for anything in a
    tunnel, covered, below ground (``layer`` < 0), abandoned, disused, under
    construction or proposed (the Tube runs under Elephant & Castle; it bounds
    nothing on the ground).
``ground``
    False for lines in a tunnel, covered or below ground: they are kept (a Tube line
    is worth seeing) but bound no block of ground.

Safety: the file's kind is read from its first bytes, not its name; XML is checked
with defusedxml (no DTD, entities or external references) before the reader sees
it, and the reader refuses entities itself. The limits come from
:mod:`vocab.settings` (``STREETS_MAX_MB``, ``STREETS_MAX_LINES``,
``STREETS_MAX_POINTS``; an upload is held to ``IMPORT_MAX_MB``) and are named in
the message that refuses an extract. Every failure is a :class:`geo.InputError`.
"""

from __future__ import annotations

import xml.parsers.expat
from array import array
from collections.abc import Mapping
from os import PathLike
from pathlib import Path

import defusedxml.ElementTree as DET
import geopandas as gpd
import numpy as np
import osmium
import shapely
from defusedxml import DefusedXmlException
from osmium.filter import EntityFilter, KeyFilter

from geo._sources import MAX_BYTES, Source
from geo.crs import WGS84
from geo.errors import InputError
from vocab import settings
from vocab.search import STREET_KINDS

#: ``road``, ``path``, ``rail``, ``water`` (the registry in :mod:`vocab.search`).
KINDS = STREET_KINDS

#: Roads whose lines are always sector boundaries (with their ``_link`` s).
MAJOR_HIGHWAYS = frozenset({"motorway", "trunk", "primary", "secondary"})
ROAD_HIGHWAYS = frozenset({
    "motorway", "trunk", "primary", "secondary", "tertiary", "motorway_link", "trunk_link",
    "primary_link", "secondary_link", "tertiary_link", "unclassified", "residential",
    "living_street", "service", "road", "busway", "pedestrian",
})
PATH_HIGHWAYS = frozenset({"footway", "path", "cycleway", "bridleway", "steps", "track"})
MAJOR_RAILWAYS = frozenset({"rail", "light_rail", "narrow_gauge"})
RAILWAYS = MAJOR_RAILWAYS | {"subway", "tram", "monorail", "funicular", "preserved",
                             "miniature", "disused"}
MAJOR_WATERWAYS = frozenset({"river", "canal", "riverbank"})
WATERWAYS = MAJOR_WATERWAYS | {"stream", "brook", "ditch", "drain", "tidal_channel"}
#: ``water=*`` values of ``natural=water`` areas whose outline is a river or canal bank.
MAJOR_WATER = frozenset({"river", "canal", "oxbow", "lock"})
#: Tags that mean a line is not (or no longer, or not yet) usable on the ground.
LIFECYCLE = ("abandoned", "disused", "construction", "proposed")
_KEYS = ("highway", "railway", "waterway", "natural")
_HEAD = 1 << 16  # bytes read to tell XML from PBF and to check the XML prolog


def classify(tags: Mapping[str, str]) -> tuple[str, bool, bool] | None:
    """``(kind, major, ground)`` for a way's tags, or None when search does not need it."""
    def on(key: str) -> bool:
        value = tags.get(key)
        return value is not None and value != "no"

    highway, railway = tags.get("highway", ""), tags.get("railway", "")
    waterway = tags.get("waterway", "")
    kind = None
    major = False
    if highway in ROAD_HIGHWAYS:
        kind, major = "road", highway.removesuffix("_link") in MAJOR_HIGHWAYS
    elif highway in PATH_HIGHWAYS:
        kind = "path"
    elif railway in RAILWAYS:
        kind, major = "rail", railway in MAJOR_RAILWAYS
    elif waterway in WATERWAYS:
        kind, major = "water", waterway in MAJOR_WATERWAYS
    elif tags.get("natural") == "water":
        kind, major = "water", tags.get("water", "") in MAJOR_WATER
    if kind is None:
        return None
    try:
        below = float(tags.get("layer", "0").split(";")[0]) < 0
    except ValueError:
        below = False
    ground = not (on("tunnel") or on("covered") or below)
    if tags.get("tunnel") == "culvert":
        ground = False
    lifecycle = any(on(k) for k in LIFECYCLE) or any(
        f"{k}:" in key for key in tags for k in LIFECYCLE)
    return kind, major and ground and not lifecycle, ground


def read_streets(source: Source) -> gpd.GeoDataFrame:
    """Roads, paths, railways and water of an OpenStreetMap extract, as lon/lat lines.

    ``source`` is a path or ``(filename, bytes)``; ``.osm`` XML or ``.osm.pbf``
    (told apart by content). Returns a GeoDataFrame in EPSG:4326 with columns
    ``name``, ``kind``, ``major`` and ``ground`` (see the module notes) and
    ``attrs["notes"]`` (what was left out). Raises only :class:`geo.InputError`.
    """
    name, indata, head = _open(source)
    fmt = _format(name, head)
    if fmt == "osm":
        _check_xml_prolog(name, indata, head)
    osm_input: osmium.io.File | osmium.io.FileBuffer | str
    if isinstance(indata, bytes):
        osm_input = osmium.io.FileBuffer(indata, fmt)
    else:
        osm_input = osmium.io.File(str(indata), fmt)
    try:
        return _read(name, osm_input)
    except InputError:
        raise
    except (RuntimeError, ValueError, OSError, UnicodeError, MemoryError,
            osmium.InvalidLocationError) as exc:
        what = "OpenStreetMap XML" if fmt == "osm" else "OpenStreetMap PBF"
        detail = "it breaks off or is damaged"
        if "entities" in str(exc).lower():
            detail = "it declares XML entities, which an OpenStreetMap extract never has"
        raise InputError(f"{name!r} could not be read as {what}: {detail}. "
                         "Download the extract again.") from None


def _open(source: Source) -> tuple[str, bytes | Path, bytes]:
    """(file name, the bytes or the path, the first bytes), under the size limits."""
    if isinstance(source, tuple):
        if len(source) != 2 or not isinstance(source[1], bytes | bytearray | memoryview):
            raise InputError("An upload must be given as (file name, file contents).")
        name, data = str(source[0]), bytes(source[1])
        if len(data) > MAX_BYTES:
            raise InputError(
                f"{name!r} is {len(data) / 1e6:.1f} MB; an uploaded extract may be at most "
                f"{MAX_BYTES / 1e6:.0f} MB (the upload limit). Load a large extract on the "
                "server with `wayhome streets import PATH`.")
        if not data.strip():
            raise InputError(f"The file {name!r} is empty.")
        return name, data, data[:_HEAD]
    if not isinstance(source, str | PathLike):
        raise InputError("Expected a file path or an uploaded file.")
    path = Path(source)
    if not path.is_file():
        raise InputError(f"There is no file called {path.name!r}.")
    size = path.stat().st_size
    limit = settings.STREETS_MAX_MB * 1024 * 1024
    if size > limit:
        raise InputError(
            f"{path.name!r} is {size / 1e6:,.0f} MB; extracts over {limit / 1e6:,.0f} MB are "
            "refused (WAYHOME_STREETS_MAX_MB). Use a smaller extract (e.g. Greater London).")
    if size == 0:
        raise InputError(f"The file {path.name!r} is empty.")
    with path.open("rb") as fh:
        head = fh.read(_HEAD)
    return path.name, path, head


def _format(name: str, head: bytes) -> str:
    """``"osm"`` (XML) or ``"pbf"`` from the first bytes, or refuse the file."""
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"<"):
        if b"<osm" not in head:
            raise InputError(f"{name!r} is XML but not an OpenStreetMap extract (no <osm> "
                             "element). Use an .osm or .osm.pbf extract.")
        return "osm"
    # PBF: a 4-byte big-endian header length, then a BlobHeader naming "OSMHeader"
    if len(head) > 8 and b"OSMHeader" in head[4:24]:
        return "pbf"
    if head[:3] in (b"BZh", b"\x1f\x8b\x08"):
        raise InputError(f"{name!r} is compressed; unpack it (or use the .osm.pbf extract) "
                         "and load that.")
    raise InputError(f"{name!r} is not an OpenStreetMap extract (.osm XML or .osm.pbf).")


class _Prolog:
    """Target for the XML prolog check: notes when the root element starts."""

    def __init__(self) -> None:
        self.started = False

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self.started = True

    def end(self, tag: str) -> None:
        pass

    def data(self, data: str) -> None:
        pass

    def close(self) -> None:
        pass


def _check_xml_prolog(name: str, indata: bytes | Path, head: bytes) -> None:
    """Refuse DTDs, entities and external references (defusedxml) before the reader runs.

    They can only be declared before the root element, so the XML is parsed until
    the ``<osm>`` element opens (a few hundred bytes).
    """
    target = _Prolog()
    parser = DET.XMLParser(target=target, forbid_dtd=True,
                           forbid_entities=True, forbid_external=True)
    chunks = [head] if isinstance(indata, bytes) else _chunks(indata)
    try:
        for chunk in chunks:
            parser.feed(chunk)
            if target.started:
                return
    except DefusedXmlException:
        raise InputError(f"{name!r} contains document type declarations or entities; an "
                         "OpenStreetMap extract has none. Download the extract again.") from None
    except (xml.parsers.expat.ExpatError, SyntaxError, ValueError, UnicodeError):
        raise InputError(f"{name!r} is not well-formed XML (it breaks off or is damaged "
                         "near the start). Download the extract again.") from None
    raise InputError(f"{name!r} has no <osm> element near its start; it is not an "
                     "OpenStreetMap extract.")


def _chunks(path: Path, limit: int = 16 * _HEAD) -> list[bytes]:
    with path.open("rb") as fh:
        return [fh.read(limit)]


def _read(name: str, osm_input: osmium.io.File | osmium.io.FileBuffer) -> gpd.GeoDataFrame:
    """Stream the ways; build the lines in one vectorised step at the end."""
    processor = (osmium.FileProcessor(osm_input)
                 .with_locations()
                 .with_filter(EntityFilter(osmium.osm.WAY))
                 .with_filter(KeyFilter(*_KEYS)))
    xs, ys, index = array("d"), array("d"), array("q")
    names: list[str] = []
    kinds: list[str] = []
    majors: list[bool] = []
    grounds: list[bool] = []
    short = 0
    n_lines = 0
    max_lines, max_points = settings.STREETS_MAX_LINES, settings.STREETS_MAX_POINTS
    for way in processor:
        if not isinstance(way, osmium.osm.Way):
            continue
        tags = dict(way.tags)
        what = classify(tags)
        if what is None:
            continue
        pts = [(nd.lon, nd.lat) for nd in way.nodes if nd.location.valid()]
        if len(pts) < 2:
            short += 1
            continue
        if n_lines >= max_lines:
            raise InputError(f"{name!r} has more than {max_lines:,} roads, paths, railways and "
                             "waterways (WAYHOME_STREETS_MAX_LINES). Use a smaller extract.")
        if len(xs) + len(pts) > max_points:
            raise InputError(f"{name!r} has more than {max_points:,} points on its roads, paths, "
                             "railways and waterways (WAYHOME_STREETS_MAX_POINTS). Use a "
                             "smaller extract.")
        for x, y in pts:
            xs.append(x)
            ys.append(y)
        index.extend([n_lines] * len(pts))
        kind, major, ground = what
        label = tags.get("name", "")
        if not label and kind == "road":
            label = tags.get("ref", "")
        names.append(label.strip())
        kinds.append(kind)
        majors.append(major)
        grounds.append(ground)
        n_lines += 1
    if not n_lines:
        raise InputError(f"{name!r} has no roads, paths, railways or waterways with a known "
                         "position. Is it the right extract?")
    coords = np.column_stack([np.frombuffer(xs, dtype=np.float64),
                              np.frombuffer(ys, dtype=np.float64)])
    lines = shapely.linestrings(coords, indices=np.frombuffer(index, dtype=np.int64))
    frame = gpd.GeoDataFrame(
        {"name": np.array(names, dtype=object), "kind": np.array(kinds, dtype=object),
         "major": np.array(majors, dtype=bool), "ground": np.array(grounds, dtype=bool)},
        geometry=lines, crs=WGS84)
    notes = []
    if short:
        notes.append(f"{short:,} way(s) with fewer than two known points were left out "
                     "(their nodes are not in the extract).")
    frame.attrs["notes"] = notes
    return frame


__all__ = ["KINDS", "classify", "read_streets"]
