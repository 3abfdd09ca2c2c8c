"""Case purge: every personal value gone from every table and column; searched ground kept."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
import sqlalchemy as sa
from shapely.geometry import Point, box

from casefile import Actor, InvalidInput, LinkGone, PermissionDenied, utcnow
from casefile import schema as t
from geo.crs import geoms_to_bng
from tests.casefile.conftest import make_case, sighting_kwargs
from tests.casefile.test_tracks import gpx

pytestmark = pytest.mark.db

PERSONAL = [
    "Robin",  # the child's name
    "Green school jumper",  # description for searchers
    "Likes the river path",  # case notes
    "Sam Passer-by",  # a sighting's reporter
    "07700 900123",  # a reporter's contact
    "Boy in green jumper by the river",  # a sighting's description
    "Alex Leadperson",  # team lead's name
    "Hughes family",  # a team's name (a family searching as a team names itself)
    "07700 900456",  # team contact
    "Broken glass by the lock",  # hazard note
    "Passing to City for the Barbican",  # handover reason
    "Insp. Ackname",  # who acknowledged
    "Mum's phone",  # link label
    "Saw him at the bus stop",  # tip text
    "07700 900777",  # tip contact
    "We walked the towpath",  # family search note
    "Check the sheds",  # sector notes
    "12 Acacia Avenue",  # a sector's name (an address)
    "Garden locked by owner",  # what was not searched, and why
    "Owner asked us twice",  # overlap kept reason
    "Robin towpath walk.gpx",  # a GPS track's file name carrying the child's name
    "Bobsy",  # the name the family page uses
    "DC Jo Liaison",  # the family liaison officer
    "07700 900888",  # the liaison officer's phone
    "Outside number 12 Acacia",  # the rendezvous point's words
    "Flat 3, 14 Redcross Way",  # a friend's address (an enquiry task)
    "flat 3 14 redcross way",  # the same, as the repeat check's key
    "Visit Jay at Redcross Way",  # a task's title
    "Ask for Jay's mum",  # a task's note
]
SQ = [box(-0.0995 + i * 0.002, 51.5135, -0.0988 + i * 0.002, 51.5140) for i in range(4)]


def _every_value(store) -> str:
    """Every value of every column of every table (geometry as WKB hex too)."""
    out: list[str] = []
    with store.engine.connect() as conn:
        # every table of the store (PostGIS's own catalogue of projections aside)
        names = [n for n in sa.inspect(conn).get_table_names() if n != "spatial_ref_sys"]
        assert {tb.name for tb in t.ALL_TABLES} <= set(names)
        for name in names:
            table = sa.Table(name, sa.MetaData(), autoload_with=conn)
            for row in conn.execute(sa.select(table)):
                out.append(json.dumps([x.hex() if isinstance(x, bytes) else str(x)
                                       for x in row]))
    return "\n".join(out)


def _fill(store, coord):
    case = make_case(store, coord)
    case = store.update_case(coord, case.id, version=case.version, family_name="Bobsy",
                             liaison_name="DC Jo Liaison", liaison_phone="07700 900888")
    store.add_sighting(coord, case.id, **sighting_kwargs())
    team = store.create_team(coord, case.id, name="Hughes family", org_type="family",
                             lead_name="Alex Leadperson", contact="07700 900456")
    store.add_hazard(coord, case.id, kind="unsafe", geometry=SQ[3],
                     note="Broken glass by the lock")
    store.set_rendezvous(coord, case.id, version=0, place="51.5137, -0.0990",
                         words="Outside number 12 Acacia")
    s1 = store.create_sector(coord, case.id, geometry=SQ[0], name="12 Acacia Avenue",
                             notes="Check the sheds")
    s1 = store.assign_sector(coord, s1.id, team.id, version=s1.version)
    lead = store.open_link(store.issue_link(coord, case.id, role="team_lead", label="Red lead",
                                            team_id=team.id).token).actor
    s1 = store.start_sector(lead, s1.id, version=s1.version)
    s1 = store.finish_sector(lead, s1.id, version=s1.version, search_type="thorough",
                             assurance="high", not_searched=SQ[0].buffer(-0.0002),
                             not_searched_reason="Garden locked by owner")
    s2 = store.create_sector(coord, case.id, geometry=SQ[0].buffer(0.0001), name="S-b",
                             on_overlap="keep", reason="Owner asked us twice")
    # a GPS track walked across S-a, and POA taking its pass in
    store.set_up_poa(coord, case.id, rings=[500, 1000, 2000, 4000])
    x0, y0, x1, y1 = geoms_to_bng(SQ[0]).bounds
    store.upload_track(coord, case.id, ("Robin towpath walk.gpx", gpx(
        [(x0 + 5, (y0 + y1) / 2), (x1 - 5, (y0 + y1) / 2)])), team_id=team.id,
        sector_id=s1.id, searchers=2)
    h = store.create_handover(coord, case.id, from_unit="E23000001",
                              to_unit="city of london police",
                              reason="Passing to City for the Barbican", sector_ids=[s1.id])
    partner = store.open_link(store.issue_link(coord, case.id, role="partner", label="City",
                                               unit="E23000001").token).actor
    store.acknowledge_handover(coord, h.id, by_name="Insp. Ackname", version=h.version)
    fam_link = store.issue_link(coord, case.id, role="family", label="Mum's phone")
    fam = store.open_link(fam_link.token).actor
    store.send_tip(fam, case.id, lat=51.5033, lon=-0.1196, seen_at=utcnow() - timedelta(hours=1),
                   text="Saw him at the bus stop", contact="07700 900777",
                   idempotency_key="tip-key-0001")
    store.report_family_search(fam, case.id, geometry=SQ[1],
                               searched_at=utcnow() - timedelta(hours=2),
                               note="We walked the towpath")
    store.add_task(coord, case.id, kind="visit_friend", title="Visit Jay at Redcross Way",
                   place_lonlat=Point(-0.0950, 51.5040), address="Flat 3, 14 Redcross Way",
                   postcode="SE1 9HR", note="Ask for Jay's mum", team_id=team.id)
    return case, fam_link, [s1, s2], partner


def test_purge_leaves_no_personal_value_anywhere_and_keeps_searched_ground(store, coord):
    case, fam_link, _, _ = _fill(store, coord)
    before = _every_value(store)
    for value in PERSONAL:
        assert value in before, f"test set-up did not store {value!r}"
    ground_before = {(s.code, s.status, s.geometry.wkb, s.searched_at)
                     for s in store.sectors(coord, case.id)}
    system = Actor.system("test")
    with pytest.raises(InvalidInput, match="closed"):
        store.purge_case(system, case.id, force=True)
    case = store.update_case(coord, case.id, version=case.version, status="closed")
    with pytest.raises(InvalidInput, match="not due"):
        store.purge_case(system, case.id)
    assert store.purges_due(system) == []
    with pytest.raises(PermissionDenied):  # coordinators cannot purge
        store.purge_case(coord, case.id, force=True)
    later = utcnow() + timedelta(days=31)
    assert store.purges_due(system, now=later) == [(case.id, case.reference)]
    result = store.purge_case(system, case.id, force=True)
    assert result.rows["access_links"] == 3 and result.rows["audit_detail"] > 0
    assert result.rows["tracks"] == 1
    after = _every_value(store)
    leaks = [v for v in PERSONAL if v in after]
    assert leaks == []
    # the searched-ground record stays
    ground_after = {(s.code, s.status, s.geometry.wkb, s.searched_at)
                    for s in store.sectors(coord, case.id)}
    assert ground_after == ground_before
    assert store.get_case(coord, case.id).home is None
    # the links are gone; the purge is audited with its actor
    with pytest.raises(LinkGone):
        store.open_link(fam_link.token)
    (rec,) = store.audit_log(coord, case.id, entity="case", limit=1)
    assert (rec.action, rec.actor_role, rec.actor_name) == ("purge", "system", "test")
    assert store.purges_due(system, now=later) == []


def test_purge_leaves_other_cases_alone(store, coord):
    case, *_ = _fill(store, coord)
    other = make_case(store, coord, "CASE-B", child_name="Robin", description="Green school jumper")
    store.update_case(coord, case.id, version=store.get_case(coord, case.id).version,
                      status="closed")
    store.purge_case(Actor.system("test"), case.id, force=True)
    kept = store.get_case(coord, other.id)
    assert (kept.child_name, kept.description) == ("Robin", "Green school jumper")
