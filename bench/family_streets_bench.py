"""Print what street choice costs the family page, on the real Southwark fixture.

    .venv/bin/python bench/family_streets_bench.py [--extract PATH] [--repeat N]

A fresh SQLite store in a temporary folder, one case with a searched area round Borough High
Street shared with the family, the streets loaded, a family link. Timed (median of N):

* ``family_view`` (now naming areas by their streets) with and without streets loaded;
* ``family_streets`` (the list the family picks from) and how many names it holds;
* ``family_street_ground`` for one and for five chosen streets, and the area it gives;
* ``family_map_streets`` (the lines of the plain map without tiles) and its GeoJSON size.

With ``--extract PATH`` (e.g. a Greater London ``.osm.pbf`` the user downloaded) that
file's streets are loaded instead. Figures only; the machine may be shared.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import shapely

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import geo  # noqa: E402
from casefile import Actor, open_store, utcnow  # noqa: E402
from geo.crs import geoms_to_bng  # noqa: E402

FIXTURE = REPO / "data" / "streets" / "southwark_lambeth.osm.pbf"
BOROUGH = shapely.box(-0.0948, 51.5001, -0.0919, 51.5025)


def _time(call: Callable[[], object], repeat: int) -> tuple[float, object]:
    out: object = None
    runs = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = call()
        runs.append(time.perf_counter() - t0)
    return statistics.median(runs) * 1000, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--extract", type=Path, default=FIXTURE)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = open_store(f"sqlite:///{folder}/bench.sqlite3")
        system = Actor.system("bench")
        user = store.create_user(system, f"bench.{uuid.uuid4().hex[:6]}", "Bench", "x" * 16)
        coord = Actor(user_id=user.id, display_name=user.display_name, role="coordinator")
        case = store.create_case(coord, reference=f"BENCH-{uuid.uuid4().hex[:6]}",
                                 child_name="Bench", age=12, risk="high",
                                 reported_missing_at=utcnow() - timedelta(hours=3),
                                 ipp=(51.5013, -0.0933))
        team = store.create_team(coord, case.id, name="Green", org_type="met_bcu")
        s = store.create_sector(coord, case.id, geometry=BOROUGH, name="Borough")
        s = store.assign_sector(coord, s.id, team.id, version=s.version)
        s = store.start_sector(coord, s.id, version=s.version)
        store.finish_sector(coord, s.id, version=s.version, search_type="hasty",
                            assurance="medium")
        fam = store.open_link(store.issue_link(coord, case.id, role="family",
                                               label="Bench").token).actor
        n = args.repeat
        ms, _ = _time(lambda: store.family_view(fam, case.id), n)
        print(f"family_view, no streets loaded: {ms:.1f} ms")
        lines = geo.read_streets(args.extract)
        store.load_streets(system, lines, source=args.extract.name)
        print(f"streets loaded: {len(lines):,} lines from {args.extract.name}")
        ms, view = _time(lambda: store.family_view(fam, case.id), n)
        print(f"family_view, streets loaded: {ms:.1f} ms "
              f"(area named {view.areas[0].place!r})")  # type: ignore[attr-defined]
        ms, streets = _time(lambda: store.family_streets(fam, case.id), n)
        names = streets.names  # type: ignore[attr-defined]
        print(f"family_streets: {ms:.1f} ms, {len(names)} street names to choose from")
        for chosen in (names[:1], names[:5]):
            ms, (ground, _) = _time(  # type: ignore[misc]
                lambda c=chosen: store.family_street_ground(fam, case.id, list(c)), n)
            print(f"family_street_ground, {len(chosen)} street(s): {ms:.1f} ms, "
                  f"{geoms_to_bng(ground).area / 1e4:.2f} ha")
        ms, drawn = _time(lambda: store.family_map_streets(fam, case.id), n)
        size = len(drawn.to_json())  # type: ignore[attr-defined]
        print(f"family_map_streets: {ms:.1f} ms, {len(drawn):,} lines, "  # type: ignore[arg-type]
              f"{size / 1024:.0f} KiB as GeoJSON")
        store.close()


if __name__ == "__main__":
    main()
