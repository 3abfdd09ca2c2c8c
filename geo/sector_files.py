"""Import search sectors from the files other agencies and tools hand over.

:func:`read_sectors` reads GeoJSON (FeatureCollection, bare Feature or bare
geometry, with an optional old-style ``crs`` member), KML and KMZ, GPX (routes,
and tracks that close on themselves, become areas), shapefiles (a ``.shp`` path
with its sidecar files, or all of them zipped) and GeoPackage, in any
coordinate system. British National Grid is recognised even when a ``.prj``
names it in a way PROJ does not (ESRI or MapInfo wording, an unknown datum, a
``TOWGS84`` clause): such files are read as EPSG:27700 and a note says so. A
file without a coordinate system is placed by its numbers (metres → British
National Grid, degrees → lon/lat) and the assumption is reported in
``gdf.attrs["notes"]``.

Files are read from memory with pyogrio; the user's file name and contents
never become a path GDAL would open. A bad file raises :class:`geo.InputError`
with a message a coordinator can act on, and nothing is returned half-read.
"""

from __future__ import annotations

import io
import json
import math
import sqlite3
import tempfile
import time
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely
from pyproj import CRS
from pyproj.exceptions import CRSError

from geo._sources import (
    MAX_BYTES,
    Source,
    check_json_depth,
    open_zip,
    parse_xml,
    read_member,
    read_source,
    suffix,
    unzipped_limit,
)
from geo.crs import BNG, WGS84, geoms_to_bng, lonlat_to_bng
from geo.errors import InputError
from geo.polygons import polygonal_part
from geo.shapes import clean_shapes, repair
from vocab import settings

#: Most features (sectors) one file may hold (``settings.IMPORT_MAX_FEATURES``).
MAX_FEATURES: int = settings.IMPORT_MAX_FEATURES
#: Most vertices in one file, all features together (``settings.IMPORT_MAX_VERTICES``).
MAX_VERTICES: int = settings.IMPORT_MAX_VERTICES
#: Most files in a zip / KMZ; their size unpacked is limited by
#: ``settings.IMPORT_MAX_UNZIPPED_MB`` and ``settings.IMPORT_MAX_ZIP_RATIO``.
MAX_ZIP_MEMBERS: int = 500
#: A GPX track whose ends are this close (m) is a drawn area, not a walked path.
GPX_CLOSE_M: float = 25.0
#: Columns that can carry a sector's name, in order of preference (CalTopo: title).
NAME_COLUMNS = ("name", "Name", "NAME", "title", "Title", "TITLE", "label", "Label",
                "sector", "Sector", "SECTOR", "number", "id", "ID", "Id")
DESCRIPTION_COLUMNS = ("description", "Description", "desc", "DESCRIPTION", "cmt", "notes",
                       "Notes")

_SHP_SIDECARS = ("shx", "dbf", "prj", "cpg")
_MAGIC = {
    b"\x89PNG": "a PNG image",
    b"\xff\xd8\xff": "a JPEG image",
    b"GIF8": "a GIF image",
    b"%PDF": "a PDF document",
    b"PK\x03\x04": "a zip archive",
    b"SQLite format 3\x00": "a GeoPackage / SQLite database",
    b"\x00\x00'\n": "a shapefile (.shp)",
    b"\xd0\xcf\x11\xe0": "a Microsoft Office document",
}
_FORMAT_NAMES = {
    "geojson": "GeoJSON", "kml": "KML", "kmz": "KMZ", "gpx": "GPX", "shp": "a shapefile",
    "zip": "a zipped shapefile", "gpkg": "GeoPackage",
}
_EXTENSIONS = {
    "geojson": "geojson", "json": "geojson", "kml": "kml", "kmz": "kmz", "gpx": "gpx",
    "shp": "shp", "zip": "zip", "gpkg": "gpkg",
}




@dataclass
class _Raw:
    """One layer as read, with what the file said about its coordinates."""

    frame: gpd.GeoDataFrame
    declared: bool  # the file states its CRS (or its format fixes it)
    lonlat_by_default: bool = False  # GeoJSON without a crs member: lon/lat per RFC 7946
    prj: str = ""


# --- public entry point -------------------------------------------------------------

def read_sectors(source: Source) -> gpd.GeoDataFrame:
    """Read the areas (polygons) of a sector file into lon/lat (EPSG:4326).

    ``source`` is a path, or ``(filename, bytes)`` as uploaded. Returns a
    GeoDataFrame with ``name`` and ``description`` columns and one
    (Multi)Polygon per feature; ``attrs["notes"]`` lists what was assumed,
    repaired or skipped (points, open lines). Raises :class:`InputError`.
    """
    name, data = read_source(source)
    sidecars = _sidecars(source) if suffix(name) == "shp" and not isinstance(source, tuple) else {}
    frames, notes = _read_any(name, data, sidecars, depth=0)
    return _finish(name, frames, notes)


# --- format detection ---------------------------------------------------------------

def _what_it_is(data: bytes) -> str | None:
    for magic, label in _MAGIC.items():
        if data.startswith(magic):
            return label
    head = data[:2048].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith(b"{") or head.startswith(b"["):
        return "JSON"
    if head.startswith(b"<"):
        if b"<gpx" in head:
            return "GPX"
        if b"<kml" in head:
            return "KML"
        if b"<html" in head or b"<!doctype html" in head:
            return "a web page (HTML)"
        return "XML"
    return None


def _expected(fmt: str, data: bytes) -> bool:
    found = _what_it_is(data)
    return {
        "geojson": found == "JSON",
        "kml": found in ("KML", "XML"),
        "gpx": found in ("GPX", "XML"),
        "kmz": found == "a zip archive",
        "zip": found == "a zip archive",
        "gpkg": found == "a GeoPackage / SQLite database",
        "shp": found == "a shapefile (.shp)",
    }[fmt]


def _guess_format(data: bytes) -> str | None:
    return {
        "JSON": "geojson", "KML": "kml", "GPX": "gpx", "a zip archive": "zip",
        "a GeoPackage / SQLite database": "gpkg", "a shapefile (.shp)": "shp",
    }.get(_what_it_is(data) or "")


def _read_any(name: str, data: bytes, sidecars: dict[str, bytes], depth: int
              ) -> tuple[list[_Raw], list[str]]:
    ext = suffix(name)
    fmt = _EXTENSIONS.get(ext)
    if fmt is None:
        fmt = _guess_format(data)
        if fmt is None:
            raise InputError(
                f"{name!r} is not a sector file Wayhome can read. Use GeoJSON, KML/KMZ, GPX, "
                "a zipped shapefile or GeoPackage."
            )
    elif not _expected(fmt, data):
        found = _what_it_is(data)
        what = f"it is {found}" if found else "its contents are not"
        raise InputError(
            f"{name!r} is named as {_FORMAT_NAMES[fmt]} but {what}"
            f"{'' if found else ' ' + _FORMAT_NAMES[fmt]}. Export the file again, or check "
            "you picked the right one."
        )
    if fmt == "geojson":
        return _read_geojson(name, data)
    if fmt in ("kml", "gpx", "gpkg"):
        return _read_layers(name, data, fmt)
    if fmt == "shp":
        return _read_shapefile(name, data, sidecars)
    return _read_zip(name, data, fmt, depth)


# --- readers ------------------------------------------------------------------------

def _pyogrio_layers(name: str, data: bytes, what: str) -> list[tuple[str, str | None]]:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return [(str(a), None if b is None else str(b)) for a, b in pyogrio.list_layers(data)]
    except Exception as exc:  # pyogrio raises several types for a broken file
        raise InputError(
            f"{name!r} could not be read as {what}: it looks damaged or incomplete. "
            "Export it again."
        ) from exc


def _pyogrio_read(name: str, data: bytes, what: str, layer: int | None = None
                  ) -> gpd.GeoDataFrame:
    """Read one layer (by position: a KML layer's name can be the in-memory file's)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return pyogrio.read_dataframe(data, layer=layer)
    except Exception as exc:
        raise InputError(
            f"{name!r} could not be read as {what}: it looks damaged or incomplete. "
            "Export it again."
        ) from exc


_GEOJSON_KINDS = frozenset({"FeatureCollection", "Feature", "Polygon", "MultiPolygon",
                            "LineString", "MultiLineString", "Point", "MultiPoint",
                            "GeometryCollection"})


def _linked_crs(crs: object) -> bool:
    """Does a GeoJSON ``crs`` member point at a web address or a file (a link)?"""
    if not isinstance(crs, dict):
        return crs is not None
    props = crs.get("properties")
    if crs.get("type") != "name" or not isinstance(props, dict):
        return True
    ident = props.get("name")
    if not isinstance(ident, str):
        return True
    low = ident.strip().lower()
    return ("://" in low and not low.startswith(("http://www.opengis.net/def/crs/",
                                                 "https://www.opengis.net/def/crs/"))
            ) or low.startswith(("/", "\\", "file:", "."))


def _read_geojson(name: str, data: bytes) -> tuple[list[_Raw], list[str]]:
    check_json_depth(name, data)
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise InputError(f"{name!r} is not text, so it cannot be GeoJSON.") from exc
    except json.JSONDecodeError as exc:
        near_end = exc.pos >= len(data.rstrip()) - 2
        why = "it stops part-way (the file is cut short)" if near_end else (
            f"it has a mistake at line {exc.lineno}, column {exc.colno}")
        raise InputError(f"{name!r} is not valid GeoJSON: {why}. Export it again.") from exc
    except (RecursionError, ValueError) as exc:  # depth is checked above; numbers too long
        raise InputError(f"{name!r} is not valid GeoJSON. Export it again.") from exc
    kind = doc.get("type") if isinstance(doc, dict) else None
    if not isinstance(kind, str) or kind not in _GEOJSON_KINDS:
        raise InputError(f"{name!r} is JSON but not GeoJSON (no FeatureCollection, Feature or "
                         "geometry in it).")
    features = doc.get("features") if kind == "FeatureCollection" else [doc]
    if kind == "FeatureCollection" and not features:
        raise InputError(f"{name!r} has no features in it.")
    if not isinstance(features, list):
        raise InputError(f"{name!r} is not valid GeoJSON: its 'features' is not a list.")
    if len(features) > MAX_FEATURES:
        raise InputError(f"{name!r} has {len(features):,} features; at most {MAX_FEATURES:,} "
                         "can be imported at once (maximum features). Split the file.")
    carriers = [doc, *(f for f in features if isinstance(f, dict)),
                *(f.get("geometry") for f in features if isinstance(f, dict))]
    if any(isinstance(c, dict) and "crs" in c and _linked_crs(c["crs"]) for c in carriers):
        raise InputError(
            f"{name!r} names its coordinate system by a link (a web address or a file). "
            "Wayhome never follows links in an uploaded file; export it again with an EPSG "
            "code (for example EPSG:27700) or as plain longitude/latitude GeoJSON."
        )
    frame = _pyogrio_read(name, data, "GeoJSON")
    _check_numbers(name, frame)
    declared = isinstance(doc.get("crs"), dict)
    return [_Raw(frame, declared, lonlat_by_default=not declared)], []


def _xml_precheck(name: str, data: bytes, fmt: str) -> list[str]:
    """Parse KML / GPX safely before GDAL sees it: counts, numbers and links.

    No DTD, entity or external reference is accepted; more placemarks, routes or
    tracks than ``MAX_FEATURES`` refuse the file; a KML coordinate that is not a
    number refuses it naming the placemark (GDAL would read it as 0, moving the
    corner to longitude 0); KML NetworkLinks are reported as not followed.
    """
    root = parse_xml(name, data, _FORMAT_NAMES[fmt])
    notes: list[str] = []

    def local(tag: object) -> str:
        return str(tag).rsplit("}", 1)[-1]

    items = [el for el in root.iter() if local(el.tag) in (
        ("Placemark",) if fmt == "kml" else ("rte", "trk"))]
    if len(items) > MAX_FEATURES:
        raise InputError(f"{name!r} has {len(items):,} features; at most {MAX_FEATURES:,} "
                         "can be imported at once (maximum features). Split the file.")
    if fmt != "kml":
        n_segs = sum(1 for el in root.iter() if local(el.tag) == "trkseg")
        if n_segs > settings.IMPORT_MAX_SEGMENTS:
            raise InputError(f"{name!r} holds {n_segs:,} track segments; at most "
                             f"{settings.IMPORT_MAX_SEGMENTS:,} are read from one file (maximum "
                             "segments). Split the file.")
        return notes
    links = sum(1 for el in root.iter() if local(el.tag) == "NetworkLink")
    if links:
        notes.append(f"{links} network link(s) in {name!r} were not followed: Wayhome reads "
                     "only the uploaded file.")
    for n, pm in enumerate(items):
        for el in pm.iter():
            if local(el.tag) != "coordinates" or not el.text:
                continue
            for token in el.text.replace(",", " ").split():
                try:
                    ok = math.isfinite(float(token))
                except ValueError:
                    ok = False
                if not ok:
                    title = next((c.text.strip() for c in pm if local(c.tag) == "name"
                                  and c.text and c.text.strip()), f"placemark {n + 1}")
                    raise InputError(
                        f"{name!r}: the outline of {title!r} has a coordinate that is not a "
                        f"number ({token[:20]!r}). Fix that placemark or export the file again."
                    )
    return notes


def _gpkg_tables(name: str, data: bytes) -> tuple[list[str], list[str], bytes]:
    """The GeoPackage's real feature tables (no views, no virtual tables), and a clean copy.

    A private copy of the upload is opened by SQLite with a progress handler that
    aborts any query running past ``settings.IMPORT_TIME_BUDGET_S``; row counts over
    ``MAX_FEATURES`` refuse it before GDAL reads anything. Views, triggers and every
    layer that is not a plain table are removed from the copy, which is what GDAL
    then reads (it never evaluates a view the file defines). Returns the table
    names, notes for layers skipped and the cleaned bytes.
    """
    deadline = time.monotonic() + settings.IMPORT_TIME_BUDGET_S
    notes: list[str] = []
    with tempfile.TemporaryDirectory(prefix="wayhome-gpkg-") as tmp:
        path = Path(tmp) / "upload.gpkg"
        path.write_bytes(data)
        try:
            con = sqlite3.connect(path, isolation_level=None)
        except sqlite3.Error as exc:
            raise InputError(f"{name!r} could not be opened as a GeoPackage.") from exc
        try:
            con.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
            objects = {str(n): (str(t), str(q or "")) for n, t, q in con.execute(
                "SELECT name, type, sql FROM sqlite_master")}
            layers = [str(r[0]) for r in con.execute(
                "SELECT table_name FROM gpkg_contents WHERE data_type = 'features'")]
            tables = []
            for layer in layers:
                kind, sql = objects.get(layer, ("", ""))
                if kind != "table" or sql.lstrip().upper().startswith("CREATE VIRTUAL"):
                    notes.append(f"The layer {layer!r} in {name!r} is not a plain table (a "
                                 "database view or virtual table) and was skipped.")
                    continue
                quoted = '"' + layer.replace('"', '""') + '"'
                rows = int(con.execute(f"SELECT count(*) FROM {quoted}").fetchone()[0])  # noqa: S608
                if rows > MAX_FEATURES:
                    raise InputError(f"{name!r} has {rows:,} features in {layer!r}; at most "
                                     f"{MAX_FEATURES:,} can be imported at once (maximum "
                                     "features). Split the file.")
                tables.append(layer)
            for obj, (kind, _) in objects.items():
                if kind in ("view", "trigger"):
                    quoted = '"' + obj.replace('"', '""') + '"'
                    con.execute(f"DROP {kind.upper()} IF EXISTS {quoted}")
            marks = ",".join("?" * len(tables))
            for meta in ("gpkg_contents", "gpkg_geometry_columns"):
                con.execute(f"DELETE FROM {meta} WHERE table_name NOT IN ({marks})"  # noqa: S608
                            + (" AND data_type = 'features'" if meta == "gpkg_contents" else ""),
                            tables)
        except sqlite3.OperationalError as exc:
            if time.monotonic() > deadline:
                raise InputError(
                    f"{name!r} took longer than {settings.IMPORT_TIME_BUDGET_S:g} s to open "
                    "(the per-file time budget); export the sectors again as a plain "
                    "GeoPackage.") from exc
            raise InputError(f"{name!r} could not be read as GeoPackage: it looks damaged "
                             "or incomplete. Export it again.") from exc
        except sqlite3.Error as exc:
            raise InputError(f"{name!r} could not be read as GeoPackage: it looks damaged "
                             "or incomplete. Export it again.") from exc
        finally:
            con.close()
        cleaned = path.read_bytes()
    return tables, notes, cleaned


def _check_numbers(name: str, frame: gpd.GeoDataFrame) -> None:
    """Refuse a layer with a coordinate that is not a finite number, naming the feature."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    coords, owner = shapely.get_coordinates(geoms, return_index=True)
    bad = ~np.isfinite(coords).all(axis=1)
    if bad.any():
        row = int(owner[np.flatnonzero(bad)[0]])
        names = _column(frame, NAME_COLUMNS)
        title = (names.iloc[row] if names is not None and not pd.isna(names.iloc[row])
                 and names.iloc[row] != "" else f"feature {row + 1}")
        raise InputError(f"{name!r}: {title!r} has a coordinate that is not a number (NaN or "
                         "infinite). Fix that feature or export the file again.")


def _read_layers(name: str, data: bytes, fmt: str) -> tuple[list[_Raw], list[str]]:
    what = _FORMAT_NAMES[fmt]
    notes: list[str] = []
    tables: list[str] | None = None
    if fmt in ("kml", "gpx"):
        notes += _xml_precheck(name, data, fmt)
    else:
        tables, notes, data = _gpkg_tables(name, data)
        if not tables:
            raise InputError(f"{name!r} holds no feature table Wayhome can read.")
    layers = _pyogrio_layers(name, data, what)
    frames = []
    n_points = 0
    for index, (layer, gtype) in enumerate(layers):
        if fmt == "gpx" and layer == "waypoints":
            n_points = len(_pyogrio_read(name, data, what, index))
        if fmt == "gpx" and layer not in ("routes", "tracks"):
            continue
        if fmt == "gpkg" and (gtype is None or tables is None or layer not in tables):
            continue  # a table without geometry, or a view
        frame = _pyogrio_read(name, data, what, index)
        if len(frame) == 0:
            continue
        _check_numbers(name, frame)
        if fmt == "gpx":
            frame, note = _gpx_areas(frame, closed_only=layer == "tracks")
            notes += note
        frames.append(_Raw(frame, fmt in ("kml", "gpx") or frame.crs is not None))
    if n_points:
        notes.append("Waypoints in the GPX file were skipped: a sector is an area.")
    return frames, notes


def _gpx_areas(frame: gpd.GeoDataFrame, closed_only: bool
               ) -> tuple[gpd.GeoDataFrame, list[str]]:
    """GPX routes (always) and tracks (when they close on themselves) as polygons."""
    lines, owner = shapely.get_parts(frame.geometry.values, return_index=True)
    present = ~(shapely.is_missing(lines) | shapely.is_empty(lines))  # a <trk> with no points
    lines, owner = lines[present], owner[present]
    if closed_only and len(lines):
        first = shapely.get_coordinates(shapely.get_point(lines, 0))
        last = shapely.get_coordinates(shapely.get_point(lines, -1))
        fx, fy = lonlat_to_bng(first[:, 0], first[:, 1])
        lx, ly = lonlat_to_bng(last[:, 0], last[:, 1])
        with np.errstate(invalid="ignore"):  # huge numbers project to inf; refused later
            closed = np.hypot(fx - lx, fy - ly) <= GPX_CLOSE_M
    else:
        closed = np.ones(len(lines), bool)
    notes = []
    if (~closed).any():
        notes.append(f"{int((~closed).sum())} GPX track(s) that do not end where they start were "
                     "skipped: they are paths walked, not areas (upload them as tracks instead).")
    polys = _rings_to_polygons(lines[closed])
    keep_owner = owner[closed]
    ok = ~shapely.is_missing(polys)
    polys, keep_owner = polys[ok], keep_owner[ok]
    if len(polys) == 0:
        return frame.iloc[:0], notes
    rows, inv = np.unique(keep_owner, return_inverse=True)
    geoms = shapely.multipolygons(polys, indices=inv)
    counts = np.bincount(inv)
    first = polys[np.searchsorted(inv, np.arange(len(rows)))]  # inv is sorted (owner is)
    # a track of several closed segments: rings inside rings are holes (even-odd rule)
    several = counts > 1
    geoms[several] = shapely.make_valid(geoms[several], method="linework")
    geoms = np.where(several, geoms, first)
    out = frame.iloc[rows].copy()
    out = out.set_geometry(gpd.GeoSeries(geoms, index=out.index, crs=frame.crs))
    return out, notes


def _rings_to_polygons(lines: np.ndarray) -> np.ndarray:
    """Lines to polygons (closing them); lines with under three points give None."""
    out = np.full(len(lines), None, dtype=object)
    if len(lines) == 0:
        return out
    n = shapely.get_num_coordinates(lines)
    ok = n >= 3
    if ok.any():
        coords, idx = shapely.get_coordinates(lines[ok], return_index=True)
        first = np.r_[True, idx[1:] != idx[:-1]]
        start = coords[first][idx]
        # drop an explicit closing point; linearrings closes every ring itself
        last = np.r_[idx[1:] != idx[:-1], True]
        dup = last & np.all(np.isclose(coords, start), axis=1) & ~first
        coords, idx = coords[~dup], idx[~dup]
        counts = np.bincount(idx, minlength=int(ok.sum()))
        good = counts >= 3
        keep = good[idx]
        _, inv = np.unique(idx[keep], return_inverse=True)
        rings = shapely.linearrings(coords[keep], indices=inv)
        polys = np.full(int(ok.sum()), None, dtype=object)
        polys[good] = shapely.polygons(rings)
        out[ok] = polys
    return out


def _sidecars(source: Source) -> dict[str, bytes]:
    """The .shx/.dbf/.prj/.cpg files beside a .shp path (any case of extension)."""
    path = Path(source)  # type: ignore[arg-type]
    found: dict[str, bytes] = {}
    for sibling in path.parent.glob(f"{path.stem}.*"):
        ext = sibling.suffix.lower().lstrip(".")
        if ext in _SHP_SIDECARS and sibling.is_file():
            if sibling.stat().st_size > MAX_BYTES:
                raise InputError(f"{sibling.name!r} is too large to be part of a sector file.")
            found[ext] = sibling.read_bytes()
    return found


def _read_shapefile(name: str, shp: bytes, sidecars: dict[str, bytes]
                    ) -> tuple[list[_Raw], list[str]]:
    missing = [ext for ext in ("shx", "dbf") if ext not in sidecars]
    if missing:
        raise InputError(
            f"{name!r} is only one part of a shapefile; its "
            f"{' and '.join('.' + m for m in missing)} file(s) are missing. Zip the .shp, .shx, "
            ".dbf and .prj files together and upload the zip."
        )
    return _read_shapefile_set(name, {"shp": shp, **sidecars})


def _read_shapefile_set(name: str, parts: dict[str, bytes]
                        ) -> tuple[list[_Raw], list[str]]:
    """Read one shapefile from its parts, repacked as a clean in-memory zip."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as zf:
        for ext, blob in parts.items():
            zf.writestr(f"sectors.{ext}", blob)
    frame = _pyogrio_read(name, buf.getvalue(), "a shapefile")
    prj = parts.get("prj", b"").decode("latin-1").strip()
    return [_Raw(frame, bool(prj), prj=prj)], []


def _read_zip(name: str, data: bytes, fmt: str, depth: int
              ) -> tuple[list[_Raw], list[str]]:
    zf, infos = open_zip(name, data)
    if len(infos) > MAX_ZIP_MEMBERS:
        raise InputError(f"{name!r} holds {len(infos)} files; a sector file needs only a few.")
    budget = [unzipped_limit()]  # bytes still allowed, shared by every member

    def member(info: zipfile.ZipInfo) -> bytes:
        return read_member(name, zf, info, budget)

    def ext_of(info: zipfile.ZipInfo) -> str:
        return PurePosixPath(info.filename).suffix.lower().lstrip(".")

    def visible(info: zipfile.ZipInfo) -> bool:
        parts = PurePosixPath(info.filename).parts
        return not any(p.startswith(".") or p == "__MACOSX" for p in parts)

    infos = [i for i in infos if visible(i)]
    frames: list[_Raw] = []
    notes: list[str] = []
    shps = [i for i in infos if ext_of(i) == "shp"]
    if shps:
        for shp in shps:
            stem = str(PurePosixPath(shp.filename).with_suffix("")).lower()
            parts = {"shp": member(shp)}
            for info in infos:
                path = PurePosixPath(info.filename)
                if str(path.with_suffix("")).lower() == stem and ext_of(info) in _SHP_SIDECARS:
                    parts[ext_of(info)] = member(info)
            label = f"{name!r} ({PurePosixPath(shp.filename).name})"
            missing = [e for e in ("shx", "dbf") if e not in parts]
            if missing:
                raise InputError(f"The shapefile {label} lacks its "
                                 f"{' and '.join('.' + m for m in missing)} file(s).")
            f, n = _read_shapefile_set(label, parts)
            frames += f
            notes += n
        return frames, notes
    inner = [i for i in infos if ext_of(i) in ("kml", "geojson", "json", "gpx", "gpkg")]
    if not inner:
        what = "KMZ file" if fmt == "kmz" else "zip"
        raise InputError(f"The {what} {name!r} holds no shapefile, KML, GeoJSON, GPX or "
                         "GeoPackage.")
    if depth > 0:
        raise InputError(f"{name!r} holds zips inside zips; unpack it first.")
    if fmt == "kmz":  # a KMZ's main document is doc.kml, else the first KML
        kmls = [i for i in inner if ext_of(i) == "kml"]
        docs = [i for i in kmls if PurePosixPath(i.filename).name.lower() == "doc.kml"]
        inner = (docs or kmls or inner)[:1]
    for info in inner:
        f, n = _read_any(PurePosixPath(info.filename).name, member(info), {}, depth + 1)
        frames += f
        notes += n
    return frames, notes


# --- coordinate systems ---------------------------------------------------------------

def _is_bng_like(crs: CRS) -> bool:
    """A Transverse Mercator on the Airy ellipsoid with the National Grid's parameters."""
    try:
        if not crs.is_projected or crs.coordinate_operation is None:
            return False
        params = {p.name.lower(): p.value for p in crs.coordinate_operation.params}
        method = crs.coordinate_operation.method_name.lower()
    except (CRSError, AttributeError):
        return False

    def get(*keys: str) -> float | None:
        for key in keys:
            for name, value in params.items():
                if key in name:
                    return float(value)
        return None

    ellipsoid = crs.ellipsoid
    return (
        "transverse mercator" in method
        and ellipsoid is not None and abs(ellipsoid.semi_major_metre - 6377563.396) < 1.0
        and abs((get("latitude of natural origin", "latitude_of_origin") or 0) - 49) < 1e-6
        and abs((get("longitude of natural origin", "central_meridian") or 0) + 2) < 1e-6
        and abs((get("scale factor") or 0) - 0.9996012717) < 1e-6
        and abs((get("false easting") or 0) - 400000) < 0.01
        and abs((get("false northing") or 0) + 100000) < 0.01
    )


def _normalise_crs(raw: object, label: str) -> tuple[str | CRS | None, list[str]]:
    """The CRS to read a file in, and a note when it was reinterpreted."""
    if raw is None:
        return None, []
    try:
        crs = CRS.from_user_input(raw)
    except CRSError:
        crs = None
    if crs is None:
        return None, [f"The coordinate system of {label} could not be understood."]
    if crs.is_bound and crs.source_crs is not None:
        crs = crs.source_crs
    epsg = crs.to_epsg(min_confidence=90)
    if epsg == 27700:
        return BNG, []
    if epsg == 4326:
        return WGS84, []
    if _is_bng_like(crs):
        return BNG, [f"The coordinate system of {label} ({crs.name}) was read as British "
                     "National Grid (EPSG:27700)."]
    if crs.is_geographic and crs.ellipsoid is not None and abs(
            crs.ellipsoid.semi_major_metre - 6378137.0) < 1.0:
        return WGS84, ([] if epsg in (4258, 4326) else [
            f"The coordinate system of {label} ({crs.name}) was read as WGS 84 lon/lat."])
    return crs, []


def _looks_like(bounds: np.ndarray) -> str | None:
    x0, y0, x1, y1 = bounds
    if not np.isfinite(bounds).all():
        return None
    if -180 <= x0 and x1 <= 180 and -90 <= y0 and y1 <= 90:
        return "degrees"
    if -1e4 <= x0 and x1 <= 7.5e5 and -1e4 <= y0 and y1 <= 1.3e6:
        return "bng"
    return None


def _to_lonlat(raw: _Raw, geoms: gpd.GeoSeries, label: str) -> tuple[gpd.GeoSeries, list[str]]:
    """Reproject one layer to EPSG:4326, inferring or correcting its CRS as needed."""
    crs: str | CRS | None = None
    notes: list[str] = []
    if raw.declared:
        crs, notes = _normalise_crs(raw.frame.crs, label)
        if raw.prj and (crs is None or not isinstance(crs, str)):
            crs, notes = _normalise_crs(raw.prj, label)  # the .prj text itself
    kind = _looks_like(np.asarray(shapely.total_bounds(geoms.values)))
    if crs is None:
        if kind == "bng":
            crs = BNG
            notes.append(f"{label} does not say which coordinate system it uses; its numbers are "
                         "metres, so British National Grid (EPSG:27700) was assumed.")
        elif kind == "degrees":
            crs = WGS84
            if not raw.lonlat_by_default:
                notes.append(f"{label} does not say which coordinate system it uses; its numbers "
                             "are degrees, so longitude/latitude (WGS 84) was assumed.")
        else:
            raise InputError(f"{label} does not say which coordinate system it uses, and its "
                             "numbers are neither longitude/latitude nor British National Grid.")
    elif CRS.from_user_input(crs).is_geographic and kind == "bng":
        crs = BNG
        notes.append(f"{label} says its coordinates are longitude/latitude but they are metres; "
                     "they were read as British National Grid (EPSG:27700).")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return geoms.set_crs(crs, allow_override=True).to_crs(WGS84), notes
    except Exception as exc:
        raise InputError(f"{label} uses a coordinate system that cannot be converted to "
                         "longitude/latitude.") from exc


# --- from raw frames to sectors ------------------------------------------------------------

def _column(frame: gpd.GeoDataFrame, candidates: tuple[str, ...]) -> pd.Series | None:
    best = None
    for col in candidates:
        if col in frame.columns:
            values = frame[col].astype("string").str.strip()
            if best is None:
                best = values
            else:
                best = best.where(best.notna() & (best != ""), values)
    return best


def _finish(name: str, raws: list[_Raw], notes: list[str]) -> gpd.GeoDataFrame:
    label = repr(name)
    stem = Path(name).stem or "sector"
    total = sum(len(r.frame) for r in raws)
    if total > MAX_FEATURES:
        raise InputError(f"{label} has {total:,} features; at most {MAX_FEATURES:,} can be "
                         "imported at once. Split the file.")
    names, descs, geoms = [], [], []
    skipped: dict[str, int] = {}
    n_empty = 0
    for raw in raws:
        frame = raw.frame
        if len(frame) == 0:
            continue
        geoms_in = gpd.GeoSeries(shapely.force_2d(frame.geometry.values), index=frame.index,
                                 crs=frame.crs)
        blank = shapely.is_missing(geoms_in.values) | shapely.is_empty(geoms_in.values)
        if blank.all():  # nothing to place: say so, not "unknown coordinate system"
            n_empty += len(frame)
            continue
        lonlat, crs_notes = _to_lonlat(raw, geoms_in, label)
        notes += crs_notes
        g = np.asarray(lonlat.values, dtype=object)
        types = shapely.get_type_id(g)
        # closed lines (as some tools export shapes) become areas
        line = (types == 1) | (types == 2)
        if line.any():
            parts, owner = shapely.get_parts(g[line], return_index=True)
            closed = shapely.is_closed(parts)
            polys = _rings_to_polygons(parts[closed])
            part_ok = np.zeros(len(parts), bool)
            part_ok[np.flatnonzero(closed)] = ~shapely.is_missing(polys)
            conv = np.full(int(line.sum()), None, dtype=object)
            if part_ok.any():
                good_polys = polys[~shapely.is_missing(polys)]
                rows, inv = np.unique(owner[part_ok], return_inverse=True)
                conv[rows] = shapely.multipolygons(good_polys, indices=inv)
            g = g.copy()
            g[line] = conv
            types = shapely.get_type_id(g)
            n_open = int((~part_ok).sum())
            if n_open:
                skipped["open line"] = skipped.get("open line", 0) + n_open
        point = (types == 0) | (types == 4)
        if point.any():
            skipped["point"] = skipped.get("point", 0) + int(point.sum())
        empty = shapely.is_missing(g) | shapely.is_empty(g)
        n_empty += int((empty & ~point & ~line).sum())
        keep = ~point & ~empty
        nm = _column(frame, NAME_COLUMNS)
        ds = _column(frame, DESCRIPTION_COLUMNS)
        idx = np.flatnonzero(keep)
        names += [None if nm is None or pd.isna(nm.iloc[i]) or nm.iloc[i] == "" else nm.iloc[i]
                  for i in idx]
        descs += ["" if ds is None or pd.isna(ds.iloc[i]) else ds.iloc[i] for i in idx]
        geoms.append(g[keep])
    all_geoms = np.concatenate(geoms) if geoms else np.array([], dtype=object)
    if len(all_geoms) == 0:
        if n_empty:
            skipped["empty shape"] = n_empty
        held = ", ".join(f"{n} {k}{'s' if n > 1 else ''}" for k, n in skipped.items())
        raise InputError(f"{label} has no areas (polygons) in it" + (
            f", only {held}" if held else "") + ". A sector file must contain closed outlines.")
    n_vertices = int(shapely.get_num_coordinates(all_geoms).sum())
    if n_vertices > MAX_VERTICES:
        raise InputError(f"{label} has {n_vertices:,} corner points; at most {MAX_VERTICES:,} "
                         "can be imported. Simplify the shapes or split the file.")
    labels = [n if n is not None else f"{stem} {i + 1}" for i, n in enumerate(names)]
    keep, drop_notes = _drop_slivers_and_duplicates(label, all_geoms, labels, n_empty)
    if not keep.all():
        all_geoms = all_geoms[keep]
        labels = [lb for lb, k in zip(labels, keep, strict=True) if k]
        descs = [d for d, k in zip(descs, keep, strict=True) if k]
    polys, _, shape_notes = clean_shapes(all_geoms, labels, what="sector")
    notes += drop_notes
    for kind, n in skipped.items():
        notes.append(f"{n} {kind}{'s' if n > 1 else ''} in {label} were skipped: a sector is an "
                     "area (closed outline).")
    out = gpd.GeoDataFrame({"name": labels, "description": descs}, geometry=list(polys),
                           crs=WGS84)
    out.attrs["notes"] = list(dict.fromkeys(notes + shape_notes))
    return out


def _drop_slivers_and_duplicates(label: str, geoms: np.ndarray, labels: list[str],
                                 n_empty: int) -> tuple[np.ndarray, list[str]]:
    """Which shapes to keep: slivers, repeats and (already removed) empty shapes go.

    A sliver is a shape under ``settings.IMPORT_SLIVER_M2`` (British National Grid
    m², after repair); a duplicate has exactly the same outline as an earlier
    shape. They are dropped with a note naming them when they are at most
    ``settings.IMPORT_MAX_DROPPED_SHARE`` of the file; more, and the file is refused
    as mostly broken (a single-shape file that is a sliver is refused by
    :func:`geo.shapes.clean_shapes` as having no area).
    """
    n = len(geoms)
    total = n + n_empty
    keep = np.ones(n, bool)
    polys = polygonal_part(np.asarray(geoms, dtype=object))
    ok = ~shapely.is_missing(polys)
    area = np.full(n, np.inf)
    if ok.any():
        bounds = shapely.bounds(polys[ok])
        inside = np.abs(bounds).max(axis=1) <= 180  # degrees; anything else is refused later
        idx = np.flatnonzero(ok)[inside]
        area[idx] = shapely.area(repair(geoms_to_bng(polys[idx])))
    sliver = ok & (area < settings.IMPORT_SLIVER_M2)
    wkb = pd.Series(shapely.to_wkb(shapely.normalize(polys)))  # missing stays None
    dup = ok & wkb.duplicated().to_numpy() & ~sliver
    dropped = int(sliver.sum() + dup.sum()) + n_empty
    if not dropped:
        return keep, []
    if dropped == total or (dropped > settings.IMPORT_MAX_DROPPED_SHARE * total and n > 1):
        if sliver.all():
            return keep, []  # clean_shapes refuses it as "(almost) no area"
        raise InputError(
            f"{label}: {dropped:,} of its {total:,} shapes are slivers under "
            f"{settings.IMPORT_SLIVER_M2:g} m², repeats or empty; more than "
            f"{settings.IMPORT_MAX_DROPPED_SHARE:.0%} (the most dropped with a note), so the "
            "file looks broken. Export it again.")
    keep = ~(sliver | dup)

    def named(mask: np.ndarray) -> str:
        idx = np.flatnonzero(mask)
        shown = ", ".join(repr(labels[i]) for i in idx[:10])
        return shown + (f" and {len(idx) - 10} more" if len(idx) > 10 else "")

    parts = []
    if sliver.any():
        k = int(sliver.sum())
        sizes = ", ".join(f"{a:.2f} m²" for a in area[sliver][:10])
        parts.append(f"{k} shape{'s' if k > 1 else ''} of {sizes} (under the "
                     f"{settings.IMPORT_SLIVER_M2:g} m² sliver limit: {named(sliver)})")
    if dup.any():
        k = int(dup.sum())
        parts.append(f"{k} duplicate{'s' if k > 1 else ''} of an earlier shape ({named(dup)})")
    if n_empty:
        parts.append(f"{n_empty} empty shape{'s' if n_empty > 1 else ''}")
    kept = int(keep.sum())
    return keep, [f"{kept:,} sector{'s' if kept != 1 else ''} from {label}; dropped "
                  + "; ".join(parts) + "."]


def read_sector_files(files: list[tuple[str, bytes]]) -> gpd.GeoDataFrame:
    """Read several uploaded files at once: a shapefile's parts, or several sector files.

    ``files`` are ``(filename, bytes)`` as a browser uploads them. The parts of
    a shapefile (``.shp`` with its ``.shx``, ``.dbf``, ``.prj``, ``.cpg`` of the
    same name) are read together; every other file is read by
    :func:`read_sectors`. Returns one lon/lat GeoDataFrame (``name``,
    ``description``, ``source`` = file name) with every file's notes. Any bad
    file raises :class:`InputError` naming it; nothing is returned half-read.
    """
    if not files:
        raise InputError("Choose at least one file to import.")
    by_stem: dict[str, dict[str, tuple[str, bytes]]] = {}
    others: list[tuple[str, bytes]] = []
    for name, data in files:
        ext = suffix(name)
        if ext == "shp" or ext in _SHP_SIDECARS:
            by_stem.setdefault(Path(name).stem.lower(), {})[ext] = (name, data)
        else:
            others.append((name, data))
    frames: list[gpd.GeoDataFrame] = []
    for parts in by_stem.values():
        if "shp" not in parts:
            names = ", ".join(repr(n) for n, _ in parts.values())
            raise InputError(f"{names} belong to a shapefile but its .shp file was not chosen. "
                             "Choose the .shp, .shx, .dbf and .prj files together.")
        shp_name, shp = parts.pop("shp")
        for _, blob in parts.values():
            if len(blob) > MAX_BYTES:
                raise InputError(f"{shp_name!r} has a part that is too large to import.")
        raws, notes = _read_shapefile(shp_name, read_source((shp_name, shp))[1],
                                      {ext: blob for ext, (_, blob) in parts.items()})
        frame = _finish(shp_name, raws, notes)
        frames.append(frame.assign(source=shp_name))
    for name, data in others:
        frames.append(read_sectors((name, data)).assign(source=name))
    out = gpd.GeoDataFrame(pd.concat(frames, ignore_index=True), geometry="geometry", crs=WGS84)
    out.attrs["notes"] = list(dict.fromkeys(n for f in frames for n in f.attrs.get("notes", [])))
    total = len(out)
    if total > MAX_FEATURES:
        raise InputError(f"These files hold {total:,} areas; at most {MAX_FEATURES:,} can be "
                         "imported at once.")
    return out
