"""Streamlit's "magic" is off (.streamlit/config.toml): no page may rely on it.

Magic writes an expression statement that is not a call (a bare name, a string that
is not a docstring, a tuple…) to the page. With it off such a line would show
nothing, so there must be none in the scripts Streamlit runs (the router and the
pages; modules they import were never magic).
"""

from __future__ import annotations

import ast
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPTS = [ROOT / "dashboard.py", *sorted((ROOT / "app_pages").glob("*.py"))]
_DOC_PARENTS = (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)


def _magic_lines(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        for field in ("body", "orelse", "finalbody"):
            body = getattr(node, field, None)
            if not isinstance(body, list):
                continue
            for i, stmt in enumerate(body):
                if not isinstance(stmt, ast.Expr) or isinstance(
                        stmt.value, (ast.Call, ast.Await, ast.Yield, ast.YieldFrom)):
                    continue
                docstring = (i == 0 and isinstance(node, _DOC_PARENTS)
                             and isinstance(stmt.value, ast.Constant)
                             and isinstance(stmt.value.value, str))
                if not docstring:
                    lines.append(stmt.lineno)
    return lines


def test_magic_is_off():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["runner"]["magicEnabled"] is False


def test_no_page_has_a_line_that_magic_would_have_shown():
    assert len(SCRIPTS) > 15
    found = {p.name: _magic_lines(ast.parse(p.read_text())) for p in SCRIPTS}
    assert {k: v for k, v in found.items() if v} == {}
    # the check itself finds such a line
    assert _magic_lines(ast.parse('"""doc"""\nimport streamlit as st\nx = 1\nx\n"shown"\n')) \
        == [4, 5]
