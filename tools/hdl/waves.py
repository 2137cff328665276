"""Render the WaveDrom timing diagrams in docs/hdl/timing/*.json to SVG (wavedrom from PyPI).

    python tools/hdl/waves.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import wavedrom

ROOT = Path(__file__).resolve().parents[2]


def main() -> int:
    for source in sorted((ROOT / "docs" / "hdl" / "timing").glob("*.json")):
        svg = wavedrom.render(source.read_text())
        target = source.with_suffix(".svg")
        svg.saveas(str(target))
        print(f"wrote {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
