"""Rebuild Wayhome's boundary layers (and the London postcode file) from the source data.

Usage, from the repository root (the source folders are arguments; nothing in the
repository depends on where they live)::

    python data/boundaries/build.py --source PATH/TO/boundaries-src \
        --postcodes PATH/TO/wave2-src

Outputs (all committed, so users never need the sources), in ``data/boundaries/``:

``full/<kind>.parquet``
    Full resolution, EPSG:27700 (metres), GeoParquet, one file per kind: ``borough``,
    ``bcu``, ``force``, ``ward``, ``neighbourhood``; coordinates rounded to 1 cm.
    This is what ``geo.locate`` and every metric computation use.
``display/<kind>.geojson``
    EPSG:4326 GeoJSON FeatureCollections for the map: simplified on shared arcs
    (Douglas-Peucker, so every drawn line stays within a known distance of full
    resolution, and neighbours keep identical edges: no gaps, no slivers),
    coordinates rounded to 5 decimal places (about 1 m). Boroughs, wards and
    neighbourhoods are polygons; BCUs and forces are outlines (MultiLineString).
``layers.json``
    Per layer: title, vintage, source, licence and attribution, counts, the display
    tolerance and the measured worst-case distance between display and full lines.

and ``data/postcodes/london_postcodes.csv.gz`` when ``--postcodes`` is given.

The build is deterministic: the same sources give byte-identical outputs.
Every check that fails stops the build with a message; nothing is half-written
(outputs are written to a temporary folder and moved into place at the end).
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import shutil
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import shapely

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
sys.path.insert(0, str(REPO))

from geo.crs import geoms_to_bng, geoms_to_lonlat  # noqa: E402

BNG = "EPSG:27700"

#: Douglas-Peucker tolerance (metres) for display lines. With rounding to 5 dp
#: (at most ~0.6 m) every drawn line stays within 4 m of full resolution.
DISPLAY_TOLERANCE_M = 3.0
#: Decimal places of display coordinates (1e-5 degree ~ 1.1 m north-south, 0.7 m east-west).
DISPLAY_DECIMALS = 5
#: Neighbouring forces are drawn only within this distance of London (metres).
FORCE_BAND_M = 12_000.0
#: Largest overlap allowed between two boroughs or two wards (m²) and largest gap
#: (m²) inside London: the GLA wards are an exact coverage, so both are ~0.
TILING_TOLERANCE_M2 = 1.0

#: data.police.uk file name -> (name the police use, short name, ONS PFA23NM)
FORCES: dict[str, tuple[str, str, str]] = {
    "metropolitan": ("Metropolitan Police Service", "Metropolitan Police", "Metropolitan Police"),
    "city-of-london": ("City of London Police", "City of London", "London, City of"),
    "thames-valley": ("Thames Valley Police", "Thames Valley", "Thames Valley"),
    "hertfordshire": ("Hertfordshire Constabulary", "Hertfordshire", "Hertfordshire"),
    "essex": ("Essex Police", "Essex", "Essex"),
    "kent": ("Kent Police", "Kent", "Kent"),
    "surrey": ("Surrey Police", "Surrey", "Surrey"),
}
LONDON_FORCES = ("metropolitan", "city-of-london")

#: Royal Park neighbourhood ids (data.police.uk) and the park each one covers.
ROYAL_PARKS = {
    "RPBU": "Bushy Park",
    "RPGR": "Greenwich Park",
    "RPHY": "Hyde Park and Kensington Gardens",
    "RPRE": "Regent's Park",
    "RPRI": "Richmond Park",
    "RPST": "St James's Park and Green Park",
}

ATTR_GLA = (
    "Contains National Statistics data © Crown copyright and database right {y}. "
    "Contains Ordnance Survey data © Crown copyright and database right {y}. "
    "Greater London Authority (London Datastore) boundary data, Open Government Licence v3.0."
)
ATTR_POLICE = (
    "Contains public sector information licensed under the Open Government Licence v3.0 "
    "(data.police.uk)."
)
ATTR_ONS_PFA = (
    "Source: Office for National Statistics licensed under the Open Government Licence v.3.0. "
    "Contains OS data © Crown copyright and database right 2023."
)

LAYER_META: dict[str, dict[str, str]] = {
    "borough": {
        "title": "London boroughs (32 boroughs and the City of London)",
        "vintage": "2018",
        "source": "GLA London-wards-2018 dissolved by borough code (tidal Thames included); "
        "names from GLA Statistical GIS Boundary Files for London "
        "(London_Borough_Excluding_MHW)",
        "licence": "Open Government Licence v3.0",
        "attribution": ATTR_GLA.format(y="2018"),
    },
    "bcu": {
        "title": "Metropolitan Police Basic Command Units (12)",
        "vintage": "2018-19",
        "source": "Boroughs dissolved with data/boundaries/bcu_boroughs.csv (BCU structure as "
        "rolled out 2018-19; some BCU names unconfirmed, see that file)",
        "licence": "Open Government Licence v3.0",
        "attribution": ATTR_GLA.format(y="2018"),
    },
    "force": {
        "title": "Police force areas (Met, City of London and five neighbours)",
        "vintage": "2019",
        "source": "data.police.uk force boundaries (force_kmls, about 2019, as GeoJSON); "
        "codes from ONS Police Force Areas (December 2023)",
        "licence": "Open Government Licence v3.0",
        "attribution": ATTR_POLICE + " " + ATTR_ONS_PFA,
    },
    "ward": {
        "title": "London wards, 2018 boundaries (before the May 2022 re-warding)",
        "vintage": "2018",
        "source": "GLA London-wards-2018 (Statistical GIS Boundary Files for London), "
        "657 wards including the 25 City of London wards",
        "licence": "Open Government Licence v3.0",
        "attribution": ATTR_GLA.format(y="2018"),
    },
    "neighbourhood": {
        "title": "Metropolitan Police neighbourhoods (Safer Neighbourhood areas), March 2019",
        "vintage": "2019-03",
        "source": "data.police.uk neighbourhood boundaries, Metropolitan Police, 2019-03; "
        "names from the 2018 wards where the id is a ward code",
        "licence": "Open Government Licence v3.0",
        "attribution": ATTR_POLICE + " " + ATTR_GLA.format(y="2018"),
    },
}


class BuildError(RuntimeError):
    """A source is missing or a check on the built layers failed."""


def check(ok: bool, message: str) -> None:
    if not ok:
        raise BuildError(message)


# ----------------------------------------------------------------------------- sources


def read_wards(src: Path) -> gpd.GeoDataFrame:
    """GLA 2018 wards (657, with the 25 City wards), EPSG:27700."""
    path = src / "gla_wards_2018__hou1020_CASA0006-coursework" / "London_Ward.tab"
    w = pyogrio.read_dataframe(path)
    w = w.set_crs(BNG, allow_override=True)
    check(len(w) == 657, f"expected 657 wards in {path.name}, found {len(w)}")
    check(w["GSS_CODE"].is_unique, "ward codes are not unique")
    w = w.rename(columns={"GSS_CODE": "code", "NAME": "name", "LAGSSCODE": "borough_code"})
    w = w[["code", "name", "borough_code", "geometry"]]
    w["geometry"] = shapely.make_valid(w.geometry.values)
    return w.sort_values("code", ignore_index=True)


def read_borough_names(src: Path) -> dict[str, str]:
    path = src / "gla_boroughs__boundaryissues_London.gov" / "London_Borough_Excluding_MHW.geojson"
    b = pyogrio.read_dataframe(path, read_geometry=False)
    names = dict(zip(b["GSS_CODE"], b["NAME"], strict=True))
    expected = {f"E090000{i:02d}" for i in range(1, 34)}
    check(set(names) == expected, "the GLA borough file does not hold exactly E09000001-33")
    return names


def read_bcu_mapping() -> pd.DataFrame:
    m = pd.read_csv(HERE / "bcu_boroughs.csv", dtype=str)
    check(m["borough_code"].is_unique, "a borough is in two BCUs in bcu_boroughs.csv")
    check(m["bcu_name"].nunique() == 12, "bcu_boroughs.csv must list 12 BCUs")
    check("E09000001" not in set(m["borough_code"]), "the City of London is in no Met BCU")
    check(len(m) == 32, "bcu_boroughs.csv must place all 32 boroughs")
    return m


def read_forces(src: Path) -> gpd.GeoDataFrame:
    folder = src / "datapoliceuk_forces__gdbelvin_crimemap"
    pfa_path = (src / "ons_pfa_dec2023_bsc__burysek_immigration_and_crime"
                / "PFA_DEC_2023_EW_BSC.shp")
    pfa = pyogrio.read_dataframe(pfa_path, read_geometry=False)
    ons_code = dict(zip(pfa["PFA23NM"], pfa["PFA23CD"], strict=True))
    rows = []
    for force_id, (name, short, ons_name) in FORCES.items():
        g = pyogrio.read_dataframe(folder / f"{force_id}.geojson")
        geom = shapely.force_2d(g.geometry.values)
        geom = shapely.make_valid(shapely.union_all(geom))
        check(ons_name in ons_code, f"{ons_name} is not in the ONS PFA23 file")
        rows.append(
            {"code": ons_code[ons_name], "name": name, "short_name": short,
             "force_id": force_id, "ons_name": ons_name, "geometry": geom}
        )
    f = gpd.GeoDataFrame(rows, geometry="geometry", crs="EPSG:4326").to_crs(BNG)
    f["geometry"] = shapely.make_valid(f.geometry.values)
    return f.sort_values("code", ignore_index=True)


def read_neighbourhoods(src: Path, wards: gpd.GeoDataFrame, boroughs: gpd.GeoDataFrame
                        ) -> gpd.GeoDataFrame:
    path = (src / "datapoliceuk_met_neighbourhoods_2019-03__gdbelvin_crimemap"
            / "met_neighbourhoods_2019-03_combined.geojson")
    n = pyogrio.read_dataframe(path).to_crs(BNG)
    check(len(n) == 658, f"expected 658 Met neighbourhoods, found {len(n)}")
    geom = shapely.make_valid(n.geometry.values)
    # keep the polygonal part of repaired geometries (make_valid can add lines)
    parts, idx = shapely.get_parts(geom, return_index=True)
    parts, sub = shapely.get_parts(parts, return_index=True)  # collections may hold multis
    idx = idx[sub]
    poly = shapely.get_type_id(parts) == 3
    keep = gpd.GeoDataFrame({"i": idx[poly]}, geometry=parts[poly], crs=BNG)
    n["geometry"] = keep.dissolve("i").geometry.reindex(range(len(n))).values
    n = n.rename(columns={"nbhd_id": "code"})
    ward_names = dict(zip(wards["code"], wards["name"], strict=True))
    names = []
    for code, kind in zip(n["code"], n["id_type"], strict=True):
        if code in ward_names:
            names.append(ward_names[code])
        elif kind == "royal_park" and code in ROYAL_PARKS:
            names.append(ROYAL_PARKS[code])
        elif kind == "heathrow":
            names.append(f"Heathrow Airport ({code})")
        else:
            names.append(f"Neighbourhood {code}")
    n["name"] = names
    # the borough holding most of each neighbourhood (its point on surface)
    pts = gpd.GeoSeries(shapely.point_on_surface(n.geometry.values), crs=BNG)
    hit = gpd.sjoin(gpd.GeoDataFrame(geometry=pts), boroughs[["code", "geometry"]],
                    predicate="within", how="left")
    hit = hit[~hit.index.duplicated()]
    n["borough_code"] = hit["code"].values
    n = n[["code", "name", "id_type", "borough_code", "geometry"]]
    return n.sort_values("code", ignore_index=True)


# ----------------------------------------------------------------------------- layers


def build_full_layers(src: Path) -> dict[str, gpd.GeoDataFrame]:
    wards = read_wards(src)
    names = read_borough_names(src)
    bcus = read_bcu_mapping()
    bcu_of = dict(zip(bcus["borough_code"], bcus["bcu_name"], strict=True))
    bcu_code_of = dict(zip(bcus["borough_code"], bcus["bcu_code"], strict=True))

    wards["borough"] = wards["borough_code"].map(names)
    check(wards["borough"].notna().all(), "a ward's borough code is not in the borough file")
    wards = wards[["code", "name", "borough_code", "borough", "geometry"]]

    b = wards.dissolve("borough_code", method="coverage").reset_index()
    b = gpd.GeoDataFrame(
        {"code": b["borough_code"], "name": b["borough_code"].map(names),
         "bcu": b["borough_code"].map(bcu_of), "bcu_code": b["borough_code"].map(bcu_code_of)},
        geometry=shapely.make_valid(b.geometry.values), crs=BNG,
    ).sort_values("code", ignore_index=True)

    withbcu = b[b["bcu"].notna()]
    c = withbcu.dissolve("bcu_code", method="coverage", aggfunc={"bcu": "first"}).reset_index()
    members = withbcu.groupby("bcu_code")["code"].agg(lambda s: ";".join(sorted(s)))
    bcu = gpd.GeoDataFrame(
        {"code": c["bcu_code"], "name": c["bcu"],
         "borough_codes": c["bcu_code"].map(members)},
        geometry=c.geometry.values, crs=BNG,
    ).sort_values("code", ignore_index=True)

    forces = read_forces(src)
    nb = read_neighbourhoods(src, wards, b)
    return {"borough": b, "bcu": bcu, "force": forces, "ward": wards, "neighbourhood": nb}


def check_full_layers(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, float]:
    """Counts, codes, validity, tiling. Returns figures recorded in layers.json."""
    b, bcu, w = layers["borough"], layers["bcu"], layers["ward"]
    check(sorted(b["code"]) == [f"E090000{i:02d}" for i in range(1, 34)], "borough codes")
    check(len(bcu) == 12, "12 BCUs")
    check(len(layers["force"]) == 7, "7 forces")
    for kind, gdf in layers.items():
        check(bool(gdf.is_valid.all()), f"invalid geometry in the {kind} layer")
        check(bool((~gdf.is_empty).all()), f"empty geometry in the {kind} layer")
        check(gdf["code"].is_unique, f"duplicate codes in the {kind} layer")
    figures: dict[str, float] = {}
    for kind, gdf in (("borough", b), ("ward", w)):
        g = gdf.geometry.values
        i, j = shapely.STRtree(g).query(g, predicate="intersects")
        pair = i < j
        overlap = shapely.area(shapely.intersection(g[i[pair]], g[j[pair]])).sum()
        check(overlap <= TILING_TOLERANCE_M2, f"{kind}s overlap by {overlap:.1f} m²")
        figures[f"{kind}_overlap_m2"] = round(float(overlap), 3)
    union = shapely.union_all(b.geometry.values)
    holes = sum(
        shapely.area(shapely.polygons(shapely.get_interior_ring(p, k)))
        for p in shapely.get_parts(union)
        for k in range(shapely.get_num_interior_rings(p))
    )
    check(holes <= TILING_TOLERANCE_M2, f"gaps of {holes:.1f} m² inside London")
    figures["london_area_km2"] = round(float(union.area) / 1e6, 3)
    figures["london_gap_m2"] = round(float(holes), 3)
    # each BCU is the union of its boroughs
    for code, members, geom in zip(bcu["code"], bcu["borough_codes"], bcu.geometry, strict=True):
        parts = b[b["code"].isin(members.split(";"))].union_all()
        diff = shapely.symmetric_difference(parts, geom).area
        check(diff <= TILING_TOLERANCE_M2, f"BCU {code} differs from its boroughs by {diff} m²")
    return figures


# ----------------------------------------------------------------------------- display


def simplify_shared_arcs(geoms: np.ndarray, tolerance: float) -> tuple[np.ndarray, np.ndarray]:
    """Simplify polygons on their shared arcs; return (faces, owner index per face).

    The boundaries are noded into arcs between junctions, each arc is simplified
    once with Douglas-Peucker (so the result stays within ``tolerance`` metres of
    the original line, and both neighbours get the very same simplified edge), and
    the faces are rebuilt with polygonize. A face lying in several inputs (an
    overlap in the source) goes to the smallest; faces in none (source gaps) are
    dropped. The result is an exact coverage: no gaps, no slivers between neighbours.
    """
    arcs = shapely.get_parts(shapely.line_merge(shapely.union_all(shapely.boundary(geoms))))
    simple = shapely.simplify(arcs, tolerance, preserve_topology=False)
    simple = simple[~shapely.is_empty(simple) & (shapely.length(simple) > 0)]
    # node again: two simplified arcs may now cross (rare, sub-tolerance)
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(shapely.union_all(simple))))
    faces = faces[shapely.area(faces) > 0]
    # owner: the input holding the face's interior point (the smallest if several:
    # a park drawn over a larger area keeps its own shape)
    fi, gi = shapely.STRtree(geoms).query(shapely.point_on_surface(faces), predicate="within")
    order = np.lexsort((gi, shapely.area(geoms)[gi], fi))
    fi, gi = fi[order], gi[order]
    first = np.r_[True, fi[1:] != fi[:-1]] if len(fi) else np.zeros(0, bool)
    return faces[fi[first]], gi[first]


def dissolve_faces(faces: np.ndarray, owners: np.ndarray, n: int, what: str) -> np.ndarray:
    frame = gpd.GeoDataFrame({"owner": owners}, geometry=faces, crs=BNG)
    out = frame.dissolve("owner", method="coverage").geometry
    missing = sorted(set(range(n)) - set(out.index))
    check(not missing, f"{len(missing)} {what} lost every face when simplified")
    return out.reindex(range(n)).values


def to_display(geoms: np.ndarray) -> np.ndarray:
    """BNG geometries -> lon/lat rounded to DISPLAY_DECIMALS, polygons oriented per RFC 7946."""
    ll = geoms_to_lonlat(geoms)
    ll = shapely.transform(ll, lambda xy: np.round(xy, DISPLAY_DECIMALS))
    return shapely.orient_polygons(ll)


def as_multiline(geoms: np.ndarray) -> np.ndarray:
    """Every outline as a MultiLineString, so map code sees one geometry type."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    return shapely.multilinestrings(parts, indices=idx)


def outline(geom: shapely.Geometry) -> shapely.Geometry:
    """Boundary of a polygon as merged lines."""
    return shapely.line_merge(shapely.boundary(geom))


def build_display(layers: dict[str, gpd.GeoDataFrame]) -> dict[str, gpd.GeoDataFrame]:
    """Display geometries, still in EPSG:27700 (rounded lon/lat is applied on writing)."""
    tol = DISPLAY_TOLERANCE_M
    w, b, bcu, forces, nb = (layers[k] for k in ("ward", "borough", "bcu", "force",
                                                  "neighbourhood"))
    faces, owner = simplify_shared_arcs(w.geometry.values, tol)
    ward_geom = dissolve_faces(faces, owner, len(w), "wards")
    wards = w.drop(columns="geometry").assign(geometry=ward_geom)
    wards = gpd.GeoDataFrame(wards, geometry="geometry", crs=BNG)

    bd = wards.dissolve("borough_code", method="coverage").geometry
    boroughs = b.drop(columns="geometry").assign(geometry=bd.reindex(b["code"]).values)
    boroughs = gpd.GeoDataFrame(boroughs, geometry="geometry", crs=BNG)

    by_bcu = boroughs[boroughs["bcu_code"].notna()].dissolve("bcu_code", method="coverage")
    bcu_lines = [outline(g) for g in by_bcu.geometry.reindex(bcu["code"]).values]
    bcus = gpd.GeoDataFrame(bcu.drop(columns="geometry"),
                            geometry=as_multiline(np.array(bcu_lines)), crs=BNG)

    london = shapely.union_all(forces[forces["force_id"].isin(LONDON_FORCES)].geometry.values)
    london = shapely.Polygon(shapely.get_exterior_ring(shapely.get_parts(london)[
        np.argmax(shapely.area(shapely.get_parts(london)))]))
    band = shapely.buffer(london, FORCE_BAND_M)
    lines = shapely.intersection(shapely.boundary(forces.geometry.values), band)
    lines = shapely.line_merge(shapely.simplify(lines, tol, preserve_topology=False))
    force = gpd.GeoDataFrame(forces.drop(columns="geometry"), geometry=as_multiline(lines),
                             crs=BNG)
    force["clipped"] = ~force["force_id"].isin(LONDON_FORCES)

    faces, owner = simplify_shared_arcs(nb.geometry.values, tol)
    nbd = gpd.GeoDataFrame(nb.drop(columns="geometry"),
                           geometry=dissolve_faces(faces, owner, len(nb), "neighbourhoods"),
                           crs=BNG)
    return {"borough": boroughs, "bcu": bcus, "force": force, "ward": wards,
            "neighbourhood": nbd}, band


def display_distance(full: np.ndarray, shown: np.ndarray, band: shapely.Geometry | None) -> float:
    """Worst distance (m) between display lines (after rounding) and full-resolution lines."""
    back = geoms_to_bng(to_display(shown))
    ref = shapely.boundary(full)
    if band is not None:
        ref = shapely.intersection(ref, band)
    drawn = back if shapely.get_type_id(back[0]) in (1, 5) else shapely.boundary(back)
    return float(np.max(shapely.hausdorff_distance(drawn, ref, densify=0.25)))


def feature_collection(gdf: gpd.GeoDataFrame, kind: str, props: list[str]) -> str:
    """Compact GeoJSON text, features in code order, one feature per line."""
    geoms = shapely.to_geojson(to_display(gdf.geometry.values))
    lines = []
    for row, geom in zip(gdf[props].to_dict("records"), geoms, strict=True):
        clean = {k: (None if isinstance(v, float) and np.isnan(v) else v) for k, v in row.items()}
        clean = {k: (bool(v) if isinstance(v, np.bool_) else v) for k, v in clean.items()}
        p = json.dumps({"kind": kind, **clean}, ensure_ascii=False, separators=(",", ":"))
        lines.append(f'{{"type":"Feature","properties":{p},"geometry":{geom}}}')
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(lines) + "\n]}\n"


DISPLAY_PROPS = {
    "borough": ["code", "name", "bcu", "bcu_code"],
    "bcu": ["code", "name", "borough_codes"],
    "force": ["code", "name", "short_name", "force_id", "clipped"],
    "ward": ["code", "name", "borough_code", "borough"],
    "neighbourhood": ["code", "name", "id_type", "borough_code"],
}


# ----------------------------------------------------------------------------- postcodes


def build_postcodes(folder: Path, out: Path) -> dict[str, object]:
    """London postcode centroids: postcode (one space), lat, lon (6 dp), borough_code."""
    found = sorted(folder.glob("london_postcodes_codepoint_open_*.csv.gz")) or sorted(
        folder.glob("*/london_postcodes_codepoint_open_*.csv.gz"))
    check(len(found) == 1, f"expected one london_postcodes_codepoint_open_*.csv.gz under {folder}")
    src = found[0]
    df = pd.read_csv(src, dtype=str, keep_default_na=False)
    pc = df["postcode"].str.upper().str.replace(r"\s+", "", regex=True)
    check(bool(pc.str.fullmatch(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}").all()),
          "a postcode in the source is not well formed")
    out_df = pd.DataFrame({
        "postcode": pc.str[:-3] + " " + pc.str[-3:],
        "lat": df["lat"].astype(float).map(lambda v: f"{v:.6f}".rstrip("0").rstrip(".")),
        "lon": df["lon"].astype(float).map(lambda v: f"{v:.6f}".rstrip("0").rstrip(".")),
        "borough_code": df["lad_code"],
    }).sort_values("postcode", ignore_index=True)
    check(out_df["postcode"].is_unique, "duplicate postcodes in the source")
    check(bool(out_df["borough_code"].str.fullmatch(r"E090000(0[1-9]|[12][0-9]|3[0-3])").all()),
          "a postcode has a borough code outside E09000001-33")
    text = out_df.to_csv(index=False, lineterminator="\n").encode()
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", compresslevel=9, mtime=0) as gz:
        gz.write(text)
    out.write_bytes(buf.getvalue())
    return {"rows": len(out_df), "source_file": src.name}


# ----------------------------------------------------------------------------- main


def compact_coords(geoms: np.ndarray) -> np.ndarray:
    """Round BNG coordinates to 1 cm (1 mm where 1 cm would break validity).

    The sources carry noise far below a centimetre; rounding makes the compressed
    files several times smaller without moving any line by more than 5 mm.
    """
    out = np.asarray(geoms, dtype=object).copy()
    todo = np.ones(len(out), bool)
    for decimals in (2, 3):
        cand = shapely.transform(out[todo], lambda xy, d=decimals: np.round(xy, d))
        ok = shapely.is_valid(cand)
        idx = np.flatnonzero(todo)
        out[idx[ok]] = cand[ok]
        todo[idx[ok]] = False
    return out


def write_full(layers: dict[str, gpd.GeoDataFrame], folder: Path) -> None:
    """One GeoParquet file per layer (zstd), EPSG:27700."""
    folder.mkdir(parents=True, exist_ok=True)
    for kind, gdf in layers.items():
        gdf.to_parquet(folder / f"{kind}.parquet", index=False, compression="zstd",
                       compression_level=22, write_covering_bbox=False)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", required=True, type=Path,
                    help="folder holding the boundary sources (see data/boundaries/README.md)")
    ap.add_argument("--postcodes", type=Path,
                    help="folder holding london_postcodes_codepoint_open_*.csv.gz (optional)")
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    args = ap.parse_args(argv)
    check(args.source.is_dir(), f"--source {args.source} is not a folder")

    layers = build_full_layers(args.source)
    for gdf in layers.values():
        gdf["geometry"] = compact_coords(gdf.geometry.values)
    figures = check_full_layers(layers)
    display, band = build_display(layers)

    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        (tmp / "display").mkdir()
        write_full(layers, tmp / "full")
        meta: dict[str, object] = {
            "about": "Written by data/boundaries/build.py; see README.md for sources.",
            "crs_full": BNG, "crs_display": "EPSG:4326",
            "full_decimals_m": "0.01 (0.001 where needed to stay valid)",
            "display_tolerance_m": DISPLAY_TOLERANCE_M,
            "display_decimals": DISPLAY_DECIMALS,
            "force_band_m": FORCE_BAND_M,
            "checks": figures,
            "layers": {},
        }
        for kind, gdf in display.items():
            text = feature_collection(gdf, kind, DISPLAY_PROPS[kind])
            (tmp / "display" / f"{kind}.geojson").write_text(text, encoding="utf-8")
            full = layers[kind]
            dist = display_distance(full.geometry.values, gdf.geometry.values,
                                    band if kind == "force" else None)
            # neighbourhood sources overlap and leave gaps; their display is made a clean
            # coverage, so its lines may move by more than the simplification itself
            check(kind == "neighbourhood" or dist <= 5.0,
                  f"display {kind} lines are {dist:.1f} m from full resolution")
            meta["layers"][kind] = {
                **LAYER_META[kind],
                "features": len(full),
                "full_vertices": int(shapely.get_num_coordinates(full.geometry.values).sum()),
                "full_file": f"full/{kind}.parquet",
                "display_file": f"display/{kind}.geojson",
                "display_geometry": "outline" if kind in ("bcu", "force") else "polygon",
                "display_vertices": int(shapely.get_num_coordinates(gdf.geometry.values).sum()),
                "display_bytes": len(text.encode()),
                "display_max_distance_m": round(dist, 2),
            }
            print(f"{kind:14s} {len(full):4d} features, display {len(text.encode()):>9,d} B, "
                  f"max distance {dist:.2f} m")
        (tmp / "layers.json").write_text(json.dumps(meta, indent=1, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
        if args.postcodes is not None:
            pc_out = REPO / "data" / "postcodes" if args.out == HERE else args.out
            pc_out.mkdir(parents=True, exist_ok=True)
            info = build_postcodes(args.postcodes, tmp / "london_postcodes.csv.gz")
            shutil.move(tmp / "london_postcodes.csv.gz", pc_out / "london_postcodes.csv.gz")
            print(f"postcodes      {info['rows']:,d} rows from {info['source_file']}")
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "display").mkdir(exist_ok=True)
        (args.out / "full").mkdir(exist_ok=True)
        for rel in ["layers.json", *[f"full/{k}.parquet" for k in layers],
                    *[f"display/{k}.geojson" for k in display]]:
            shutil.move(tmp / rel, args.out / rel)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        sys.exit(1)
