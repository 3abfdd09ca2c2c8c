"""Streets in the store: the lines of an OpenStreetMap extract, loaded for the app.

They belong to no case and are replaced whole by each load (``wayhome streets
import``, the command line only). Where they live depends on the backend:

* **SQLite**: a GeoParquet file in British National Grid (EPSG:27700),
  ``streets.parquet`` in ``settings.STREETS_DIR`` (default: a ``streets`` folder
  beside the database file), like the boundary layers. It is written beside the
  old one and moved into place only after the load's audit record is committed, so
  a failed load leaves the old streets.
* **PostgreSQL + PostGIS**: the ``street_lines`` table (lon/lat PostGIS geometry
  with its bounding box), replaced in the load's one transaction.

Either way the load is audited (entity ``streets``: how many lines, of which kinds,
from which file name) and :func:`street_lines` reads them back as a lon/lat
GeoDataFrame, optionally only those meeting a window.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import shapely
import sqlalchemy as sa

from casefile import access
from casefile import permissions as perm
from casefile import schema as t
from casefile.database import Database
from casefile.errors import InvalidInput
from casefile.permissions import Actor
from casefile.unit_of_work import UnitOfWork, writes
from vocab import settings
from vocab.search import STREET_KINDS

PARQUET = "streets.parquet"
_COLUMNS = ("name", "kind", "major", "ground")
_BATCH = 5_000


@dataclass(frozen=True, slots=True)
class StreetsLoaded:
    """What a load kept: lines per kind, major lines, and where they went."""

    lines: int
    by_kind: dict[str, int]
    major: int
    where: str
    stored_bytes: int | None


def streets_dir(db: Database) -> Path:
    """Where an SQLite store keeps its streets (``settings.STREETS_DIR`` or beside it)."""
    if settings.STREETS_DIR:
        return Path(settings.STREETS_DIR)
    database = sa.make_url(db.url).database or settings.SQLITE_PATH
    return Path(database).resolve().parent / "streets"


@writes
def load_streets(db: Database, /, actor: Actor, lines: gpd.GeoDataFrame, *,
                 source: str) -> StreetsLoaded:
    """Replace the loaded streets with ``lines`` (as :func:`geo.read_streets` returns)."""
    frame = _checked(lines)
    by_kind = {k: int((frame["kind"] == k).sum()) for k in STREET_KINDS}
    n_major = int(frame["major"].sum())
    changes = {"lines": (None, len(frame)), "major": (None, n_major),
               "source": (None, Path(str(source)).name[:200]),
               **{f"{k}_lines": (None, n) for k, n in by_kind.items()}}
    unit = UnitOfWork(db, actor, perm.STREETS_LOAD)
    if db.backend == "sqlite":
        folder = streets_dir(db)
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / PARQUET
        staged = folder / f".{PARQUET}.{os.getpid()}.part"
        frame.to_crs(27700).to_parquet(staged, index=False)
        try:
            with unit as uow:
                access.authorize(uow.conn, actor, perm.STREETS_LOAD)
                uow.record("streets", None, "load", changes, case_id=None)
            os.replace(staged, final)
        finally:
            with contextlib.suppress(FileNotFoundError):
                staged.unlink()
        return StreetsLoaded(len(frame), by_kind, n_major, str(final), final.stat().st_size)
    with unit as uow:
        access.authorize(uow.conn, actor, perm.STREETS_LOAD)
        uow.conn.execute(t.street_lines.delete())
        bounds = shapely.bounds(np.asarray(frame.geometry.values, dtype=object))
        geoms = np.asarray(frame.geometry.values, dtype=object)
        records: list[dict[str, object]] = [
            {"name": n, "kind": k, "major": bool(m), "ground": bool(g), "geom": geom,
             "minx": b[0], "miny": b[1], "maxx": b[2], "maxy": b[3]}
            for n, k, m, g, geom, b in zip(frame["name"], frame["kind"], frame["major"],
                                           frame["ground"], geoms, bounds.tolist(),
                                           strict=True)]
        for start in range(0, len(records), _BATCH):
            uow.conn.execute(t.street_lines.insert(), records[start:start + _BATCH])
        uow.record("streets", None, "load", changes, case_id=None)
    return StreetsLoaded(len(frame), by_kind, n_major, "street_lines table", None)


def street_lines(db: Database, /, actor: Actor,
                 bbox: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
    """The loaded streets (lon/lat; ``name``, ``kind``, ``major``, ``ground``), all or only
    those whose box meets ``bbox`` (west, south, east, north). Empty when none are loaded."""
    with UnitOfWork(db, actor, perm.STREETS_READ, mode="read") as uow:
        access.authorize(uow.conn, actor, perm.STREETS_READ)
        return read_lines(db, uow.conn, bbox)


def streets_version(db: Database, /, actor: Actor) -> str:
    """A cheap token that changes whenever streets are loaded again ("none" when none
    are): the file's modification time and size on SQLite, the newest row id on
    PostgreSQL (a load deletes and inserts, so ids only grow). Lets the maps re-publish
    their street tiles soon after ``wayhome streets import`` without re-reading streets."""
    with UnitOfWork(db, actor, perm.STREETS_READ, mode="read") as uow:
        access.authorize(uow.conn, actor, perm.STREETS_READ)
        if db.backend == "sqlite":
            path = streets_dir(db) / PARQUET
            if not path.is_file():
                return "none"
            stat = path.stat()
            return f"{stat.st_mtime_ns}:{stat.st_size}"
        newest = uow.conn.execute(sa.select(sa.func.max(t.street_lines.c.id))).scalar()
        return "none" if newest is None else str(newest)


def read_lines(db: Database, conn: sa.Connection,
               bbox: tuple[float, float, float, float] | None = None) -> gpd.GeoDataFrame:
    """:func:`street_lines` inside an operation that has already checked its own
    permission (the streets are public reference data of no case; e.g. the family
    page names the streets of ground it may already see)."""
    if db.backend == "sqlite":
        path = streets_dir(db) / PARQUET
        if not path.is_file():
            return _empty()
        frame = gpd.read_parquet(path)
        if bbox is not None:
            # the window's box in the file's grid, so only the lines in it are reprojected
            x0, y0, x1, y1 = gpd.GeoSeries([shapely.box(*bbox).segmentize(0.001)],
                                           crs=4326).to_crs(frame.crs or 27700).total_bounds
            frame = frame.cx[x0:x1, y0:y1]
        return frame.to_crs(4326).reset_index(drop=True)
    c = t.street_lines.c
    query = sa.select(c.name, c.kind, c.major, c.ground, c.geom).order_by(c.id)
    if bbox is not None:
        west, south, east, north = (float(v) for v in bbox)
        query = query.where(c.minx <= east, c.maxx >= west, c.miny <= north,
                            c.maxy >= south)
    rows = conn.execute(query).all()
    if not rows:
        return _empty()
    return gpd.GeoDataFrame(
        {"name": [r.name for r in rows], "kind": [r.kind for r in rows],
         "major": [bool(r.major) for r in rows], "ground": [bool(r.ground) for r in rows]},
        geometry=[r.geom for r in rows], crs=4326)


def streets_loaded(db: Database, conn: sa.Connection) -> bool:
    """Whether any streets are loaded at all (so a page can say what to do without them)."""
    if db.backend == "sqlite":
        return (streets_dir(db) / PARQUET).is_file()
    return conn.execute(sa.select(t.street_lines.c.id).limit(1)).first() is not None


def empty_lines() -> gpd.GeoDataFrame:
    """No streets: the columns :func:`street_lines` gives, with no rows."""
    return _empty()


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({c: [] for c in _COLUMNS}, geometry=[], crs=4326)


def _checked(lines: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """The columns the store keeps, checked: lon/lat lines, known kinds, short names."""
    if not isinstance(lines, gpd.GeoDataFrame) or any(c not in lines for c in _COLUMNS):
        raise InvalidInput("Streets must be read with geo.read_streets (name, kind, major, "
                           "ground and lines).")
    frame = lines[list(_COLUMNS)].copy()
    frame = gpd.GeoDataFrame(frame, geometry=lines.geometry.to_crs(4326).values, crs=4326)
    if not frame.geom_type.eq("LineString").all():
        raise InvalidInput("Streets must be lines.")
    if not frame["kind"].isin(STREET_KINDS).all():
        raise InvalidInput(f"A street's kind must be one of {', '.join(STREET_KINDS)}.")
    frame["name"] = frame["name"].fillna("").astype(str).str.slice(0, 200)
    frame["major"] = frame["major"].astype(bool)
    frame["ground"] = frame["ground"].astype(bool)
    return frame.reset_index(drop=True)


__all__ = ["PARQUET", "StreetsLoaded", "empty_lines", "load_streets", "read_lines", "street_lines",
           "streets_dir", "streets_loaded"]
