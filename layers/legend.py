"""The map legend: what each line style means, and whose data it is, from when.

A Leaflet control in a corner of the map. It is a ``<details>`` element so a
team lead on a phone can fold it away. Its HTML is assembled here from the
layer styles, with every piece of text escaped, and handed to the browser as a
JSON string.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from branca.element import MacroElement
from jinja2 import Template

from layers.escape import safe_text
from layers.styles import BoundaryStyle

__all__ = ["LEGEND_CSS", "MARKS", "Legend", "legend_html"]

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")

#: Styles for the legend and the plain map background (used when there are no tiles).
LEGEND_CSS = """
<style>
html .leaflet-container { background: #f3f1ec; }
.leaflet-interactive:focus:not(:focus-visible) { outline: none; }
.leaflet-control-layers { font: 13px/1.45 system-ui, -apple-system, "Segoe UI", Roboto,
  sans-serif; }
.wayhome-legend { background: rgba(255,255,255,0.94); padding: 6px 9px; border-radius: 6px;
  font: 12px/1.35 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1f2933;
  box-shadow: 0 1px 4px rgba(0,0,0,0.3); max-width: 19rem; }
.wayhome-legend summary { font-weight: 600; cursor: pointer; }
.wayhome-legend ul { list-style: none; margin: 4px 0 2px; padding: 0; }
.wayhome-legend li { display: flex; align-items: center; gap: 6px; margin: 2px 0; }
.wayhome-legend svg { flex: none; }
.wayhome-legend .wayhome-credit { margin-top: 4px; font-size: 11px; color: #52606d; }
</style>
"""


#: Shapes a legend row can show (SVG in a 36x14 box; ``{c}`` is a checked colour).
MARKS: dict[str, str] = {
    "dot": '<circle cx="18" cy="7" r="5" fill="{c}"/>',
    "ring": '<circle cx="18" cy="7" r="5" fill="{c}" fill-opacity="0.15" '
    'stroke="{c}" stroke-width="2.5"/>',
    "dashed-ring": '<circle cx="18" cy="7" r="5" fill="#ffffff" stroke="{c}" '
    'stroke-width="2" stroke-dasharray="3 2"/>',
    "faint-dot": '<circle cx="18" cy="7" r="4" fill="{c}" fill-opacity="0.5" '
    'stroke="{c}" stroke-opacity="0.7"/>',
    "square": '<rect x="11" y="2" width="14" height="10" rx="2" fill="{c}" '
    'stroke="#ffffff"/>',
    "line": '<line x1="2" y1="7" x2="34" y2="7" stroke="{c}" stroke-width="3"/>',
}


def _swatch(style: BoundaryStyle) -> str:
    dash = f' stroke-dasharray="{style.dash}"' if style.dash else ""
    # colour and dash are validated in BoundaryStyle, the numbers are floats.
    return (
        '<svg width="36" height="12" aria-hidden="true">'
        f'<line x1="1" y1="6" x2="35" y2="6" stroke="{style.colour}" '
        f'stroke-width="{float(style.weight):g}" stroke-opacity="{float(style.opacity):g}"{dash}/>'
        "</svg>"
    )


def legend_html(
    styles: Iterable[BoundaryStyle],
    vintages: Mapping[str, str] | None = None,
    extra: Iterable[tuple[str, str] | tuple[str, str, str]] = (),
    credit: str = "",
    *,
    title: str = "Legend",
    open_: bool = True,
) -> str:
    """HTML of the legend: one row per line style, with its data date.

    ``vintages`` maps a layer kind to the date of its boundaries (e.g.
    ``"2018"``); ``extra`` adds rows drawn as a mark, as ``(colour, text)``
    pairs with a ``#rrggbb`` colour, or ``(colour, text, mark)`` where
    ``mark`` is one of :data:`MARKS` (default ``"dot"``) so a row can look like
    the marker it explains; ``credit`` is a short data credit line.
    ``open_=False`` starts it folded (its title still shows: one click opens
    it), for maps where the legend would hide what matters. All text is
    escaped here.
    """
    vintages = vintages or {}
    rows = []
    for style in styles:
        when = vintages.get(style.kind)
        text = style.legend + (f" — {when}" if when else "")
        rows.append(f"<li>{_swatch(style)}<span>{safe_text(text)}</span></li>")
    for row in extra:
        colour, text = row[0], row[1]
        mark = row[2] if len(row) > 2 else "dot"
        if not _COLOUR.match(colour):
            raise ValueError(f"colour must be #rrggbb, not {colour!r}")
        if mark not in MARKS:
            raise ValueError(f"mark must be one of {', '.join(MARKS)}, not {mark!r}")
        rows.append(
            '<li><svg width="36" height="14" aria-hidden="true">'
            f"{MARKS[mark].format(c=colour)}</svg>"
            f"<span>{safe_text(text)}</span></li>"
        )
    credit_html = f'<div class="wayhome-credit">{safe_text(credit)}</div>' if credit else ""
    return (
        f'<details{" open" if open_ else ""}><summary>{safe_text(title)}</summary>'
        f'<ul>{"".join(rows)}</ul>{credit_html}</details>'
    )


class Legend(MacroElement):
    """A Leaflet control showing ``html`` (already escaped) in a map corner."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        var {{ this.get_name() }} = L.control({position: {{ this.position|tojson }}});
        {{ this.get_name() }}.onAdd = function () {
            var div = L.DomUtil.create("div", "wayhome-legend");
            div.setAttribute("data-testid", "wayhome-legend");
            div.innerHTML = {{ this.html|tojson }};
            L.DomEvent.disableClickPropagation(div);
            L.DomEvent.disableScrollPropagation(div);
            return div;
        };
        {{ this.get_name() }}.addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, html: str, position: str = "bottomleft") -> None:
        super().__init__()
        self._name = "Legend"
        self.html = html
        self.position = position
