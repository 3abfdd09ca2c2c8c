"""Two app replicas behind deploy/nginx/wayhome.conf on one PostGIS store, in real Chromium.

The nginx configuration runs as shipped (ports and paths substituted, a
self-signed certificate made on the spot; ``tests/deploy/nginx_proxy.py``) in
front of two ``streamlit run`` replicas with the same cookie secret, base path
``/wayhome`` and ``WAYHOME_TRUSTED_PROXY_HOPS=1``. Each browser is sent to a
replica by setting the configuration's own ``wayhome_route`` cookie.

* a coordinator on replica A and a team lead on replica B see each other's
  changes live (pushed through PostgreSQL's notifications to the other process);
* a GPS track uploaded through the balancer is saved (Streamlit's uploads need
  every request of a session on one replica);
* replica A is killed under an open family page: the page reconnects through
  nginx to replica B (a new session there), still holding the tip the family was
  writing, which is then sent once;
* the views' own timers are set longer than any test (600 s), so every change
  above reaches the other page by being pushed to it: the family page shows a
  sector shared by a coordinator elsewhere, on A and again on B after the kill.

PostgreSQL only (SQLite is one file on one machine: no replicas); needs nginx.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from shapely.geometry import box

from casefile import open_store, utcnow
from tests.browser.conftest import AppServer, screenshot, start_app, wait_for_app_run
from tests.browser.stores import IS_PG, module_store_url
from tests.browser.test_case_live import sign_in
from tests.deploy.nginx_proxy import Nginx, nginx_binary, start_nginx
from wayhome.demo import load_demo

pytestmark = [
    pytest.mark.browser,
    pytest.mark.timeout(300),
    pytest.mark.skipif(not IS_PG, reason="replicas share one PostgreSQL + PostGIS store: "
                       "runs in the PostGIS stage (DATABASE_URL=postgresql://...)"),
    pytest.mark.skipif(nginx_binary() is None,
                       reason="nginx is not installed (scripts/test installs it as root)"),
]

PASSWORD = "replicas browser test password"
TIP = "Boy in a green jumper by the boating lake"


@dataclass
class Deployment:
    proxy: Nginx
    replicas: dict[str, AppServer]
    store_url: str
    case_id: int
    team_link: str
    family_link: str
    sector_code: str
    track: Path

    def browser(self, browser: Browser, route: str) -> BrowserContext:
        """A browser context pinned to replica ``route`` by the proxy's own cookie."""
        context = browser.new_context(ignore_https_errors=True)
        context.add_cookies([{"name": "wayhome_route", "value": route, "domain": "127.0.0.1",
                              "path": "/wayhome/", "secure": True, "httpOnly": True}])
        return context

    @property
    def url(self) -> str:
        return self.proxy.url.rstrip("/")


def _gpx(sector) -> str:
    """A walk west to east through the middle of the sector, one point every 8 s."""
    minx, miny, maxx, maxy = sector.bounds
    lat = (miny + maxy) / 2
    start = utcnow() - timedelta(hours=1)
    points = "".join(
        f'<trkpt lat="{lat:.6f}" lon="{minx + (maxx - minx) * i / 19:.6f}">'
        f"<time>{(start + timedelta(seconds=8 * i)).strftime('%Y-%m-%dT%H:%M:%SZ')}</time>"
        "</trkpt>"
        for i in range(20)
    )
    return ('<?xml version="1.0"?><gpx version="1.1" creator="test" '
            'xmlns="http://www.topografix.com/GPX/1/1"><trk><trkseg>'
            f"{points}</trkseg></trk></gpx>")


@pytest.fixture(scope="module")
def deployment(tmp_path_factory) -> Iterator[Deployment]:
    with module_store_url("replicas") as url:
        store = open_store(url)
        try:
            demo = load_demo(store, password=PASSWORD)
            coord = store.authenticate("demo.coordinator", PASSWORD)
            case = store.get_case(coord, demo.case_id)
            lat, lon = case.ipp
            area = box(lon + 0.004, lat + 0.002, lon + 0.007, lat + 0.0038)
            team = store.create_team(coord, case.id, name="Red", org_type="met_bcu")
            sector = store.create_sector(coord, case.id, geometry=area, name="Boating lake",
                                         on_overlap="keep", reason="test layout")
            store.assign_sector(coord, sector.id, team.id, version=sector.version,
                                on_overlap="keep", reason="test layout")
            lead = store.issue_link(coord, case.id, role="team_lead", label="Red lead",
                                    team_id=team.id)
            family = store.issue_link(coord, case.id, role="family", label="Mum's phone")
        finally:
            store.close()
        track = tmp_path_factory.mktemp("tracks") / "lake-walk.gpx"
        track.write_text(_gpx(area))
        env = {
            "WAYHOME_DATABASE_URL": url,
            "STREAMLIT_SERVER_COOKIE_SECRET": secrets.token_hex(32),  # the same on both
            "WAYHOME_TRUSTED_PROXY_HOPS": "1",
            # the views' own timers never fire within a test: a change can only reach
            # another page by being pushed (app_pages/widgets/change_push.py)
            "WAYHOME_PUSHED_POLL_SECONDS": "600",
        }
        args = ("--server.baseUrlPath=wayhome",)
        replicas = {"a": start_app(env, args=args), "b": start_app(env, args=args)}
        proxy = start_nginx([replicas["a"].port, replicas["b"].port])
        try:
            yield Deployment(proxy, replicas, url, case.id, lead.token, family.token,
                             sector.code, track)
        finally:
            proxy.stop()
            for server in replicas.values():
                server.stop()
                shutil.rmtree(server.workdir, ignore_errors=True)


def _planned(page) -> int:
    """The family page's "Planned: K" count."""
    line = page.get_by_text(re.compile(r"Planned: \d+"))
    expect(line).to_be_visible(timeout=30_000)
    return int(re.search(r"Planned: (\d+)", line.inner_text()).group(1))


def _share_a_sector(deployment: Deployment, name: str) -> None:
    """A coordinator's new sector, ready (the family sees it as planned), from this process."""
    store = open_store(deployment.store_url)
    try:
        coord = store.authenticate("demo.coordinator", PASSWORD)
        lat, lon = store.get_case(coord, deployment.case_id).ipp
        shift = 0.003 if name.endswith("A") else 0.006
        area = box(lon - 0.010 - shift, lat - 0.004, lon - 0.008 - shift, lat - 0.0025)
        sector = store.create_sector(coord, deployment.case_id, geometry=area, name=name,
                                     on_overlap="keep", reason="test layout")
        store.set_sector_status(coord, sector.id, "ready", version=sector.version)
    finally:
        store.close()


def _sector_assigned_again(deployment: Deployment) -> None:
    """The test's sector back to "assigned" if an earlier try left it started."""
    store = open_store(deployment.store_url)
    try:
        coord = store.authenticate("demo.coordinator", PASSWORD)
        (sector,) = [s for s in store.sectors(coord, deployment.case_id)
                     if s.code == deployment.sector_code]
        if sector.status == "in_progress":
            sector = store.set_sector_status(coord, sector.id, "suspended",
                                             version=sector.version)
        if sector.status != "assigned":
            (red,) = [t for t in store.teams(coord, deployment.case_id) if t.name == "Red"]
            store.assign_sector(coord, sector.id, red.id, version=sector.version,
                                on_overlap="keep", reason="test layout")
    finally:
        store.close()


def _stream_upstreams(proxy: Nginx) -> list[str]:
    """Which replica ports served the WebSockets that have closed so far."""
    lines = proxy.access_log.read_text().splitlines()
    return [re.search(r'upstream="(?:[\d.:]+, )?127\.0\.0\.1:(\d+)"', line).group(1)
            for line in lines if "/wayhome/_stcore/stream" in line and '" 101 ' in line]


def test_coordinator_on_one_replica_and_team_lead_on_the_other_see_each_other_live(
    browser: Browser, deployment: Deployment
):
    _sector_assigned_again(deployment)  # a rerun after a failed try starts as the first did
    coordinator = deployment.browser(browser, "a").new_page()
    sign_in(coordinator, deployment.url, "demo.coordinator", PASSWORD)
    coordinator.get_by_role("link", name="Sectors", exact=True).click()
    wait_for_app_run(coordinator)
    caption = coordinator.get_by_text(re.compile(r"^\d+ sectors \("))
    expect(caption).to_contain_text("1 assigned", timeout=30_000)

    lead_context = deployment.browser(browser, "b")
    lead = lead_context.new_page()
    lead.goto(f"{deployment.url}/?link={deployment.team_link}")
    wait_for_app_run(lead)
    expect(lead.get_by_role("heading", name="Red: my sectors")).to_be_visible(timeout=30_000)

    # the team lead (replica B) starts the sector: the coordinator's map (A) says so
    lead.get_by_role("button", name=f"Start searching {deployment.sector_code}").click()
    wait_for_app_run(lead)
    expect(lead.get_by_text(f"{deployment.sector_code} · in progress")).to_be_visible(
        timeout=30_000)
    expect(caption).to_contain_text("1 in progress", timeout=15_000)
    screenshot(coordinator, "replicas-coordinator-sees-team-lead")

    # the coordinator (A) changes the description for searchers: the team lead (B) sees it
    coordinator.get_by_role("link", name="Cases", exact=True).click()
    wait_for_app_run(coordinator)
    coordinator.get_by_text("Edit this case", exact=True).click()
    edit = coordinator.locator("[data-testid='stForm']").filter(
        has=coordinator.get_by_role("button", name="Save changes"))
    edit.get_by_label("Description for searchers").fill("Now wearing a red cap")
    edit.get_by_role("button", name="Save changes").click()
    wait_for_app_run(coordinator)
    expect(coordinator.get_by_text(re.compile(r"^Saved case "))).to_be_visible(timeout=30_000)
    expect(lead.get_by_text("Now wearing a red cap")).to_be_visible(timeout=15_000)
    screenshot(lead, "replicas-team-lead-sees-coordinator")

    # an upload through the balancer: its session's requests all reach replica B
    lead.locator("[data-testid='stFileUploaderDropzoneInput']").first.set_input_files(
        str(deployment.track))
    lead.wait_for_timeout(500)
    lead.get_by_role("button", name="Upload the track").click()
    wait_for_app_run(lead)
    # (a rerun after a failed try finds the same file already saved)
    expect(lead.get_by_text(re.compile("Saved lake-walk.gpx|lake-walk.gpx.*uploaded before"))
           ).to_be_visible(timeout=60_000)
    coordinator.context.close()
    lead_context.close()
    ports = {str(deployment.replicas[r].port) for r in ("a", "b")}
    deadline = time.monotonic() + 20  # nginx logs a WebSocket when it closes
    while set(_stream_upstreams(deployment.proxy)) != ports and time.monotonic() < deadline:
        time.sleep(0.2)
    served = _stream_upstreams(deployment.proxy)
    assert set(served) == ports, served  # one browser on each replica, as pinned
    assert "invalid session" not in (deployment.replicas["b"].log()).lower()


def test_a_replica_killed_under_a_family_page_hands_it_to_the_other(
    browser: Browser, deployment: Deployment
):
    family = deployment.browser(browser, "a").new_page()
    family.goto(f"{deployment.url}/?link={deployment.family_link}")
    wait_for_app_run(family)
    expect(family.get_by_role("heading", name="Search progress")).to_be_visible(timeout=30_000)
    planned = _planned(family)
    _share_a_sector(deployment, "Pushed to A")  # a coordinator elsewhere: pushed to the page
    expect(family.get_by_text(f"Planned: {planned + 1}")).to_be_visible(timeout=30_000)
    family.get_by_label("Where? A postcode").fill("EC2Y 5AG")
    family.get_by_label("What did you see or hear?").fill(TIP)

    deployment.replicas["a"].process.kill()  # the replica dies mid-visit
    deployment.replicas["a"].process.wait(timeout=10)
    # the page notices, reconnects through the proxy to replica B and runs again there
    app = family.locator("[data-testid='stApp']")
    expect(app).not_to_have_attribute("data-test-connection-state", "CONNECTED",
                                      timeout=30_000)
    expect(app).to_have_attribute("data-test-connection-state", "CONNECTED", timeout=60_000)
    wait_for_app_run(family)
    expect(family.get_by_role("heading", name="Search progress")).to_be_visible(timeout=30_000)
    screenshot(family, "replicas-family-after-failover")
    # a new session on B, but the browser kept what the family had typed: they resend it
    expect(family.get_by_label("What did you see or hear?")).to_have_value(TIP)
    expect(family.get_by_label("Where? A postcode")).to_have_value("EC2Y 5AG")
    _share_a_sector(deployment, "Pushed to B")  # B pushes it too; the typing stays
    expect(family.get_by_text(f"Planned: {planned + 2}")).to_be_visible(timeout=30_000)
    expect(family.get_by_label("What did you see or hear?")).to_have_value(TIP)
    family.get_by_role("button", name="Send the tip").click()
    wait_for_app_run(family)
    expect(family.get_by_text("Thank you — the coordinator has your tip.")).to_be_visible(
        timeout=30_000)
    cookies = {c["name"]: c["value"] for c in family.context.cookies()}
    assert cookies["wayhome_route"] == "b"  # pinned to the replica that answered
    family.context.close()
    store = open_store(deployment.store_url)
    try:
        coord = store.authenticate("demo.coordinator", PASSWORD)
        tips = [r for r in store.triage_queue(coord, deployment.case_id)
                if r.kind == "tip" and r.text == TIP]
        assert len(tips) == 1
    finally:
        store.close()
    logs = deployment.proxy.logs()
    assert deployment.family_link not in logs and deployment.team_link not in logs
    assert "/wayhome/_wayhome/changes" in logs  # the page waited for changes, by path only
