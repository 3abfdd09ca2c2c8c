"""Escaping of every string that reaches the map.

folium's text sinks are HTML *and* JavaScript sinks (engineering notes §4.1):

* ``Popup(s)`` inserts ``s`` raw into ``$(`…`)``;
* ``Tooltip(s)`` puts ``s`` raw inside a JS template literal, so a backtick
  breaks out and ``${…}`` runs;
* ``GeoJsonTooltip`` / ``GeoJsonPopup`` write property values through
  ``innerHTML``.

The map runs in a same-origin component iframe, so script there can drive the
whole app as the user. Therefore every name, code or note that reaches folium
goes through :func:`safe_text` (for Popup/Tooltip text) or
:func:`escape_properties` / :func:`escape_feature_collection` (for GeoJSON
properties shown by GeoJsonTooltip/Popup).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = [
    "escape_feature_collection", "escape_properties", "markdown_text", "pdf_text", "safe_text",
]

# Characters that are special in a JS template literal, after HTML escaping.
_TEMPLATE_LITERAL = str.maketrans({"\\": "&#92;", "`": "&#96;", "$": "&#36;"})


def safe_text(value: object) -> str:
    """Return ``value`` as text that is safe as HTML and inside a JS template literal.

    HTML-escapes ``& < > " '`` and replaces backslash, backtick and dollar with
    HTML character references, so the text can neither open a tag, break out of
    an attribute, end a template literal nor start a ``${…}`` substitution. The
    browser still *displays* the original characters. ``None`` becomes ``""``.
    """
    if value is None:
        return ""
    return html.escape(str(value), quote=True).translate(_TEMPLATE_LITERAL)


def escape_properties(
    properties: Mapping[str, Any] | None, fields: Iterable[str] | None = None
) -> dict[str, Any]:
    """Return a copy of a GeoJSON feature's ``properties`` with string values escaped.

    ``fields`` limits which keys are kept (and escaped); by default every key is
    kept. Strings go through :func:`safe_text`; numbers, booleans and ``None``
    are kept as they are (they cannot carry markup); anything else (lists,
    nested objects) is turned into escaped text, because GeoJsonTooltip would
    show it through ``innerHTML`` too.
    """
    props = dict(properties or {})
    keys = list(props) if fields is None else list(fields)
    out: dict[str, Any] = {}
    for key in keys:
        value = props.get(key)
        if value is None or isinstance(value, bool | int | float):
            out[safe_text(key)] = value
        else:
            out[safe_text(key)] = safe_text(value)
    return out


def escape_feature_collection(
    collection: Mapping[str, Any], fields: Iterable[str] | None = None
) -> dict[str, Any]:
    """Return a copy of a GeoJSON FeatureCollection with every property escaped.

    The geometries are shared with the input, not copied (they hold only
    numbers). Feature ``id`` members, if present, are escaped as well.
    """
    if collection.get("type") != "FeatureCollection":
        raise ValueError("expected a GeoJSON FeatureCollection")
    keep = None if fields is None else list(fields)
    features = []
    for feature in collection.get("features", []):
        out = {
            "type": "Feature",
            "geometry": feature.get("geometry"),
            "properties": escape_properties(feature.get("properties"), keep),
        }
        if "id" in feature:
            out["id"] = safe_text(feature["id"])
        features.append(out)
    return {"type": "FeatureCollection", "features": features}


_MARKDOWN_SPECIAL = frozenset("\\`*_{}[]()#+-.!|<>~:$&\"'=")


def markdown_text(value: object) -> str:
    """Return ``value`` as Markdown that renders as exactly that text.

    For ``st.markdown``: it already refuses raw HTML, but names could still
    carry Markdown (links, emphasis, ``:colour[…]`` directives). Every ASCII
    punctuation character that Markdown or Streamlit's extensions give meaning
    to is backslash-escaped (CommonMark renders ``\\X`` as a literal ``X`` for
    any ASCII punctuation), and line breaks become spaces.
    """
    if value is None:
        return ""
    text = " ".join(str(value).split())
    return "".join("\\" + ch if ch in _MARKDOWN_SPECIAL else ch for ch in text)


#: Unicode categories never printed: controls, format characters (bidirectional
#: overrides, zero-width joiners), surrogates, private use, unassigned
_UNPRINTED = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
_SPACES = re.compile(r"[ \t\u00a0\u2000-\u200a\u3000]+")


def pdf_text(value: object, limit: int = 500, *, lines: bool = False) -> str:
    """``value`` as plain text for a PDF: no control or format characters, at most
    ``limit`` characters (cut with "…").

    A PDF page has no markup to break out of, but a string can still reorder what
    is read (bidirectional overrides), hide text (zero-width characters) or feed a
    writer's own codes; everything but printable characters and (with ``lines``)
    line breaks is dropped, runs of spaces become one. ``None`` becomes ``""``.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFC", str(value)).replace("\r\n", "\n").replace("\r", "\n")
    kept = "".join(
        ch if unicodedata.category(ch) not in _UNPRINTED else ("\n" if ch == "\n" else " ")
        for ch in text
    )
    parts = [_SPACES.sub(" ", line).strip() for line in kept.split("\n")]
    out = "\n".join(p for p in parts if p) if lines else " ".join(p for p in parts if p)
    if len(out) > limit:
        out = out[: max(0, limit - 1)].rstrip() + "…"
    return out
