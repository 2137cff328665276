"""hdl/testplan.md names only tests and coverpoints that exist, and every coverpoint is
claimed by some feature row."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from coverage import LIMITER_COVERPOINTS, METER_COVERPOINTS

REPO = Path(__file__).resolve().parents[2]


def defined_tests() -> set[str]:
    names: set[str] = set()
    for path in (REPO / "tests" / "rtl").glob("*.py"):
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                names.add(node.name)
    return names


def test_testplan_is_consistent() -> None:
    rows = [line for line in (REPO / "hdl" / "testplan.md").read_text().splitlines()
            if line.startswith("| ") and not line.startswith("| Feature") and "---" not in line]
    assert len(rows) >= 15
    known_tests = defined_tests()
    claimed: set[str] = set()
    for row in rows:
        feature, tests, points = [c.strip() for c in row.strip("|").split("|")]
        listed = [t.strip() for t in tests.split(",") if t.strip()]
        assert listed, f"feature without tests: {feature}"
        for name in listed:
            assert name in known_tests, f"{feature}: no test named {name}"
        for point in filter(None, (p.strip() for p in points.split(","))):
            assert point in METER_COVERPOINTS or point in LIMITER_COVERPOINTS, point
            claimed.add(point)
    unclaimed = set(METER_COVERPOINTS) | set(LIMITER_COVERPOINTS)
    assert not unclaimed - claimed, f"coverpoints in no testplan row: {unclaimed - claimed}"
    assert re.search(r"throttle", (REPO / "hdl" / "testplan.md").read_text(), re.I)
