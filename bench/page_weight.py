"""Print how heavy the map page is: Wayhome's first load vs. a naive explore().

    .venv/bin/python bench/page_weight.py

Figures printed (bytes and MB):

* Wayhome's first load: the map HTML (what ``folium`` renders for the base map),
  the part streamlit-folium actually sends to the browser (script + header +
  html), and the boroughs, BCUs and forces files the map fetches as it opens;
  target <= 1 MB;
* the ward file, fetched only when wards are switched on or the user zooms in;
* a naive ``GeoDataFrame.explore()`` of the same layers at full resolution
  (boroughs, 2018 wards, the police forces), all on one map;
* the street layer of a map without tiles, on the Southwark/Lambeth fixture
  (``data/streets``): the bytes of street tiles fetched for a typical street-zoom
  view (a 1000 x 650 pixel map at zoom 16 on Union Street, Southwark), the whole
  extract's tiles for comparison, and the page's total for that view (first load
  plus the street tiles).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from geo.street_tiles import MAX_TILE_BYTES  # noqa: E402
from layers.assets import asset_urls  # noqa: E402
from layers.basemap import base_map, parse_tiles  # noqa: E402
from layers.boundaries import load_boundary_set  # noqa: E402
from layers.streets import streets_index_url  # noqa: E402
from vocab import settings  # noqa: E402

TARGET = 1_000_000


def mb(n: int) -> str:
    return f"{n:>11,} B  {n / 1e6:6.2f} MB"


def wayhome_first_load(static_dir: Path) -> tuple[int, int, int, int]:
    from streamlit_folium import _get_header, _get_html, _get_map_string

    boundaries = load_boundary_set(static_dir)
    streets = streets_index_url()
    html = base_map(boundaries, asset_urls(), parse_tiles("none"),
                    streets=streets).get_root().render()
    m = base_map(boundaries, asset_urls(), parse_tiles("none"), streets=streets)
    m.get_root().render()
    sent = len(_get_map_string(m)) + len(_get_header(m)) + len(_get_html(m))
    folder = static_dir / "vendor" / "boundaries"
    ward_file = next(folder.glob("ward-*.json"))
    fetched = sum(
        f.stat().st_size for kind in boundaries.shown for f in folder.glob(f"{kind}-*.json")
    )
    return len(html.encode()), sent, fetched, ward_file.stat().st_size


def naive_explore() -> tuple[int, str]:
    """Full-resolution boroughs, wards and forces on one map, the naive way.

    Uses ``GeoDataFrame.explore()`` when its optional packages (matplotlib,
    mapclassify) are installed; otherwise the same thing explore() does for a
    plain layer: ``folium.GeoJson`` of ``to_json()`` with every column in a
    tooltip.
    """
    import folium
    import geopandas as gpd

    full = settings.BOUNDARIES_DIR / "full"
    frames = {
        name: gpd.read_parquet(full / f"{name}.parquet").to_crs(4326)
        for name in ("borough", "ward", "force")
    }
    try:
        m = None
        for name, gdf in frames.items():
            m = gdf.explore(m=m, name=name)
        how = "GeoDataFrame.explore()"
    except ImportError:
        m = folium.Map(location=[51.5, -0.1], zoom_start=10)
        for name, gdf in frames.items():
            cols = [c for c in gdf.columns if c != gdf.geometry.name]
            folium.GeoJson(
                gdf.to_json(),
                name=name,
                tooltip=folium.GeoJsonTooltip(fields=cols),
            ).add_to(m)
        how = "explore()-equivalent folium.GeoJson"
    return len(m.get_root().render().encode()), how


#: the typical street-zoom view: centre (lat, lon), zoom, map size in pixels
STREET_VIEW = ((51.5030, -0.1020), 16, (1000, 650))


def street_layer_weight() -> tuple[int, int, int, int, float]:
    """Bytes of street tiles for :data:`STREET_VIEW` on the Southwark fixture.

    Returns (bytes for the view, tiles for the view, bytes of all tiles, all tiles,
    seconds to cut the extract into tiles). The view's tiles are those a browser
    fetches: every zoom-14 tile the view's box meets (as :mod:`layers.streets` asks).
    """
    import math

    import geo
    from geo.street_tiles import TILE_ZOOM, street_tiles, tile_xy

    lines = geo.read_streets(REPO / "data" / "streets" / "southwark_lambeth.osm.pbf")
    t0 = time.perf_counter()
    tiles = street_tiles(lines)
    cut = time.perf_counter() - t0
    (lat, lon), zoom, (width, height) = STREET_VIEW
    # half the view in degrees at this zoom (Web Mercator, 256-pixel tiles)
    deg_per_px = 360.0 / (256 * 2 ** zoom)
    half_w = width / 2 * deg_per_px
    half_h = height / 2 * deg_per_px * math.cos(math.radians(lat))
    x0, y0 = tile_xy(lon - half_w, lat + half_h, TILE_ZOOM)
    x1, y1 = tile_xy(lon + half_w, lat - half_h, TILE_ZOOM)
    seen = [t for t in tiles if x0 <= t.x <= x1 and y0 <= t.y <= y1]
    return (sum(len(t.body) for t in seen), len(seen), sum(len(t.body) for t in tiles),
            len(tiles), cut)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        html, sent, fetched, wards = wayhome_first_load(Path(tmp))
        build = time.perf_counter() - t0
    print("Wayhome map page weight")
    print(f"  first load, map HTML                         {mb(html)}")
    print(f"  first load, sent by streamlit-folium         {mb(sent)}")
    print(f"  first load, boroughs+BCUs+forces files       {mb(fetched)}")
    print(f"  ward layer file (lazy, on demand)            {mb(wards)}")
    print(f"  (built in {build:.2f} s)")
    verdict = "within" if max(html, sent) + fetched <= TARGET else "OVER"
    print(f"  target first load <= {TARGET / 1e6:.1f} MB: {verdict}")
    view, n_view, every, n_all, cut = street_layer_weight()
    print("Street layer (map without tiles), Southwark/Lambeth fixture")
    print(f"  street tiles, zoom-16 view on Union St       {mb(view)}  ({n_view} tiles)")
    print(f"  the whole extract's street tiles             {mb(every)}  ({n_all} tiles)")
    print(f"  page total for that view                     {mb(sent + wards + view)}")
    print("    (first load + ward file, on at zoom 14 + street tiles)")
    print(f"  bound: this view meets at most 4 tiles of <= {MAX_TILE_BYTES:,} B each")
    print(f"  (cut into tiles in {cut:.2f} s; the fixture holds few streets: a dense")
    print("   Greater London extract fills tiles towards the bound)")
    try:
        naive, how = naive_explore()
    except OSError as exc:  # full-resolution layers not built
        print(f"  naive explore(): not measured ({exc})")
        return
    print(f"  naive page, full resolution                  {mb(naive)}")
    print(f"    ({how} of boroughs, 2018 wards and forces)")
    print(f"  first load is {naive / html:.1f}x smaller than the naive page")


if __name__ == "__main__":
    main()
