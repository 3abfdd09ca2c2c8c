"""GPS tracks from searchers' phones and watches, read and cleaned before they count.

Formats: GPX (phones, Garmin, Strava, OsmAnd: tracks with several segments and
routes; any namespace or extensions), KML / KMZ (``LineString`` and ``gx:Track``)
and CSV with latitude / longitude / optional time columns. One output row per
segment, a LineString in lon/lat (EPSG:4326), with ``start`` / ``end`` in UTC
where the file gives times (NaT otherwise; times are never invented).

Cleaning, each counted in ``gdf.attrs["notes"]``:

* points whose coordinates cannot be read ("undefined", "", "NaN") are dropped
  when they are few (at most ``MAX_BAD_SHARE`` of the file), otherwise the file
  is refused; they never become 0,0;
* points outside the UK are dropped;
* duplicate points (same place and same time as the point before) are dropped;
* single-point spikes (an impossible jump out and straight back) are dropped, and
  other impossible jumps split the segment there, so the stretch is not counted
  as search effort. A step is impossible when it is longer than
  ``MAX_FOOT_SPEED_MS × seconds + GPS_JITTER_M`` (or, without times, longer than
  ``MAX_UNTIMED_STEP_M``): see :mod:`vocab.settings`, planning assumptions;
* segments left with fewer than two points, or no length, are dropped.

:func:`trim_track_ends` removes the first and last stretch of each segment for
privacy near a searcher's home.
"""

from __future__ import annotations

import csv
import io
import itertools
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol, cast
from xml.etree import ElementTree as ET

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo._sources import Source, open_zip, parse_xml, read_member, read_source, suffix
from geo.crs import BNG, WGS84, lonlat_to_bng
from geo.errors import InputError
from geo.uk import in_uk
from vocab import settings

#: Largest share of unreadable points dropped with a note; above it the file is refused.
MAX_BAD_SHARE: float = 0.05

COLUMNS = ["track", "segment", "kind", "n_points", "start", "end", "geometry"]

_LAT_NAMES = ("lat", "latitude", "latdeg", "y")
_LON_NAMES = ("lon", "lng", "long", "longitude", "londeg", "x")
_TIME_NAMES = ("time", "timestamp", "datetime", "date_time", "timeutc", "utctime", "gpstime",
               "recordedat", "createdat", "date")
_SEG_NAMES = ("segment", "seg", "segmentid", "trackseg", "trkseg", "track", "trackid",
              "trackname", "name")


@dataclass
class _Raw:
    """One segment as read, before cleaning: arrays of equal length."""

    track: str
    kind: str
    lon: np.ndarray
    lat: np.ndarray
    time: pd.DatetimeIndex  # UTC, NaT where unknown


@dataclass
class _Read:
    segments: list[_Raw] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------- public API


def read_tracks(source: Source) -> gpd.GeoDataFrame:
    """Read and clean a GPS track file (path or ``(filename, bytes)``).

    Returns a GeoDataFrame in EPSG:4326 with one LineString per segment and the
    columns ``track`` (name), ``segment`` (0-based order in the file), ``kind``
    (``track``, ``route`` or ``line``), ``n_points``, ``start``, ``end`` (UTC,
    tz-aware, NaT where unknown). ``gdf.attrs["notes"]`` lists what was dropped
    and why. Raises :class:`InputError` for a file that cannot be used.
    """
    name, data = read_source(source)
    kind = _detect_format(name, data)
    if kind == "gpx":
        read = _read_gpx(name, data)
    elif kind == "kml":
        read = _read_kml(name, data)
    elif kind == "kmz":
        read = _read_kml(name, _unzip_kml(name, data))
    else:
        read = _read_csv(name, data)
    if not read.segments or sum(len(s.lon) for s in read.segments) == 0:
        raise InputError(f"The file {name!r} holds no track points or lines.")
    return _clean(name, read)


def trim_track_ends(tracks: gpd.GeoDataFrame, metres: float) -> gpd.GeoDataFrame:
    """Cut the first and last ``metres`` off every segment (privacy near a home).

    Lengths are measured in British National Grid. Segments not longer than
    ``2 × metres`` are dropped. ``start``/``end`` keep the untrimmed segment's
    times (the exact time at the cut is not known and is not invented); notes say so.
    """
    try:
        m = float(metres)
    except (TypeError, ValueError):
        raise InputError(
            f"The length to trim must be a number of metres, not {metres!r}."
        ) from None
    if not (0.0 <= m <= 5000.0):
        raise InputError("The length to trim must be between 0 and 5,000 m.")
    notes = list(tracks.attrs.get("notes", []))
    if m == 0 or tracks.empty:
        out = tracks.copy()
        out.attrs["notes"] = notes
        return out
    src_crs = tracks.crs or WGS84
    bng = tracks.to_crs(BNG) if tracks.crs is not None else tracks.set_crs(WGS84).to_crs(BNG)
    lengths = bng.geometry.length.to_numpy()
    keep = lengths > 2 * m
    # substring is not vectorised in shapely; this loops over segments, not pairs.
    from shapely.ops import substring

    trimmed = [substring(g, m, L - m) for g, L in
               zip(bng.geometry.to_numpy()[keep], lengths[keep], strict=True)]
    out = bng.loc[keep].copy()
    out = out.set_geometry(gpd.GeoSeries(trimmed, index=out.index, crs=BNG)).to_crs(src_crs)
    dropped = int((~keep).sum())
    notes.append(
        f"Trimmed {m:g} m from both ends of every segment for privacy; start and end "
        "times are those of the untrimmed segment."
    )
    if dropped:
        notes.append(f"Dropped {dropped} segment(s) no longer than {2 * m:g} m after trimming.")
    out["n_points"] = shapely.get_num_coordinates(out.geometry.to_numpy())
    out.attrs["notes"] = notes
    return out


# ---------------------------------------------------------------- formats


def _detect_format(name: str, data: bytes) -> str:
    ext = suffix(name)
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if ext == "fit" or data[8:12] == b".FIT":
        raise InputError(
            f"{name!r} is a Garmin FIT file. Export the activity as GPX (Garmin Connect: "
            "Export to GPX) and upload that."
        )
    if ext == "tcx":
        raise InputError(f"{name!r} is a TCX file. Export the activity as GPX and upload that.")
    if ext == "kmz" or data[:2] == b"PK":
        return "kmz"
    if ext == "gpx" or b"<gpx" in head:
        return "gpx"
    if ext == "kml" or b"<kml" in head:
        return "kml"
    if ext in ("csv", "txt", "tsv") or not head.startswith(b"<"):
        return "csv"
    raise InputError(
        f"{name!r} is not a track file Wayhome can read. Upload GPX, KML/KMZ or CSV "
        "with latitude, longitude and time columns."
    )


def _parse_xml(name: str, data: bytes, what: str) -> ET.Element:
    return parse_xml(name, data, what)


def _too_many(name: str, count: int, what: str, limit: int, setting: str) -> InputError:
    return InputError(f"{name!r} holds {count:,} {what}; at most {limit:,} are read from one "
                      f"file ({setting}). Split the file, or export only this search's tracks.")


def _check_counts(name: str, root: ET.Element, tracks: tuple[str, ...],
                  segments: tuple[str, ...]) -> None:
    """Refuse too many tracks or segments before any point is read."""
    n_tracks = n_segs = 0
    for el in root.iter():
        tag = _local(el.tag)
        if tag in tracks:
            n_tracks += 1
        if tag in segments:
            n_segs += 1
    if n_tracks > settings.IMPORT_MAX_TRACKS:
        raise _too_many(name, n_tracks, "tracks", settings.IMPORT_MAX_TRACKS, "maximum tracks")
    if n_segs > settings.IMPORT_MAX_SEGMENTS:
        raise _too_many(name, n_segs, "segments", settings.IMPORT_MAX_SEGMENTS,
                        "maximum segments")


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _children(el: ET.Element, local: str) -> list[ET.Element]:
    return [c for c in el if _local(c.tag) == local]


def _child_text(el: ET.Element, local: str) -> str | None:
    for c in el:
        if _local(c.tag) == local:
            return (c.text or "").strip()
    return None


def _to_float(values: list[str | None]) -> np.ndarray:
    return pd.to_numeric(pd.Series(values, dtype=object), errors="coerce").to_numpy(float)


def _read_gpx(name: str, data: bytes) -> _Read:
    root = _parse_xml(name, data, "GPX")
    if _local(root.tag) != "gpx":
        raise InputError(f"{name!r} is XML but not GPX (its root element is <{_local(root.tag)}>).")
    _check_counts(name, root, ("trk", "rte"), ("trkseg", "rte"))
    out = _Read()
    times_bad = 0
    for kind, parent_tag, seg_tag, pt_tag in (("track", "trk", "trkseg", "trkpt"),
                                               ("route", "rte", None, "rtept")):
        for n, parent in enumerate(el for el in root.iter() if _local(el.tag) == parent_tag):
            title = _child_text(parent, "name") or f"{kind} {n + 1}"
            groups = _children(parent, seg_tag) if seg_tag else [parent]
            for seg in groups:
                pts = _children(seg, pt_tag)
                lat = _to_float([p.get("lat") for p in pts])
                lon = _to_float([p.get("lon") for p in pts])
                texts = [_child_text(p, "time") for p in pts]
                t, bad = _parse_times(texts, naive="UTC")
                times_bad += bad
                out.segments.append(_Raw(title, kind, lon, lat, t))
    n_wpt = sum(1 for el in root.iter() if _local(el.tag) == "wpt")
    if n_wpt:
        out.notes.append(f"Ignored {n_wpt} waypoint(s): only tracks and routes are search paths.")
    if any(s.kind == "route" for s in out.segments):
        out.notes.append(
            "The file holds route(s): planned lines, not recorded walks. Check they were walked."
        )
    if times_bad:
        out.notes.append(f"{times_bad} point time(s) could not be read; those points have no time.")
    return out


def _unzip_kml(name: str, data: bytes) -> bytes:
    zf, infos = open_zip(name, data)
    kmls = [i for i in infos if i.filename.lower().endswith(".kml")]
    if not kmls:
        raise InputError(f"{name!r} is a zip file without a KML document inside.")
    info = next((i for i in kmls if i.filename.lower() == "doc.kml"), kmls[0])
    return read_member(name, zf, info)


def _read_kml(name: str, data: bytes) -> _Read:
    root = _parse_xml(name, data, "KML")
    if _local(root.tag) != "kml":
        raise InputError(f"{name!r} is XML but not KML (its root element is <{_local(root.tag)}>).")
    _check_counts(name, root, ("Placemark",), ("LineString", "Track"))
    out = _Read()
    times_bad = 0
    n = 0
    for pm in (el for el in root.iter() if _local(el.tag) == "Placemark"):
        title = _child_text(pm, "name") or f"line {n + 1}"
        for el in pm.iter():
            tag = _local(el.tag)
            if tag == "LineString":
                text = _child_text(el, "coordinates") or ""
                tuples = [c.split(",") for c in text.split()]
                lon = _to_float([c[0] if len(c) >= 2 else None for c in tuples])
                lat = _to_float([c[1] if len(c) >= 2 else None for c in tuples])
                t = pd.DatetimeIndex([pd.NaT] * len(lon), tz="UTC")
                out.segments.append(_Raw(title, "line", lon, lat, t))
                n += 1
            elif tag == "Track":  # gx:Track: <when> and <gx:coord> "lon lat alt" pairs
                whens = [(c.text or "").strip() for c in el if _local(c.tag) == "when"]
                coords = [(c.text or "").split() for c in el if _local(c.tag) == "coord"]
                lon = _to_float([c[0] if len(c) >= 2 else None for c in coords])
                lat = _to_float([c[1] if len(c) >= 2 else None for c in coords])
                if whens and len(whens) != len(coords):
                    raise InputError(
                        f"{name!r}: a gx:Track in {title!r} has {len(whens)} times for "
                        f"{len(coords)} positions; the file is damaged."
                    )
                t, bad = _parse_times(whens or [None] * len(coords), naive="UTC")
                times_bad += bad
                out.segments.append(_Raw(title, "track", lon, lat, t))
                n += 1
    if times_bad:
        out.notes.append(f"{times_bad} point time(s) could not be read; those points have no time.")
    if not out.segments:
        raise InputError(f"{name!r} holds no lines (KML LineString or gx:Track); points and "
                         "polygons are not tracks.")
    return out


def _norm(header: str) -> str:
    return re.sub(r"[^a-z0-9]", "", header.strip().lower())


def _read_csv(name: str, data: bytes) -> _Read:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise InputError(f"{name!r} is not a text (CSV) file.") from None
    if "\x00" in text:
        raise InputError(f"{name!r} is not a text (CSV) file.")
    lines = data.count(b"\n") + 1
    if lines > settings.IMPORT_MAX_VERTICES:
        raise _too_many(name, lines, "lines", settings.IMPORT_MAX_VERTICES, "maximum points")
    try:
        delim = csv.Sniffer().sniff(text[:8192], delimiters=",;\t|").delimiter
    except csv.Error:
        delim = ","
    _check_fields(name, data, delim)
    try:
        df = pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False,
                         skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise InputError(f"{name!r} could not be read as CSV: {exc}") from None
    cols = {_norm(c): c for c in df.columns}
    lat_c = next((cols[c] for c in map(_norm, _LAT_NAMES) if c in cols), None)
    lon_c = next((cols[c] for c in map(_norm, _LON_NAMES) if c in cols), None)
    if lat_c is None or lon_c is None:
        raise InputError(
            f"{name!r} needs a latitude and a longitude column (e.g. 'lat' and 'lon'); "
            f"it has: {', '.join(map(str, df.columns[:12]))}."
        )
    time_c = next((cols[c] for c in map(_norm, _TIME_NAMES) if c in cols), None)
    seg_c = next((cols[c] for c in map(_norm, _SEG_NAMES) if c in cols), None)
    out = _Read()
    lat_s, lon_s = df[lat_c].str.strip(), df[lon_c].str.strip()
    if delim == ";":  # European exports write decimal commas
        lat_s = lat_s.str.replace(",", ".", regex=False)
        lon_s = lon_s.str.replace(",", ".", regex=False)
    lat = pd.to_numeric(lat_s, errors="coerce").to_numpy(float)
    lon = pd.to_numeric(lon_s, errors="coerce").to_numpy(float)
    if time_c is not None:
        times, bad = _parse_times(df[time_c].tolist(), naive="Europe/London", name=name,
                                  notes=out.notes)
        if bad:
            out.notes.append(f"{bad} time(s) in column {time_c!r} could not be read; "
                             "those points have no time.")
    else:
        times = pd.DatetimeIndex([pd.NaT] * len(df), tz="UTC")
    if seg_c is not None:
        keys = df[seg_c].fillna("").to_numpy(str)
        change = np.r_[True, keys[1:] != keys[:-1]]
        starts = np.flatnonzero(change)
    else:
        keys = np.full(len(df), "")
        starts = np.array([0])
    if len(starts) > settings.IMPORT_MAX_SEGMENTS:
        raise _too_many(name, len(starts), "segments", settings.IMPORT_MAX_SEGMENTS,
                        "maximum segments")
    bounds = np.r_[starts, len(df)]
    for a, b in itertools.pairwise(bounds):
        title = keys[a] or (name.rsplit(".", 1)[0] if seg_c is None else f"segment {a}")
        out.segments.append(_Raw(str(title), "track", lon[a:b], lat[a:b], times[a:b]))
    return out


def _check_fields(name: str, data: bytes, delim: str) -> None:
    """Refuse a line with more than ``settings.IMPORT_MAX_FIELDS_PER_LINE`` fields (vectorised)."""
    arr = np.frombuffer(data, dtype=np.uint8)
    hits = np.cumsum(arr == ord(delim[0]))
    ends = np.r_[np.flatnonzero(arr == ord("\n")), len(arr) - 1]
    per_line = np.diff(np.r_[0, hits[ends]]) + 1
    most = int(per_line.max()) if len(per_line) else 0
    if most > settings.IMPORT_MAX_FIELDS_PER_LINE:
        raise InputError(f"{name!r} has a line with {most:,} fields; at most "
                         f"{settings.IMPORT_MAX_FIELDS_PER_LINE:,} are read (maximum fields per "
                         "line). A track CSV needs a few columns.")


def _parse_times(
    texts: Sequence[str | None],
    naive: str,
    name: str = "",
    notes: list[str] | None = None,
) -> tuple[pd.DatetimeIndex, int]:
    """Strings (ISO 8601, or epoch seconds / milliseconds) → UTC times; count unreadable.

    Times without a zone are taken as ``naive`` (UTC for GPX/KML, whose standards say
    so; UK local time for CSV exports from phones), and a note says so.
    """
    s = pd.Series([t if t not in (None, "") else None for t in texts], dtype=object)
    given = s.notna()
    if not given.any():
        return pd.DatetimeIndex([pd.NaT] * len(s), tz="UTC"), 0
    num = pd.to_numeric(s, errors="coerce")
    if num[given].notna().all():  # epoch numbers
        unit: Literal["ms", "s"] = "ms" if num[given].abs().median() > 1e11 else "s"
        t = pd.to_datetime(num, unit=unit, utc=True, errors="coerce")
    else:
        str_s = s.astype("string")
        has_zone = str_s.str.contains(r"(?:Z|[+-]\d\d:?\d\d)\s*$", regex=True, na=False)
        t = pd.Series(pd.NaT, index=s.index, dtype="datetime64[ns, UTC]")
        zoned = given & has_zone
        if zoned.any():
            t[zoned] = _to_dt(str_s[zoned], utc=True)
        plain = given & ~has_zone
        if plain.any():
            local = _to_dt(str_s[plain], utc=False)
            if getattr(local.dt, "tz", None) is None:
                local = local.dt.tz_localize(naive, ambiguous="NaT", nonexistent="NaT")
            t[plain] = local.dt.tz_convert("UTC")
            if notes is not None and naive != "UTC":
                notes.append(f"Times without a time zone were read as UK local time ({naive}).")
    idx = pd.DatetimeIndex(t)
    idx = idx.tz_convert("UTC") if idx.tz is not None else idx.tz_localize("UTC")
    bad = int((given.to_numpy() & idx.isna()).sum())
    return idx, bad


def _to_dt(s: pd.Series, utc: bool) -> pd.Series:
    try:
        return pd.to_datetime(s, format="ISO8601", utc=utc)
    except (ValueError, TypeError):
        return pd.to_datetime(s, format="mixed", dayfirst=True, utc=utc, errors="coerce")


# ---------------------------------------------------------------- cleaning


def _clean(name: str, read: _Read) -> gpd.GeoDataFrame:
    notes = list(read.notes)
    segs = read.segments
    seg_id = np.concatenate([np.full(len(s.lon), i) for i, s in enumerate(segs)])
    lon = np.concatenate([s.lon for s in segs])
    lat = np.concatenate([s.lat for s in segs])
    time = pd.DatetimeIndex(np.concatenate([s.time.to_numpy("datetime64[ns]") for s in segs]),
                            tz="UTC") if len(lon) else pd.DatetimeIndex([], tz="UTC")
    total = len(lon)
    if total > settings.IMPORT_MAX_VERTICES:
        raise _too_many(name, total, "points", settings.IMPORT_MAX_VERTICES, "maximum points")

    # 1. unreadable coordinates: never 0,0; few are dropped, many refuse the file
    bad = ~(np.isfinite(lon) & np.isfinite(lat))
    n_bad = int(bad.sum())
    if n_bad:
        if n_bad == total or n_bad > MAX_BAD_SHARE * total:
            raise InputError(
                f"{name!r}: {n_bad} of {total} points have coordinates that cannot be read "
                "(for example 'undefined' or empty). The app that made it did not have a GPS "
                "fix; export the track again once it has one."
            )
        notes.append(f"Dropped {n_bad} point(s) whose coordinates could not be read.")

    # 2. outside the UK
    inside = in_uk(lon, lat)
    out_uk = ~bad & ~inside
    n_out = int(out_uk.sum())
    if n_out == total - n_bad:
        swapped = in_uk(lat[~bad], lon[~bad]).mean() > 0.5
        hint = " Latitude and longitude look swapped." if swapped else ""
        raise InputError(f"{name!r}: none of its points is in the UK.{hint}")
    if n_out:
        notes.append(f"Dropped {n_out} point(s) outside the UK.")
    keep = ~bad & inside
    seg_id, lon, lat, time = seg_id[keep], lon[keep], lat[keep], time[keep]

    # 3. duplicates: same place and same time as the point before, in the same segment
    t_ns = time.asi8  # NaT → min int; equal NaT compare equal, which is what we want
    dup = np.r_[False, (seg_id[1:] == seg_id[:-1]) & (lon[1:] == lon[:-1])
                & (lat[1:] == lat[:-1]) & (t_ns[1:] == t_ns[:-1])]
    if dup.any():
        notes.append(f"Dropped {int(dup.sum())} duplicate point(s).")
        seg_id, lon, lat, time = seg_id[~dup], lon[~dup], lat[~dup], time[~dup]

    # 4. impossible jumps: spikes dropped, other jumps split the segment
    x, y = lonlat_to_bng(lon, lat)
    secs = time.asi8.astype(float) / 1e9
    secs[time.isna()] = np.nan
    n_spikes = 0
    for _ in range(5):
        spike = _spikes(seg_id, x, y, secs, settings)
        if not spike.any():
            break
        n_spikes += int(spike.sum())
        k = ~spike
        seg_id, x, y, lon, lat = seg_id[k], x[k], y[k], lon[k], lat[k]
        secs, time = secs[k], time[k]
    if n_spikes:
        notes.append(f"Dropped {n_spikes} point(s) that jumped impossibly far and straight back "
                     "(GPS glitches).")
    jump = np.r_[False, (seg_id[1:] == seg_id[:-1])
                 & _impossible(x[:-1], y[:-1], secs[:-1], x[1:], y[1:], secs[1:], settings)]
    if jump.any():
        notes.append(
            f"Split the track at {int(jump.sum())} impossible jump(s) (faster than "
            f"{settings.MAX_FOOT_SPEED_MS:g} m/s on foot, allowing {settings.GPS_JITTER_M:g} m "
            "of GPS error); those stretches do not count as search effort."
        )
    piece = np.cumsum(np.r_[True, (seg_id[1:] != seg_id[:-1]) | jump[1:]]) - 1

    # 5. build lines; drop pieces with < 2 points or no length
    n_pieces = int(piece.max()) + 1 if len(piece) else 0
    counts = np.bincount(piece, minlength=n_pieces)
    dx, dy = np.diff(x), np.diff(y)
    same = piece[1:] == piece[:-1]
    length = np.bincount(piece[1:][same], weights=np.hypot(dx, dy)[same], minlength=n_pieces)
    good = (counts >= 2) & (length > 0)
    n_short = int((~good).sum())
    if n_short:
        notes.append(f"Dropped {n_short} segment(s) left with fewer than two points or no length.")
    if not good.any():
        raise InputError(f"{name!r}: no usable track is left after cleaning. "
                         + " ".join(notes))
    pt_keep = good[piece]
    piece_k, lon_k, lat_k, time_k = piece[pt_keep], lon[pt_keep], lat[pt_keep], time[pt_keep]
    _, new_piece = np.unique(piece_k, return_inverse=True)
    # with ``indices`` shapely returns an array; its stubs also allow one LineString
    geoms = cast(np.ndarray,
                 shapely.linestrings(np.column_stack([lon_k, lat_k]), indices=new_piece))
    first = np.r_[True, new_piece[1:] != new_piece[:-1]]
    src_seg = seg_id[pt_keep][first]
    g = pd.Series(time_k, dtype="datetime64[ns, UTC]").groupby(new_piece)
    out = gpd.GeoDataFrame(
        {
            "track": [segs[i].track for i in src_seg],
            "segment": np.arange(len(geoms)),
            "kind": [segs[i].kind for i in src_seg],
            "n_points": np.bincount(new_piece),
            "start": pd.to_datetime(g.min().to_numpy(), utc=True).as_unit("ns"),
            "end": pd.to_datetime(g.max().to_numpy(), utc=True).as_unit("ns"),
        },
        geometry=geoms,
        crs=WGS84,
    )
    if time_k.isna().all():
        notes.append("The file has no timestamps: it is accepted as a path, but it cannot "
                     "show when the ground was searched.")
    elif time_k.isna().any():
        notes.append(f"{int(time_k.isna().sum())} point(s) have no time; no times were invented.")
    out.attrs["notes"] = notes
    return out[COLUMNS]


class _FootLimits(Protocol):
    """The planning assumptions of :mod:`vocab.settings` that judge a step."""

    MAX_FOOT_SPEED_MS: float  # metres per second on foot
    GPS_JITTER_M: float  # metres a standing receiver wanders
    MAX_UNTIMED_STEP_M: float  # metres between two points without times


def _impossible(x0: np.ndarray, y0: np.ndarray, t0: np.ndarray, x1: np.ndarray,
                y1: np.ndarray, t1: np.ndarray, settings: _FootLimits) -> np.ndarray:
    """Is each step (x0,y0,t0) → (x1,y1,t1) beyond a plausible foot speed?"""
    d = np.hypot(x1 - x0, y1 - y0)
    dt = t1 - t0
    timed = np.isfinite(dt)
    limit = np.where(timed, settings.MAX_FOOT_SPEED_MS * np.maximum(np.nan_to_num(dt), 0.0)
                     + settings.GPS_JITTER_M, settings.MAX_UNTIMED_STEP_M)
    beyond: np.ndarray = d > limit
    return beyond


def _spikes(seg: np.ndarray, x: np.ndarray, y: np.ndarray, t: np.ndarray,
            settings: _FootLimits) -> np.ndarray:
    """Points that jump impossibly away and straight back (the neighbours agree)."""
    n = len(x)
    spike = np.zeros(n, bool)
    if n < 3:
        return spike
    same = (seg[1:-1] == seg[:-2]) & (seg[1:-1] == seg[2:])
    a = _impossible(x[:-2], y[:-2], t[:-2], x[1:-1], y[1:-1], t[1:-1], settings)
    b = _impossible(x[1:-1], y[1:-1], t[1:-1], x[2:], y[2:], t[2:], settings)
    c = ~_impossible(x[:-2], y[:-2], t[:-2], x[2:], y[2:], t[2:], settings)
    spike[1:-1] = same & a & b & c
    # a wild first or last point splits off as a one-point piece and is dropped later
    return spike
