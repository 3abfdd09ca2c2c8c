"""The briefing pack sheet, drawn from plain records (no database, no network).

Its text layer is read back with pypdf; its first page is rendered with
``pdftoppm`` (poppler-utils), saved under ``test-artifacts/`` to look at, and its
QR code read back with zxing-cpp.
"""

from __future__ import annotations

import io
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from shapely.geometry import box

from geo.coordinates import format_grid_reference
from geo.crs import geoms_to_bng, geoms_to_lonlat, lonlat_to_bng
from layers.briefing import MARKING, choose_frame, render_briefing, render_period_pack
from layers.escape import pdf_text
from tests.layers.conftest import HOSTILE

pypdf = pytest.importorskip("pypdf")

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
NOW = datetime(2026, 3, 3, 14, 5, tzinfo=UTC)
URL = "https://wayhome.example.org/?link=Q2hlY2tfdGhpc190b2tlbl9pc19ub3RfcmVhbF8xMjM0"
#: control, bidirectional and zero-width characters no pack may print
UNPRINTED = ("\x00", "\x1b", "\x07", "\u202e", "\u202d", "\u2066", "\u200b", "\ufeff")
X, Y = (float(v) for v in lonlat_to_bng(-0.1278, 51.5074))


def _sq(dx: float, dy: float, d: float = 200.0):
    return geoms_to_lonlat(box(X + dx, Y + dy, X + dx + d, Y + dy + d))


def _brief(orientation: str = "portrait", hostile: str = "", **over) -> SimpleNamespace:
    evil = hostile or " ".join(HOSTILE)
    sector = SimpleNamespace(code="S1", name=f"Block {evil}", status="assigned", geometry=_sq(0, 0),
                             area_m2=40_000.0, search_type="thorough", assurance="high",
                             notes=f"Check the bins {evil}")
    fields = dict(
        reference="MP-2026-0042", case_status="open", child_name=f"Robin {evil}", age=12,
        description="Green jumper\x1b[31m, grey rucksack \u202eevil\u202c {nb} **bold** "
                    + "very long " * 400,
        reported_missing_at=NOW - timedelta(hours=5), kind="sector", team_id=1,
        team_name="Team Red", sectors=(sector,),
        neighbours=(SimpleNamespace(code="S2", status="searched", geometry=_sq(200, 0)),
                    SimpleNamespace(code="S3", status="in_progress", geometry=_sq(0, 200))),
        hazards=(SimpleNamespace(kind="do_not_search", note=f"Canal edge {evil}",
                                 geometry=_sq(60, -160, 100)),),
        last_known=SimpleNamespace(lat=51.5080, lon=-0.1265, at=NOW - timedelta(hours=2),
                                   kind="sighting"),
        sightings=(SimpleNamespace(lat=51.5080, lon=-0.1265, seen_at=NOW - timedelta(hours=2),
                                   status="verified", confidence="high",
                                   description=f"By the fountain {evil}"),),
        passes=(SimpleNamespace(sector_code="S2", team_name="Team Blue", state="closed",
                                started_at=NOW - timedelta(hours=3),
                                ended_at=NOW - timedelta(hours=2), search_type="hasty",
                                assurance="medium", pod=0.5, basis="assurance"),),
        sweep=("Streets, on foot", 40.0, "planning assumption"),
        printed_by=f"Coordinator {evil}", printed_at=NOW, period_ends=NOW + timedelta(hours=12),
        orientation=orientation,
        link=SimpleNamespace(token="Q2hlY2tfdGhpc190b2tlbl9pc19ub3RfcmVhbF8xMjM0",
                             link=SimpleNamespace(id=17, label=f"Briefing S1 {evil}",
                                                  expires_at=NOW + timedelta(hours=12))),
    )
    fields.update(over)
    return SimpleNamespace(**fields)


def _text(pdf: bytes) -> list[str]:
    return [p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf)).pages]


@pytest.fixture(scope="module")
def portrait() -> bytes:
    return render_briefing(_brief(), link_url=URL, rendezvous="Nelson's Column <b>north</b>",
                           radio="Channel 3 \x07\u200b")


def test_the_text_layer_names_the_case_sector_team_and_grid_references(portrait):
    pages = _text(portrait)
    assert len(pages) >= 2
    assert all(p.count(MARKING) >= 2 for p in pages)  # top and bottom of every page
    first, text = pages[0], "\n".join(pages)
    assert "MP-2026-0042" in first and "Sector S1" in first and "Team Red" in first
    centre = geoms_to_bng(_sq(0, 0)).representative_point()
    assert format_grid_reference(centre.x, centre.y, 8) in text  # the sector's grid ref
    lkl_x, lkl_y = lonlat_to_bng(-0.1265, 51.5080)
    assert format_grid_reference(float(lkl_x), float(lkl_y), 10) in text
    assert "Scale 1:2,500" in first or "Scale 1:5,000" in first
    # grid figures along the frame: the easting of the sector's west edge, in hundreds
    assert f"{int(X % 100_000) // 100 + 1:03d}" in first
    for words in ("Search type: thorough", "Assurance wanted: high", "Sweep spacing",
                  "Time box", "Rendezvous point: Nelson's Column <b>north</b>",
                  "Radio / phone: Channel 3", "Photo: attach a printed", "Link 17",
                  "S2", "searched", "Team Blue", "50%", "Canal edge", "By the fountain",
                  "Do not search", "Last known: " + format_grid_reference(
                      float(lkl_x), float(lkl_y), 10)):
        assert words in text.replace("\n", " "), words


def test_hostile_text_is_printed_as_typed_without_control_characters(portrait):
    text = "\n".join(_text(portrait))
    for bad in UNPRINTED:
        assert bad not in text, repr(bad)
    # markup is just text on paper: shown as typed, never interpreted
    assert "<script>window.__pwned=1</script>" in text.replace("\n", "")
    assert "{nb}" in text and "**bold**" in text  # no page-count or markdown substitution
    # long text is cut: 4,000 characters of description become at most 700
    assert text.count("very long") < 100 and "…" in text


def test_the_qr_code_reads_back_as_the_link_and_the_page_is_saved(portrait, tmp_path):
    if shutil.which("pdftoppm") is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    ARTIFACTS.mkdir(exist_ok=True)
    for name, pdf in (("briefing-portrait", portrait),
                      ("briefing-landscape", render_briefing(
                          _brief("landscape", hostile="<i>plain</i>"), link_url=URL))):
        src = tmp_path / f"{name}.pdf"
        src.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1",
                        "-singlefile", str(src), str(ARTIFACTS / name)], check=True)
        image = Image.open(ARTIFACTS / f"{name}.png")
        wide = name.endswith("landscape")
        assert (image.width > image.height) == wide
        found = [r.text for r in zxingcpp.read_barcodes(image)]
        assert found == [URL], name


def test_without_a_team_or_a_link_address_the_sheet_says_so():
    no_team = render_briefing(_brief(hostile="x", link=None, team_name=None, team_id=None),
                              link_url=None)
    text = " ".join(_text(no_team)).replace("\n", " ")
    assert "no team yet" in text and "assign the sector to a team" in text
    empty = render_briefing(_brief(hostile="x", kind="team", sectors=(), neighbours=()),
                            link_url=URL)
    text = " ".join(_text(empty)).replace("\n", " ")
    assert "No sectors are assigned to Team Red yet" in text
    assert "MP-2026-0042" in text and MARKING in text


def test_the_frame_takes_the_largest_scale_that_shows_the_ground():
    small = choose_frame((X, Y, X + 200, Y + 200), 182, 132)
    assert small.scale == 2_500 and small.grid_m == 100
    street = choose_frame((X, Y, X + 700, Y + 500), 182, 132)
    assert street.scale == 5_000 and street.grid_m == 100
    big = choose_frame((X, Y, X + 6_000, Y + 3_000), 182, 132)
    assert big.scale == 50_000 and big.grid_m == 1_000
    # the paper maps exactly: the frame's width in metres is paper mm x scale / 1000
    assert street.x1 - street.x0 == pytest.approx(182 / 1000 * 5_000)
    assert street.paper(street.x0, street.y1) == (0, 0)


@pytest.mark.parametrize(("raw", "clean"), [
    ("a\x00b", "a b"), ("x\u202ey", "x y"), ("zero\u200bwidth", "zero width"),
    ("  many   spaces\t\there ", "many spaces here"), ("one\ntwo", "one two"), (None, ""),
])
def test_pdf_text_keeps_only_printable_characters(raw, clean):
    assert pdf_text(raw) == clean


def test_pdf_text_caps_length_and_may_keep_lines():
    assert pdf_text("x" * 50, 10) == "x" * 9 + "…"
    assert pdf_text("one\r\n\r\ntwo\rthree", lines=True) == "one\ntwo\nthree"


def _rv(words: str = "Car park, north gate") -> SimpleNamespace:
    """A stored rendezvous point (as casefile.rendezvous.Rendezvous reads)."""
    return SimpleNamespace(lat=51.5068, lon=-0.1290, words=words, place="51.50680, -0.12900",
                           text=lambda: words or "51.50680, -0.12900")


def test_the_stored_rendezvous_point_is_printed_with_its_grid_reference():
    x, y = lonlat_to_bng(-0.1290, 51.5068)
    ref = format_grid_reference(float(x), float(y), 10)
    stored = " ".join(_text(render_briefing(_brief(hostile="x", rendezvous=_rv()),
                                            link_url=URL))).replace("\n", " ")
    assert f"Rendezvous point: Car park, north gate · {ref}" in stored
    assert "black triangle = rendezvous point (RV)" in stored
    # words given when printing (wayhome brief --rendezvous) replace the stored words only
    typed = " ".join(_text(render_briefing(_brief(hostile="x", rendezvous=_rv()),
                                           link_url=URL, rendezvous="By the kiosk"))
                     ).replace("\n", " ")
    assert f"Rendezvous point: By the kiosk · {ref}" in typed and "north gate" not in typed


def _period(**over) -> SimpleNamespace:
    red_link = SimpleNamespace(token="tok-s1", link=SimpleNamespace(
        id=21, label="Briefing S1", expires_at=NOW + timedelta(hours=6)))
    blue_link = SimpleNamespace(token="tok-s4", link=SimpleNamespace(
        id=22, label="Briefing S4", expires_at=NOW + timedelta(hours=6)))
    s4 = SimpleNamespace(code="S4", name="Embankment", status="in_progress",
                         geometry=_sq(0, 400), area_m2=40_000.0, search_type=None,
                         assurance=None, notes="")
    sheets = (_brief(hostile="<b>x</b>", link=red_link, rendezvous=_rv()),
              _brief(hostile="<b>x</b>", link=blue_link, rendezvous=_rv(), sectors=(s4,),
                     team_name="Team Blue", team_id=2))
    fields = dict(
        reference="MP-2026-0042", case_status="open", period=2,
        starts=NOW - timedelta(hours=6), ends=NOW + timedelta(hours=6),
        teams=(SimpleNamespace(name="Team Red", sectors=(("S1", "assigned"),)),
               SimpleNamespace(name="Team Blue", sectors=(("S4", "in_progress"),)),
               SimpleNamespace(name="Team <i>Green</i>", sectors=())),
        rendezvous=_rv(), printed_by="Coordinator A", printed_at=NOW,
        orientation="portrait", sheets=sheets)
    fields.update(over)
    return SimpleNamespace(**fields)


def test_a_period_pack_is_a_cover_then_each_sectors_own_sheet(tmp_path):
    urls = ["https://wayhome.example.org/?link=tok-s1", "https://wayhome.example.org/?link=tok-s4"]
    pdf = render_period_pack(_period(), link_urls=urls)
    pages = _text(pdf)
    assert all(p.count(MARKING) >= 2 for p in pages)
    cover = pages[0].replace("\n", " ")
    assert "Operational period pack · MP-2026-0042" in cover
    assert "Period 2: Tue 03 Mar 2026 08:05 GMT to Tue 03 Mar 2026 20:05 GMT" in cover
    for words in ("Team Red", "S1 (assigned)", "Team Blue", "S4 (in progress)",
                  "Team <i>Green</i>", "no tasked sector this period", "Car park, north gate",
                  "2 sector sheet(s) follow"):
        assert words in cover, words
    # no sheet content on the cover: no description, no link
    assert "Green jumper" not in cover and "Link 21" not in cover
    # then each sheet, as render_briefing draws it, with its own link and QR address
    sheets = [i for i, p in enumerate(pages) if p.replace("\n", " ").count("Briefing pack ·")]
    assert len(sheets) == 2 and sheets[0] == 1
    first = " ".join(pages[sheets[0]:sheets[1]]).replace("\n", "")
    second = " ".join(pages[sheets[1]:]).replace("\n", "")
    assert "Sector S1" in first and "Link 21" in first and "tok-s1" in first
    assert "Sector S4" in second and "Link 22" in second and "tok-s4" in second
    assert "tok-s1" not in second
    # each sheet's footer names its own sheet
    assert "Briefing pack MP-2026-0042 · Sector S1" in pages[sheets[1] - 1]
    assert "Operational period pack MP-2026-0042 · period 2" in pages[0]
    if shutil.which("pdftoppm") is not None:  # pages to look at
        ARTIFACTS.mkdir(exist_ok=True)
        src = tmp_path / "period.pdf"
        src.write_bytes(pdf)
        subprocess.run(["pdftoppm", "-png", "-r", "80", str(src), str(ARTIFACTS / "period")],
                       check=True)
        assert len(list(ARTIFACTS.glob("period-*.png"))) >= len(pages)


def test_a_period_with_nothing_tasked_prints_its_cover_alone():
    pdf = render_period_pack(_period(sheets=(), rendezvous=None, case_status="found"),
                             link_urls=[])
    pages = _text(pdf)
    assert len(pages) == 1
    text = pages[0].replace("\n", " ")
    assert "0 sector sheet(s) follow" in text and "Not set:" in text
    assert "CASE FOUND — STAND DOWN" in text


def test_the_teams_open_tasks_are_listed_and_a_visit_keeps_its_address_off_paper():
    cctv = SimpleNamespace(code="T1", kind_label="CCTV collection", status_label="assigned",
                           title="CCTV at the kiosk <script>", street="", side=None, route="",
                           window_start=NOW - timedelta(hours=3),
                           window_end=NOW - timedelta(hours=1),
                           point=(-0.1270, 51.5078), personal=False)
    doors = SimpleNamespace(code="T2", kind_label="House-to-house", status_label="planned",
                            title="Doors", street="Union Street", side="odd", route="",
                            window_start=None, window_end=None, point=(-0.1275, 51.5076),
                            personal=False)
    visit = SimpleNamespace(code="T3", kind_label="Visit: friend's address",
                            status_label="assigned", title="", street="", side=None, route="",
                            window_start=None, window_end=None, point=None, personal=True)
    text = " ".join(_text(render_briefing(_brief(tasks=(cctv, doors, visit)), link_url=URL)))
    text = text.replace("\n", " ")
    assert "Enquiry tasks of this team still to do" in text
    assert "CCTV at the kiosk <script>" in text and "Union Street (odd numbers)" in text
    kx, ky = lonlat_to_bng(-0.1270, 51.5078)
    assert format_grid_reference(float(kx), float(ky), 8) in text
    assert "Address on the team lead's phone" in text
    # no task: the sheet says so
    assert "No open enquiry task for this team." in " ".join(
        _text(render_briefing(_brief(), link_url=URL))).replace("\n", " ")
