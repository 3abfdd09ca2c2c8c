"""axe-core accessibility checks in the browser tests, served from a local npm install.

``scripts/test`` installs the npm package ``axe-core`` (4.x) into ``.axe/`` at the
repository's root; this module reads ``axe.min.js`` from there and injects it
into a page or a frame (the map's iframe too) — never from a CDN. :func:`check`
runs every rule and returns the violations; :func:`assert_no_serious` fails on
any critical or serious one, listing them.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Frame, Page, expect

ROOT = Path(__file__).resolve().parents[2]
AXE_JS = ROOT / ".axe" / "node_modules" / "axe-core" / "axe.min.js"
SERIOUS = ("critical", "serious")
#: rules about a whole page: in a frame they are answered by the page around it (axe
#: skips them in frames when it runs across frames itself)
PAGE_LEVEL = ("landmark-one-main", "page-has-heading-one", "region", "bypass",
              "document-title", "html-has-lang")


@cache
def axe_source() -> str:
    if not AXE_JS.is_file():
        pytest.fail(f"axe-core is not installed: run scripts/test, or "
                    f"npm install --prefix .axe axe-core@4 (looked for {AXE_JS})")
    return AXE_JS.read_text(encoding="utf-8")


def check(target: Page | Frame, *, disable: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Inject axe-core into ``target`` (if not there yet) and run it on its document.

    Frames inside ``target`` are checked separately (``iframes: false``), each with
    its own call: axe-core's cross-frame messaging is not needed then.
    """
    if not target.evaluate("() => typeof window.axe !== 'undefined'"):
        # evaluated by the browser's debugging protocol, which the page's Content-
        # Security-Policy (no inline script) does not govern: the page stays as served
        target.evaluate(axe_source() + "\n;undefined")
        assert target.evaluate("() => typeof window.axe !== 'undefined'"), "axe did not load"
    result = target.evaluate(
        """async (disable) => {
            const rules = {};
            for (const id of disable) rules[id] = {enabled: false};
            const r = await window.axe.run(document, {iframes: false, rules});
            return r.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 5).map((n) => ({
                    target: n.target, html: n.html.slice(0, 200), summary: n.failureSummary,
                })),
            }));
        }""",
        list(disable),
    )
    return list(result)


def serious(violations: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [v for v in violations if v["impact"] in SERIOUS]


def describe(violations: list[dict[str, Any]]) -> str:
    return "\n".join(f"{v['impact']}: {v['id']} ({v['help']}) {v['nodes']}" for v in violations)


#: rules this app once failed (issue: accessibility of the field and family views), held
#: at any impact, moderate ones too
FIXED = ("color-contrast", "meta-viewport", "frame-title", "landmark-one-main",
         "page-has-heading-one", "heading-order", "region")


def assert_no_serious(target: Page | Frame, *, disable: tuple[str, ...] = (),
                      also: tuple[str, ...] = ()) -> list[dict[str, Any]]:
    """Fail on any critical or serious violation, and on any of the rules ``also``
    whatever its impact; return every violation (to look at).

    In a frame (the map's iframe) the page-level rules are left to the page.
    """
    if isinstance(target, Frame) and target.parent_frame is not None:
        disable = (*disable, *PAGE_LEVEL)
    found = check(target, disable=disable)
    bad = [v for v in found if v["impact"] in SERIOUS or v["id"] in also]
    assert not bad, describe(bad)
    return found


#: the map frame's title must say what it shows, never the component's module name
MODULE_TITLE = "streamlit_folium.st_folium"


def map_frames(page: Page) -> list[Frame]:
    """Every map component frame of ``page`` (streamlit-folium's iframes)."""
    return [f for f in page.frames if "streamlit_folium" in f.url]


def pinch_zoom_blocked(frame: Page | Frame) -> list[str]:
    """The viewport settings of ``frame`` that stop a phone zooming (should be none)."""
    contents = frame.evaluate(
        "() => [...document.querySelectorAll('meta[name=viewport]')].map(m => m.content)")
    return [c for c in contents
            if "maximum-scale=1" in c.replace(" ", "") or "user-scalable=no" in c.replace(" ", "")]


def assert_view_accessible(page: Page, *, maps: int = 1) -> list[dict[str, Any]]:
    """The page and each of its ``maps`` map frames: no critical or serious violation
    and none of :data:`FIXED`, pinch-zoom allowed everywhere, every map frame titled by
    what it shows.

    Call it once the page has run and its maps are drawn (``wait_for_map``).
    Returns every violation found (moderate and minor ones too, to print).
    """
    # the page's script titles the frame once it is attached: wait for it
    expect(page.locator(f'iframe[title="{MODULE_TITLE}"]')).to_have_count(0, timeout=15_000)
    frames = map_frames(page)
    assert len(frames) >= maps, f"{len(frames)} map frame(s), wanted {maps}"
    titles = page.locator("iframe[data-wayhome-map]")
    for i in range(titles.count()):
        title = titles.nth(i).get_attribute("title") or ""
        assert title and title != MODULE_TITLE, f"map frame {i} is titled {title!r}"
    found = []
    for target in (page, *frames):
        assert not pinch_zoom_blocked(target), (target.url, pinch_zoom_blocked(target))
        found += assert_no_serious(target, also=FIXED)
    return found
