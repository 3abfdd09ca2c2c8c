"""``wayhome brief`` on the demo case: exit codes, the PDF's text layer, what it never carries."""

from __future__ import annotations

import os
import stat

import pytest
import sqlalchemy as sa
from shapely.geometry import box

from casefile import open_store
from casefile import schema as t
from geo.crs import geoms_to_lonlat, lonlat_to_bng
from tests.casefile.conftest import _template, store_url  # noqa: F401
from tests.test_cli import DEMO_PASSWORD, run
from vocab import settings
from wayhome.demo import demo_data, load_demo

pypdf = pytest.importorskip("pypdf")
pytestmark = pytest.mark.db


def bare_demo(url: str) -> None:
    """The demo case with its sightings only (these tests make their own teams and sectors)."""
    store = open_store(url)
    load_demo(store, password=DEMO_PASSWORD)
    store.close()


def _text(path) -> str:
    return "\n".join(p.extract_text() for p in pypdf.PdfReader(path).pages)


def test_brief_on_the_demo_case(store_url, tmp_path, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setattr(settings, "PUBLIC_URL", "")
    bare_demo(store_url)
    data = demo_data()
    ref = data["case"]["reference"]
    store = open_store(store_url)
    coord = store.authenticate("demo.coordinator", DEMO_PASSWORD)
    case_id = store.case_id_for(coord, ref)
    red = store.create_team(coord, case_id, name="Team Red", org_type="met_bcu", size=5,
                            lead_name="Sgt Example", contact="07700 900555")
    store.create_team(coord, case_id, name="Team Blue", org_type="met_bcu", size=3)
    lat, lon = data["case"]["ipp"]
    x, y = (float(v) for v in lonlat_to_bng(lon, lat))
    s1 = store.create_sector(coord, case_id, geometry=geoms_to_lonlat(
        box(x - 150, y - 150, x + 150, y + 150)), name="School streets")
    s1 = store.set_sector_status(coord, s1.id, "ready", version=s1.version)
    store.assign_sector(coord, s1.id, red.id, version=s1.version)
    store.set_sharing(coord, case_id, version=store.sharing(coord, case_id).version,
                      team_sightings="all")
    store.close()
    base = ["--database-url", store_url, "brief", "--case", ref]

    # a sector's pack, with the app's address for the QR code
    out = tmp_path / "s1.pdf"
    code, said = run([*base, "--sector", "S1", "--out", str(out),
                      "--base-url", "https://wayhome.example.org"])
    assert code == 0, capsys.readouterr().err
    assert "S1" in said and str(out) in said and "link" in said
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600  # it holds the child's description
    text = _text(out)
    flat = text.replace("\n", "")
    assert ref in text and "Sector S1" in text and "Team Red" in text
    assert "OFFICIAL-SENSITIVE" in text and "TQ " in text
    assert "https://wayhome.example.org/?link=" in flat
    # never a contact, the home, the case notes or who reported a sighting
    private = [v for s in data["sightings"] for v in (s["reporter_contact"], s["reported_by"])
               if v]
    assert len(private) >= 8
    for value in private:
        assert value not in flat, value
    assert "07700 900555" not in flat and "Sgt Example" not in flat
    assert "Brixton" not in flat and data["case"]["notes"][:30] not in flat
    assert data["case"]["description"][:40] in flat  # the description for searchers is there
    # the link behind the QR code: its own row, labelled, until the end of the period
    store = open_store(store_url)
    with store.engine.connect() as conn:
        link = conn.execute(sa.select(t.access_links).order_by(
            t.access_links.c.id.desc())).first()
        audit = conn.execute(sa.select(t.audit_log).where(
            t.audit_log.c.entity == "briefing")).all()
    store.close()
    assert link.role == "team_lead" and link.team_id == red.id and "S1" in link.label
    assert link.expires_at is not None and link.revoked_at is None
    assert [(a.action, a.entity_id) for a in audit] == [("print", link.id)]
    assert f"Link {link.id}" in flat

    # a team with no sectors gets a pack that says so; without an address, a warning
    capsys.readouterr()
    code, _ = run([*base, "--team", "Team Blue", "--out", str(tmp_path / "blue.pdf"),
                   "--landscape"])
    err = capsys.readouterr().err
    assert code == 0 and "WAYHOME_PUBLIC_URL" in err
    blue = _text(tmp_path / "blue.pdf")
    assert "No sectors are assigned to Team Blue" in blue and "/?link=" in blue.replace("\n", "")
    page = pypdf.PdfReader(tmp_path / "blue.pdf").pages[0]
    assert page.mediabox.width > page.mediabox.height  # landscape

    # unknown case, sector or team: exit 2, one line naming it, no file
    for args, name in ((["--case", "NOPE-1", "--sector", "S1"], "NOPE-1"),
                       (["--case", ref, "--sector", "S99"], "S99"),
                       (["--case", ref, "--team", "Team Green"], "Team Green")):
        target = tmp_path / "never.pdf"
        code, _ = run(["--database-url", store_url, "brief", *args, "--out", str(target)])
        err = capsys.readouterr().err
        assert code == 2 and name in err and err.count("\n") == 1, err
        assert not target.exists()


def test_brief_needs_one_of_sector_or_team(capsys):
    with pytest.raises(SystemExit) as stop:
        run(["brief", "--case", "X", "--out", "x.pdf"])
    assert stop.value.code == 2
    with pytest.raises(SystemExit):
        run(["brief", "--case", "X", "--sector", "S1", "--team", "Red", "--out", "x.pdf"])
    assert "not allowed with" in capsys.readouterr().err


def test_a_sector_without_a_team_gets_a_pack_without_a_link(store_url, tmp_path):  # noqa: F811
    bare_demo(store_url)
    # an unassigned case has no team: nothing to link, and still exit 0
    store = open_store(store_url)
    coord = store.authenticate("demo.coordinator", DEMO_PASSWORD)
    case_id = store.case_id_for(coord, demo_data()["case"]["reference"])
    lat, lon = demo_data()["case"]["ipp"]
    x, y = (float(v) for v in lonlat_to_bng(lon, lat))
    store.create_sector(coord, case_id, geometry=geoms_to_lonlat(box(x, y, x + 100, y + 100)))
    store.close()
    code, said = run(["--database-url", store_url, "brief", "--case",
                      demo_data()["case"]["reference"], "--sector", "S1", "--out",
                      str(tmp_path / "draft.pdf")])
    assert code == 0 and "no team, so no link" in said and "link=" not in said
    assert "assign the sector to a team" in _text(tmp_path / "draft.pdf").replace("\n", " ")


def test_brief_period_writes_a_cover_and_every_tasked_sectors_sheet(
        store_url, tmp_path, capsys, monkeypatch):  # noqa: F811
    monkeypatch.setattr(settings, "PUBLIC_URL", "")
    bare_demo(store_url)
    data = demo_data()
    ref = data["case"]["reference"]
    store = open_store(store_url)
    coord = store.authenticate("demo.coordinator", DEMO_PASSWORD)
    case_id = store.case_id_for(coord, ref)
    red = store.create_team(coord, case_id, name="Team Red", org_type="met_bcu", size=5,
                            lead_name="Sgt Example", contact="07700 900555")
    lat, lon = data["case"]["ipp"]
    x, y = (float(v) for v in lonlat_to_bng(lon, lat))
    for dx in (0, 300, 900):
        s = store.create_sector(coord, case_id, geometry=geoms_to_lonlat(
            box(x + dx, y, x + dx + 250, y + 250)), on_overlap="keep", reason="test")
        if dx < 900:  # the third stays unassigned: no sheet
            s = store.set_sector_status(coord, s.id, "ready", version=s.version)
            store.assign_sector(coord, s.id, red.id, version=s.version)
    store.set_rendezvous(coord, case_id, version=0, place=f"{lat:.5f}, {lon:.5f}",
                         words="Car park, north gate")
    codes = [s.code for s in store.sectors(coord, case_id)]
    store.close()
    out = tmp_path / "period.pdf"
    code, said = run(["--database-url", store_url, "brief", "--case", ref, "--period",
                      "--out", str(out), "--base-url", "https://wayhome.example.org",
                      "--rendezvous", "By the kiosk"])
    assert code == 0, capsys.readouterr().err
    assert "Operational period 1 pack" in said and "2 sector sheet(s)" in said
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    pages = [p.extract_text() for p in pypdf.PdfReader(out).pages]
    cover = pages[0].replace("\n", " ")
    assert "Operational period pack" in cover and ref in cover and "Period 1:" in cover
    assert "Team Red" in cover and f"{codes[0]} (assigned)" in cover
    assert "By the kiosk · TQ " in cover and "OFFICIAL-SENSITIVE" in cover
    flat = "".join(pages).replace("\n", "")
    assert flat.count("https://wayhome.example.org/?link=") == 2
    assert f"Sector {codes[0]}" in flat and f"Sector {codes[1]}" in flat
    assert f"Sector {codes[2]}" not in flat
    for value in ("07700 900555", "Sgt Example", "Brixton",
                  *(v for s in data["sightings"] for v in (s["reporter_contact"],
                                                           s["reported_by"]) if v)):
        assert value not in flat, value
    store = open_store(store_url)
    with store.engine.connect() as conn:
        audit = conn.execute(sa.select(t.audit_log).where(
            t.audit_log.c.entity == "briefing").order_by(t.audit_log.c.id)).all()
    store.close()
    assert [a.action for a in audit] == ["print", "print", "print_period"]
    assert audit[-1].actor_name.startswith("wayhome brief")
    # an unknown case, a period not come yet, a period that is no number: exit 2, one line
    for args, name in ((["--case", "NOPE-1", "--period"], "NOPE-1"),
                       (["--case", ref, "--period", "5"], "not come yet"),
                       (["--case", ref, "--period", "soon"], "'soon'")):
        target = tmp_path / "never.pdf"
        code, _ = run(["--database-url", store_url, "brief", *args, "--out", str(target)])
        err = capsys.readouterr().err
        assert code == 2 and name in err and err.count("\n") == 1, err
        assert not target.exists()
