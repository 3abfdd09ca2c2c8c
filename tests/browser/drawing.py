"""Drawing on the map in a real browser, the way a person does, without racing Leaflet.

A person waits for the map to stop moving before drawing and watches each corner
appear. A test must do the same: a tap made while the map is still flying to
the case lands somewhere else once the view settles, and a polygon is only sent
to the page when Leaflet.draw closes it. So :func:`draw_polygon` waits for a
still map, waits before each corner until the tool takes presses again (see
``_READY_JS``: the cause of drawings that "never closed" on a loaded machine),
checks that every corner registered (Leaflet.draw's vertex markers), and closes
the shape with the tool's own "Finish" button, then checks that it closed. When
something does go wrong the assertion says which step.
"""

from __future__ import annotations

from playwright.sync_api import Frame, Page, expect

from tests.browser.conftest import map_frame, map_frame_handle, screenshot

#: Leaflet.draw's markers on the corners of the shape being drawn
VERTEX = ".leaflet-editing-icon"

_VIEW_JS = """() => {
  const m = window.map_div;
  if (!m || !m._loaded || m._animatingZoom || (m._panAnim && m._panAnim._inProgress)) {
    return null;
  }
  const c = m.getCenter();
  return [c.lat.toFixed(6), c.lng.toFixed(6), m.getZoom()].join(",");
}"""


def wait_for_still_map(page: Page, *, zoom: int | None = None, timeout: float = 30_000) -> None:
    """Wait until the map is loaded, not animating, and its view held for half a second.

    ``zoom``: also wait for that zoom level (where the page moves the map on open).
    """
    leaflet = map_frame_handle(page)
    deadline_steps = int(timeout / 250)
    last = None
    for _ in range(deadline_steps):
        view = leaflet.evaluate(_VIEW_JS)
        ok = view is not None and (zoom is None or view.endswith(f",{zoom}"))
        if ok and view == last:
            page.wait_for_timeout(250)
            if leaflet.evaluate(_VIEW_JS) == view:
                return
        last = view if ok else None
        page.wait_for_timeout(250)
    raise AssertionError(f"the map did not settle (last view {last!r}, wanted zoom {zoom})")


#: Leaflet.draw's polygon tool, found through the draw control folium puts on ``window``
_HANDLER_JS = """(() => {
  const control = Object.keys(window).map(k => window[k])
    .find(v => v && v._toolbars && v._toolbars.draw);
  return control ? control._toolbars.draw._modes.polygon.handler : null;
})()"""

#: The tool takes a new corner: after each corner Leaflet.draw ignores presses until a
#: 50 ms timer clears ``_disableMarkers`` (against double taps). A busy browser runs
#: that timer late — after the next press, which it then drops; a person never
#: taps that fast, a test does.
_READY_JS = f"""() => {{
  const h = {_HANDLER_JS};
  return !!h && h.enabled() && !h._disableMarkers && !h._clickHandled && !h._mouseDownOrigin;
}}"""


def _drawing_state(page: Page, x: int, y: int) -> str:
    """The element under a point of the map and the drawing tool's state, for a failure."""
    return map_frame_handle(page).evaluate(
        f"""([x, y]) => {{
          const m = window.map_div, r = m.getContainer().getBoundingClientRect();
          const el = document.elementFromPoint(r.left + x, r.top + y);
          const h = {_HANDLER_JS};
          const c = m.getCenter();
          return JSON.stringify({{element: el ? el.tagName + "." + el.className : null,
                                 view: [c.lat.toFixed(5), c.lng.toFixed(5), m.getZoom()],
                                 drawing: h ? h.enabled() : null,
                                 corners: h && h._markers ? h._markers.length : null,
                                 disableMarkers: h ? h._disableMarkers : null}});
        }}""", [x, y])


def draw_polygon(page: Page, points: list[tuple[int, int]], *, zoom: int | None = None,
                 tap_timeout: float = 10_000) -> None:
    """Draw a polygon with Leaflet.draw's polygon tool: one click per corner, then Finish.

    ``points`` are pixel positions inside the map (at least three).
    """
    assert len(points) >= 3, points
    wait_for_still_map(page, zoom=zoom)
    frame = map_frame(page)
    leaflet = map_frame_handle(page)
    frame.get_by_role("link", name="Draw a polygon").click()
    finish = frame.locator(".leaflet-draw-actions a", has_text="Finish")
    expect(finish).to_be_visible(timeout=tap_timeout)
    canvas = frame.locator("#map_div")
    vertices = frame.locator(VERTEX)
    for n, (x, y) in enumerate(points, start=1):
        leaflet.wait_for_function(_READY_JS, timeout=tap_timeout)
        canvas.click(position={"x": x, "y": y})
        try:
            expect(vertices).to_have_count(n, timeout=tap_timeout)
        except AssertionError as exc:
            screenshot(page, f"draw-failed-corner-{n}")
            raise AssertionError(f"corner {n} at ({x}, {y}) did not register; "
                                 f"{_drawing_state(page, x, y)}") from exc
    leaflet.wait_for_function(_READY_JS, timeout=tap_timeout)
    finish.click()
    try:
        expect(vertices).to_have_count(0, timeout=tap_timeout)
    except AssertionError as exc:
        screenshot(page, "draw-failed-finish")
        raise AssertionError("Leaflet.draw did not close the polygon on Finish") from exc


#: the map's labels as drawn: how many sector, neighbour and hazard labels, and how many
#: pairs of them overlap; a sector's or neighbour's label must keep off a permanent
#: permanent tooltip (a sighting's time) too, a hazard's label need not
_LABEL_CLASHES_JS = """() => {
    const tips = [];
    window.map_div.eachLayer((l) => {
        const t = l.getTooltip ? l.getTooltip() : null;
        if (t && t.options.permanent && t.getElement && t.getElement()) tips.push(t.getElement());
    });
    const kind = (e) => !e.classList.contains('wayhome-sector-label') ? 'tip'
        : e.classList.contains('wayhome-hazard-label') ? 'hazard' : 'sector';
    const all = [...document.querySelectorAll('.wayhome-sector-label'), ...tips]
        .map(e => [kind(e), e.getBoundingClientRect()]).filter(([_, r]) => r.width > 0);
    let clashes = 0;
    for (let i = 0; i < all.length; i++) for (let j = i + 1; j < all.length; j++) {
        const [ka, a] = all[i], [kb, b] = all[j];
        const counted = ka === 'tip' || kb === 'tip' ? ka === 'sector' || kb === 'sector'
                                                     : true;
        if (counted && a.left < b.right - 1 && b.left < a.right - 1 &&
            a.top < b.bottom - 1 && b.top < a.bottom - 1) clashes++;
    }
    return [all.filter(([k]) => k !== 'tip').length, clashes];
}"""


def label_clashes(leaflet: Frame) -> tuple[int, int]:
    """(labels shown, pairs of labels covering each other) in the map frame ``leaflet``."""
    shown, clashes = leaflet.evaluate(_LABEL_CLASHES_JS)
    return int(shown), int(clashes)
