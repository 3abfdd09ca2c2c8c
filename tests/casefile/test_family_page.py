"""The family page's store side: the child's name and the liaison contact the
coordinator sets, place names and times of searched ground, the warning before a
repeat search, and minutes kept as typed."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from shapely.geometry import box

import geo
from casefile import Actor, FamilyStreets, InvalidInput, PermissionDenied, utcnow
from tests.casefile.conftest import make_case

pytestmark = pytest.mark.db

STREETS = Path(__file__).resolve().parents[2] / "data" / "streets"
SQ = [box(-0.0995 + i * 0.002, 51.5135, -0.0988 + i * 0.002, 51.5140) for i in range(3)]


def _family(store, coord, case):
    return store.open_link(store.issue_link(coord, case.id, role="family", label="Mum").token).actor


def test_family_sees_the_name_and_liaison_the_coordinator_chose(store, coord, case):
    fam = _family(store, coord, case)
    view = store.family_view(fam, case.id)
    # by default: the first name, and no liaison yet
    assert (view.child_name, view.liaison_name, view.liaison_phone) == ("Robin", "", "")
    case = store.update_case(coord, case.id, version=case.version, child_name="Robin Hughes")
    assert store.family_view(fam, case.id).child_name == "Robin"
    case = store.update_case(coord, case.id, version=case.version, family_name="Bobsy",
                             liaison_name="DC Jo Liaison", liaison_phone="07700 900888")
    assert (case.family_name, case.liaison_name, case.liaison_phone) == (
        "Bobsy", "DC Jo Liaison", "07700 900888")
    view = store.family_view(fam, case.id)
    assert (view.child_name, view.liaison_name, view.liaison_phone) == (
        "Bobsy", "DC Jo Liaison", "07700 900888")
    # personal: the audit log names the fields but keeps the values on the purgeable side
    (rec,) = store.audit_log(coord, case.id, entity="case", limit=1)
    assert {"family_name", "liaison_name", "liaison_phone"} <= set(rec.fields)
    assert not {"family_name", "liaison_name", "liaison_phone"} & set(rec.changes)
    assert rec.personal["liaison_phone"] == [None, "07700 900888"] or \
        tuple(rec.personal["liaison_phone"]) == ("", "07700 900888")
    # only coordinators set them
    with pytest.raises(PermissionDenied):
        store.update_case(fam, case.id, version=case.version, liaison_name="Someone")


def _searched(store, coord, case, geometry, name="A"):
    team = store.create_team(coord, case.id, name=f"Team {name}", org_type="met_bcu")
    s = store.create_sector(coord, case.id, geometry=geometry, name=name)
    s = store.assign_sector(coord, s.id, team.id, version=s.version)
    s = store.start_sector(coord, s.id, version=s.version)
    return store.finish_sector(coord, s.id, version=s.version, search_type="hasty",
                               assurance="medium")


def test_searched_areas_are_named_by_ward_borough_and_postcode(store, coord, case):
    fam = _family(store, coord, case)
    done = _searched(store, coord, case, SQ[0])
    (area,) = store.family_view(fam, case.id).areas
    assert area.code == done.code and area.last_searched_at == done.searched_at
    # the City of London ward it lies in, and the nearest postcode (not the sector code)
    assert "City of London" in area.place and " · near EC" in area.place, area.place
    assert done.code not in area.place


def test_family_is_warned_before_reporting_ground_police_searched(store, coord, case,
                                                                   monkeypatch):
    fam = _family(store, coord, case)
    done = _searched(store, coord, case, SQ[0])
    inside = SQ[0].buffer(-0.0001)
    warn = store.family_search_check(fam, case.id, geometry=inside)
    assert warn is not None and warn.codes == (done.code,) and warn.share > 0.99
    assert warn.searched_at == done.searched_at
    # ground mostly elsewhere: no warning
    assert store.family_search_check(fam, case.id, geometry=SQ[2]) is None
    # only ground the family may see: an unshared sector does not count...
    hidden = _searched(store, coord, case, SQ[1], name="B")
    store.update_sector(coord, hidden.id, version=hidden.version, share_with_family=False)
    assert store.family_search_check(fam, case.id, geometry=SQ[1].buffer(-0.0001)) is None
    # ...nor ground searched within the family delay (it shows as it stood before)
    sharing = store.sharing(coord, case.id)
    store.set_sharing(coord, case.id, version=sharing.version, family_delay_min=60)
    assert store.family_search_check(fam, case.id, geometry=inside) is None
    store.set_sharing(coord, case.id, version=store.sharing(coord, case.id).version,
                      family_delay_min=0)
    # nor another family's unchecked report
    store.report_family_search(fam, case.id, geometry=SQ[2],
                               searched_at=utcnow() - timedelta(minutes=5))
    assert store.family_search_check(fam, case.id, geometry=SQ[2].buffer(-0.0001)) is None
    # the family still chooses: the report saves and goes to triage
    report = store.report_family_search(fam, case.id, geometry=inside,
                                        searched_at=utcnow() - timedelta(minutes=3))
    assert report.status == "new"
    assert report.id in {r.id for r in store.triage_queue(coord, case.id)}


def test_times_typed_by_the_family_keep_their_minutes(store, coord, case):
    fam = _family(store, coord, case)
    at = (utcnow() - timedelta(hours=1)).replace(minute=7, second=0, microsecond=0)
    tip = store.send_tip(fam, case.id, lat=51.5136, lon=-0.0985, seen_at=at, text="seen")
    assert tip.seen_at == at
    report = store.report_family_search(fam, case.id, geometry=SQ[2], searched_at=at)
    assert store.get_sector(coord, report.sector_id).searched_at == at
    assert len(store.my_reports(fam, case.id)) == 2


def test_unaccepted_family_ground_is_labelled_and_kept_out_of_the_duplication_figure(
        store, coord, case):
    fam = _family(store, coord, case)
    _searched(store, coord, case, SQ[0])
    # a family walks half of the searched square
    x0, y0, x1, y1 = SQ[0].bounds
    half = box(x0, y0, (x0 + x1) / 2, y1)
    report = store.report_family_search(fam, case.id, geometry=half,
                                        searched_at=utcnow() - timedelta(minutes=5))
    dup = store.duplication_figure(coord, case.id)
    assert dup.repeated_m2 == 0 and dup.accidental_m2 == 0
    assert dup.unchecked_m2 > 1000  # about half of a 49 m x 55 m square
    # the coordinators' overlap warnings show it, labelled unchecked
    over = {o.code: o for o in store.check_overlaps(coord, case.id, SQ[0].buffer(-0.0001))}
    assert over[report.sector_code].unchecked
    assert "family-reported, unchecked" in over[report.sector_code].describe()
    # accepted: it counts like any other searched ground
    store.review_report(coord, report.id, "accepted", version=report.version)
    dup = store.duplication_figure(coord, case.id)
    assert dup.unchecked_m2 == 0
    assert dup.accidental_m2 == pytest.approx(
        store.get_sector(coord, report.sector_id).area_m2, rel=0.01)
    over = {o.code: o for o in store.check_overlaps(coord, case.id, SQ[0].buffer(-0.0001))}
    assert not over[report.sector_code].unchecked


#: the middle of Borough High Street in the Southwark fixture, and Union Street's west end
BOROUGH = box(-0.0948, 51.5001, -0.0919, 51.5025)
UNION_ST = (51.5036, -0.1030)


@pytest.fixture(scope="module")
def southwark():
    return geo.read_streets(STREETS / "southwark_lambeth.osm.pbf")


def test_family_chooses_streets_near_ground_they_may_see(store, coord, southwark):
    case = make_case(store, coord, reference="CASE-S", ipp=UNION_ST, home=UNION_ST)
    fam = _family(store, coord, case)
    # no street layer: postcodes are the way
    assert store.family_streets(fam, case.id) == FamilyStreets(False, (), 15.0)
    with pytest.raises(InvalidInput, match="type postcodes"):
        store.family_street_ground(fam, case.id, ["Borough High Street"])
    store.load_streets(Actor.system("test"), southwark, source="southwark_lambeth.osm.pbf")
    # loaded, but the family sees no ground yet: an unshared last-known location (here the
    # child's home too) never centres the list
    assert store.family_streets(fam, case.id) == FamilyStreets(True, (), 15.0)
    assert len(store.family_map_streets(fam, case.id)) == 0
    sharing = store.sharing(coord, case.id)
    store.set_sharing(coord, case.id, version=sharing.version, family_lkl=True)
    near_lkl = store.family_streets(fam, case.id).names
    assert "Union Street" in near_lkl and "Vauxhall Street" not in near_lkl
    sharing = store.sharing(coord, case.id)
    store.set_sharing(coord, case.id, version=sharing.version, family_lkl=False)
    # police searched round Borough High Street and share it: its streets can be chosen
    done = _searched(store, coord, case, BOROUGH)
    (area,) = store.family_view(fam, case.id).areas
    assert area.place.startswith("Borough High Street") and area.place.endswith("Southwark")
    names = store.family_streets(fam, case.id).names
    assert {"Borough High Street", "Marshalsea Road", "Tabard Street"} <= set(names)
    # the plain map (no tiles) draws the streets round the shared ground, no further
    drawn = store.family_map_streets(fam, case.id)
    assert "Borough High Street" in set(drawn["name"]) and drawn.crs.to_epsg() == 4326
    assert "Vauxhall Street" not in set(drawn["name"])
    assert BOROUGH.buffer(0.006).covers(drawn.geometry.union_all())
    assert "Vauxhall Street" not in names and "Thameslink" not in names
    # with the family delay, ground shared only just now does not widen the list yet
    store.set_sharing(coord, case.id, version=store.sharing(coord, case.id).version,
                      family_delay_min=60)
    assert store.family_streets(fam, case.id).names == ()
    store.set_sharing(coord, case.id, version=store.sharing(coord, case.id).version,
                      family_delay_min=0)
    ground, used = store.family_street_ground(fam, case.id, ["Borough High Street"])
    assert used == ["Borough High Street"]
    # the buffered street lies inside the searched ground: "police searched most of this"
    warn = store.family_search_check(fam, case.id, geometry=ground)
    assert warn is not None and warn.codes == (done.code,) and warn.share > 0.9
    with pytest.raises(InvalidInput, match="'Vauxhall Street' is not a street near"):
        store.family_street_ground(fam, case.id, ["Vauxhall Street"])
    # a postcode typed beside the street adds its circle; an unknown one is refused
    both, _ = store.family_street_ground(fam, case.id, ["Borough High Street"],
                                         postcodes="SE1 1NL", radius_m=50)
    assert both.area > ground.area and both.covers(ground.buffer(-1e-7))
    with pytest.raises(InvalidInput):
        store.family_street_ground(fam, case.id, ["Borough High Street"], postcodes="ZZ9 9ZZ")
    # saved like a drawn area: unchecked, in triage, named by its street on the page
    report = store.report_family_search(fam, case.id, geometry=ground,
                                        searched_at=utcnow() - timedelta(minutes=5),
                                        note="Streets: Borough High Street")
    assert [r.id for r in store.triage_queue(coord, case.id)] == [report.id]
    mine = next(a for a in store.family_view(fam, case.id).areas if a.volunteer)
    assert mine.place.startswith("Borough High Street")
    # only the family's own case: another case's link is refused
    other = make_case(store, coord, reference="CASE-T")
    with pytest.raises(PermissionDenied):
        store.family_streets(fam, other.id)
    with pytest.raises(PermissionDenied):
        store.family_street_ground(fam, other.id, ["Borough High Street"])
