"""Rebuild Wayhome's London places: jump destinations (transport hubs, town centres) and
the further places to check (bus stops, schools, libraries, parks).

Usage, from the repository root (the source folder is an argument; nothing in the
repository depends on where it lives)::

    python data/places/build.py --source PATH/TO/wave2-src

Outputs (committed, so users never need the sources), in ``data/places/``; one file
per licence, so the OpenStreetMap-derived file stays apart under the ODbL:

``transport_hubs.csv``  (ODbL 1.0, © OpenStreetMap contributors)
    Rail, Underground, Overground, DLR, Elizabeth line (then "TfL Rail") and tram
    interchange stations from an OpenStreetMap extract (2021-22), and **bus stations**
    from Geofabrik's Greater London extract (OpenStreetMap, 2019-09-19), which tags
    bus stations (``bus_station``) apart from the ~20,000 bus stops. Station nodes
    within :data:`MERGE_M` of each other are one hub (an interchange is tagged once
    per network); ``size`` = the number of networks the hub serves.
``town_centres.csv``  (OGL v3, GLA and the London planning authorities)
    The 234 GLA London town centre boundaries as a point inside each (``shapely``'s
    representative point); ``size`` = the town centre's area in hectares.

``bus_stops.csv`` (TfL open data terms), ``schools.csv``, ``libraries.csv`` and
``parks.csv`` (OGL v3)
    Places to check, never jump destinations: TfL bus stops (one row per stop area and
    name), open schools (London Schools Atlas 2016), libraries open in 2023 (Arts
    Council England, at the postcode centroid) and open parks (GiGL Spaces to Visit
    2024). These also have a ``postcode`` column (empty where the source has none).

Columns of all: ``kind`` (``station``, ``bus_station``, ``town_centre``), ``name``,
``easting``, ``northing`` (EPSG:27700, whole metres), ``size`` (the relative weight
of a place within its kind), ``detail`` (networks, or the town centre's
classification), ``source_id`` (OSM id, or the GLA ``layerreference``).

The build is deterministic: the same sources give byte-identical outputs. A failed
check stops the build with a message before anything is written.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

HERE = Path(__file__).resolve().parent
BNG = "EPSG:27700"

#: Station nodes closer than this (metres) are one hub: OpenStreetMap holds one
#: station node per network at an interchange (King's Cross St Pancras: three).
MERGE_M = 150.0
#: OSM ``network`` values kept and their short names (the Heathrow people mover
#: and the London Transport Museum's miniature railway are not hubs).
NETWORKS: dict[str, str] = {
    "London Underground": "tube",
    "National Rail": "rail",
    "London Overground": "overground",
    "Docklands Light Railway": "dlr",
    "TfL Rail": "elizabeth",
    "London Trams": "tram",
}
#: Bus-station points or areas closer than this (metres) are one bus station.
BUS_MERGE_M = 200.0
#: Bus-station names that are not passenger stations.
NOT_BUS_STATIONS = ("garage",)
#: Destinations beyond this distance (metres) from London's boroughs are dropped
#: (the sources are Greater London extracts; a case grid reaches 10 km beyond its centre).
LONDON_MARGIN_M = 10_000.0

COLUMNS = ["kind", "name", "easting", "northing", "size", "detail", "source_id"]
#: The places to check (not jump destinations) also carry a postcode where the source has one.
CHECK_COLUMNS = [*COLUMNS, "postcode"]

#: GiGL primary uses kept as parks (open ground a child may spend time in; playing
#: fields because some big parks, Burgess Park among them, are recorded as such);
#: cemeteries, allotments, rivers, canals, verges and civic squares are left out.
PARK_USES = ("Park", "Formal garden", "Recreation ground", "Play space", "Playing fields",
             "Common", "Public woodland", "Nature reserve", "Country park", "Village green",
             "Adventure playground", "Youth area")
#: GiGL access values kept: open to the public.
PARK_ACCESS = ("Free", "De facto", "Part free", "Part de facto")
#: Library types kept (archives, prison and mobile libraries are not places a child goes).
LIBRARY_TYPES = ("Static Library", "Static Local History Library")


class BuildError(Exception):
    pass


def check(ok: bool, message: str) -> None:
    if not ok:
        raise BuildError(message)


def find(src: Path, pattern: str) -> Path:
    hits = sorted(src.glob(pattern))
    check(len(hits) == 1, f"expected one {pattern} under {src}, found {len(hits)}")
    return hits[0]


def london(boundaries: Path) -> shapely.Geometry:
    boroughs = gpd.read_parquet(boundaries / "full" / "borough.parquet")
    return shapely.union_all(boroughs.to_crs(BNG).geometry.to_numpy())


def stations(src: Path) -> pd.DataFrame:
    """Rail/Tube/Overground/DLR/Elizabeth/tram stations, merged into hubs."""
    gdf = gpd.read_file(find(src, "stations_osm_*/osm_stations.shp")).to_crs(BNG)
    check(len(gdf) > 500, f"only {len(gdf)} station nodes in the source")
    nets = gdf["network"].fillna("").str.split(";")
    short = nets.map(lambda ns: sorted({NETWORKS[n.strip()] for n in ns if n.strip() in NETWORKS}))
    keep = short.map(len) > 0
    gdf, short = gdf[keep].reset_index(drop=True), short[keep].reset_index(drop=True)
    xy = shapely.get_coordinates(gdf.geometry.to_numpy())
    # single-linkage clusters of nodes within MERGE_M (union-find over the tree's pairs)
    tree = shapely.STRtree(gdf.geometry.to_numpy())
    a, b = tree.query(gdf.geometry.to_numpy(), predicate="dwithin", distance=MERGE_M)
    parent = np.arange(len(gdf))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    for i, j in zip(a.tolist(), b.tolist(), strict=True):
        ri, rj = root(i), root(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)
    groups = np.array([root(i) for i in range(len(gdf))])
    rows = []
    for g in np.unique(groups):
        members = np.flatnonzero(groups == g)
        names = sorted({str(gdf.loc[int(i), "name"]) for i in members})
        networks = sorted({n for i in members for n in short[int(i)]})
        x, y = xy[members].mean(axis=0)
        rows.append({
            "kind": "station", "name": " / ".join(names),
            "easting": round(float(x)), "northing": round(float(y)),
            "size": len(networks), "detail": ";".join(networks),
            "source_id": ";".join(str(int(gdf.loc[int(i), "osm_id"])) for i in members),
        })
    return pd.DataFrame(rows, columns=COLUMNS)


def bus_stations(src: Path) -> pd.DataFrame:
    """Bus stations (not stops): Geofabrik points and areas (area → a point inside)."""
    folder = find(src, "transport_osm_geofabrik_*")
    pts = gpd.read_file(folder / "gis_osm_transport_free_1.shp")
    areas = gpd.read_file(folder / "gis_osm_transport_a_free_1.shp")
    check((pts["fclass"] == "bus_stop").sum() > 10_000, "the source has no bus stops")
    parts = []
    for gdf in (pts, areas):
        g = gdf[gdf["fclass"] == "bus_station"].to_crs(BNG)
        geom = shapely.point_on_surface(g.geometry.to_numpy())
        parts.append(pd.DataFrame({"name": g["name"].to_numpy(), "osm_id": g["osm_id"].to_numpy(),
                                   "x": shapely.get_x(geom), "y": shapely.get_y(geom)}))
    df = pd.concat(parts, ignore_index=True)
    df = df[df["name"].notna()]  # an unnamed one cannot be checked or shown
    df = df[~df["name"].str.lower().str.contains("|".join(NOT_BUS_STATIONS))]
    # one row per station: a point and an area of the same station, two areas, or the
    # arrivals and departures sides of a coach station are one place
    df = df.sort_values(["name", "osm_id"], key=lambda s: s.astype(str))
    rows: list[dict[str, object]] = []
    for _, r in df.iterrows():
        if any(np.hypot(float(o["easting"]) - r["x"], float(o["northing"]) - r["y"]) < BUS_MERGE_M
               for o in rows):
            continue
        rows.append({"kind": "bus_station", "name": str(r["name"]),
                     "easting": round(float(r["x"])), "northing": round(float(r["y"])),
                     "size": 1, "detail": "bus", "source_id": str(int(r["osm_id"]))})
    check(len(rows) >= 20, f"only {len(rows)} bus stations")
    return pd.DataFrame(rows, columns=COLUMNS)


def town_centres(src: Path) -> pd.DataFrame:
    gdf = gpd.read_file(find(src, "town_centres_gla_*/town_centres.geojson"))
    gdf = gdf.set_crs("EPSG:4326", allow_override=True).to_crs(BNG)
    check(len(gdf) > 200, f"only {len(gdf)} town centres")
    geom = shapely.point_on_surface(shapely.make_valid(gdf.geometry.to_numpy()))
    ha = shapely.area(gdf.geometry.to_numpy()) / 10_000.0
    return pd.DataFrame({
        "kind": "town_centre", "name": gdf["sitename"].astype(str).str.strip().to_numpy(),
        "easting": np.round(shapely.get_x(geom)).astype(int),
        "northing": np.round(shapely.get_y(geom)).astype(int),
        "size": np.round(ha, 1), "detail": gdf["classification"].fillna("").to_numpy(),
        "source_id": gdf["layerreference"].astype(str).to_numpy(),
    }, columns=COLUMNS)


def number(s: pd.Series) -> pd.Series:
    """A column of numbers some spreadsheet wrote with thousands separators ("1,039.00")."""
    return pd.to_numeric(s.str.replace(",", "", regex=False))


def bus_stops(src: Path) -> pd.DataFrame:
    """TfL bus stops, the stops of one stop area with one name as one place.

    Virtual (hail-and-ride) points and rows without a position are dropped. The two
    sides of a road (or the several stands of an interchange) share a stop area and a
    name, so one check covers them; ``size`` = the number of stops merged.
    """
    df = pd.read_csv(find(src, "bus_stops_tfl_*/bus-stops.csv"), dtype=str,
                     keep_default_na=False)
    check(len(df) > 15_000, f"only {len(df)} bus stops in the source")
    x = pd.to_numeric(df["Location_Easting"], errors="coerce")
    y = pd.to_numeric(df["Location_Northing"], errors="coerce")
    keep = (df["Virtual_Bus_Stop"] != "1") & (x > 0) & (y > 0) & (df["Stop_Name"].str.strip() != "")
    df = df[keep].assign(x=x[keep], y=y[keep], name=df.loc[keep, "Stop_Name"].str.strip())
    df["sid"] = df["Naptan_Atco"].where(df["Naptan_Atco"] != "", "LBSL " + df["Stop_Code_LBSL"])
    g = df.sort_values("sid").groupby(["Stop_Area", "name"], sort=True)
    out = pd.DataFrame({
        "x": g["x"].mean(), "y": g["y"].mean(), "n": g.size(),
        "sid": g["sid"].agg(lambda s: ";".join(s)),
    }).reset_index()
    return pd.DataFrame({
        "kind": "bus_stop", "name": out["name"],
        "easting": np.round(out["x"]).astype(int), "northing": np.round(out["y"]).astype(int),
        "size": out["n"], "detail": "stop area " + out["Stop_Area"],
        "source_id": out["sid"], "postcode": "",
    }, columns=CHECK_COLUMNS)


def schools(src: Path) -> pd.DataFrame:
    """Open schools of the 2016 London Schools Atlas, one row per URN."""
    df = pd.read_csv(find(src, "schools_london_atlas_*/All School Locations 2016.csv"),
                     dtype=str, keep_default_na=False)
    check(len(df) > 3_000, f"only {len(df)} schools in the source")
    df = df[(df["STATUS"] != "Closed") & (df["SCHOOL_NAM"].str.strip() != "")]
    df = df.assign(oid=number(df["OBJECTID"])).sort_values("oid")
    df = df.drop_duplicates("URN", keep="first")
    return pd.DataFrame({
        "kind": "school", "name": df["SCHOOL_NAM"].str.strip(),
        "easting": number(df["EASTING"]).round().astype(int),
        "northing": number(df["NORTHING"]).round().astype(int),
        "size": 1, "detail": df["PHASE"].str.strip(), "source_id": "URN " + df["URN"],
        "postcode": df["POSTCODE"].str.strip(),
    }, columns=CHECK_COLUMNS)


def libraries(src: Path) -> pd.DataFrame:
    """Public libraries open in 2023, at their postcode's centroid (Code-Point Open)."""
    df = pd.read_csv(find(src, "libraries_england_*/london_libraries_2023_geocoded.csv"),
                     dtype=str, keep_default_na=False)
    check(len(df) > 300, f"only {len(df)} London libraries in the source")
    df = df[(df["open_2023"] == "True") & df["type"].isin(LIBRARY_TYPES)
            & (df["easting"] != "") & (df["name"].str.strip() != "")]
    return pd.DataFrame({
        "kind": "library", "name": df["name"].str.strip(),
        "easting": number(df["easting"]).round().astype(int),
        "northing": number(df["northing"]).round().astype(int),
        "size": 1, "detail": df["authority"].str.strip(),
        "source_id": ("UPRN " + df["uprn"]).where(df["uprn"] != "", ""),
        "postcode": df["postcode"].str.strip(),
    }, columns=CHECK_COLUMNS)


def parks(src: Path) -> pd.DataFrame:
    """Named, publicly open parks, gardens, commons and play spaces (GiGL centroids)."""
    df = pd.read_csv(find(src, "greenspace_gigl_*/GiGL_SpacesToVisit.csv"), dtype=str,
                     keep_default_na=False, encoding="cp1252")
    check(len(df) > 4_000, f"only {len(df)} green spaces in the source")
    df = df[df["PrimaryUse"].isin(PARK_USES) & df["Access"].isin(PARK_ACCESS)
            & (df["SiteName"].str.strip() != "")]
    return pd.DataFrame({
        "kind": "park", "name": df["SiteName"].str.strip(),
        "easting": number(df["Easting"]).round().astype(int),
        "northing": number(df["Northing"]).round().astype(int),
        "size": number(df["AreaHa"]).round(4), "detail": df["PrimaryUse"],
        "source_id": "GiGL " + df["SiteID"], "postcode": "",
    }, columns=CHECK_COLUMNS)


def near_london(df: pd.DataFrame, outline: shapely.Geometry) -> pd.DataFrame:
    pts = shapely.points(df["easting"].to_numpy(float), df["northing"].to_numpy(float))
    d = shapely.distance(outline, pts)
    return df[d <= LONDON_MARGIN_M]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--source", required=True, type=Path,
                    help="folder holding the wave-2 sources (see data/places/README.md)")
    ap.add_argument("--boundaries", type=Path, default=HERE.parent / "boundaries",
                    help="the built boundary layers (default: data/boundaries)")
    ap.add_argument("--out", type=Path, default=HERE, help="output folder (default: here)")
    args = ap.parse_args(argv)
    check(args.source.is_dir(), f"--source {args.source} is not a folder")
    outline = london(args.boundaries)
    hubs = pd.concat([stations(args.source), bus_stations(args.source)], ignore_index=True)
    centres = town_centres(args.source)
    out = {}
    for name, df in (("transport_hubs.csv", hubs), ("town_centres.csv", centres),
                     ("bus_stops.csv", bus_stops(args.source)),
                     ("schools.csv", schools(args.source)),
                     ("libraries.csv", libraries(args.source)),
                     ("parks.csv", parks(args.source))):
        df = near_london(df, outline).sort_values(["kind", "name", "easting", "northing"],
                                                  ignore_index=True)
        check(df[["easting", "northing"]].notna().all().all(), f"{name}: a place has no position")
        check(((df["size"] > 0)).all(), f"{name}: a place has no size")
        check(len(df) > 100, f"{name}: only {len(df)} places near London")
        out[name] = df
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name, df in out.items():
            df.to_csv(tmp / name, index=False, lineterminator="\n")
        args.out.mkdir(parents=True, exist_ok=True)
        for name, df in out.items():
            shutil.move(tmp / name, args.out / name)
            kinds = df["kind"].value_counts().sort_index()
            counts = ", ".join(f"{k} {v}" for k, v in kinds.items())
            print(f"{name:20s} {len(df):4d} places ({counts}), "
                  f"{(args.out / name).stat().st_size:,d} B")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BuildError as exc:
        print(f"build failed: {exc}", file=sys.stderr)
        sys.exit(1)
