"""Transformations run on the process's worker threads: same numbers from any thread or process."""

from __future__ import annotations

import os
import threading

import geopandas as gpd
import numpy as np
import shapely
from pyproj import Transformer

from geo import crs


def _reference(lon, lat):
    t = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    return t.transform(lon, lat)


def test_new_threads_get_the_same_metres_without_a_transformer_of_their_own():
    lon, lat = np.linspace(-0.5, 0.3, 50), np.linspace(51.3, 51.7, 50)
    want = _reference(lon, lat)
    got: list = []
    workers = [threading.Thread(target=lambda: got.append(crs.lonlat_to_bng(lon, lat)))
               for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    assert len(got) == 4
    for x, y in got:
        np.testing.assert_array_equal(x, want[0])
        np.testing.assert_array_equal(y, want[1])
    # the work ran on the module's threads, which stay for the next caller
    names = {t.name for t in threading.enumerate()}
    assert any(n.startswith("geo-worker") for n in names)


def test_geometries_round_trip_and_a_forked_child_still_transforms():
    square = shapely.box(-0.11, 51.50, -0.10, 51.51)
    bng = crs.geoms_to_bng(square)
    assert 500_000 < bng.bounds[0] < 560_000 and abs(bng.area - 770_000) < 100_000
    back = crs.geoms_to_lonlat(bng)
    assert shapely.equals_exact(back, square, tolerance=1e-6)  # degrees: about 10 cm
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the parent's worker threads did not come along
        try:
            x, _ = crs.lonlat_to_bng(-0.1, 51.5)
            os.write(write, f"{float(x):.3f}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    child = os.read(read, 64).decode()
    os.close(read)
    assert child == f"{float(crs.lonlat_to_bng(-0.1, 51.5)[0]):.3f}"


def test_frames_in_lon_lat_move_exactly_as_geopandas_moves_them():
    rng = np.random.default_rng(7)
    shapes = [shapely.box(x, y, x + 0.01, y + 0.005)
              for x, y in zip(rng.uniform(-0.5, 0.3, 40), rng.uniform(51.3, 51.7, 40),
                              strict=True)]
    frame = gpd.GeoDataFrame({"id": range(40)}, geometry=shapes, crs="EPSG:4326")
    got = crs.frame_to_bng(frame)
    want = frame.to_crs("EPSG:27700").geometry.to_numpy()
    np.testing.assert_array_equal(shapely.get_coordinates(got), shapely.get_coordinates(want))
    # another CRS still goes through geopandas; a BNG series comes back as it is
    mercator = frame.to_crs("EPSG:3857")
    np.testing.assert_allclose(shapely.get_coordinates(crs.frame_to_bng(mercator)),
                               shapely.get_coordinates(want), atol=1e-3)
    bng = gpd.GeoSeries(want, crs="EPSG:27700")
    assert shapely.equals_exact(crs.frame_to_bng(bng), want, tolerance=0).all()
