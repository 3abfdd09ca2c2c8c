"""Every ``wayhome …`` command in the README's shell examples works as written.

The fenced ``bash`` blocks of README.md are read in order and each line that starts
with ``wayhome`` is split as a shell would split it (``#`` comments dropped) and run
through the command's entry point against a scratch SQLite store named by
``WAYHOME_SQLITE_PATH``, with the working directory in the test's temporary folder.
Passwords come from standard input and ``WAYHOME_DEMO_PASSWORD``, as the README says.
An OpenStreetMap extract an example names (``london.osm.pbf``) is stood in for by
the small real extract in ``data/streets/``. Every command must exit 0. (The store is
SQLite whatever DATABASE_URL says: the README's examples name no database.)
"""

from __future__ import annotations

import io
import re
import shlex
import shutil
from pathlib import Path

import pytest

from vocab import settings
from wayhome.cli import main

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
EXTRACT = ROOT / "data" / "streets" / "southwark_lambeth.osm.pbf"
FENCE = re.compile(r"^```(\w*)\s*$")
PASSWORD = "readme example password"


def readme_commands(text: str) -> list[list[str]]:
    """The ``wayhome`` command lines of the README's fenced shell blocks, split."""
    commands: list[list[str]] = []
    lang: str | None = None
    for line in text.splitlines():
        fence = FENCE.match(line.strip())
        if fence:
            lang = fence.group(1) if lang is None else None
            continue
        if lang in ("bash", "sh", "shell", "console") and line.strip().startswith("wayhome "):
            commands.append(shlex.split(line.strip(), comments=True))
    return commands


COMMANDS = readme_commands(README.read_text(encoding="utf-8"))


def test_the_readme_has_examples_of_every_command():
    assert {c[1] for c in COMMANDS} >= {"db", "demo", "user", "team", "backup", "link",
                                          "streets"}


@pytest.mark.db
def test_every_readme_command_works_as_written(tmp_path, monkeypatch, capsys):
    path = tmp_path / "wayhome.sqlite3"
    for name, value in (("WAYHOME_SQLITE_PATH", str(path)),
                        ("WAYHOME_DEMO_PASSWORD", PASSWORD)):
        monkeypatch.setenv(name, value)
    for name in ("DATABASE_URL", "WAYHOME_DATABASE_URL", "WAYHOME_PUBLIC_URL",
                 "WAYHOME_STREETS_DIR"):
        monkeypatch.delenv(name, raising=False)
    # settings are read once, at import: give them what the environment now says
    monkeypatch.setattr(settings, "DATABASE_URL", "")
    monkeypatch.setattr(settings, "SQLITE_PATH", path)
    monkeypatch.setattr(settings, "DEMO_PASSWORD", PASSWORD)
    monkeypatch.setattr(settings, "PUBLIC_URL", "")
    monkeypatch.setattr(settings, "BACKUP_DIR", tmp_path / "backups")
    monkeypatch.setattr(settings, "STREETS_DIR", "")
    monkeypatch.chdir(tmp_path)
    for argv in COMMANDS:
        for arg in argv:
            if arg.endswith(".osm.pbf") and not (tmp_path / arg).exists():
                shutil.copyfile(EXTRACT, tmp_path / arg)
        out = io.StringIO()
        try:
            code = main(argv[1:], stdin=io.StringIO(PASSWORD + "\n"), out=out)
        except SystemExit as stop:  # argparse refused the line
            code = stop.code
        assert code == 0, (shlex.join(argv), out.getvalue(), capsys.readouterr().err)
    assert path.exists()
    assert any((tmp_path / "backups").iterdir())
