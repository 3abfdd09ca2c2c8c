"""Sectors out to the field and to partner forces: GPX, KML, GeoJSON, GeoPackage.

* GPX for handheld GPS units: each sector's outline as a closed track (or
  route), named with the sector ID.
* KML for Google Earth and phones: one Placemark per sector, named with the
  sector ID, built with :mod:`xml.etree.ElementTree` so every name is escaped.
* GeoJSON (RFC 7946): lon/lat, anticlockwise outer rings, no ``crs`` member.
* One GeoPackage for a whole case, for QGIS/ArcGIS users in partner forces:
  sectors with their status, boundaries clipped to the case's area, sightings
  and teams (never their contact details).

Inputs are plain GeoDataFrames in any CRS (none means lon/lat), so the exports
need no store. Names are kept exactly, except for control characters that XML
cannot carry, which are removed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import re
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack, cast

import geopandas as gpd
import gpxpy
import gpxpy.gpx
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.boundaries import load_layer
from geo.crs import BNG, WGS84, LonLatGeometry, geoms_to_bng
from geo.errors import InputError

#: Columns a team may show outside the coordinators' view. Anything else
#: (phone, email, contact …) is left out of exports.
TEAM_COLUMNS: tuple[str, ...] = ("id", "name", "organisation", "org_type", "lead", "size",
                                 "status")
#: Sighting columns never exported (who reported it and how to reach them).
SIGHTING_PRIVATE = re.compile(r"phone|email|contact|report(?:er|ed)|address|mobile", re.IGNORECASE)
#: Distance (m) the case area is widened by around sectors and sightings to clip
#: boundaries when no area is given.
AREA_MARGIN_M: float = 2_000.0

#: Sighting fields in the case export, in this order (plus the point, lon/lat).
SIGHTING_FIELDS: tuple[str, ...] = ("id", "seen_at", "status", "confidence", "source",
                                    "description", "borough", "bcu", "force")
#: Team fields in the case export (never contact details), in this order.
TEAM_FIELDS: tuple[str, ...] = ("id", "name", "organisation", "org_type", "lead", "size")
#: Fields left out of an export shared beyond the coordinators: free text that can
#: name a witness, a relative or a home, and the name of a team's lead.
SHARED_LEAVES_OUT: frozenset[str] = frozenset({"source", "description", "lead"})


_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def xml_safe(text: object) -> str:
    """A string XML 1.0 can carry: control characters (other than tab/newline) removed."""
    return _XML_BAD.sub("", "" if text is None else str(text))


def _lonlat(frame: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    if frame.crs is None:
        return frame.set_crs(WGS84)
    return frame.to_crs(WGS84) if not frame.crs.equals(WGS84) else frame


def _label(row: pd.Series, index: object) -> str:
    for col in ("id", "name"):
        if col in row and row[col] is not None and not (isinstance(row[col], float)
                                                        and math.isnan(row[col])):
            return str(row[col])
    return str(index)


def _describe(row: pd.Series) -> str:
    bits = []
    for col in ("name", "status", "team", "priority"):
        if col in row and row[col] is not None and not pd.isna(row[col]) and str(row[col]):
            if col == "name" and str(row[col]) == str(row.get("id", "")):
                continue
            bits.append(str(row[col]) if col == "name" else f"{col}: {row[col]}")
    return "; ".join(bits)


def pick_sectors(sectors: gpd.GeoDataFrame, *, ids: Iterable[str] | None = None,
                 team: str | None = None) -> gpd.GeoDataFrame:
    """One sector, some sectors (``ids``) or a team's sectors (``team`` column)."""
    out = sectors
    if ids is not None:
        out = out[out["id"].astype(str).isin([str(i) for i in ids])]
    if team is not None:
        out = out[out["team"].astype(str) == str(team)]
    if len(out) == 0:
        raise InputError("No sectors match; there is nothing to export.")
    return out


def _rings(geom: BaseGeometry) -> list[list[tuple[float, float]]]:
    """Outer rings (then holes) of a (Multi)Polygon as closed lon/lat lists."""
    rings = []
    for poly in shapely.get_parts(geom):
        if poly.geom_type != "Polygon" or poly.is_empty:
            continue
        rings.append(list(poly.exterior.coords))
        rings += [list(r.coords) for r in poly.interiors]
    return rings


# --- GPX ---------------------------------------------------------------------------------

def to_gpx(sectors: gpd.GeoDataFrame, *, kind: str = "track") -> str:
    """Sectors as GPX 1.1 text: one closed track (or route) per sector, named by ID.

    ``kind="track"``: one track per sector, one segment per ring (outer rings and
    holes). ``kind="route"``: one route per ring (older handhelds show routes
    better); rings after the first are named ``"<id> (2/3)"``.
    """
    if kind not in ("track", "route"):
        raise InputError("GPX sectors are written as 'track' or 'route'.")
    frame = _lonlat(sectors)
    gpx = gpxpy.gpx.GPX()
    gpx.creator = "Wayhome"
    for index, row in frame.iterrows():
        name = xml_safe(_label(row, index))
        desc = xml_safe(_describe(row)) or None
        rings = _rings(row.geometry)
        if kind == "track":
            track = gpxpy.gpx.GPXTrack(name=name, description=desc)
            for ring in rings:
                track.segments.append(gpxpy.gpx.GPXTrackSegment(
                    [gpxpy.gpx.GPXTrackPoint(lat, lon) for lon, lat in ring]))
            gpx.tracks.append(track)
        else:
            for k, ring in enumerate(rings):
                part = name if len(rings) == 1 or k == 0 else f"{name} ({k + 1}/{len(rings)})"
                route = gpxpy.gpx.GPXRoute(name=part, description=desc)
                route.points = [gpxpy.gpx.GPXRoutePoint(lat, lon) for lon, lat in ring]
                gpx.routes.append(route)
    return gpx.to_xml()


# --- KML ---------------------------------------------------------------------------------

_KML_NS = "http://www.opengis.net/kml/2.2"


def _coords(ring: Sequence[tuple[float, ...]]) -> str:
    return " ".join(f"{lon:.8f},{lat:.8f}" for lon, lat in ring)


def _kml_polygon(parent: ET.Element, poly: shapely.Polygon) -> None:
    el = ET.SubElement(parent, "Polygon")
    outer = ET.SubElement(ET.SubElement(el, "outerBoundaryIs"), "LinearRing")
    ET.SubElement(outer, "coordinates").text = _coords(list(poly.exterior.coords))
    for hole in poly.interiors:
        inner = ET.SubElement(ET.SubElement(el, "innerBoundaryIs"), "LinearRing")
        ET.SubElement(inner, "coordinates").text = _coords(list(hole.coords))


def to_kml(sectors: gpd.GeoDataFrame, *, title: str = "Wayhome sectors") -> str:
    """Sectors as KML 2.2 text: one Placemark per sector, named by ID.

    The description holds the sector's name, status and team; ``ExtendedData``
    carries ``sector_id``, ``sector_name``, ``sector_status`` and ``sector_team``
    for GIS tools. All text is
    escaped by the XML writer.
    """
    frame = _lonlat(sectors)
    ET.register_namespace("", _KML_NS)
    root = ET.Element("kml", xmlns=_KML_NS)
    doc = ET.SubElement(root, "Document")
    ET.SubElement(doc, "name").text = xml_safe(title)
    for index, row in frame.iterrows():
        mark = ET.SubElement(doc, "Placemark")
        ET.SubElement(mark, "name").text = xml_safe(_label(row, index))
        desc = _describe(row)
        if desc:
            ET.SubElement(mark, "description").text = xml_safe(desc)
        ext = ET.SubElement(mark, "ExtendedData")
        for col in ("id", "name", "status", "team"):
            if col in row and row[col] is not None and not pd.isna(row[col]):
                # "sector_" prefix: GDAL would let a Data field called "name" replace
                # the Placemark's own name
                data = ET.SubElement(ext, "Data", name=f"sector_{col}")
                ET.SubElement(data, "value").text = xml_safe(row[col])
        polys = [p for p in shapely.get_parts(row.geometry) if p.geom_type == "Polygon"]
        if len(polys) == 1:
            _kml_polygon(mark, polys[0])
        else:
            multi = ET.SubElement(mark, "MultiGeometry")
            for poly in polys:
                _kml_polygon(multi, poly)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode")


# --- GeoJSON -------------------------------------------------------------------------------

def _jsonable(value: object) -> object:
    if value is None:
        return None
    if isinstance(value, float | np.floating):
        return None if math.isnan(value) else float(value)
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date):
        return None if pd.isna(value) else value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | np.ndarray):
        return [_jsonable(v) for v in value]
    if isinstance(value, str | int | bool):
        return value
    if isinstance(value, BaseGeometry):
        return value.wkt
    # pd.isna takes any object at run time; pandas-stubs list only known types
    if pd.isna(cast(Any, value)):  # pd.NA, NaT
        return None
    return str(value)


def to_geojson(sectors: gpd.GeoDataFrame) -> str:
    """Sectors as an RFC 7946 FeatureCollection (lon/lat, right-hand rule, no ``crs``).

    Every non-geometry column becomes a property (dates as ISO 8601 text); the
    feature ``id`` is the sector ID when there is an ``id`` column.
    """
    frame = _lonlat(sectors)
    geoms = shapely.orient_polygons(np.asarray(frame.geometry.values, dtype=object),
                                    exterior_cw=False)
    props = frame.drop(columns=frame.geometry.name)
    features = []
    for (index, row), geom in zip(props.iterrows(), geoms, strict=True):
        feature = {
            "type": "Feature",
            "id": _jsonable(row["id"]) if "id" in row else _jsonable(index),
            "properties": {str(k): _jsonable(v) for k, v in row.items()},
            "geometry": None if geom is None else json.loads(shapely.to_geojson(geom)),
        }
        features.append(feature)
    return json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False)


# --- GeoPackage ------------------------------------------------------------------------

def _gpkg_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns a GeoPackage can store: nested values as JSON text, no None-only objects."""
    out = frame.copy()
    geom_name = out.geometry.name if isinstance(out, gpd.GeoDataFrame) else None
    for col in out.columns:
        if col == geom_name:
            continue
        if out[col].dtype == object:
            values = out[col]
            if values.map(lambda v: isinstance(v, Mapping | list | tuple | np.ndarray)).any():
                out[col] = values.map(lambda v: json.dumps(_jsonable(v), ensure_ascii=False))
            else:
                out[col] = values.map(lambda v: None if v is None or (
                    not isinstance(v, str) and pd.isna(v)) else str(v))
    return out


def case_area(*frames: gpd.GeoDataFrame | None, margin_m: float = AREA_MARGIN_M
              ) -> LonLatGeometry:
    """The ground a case covers: the box around its sectors and sightings, widened
    by ``margin_m``; lon/lat. Used to clip boundaries for an export."""
    boxes = []
    for frame in frames:
        if frame is None or len(frame) == 0 or not isinstance(frame, gpd.GeoDataFrame):
            continue
        geoms = frame.geometry if frame.crs is not None else frame.geometry.set_crs(WGS84)
        boxes.append(shapely.box(*geoms.to_crs(BNG).total_bounds))
    if not boxes:
        raise InputError("The case has no sectors or sightings to export.")
    area = shapely.envelope(shapely.union_all(boxes)).buffer(margin_m, join_style="mitre")
    return LonLatGeometry(gpd.GeoSeries([area], crs=BNG).to_crs(WGS84).iloc[0])


def write_case_gpkg(
    path: str | Path,
    sectors: gpd.GeoDataFrame,
    *,
    boundaries: Mapping[str, gpd.GeoDataFrame] | None = None,
    sightings: gpd.GeoDataFrame | None = None,
    teams: pd.DataFrame | None = None,
    area: LonLatGeometry | None = None,
    crs: str = BNG,
) -> None:
    """Write a whole case as one GeoPackage with several layers.

    Layers: ``sectors`` (with status and every other column), one
    ``boundary_<name>`` layer per entry of ``boundaries`` clipped to ``area``
    (lon/lat; default: :func:`case_area` of the sectors and sightings),
    ``sightings`` (without reporter contact columns) and ``teams`` (only the
    columns in :data:`TEAM_COLUMNS`; a plain table unless it has geometry).
    Geometry is written in ``crs``, British National Grid by default, as UK
    police GIS teams expect. ``path`` is a program-chosen path, never user text.
    """
    path = Path(path)
    if path.exists():
        path.unlink()
    if area is None:
        area = case_area(sectors, sightings)
    area_bng = geoms_to_bng(area)

    def write(frame: pd.DataFrame, layer: str) -> None:
        frame = _gpkg_ready(frame)
        mode: Literal["a", "w"] = "a" if path.exists() else "w"
        if isinstance(frame, gpd.GeoDataFrame):
            frame = frame.set_crs(WGS84) if frame.crs is None else frame
            frame = frame.to_crs(crs)
        frame.to_file(path, layer=layer, driver="GPKG", engine="pyogrio", mode=mode) if isinstance(
            frame, gpd.GeoDataFrame) else _write_table(frame, path, layer, mode)

    write(sectors, "sectors")
    for name, layer in (boundaries or {}).items():
        b = layer.set_crs(WGS84) if layer.crs is None else layer
        # geopandas clips by any polygonal geometry; its stubs name the two classes
        clipped = gpd.clip(b.to_crs(BNG), cast(shapely.Polygon | shapely.MultiPolygon, area_bng))
        write(clipped, f"boundary_{re.sub(r'[^a-z0-9_]+', '_', name.lower())}")
    if sightings is not None and len(sightings):
        keep = [c for c in sightings.columns if not SIGHTING_PRIVATE.search(str(c))]
        write(sightings[keep], "sightings")
    if teams is not None and len(teams):
        cols = [c for c in teams.columns if c in TEAM_COLUMNS]
        if isinstance(teams, gpd.GeoDataFrame):
            write(teams[[*cols, teams.geometry.name]], "teams")
        else:
            write(pd.DataFrame(teams[cols]), "teams")


def _write_table(frame: pd.DataFrame, path: Path, layer: str, mode: str) -> None:
    import pyogrio

    pyogrio.write_dataframe(frame, path, layer=layer, driver="GPKG", append=mode == "a")


class CaseLayers(TypedDict, total=False):
    """The optional layers and settings of :func:`write_case_gpkg`, by keyword."""

    boundaries: Mapping[str, gpd.GeoDataFrame] | None
    sightings: gpd.GeoDataFrame | None
    teams: pd.DataFrame | None
    area: LonLatGeometry | None
    crs: str


def case_gpkg_bytes(sectors: gpd.GeoDataFrame, **kwargs: Unpack[CaseLayers]) -> bytes:
    """:func:`write_case_gpkg` into memory, for a download button."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "case.gpkg"
        write_case_gpkg(path, sectors, **kwargs)
        return path.read_bytes()


# --- what goes into a case export ------------------------------------------------------

#: Boundary layers in the case GeoPackage.
EXPORT_BOUNDARIES: tuple[str, ...] = ("borough", "bcu", "force", "ward")


def _field(record: Any, name: str) -> Any:
    """A field of a plain record: a mapping's key or an object's attribute."""
    return record[name] if isinstance(record, Mapping) else getattr(record, name)


def case_export_layers(
    sightings: Iterable[Any],
    teams: Iterable[Any],
    *,
    coordinator: bool,
    org_labels: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The sightings and teams of a case export: which personal data goes in.

    ``sightings``: records (mappings or objects) with the :data:`SIGHTING_FIELDS`
    and ``lon``/``lat``; ``teams``: records with ``id``, ``name``, ``org_type``,
    ``lead_name`` and ``size`` (``organisation`` is ``org_labels[org_type]``).
    ``coordinator=True`` is the coordinators' own export: every field above, never a
    team's contact details. ``coordinator=False`` is an export shared beyond them
    (a partner force, a volunteer group): the :data:`SHARED_LEAVES_OUT` fields go
    too. Returns ``{"sightings": GeoDataFrame (lon/lat), "teams": DataFrame}``,
    the keyword arguments :func:`write_case_gpkg` takes.
    """
    keep_s = [f for f in SIGHTING_FIELDS if coordinator or f not in SHARED_LEAVES_OUT]
    keep_t = [f for f in TEAM_FIELDS if coordinator or f not in SHARED_LEAVES_OUT]
    rows, labels = list(sightings), org_labels or {}
    points = gpd.GeoDataFrame(
        {f: [_field(x, f) for x in rows] for f in keep_s},
        geometry=gpd.points_from_xy([_field(x, "lon") for x in rows],
                                    [_field(x, "lat") for x in rows]),
        crs=WGS84,
    )
    crew = list(teams)
    source = {
        "id": lambda t: _field(t, "id"),
        "name": lambda t: _field(t, "name"),
        "organisation": lambda t: labels.get(_field(t, "org_type"), _field(t, "org_type")),
        "org_type": lambda t: _field(t, "org_type"),
        "lead": lambda t: _field(t, "lead_name"),
        "size": lambda t: _field(t, "size"),
    }
    team_table = pd.DataFrame({f: [source[f](t) for t in crew] for f in keep_t})
    return {"sightings": points, "teams": team_table}


def export_boundaries(names: Iterable[str] = EXPORT_BOUNDARIES) -> dict[str, gpd.GeoDataFrame]:
    """The boundary layers of a case export (lon/lat), clipped later by :func:`write_case_gpkg`."""
    return {name: load_layer(name) for name in names}
