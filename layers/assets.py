"""The map's JavaScript, CSS and images, served by the app itself (no CDN).

Police and NGO networks often block CDNs, and streamlit-folium gives up on the
first script that fails to load, leaving a blank map. So Wayhome serves every
front-end file it uses from its own origin:

* the files come from Python packages the ordinary installer brings in
  (``xstatic-leaflet`` for Leaflet 1.9.3 and its images, ``xstatic-jquery``
  for jQuery 3.7.1, which folium's ``Popup`` needs, and ``django-leaflet``
  for Leaflet.draw 1.0.4, the coordinator's drawing tools, with its toolbar
  sprites). ``django-leaflet`` is only a carrier: its files are located
  through the package metadata and Django is never imported;
* :func:`install_assets` copies them, at start-up, into ``static/vendor/``
  beside ``dashboard.py`` (git ignores that folder: third-party files are never
  committed). Copying is idempotent and cheap: a file is rewritten only when its
  size or modification time differs from the package's copy;
* Streamlit's static file serving (``server.enableStaticServing``) serves that
  folder under ``<baseUrlPath>/app/static/``; :func:`asset_urls` builds the URLs
  with the deployment's ``server.baseUrlPath``.

Nothing here imports Streamlit: the page passes the static folder and the base
URL path in.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "VENDOR_DIR",
    "AssetUrls",
    "DrawUrls",
    "Vendored",
    "asset_urls",
    "draw_urls",
    "install_assets",
    "static_url",
    "vendored_files",
]

#: Folder under the app's ``static/`` folder that holds generated files.
VENDOR_DIR = "vendor"


@dataclass(frozen=True)
class Vendored:
    """One front-end package whose files are copied into ``static/vendor/<name>/``."""

    name: str  # folder under static/vendor/
    module: str  # xstatic module that carries the files
    files: tuple[str, ...]  # paths relative to the module's BASE_DIR

    def base_dir(self) -> Path:
        return Path(importlib.import_module(self.module).BASE_DIR)

    def version(self) -> str:
        return str(importlib.import_module(self.module).VERSION)


LEAFLET = Vendored(
    name="leaflet",
    module="xstatic.pkg.leaflet",
    files=(
        "leaflet.js",
        "leaflet.js.map",
        "leaflet.css",
        "images/layers.png",
        "images/layers-2x.png",
        "images/marker-icon.png",
        "images/marker-icon-2x.png",
        "images/marker-shadow.png",
    ),
)
JQUERY = Vendored(
    name="jquery",
    module="xstatic.pkg.jquery",
    files=("jquery.min.js", "jquery.min.map"),
)


@dataclass(frozen=True)
class DistVendored(Vendored):
    """Front-end files inside an installed distribution that is not an xstatic package.

    ``module`` is then the distribution name and ``folder`` the files' folder
    inside it. The files are found through the distribution's metadata
    (``importlib.metadata``), so nothing of the carrier package is imported.
    """

    folder: str = ""

    def base_dir(self) -> Path:
        dist = importlib.metadata.distribution(self.module)
        return Path(str(dist.locate_file(self.folder)))

    def version(self) -> str:
        return importlib.metadata.version(self.module)


LEAFLET_DRAW = DistVendored(
    name="leaflet-draw",
    module="django-leaflet",
    folder="leaflet/static/leaflet/draw",
    files=(
        "leaflet.draw.js",
        "leaflet.draw.css",
        "images/spritesheet.png",
        "images/spritesheet-2x.png",
        "images/spritesheet.svg",
    ),
)
#: Everything the map loads, in the order scripts must run.
PACKAGES: tuple[Vendored, ...] = (LEAFLET, JQUERY, LEAFLET_DRAW)


def vendored_files() -> list[tuple[Path, str]]:
    """(source file in the installed package, target path under ``static/vendor/``)."""
    out = []
    for pkg in PACKAGES:
        base = pkg.base_dir()
        for rel in pkg.files:
            out.append((base / rel, f"{pkg.name}/{rel}"))
    return out


def _up_to_date(src: Path, dst: Path) -> bool:
    try:
        s, d = src.stat(), dst.stat()
    except FileNotFoundError:
        return False
    return s.st_size == d.st_size and s.st_mtime_ns == d.st_mtime_ns


def install_assets(static_dir: Path) -> Path:
    """Copy the vendored front-end files into ``static_dir/vendor/``; return that folder.

    Safe to call on every start-up and from several processes at once: files
    already up to date are left alone, and each copy is written to a temporary
    file and renamed into place, so a browser never sees half a file. Copies
    (never symlinks) are made, because Streamlit refuses to serve a static file
    whose real path lies outside ``static/``.
    """
    vendor = Path(static_dir) / VENDOR_DIR
    for src, rel in vendored_files():
        dst = vendor / rel
        if _up_to_date(src, dst):
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=".tmp-", suffix=dst.suffix)
        os.close(fd)
        try:
            shutil.copy2(src, tmp)  # copy2 keeps the mtime that _up_to_date compares
            os.replace(tmp, dst)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
    return vendor


def static_url(base_url_path: str = "") -> str:
    """URL path of the app's static folder, e.g. ``/app/static`` or ``/wayhome/app/static``.

    ``base_url_path`` is Streamlit's ``server.baseUrlPath`` (with or without
    slashes). The URL is origin-relative, which works inside the map's
    component iframe because it is served from the app's own origin.
    """
    base = base_url_path.strip("/")
    return f"/{base}/app/static" if base else "/app/static"


@dataclass(frozen=True)
class AssetUrls:
    """Where the map finds its front-end files; handed to :mod:`layers.basemap`."""

    js: tuple[tuple[str, str], ...]  # (name, url) in load order, as folium's default_js
    css: tuple[tuple[str, str], ...]  # (name, url), as folium's default_css
    marker_images: str  # folder URL ending in "/", for L.Icon.Default.imagePath
    vendor: str  # URL of static/vendor/, ending in "/"

    def all_urls(self) -> list[str]:
        return [u for _, u in self.js] + [u for _, u in self.css]


def asset_urls(base_url_path: str = "") -> AssetUrls:
    """The URLs of the self-served Leaflet and jQuery files.

    Each URL carries the package version as a query string so that a browser
    cache never mixes an old file with a new release.
    """
    vendor = f"{static_url(base_url_path)}/{VENDOR_DIR}/"
    lv, jv = LEAFLET.version(), JQUERY.version()
    return AssetUrls(
        js=(
            ("leaflet", f"{vendor}leaflet/leaflet.js?v={lv}"),
            ("jquery", f"{vendor}jquery/jquery.min.js?v={jv}"),
        ),
        css=(("leaflet_css", f"{vendor}leaflet/leaflet.css?v={lv}"),),
        marker_images=f"{vendor}leaflet/images/",
        vendor=vendor,
    )


@dataclass(frozen=True)
class DrawUrls:
    """Where the drawing tools find Leaflet.draw; handed to :mod:`layers.draw`."""

    js: tuple[tuple[str, str], ...]  # (name, url), as folium's Draw.default_js
    css: tuple[tuple[str, str], ...]  # (name, url), as folium's Draw.default_css

    def all_urls(self) -> list[str]:
        return [u for _, u in self.js] + [u for _, u in self.css]


def draw_urls(base_url_path: str = "") -> DrawUrls:
    """The URLs of the self-served Leaflet.draw script and style sheet.

    The style sheet names its toolbar sprites relative to itself
    (``images/spritesheet.svg``), so they load from the same folder. The
    version in the query string is the carrier package's (django-leaflet).
    """
    vendor = f"{static_url(base_url_path)}/{VENDOR_DIR}/{LEAFLET_DRAW.name}/"
    v = LEAFLET_DRAW.version()
    return DrawUrls(
        js=(("leaflet_draw_js", f"{vendor}leaflet.draw.js?v={v}"),),
        css=(("leaflet_draw_css", f"{vendor}leaflet.draw.css?v={v}"),),
    )
