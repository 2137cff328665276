"""docs/hdl/numbers.md keeps the numbers a run did not measure.

`make bench` on a tree where `make synth` had not run rewrote the page and
dropped the published area and Fmax tables. The renderer now takes each
section from this run's measurements when there are any, and otherwise keeps
the section already on the page.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench" / "hdl"))

import numbers_doc  # noqa: E402

BENCH = {"icarus": {"version": "11.0", "events_per_cycle_per_lane": 1,
                    "enforcement_latency_cycles": 1, "block_cycles_per_s": 21000.0,
                    "baseline_cycles_per_s": 45000.0, "ratio": 0.47}}


def test_a_bench_run_keeps_the_published_synth_tables(tmp_path):
    doc = tmp_path / "numbers.md"
    published = ROOT / "docs" / "hdl" / "numbers.md"
    doc.write_text(published.read_text())
    synth = numbers_doc.published_section(doc, numbers_doc.SYNTH_HEADING)
    assert synth is not None and any("Max frequency" in line for line in synth), \
        "the published page has no Fmax table to protect"
    build = tmp_path / "build"
    build.mkdir()
    (build / "bench.json").write_text(json.dumps(BENCH))

    numbers_doc.write(build, doc)

    text = doc.read_text()
    assert "\n".join(synth) in text  # the area and Fmax tables, unchanged
    assert "21,000" in text and "0.47" in text  # this run's bench numbers


def test_a_synth_run_keeps_the_published_bench_table(tmp_path):
    doc = tmp_path / "numbers.md"
    build = tmp_path / "build"
    build.mkdir()
    (build / "bench.json").write_text(json.dumps(BENCH))
    numbers_doc.write(build, doc)
    (build / "bench.json").unlink()

    numbers_doc.write(build, doc)  # nothing measured this time: both sections stay

    assert "21,000" in doc.read_text()


def test_a_page_that_never_had_numbers_says_so(tmp_path):
    doc = tmp_path / "numbers.md"
    numbers_doc.write(tmp_path, doc)
    assert doc.read_text().count("(not run yet)") == 2
