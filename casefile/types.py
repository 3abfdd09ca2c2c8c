"""Column types that make one schema work on SQLite and on PostgreSQL + PostGIS.

* :class:`UTCDateTime` — timezone-aware UTC datetimes on both backends
  (``timestamptz`` on PostgreSQL; a sortable ISO text in UTC on SQLite).
* :class:`Geom` — a shapely geometry in lon/lat (EPSG:4326). On PostgreSQL it is
  a real PostGIS ``geometry(<TYPE>, 4326)`` column (GeoAlchemy2 type); on SQLite,
  which here cannot load SpatiaLite, it is the geometry's WKB in a BLOB. The
  Python side sees the same shapely object either way; spatial work happens in
  ``geo`` (shapely, STRtree) or, on PostGIS, in SQL.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import shapely
from geoalchemy2 import Geometry
from sqlalchemy import DateTime, LargeBinary
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlalchemy.types import TypeDecorator

SRID = 4326


class UTCDateTime(TypeDecorator):
    """Aware datetimes in, aware UTC datetimes out; naive datetimes are refused."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError("naive datetime given to the store; times must carry a time zone")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            # SQLite has no time zone type: keep UTC without offset so text sorts by time
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class _GeomIn(FunctionElement):
    """Bind-side wrapper: WKB bytes -> PostGIS geometry (SRID 4326) / BLOB as is."""

    inherit_cache = True


class _GeomOut(FunctionElement):
    """Column-side wrapper: PostGIS geometry -> WKB bytes / BLOB as is."""

    inherit_cache = True


@compiles(_GeomIn)
def _geom_in_default(element: _GeomIn, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_GeomIn, "postgresql")
def _geom_in_pg(element: _GeomIn, compiler: Any, **kw: Any) -> str:
    return f"ST_GeomFromWKB({compiler.process(element.clauses, **kw)}, {SRID})"


@compiles(_GeomOut)
def _geom_out_default(element: _GeomOut, compiler: Any, **kw: Any) -> str:
    return compiler.process(element.clauses, **kw)


@compiles(_GeomOut, "postgresql")
def _geom_out_pg(element: _GeomOut, compiler: Any, **kw: Any) -> str:
    return f"ST_AsBinary({compiler.process(element.clauses, **kw)})"


class Geom(TypeDecorator):
    """A shapely geometry (lon/lat, EPSG:4326): PostGIS geometry or WKB BLOB."""

    impl = LargeBinary
    cache_ok = True
    # read by GeoAlchemy2's table hooks: spatial indexes come from the migrations
    spatial_index = False
    use_N_D_index = False
    srid = SRID

    def __init__(self, geometry_type: str = "GEOMETRY") -> None:
        super().__init__()
        self.geometry_type = geometry_type.upper()

    def load_dialect_impl(self, dialect: Any) -> Any:
        # GeoAlchemy2's DDL hooks probe with dialect=None: keep them out (indexes
        # are created by the migrations).
        if dialect is None:
            return LargeBinary()
        if dialect.name == "postgresql":
            return dialect.type_descriptor(
                Geometry(self.geometry_type, srid=SRID, spatial_index=False)
            )
        return dialect.type_descriptor(LargeBinary())

    def bind_expression(self, bindvalue: Any) -> Any:
        expr = _GeomIn(bindvalue)
        expr.type = self
        return expr

    def column_expression(self, col: Any) -> Any:
        expr = _GeomOut(col)
        expr.type = self
        return expr

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, bytes | bytearray | memoryview):
            return bytes(value)
        return shapely.to_wkb(value)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        if value is None:
            return None
        data = getattr(value, "data", value)  # GeoAlchemy2 hands back a WKBElement
        if isinstance(data, str):
            return shapely.from_wkb(bytes.fromhex(data))
        return shapely.from_wkb(bytes(data))
