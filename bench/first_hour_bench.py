"""What a first hour costs a coordinator: page visits, clicks, fields and characters
from signed in to a team's link in hand, and the wall time — measured by listeners on
the page while real Chromium drives the First hour page like a person
(``tests/browser/test_case_live.py::test_first_hour_from_signed_in_to_a_link_that_opens``).

    .venv/bin/python bench/first_hour_bench.py

Runs that browser test once on a fresh SQLite store and prints the counts it wrote
(the test asserts the ceilings: 2 page visits, 15 clicks, 8 fields). Prints; asserts
nothing itself.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COUNTS = REPO / "test-artifacts" / "first-hour-counts.json"
TEST = "tests/browser/test_case_live.py::test_first_hour_from_signed_in_to_a_link_that_opens"


def main() -> int:
    COUNTS.unlink(missing_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL",
                                                             "WAYHOME_DATABASE_URL")}
    env["WAYHOME_TEST_BROWSER_RERUNS"] = "0"
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", TEST],
                         cwd=REPO, env=env, capture_output=True, text=True)
    if not COUNTS.exists():
        print(run.stdout[-2000:], run.stderr[-2000:])
        return 1
    counts = json.loads(COUNTS.read_text())
    print("First hour, signed in -> team link in hand (real Chromium, SQLite):")
    for key, label in (("visits", "page visits"), ("clicks", "clicks"),
                       ("fields", "fields typed in"), ("chars", "characters typed"),
                       ("seconds", "wall time incl. sign-in (s)")):
        print(f"  {label:<28} {counts[key]}")
    return 0 if run.returncode == 0 else run.returncode


if __name__ == "__main__":
    raise SystemExit(main())
