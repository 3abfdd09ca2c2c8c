"""Build Wayhome's street fixtures from four real OpenStreetMap extracts of Southwark and Lambeth.

Usage, from the repository root (the source folder is an argument)::

    python data/streets/build.py --source PATH/TO/osm-london

The source folder holds the four OSM XML extracts described in ``README.md``
(``st_georges_cycletrack.osm``, ``borough_sausage_links.osm``, ``oneway_loop.osm``,
``cycleway_rejoin_road.osm``). Ways and relations crossing the edge of those
queries carry nodes far away, so each is cropped to its dense core (``CORES``):
every way with a node inside the core is kept whole, with its nodes; relations,
loose tagged nodes and the editing metadata (user names, changesets, timestamps)
are left out. Outputs, in ``data/streets/``:

``<name>.osm``
    one cropped OSM XML file per extract.
``southwark_lambeth.osm.pbf``
    all four merged (each object once), as PBF, so both formats are tested.

The build is deterministic (objects sorted by id, no timestamps). Data
© OpenStreetMap contributors, Open Database Licence (ODbL 1.0).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import osmium
from osmium.osm.mutable import Node, Way

HERE = Path(__file__).resolve().parent

#: Dense core of each extract, (west, south, east, north) in lon/lat: the 2nd-98th
#: percentile of its road and railway points, rounded outwards.
CORES: dict[str, tuple[float, float, float, float]] = {
    "st_georges_cycletrack": (-0.1090, 51.4935, -0.1000, 51.4982),
    "borough_sausage_links": (-0.0960, 51.4990, -0.0880, 51.5068),
    "oneway_loop": (-0.1046, 51.4984, -0.0994, 51.5042),
    "cycleway_rejoin_road": (-0.1183, 51.4883, -0.1112, 51.4911),
}
MERGED = "southwark_lambeth.osm.pbf"
GENERATOR = "Wayhome data/streets/build.py"

NodeRow = tuple[float, float, dict[str, str]]
WayRow = tuple[list[int], dict[str, str]]


def crop(path: Path, core: tuple[float, float, float, float]
         ) -> tuple[dict[int, NodeRow], dict[int, WayRow]]:
    """Ways with a node inside ``core`` (whole, with all their nodes)."""
    west, south, east, north = core
    nodes: dict[int, NodeRow] = {}
    ways: dict[int, WayRow] = {}
    for obj in osmium.FileProcessor(str(path), osmium.osm.NODE | osmium.osm.WAY):
        if obj.is_node() and obj.location.valid():
            nodes[obj.id] = (obj.location.lon, obj.location.lat, dict(obj.tags))
        elif obj.is_way():
            ways[obj.id] = ([n.ref for n in obj.nodes], dict(obj.tags))

    def inside(ref: int) -> bool:
        row = nodes.get(ref)
        return row is not None and west <= row[0] <= east and south <= row[1] <= north

    kept = {wid: w for wid, w in ways.items() if any(inside(r) for r in w[0])}
    refs = {r for refs, _ in kept.values() for r in refs}
    # a way node keeps its tags (traffic signals, crossings); other tagged nodes are dropped
    return {nid: nodes[nid] for nid in sorted(refs) if nid in nodes}, kept


def write(path: Path, nodes: dict[int, NodeRow], ways: dict[int, WayRow]) -> None:
    """Write nodes then ways, sorted by id, without editing metadata."""
    fmt = "pbf" if path.name.endswith(".pbf") else "osm"
    header = osmium.io.Header()
    header.set("generator", GENERATOR)
    target = osmium.io.File(str(path), f"{fmt},add_metadata=false")
    with osmium.SimpleWriter(target, header=header, overwrite=True) as writer:
        for nid in sorted(nodes):
            lon, lat, tags = nodes[nid]
            writer.add_node(Node(id=nid, location=(lon, lat), tags=tags))
        for wid in sorted(ways):
            refs, tags = ways[wid]
            writer.add_way(Way(id=wid, nodes=refs, tags=tags))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, required=True,
                        help="folder holding the four OSM XML extracts")
    parser.add_argument("--out", type=Path, default=HERE, help="where to write (default: here)")
    args = parser.parse_args(argv)
    all_nodes: dict[int, NodeRow] = {}
    all_ways: dict[int, WayRow] = {}
    with tempfile.TemporaryDirectory() as tmp:
        staged = Path(tmp)
        for name, core in CORES.items():
            src = args.source / f"{name}.osm"
            if not src.is_file():
                parser.error(f"missing source extract {src.name}")
            nodes, ways = crop(src, core)
            write(staged / f"{name}.osm", nodes, ways)
            all_nodes.update(nodes)
            all_ways.update(ways)
            print(f"{name}.osm: {len(nodes):,} nodes, {len(ways):,} ways")
        write(staged / MERGED, all_nodes, all_ways)
        print(f"{MERGED}: {len(all_nodes):,} nodes, {len(all_ways):,} ways")
        args.out.mkdir(parents=True, exist_ok=True)
        for made in sorted(staged.iterdir()):
            shutil.move(str(made), args.out / made.name)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
