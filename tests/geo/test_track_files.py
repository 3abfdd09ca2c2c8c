"""GPS tracks from real-looking app exports: counts, times, cleaning and clear refusals."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import geo
from geo.crs import BNG
from geo.track_files import trim_track_ends

DATA = Path(__file__).parent / "data" / "tracks"


@pytest.mark.parametrize(
    ("name", "points", "kind"),
    [
        ("garmin_etrex_two_segments.gpx", [120, 80], "track"),
        ("strava_afternoon_walk.gpx", [150], "track"),
        ("osmand_two_tracks.gpx", [60, 40], "track"),
        ("phone_gpslogger_v10.gpx", [90], "track"),
        ("phone_gpslogger.csv", [90], "track"),
        ("gx_track.kml", [30], "track"),
        ("google_earth_line.kml", [25], "line"),
        ("planned_route.gpx", [25], "route"),
    ],
)
def test_app_exports_import_with_right_point_and_segment_counts(name, points, kind):
    gdf = geo.read_tracks(DATA / name)
    assert list(gdf["n_points"]) == points
    assert len(gdf) == len(points)
    assert gdf.crs.to_epsg() == 4326
    assert set(gdf.geom_type) == {"LineString"}
    assert (gdf["kind"] == kind).all()
    assert [len(g.coords) for g in gdf.geometry] == points
    # Hackney, not 0,0
    assert gdf.total_bounds[0] > -0.1 and gdf.total_bounds[2] < 0.0
    assert str(gdf["start"].dtype) == "datetime64[ns, UTC]"


def test_times_are_utc_and_exact():
    gdf = geo.read_tracks(DATA / "garmin_etrex_two_segments.gpx")
    assert gdf["start"].iloc[0] == pd.Timestamp("2024-05-01T14:00:00Z")
    # 120 points at 5 s
    assert gdf["end"].iloc[0] == pd.Timestamp("2024-05-01T14:09:55Z")
    assert gdf["start"].iloc[1] == pd.Timestamp("2024-05-01T14:20:00Z")
    assert gdf.attrs["notes"] == []


def test_osmand_waypoint_is_noted_not_read_as_a_track():
    gdf = geo.read_tracks(DATA / "osmand_two_tracks.gpx")
    assert any("1 waypoint" in n for n in gdf.attrs["notes"])


def test_file_without_times_is_a_path_with_a_warning():
    gdf = geo.read_tracks(DATA / "google_earth_line.kml")
    assert gdf["start"].isna().all() and gdf["end"].isna().all()
    assert any("no timestamps" in n for n in gdf.attrs["notes"])
    assert gdf["track"].iloc[0] == "Towpath walked"


def test_upload_tuple_equals_path():
    path = DATA / "strava_afternoon_walk.gpx"
    a = geo.read_tracks(path)
    b = geo.read_tracks(("walk.gpx", path.read_bytes()))
    assert a.geometry.iloc[0].equals(b.geometry.iloc[0])


def test_kmz_is_unzipped():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("doc.kml", (DATA / "gx_track.kml").read_bytes())
    gdf = geo.read_tracks(("walk.kmz", buf.getvalue()))
    assert list(gdf["n_points"]) == [30]


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("garbage.gpx", "not a GPX file"),
        ("truncated.gpx", "not a complete GPX file"),
        ("undefined_coordinates.csv", "cannot be read"),
        ("undefined_coordinates.gpx", "cannot be read"),
    ],
)
def test_bad_files_give_clear_errors(name, words):
    with pytest.raises(geo.InputError, match=words):
        geo.read_tracks(DATA / name)


def test_fit_file_is_refused_with_export_hint():
    with pytest.raises(geo.InputError, match="Export the activity as GPX"):
        geo.read_tracks(("walk.fit", b"\x0e\x10\x00\x00\x00\x00\x00\x00.FIT\x00\x00"))


def _csv(rows: list[str], header: str = "lat,lon,time") -> tuple[str, bytes]:
    return ("t.csv", (header + "\n" + "\n".join(rows) + "\n").encode())


def _line(n: int, lat0: float = 51.545, lon0: float = -0.055, step_s: int = 5,
          dlat: float = 0.00005) -> list[tuple[float, float, pd.Timestamp]]:
    t0 = pd.Timestamp("2024-05-01T14:00:00Z")
    return [(lat0 + i * dlat, lon0, t0 + pd.Timedelta(seconds=i * step_s)) for i in range(n)]


def test_few_unreadable_points_are_dropped_never_zero_zero():
    pts = _line(100)
    rows = [f"{a:.6f},{o:.6f},{t.isoformat()}" for a, o, t in pts]
    rows[10] = "undefined,undefined," + pts[10][2].isoformat()
    rows[20] = ",," + pts[20][2].isoformat()
    gdf = geo.read_tracks(_csv(rows))
    assert list(gdf["n_points"]) == [98]
    assert any("Dropped 2 point(s) whose coordinates could not be read" in n
               for n in gdf.attrs["notes"])
    xs, ys = np.asarray(gdf.geometry.iloc[0].coords).T
    assert (np.abs(xs) > 0.01).all() and (ys > 50).all()


def test_out_of_uk_duplicate_and_spike_points_are_dropped_and_counted():
    pts = _line(50)
    rows = [f"{a:.6f},{o:.6f},{t.isoformat()}" for a, o, t in pts]
    rows.insert(5, rows[4])                                        # exact duplicate
    rows[20] = f"0,0,{pts[19][2].isoformat()}"                      # null island
    rows[30] = f"{pts[29][0] + 0.01:.6f},{pts[29][1]:.6f},{pts[29][2].isoformat()}"  # 1.1 km spike
    gdf = geo.read_tracks(_csv(rows))
    notes = " | ".join(gdf.attrs["notes"])
    assert "Dropped 1 point(s) outside the UK" in notes
    assert "Dropped 1 duplicate point(s)" in notes
    assert "Dropped 1 point(s) that jumped impossibly far" in notes
    assert len(gdf) == 1
    assert gdf["n_points"].iloc[0] == 51 - 3


def test_impossible_jump_splits_the_track_and_is_not_counted():
    a = _line(30)
    t_last = a[-1][2]
    # 2 km further north 10 s later (200 m/s): a car, not a searcher; then walks on
    b = [(lat + 0.018, lon, t + pd.Timedelta(seconds=10) - a[0][2] + t_last)
         for lat, lon, t in _line(30)]
    rows = [f"{la:.6f},{lo:.6f},{t.isoformat()}" for la, lo, t in a + b]
    gdf = geo.read_tracks(_csv(rows))
    assert list(gdf["n_points"]) == [30, 30]
    assert any("Split the track at 1 impossible jump" in n for n in gdf.attrs["notes"])
    length = gdf.to_crs(BNG).length.sum()
    assert length < 2 * 29 * 6  # ~5.6 m steps; the 2 km jump is not in the lines


def test_running_at_walking_sampling_is_kept():
    # 3.5 m/s between 1 s fixes is within speed x time + GPS error: nothing dropped
    rows = [f"{la:.7f},{lo:.7f},{t.isoformat()}" for la, lo, t in
            _line(60, step_s=1, dlat=3.5 / 111_320)]
    gdf = geo.read_tracks(_csv(rows))
    assert list(gdf["n_points"]) == [60] and gdf.attrs["notes"] == []


def test_csv_header_spellings_epoch_times_and_segments():
    pts = _line(20)
    rows = [f"{i // 10},{o:.6f},{a:.6f},{int(t.timestamp() * 1000)}"
            for i, (a, o, t) in enumerate(pts)]
    gdf = geo.read_tracks(_csv(rows, header="Segment,Longitude,Latitude,Timestamp"))
    assert list(gdf["n_points"]) == [10, 10]
    assert gdf["start"].iloc[0] == pts[0][2]


def test_csv_local_times_are_uk_time_and_semicolon_decimal_commas():
    rows = [f"{a:.6f};{o:.6f};2024-05-01 15:{i:02d}:00".replace(".", ",")
            for i, (a, o, _) in enumerate(_line(10))]
    gdf = geo.read_tracks(_csv(rows, header="Lat;Lng;DateTime"))
    # 15:00 British Summer Time is 14:00 UTC
    assert gdf["start"].iloc[0] == pd.Timestamp("2024-05-01T14:00:00Z")
    assert any("UK local time" in n for n in gdf.attrs["notes"])


def test_swapped_coordinates_get_a_hint():
    rows = [f"{o:.6f},{a:.6f},{t.isoformat()}" for a, o, t in _line(10)]
    with pytest.raises(geo.InputError, match="swapped"):
        geo.read_tracks(_csv(rows))


def test_csv_without_coordinate_columns_is_refused():
    with pytest.raises(geo.InputError, match="latitude and a longitude column"):
        geo.read_tracks(("t.csv", b"name,when\nA,2024-05-01\n"))


def test_trim_track_ends_removes_the_stretch_near_home():
    gdf = geo.read_tracks(DATA / "strava_afternoon_walk.gpx")
    before = gdf.to_crs(BNG).length.iloc[0]
    out = trim_track_ends(gdf, 100)
    after = out.to_crs(BNG).length.iloc[0]
    assert after == pytest.approx(before - 200, abs=0.5)
    assert out.crs == gdf.crs
    first_before = gdf.to_crs(BNG).geometry.iloc[0].coords[0]
    from shapely import Point
    assert Point(out.to_crs(BNG).geometry.iloc[0].coords[0]).distance(Point(first_before)) > 50
    assert any("Trimmed 100 m" in n for n in out.attrs["notes"])
    assert len(trim_track_ends(gdf, before)) == 0
