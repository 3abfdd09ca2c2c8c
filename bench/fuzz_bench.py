"""Hostile-file figures: every generated input through both guarded readers.

Prints, per category, how many inputs were generated and how the runs (one per
input and reader) ended: clean refusals, accepted, crashes, over the time budget,
over the memory ceiling; then the slowest runs and anything that was not a clean
answer. A loopback recorder counts requests the readers made (must be 0).

    python bench/fuzz_bench.py [--light]
"""

from __future__ import annotations

import argparse
import http.server
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.geo.fuzz.generator import hostile_inputs
from tests.geo.fuzz.harness import run_all, table
from vocab import settings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--light", action="store_true", help="leave out the multi-MB inputs")
    args = parser.parse_args()
    hits: list[str] = []

    class Recorder(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            hits.append(self.path)
            self.send_response(404)
            self.end_headers()

        def log_message(self, *a: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory() as tmp:
        sentinel = Path(tmp) / "secret.txt"
        sentinel.write_text("secret")
        t0 = time.monotonic()
        cases = hostile_inputs(f"http://127.0.0.1:{server.server_address[1]}", str(sentinel),
                               heavy=not args.light)
        gen = time.monotonic() - t0
        t0 = time.monotonic()
        runs = run_all(cases, seconds=settings.IMPORT_TIME_BUDGET_S,
                       memory_mb=settings.IMPORT_MEMORY_MB)
        took = time.monotonic() - t0
    server.shutdown()
    print(table(runs, Counter(c[0] for c in cases)))
    print(f"\n{len(cases)} inputs generated in {gen:.1f} s; {len(runs)} runs in {took:.1f} s "
          f"(limits {settings.IMPORT_TIME_BUDGET_S:g} s, {settings.IMPORT_MEMORY_MB} MB)")
    print(f"requests received by the loopback recorder: {len(hits)} {hits[:5]}")
    print("\nslowest runs:")
    for r in sorted(runs, key=lambda r: -r.seconds)[:8]:
        print(f"  {r.seconds:6.2f} s  {r.category:<12} {r.name:<26} {r.reader:<8} {r.outcome}")
    bad = [r for r in runs if r.outcome not in ("refused", "accepted")]
    if bad:
        print("\nnot a clean answer:")
        for r in bad:
            print(f"  {r.category:<12} {r.name:<26} {r.reader:<8} {r.outcome}: {r.detail[:120]}")


if __name__ == "__main__":
    main()
