"""A case's motion model in the store, on both backends: the choice (audited, by the role
table), the POA replayed under it, sightings that bound the child and stale ground."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
import shapely

from casefile import InvalidInput, PermissionDenied, utcnow
from casefile import schema as t
from casefile.motion import ReplayEvent, replay_grid
from geo.crs import lonlat_to_bng
from geo.motion import MotionModel
from geo.probability import PoaGrid
from tests.casefile.conftest import sighting_kwargs
from tests.casefile.test_tracks import across, square, to_searched

pytestmark = pytest.mark.db

RINGS = [500, 1000, 2000, 4000]


@pytest.fixture
def sector(store, coord, case):
    return store.create_sector(coord, case.id, geometry=square(), name="Square")


def _searched(store, coord, case, team, sector):
    store.set_up_poa(coord, case.id, rings=RINGS)
    store.upload_track(coord, case.id, ("walk.gpx", across(150)), team_id=team.id,
                       sector_id=sector.id)
    to_searched(store, coord, store.get_sector(coord, sector.id), team, assurance="high")


def _moving(store, coord, case, **params):
    now = store.motion_model(coord, case.id)
    return store.set_motion_model(coord, case.id, version=now.version, model="moving",
                                  **params)


def test_stationary_is_the_default_and_the_figures_stay_as_stored(
        store, coord, case, team, sector):
    _searched(store, coord, case, team, sector)
    assert store.motion_model(coord, case.id).model == "stationary"
    before = store.poa_state(coord, case.id)
    table = store.sector_poa_table(coord, case.id)
    assert before.motion_model == "stationary" and before.as_of is None
    # moving and back again: the stationary figures are exactly today's
    m = _moving(store, coord, case)
    assert store.poa_state(coord, case.id).current != before.current
    store.set_motion_model(coord, case.id, version=m.version, model="stationary")
    after = store.poa_state(coord, case.id)
    assert after.current == before.current and after.rest_of_world == before.rest_of_world
    assert store.sector_poa_table(coord, case.id).equals(table)
    assert store.stale_ground(coord, case.id, as_of=utcnow() + timedelta(hours=8)) == []


def test_stationary_replay_of_the_stored_passes_equals_todays_figures(
        store, coord, case, team, sector):
    _searched(store, coord, case, team, sector)
    state = store.poa_state(coord, case.id)
    # the replay in time order, with a stationary motion step, over the stored pass PODs
    grid, frame, pods = store.cell_pods(coord, case.id)
    ids = grid.cells["cell"].tolist()
    events = [ReplayEvent(at.to_pydatetime(), 0, int(pid),
                     pods={c: float(d) for c, d in zip(ids, row, strict=True) if d > 0},
                     sector_id=int(sid))
              for pid, sid, at, row in zip(frame["pass_id"], frame["sector_id"],
                                           frame["ended_at"], pods, strict=True)]
    x, y = lonlat_to_bng(state.origin_lon, state.origin_lat)
    replayed, _, _ = replay_grid(state.grid("prior"), state.created_at, events,
                                 MotionModel.stationary(), utcnow() + timedelta(hours=5),
                                 (float(x), float(y)))
    assert replayed.to_dict() == pytest.approx(state.current, abs=1e-12)


def test_a_verified_sighting_recentres_the_poa(store, coord, case):
    store.set_up_poa(coord, case.id, rings=RINGS)  # around the IPP (Charing Cross)
    _moving(store, coord, case)
    far = dict(lat=51.5155, lon=-0.0922)  # about 2.5 km east
    seen = utcnow() - timedelta(minutes=30)

    def near(share_of: PoaGrid, lat: float, lon: float, r: float = 600.0) -> float:
        x, y = lonlat_to_bng(lon, lat)
        disc = shapely.Point(float(x), float(y)).buffer(r)
        inside = shapely.intersects(share_of.cells.geometry.to_numpy(), disc)
        return float(share_of.cells["poa"].to_numpy()[inside].sum())

    before = store.poa_state(coord, case.id).grid()
    assert near(before, **far) < 0.05
    store.add_sighting(coord, case.id, **sighting_kwargs(
        **far, seen_at=seen, status="unverified", confidence="high"))
    mixed = store.poa_state(coord, case.id).grid()
    assert 0.1 < near(mixed, **far) < 0.5  # weight added, the rest not erased
    s = store.sightings(coord, case.id)[-1]
    store.update_sighting(coord, s.id, version=s.version, status="verified")
    state = store.poa_state(coord, case.id)
    assert state.motion_model == "moving" and state.as_of is not None
    grid = state.grid()
    assert near(grid, **far, r=1500.0) > 0.9  # the child was there half an hour ago
    assert near(grid, case.ipp_lat, case.ipp_lon, r=300.0) < 0.01
    assert math.fsum(grid.to_dict().values()) == pytest.approx(1.0, abs=1e-9)
    # a back-dated verified sighting earlier than that one does not undo it
    store.add_sighting(coord, case.id, **sighting_kwargs(
        lat=case.ipp_lat, lon=case.ipp_lon, seen_at=seen - timedelta(hours=1),
        status="verified"))
    assert near(store.poa_state(coord, case.id).grid(), **far, r=1500.0) > 0.9


def test_a_sector_searched_hours_ago_flags_search_again_only_when_moving(
        store, coord, case, team, sector):
    _searched(store, coord, case, team, sector)
    later = utcnow() + timedelta(hours=6)
    assert store.stale_ground(coord, case.id, as_of=later) == []  # stationary: never
    _moving(store, coord, case)
    just_after = store.stale_ground(coord, case.id, as_of=utcnow())
    assert [s.code for s in just_after] == [sector.code]
    assert not just_after[0].search_again and just_after[0].stale < 0.5
    stale = store.stale_ground(coord, case.id, as_of=later)
    assert [s.code for s in stale] == [sector.code]
    s = stale[0]
    assert s.search_again and s.removed > 0 and s.stale >= 0.5 and s.hours > 5.5
    assert "searched at" in s.why and "flowed back" in s.why
    # a suggestion only: the sector is still "searched"
    assert store.get_sector(coord, sector.id).status == "searched"
    # the replay is kept per case, counter and step: asking again computes nothing
    assert store.poa_replay(coord, case.id, as_of=later) is store.poa_replay(
        coord, case.id, as_of=later)


def test_the_model_choice_is_audited_version_checked_and_for_poa_writers(
        store, coord, case, team):
    m = store.set_motion_model(coord, case.id, version=0, model="moving",
                               walk_speed_ms=1.0, to_home=False, reason="older child, on foot")
    assert m.moving and m.params["walk_speed_ms"] == 1.0 and m.version == 1
    rows = store.audit_log(coord, case.id)
    rec = [r for r in rows if r.entity == "motion_model"]
    assert len(rec) == 1 and rec[0].action == "update"
    changes = rec[0].changes
    assert changes["model"] == ["stationary", "moving"] or changes["model"] == (
        "stationary", "moving")
    assert "walk_speed_ms" in changes and "leak_per_hour" in changes
    with pytest.raises(InvalidInput, match="someone else"):
        store.set_motion_model(coord, case.id, version=0, model="stationary")
    with pytest.raises(InvalidInput):
        store.set_motion_model(coord, case.id, version=1, model="drifting")
    with pytest.raises(InvalidInput):
        store.set_motion_model(coord, case.id, version=1, model="moving", walk_speed_ms=9)
    with store.engine.connect() as conn:
        assert conn.execute(t.case_motion.select()).one().version == 1
    link = store.issue_link(coord, case.id, role="team_lead", label="lead", team_id=team.id)
    lead = store.open_link(link.token).actor
    with pytest.raises(PermissionDenied):
        store.set_motion_model(lead, case.id, version=1, model="stationary")


def test_the_family_view_says_when_the_model_is_moving(store, coord, case):
    link = store.issue_link(coord, case.id, role="family", label="Dad")
    family = store.open_link(link.token).actor
    view = store.family_view(family, case.id)
    assert not view.moving and view.motion_notes[0].startswith("No movement")
    _moving(store, coord, case)
    view = store.family_view(family, case.id)
    assert view.moving and any("m/s" in x for x in view.motion_notes)
