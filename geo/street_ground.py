"""Ground described by street names: for a family who walked streets, not drew shapes.

* :func:`streets_near` — the names of the streets (named roads and paths on the
  ground) that run through a neighbourhood, so a family can pick from a list.
* :func:`street_ground` — the chosen streets (every named line of each, merged per
  name, clipped to the neighbourhood) buffered a stated half-width either side
  (``vocab.settings.FAMILY_STREET_HALF_WIDTH_M``, a planning assumption), as one
  lon/lat shape.
* :func:`streets_through` — for each area, the streets with the longest stretch
  inside it ("Union Street, Redcross Way"), to name searched ground in words.

``lines`` is what :func:`geo.read_streets` (or the store's ``street_lines``) gives:
lon/lat lines with ``name``, ``kind`` and ``ground``. Metric work is in British
National Grid (EPSG:27700); shapes in and out are lon/lat except ``near`` (BNG).
Pure functions: no database, no Streamlit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import geopandas as gpd
import numpy as np
import shapely
from shapely.geometry.base import BaseGeometry

from geo.crs import BNG, BngGeometry, geoms_to_bng, geoms_to_lonlat
from geo.errors import InputError

#: kinds of line a family walks along (railways and water are not streets)
WALKABLE_KINDS = ("road", "path")
#: the most streets one report may name
MAX_STREETS = 30


def _walkable(lines: gpd.GeoDataFrame, near: BaseGeometry) -> gpd.GeoDataFrame:
    """Named road and path lines on the ground meeting ``near`` (BNG), in BNG."""
    if len(lines) == 0 or near is None or shapely.is_empty(near):
        return gpd.GeoDataFrame({"name": []}, geometry=[], crs=BNG)
    keep = (lines["kind"].isin(WALKABLE_KINDS) & lines["ground"].astype(bool)
            & (lines["name"].fillna("").astype(str).str.strip() != ""))
    frame = lines.loc[keep, ["name", "geometry"]].to_crs(BNG)
    frame["name"] = frame["name"].astype(str).str.strip()
    hit = frame.sindex.query(near, predicate="intersects")
    return frame.iloc[np.sort(hit)].reset_index(drop=True)


def streets_near(lines: gpd.GeoDataFrame, near: BaseGeometry) -> list[str]:
    """Names of the streets meeting ``near`` (a BNG area), each once, A to Z."""
    frame = _walkable(lines, near)
    return sorted(set(frame["name"]), key=lambda n: (n.casefold(), n))


def street_ground(lines: gpd.GeoDataFrame, names: Iterable[str], near: BaseGeometry,
                  half_width_m: float) -> tuple[BaseGeometry, list[str]]:
    """The ground along the chosen streets inside ``near`` (BNG), ``half_width_m`` metres
    either side of each line, as one lon/lat shape; and the names used, A to Z.

    Raises :class:`InputError` in plain words when none is chosen, too many are, or a
    chosen name is not a street of the neighbourhood.
    """
    chosen = sorted({str(n).strip() for n in names if str(n).strip()})
    if not chosen:
        raise InputError("Choose at least one street.")
    if len(chosen) > MAX_STREETS:
        raise InputError(f"Choose at most {MAX_STREETS} streets in one report.")
    if not half_width_m > 0:
        raise InputError("The width either side of a street must be more than 0 metres.")
    frame = _walkable(lines, near)
    frame = frame[frame["name"].isin(chosen)]
    missing = [n for n in chosen if n not in set(frame["name"])]
    if missing:
        raise InputError(f"{missing[0]!r} is not a street near the search. Choose from the list.")
    clipped = shapely.intersection(np.asarray(frame.geometry.values, dtype=object), near)
    merged = [shapely.line_merge(shapely.union_all(clipped[(frame["name"] == n).to_numpy()]))
              for n in chosen]
    ground = shapely.union_all(shapely.buffer(np.asarray(merged, dtype=object),
                                              float(half_width_m)))
    if shapely.is_empty(ground):
        raise InputError("Those streets are outside the area near the search.")
    return geoms_to_lonlat(BngGeometry(ground)), chosen


def streets_through(lines: gpd.GeoDataFrame, areas: Sequence[BaseGeometry] | np.ndarray,
                    *, most: int = 2, min_m: float = 20.0) -> list[list[str]]:
    """For each lon/lat area, the streets with the longest stretch inside it (at least
    ``min_m`` metres), longest first, at most ``most`` of them; [] where none."""
    shapes = np.asarray(list(areas), dtype=object)
    if shapes.size == 0:
        return []
    bng = geoms_to_bng(shapes)
    frame = _walkable(lines, shapely.union_all(bng))
    out: list[list[str]] = [[] for _ in range(len(bng))]
    if len(frame) == 0:
        return out
    geoms = np.asarray(frame.geometry.values, dtype=object)
    tree = shapely.STRtree(geoms)
    area_i, line_i = tree.query(bng, predicate="intersects")
    if area_i.size == 0:
        return out
    length = shapely.length(shapely.intersection(geoms[line_i], bng[area_i]))
    table = gpd.pd.DataFrame({"area": area_i, "name": frame["name"].to_numpy()[line_i],
                              "m": length})
    sums = table.groupby(["area", "name"], sort=False)["m"].sum().reset_index()
    sums = sums[sums["m"] >= min_m].sort_values(["area", "m", "name"],
                                                ascending=[True, False, True])
    for area, group in sums.groupby("area", sort=False):
        out[int(str(area))] = list(group["name"].head(most))
    return out


__all__ = ["MAX_STREETS", "WALKABLE_KINDS", "street_ground", "streets_near", "streets_through"]
