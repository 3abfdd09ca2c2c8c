"""XSS canary: hostile boundary names, labels and dates must show as text, never run.

The map Wayhome generates (same builders as the app) is served from a plain
local HTTP server together with the self-served Leaflet and a hostile ward
file. Chromium hovers every feature so every tooltip renders, switches the
lazy ward layer on, and we check that no payload executed and that each name
is displayed literally.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from layers.assets import asset_urls, install_assets
from layers.basemap import base_map, place_layer
from layers.boundaries import BoundarySet, publish_layer_file
from tests.browser.conftest import screenshot, serve_directory
from tests.layers.conftest import HOSTILE, collection

pytestmark = [pytest.mark.browser, pytest.mark.timeout(120)]


def _shift(fc: dict, dlat: float) -> dict:
    for f in fc["features"]:
        ring = f["geometry"]["coordinates"][0]
        f["geometry"]["coordinates"][0] = [[x, y + dlat] for x, y in ring]
    return fc


@pytest.fixture(scope="module")
def hostile_site(tmp_path_factory) -> Iterator[str]:
    root: Path = tmp_path_factory.mktemp("xss-site")
    static = root / "app" / "static"  # served at /app/static/, as by Streamlit
    install_assets(static)
    wards = _shift(collection([f"ward {p}" for p in HOSTILE], "ward"), 0.08)
    for f, payload in zip(wards["features"], HOSTILE, strict=True):
        f["properties"]["code"] = payload
        f["properties"]["borough"] = payload
    served = {  # as the app serves them: fetched as the map opens
        "borough": collection(HOSTILE, "borough"),
        "bcu": _shift(collection([f"bcu {p}" for p in HOSTILE], "bcu"), -0.08),
        "force": _shift(collection(["Metropolitan Police"], "force"), -0.16),
    }
    boundaries = BoundarySet(
        inline={},
        lazy={
            "ward": publish_layer_file(static, "ward", wards),
            **{kind: publish_layer_file(static, kind, fc) for kind, fc in served.items()},
        },
        shown=frozenset(served),
        vintages={"ward": HOSTILE[1], "bcu": HOSTILE[3]},
    )
    m = base_map(boundaries, asset_urls(), None, location=(51.45, -0.1), zoom=11)
    place_layer(51.40, 0.2, HOSTILE[2]).add_to(m)
    (root / "index.html").write_text(m.get_root().render())
    with serve_directory(root) as url:
        yield url


FEATURE_POINTS = """
(kind) => {
  const map = Object.values(window).find(v => v instanceof L.Map);
  const out = [];
  map.eachLayer(l => {
    if (l.feature && l.getBounds && l.options.className === "wayhome-" + kind) {
      const p = map.latLngToContainerPoint(l.getBounds().getCenter());
      out.push([p.x, p.y, l.feature.properties.name]);
    }
  });
  return out;
}
"""


def hover_all(page: Page, kind: str) -> list[tuple[str, str]]:
    """Hover each feature of ``kind``; return (expected name, tooltip text) pairs."""
    box = page.locator(".leaflet-container").bounding_box()
    seen = []
    for x, y, name in page.evaluate(FEATURE_POINTS, kind):
        page.mouse.move(box["x"] + x, box["y"] + y)
        tip = page.locator(".leaflet-tooltip").last
        expect(tip).to_be_visible()
        seen.append((name, tip.inner_text()))
    return seen


def test_hostile_text_is_shown_never_run(page: Page, hostile_site, hermetic):
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(hostile_site + "/index.html")
    expect(page.locator(".leaflet-container")).to_be_visible()
    expect(page.locator("path.wayhome-borough")).to_have_count(len(HOSTILE))

    borough_tips = hover_all(page, "borough")
    assert len(borough_tips) == len(HOSTILE)
    shown = sorted(text for _, text in borough_tips)
    for payload in HOSTILE:  # each literal payload is displayed, as text
        assert sum(payload in text for text in shown) >= 1, payload

    marker = page.locator(".leaflet-marker-icon")
    marker.hover()
    expect(page.locator(".leaflet-tooltip").last).to_contain_text(HOSTILE[2])

    page.locator(".leaflet-control-layers label", has_text="Wards (2018)").click()
    expect(page.locator(".leaflet-container")).to_have_attribute("data-wayhome-ward", "loaded")
    ward_tips = hover_all(page, "ward")
    assert len(ward_tips) == len(HOSTILE)
    for name, text in ward_tips:
        payload = name.removeprefix("ward ")
        assert name in text and text.count(payload) >= 3  # name, code and borough lines

    legend = page.locator("[data-testid='wayhome-legend']")
    expect(legend).to_contain_text(HOSTILE[1])
    screenshot(page, "xss-canary")

    assert page.evaluate("window.__pwned") is None
    assert not dialogs
    assert page.locator("img[src='x'], svg[onload]").count() == 0
    hermetic.assert_clean()
