"""``wayhome handover report`` on the demo case: the PDF's text, the GeoPackage, exit codes."""

from __future__ import annotations

import os
import re
import stat

import geopandas as gpd
import pyogrio
import pytest
import sqlalchemy as sa
from shapely.geometry import Point, box

from casefile import open_store, utcnow
from casefile import schema as t
from geo.coordinates import format_grid_reference
from geo.crs import geoms_to_lonlat, lonlat_to_bng
from tests.casefile.conftest import _template, store_url  # noqa: F401
from tests.test_cli import DEMO_PASSWORD, run
from wayhome.demo import demo_data

pypdf = pytest.importorskip("pypdf")
pytestmark = pytest.mark.db

CITY = "E23000034"  # City of London Police
# a point in the City (BNG): St Paul's
CX, CY = 532_100.0, 181_150.0


def _text(path) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages)


def test_handover_report_on_the_demo_case(store_url, tmp_path, capsys):  # noqa: F811
    run(["--database-url", store_url, "demo", "--password-stdin"], stdin=DEMO_PASSWORD + "\n")
    data = demo_data()
    ref = data["case"]["reference"]
    store = open_store(store_url)
    coord = store.authenticate("demo.coordinator", DEMO_PASSWORD)
    case_id = store.case_id_for(coord, ref)
    searched = store.create_sector(coord, case_id, geometry=geoms_to_lonlat(
        box(CX - 150, CY - 150, CX + 150, CY + 150)), name="Mrs Example's street",
        notes="Aunt lives at 12 Example Road")
    searched = store.set_sector_status(coord, searched.id, "ready", version=searched.version)
    planned = store.create_sector(coord, case_id, geometry=geoms_to_lonlat(
        box(CX + 200, CY - 150, CX + 500, CY + 150)))
    far = store.create_sector(coord, case_id, geometry=geoms_to_lonlat(  # far away: not in it
        box(CX - 9_000, CY - 9_000, CX - 8_800, CY - 8_800)))
    store.add_hazard(coord, case_id, kind="unsafe", geometry=geoms_to_lonlat(
        box(CX - 100, CY + 200, CX, CY + 300)), note="Building site, deep trench")
    lon, lat = (float(v) for v in geoms_to_lonlat(box(CX, CY, CX + 1, CY + 1)).centroid.coords[0])
    store.add_sighting(coord, case_id, lat=lat, lon=lon, seen_at=utcnow(), source="public",
                       confidence="high", status="verified", reported_by="Wendy Witness",
                       reporter_contact="07700 900999", description="Boy by the cathedral steps")
    store.set_sharing(coord, case_id, version=store.sharing(coord, case_id).version,
                      team_sightings="all")
    h = store.create_handover(coord, case_id, from_unit="central-west", to_unit=CITY,
                              reason="route crossed into the City", sector_ids=[planned.id])
    store.acknowledge_handover(coord, h.id, by_name="Insp. Citygate", version=h.version)
    store.set_rendezvous(coord, case_id, version=0, place=format_grid_reference(CX - 300, CY, 10),
                         words="Paternoster Square, west gate")
    # enquiry tasks in the City: a CCTV (listed with its grid reference) and a visit to an
    # address (listed, never its address or place)
    store.add_task(coord, case_id, kind="cctv", title="CCTV at the cathedral shop",
                   place_lonlat=Point(lon, lat))
    visit = store.add_task(coord, case_id, kind="visit_friend", title="Friend near St Paul's",
                           place_lonlat=Point(lon + 0.002, lat), address="7 Example Court",
                           postcode="EC4M 7AA")
    store.set_task_status(coord, visit.id, "no_trace", version=visit.version,
                          result_note="Not there")
    store.close()

    out_dir = tmp_path / "out"
    code, said = run(["--database-url", store_url, "handover", "report", "--case", ref,
                      "--to", CITY, "--out", str(out_dir)])
    assert code == 0, capsys.readouterr().err
    pdf = out_dir / f"{ref}-handover-{CITY}.pdf"
    gpkg = out_dir / f"{ref}-handover-{CITY}.gpkg"
    assert str(pdf) in said and str(gpkg) in said
    assert stat.S_IMODE(os.stat(pdf).st_mode) == 0o600

    text = _text(pdf)
    flat = text.replace("\n", "")
    assert ref in text and "City of London Police" in text and "OFFICIAL-SENSITIVE" in text
    # the demo's own sectors lie in Pimlico, far from the City: only these two are in it
    codes = set(re.findall(r"\bS\d+\b", text))
    assert {searched.code, planned.code} <= codes and far.code not in codes
    assert format_grid_reference(CX - 1, CY - 1, 4)[:5] in text  # "TQ 3" grid refs
    assert "Insp. Citygate" in flat and "route crossed into the City" in flat
    assert "Boy by the cathedral steps" in flat and "Building site" in flat
    rv_ref = format_grid_reference(CX - 300, CY, 10)
    assert f"Rendezvous point of the case's teams: Paternoster Square, west gate · {rv_ref}" \
        in text.replace("\n", " ")
    assert "CCTV collection" in flat and "Visit: friend's address" in flat
    assert "no trace" in flat and "a person's address" in flat
    # never who reported a sighting, a contact, the home or the case notes
    private = [v for s in data["sightings"] for v in (s["reporter_contact"], s["reported_by"])
               if v]
    for value in ("Wendy Witness", "07700 900999", "Brixton", data["case"]["notes"][:30],
                  "Aunt lives", "Example Road", "7 Example Court", "EC4M 7AA",
                  "Friend near St Paul's", "Not there", *private):
        assert value not in flat, value
    hx, hy = (float(v) for v in lonlat_to_bng(data["case"]["home"][1], data["case"]["home"][0]))
    assert format_grid_reference(hx, hy, 8) not in flat

    # the GeoPackage re-reads in GeoPandas and carries no personal data
    layers = {name for name, _ in pyogrio.list_layers(gpkg)}
    assert {"sectors", "boundary_unit", "sightings", "hazards", "handovers"} <= layers
    sectors = gpd.read_file(gpkg, layer="sectors")
    assert sorted(sectors["code"]) == sorted([searched.code, planned.code])
    assert sectors.crs.to_epsg() == 27700
    assert sectors.geometry.is_valid.all()
    unit = gpd.read_file(gpkg, layer="boundary_unit")
    assert list(unit["code"]) == [CITY]
    sightings = gpd.read_file(gpkg, layer="sightings")
    assert len(sightings) >= 1 and sightings.crs.to_epsg() == 27700
    assert gpd.read_file(gpkg, layer="hazards")["kind"].tolist() == ["unsafe"]
    handovers = gpd.read_file(gpkg, layer="handovers")
    assert handovers["acknowledged"].astype(bool).tolist() == [True]
    raw = gpkg.read_bytes()
    for value in (b"Wendy Witness", b"07700 900999", b"Aunt lives", b"Example Road",
                  b"cathedral", b"Insp. Citygate", b"Mrs Example",
                  *(v.encode() for v in private)):
        assert value not in raw, value
    for layer in layers:
        cols = " ".join(pyogrio.read_info(gpkg, layer=layer)["fields"]).lower()
        for word in ("report", "contact", "phone", "description", "notes", "lead"):
            assert word not in cols, (layer, word)

    # making it is audited: who, which unit
    store = open_store(store_url)
    with store.engine.connect() as conn:
        audit = conn.execute(sa.select(t.audit_log).where(
            t.audit_log.c.entity == "handover_report")).all()
    store.close()
    assert [a.action for a in audit] == ["make"]
    assert CITY in str(audit[0].changes) and "handover report" in audit[0].actor_name

    # unknown case or unit: exit 2, one line naming it, no file
    capsys.readouterr()  # what the demo said earlier (its links' warning) is not this
    for args, name in ((["--case", "NOPE-1", "--to", CITY], "NOPE-1"),
                       (["--case", ref, "--to", "E99999999"], "E99999999")):
        target = tmp_path / "never"
        code, _ = run(["--database-url", store_url, "handover", "report", *args, "--out",
                       str(target)])
        err = capsys.readouterr().err
        assert code == 2 and name in err and err.count("\n") == 1, err
        assert not target.exists()
