"""Where nobody has searched well enough yet, and how much walking went over cleared ground.

* :func:`area_of_interest` — where to look for gaps: the POA grid, limited to
  the case's sectors (or those searched at least once) and/or a ring around the
  last-known location, as the coordinator chooses.
* :func:`unsearched_ground` — the area of interest minus the ground whose
  cumulative POD (all passes combined, cell by cell on the POA grid) has reached a
  target POD. On the map; new sectors can be proposed over it.
* :func:`effort_on_cleared_ground` — for each track, the share of its length walked
  inside cells that had already reached the target POD *before the track started*
  (only passes that ended by then count). Summed per team and per case by
  :func:`cleared_effort_summary`: the figure that shows whether duplication is
  going down.

All in British National Grid (EPSG:27700). Decision support, not a prediction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from typing import cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry.base import BaseGeometry

from geo.coverage import _track_pieces, track_coverage
from geo.crs import BNG, BngGeometry, frame_to_bng, lonlat_to_bng
from geo.detection import cumulative_pod_array
from geo.errors import InputError
from geo.probability import PoaGrid


def _cells(grid: PoaGrid | gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    cells = grid.cells if isinstance(grid, PoaGrid) else grid
    if "cell" not in cells.columns or cells.crs is None:
        raise InputError("Grid cells need a 'cell' column and a coordinate system.")
    return cells.to_crs(BNG) if cells.crs.to_epsg() != 27700 else cells


def _target(target_pod: float) -> float:
    try:
        t = float(target_pod)
    except (TypeError, ValueError):
        raise InputError(f"The target POD must be a number, not {target_pod!r}.") from None
    if not (0.0 < t <= 1.0):
        raise InputError("The target POD must be above 0 and at most 1 (100 %).")
    return t


def pass_cell_pod(tracks: gpd.GeoDataFrame, grid: PoaGrid | gpd.GeoDataFrame,
                  sweep_width_m: float) -> np.ndarray:
    """POD of one pass in every grid cell, from that pass's tracks (effort coverage per cell)."""
    cells = _cells(grid)
    table = track_coverage(tracks, cells.rename(columns={"cell": "id"})[["id", "geometry"]],
                           sweep_width_m, swept=False)
    return table["pod"].to_numpy()


def unsearched_ground(
    grid: PoaGrid | gpd.GeoDataFrame,
    cumulative_pod: np.ndarray,
    target_pod: float,
    aoi: BngGeometry | None = None,
) -> gpd.GeoDataFrame:
    """Ground not yet searched to ``target_pod``: one row per separate gap (BNG).

    ``cumulative_pod``: per grid cell, all passes combined (see
    :func:`geo.detection.cumulative_pod_array`). ``aoi`` (BNG polygon) limits the
    answer; by default the whole grid. Columns ``gap`` (1 = largest) and ``area_m2``.
    """
    cells = _cells(grid)
    t = _target(target_pod)
    cum = np.asarray(cumulative_pod, dtype=float)
    if cum.shape != (len(cells),):
        raise InputError("Give one cumulative POD per grid cell.")
    below = cells.geometry.to_numpy()[~(cum >= t - 1e-12)]
    ground: BaseGeometry
    if len(below) == 0:
        ground = shapely.Polygon()
    else:
        ground = shapely.coverage_union_all(below)  # cells share edges exactly
    if aoi is not None:
        ground = shapely.intersection(ground, aoi)
    parts = shapely.get_parts(ground)
    parts = parts[shapely.area(parts) > 0]
    areas = shapely.area(parts)
    order = np.argsort(-areas, kind="stable")
    return gpd.GeoDataFrame({"gap": np.arange(1, len(parts) + 1), "area_m2": areas[order]},
                            geometry=parts[order], crs=BNG)


def area_of_interest(
    grid: PoaGrid | gpd.GeoDataFrame,
    *,
    regions: gpd.GeoDataFrame | gpd.GeoSeries | None = None,
    centre: tuple[float, float] | None = None,
    radius_m: float | None = None,
) -> BngGeometry:
    """The ground to look for gaps in (BNG polygon), as the coordinator chose it.

    Always inside the POA grid (cells holding probability). ``regions`` (any CRS,
    e.g. the case's sectors, or only those searched at least once) limit it to their
    union; ``centre`` (lat, lon, WGS84) with ``radius_m`` to a disc (e.g. the 50 %
    ring around the last-known location). Both may be given; an empty region list
    gives empty ground. Before anything is searched the whole grid is one gap, so
    a page should offer these choices rather than show it.
    """
    cells = _cells(grid)
    geoms = cells.geometry.to_numpy()
    if "poa" in cells.columns:
        geoms = geoms[cells["poa"].to_numpy() > 0]
    ground: BaseGeometry = shapely.coverage_union_all(geoms) if len(geoms) else shapely.Polygon()
    if regions is not None:
        if regions.crs is None:
            raise InputError("The areas have no coordinate system.")
        parts = shapely.make_valid(frame_to_bng(regions))
        ground = shapely.intersection(ground, shapely.union_all(parts) if len(parts)
                                      else shapely.Polygon())
    if centre is not None or radius_m is not None:
        if centre is None or radius_m is None or not float(radius_m) > 0:
            raise InputError("A ring needs a centre and a radius above 0 m.")
        x, y = (float(v) for v in lonlat_to_bng(centre[1], centre[0]))
        disc = shapely.buffer(shapely.Point(x, y), float(radius_m), quad_segs=64)
        ground = shapely.intersection(ground, disc)
    return BngGeometry(ground)


def effort_on_cleared_ground(
    tracks: gpd.GeoDataFrame,
    grid: PoaGrid | gpd.GeoDataFrame,
    pass_pods: np.ndarray,
    pass_ends: pd.Series | np.ndarray | Sequence[dt.datetime | str],
    target_pod: float,
    own_pass: Sequence[int] | np.ndarray | None = None,
) -> pd.DataFrame:
    """Share of each track walked over ground already cleared to ``target_pod``.

    ``tracks``: LineStrings (any CRS) with a ``start`` time (UTC) and optionally
    ``id``, ``team`` and ``case`` columns, which are carried through. ``pass_pods``:
    array (passes × cells) of each earlier pass's POD per cell; ``pass_ends``: when
    each pass ended. A cell counts as cleared for a track when the passes that
    ended at or before the track's start reach ``target_pod`` there together.
    ``own_pass`` (optional, one entry per track): the row of ``pass_pods`` that the
    track itself is part of, or -1. That pass never counts as clearing ground
    before the track, even when the pass was closed before a late upload of a
    track walked afterwards: a track is not wasted on ground it cleared itself.
    Returns per track: the carried columns, ``length_m``, ``cleared_m`` and
    ``cleared_share`` (NaN for a track without a start time: unknown, not zero).
    """
    cells = _cells(grid)
    t = _target(target_pod)
    pods = np.atleast_2d(np.asarray(pass_pods, dtype=float)) if len(pass_ends) else \
        np.zeros((0, len(cells)))
    ends = pd.DatetimeIndex(pd.to_datetime(pd.Series(pass_ends), utc=True))
    if pods.shape != (len(ends), len(cells)):
        raise InputError("Give one row of per-cell PODs for each pass, and one end time each.")
    if ends.isna().any():
        raise InputError("Every pass needs an end time.")
    if "start" not in tracks.columns:
        raise InputError("Tracks need a 'start' time to tell what was cleared before them.")
    starts = pd.DatetimeIndex(pd.to_datetime(tracks["start"], utc=True))
    # an ndarray at run time; pandas-stubs type Index.notna as an Index
    known = cast(np.ndarray, starts.notna())
    n = len(tracks)
    own = np.full(n, -1) if own_pass is None else np.asarray(own_pass, dtype=int)
    if own.shape != (n,):
        raise InputError("Give one own-pass entry per track (-1 where it has none).")
    # before[track, pass]: the pass ended before the track started and is not its own
    before = (ends.asi8[None, :] <= starts.asi8[:, None]) & known[:, None]
    before &= np.arange(len(ends))[None, :] != own[:, None]
    # log of the chance a cell was missed by each pass; a POD of 1 stays finite
    log_miss = np.log(np.clip(1.0 - pods, 1e-300, 1.0))

    pieces, piece_track = _track_pieces(tracks)
    length = np.bincount(piece_track, weights=shapely.length(pieces), minlength=n)
    cleared_m: np.ndarray = np.zeros(n)
    if len(pieces):
        cgeo = cells.geometry.to_numpy()
        pi, ci = shapely.STRtree(cgeo).query(pieces, predicate="intersects")
        tr = piece_track[pi]
        # cumulative POD of the earlier passes, per (piece, cell) pair: 1 − Π(1 − PODᵢ)
        missed = np.exp((before[tr] * log_miss[:, ci].T).sum(axis=1)) if len(ends) else \
            np.ones(len(pi))
        hit = (1.0 - missed >= t - 1e-12) & known[tr]
        if hit.any():
            inside = shapely.length(shapely.intersection(pieces[pi[hit]], cgeo[ci[hit]]))
            cleared_m = np.bincount(tr[hit], weights=inside, minlength=n)
    out = pd.DataFrame(index=tracks.index)
    for col in ("id", "team", "case"):
        if col in tracks.columns:
            out[col] = tracks[col].to_numpy()
    out["length_m"] = length
    out["cleared_m"] = np.where(known, cleared_m, np.nan)
    with np.errstate(invalid="ignore", divide="ignore"):
        out["cleared_share"] = np.where(known & (length > 0), cleared_m / length, np.nan)
    return out


def cleared_effort_summary(per_track: pd.DataFrame, by: str | None = "team") -> pd.DataFrame:
    """Length walked and share over cleared ground per ``by`` (``team``, ``case``), or in
    total when ``by`` is None. Tracks without a start time are left out (and counted)."""
    known = per_track["cleared_m"].notna()
    df = per_track.loc[known]
    groups: dict[Hashable, pd.DataFrame]
    if by is None:
        groups = {"all": df}
    else:
        if by not in per_track.columns:
            raise InputError(f"The tracks have no {by!r} column to sum by.")
        groups = dict(iter(df.groupby(by, sort=True)))
    rows = []
    for key, g in groups.items():
        length, cleared = float(g["length_m"].sum()), float(g["cleared_m"].sum())
        rows.append({by or "scope": key, "tracks": len(g), "length_m": length,
                     "cleared_m": cleared,
                     "cleared_share": cleared / length if length > 0 else np.nan})
    out = pd.DataFrame(rows)
    out.attrs["tracks_without_time"] = int((~known).sum())
    return out


__all__ = [
    "area_of_interest",
    "cleared_effort_summary",
    "cumulative_pod_array",
    "effort_on_cleared_ground",
    "pass_cell_pod",
    "unsearched_ground",
]
