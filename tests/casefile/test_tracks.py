"""Tracks and passes in the store on both backends: known answers for coverage and POD.

Sectors and tracks are built in British National Grid (exact squares and straight
lines) and handed to the store in lon/lat, as a phone's GPX file would be.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta

import pytest
import shapely
import sqlalchemy as sa
from shapely.geometry import LineString, box

from casefile import InvalidInput, PermissionDenied
from casefile import schema as t
from geo import pod
from geo.crs import geoms_to_bng, geoms_to_lonlat
from geo.detection import assurance_pods, cumulative_pod, sweep_width
from tests.casefile.conftest import count_rows, make_case
from vocab import settings

pytestmark = pytest.mark.db

X0, Y0 = 530_600.0, 178_600.0
SIDE = 400.0
W = sweep_width()  # the default ground type's width (planning assumption)


def square(x: float = 0.0, y: float = 0.0, d: float = SIDE):
    return geoms_to_lonlat(box(X0 + x, Y0 + y, X0 + x + d, Y0 + y + d))


def gpx(points_bng: list[tuple[float, float]], *, name: str = "walk", step_s: float = 2.0,
        start: datetime | None = None) -> bytes:
    """A GPX track through BNG points (interpolated every 2 m), one point per ``step_s``."""
    line = LineString(points_bng)
    n = max(2, int(line.length // 2) + 1)
    pts = [line.interpolate(i * line.length / (n - 1)) for i in range(n)]
    ll = geoms_to_lonlat(shapely.MultiPoint(pts))
    t0 = start or datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    rows = "".join(
        f'<trkpt lat="{p.y:.8f}" lon="{p.x:.8f}"><time>'
        f"{(t0 + timedelta(seconds=i * step_s)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time></trkpt>"
        for i, p in enumerate(ll.geoms)
    )
    return (
        '<?xml version="1.0"?><gpx version="1.1" creator="test" '
        'xmlns="http://www.topografix.com/GPX/1/1">'
        f"<trk><name>{name}</name><trkseg>{rows}</trkseg></trk></gpx>"
    ).encode()


def across(y: float, x0: float = 50.0, x1: float = 350.0, **kw) -> bytes:
    return gpx([(X0 + x0, Y0 + y), (X0 + x1, Y0 + y)], **kw)


@pytest.fixture
def sector(store, coord, case):
    return store.create_sector(coord, case.id, geometry=square(), name="Square")


def to_searched(store, actor, sector, team, **finish):
    s = store.set_sector_status(actor, sector.id, "ready", version=sector.version)
    s = store.assign_sector(actor, s.id, team.id, version=s.version)
    s = store.start_sector(actor, s.id, version=s.version)
    finish.setdefault("search_type", "thorough")
    finish.setdefault("assurance", "medium")
    return store.finish_sector(actor, s.id, version=s.version, **finish)


def expected_pod(track, sector_geom, searchers: int = 1) -> tuple[float, float, float]:
    """(L inside × searchers, A, POD) measured from the stored geometries in BNG."""
    sec = geoms_to_bng(sector_geom)
    inside = shapely.intersection(geoms_to_bng(track.geometry), sec).length * searchers
    return inside, sec.area, pod(W * inside / sec.area)


def test_known_track_in_known_square_gives_pod_of_w_l_over_a(store, coord, case, team, sector):
    up = store.upload_track(coord, case.id, ("walk.gpx", across(200)), team_id=team.id,
                            sector_id=sector.id)
    assert not up.duplicate and up.pass_ is not None
    p = up.pass_
    L, A, want = expected_pod(up.track, sector.geometry)
    assert L == pytest.approx(300.0, abs=0.5) and A == pytest.approx(SIDE**2, rel=1e-3)
    assert p.basis == "tracks" and p.state == "open"
    assert p.pod == pytest.approx(want, abs=1e-9)
    assert p.track_pod == pytest.approx(want, abs=1e-9)
    assert p.coverage == pytest.approx(W * L / A, rel=1e-9)
    assert p.pod == pytest.approx(1 - math.exp(-W * 300 / SIDE**2), abs=1e-3)
    # swept ground: a W-wide band with round ends, inside the square
    assert p.swept_m2 == pytest.approx(300 * W + math.pi * (W / 2) ** 2, rel=0.01)
    assert p.swept_share == pytest.approx(p.swept_m2 / A, rel=1e-9)
    # the stored track: lon/lat MultiLineString, times and who uploaded
    assert up.track.geometry.geom_type == "MultiLineString"
    assert up.track.start_at == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert up.track.team_id == team.id and up.track.sector_id == sector.id
    assert store.tracks(coord, case.id)[0].id == up.track.id


def test_two_tracks_on_one_line_double_effort_not_swept_ground(store, coord, case, team, sector):
    a = store.upload_track(coord, case.id, ("a.gpx", across(200)), team_id=team.id,
                           sector_id=sector.id)
    b = store.upload_track(coord, case.id, ("b.gpx", across(200, step_s=3.0)),
                           team_id=team.id, sector_id=sector.id)
    assert b.pass_.id == a.pass_.id and b.pass_.n_tracks == 2
    assert b.pass_.effort_m == pytest.approx(2 * a.pass_.effort_m, rel=1e-6)
    assert b.pass_.swept_m2 == pytest.approx(a.pass_.swept_m2, rel=1e-3)
    cov = store.sector_coverage(coord, case.id).set_index("sector_id").loc[sector.id]
    assert cov["swept_m2"] == pytest.approx(a.pass_.swept_m2, rel=1e-3)


def test_searchers_abreast_multiply_effort(store, coord, case, team, sector):
    up = store.upload_track(coord, case.id, ("line.gpx", across(200)), team_id=team.id,
                            sector_id=sector.id, searchers=4, spacing_m=10)
    L, _, want = expected_pod(up.track, sector.geometry, searchers=4)
    assert up.pass_.effort_m == pytest.approx(L, rel=1e-6)
    assert up.pass_.pod == pytest.approx(want, abs=1e-9)
    assert up.track.searchers == 4 and up.track.spacing_m == 10


def test_assurance_fallback_and_both_numbers_when_both_exist(store, coord, case, team, sector):
    done = to_searched(store, coord, sector, team, assurance="high")
    passes = store.passes(coord, case.id)
    assert len(passes) == 1
    p = passes[0]
    assert p.state == "closed" and p.basis == "assurance" and p.record_at == done.searched_at
    assert p.pod == pytest.approx(assurance_pods()["high"]) and p.track_pod is None
    # a track uploaded after the finish joins that pass: tracks now count, both shown
    up = store.upload_track(coord, case.id, ("late.gpx", across(100)), team_id=team.id,
                            sector_id=sector.id)
    assert up.pass_.id == p.id and up.pass_.basis == "tracks"
    assert up.pass_.assurance_pod == pytest.approx(assurance_pods()["high"])
    assert up.pass_.pod == pytest.approx(expected_pod(up.track, sector.geometry)[2], abs=1e-9)


def test_open_pass_is_closed_by_the_finish(store, coord, case, team, sector):
    s = store.set_sector_status(coord, sector.id, "ready", version=sector.version)
    s = store.assign_sector(coord, s.id, team.id, version=s.version)
    s = store.start_sector(coord, s.id, version=s.version)
    up = store.upload_track(coord, case.id, ("during.gpx", across(200)), team_id=team.id,
                            sector_id=sector.id)
    assert up.pass_.state == "open"
    store.finish_sector(coord, s.id, version=s.version, search_type="hasty", assurance="low")
    passes = store.passes(coord, case.id)
    assert [p.id for p in passes] == [up.pass_.id]
    assert passes[0].state == "closed" and passes[0].basis == "tracks"
    assert passes[0].assurance_pod == pytest.approx(assurance_pods()["low"])


def test_not_searched_ground_gets_pod_zero(store, coord, case, team, sector):
    # the west half was locked; the track runs across the whole square
    west = square(0, 0, SIDE).intersection(square(-SIDE / 2, 0, SIDE))
    to_searched(store, coord, sector, team, not_searched=west,
                not_searched_reason="locked", assurance="medium")
    p0 = store.passes(coord, case.id)[0]
    assert p0.searched_share == pytest.approx(0.5, rel=1e-3)
    assert p0.pod == pytest.approx(0.5 * assurance_pods()["medium"], rel=1e-3)
    up = store.upload_track(coord, case.id, ("across.gpx", across(200)), team_id=team.id,
                            sector_id=sector.id)
    p = up.pass_
    # effort counts only the half walked on searched ground: 150 m over A/2
    assert p.effort_m == pytest.approx(150.0, abs=0.5)
    assert p.coverage == pytest.approx(W * p.effort_m / (SIDE**2 / 2), rel=1e-3)
    assert p.pod == pytest.approx(pod(p.coverage) * 0.5, rel=1e-3)
    # and cell by cell: no POD in the locked half
    store.set_up_poa(coord, case.id, rings=[500, 1000, 2000, 4000])
    grid, _frame, pods = store.cell_pods(coord, case.id)
    centres = shapely.centroid(grid.cells.geometry.to_numpy())
    west_bng = geoms_to_bng(west)
    in_west = shapely.contains(shapely.buffer(west_bng, -1), centres)
    assert in_west.any() and (pods[:, in_west] == 0).all()
    assert pods.max() > 0


def test_cumulative_pod_over_passes(store, coord, case, team, sector):
    to_searched(store, coord, sector, team, assurance="medium")
    s = store.get_sector(coord, sector.id)
    s = store.set_sector_status(coord, s.id, "needs_re_search", version=s.version,
                                reason="dark")
    s = store.assign_sector(coord, s.id, team.id, version=s.version)
    s = store.start_sector(coord, s.id, version=s.version)
    store.finish_sector(coord, s.id, version=s.version, search_type="thorough",
                        assurance="low")
    passes = store.passes(coord, case.id)
    assert len(passes) == 2
    cov = store.sector_coverage(coord, case.id).set_index("sector_id").loc[sector.id]
    a = assurance_pods()
    assert cov["cumulative_pod"] == pytest.approx(1 - (1 - a["medium"]) * (1 - a["low"]))
    assert cov["cumulative_pod"] == pytest.approx(cumulative_pod([p.pod for p in passes]))
    line = store.coverage_timeline(coord, case.id)
    assert list(line["pass_id"]) == [p.id for p in passes]
    assert line["sector_cumulative_pod"].iloc[-1] == pytest.approx(cov["cumulative_pod"])
    # one team searched the one sector twice: its own figure is the sector's
    assert line["team_mean_pod"].iloc[-1] == pytest.approx(cov["cumulative_pod"])
    assert line["team_mean_pod"].iloc[0] == pytest.approx(passes[0].pod)


def test_upload_is_idempotent_by_file_hash(store, coord, case, team, sector):
    data = across(200)
    first = store.upload_track(coord, case.id, ("walk.gpx", data), team_id=team.id,
                               sector_id=sector.id)
    token = store.change_token(coord, case.id)
    audits = count_rows(store, t.audit_log)
    again = store.upload_track(coord, case.id, ("renamed.gpx", data), team_id=team.id,
                               sector_id=sector.id)
    assert again.duplicate and again.track.id == first.track.id
    assert count_rows(store, t.tracks) == 1 and count_rows(store, t.audit_log) == audits
    assert store.change_token(coord, case.id) == token


def test_upload_writes_audit_and_bumps_token_in_one_go(store, coord, case, team, sector):
    token = store.change_token(coord, case.id)
    up = store.upload_track(coord, case.id, ("walk.gpx", across(200)), team_id=team.id,
                            sector_id=sector.id)
    assert store.change_token(coord, case.id) > token
    log = store.audit_log(coord, case.id, entity="track")
    assert [(r.action, r.entity_id) for r in log] == [("upload", up.track.id)]
    assert log[0].actor_name == coord.display_name


def test_bad_file_saves_nothing(store, coord, case, team, sector):
    with pytest.raises(InvalidInput):
        store.upload_track(coord, case.id, ("broken.gpx", b"<gpx><trk><trkseg><trkpt lat="),
                           team_id=team.id, sector_id=sector.id)
    assert count_rows(store, t.tracks) == 0 and count_rows(store, t.passes) == 0


def test_privacy_trim_before_storing(store, coord, case, team, sector):
    up = store.upload_track(coord, case.id, ("home.gpx", across(200)), team_id=team.id,
                            sector_id=sector.id, trim_m=50)
    assert up.track.length_m == pytest.approx(200.0, abs=1.0)
    assert any("Trimmed" in n for n in up.notes)
    assert up.track.trim_m == 50


def test_team_lead_uploads_for_own_team_only(store, coord, case, team, sector):
    other = store.create_team(coord, case.id, name="Team Blue", org_type="volunteer_group")
    s = store.set_sector_status(coord, sector.id, "ready", version=sector.version)
    store.assign_sector(coord, s.id, team.id, version=s.version)
    lead = store.open_link(store.issue_link(coord, case.id, role="team_lead", label="Red lead",
                                            team_id=team.id).token).actor
    up = store.upload_track(lead, case.id, ("mine.gpx", across(200)), team_id=team.id,
                            sector_id=sector.id)
    assert up.track.created_by_name == lead.display_name
    with pytest.raises(PermissionDenied):
        store.upload_track(lead, case.id, ("theirs.gpx", across(100)), team_id=other.id)
    blue_sector = store.create_sector(coord, case.id, geometry=square(1000, 0), name="Far")
    with pytest.raises(PermissionDenied):
        store.upload_track(lead, case.id, ("far.gpx", across(100)), team_id=team.id,
                           sector_id=blue_sector.id)
    with pytest.raises(PermissionDenied):
        store.tracks(lead, case.id)  # reading every track is a coordinator's view


def test_other_case_is_out_of_reach(store, coord, case, team, sector):
    other_case = make_case(store, coord, reference="CASE-B")
    with pytest.raises(InvalidInput):
        store.upload_track(coord, other_case.id, ("x.gpx", across(200)), team_id=team.id)
    with pytest.raises(InvalidInput):
        store.upload_track(coord, case.id, ("x.gpx", across(200)), team_id=team.id,
                           sector_id=store.create_sector(coord, other_case.id,
                                                        geometry=square(2000, 0)).id)


def test_set_pass_sweep_recomputes(store, coord, case, team, sector):
    up = store.upload_track(coord, case.id, ("walk.gpx", across(200)), team_id=team.id,
                            sector_id=sector.id)
    p = store.set_pass_sweep(coord, up.pass_.id, version=up.pass_.version,
                             sweep_type="woodland_and_undergrowth", reason="brambles")
    L, A, _ = expected_pod(up.track, sector.geometry)
    assert p.sweep_width_m == sweep_width("woodland_and_undergrowth")
    assert p.pod == pytest.approx(pod(p.sweep_width_m * L / A), abs=1e-9)
    with store.engine.connect() as conn:
        n = conn.execute(sa.select(sa.func.count()).select_from(t.audit_log).where(
            t.audit_log.c.action == "sweep_width")).scalar_one()
    assert n == 1


def test_refresh_coverage_writes_only_when_something_changed(store, coord, case, team, sector):
    to_searched(store, coord, sector, team)
    token = store.change_token(coord, case.id)
    assert store.refresh_coverage(coord, case.id) == 0
    assert store.change_token(coord, case.id) == token


def test_timeline_places_open_passes_at_the_tracks_own_times(store, coord, case, team):
    a = store.create_sector(coord, case.id, geometry=square(0, 0), name="A")
    b = store.create_sector(coord, case.id, geometry=square(400, 0), name="B")
    c = store.create_sector(coord, case.id, geometry=square(800, 0), name="C")
    walked = datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    # A: being searched, the GPX has times (walked hours before it was uploaded)
    up_a = store.upload_track(coord, case.id, ("a.gpx", across(200, start=walked)),
                              team_id=team.id, sector_id=a.id)
    # B: being searched, a path without timestamps
    timeless = re.sub(rb"<time>[^<]*</time>", b"", across(100, x0=450, x1=750))
    up_b = store.upload_track(coord, case.id, ("b.gpx", timeless), team_id=team.id,
                              sector_id=b.id)
    assert up_b.track.start_at is None
    # C: finished (its pass is placed at the finish)
    to_searched(store, coord, c, team)
    line = store.coverage_timeline(coord, case.id).set_index("pass_id")
    row_a = line.loc[up_a.pass_.id]
    assert row_a["at_basis"] == "track times" and row_a["state"] == "open"
    assert row_a["at"] == up_a.track.end_at
    assert up_a.track.end_at == walked + timedelta(seconds=2 * (round(300 / 2)))
    row_b = line.loc[up_b.pass_.id]
    assert row_b["at_basis"] == "upload time"
    assert row_b["at"] == store.passes(coord, case.id, sector_id=b.id)[0].updated_at
    finished = store.passes(coord, case.id, sector_id=c.id)[0]
    assert line.loc[finished.id, "at_basis"] == "finished"
    assert line.loc[finished.id, "at"] == finished.ended_at
    # in time order: A was walked first (1 March), before either upload or finish
    assert line.index[0] == up_a.pass_.id


def test_upload_is_read_under_the_time_budget_and_saves_nothing_when_stopped(
        store, coord, case, team, sector, monkeypatch):
    """The store reads an upload in a child process with the import limits (geo.guarded)."""
    monkeypatch.setattr(settings, "IMPORT_TIME_BUDGET_S", 0.0)
    with pytest.raises(InvalidInput, match="time budget"):
        store.upload_track(coord, case.id, ("walk.gpx", across(200)), team_id=team.id,
                           sector_id=sector.id)
    assert count_rows(store, t.tracks) == 0 and count_rows(store, t.passes) == 0
