"""Rendering folium maps without compiling each rendered snippet again as a template.

When a folium layer renders, branca wraps every piece it produced (a marker's
script, a popup's HTML) in a new ``branca.element.Element(text)``, and
``Element.__init__`` compiles that text as a Jinja template (about 1 ms each)
only to render it back unchanged. A case map with a few hundred markers and
popups spent a fifth of each page run there.

:func:`install` makes branca build those templates with :func:`template`:

* text without Jinja syntax becomes a :class:`LiteralTemplate`, which renders to
  exactly what Jinja renders it to (line breaks as ``\\n``, one trailing line
  break dropped), without compiling;
* text with Jinja syntax is compiled by Jinja as before, once per process and
  source (a bounded cache: compiled templates are immutable and thread-safe).

The output is byte for byte what branca makes (``tests/layers/test_templates.py``
compares whole maps).
"""

from __future__ import annotations

import functools
from typing import Any

import branca.element
import jinja2
from jinja2.lexer import newline_re

__all__ = ["LiteralTemplate", "install", "template"]

#: Jinja's default delimiters (block, variable, comment): text without them is literal
_SYNTAX = ("{%", "{{", "{#")


class LiteralTemplate:
    """A template without Jinja syntax: renders to its text as Jinja would, at no cost."""

    __slots__ = ("_text", "source")

    def __init__(self, source: str) -> None:
        self.source = source
        # as jinja2.lexer.Lexer.tokeniter: split on any line break, drop one trailing
        # empty line (keep_trailing_newline=False), join with newline_sequence "\n"
        lines = newline_re.split(source)[::2]
        if lines[-1] == "":
            del lines[-1]
        self._text = "\n".join(lines)

    def render(self, *args: Any, **kwargs: Any) -> str:
        del args, kwargs  # nothing to fill in
        return self._text

    @property
    def module(self) -> Any:
        """The compiled template's module (it has no macros); compiled only if asked for."""
        return _compiled(self.source).module


@functools.lru_cache(maxsize=256)
def _compiled(source: str) -> jinja2.Template:
    return jinja2.Template(source)


def template(source: str) -> jinja2.Template | LiteralTemplate:
    """The template branca should use for ``source``: literal, or compiled once."""
    if any(mark in source for mark in _SYNTAX):
        return _compiled(source)
    return LiteralTemplate(source)


def install() -> None:
    """Have branca build its elements' templates with :func:`template` (idempotent).

    ``branca.element.Element`` looks ``Template`` up in its module when an element is
    made from a text; only that name is replaced, and only while it is still Jinja's
    own class (an unknown branca leaves things as they are).
    """
    if getattr(branca.element, "Template", None) is jinja2.Template:
        branca.element.Template = template  # type: ignore[attr-defined, assignment]
