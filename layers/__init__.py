"""Floor 2: Wayhome's domain records drawn as folium layers.

* :mod:`layers.assets` — the self-served Leaflet/jQuery files (no CDN);
* :mod:`layers.escape` — escaping of every string that reaches the map;
* :mod:`layers.styles`, :mod:`layers.legend` — line styles and the legend;
* :mod:`layers.boundaries` — force, BCU, borough and ward layers;
* :mod:`layers.basemap` — the London base map and the changing place marker;
* :mod:`layers.templates` — folium rendering without recompiling rendered text
  (installed on import of this package).

No database and no Streamlit here: pages pass in what they read and where the
app serves its static files.
"""

from layers.templates import install as _install_templates

_install_templates()
