"""Small hand-made boundary layers and hostile strings for the layer tests."""

from __future__ import annotations

import pytest

from layers.boundaries import BoundarySet

#: Strings that break out of HTML, attributes or JS template literals if left raw.
HOSTILE = [
    "<script>window.__pwned=1</script>",
    '<img src=x onerror="window.__pwned=1">',
    "`);window.__pwned=1;//",
    "${window.__pwned=1}",
    "\"'><svg onload=window.__pwned=1>",
    "back\\slash\\`${x}",
    "</script><script>window.__pwned=1</script>",
]


def square(x: float, y: float, name: str, code: str, kind: str = "borough") -> dict:
    ring = [[x, y], [x + 0.05, y], [x + 0.05, y + 0.05], [x, y + 0.05], [x, y]]
    return {
        "type": "Feature",
        "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"name": name, "code": code, "kind": kind},
    }


def collection(names, kind="borough") -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            square(-0.3 + 0.06 * i, 51.45, name, f"E0900{i:04d}", kind)
            for i, name in enumerate(names)
        ],
    }


@pytest.fixture
def hostile_boundaries() -> BoundarySet:
    return BoundarySet(
        inline={
            "borough": collection(HOSTILE, "borough"),
            "bcu": collection(["Central <b>North</b>"], "bcu"),
            "force": collection(["Metropolitan Police"], "force"),
        },
        lazy={"ward": "/app/static/vendor/boundaries/ward-0123456789ab.json"},
        vintages={"ward": "2018 <i>old</i>", "bcu": "2018–19"},
    )
