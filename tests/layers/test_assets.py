"""Leaflet and jQuery are copied from installed packages and served by the app."""

from __future__ import annotations

import os

from layers.assets import asset_urls, install_assets, static_url, vendored_files


def test_every_vendored_file_exists_in_its_package():
    files = vendored_files()
    assert any(rel == "leaflet/leaflet.js" for _, rel in files)
    assert any(rel == "jquery/jquery.min.js" for _, rel in files)
    for src, _ in files:
        assert src.is_file() and src.stat().st_size > 0, src


def test_install_copies_then_leaves_files_alone(tmp_path):
    vendor = install_assets(tmp_path)
    assert vendor == tmp_path / "vendor"
    js = vendor / "leaflet" / "leaflet.js"
    assert b"Leaflet" in js.read_bytes()[:400]
    assert (vendor / "leaflet" / "images" / "marker-icon.png").is_file()
    assert not js.is_symlink()  # Streamlit refuses files whose real path is outside static/
    before = {p: p.stat().st_mtime_ns for p in vendor.rglob("*") if p.is_file()}
    inode = js.stat().st_ino
    install_assets(tmp_path)
    assert js.stat().st_ino == inode  # not rewritten
    assert {p: p.stat().st_mtime_ns for p in vendor.rglob("*") if p.is_file()} == before
    assert not list(vendor.rglob(".tmp-*"))


def test_install_repairs_a_damaged_copy(tmp_path):
    vendor = install_assets(tmp_path)
    js = vendor / "leaflet" / "leaflet.js"
    js.write_text("broken")
    install_assets(tmp_path)
    src = next(s for s, rel in vendored_files() if rel == "leaflet/leaflet.js")
    assert js.read_bytes() == src.read_bytes()
    os.utime(js, ns=(1, 1))  # same size, other mtime: copied again
    install_assets(tmp_path)
    assert js.stat().st_mtime_ns == src.stat().st_mtime_ns


def test_urls_respect_the_base_url_path():
    assert static_url("") == "/app/static"
    assert static_url("/wayhome/") == "/wayhome/app/static"
    urls = asset_urls("search/wayhome")
    assert all(u.startswith("/search/wayhome/app/static/vendor/") for u in urls.all_urls())
    assert urls.marker_images == "/search/wayhome/app/static/vendor/leaflet/images/"
    assert [n for n, _ in urls.js] == ["leaflet", "jquery"]  # Leaflet loads first
    assert "v=1.9.3" in urls.js[0][1]
