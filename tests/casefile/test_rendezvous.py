"""The rendezvous point: typed as the First hour page takes a place, set by
coordinators (audited, version-checked), read by team leads, never by a family or a
partner unit, carried on every briefing pack."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from casefile import InvalidInput, PermissionDenied
from casefile import schema as t
from geo.coordinates import parse_grid_reference
from tests.casefile.conftest import make_case, make_coordinator

pytestmark = pytest.mark.db


def test_a_coordinator_sets_moves_and_clears_it_and_each_change_is_audited(store):
    coord = make_coordinator(store)
    case = make_case(store, coord)
    assert store.rendezvous(coord, case.id) is None
    rv = store.set_rendezvous(coord, case.id, version=0, place="51.5010, -0.1270",
                              words="  Car park, north gate ")
    assert (round(rv.lat, 4), round(rv.lon, 4)) == (51.501, -0.127)
    assert rv.words == "Car park, north gate" and rv.text() == "Car park, north gate"
    assert rv.version == 1 and rv.updated_by_name == "Coordinator A"
    # an OS grid reference, read as the First hour page reads it
    moved = store.set_rendezvous(coord, case.id, version=1, place="TQ 30000 79800", words="")
    lat, lon = parse_grid_reference("TQ 30000 79800")
    assert (moved.lat, moved.lon) == pytest.approx((lat, lon))
    assert moved.text() == moved.place and "TQ" in moved.place and moved.version == 2
    # the same again is no change (no new version, no audit record)
    assert store.set_rendezvous(coord, case.id, version=2, place="TQ 30000 79800").version == 2
    with pytest.raises(InvalidInput, match="someone else"):
        store.set_rendezvous(coord, case.id, version=1, place="TQ 30000 79800", words="x")
    store.clear_rendezvous(coord, case.id, version=2)
    assert store.rendezvous(coord, case.id) is None
    with store.engine.connect() as conn:
        rows = conn.execute(sa.select(t.audit_log).where(t.audit_log.c.entity == "rendezvous")
                            .order_by(t.audit_log.c.id)).all()
        details = conn.execute(sa.select(t.audit_detail)).all()
    assert [r.action for r in rows] == ["set", "set", "clear"]
    # the words can name a home: they go to the purgeable side table, not the log
    assert "Car park" not in str([r.changes for r in rows])
    assert "Car park" in str([tuple(d) for d in details])


@pytest.mark.parametrize("place", ["", "not a place", "51.5, 120.0", "ZZ99 9ZZ"])
def test_an_unreadable_place_is_refused_with_the_readers_words(store, place):
    coord = make_coordinator(store)
    case = make_case(store, coord)
    with pytest.raises(InvalidInput):
        store.set_rendezvous(coord, case.id, version=0, place=place, words="Gate")
    assert store.rendezvous(coord, case.id) is None


def test_team_leads_read_it_families_and_partners_never(store):
    coord = make_coordinator(store)
    case = make_case(store, coord)
    team = store.create_team(coord, case.id, name="Team Red", org_type="met_bcu", size=4)
    store.set_rendezvous(coord, case.id, version=0, place="SW1A 2AA", words="Main gate")
    lead = store.open_link(store.issue_link(coord, case.id, role="team_lead", label="Red",
                                            team_id=team.id).token).actor
    assert store.rendezvous(lead, case.id).words == "Main gate"
    with pytest.raises(PermissionDenied):
        store.set_rendezvous(lead, case.id, version=1, place="SW1A 2AA", words="Elsewhere")
    with pytest.raises(PermissionDenied):
        store.clear_rendezvous(lead, case.id, version=1)
    for role, unit in (("family", None), ("partner", "city of london police")):
        other = store.open_link(store.issue_link(coord, case.id, role=role, label=role,
                                                 unit=unit).token).actor
        with pytest.raises(PermissionDenied):
            store.rendezvous(other, case.id)
    # another case's coordinator neither
    other_coord = make_coordinator(store, "coord.b", "Coordinator B")
    with pytest.raises(PermissionDenied):
        store.rendezvous(other_coord, case.id)


def test_every_briefing_pack_carries_it(store):
    coord = make_coordinator(store)
    case = make_case(store, coord)
    team = store.create_team(coord, case.id, name="Team Red", org_type="met_bcu", size=4)
    assert store.print_briefing(coord, case.id, team_name=team.name).rendezvous is None
    store.set_rendezvous(coord, case.id, version=0, place="51.5010, -0.1270", words="Gate")
    b = store.print_briefing(coord, case.id, team_name=team.name)
    assert b.rendezvous is not None and b.rendezvous.words == "Gate"
