"""The London map works with no internet: real Chromium, every outside request aborted."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

import geo
from tests.browser.conftest import (
    NetworkGuard,
    map_frame,
    map_frame_handle,
    screenshot,
    wait_for_app_run,
    wait_for_map,
)

pytestmark = [pytest.mark.browser, pytest.mark.timeout(240)]

APP_ENV = {"WAYHOME_TILES": "none"}

ANSWER = "[class*='st-key-responsible_answer']"


def open_map(page: Page, url: str):
    page.goto(url + "/")
    wait_for_app_run(page)
    frame = wait_for_map(page)
    # boundaries are drawn as SVG paths, one class per layer (layers/styles.py)
    expect(frame.locator("path.wayhome-borough")).to_have_count(33, timeout=20_000)
    return frame


def clicked_point_from_page(page: Page) -> tuple[float, float]:
    text = page.get_by_text("Point clicked on the map").inner_text()
    lat, lon = re.search(r"(-?\d+\.\d+), (-?\d+\.\d+)", text).groups()
    return float(lat), float(lon)


def test_map_renders_with_every_asset_served_locally(page: Page, app_server, hermetic):
    frame = open_map(page, app_server.url)
    # BCU lines are drawn once each: one path per stretch of line (12 BCUs, 36 stretches)
    expect(frame.locator("path.wayhome-bcu")).to_have_count(len(geo.display_edges("bcu")["features"]))
    assert frame.locator("path.wayhome-force").count() >= 7
    expect(frame.locator("path.wayhome-ward")).to_have_count(0)  # wards are not in first load
    legend = frame.locator("[data-testid='wayhome-legend']")
    expect(legend).to_be_visible()
    expect(legend).to_contain_text("Police force area")
    expect(legend).to_contain_text("2018")
    expect(legend).to_contain_text("Open Government Licence v3.0")
    expect(frame.locator(".leaflet-control-layers")).to_contain_text("Wards (2018)")
    # no tile images without tiles, and Leaflet came from this app, not a CDN
    expect(frame.locator("img.leaflet-tile")).to_have_count(0)
    scripts = frame.locator("script[src]").evaluate_all("els => els.map(e => e.src)")
    assert any("/app/static/vendor/leaflet/leaflet.js" in s for s in scripts), scripts
    screenshot(page, "offline-map")
    hermetic.assert_clean()


def test_wards_load_when_switched_on(page: Page, app_server, hermetic):
    frame = open_map(page, app_server.url)
    frame.locator(".leaflet-control-layers label", has_text="Wards (2018)").click()
    container = frame.locator("#map_div")
    expect(container).to_have_attribute("data-wayhome-ward", "loaded", timeout=20_000)
    count = int(container.get_attribute("data-wayhome-ward-count"))
    assert count >= 600
    assert frame.locator("path.wayhome-ward").count() >= 600
    screenshot(page, "offline-map-wards")
    hermetic.assert_clean()


def test_wards_switch_themselves_on_at_street_level(page: Page, app_server, hermetic):
    frame = open_map(page, app_server.url)
    container = frame.locator("#map_div")
    leaflet = map_frame_handle(page)
    leaflet.evaluate("() => window.map_div.setZoom(13, {animate: false})")
    page.wait_for_timeout(300)
    expect(frame.locator("path.wayhome-ward")).to_have_count(0)  # not yet
    leaflet.evaluate("() => window.map_div.setZoom(14, {animate: false})")
    expect(container).to_have_attribute("data-wayhome-ward", "loaded", timeout=20_000)
    expect(frame.locator(".leaflet-control-layers label", has_text="Wards (2018)").locator(
        "input"
    )).to_be_checked()
    hermetic.assert_clean()


def test_clicking_the_map_says_who_is_responsible(page: Page, app_server, hermetic):
    frame = open_map(page, app_server.url)
    box = frame.locator("#map_div").bounding_box()
    # a little off centre, clear of the legend and the layer control
    frame.locator("#map_div").click(position={"x": box["width"] * 0.45, "y": box["height"] * 0.45})
    answer = page.locator(ANSWER)
    expect(answer).to_contain_text("Borough:", timeout=20_000)
    lat, lon = clicked_point_from_page(page)
    expected = geo.locate(lat, lon)
    assert expected["borough"], (lat, lon, expected)
    expect(answer).to_contain_text(expected["borough"])
    expect(answer).to_contain_text(expected["force"])
    # the marker is drawn without remounting the map (the iframe keeps its state)
    icon = frame.locator(".leaflet-marker-icon")
    expect(icon).to_have_count(1, timeout=10_000)
    # Leaflet's marker image is served by the app too, and really loads
    expect(icon).to_have_attribute("src", re.compile(r"/app/static/vendor/leaflet/images/"))
    assert icon.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
    screenshot(page, "offline-map-clicked")
    hermetic.assert_clean()


TYPED = [
    ("SE1 7PB", "Lambeth", None),
    ("51.5074, -0.1278", "Westminster", None),
    ("TQ 301 803", "Westminster", None),
    # plain answers, never an error page
    ("OX1 1AA", None, "not a London postcode"),
    ("-0.1278, 51.5074", None, "swapped"),
    ("hello", None, "not a UK postcode"),
]


def test_typed_places_are_answered_plainly(page: Page, app_server, hermetic):
    open_map(page, app_server.url)  # one page for every case: the suite stays fast
    box = page.get_by_label("Postcode, lat/lon or grid reference")
    for typed, answer, alert in TYPED:
        box.fill(typed)
        box.press("Enter")
        wait_for_app_run(page)
        if answer:
            expect(page.locator(ANSWER), typed).to_contain_text(answer, timeout=20_000)
            expect(map_frame(page).locator(".leaflet-marker-icon"), typed).to_have_count(1)
        else:
            alerts = page.get_by_test_id("stAlertContainer")
            expect(alerts.first, typed).to_contain_text(alert)
            expect(page.locator(ANSWER), typed).to_have_count(0)
        expect(page.get_by_test_id("stException"), typed).to_have_count(0)
    hermetic.assert_clean()


def test_map_still_renders_when_tile_server_is_unreachable(
    page: Page, app_factory, hermetic: NetworkGuard
):
    server = app_factory({"WAYHOME_TILES": "openstreetmap"})
    frame = open_map(page, server.url)
    expect(frame.locator("path.wayhome-force").first).to_be_attached()
    expect(frame.locator("[data-testid='wayhome-legend']")).to_be_visible()
    page.wait_for_timeout(500)
    screenshot(page, "offline-map-osm-tiles-blocked")
    assert hermetic.outside, "the map should have asked for OpenStreetMap tiles"
    hermetic.assert_clean(allow_outside=lambda url: url.startswith("https://tile.openstreetmap.org/"))


def test_assets_follow_the_base_url_path(page: Page, app_factory, hermetic):
    server = app_factory(args=("--server.baseUrlPath=wayhome",))
    assert server.url.endswith("/wayhome")
    frame = open_map(page, server.url)
    scripts = frame.locator("script[src]").evaluate_all("els => els.map(e => e.src)")
    assert any("/wayhome/app/static/vendor/leaflet/leaflet.js" in s for s in scripts), scripts
    frame.locator(".leaflet-control-layers label", has_text="Wards (2018)").click()
    expect(frame.locator("#map_div")).to_have_attribute("data-wayhome-ward", "loaded")
    hermetic.assert_clean()
