"""The Handover page's report button: one click makes the report for the chosen unit."""

from __future__ import annotations

from pathlib import Path

from shapely.geometry import box
from streamlit.testing.v1 import AppTest

from app_pages.widgets.session import ACTOR_KEY, CASE_KEY
from casefile import open_store
from geo.crs import geoms_to_lonlat
from vocab import settings
from wayhome.demo import demo_data, load_demo

PAGE = str(Path(__file__).resolve().parents[2] / "app_pages" / "handover.py")
CITY = "E23000034"


def test_the_button_offers_the_pdf_and_the_geopackage(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    monkeypatch.setattr(settings, "DATABASE_URL", url)
    store = open_store(url)
    load_demo(store, password="demo password for tests")
    coord = store.authenticate("demo.coordinator", "demo password for tests")
    case_id = store.case_id_for(coord, demo_data()["case"]["reference"])
    store.create_sector(coord, case_id, geometry=geoms_to_lonlat(
        box(532_000, 181_000, 532_300, 181_300)))
    store.close()
    at = AppTest.from_file(PAGE, default_timeout=120)
    at.session_state[ACTOR_KEY] = coord
    at.session_state[CASE_KEY] = case_id
    at.session_state["handover_unit"] = CITY
    at.run()
    assert not at.exception
    make = [b for b in at.button if b.key == "handover_report_make"]
    assert make and "City of London Police" in make[0].label
    make[0].click().run()
    assert not at.exception
    assert len(at.get("download_button")) == 2
    # another unit chosen: the report made for the first is no longer offered
    at.selectbox(key="handover_unit").set_value("E23000001").run()
    assert not at.exception and len(at.get("download_button")) == 0
