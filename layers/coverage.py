"""Where feet went and where to look next, as map layers.

* :func:`tracks_layer` — GPS tracks, one colour per team (Okabe–Ito, readable
  with the common colour-vision deficiencies) and a dash pattern per team, so
  colour is not the only cue; the tooltip names the team, file and searchers.
* :func:`swept_layer` — the ground within W/2 of any track.
* :func:`pod_sectors_layer` — sectors coloured by cumulative POD on a sequential
  colour-blind-safe palette (cividis-like, dark = little searched) **with** a
  permanent label "S3 · POD 63 %", so the number is always there.
* :func:`poa_layer` — the probability-of-area choropleth: grid cells merged by
  density class (a handful of shapes, not thousands of squares).
* :func:`gaps_layer` — ground not yet searched to the target POD.

Every string reaching the map goes through :func:`layers.escape.safe_text` or
:func:`layers.escape.escape_properties`; colours come from fixed tables.
Coordinates go out in lon/lat (EPSG:4326), rounded to 1e-6° (≈ 0.1 m). No
database, no Streamlit. Decision support, not a prediction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import folium
import numpy as np
import shapely
from shapely.geometry import mapping

from geo.crs import geoms_to_lonlat
from layers.escape import escape_properties, safe_text

__all__ = [
    "GAP_STYLE",
    "POA_COLOURS",
    "POD_COLOURS",
    "TEAM_COLOURS",
    "coverage_legend_html",
    "gaps_layer",
    "poa_classes",
    "poa_layer",
    "pod_colour",
    "pod_sectors_layer",
    "swept_layer",
    "tracks_layer",
]

#: Okabe–Ito, without yellow (poor on a light base map) — one per team, cycling.
TEAM_COLOURS: tuple[str, ...] = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#56B4E9",
                                 "#E69F00", "#000000")
TEAM_DASHES: tuple[str, ...] = ("", "8 4", "2 4", "12 4 2 4", "", "8 4", "2 4")
#: Sequential, colour-blind-safe (cividis stops): POD 0-20 %, …, 80-100 %.
POD_COLOURS: tuple[str, ...] = ("#00224E", "#414D6B", "#7C7B78", "#BCAF6F", "#FDE945")
POD_BINS: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8)
#: Sequential (viridis stops), low → high probability density.
POA_COLOURS: tuple[str, ...] = ("#FDE725", "#5EC962", "#21918C", "#3B528B", "#440154")
GAP_STYLE: dict[str, Any] = {"color": "#D55E00", "weight": 2, "dashArray": "6 4",
                             "fillColor": "#D55E00", "fillOpacity": 0.05}
_ROUND = 6


def _geojson(geom: Any) -> dict[str, Any] | None:
    return mapping(shapely.set_precision(geom, 10**-_ROUND)) if geom is not None else None


def _lonlat(geom_bng: Any) -> Any:
    return geoms_to_lonlat(geom_bng)


def pod_colour(pod: float) -> str:
    """The palette colour of a POD (0–1)."""
    p = 0.0 if pod is None or not np.isfinite(pod) else float(pod)
    return POD_COLOURS[int(np.searchsorted(POD_BINS, p, side="right"))]


def _pct(x: float | None) -> str:
    return "–" if x is None or not np.isfinite(x) else f"{100 * float(x):.0f} %"


def tracks_layer(tracks: Any, *, name: str = "GPS tracks") -> folium.FeatureGroup:
    """Tracks (a lon/lat GeoDataFrame with ``team``, ``team_id``, ``file_name``,
    ``searchers``) as lines, one colour and dash per team."""
    group = folium.FeatureGroup(name=name)
    if tracks is None or len(tracks) == 0:
        return group
    teams = sorted({int(t) for t in tracks["team_id"].dropna()})
    index = {t: i for i, t in enumerate(teams)}
    features = []
    for row in tracks.itertuples(index=False):
        tid = row.team_id
        known = tid is not None and tid == tid  # NaN for a track without a team
        k = index[int(tid)] % len(TEAM_COLOURS) if known else len(TEAM_COLOURS) - 1
        features.append({
            "type": "Feature",
            "geometry": _geojson(row.geometry),
            "properties": {
                **escape_properties({
                    "team": row.team or "no team",
                    "file": row.file_name,
                    "searchers": int(row.searchers),
                }),
                "colour": TEAM_COLOURS[k], "dash": TEAM_DASHES[k],
            },
        })
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=lambda f: {"color": f["properties"]["colour"], "weight": 4,
                                  "opacity": 0.9, "dashArray": f["properties"]["dash"] or None},
        tooltip=folium.GeoJsonTooltip(["team", "file", "searchers"],
                                      aliases=["Team", "File", "Searchers abreast"]),
    ).add_to(group)
    return group


def swept_layer(swept_ll: Any, *, name: str = "Swept ground") -> folium.FeatureGroup:
    """The swept ground (lon/lat polygon) as a light blue wash with a thin outline."""
    group = folium.FeatureGroup(name=name)
    if swept_ll is None or shapely.is_empty(swept_ll):
        return group
    folium.GeoJson(
        {"type": "Feature", "geometry": _geojson(swept_ll),
         "properties": {"what": safe_text("Swept ground (within W/2 of a track)")}},
        name=name,
        style_function=lambda f: {"color": "#56B4E9", "weight": 1, "fillColor": "#56B4E9",
                                  "fillOpacity": 0.35},
        tooltip=folium.GeoJsonTooltip(["what"], labels=False),
    ).add_to(group)
    return group


def pod_sectors_layer(sectors: Sequence[Any], coverage: Mapping[int, Mapping[str, Any]], *,
                      name: str = "POD per sector") -> folium.FeatureGroup:
    """Sectors coloured by cumulative POD, each labelled "S3 · POD 63 %".

    ``coverage`` maps sector id → ``{"cumulative_pod", "passes", "last_basis",
    "swept_share"}`` (``casefile.Store.sector_coverage`` rows).
    """
    group = folium.FeatureGroup(name=name)
    features: list[dict[str, Any]] = []
    for s in sectors:
        c = coverage.get(s.id, {})
        cum = float(c.get("cumulative_pod", 0.0) or 0.0)
        features.append({
            "type": "Feature",
            "geometry": _geojson(s.geometry),
            "properties": {
                **escape_properties({
                    "label": f"{s.code} · POD {_pct(cum)}",
                    "name": s.name,
                    "passes": int(c.get("passes", 0) or 0),
                    "basis": c.get("last_basis") or "not searched",
                    "swept": _pct(c.get("swept_share")),
                }),
                "colour": pod_colour(cum),
            },
        })
    if not features:
        return group
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=lambda f: {"color": "#000000", "weight": 1.5,
                                  "fillColor": f["properties"]["colour"], "fillOpacity": 0.55},
        tooltip=folium.GeoJsonTooltip(
            ["label", "name", "passes", "basis", "swept"],
            aliases=["Sector", "Name", "Passes", "POD from", "Swept ground"],
        ),
    ).add_to(group)
    for s, f in zip(sectors, features, strict=True):
        p = shapely.point_on_surface(s.geometry)
        folium.Marker(
            [p.y, p.x],
            icon=folium.DivIcon(
                html=f'<div class="wayhome-pod-label">{f["properties"]["label"]}</div>',
                class_name="wayhome-pod-label-icon", icon_size=(110, 18), icon_anchor=(55, 9)),
        ).add_to(group)
    return group


def poa_classes(poa: np.ndarray, cell_m2: float, n: int = len(POA_COLOURS)) -> np.ndarray:
    """Density class (0 = lowest … n-1) of each cell with POA > 0; -1 for cells with none.

    Classes split the *probability*, not the cell count: cells sorted by density,
    each class holds about 1/n of the POA. (Equal cell counts would put nearly all
    the ground near the last-known location into the top class, because the outer
    ring has most of the cells.) Cells of equal density share a class.
    """
    dens = np.asarray(poa, float) / cell_m2
    out = np.full(len(dens), -1)
    pos = dens > 0
    if not pos.any():
        return out
    d, p = dens[pos], np.asarray(poa, float)[pos]
    order = np.argsort(d, kind="stable")
    # share of the POA held by cells strictly less dense than each cell
    below = np.cumsum(p[order]) - p[order]
    first = np.searchsorted(d[order], d[order], side="left")  # ties: the first of equals
    share = (below[first] / p.sum())
    cls = np.minimum((share * n).astype(int), n - 1)
    out_pos = np.empty(len(d), dtype=int)
    out_pos[order] = cls
    out[pos] = out_pos
    return out


def poa_layer(grid: Any, *, name: str = "Probability of area") -> folium.FeatureGroup:
    """The POA grid (``geo.PoaGrid``, BNG cells) as a choropleth of density classes.

    Cells of a class are merged into one shape (they share edges exactly), so the
    page stays small whatever the grid size.
    """
    group = folium.FeatureGroup(name=name)
    cells = grid.cells
    if len(cells) == 0:
        return group
    poa = cells["poa"].to_numpy(float)
    cls = poa_classes(poa, grid.cell_m ** 2)
    geoms = cells.geometry.to_numpy()
    features = []
    for k in range(len(POA_COLOURS)):
        pick = cls == k
        if not pick.any():
            continue
        shape = _lonlat(shapely.coverage_union_all(geoms[pick]))
        lo = poa[pick].min() / (grid.cell_m ** 2) * 1e6
        hi = poa[pick].max() / (grid.cell_m ** 2) * 1e6
        features.append({
            "type": "Feature", "geometry": _geojson(shape),
            "properties": {
                **escape_properties({"band": f"{lo * 100:.2f}–{hi * 100:.2f} % per km²",
                                     "share": f"{poa[pick].sum() * 100:.1f} % of the POA"}),
                "colour": POA_COLOURS[k],
            },
        })
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=lambda f: {"color": f["properties"]["colour"], "weight": 0,
                                  "fillColor": f["properties"]["colour"], "fillOpacity": 0.45},
        tooltip=folium.GeoJsonTooltip(["band", "share"], aliases=["Density", "Holds"]),
    ).add_to(group)
    return group


def gaps_layer(gaps: Any, target_pod: float, *, name: str = "Gaps") -> folium.FeatureGroup:
    """Unsearched ground (``geo.unsearched_ground`` rows, BNG) as dashed vermilion shapes."""
    group = folium.FeatureGroup(name=name)
    if gaps is None or len(gaps) == 0:
        return group
    features = []
    for row in gaps.itertuples(index=False):
        features.append({
            "type": "Feature", "geometry": _geojson(_lonlat(row.geometry)),
            "properties": escape_properties({
                "gap": f"Gap {int(row.gap)}: {row.area_m2:,.0f} m² below POD {_pct(target_pod)}",
            }),
        })
    folium.GeoJson(
        {"type": "FeatureCollection", "features": features},
        name=name,
        style_function=lambda f: dict(GAP_STYLE),
        tooltip=folium.GeoJsonTooltip(["gap"], labels=False),
    ).add_to(group)
    return group


def coverage_legend_html(team_names: Sequence[str] = ()) -> str:
    """Legend rows: POD classes, POA classes, gaps and each team's track colour (escaped).

    ``team_names`` in the order of their team ids, as :func:`tracks_layer` colours them.
    """
    def box(colour: str) -> str:
        return (f'<svg width="18" height="12" aria-hidden="true"><rect width="18" height="12" '
                f'fill="{colour}"/></svg>')

    labels = ["0–20 %", "20–40 %", "40–60 %", "60–80 %", "80–100 %"]
    rows = [f"<li>{box(c)}<span>POD {t}</span></li>" for c, t in
            zip(POD_COLOURS, labels, strict=True)]
    rows.append(f"<li>{box(POA_COLOURS[0])}…{box(POA_COLOURS[-1])}"
                "<span>probability density, low → high</span></li>")
    rows.append(f'<li>{box(GAP_STYLE["color"])}<span>gap below the target POD</span></li>')
    for i, name in enumerate(team_names):
        c = TEAM_COLOURS[i % len(TEAM_COLOURS)]
        rows.append(f'<li><svg width="36" height="12" aria-hidden="true"><line x1="1" y1="6" '
                    f'x2="35" y2="6" stroke="{c}" stroke-width="4"/></svg>'
                    f"<span>{safe_text(name)}</span></li>")
    return ('<details open><summary>Coverage</summary>'
            f'<ul>{"".join(rows)}</ul>'
            '<div class="wayhome-credit">Decision support, not a prediction</div></details>')
