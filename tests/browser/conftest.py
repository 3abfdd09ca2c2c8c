"""Real-browser fixtures: the app in a subprocess, Debian's Chromium, no way out.

Reusable by every browser test (mark them ``@pytest.mark.browser``):

``app_server`` (module scope)
    The app running headless on a free 127.0.0.1 port; ``app_server.url``.
    Its environment is the test run's plus ``WAYHOME_TILES=none``, a fresh
    ``WAYHOME_SQLITE_PATH`` in a temporary folder, plus the module's
    ``APP_ENV`` dict if it defines one. ``DATABASE_URL`` passes through, so the
    PostGIS run of ``scripts/test`` drives the app on PostGIS.
``start_app(env=None, script="app.py", args=())``
    Start another server yourself (returns an :class:`AppServer`; call
    ``.stop()``, or use the ``app_factory`` fixture which stops them for you).
``hermetic`` (function scope)
    Installs a :class:`NetworkGuard` on pytest-playwright's ``context``: every
    request not to 127.0.0.1/localhost is ABORTED and RECORDED; failed
    requests, console errors and uncaught page errors are recorded too.
    ``hermetic.assert_clean()`` fails the test on any of them.
``serve_directory(root)``
    Context manager: serve a folder over HTTP on 127.0.0.1; yields the base URL.
``wait_for_app_run(page)``, ``map_frame(page)`` (a FrameLocator),
``map_frame_handle(page)`` (a Frame, to evaluate JS against ``window.map_div``),
``wait_for_map(page)``,
``screenshot(page, name)`` (writes ``test-artifacts/<name>.png``).
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import BrowserContext, Frame, FrameLocator, Locator, Page, expect

REPO = Path(__file__).resolve().parents[2]
ARTIFACTS = REPO / "test-artifacts"
CHROMIUM = os.environ.get("WAYHOME_CHROMIUM", "/usr/bin/chromium")
#: the map component's frame: titled by its module until a page names it by what it
#: shows (app_pages/widgets/a11y.py marks it data-wayhome-map)
MAP_IFRAME = 'iframe[title="streamlit_folium.st_folium"], iframe[data-wayhome-map]'
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}


# --------------------------------------------------------------------------- browser


#: A real browser driving a live app on a small, busy machine sometimes loses a race
#: the app itself does not have (a rerun lands between two clicks). Like
#: streamlit-folium's own suite, a failed browser test gets a second and third try;
#: every try runs the same assertions, and a test that fails all three fails the run.
#: ``WAYHOME_TEST_BROWSER_RERUNS=0`` turns the retries off, to hunt a flaky test.
BROWSER_RERUNS = int(os.environ.get("WAYHOME_TEST_BROWSER_RERUNS", "2"))


def pytest_collection_modifyitems(config, items):
    if Path(CHROMIUM).exists():
        flaky = pytest.mark.flaky(reruns=BROWSER_RERUNS, reruns_delay=2)
        for item in items:
            if "browser" in item.keywords:
                item.add_marker(flaky)
        return
    skip = pytest.mark.skip(reason=f"no Chromium at {CHROMIUM} (scripts/test installs it as root)")
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-default-apps",
            "--disable-sync",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--metrics-recording-only",
            "--safebrowsing-disable-auto-update",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {
        **browser_context_args,
        "viewport": {"width": 1400, "height": 950},
        "locale": "en-GB",
        "timezone_id": "Europe/London",
        "service_workers": "block",
    }


# --------------------------------------------------------------------------- app server


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class AppServer:
    """A running app: ``url`` (no trailing slash), ``port``, its log file and env."""

    url: str
    port: int
    process: subprocess.Popen
    log_path: Path
    env: dict[str, str]
    workdir: Path

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


def start_app(
    env: dict[str, str] | None = None,
    *,
    script: str = "app.py",
    args: tuple[str, ...] = (),
    timeout: float = 90.0,
    port: int | None = None,
) -> AppServer:
    """Start ``streamlit run <script>`` headless on a free port; wait until healthy.

    ``env`` is added to this process's environment after the test defaults
    (``WAYHOME_TILES=none`` and a fresh ``WAYHOME_SQLITE_PATH``), so a test can
    override either. The server's output goes to ``test-artifacts/`` for
    post-mortems. ``port`` fixes the port (default: a free one), for a test that must
    know the app's address before it starts.
    """
    port = port or free_port()
    workdir = Path(tempfile.mkdtemp(prefix="wayhome-app-"))
    full_env = {
        **os.environ,
        "WAYHOME_TILES": "none",
        "WAYHOME_SQLITE_PATH": str(workdir / "wayhome.sqlite3"),
        "PYTHONUNBUFFERED": "1",
        **(env or {}),
    }
    ARTIFACTS.mkdir(exist_ok=True)
    log_path = ARTIFACTS / f"app-{port}.log"
    cmd = [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        script,
        "--server.headless=true",
        "--server.address=127.0.0.1",
        f"--server.port={port}",
        "--server.fileWatcherType=none",
        "--global.developmentMode=false",
        "--browser.gatherUsageStats=false",
        *args,
    ]
    with open(log_path, "wb") as log:
        process = subprocess.Popen(
            cmd, cwd=REPO, env=full_env, stdout=log, stderr=subprocess.STDOUT
        )
    base = next((a.split("=", 1)[1] for a in args if a.startswith("--server.baseUrlPath=")), "")
    prefix = f"/{base.strip('/')}" if base.strip("/") else ""
    server = AppServer(
        url=f"http://127.0.0.1:{port}{prefix}",
        port=port,
        process=process,
        log_path=log_path,
        env=full_env,
        workdir=workdir,
    )
    deadline = time.monotonic() + timeout
    health = f"{server.url}/_stcore/health"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the app exited with {process.returncode}:\n{server.log()}")
        with contextlib.suppress(OSError):
            with urllib.request.urlopen(health, timeout=2) as r:
                if r.read() == b"ok":
                    return server
        time.sleep(0.25)
    server.stop()
    raise RuntimeError(f"the app did not become healthy in {timeout:.0f} s:\n{server.log()}")


@pytest.fixture(scope="session")
def app_factory() -> Iterator[Callable[..., AppServer]]:
    """``app_factory(env=…, args=…)`` starts an app server that is stopped after the run."""
    servers: list[AppServer] = []

    def make(env: dict[str, str] | None = None, **kwargs) -> AppServer:
        server = start_app(env, **kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.stop()
        shutil.rmtree(server.workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def app_server(request) -> Iterator[AppServer]:
    """One app server per test module, started with the module's ``APP_ENV``."""
    server = start_app(dict(getattr(request.module, "APP_ENV", {})))
    yield server
    server.stop()
    shutil.rmtree(server.workdir, ignore_errors=True)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep test output clean
        pass


@contextlib.contextmanager
def serve_directory(root: Path) -> Iterator[str]:
    """Serve ``root`` on a free 127.0.0.1 port; yield ``http://127.0.0.1:<port>``."""
    handler = functools.partial(_QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


# --------------------------------------------------------------------------- no way out


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in {"data", "blob", "about", "chrome-error"}:
        return True
    return parts.hostname in LOCAL_HOSTS


@dataclass
class NetworkGuard:
    """What the page tried to do beyond this machine, and what went wrong locally."""

    outside: list[str] = field(default_factory=list)  # aborted: not to 127.0.0.1
    failed: list[str] = field(default_factory=list)  # local requests that failed or got 4xx/5xx
    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)

    def install(self, context: BrowserContext) -> NetworkGuard:
        def route(r):
            url = r.request.url
            if is_local(url):
                r.continue_()
            else:
                self.outside.append(url)
                r.abort("blockedbyclient")

        context.route("**/*", route)
        context.on("requestfailed", self._on_failed)
        context.on("response", self._on_response)
        context.on("console", self._on_console)
        context.on("weberror", lambda e: self.page_errors.append(str(e.error)))
        return self

    def _on_failed(self, request) -> None:
        # a file still on its way when its map frame was closed or replaced (a rerun
        # remounted it, or the test moved on): the browser cancels it. That is not a
        # fault of the app; a missing file is a 404 response, caught below, and a
        # refused or reset connection fails with another error.
        if "ERR_ABORTED" in str(request.failure) and "/app/static/" in request.url:
            return
        # a live view's wait for changes, ended by the page (a new render, a navigation,
        # a closed page): the browser cancels it; app_pages/widgets/change_push.py
        if "ERR_ABORTED" in str(request.failure) and "/_wayhome/changes" in request.url:
            return
        if is_local(request.url):
            self.failed.append(f"{request.resource_type} {request.url}: {request.failure}")

    def _on_response(self, response) -> None:
        # a 404 for a script is a response, not a failed request: catch it too
        if response.status >= 400 and is_local(response.url):
            req = response.request
            self.failed.append(f"{req.resource_type} {response.url}: HTTP {response.status}")

    def _on_console(self, msg) -> None:
        if msg.type == "error":
            self.console_errors.append(f"{msg.text} @ {msg.location.get('url', '')}")

    def assert_clean(self, allow_outside: Callable[[str], bool] | None = None) -> None:
        """No outside request (unless ``allow_outside(url)``), no failure, no error."""
        outside = [u for u in self.outside if not (allow_outside and allow_outside(u))]
        # A request we aborted ourselves shows up as a console error; that is not a fault.
        errors = [
            e for e in self.console_errors
            if not (allow_outside and "ERR_BLOCKED_BY_CLIENT" in e)
        ]
        problems = {
            "requests to other hosts": outside,
            "failed local requests": self.failed,
            "console errors": errors,
            "uncaught page errors": self.page_errors,
        }
        assert not any(problems.values()), "\n".join(
            f"{k}: {v}" for k, v in problems.items() if v
        )


@pytest.fixture
def hermetic(context: BrowserContext) -> NetworkGuard:
    """Abort and record every request that leaves this machine (see module docstring)."""
    return NetworkGuard().install(context)


# --------------------------------------------------------------------------- helpers


def nav_link(page: Page, name: str) -> Locator:
    """The top menu's link ``name``, opening the menu's "N more" overflow first when the
    link did not fit in the width (the menu grows as pages are added)."""
    link = page.get_by_role("link", name=name, exact=True)
    if link.count() and link.first.is_visible():
        return link.first
    page.get_by_role("button", name=re.compile(r"^\d+ more$")).click()
    return page.get_by_role("menuitem", name=name, exact=True)


def wait_for_app_run(page: Page, timeout: float = 60_000) -> None:
    """Wait until Streamlit is connected and the script run has finished."""
    page.wait_for_timeout(300)  # let a rerun triggered just now start
    page.locator("[data-testid='stApp'][data-test-connection-state='CONNECTED']").wait_for(
        state="attached", timeout=timeout
    )
    page.locator("[data-testid='stApp'][data-test-script-state='notRunning']").wait_for(
        state="attached", timeout=timeout
    )
    expect(page.locator("[data-testid='stSkeleton']")).to_have_count(0, timeout=timeout)


def map_frame(page: Page) -> FrameLocator:
    return page.frame_locator(MAP_IFRAME)


def map_frame_handle(page: Page) -> Frame:
    """The map iframe as a :class:`Frame`, to run JS against Leaflet (``window.map_div``)."""
    for frame in page.frames:
        if "streamlit_folium" in frame.url:
            return frame
    raise AssertionError("no streamlit-folium map frame on the page")


def wait_for_map(page: Page, timeout: float = 30_000) -> FrameLocator:
    """Wait until the Leaflet map is visible in its component iframe."""
    frame = map_frame(page)
    expect(frame.locator("#map_div.leaflet-container")).to_be_visible(timeout=timeout)
    return frame


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save a PNG under ``test-artifacts/`` and return its path."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
