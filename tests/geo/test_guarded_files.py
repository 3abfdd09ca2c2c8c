"""Several sector files read together, in a child process under the import limits."""

from __future__ import annotations

import json
import logging

import pandas as pd
import pytest

from geo import guarded
from geo.errors import InputError
from geo.guarded import read_sector_files_guarded

NAME = "robin-smith-search.geojson"  # file names carry children's names: never logged


def square_geojson(x: float = -0.12, y: float = 51.50, d: float = 0.002) -> bytes:
    ring = [[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]
    return json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "A"},
         "geometry": {"type": "Polygon", "coordinates": [ring]}}]}).encode()


def test_files_chosen_together_are_read_in_a_child_with_their_notes():
    # Arrow-backed strings warmed in this process first, as the app does (postcodes):
    # the child still reads a small file well inside the default memory ceiling
    pd.Series(["a", "b"]).str.upper()
    gdf = read_sector_files_guarded([(NAME, square_geojson()),
                                     ("other.geojson", square_geojson(-0.10))])
    assert len(gdf) == 2 and set(gdf["source"]) == {NAME, "other.geojson"}
    assert isinstance(gdf.attrs.get("notes", []), list)


def test_limits_hold_for_the_set_and_answer_with_input_error():
    with pytest.raises(InputError, match="time budget"):
        read_sector_files_guarded([(NAME, square_geojson())], seconds=0.0)
    with pytest.raises(InputError, match="at least one file"):
        read_sector_files_guarded([])


def test_a_reader_bug_is_logged_by_extension_size_and_hash_never_name(monkeypatch, caplog):
    def broken(files):
        raise ZeroDivisionError("robin")

    monkeypatch.setattr(guarded, "read_sector_files", broken)
    data = square_geojson()
    with caplog.at_level(logging.ERROR, logger="geo.guarded"), \
            pytest.raises(InputError, match="fault"):
        read_sector_files_guarded([(NAME, data)])
    text = caplog.text
    assert "ZeroDivisionError" in text and ".geojson" in text and str(len(data)) in text
    assert "robin" not in text.lower()
