"""Has this ground been searched (or planned) already? Overlaps between sectors.

The app checks every new, imported or reassigned sector against all the other
sectors of the case (up to tens of thousands). A :class:`SectorIndex` holds the
case's sectors in British National Grid with a shapely ``STRtree``; build it
once per version of the case and ask it about each candidate: only the few
sectors whose boxes touch the candidate are intersected.

:func:`duplication` gives the case-level figure: the area of ground (the union,
not a sum of pairs) searched more than once, split into deliberate re-searches
and accidental overlap.

Areas are m² in EPSG:27700; candidates and outputs for the map are lon/lat.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo.crs import BngGeometry, LonLatGeometry, geoms_to_bng, geoms_to_lonlat
from geo.polygons import geoms_bng, polygonal_part
from vocab import sector_statuses

#: Overlaps smaller than this (m²) are boundary noise, not ground searched twice.
MIN_OVERLAP_M2: float = 1.0

OVERLAP_COLUMNS = ["id", "overlap_m2", "share"]


class SectorIndex:
    """The sectors of a case in British National Grid, with a spatial index.

    ``sectors`` is a GeoDataFrame with an ``id`` column, in any CRS (none means
    lon/lat). The index is read-only: build a new one when the case changes.
    """

    def __init__(self, sectors: gpd.GeoDataFrame | gpd.GeoSeries) -> None:
        if isinstance(sectors, gpd.GeoDataFrame) and "id" in sectors.columns:
            ids = sectors["id"].to_numpy()
        else:
            ids = np.asarray(sectors.index)
        geoms = geoms_bng(sectors)
        bad = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
        if bad.any():
            geoms = geoms.copy()
            geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
        self.ids: np.ndarray = ids
        self.geoms: np.ndarray = geoms
        self.tree = shapely.STRtree(geoms)

    def __len__(self) -> int:
        return len(self.geoms)

    def query(self, candidate_bng: BngGeometry) -> np.ndarray:
        """Positions of the sectors whose outline intersects a BNG geometry."""
        return self.tree.query(candidate_bng, predicate="intersects")

    def overlaps_bng(self, candidate_bng: BngGeometry, *, min_m2: float = MIN_OVERLAP_M2
                     ) -> pd.DataFrame:
        """Like :meth:`overlaps` for a candidate already in EPSG:27700."""
        cand = (candidate_bng if candidate_bng.is_valid
                else BngGeometry(shapely.make_valid(candidate_bng)))
        hits = self.query(cand)
        return measure_overlaps(self.ids[hits], self.geoms[hits], cand, min_m2=min_m2)

    def overlaps(self, candidate: LonLatGeometry, *, min_m2: float = MIN_OVERLAP_M2
                 ) -> pd.DataFrame:
        """Sectors a lon/lat candidate overlaps: columns ``id``, ``overlap_m2``, ``share``.

        ``share`` is the overlapped fraction (0–1) of the candidate's own area.
        One row per overlapped sector, largest overlap first; touching edges and
        overlaps under ``min_m2`` are not reported.
        """
        return self.overlaps_bng(geoms_to_bng(candidate), min_m2=min_m2)


def measure_overlaps(ids: np.ndarray, geoms: np.ndarray, candidate_bng: BngGeometry, *,
                     min_m2: float = MIN_OVERLAP_M2) -> pd.DataFrame:
    """The overlap table (``id``, ``overlap_m2``, ``share``) of a valid BNG candidate with
    the BNG outlines ``geoms`` (already narrowed by a spatial index), largest first."""
    shapely.prepare(candidate_bng)
    area = shapely.area(shapely.intersection(geoms, candidate_bng))
    keep = area >= min_m2
    total = candidate_bng.area
    share = area[keep] / total if total > 0 else np.zeros(int(keep.sum()))
    out = pd.DataFrame(
        {"id": ids[keep], "overlap_m2": area[keep], "share": np.clip(share, 0, 1)}
    )
    return out.sort_values("overlap_m2", ascending=False, kind="stable").reset_index(drop=True)


def find_overlaps(candidate: LonLatGeometry, sectors: gpd.GeoDataFrame | SectorIndex
                  ) -> pd.DataFrame:
    """Which existing sectors a lon/lat candidate overlaps, and by how much.

    Returns a DataFrame with ``id``, ``overlap_m2`` (m², EPSG:27700) and
    ``share`` (0–1 of the candidate's area). ``sectors`` is a GeoDataFrame with
    an ``id`` column in any CRS, or a :class:`SectorIndex` built once per case
    (the fast path when checking many candidates).
    """
    index = sectors if isinstance(sectors, SectorIndex) else SectorIndex(sectors)
    return index.overlaps(candidate)


def hazard_overlaps(candidate: LonLatGeometry, hazards: gpd.GeoDataFrame) -> pd.DataFrame:
    """Which hazard / no-go areas a lon/lat candidate sector covers, and by how much.

    ``hazards``: the case's hazard areas as a GeoDataFrame (any CRS; other columns
    such as ``kind`` and ``note`` are carried through). Returns the covered rows,
    largest overlap first, with ``overlap_m2`` (m², EPSG:27700) and ``share`` (0–1 of
    the candidate's area) added. The same measure as :func:`find_overlaps`: teams
    must be told before a sector sends them onto unsafe ground.
    """
    extra = ["overlap_m2", "share"]
    if len(hazards) == 0:
        return pd.DataFrame(columns=[*hazards.columns.drop([hazards.geometry.name],
                                                            errors="ignore"), *extra])
    rows = gpd.GeoDataFrame({"id": np.arange(len(hazards))},
                            geometry=hazards.geometry.to_numpy(), crs=hazards.crs)
    found = find_overlaps(candidate, rows)
    picked = pd.DataFrame(hazards.drop(columns=hazards.geometry.name)).iloc[
        found["id"].to_numpy(dtype=int)].reset_index(drop=True)
    return picked.assign(overlap_m2=found["overlap_m2"].to_numpy(),
                         share=found["share"].to_numpy())


# --- case-level duplication figure -------------------------------------------------

#: Statuses whose ground counts as searched for the duplication figure.
SEARCHED_STATUSES: frozenset[str] = sector_statuses.with_progress("searched")
#: Statuses that mark a sector as deliberately due to be searched again.
RE_SEARCH_STATUSES: frozenset[str] = frozenset({"needs_re_search"})


def _norm_status(values: pd.Series) -> np.ndarray:
    return (
        values.astype("string").fillna("").str.strip().str.lower()
        .str.replace(r"[\s\-]+", "_", regex=True).to_numpy(dtype=object)
    )


@dataclass(frozen=True)
class Duplication:
    """Ground searched more than once in a case (m², EPSG:27700; shapes lon/lat).

    The figures are worked out at once; the shapes (:attr:`deliberate`,
    :attr:`accidental`) only when first asked for (a map), as they cost more.
    """

    searched_m2: float
    repeated_m2: float
    deliberate_m2: float
    accidental_m2: float
    repeated_bng: BngGeometry = field(repr=False, compare=False)
    deliberate_bng: BngGeometry = field(repr=False, compare=False)
    #: searched ground that family-reported ground no coordinator has accepted yet
    #: lies on (m²): shown apart, counted in none of the figures above until accepted
    unchecked_m2: float = 0.0

    @property
    def repeated_share(self) -> float:
        """Fraction (0–1) of the searched ground that was searched more than once."""
        return self.repeated_m2 / self.searched_m2 if self.searched_m2 > 0 else 0.0

    @cached_property
    def deliberate(self) -> LonLatGeometry:
        """Ground searched again on purpose (a re-search covers it), lon/lat."""
        return geoms_to_lonlat(self.deliberate_bng)

    @cached_property
    def accidental(self) -> LonLatGeometry:
        """Ground searched more than once with no re-search covering it, lon/lat."""
        if self.deliberate_bng.is_empty:
            return geoms_to_lonlat(self.repeated_bng)
        return geoms_to_lonlat(BngGeometry(shapely.difference(self.repeated_bng,
                                                              self.deliberate_bng)))


def _union(geoms: np.ndarray) -> BngGeometry:
    """Union of polygons (BNG): GEOS's disjoint-subset union where available (several
    times faster when most shapes meet only a few others, as sectors do)."""
    if shapely.geos_version >= (3, 12, 0):
        return BngGeometry(shapely.disjoint_subset_union_all(geoms))
    return BngGeometry(shapely.union_all(geoms))


def duplication(
    sectors: gpd.GeoDataFrame,
    *,
    status: str = "status",
    re_search: str = "re_search",
    searched_statuses: frozenset[str] = SEARCHED_STATUSES,
) -> Duplication:
    """How much ground of a case was searched more than once.

    ``sectors`` is a GeoDataFrame (any CRS) with a ``status`` column and,
    optionally, a boolean ``re_search`` column (saved with a re-search reason).
    Sectors whose status is in ``searched_statuses`` count as searched ground.
    Ground covered by two or more of them is *repeated*; it is *deliberate* when
    any sector covering it there is a re-search (flag set, or status "needs
    re-search"), otherwise *accidental*. Each figure is the area of a union, so
    ground searched three times counts once. Pairs are found with an STRtree; the
    union of all searched ground is worked out in a second thread meanwhile.
    """
    st = _norm_status(sectors[status]) if status in sectors.columns else np.full(len(sectors), "")
    flag = np.isin(st, list(RE_SEARCH_STATUSES))
    if re_search in sectors.columns:
        flag |= sectors[re_search].fillna(False).astype(bool).to_numpy()
    counted = np.isin(st, [s.replace(" ", "_").replace("-", "_") for s in searched_statuses])
    geoms = geoms_bng(sectors)[counted]
    flag = flag[counted]
    keep = ~shapely.is_missing(geoms) & ~shapely.is_empty(geoms)
    geoms, flag = geoms[keep], flag[keep]
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    empty = BngGeometry(shapely.from_wkt("POLYGON EMPTY"))
    if len(geoms) == 0:
        return Duplication(0.0, 0.0, 0.0, 0.0, empty, empty)
    with ThreadPoolExecutor(max_workers=1) as pool:
        all_ground = pool.submit(_union, geoms)
        tree = shapely.STRtree(geoms)
        left, right = tree.query(geoms, predicate="intersects")
        pair = left < right
        left, right = left[pair], right[pair]
        pieces = polygonal_part(shapely.intersection(geoms[left], geoms[right]))
        ok = ~shapely.is_missing(pieces)
        ok[ok] = shapely.area(pieces[ok]) >= MIN_OVERLAP_M2
        pieces, deliberate_pair = pieces[ok], (flag[left] | flag[right])[ok]
        repeated = _union(pieces) if len(pieces) else empty
        deliberate = _union(pieces[deliberate_pair]) if deliberate_pair.any() else empty
        searched = float(all_ground.result().area)
    rep_m2, del_m2 = float(repeated.area), float(deliberate.area)
    return Duplication(
        searched_m2=searched,
        repeated_m2=rep_m2,
        deliberate_m2=del_m2,
        accidental_m2=max(rep_m2 - del_m2, 0.0),
        repeated_bng=repeated,
        deliberate_bng=deliberate,
    )


def near_and_shared(targets: np.ndarray, others: np.ndarray, within_m: float,
                    *, min_m2: float = MIN_OVERLAP_M2) -> tuple[np.ndarray, np.ndarray]:
    """Which of ``others`` lie near the ``targets``, and which share ground with them.

    Both arrays hold lon/lat geometries. Returns two boolean masks over ``others``:
    within ``within_m`` metres of any target (touching and overlapping included), and
    overlapping the targets' union by at least ``min_m2`` m² (ground searched there
    counts as an earlier search of the targets' ground). Measured in EPSG:27700 on one
    ``STRtree``; a briefing pack's neighbours and earlier searches come from here.
    """
    near = np.zeros(len(others), dtype=bool)
    shared = np.zeros(len(others), dtype=bool)
    if len(targets) == 0 or len(others) == 0:
        return near, shared
    target_bng = geoms_to_bng(np.asarray(targets, dtype=object))
    other_bng = geoms_to_bng(np.asarray(others, dtype=object))
    tree = shapely.STRtree(other_bng)
    _, hits = tree.query(target_bng, predicate="dwithin", distance=float(within_m))
    near[np.unique(hits)] = True
    union = shapely.union_all(shapely.make_valid(target_bng))
    idx = np.flatnonzero(near)
    if len(idx):
        areas = shapely.area(shapely.intersection(shapely.make_valid(other_bng[idx]), union))
        shared[idx[areas >= min_m2]] = True
    return near, shared
