"""docs/hdl/numbers.md keeps the numbers a run did not measure.

`make bench` on a tree where `make synth` had not run rewrote the page and
dropped the published area and Fmax tables. The renderer now takes each
section from this run's measurements when there are any, and otherwise keeps
the section already on the page. `tools/hdl/synth.py heg_stream_limiter` on a
tree with no build/hdl/synth_ecp5.json dropped the published heg_meter row: the
synth table is now rewritten row by row, only the designs a run measured.
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


LIMITER_ROW = {"harness": "heg_stream_limiter_synth", "block": "heg_stream_limiter",
               "target_mhz": 150.0, "config": "DATA_W=64", "yosys": "Yosys 0.70", "abc": True,
               "device": "LFE5U-25F-6BG256 (speed grade 6)", "seed": None, "luts": 1234,
               "ffs": 987, "dsps": 0, "brams": 0, "fmax_mhz": 163.21,
               "fmax_line": "Max frequency for clock 'clk': 163.21 MHz (PASS at 150.00 MHz)",
               "meets_target": True}


def _published_copy(tmp_path: Path) -> Path:
    doc = tmp_path / "numbers.md"
    doc.write_text((ROOT / "docs" / "hdl" / "numbers.md").read_text())
    return doc


def _row(text: str, design: str) -> str | None:
    return next((line for line in text.split("\n") if line.startswith(f"| `{design}` |")), None)


def test_a_run_for_one_block_rewrites_only_its_row(tmp_path):
    """`synth.py heg_stream_limiter` with no build/hdl/synth_ecp5.json (the bug: the meter
    row vanished): the limiter row is this run's, the meter row stays as published, and
    the rows keep their order."""
    doc = _published_copy(tmp_path)
    before = doc.read_text()
    meter = _row(before, "heg_meter")
    assert meter is not None and _row(before, "heg_stream_limiter") is not None

    numbers_doc.write(tmp_path / "empty-build", doc,
                      synth={"heg_stream_limiter": LIMITER_ROW})

    after = doc.read_text()
    assert _row(after, "heg_meter") == meter
    limiter = _row(after, "heg_stream_limiter")
    assert "| 1234 | 987 |" in limiter and "163.2 MHz" in limiter and "| yes |" in limiter
    assert after.index("`heg_stream_limiter`") < after.index("`heg_meter`")
    # Nothing else on the page moved: the bench section is as published.
    bench = before[before.index(numbers_doc.BENCH_HEADING):]
    assert after.endswith(bench)


def test_the_synth_table_merges_rows_by_design():
    """The table rewrite alone: a measured row replaces its design's row, a design the
    page never had is added after the others, every other row is kept verbatim."""
    published = ["## heading", "", "| Design | ... |", "| --- |",
                 "| `heg_meter` | meter as published |", "| `heg_link` | link as published |", ""]
    row = {**LIMITER_ROW, "config": "new"}
    section = numbers_doc.synth_section({"heg_link": row, "heg_new": row}, published)
    assert "| `heg_meter` | meter as published |" in section
    assert "| `heg_link` | link as published |" not in section
    rows = [line for line in section if line.startswith("| `")]
    assert [r.split("`")[1] for r in rows] == ["heg_meter", "heg_link", "heg_new"]
    assert rows[1] == numbers_doc.synth_row("heg_link", row)


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
    assert doc.read_text().count("(not run yet)") == 3


SOC = {"board": "ULX3S", "device": "LFE5U-85F-6BG381C", "top": "heg_soc_ulx3s", "luts": 14788,
       "ffs": 7900, "bram_dp16kd": 33, "dsp_mult18": 16, "fmax_mhz": 53.96, "target_mhz": 50.0,
       "fmax_met": True, "seed": 1, "bitstream_bytes": 602722}


def test_the_soc_run_publishes_its_section_and_keeps_the_blocks(tmp_path):
    """bitstream.py's numbers become the SoC section; the blocks' synth table and the bench
    section are as published, and a later synth or bench run keeps the SoC section."""
    doc = _published_copy(tmp_path)
    before = doc.read_text()
    synth = numbers_doc.published_section(doc, numbers_doc.SYNTH_HEADING)

    numbers_doc.write(tmp_path / "empty-build", doc, soc=SOC)

    after = doc.read_text()
    assert "\n".join(synth) in after
    assert after.endswith(before[before.index(numbers_doc.BENCH_HEADING):])
    row = next(line for line in after.split("\n") if line.startswith("| ULX3S |"))
    assert row == ("| ULX3S | LFE5U-85F-6BG381C | 14788 | 7900 | 16 | 33 | 50 MHz | 53.96 MHz | "
                   "yes | 602,722 |")
    numbers_doc.write(tmp_path / "empty-build", doc, synth={"heg_stream_limiter": LIMITER_ROW})
    assert row in doc.read_text()
    failing = {**SOC, "fmax_mhz": 47.83, "fmax_met": False}
    numbers_doc.write(tmp_path / "empty-build", doc, soc=failing)
    assert "| 47.83 MHz | **no** |" in doc.read_text() and row not in doc.read_text()


def test_synth_py_passes_only_what_it_measured(tmp_path, monkeypatch):
    """tools/hdl/synth.py for one block hands the page only that block's row (not rows an
    older build/hdl/synth_ecp5.json holds), and a run with another seed leaves the page."""
    sys.path.insert(0, str(ROOT / "tools" / "hdl"))
    import synth

    monkeypatch.setattr(synth, "OUT", tmp_path)
    (tmp_path / "synth_ecp5.json").write_text(json.dumps({"heg_meter": {"stale": True}}))
    monkeypatch.setattr(synth, "measure", lambda name, design, seed=None:
                        {**LIMITER_ROW, "seed": seed})
    written: list[dict] = []
    monkeypatch.setattr(numbers_doc, "write", lambda synth=None: written.append(synth) or
                        tmp_path / "numbers.md")
    monkeypatch.setattr(synth, "ROOT", tmp_path.parent)

    assert synth.main(["heg_stream_limiter"]) == 0
    assert written == [{"heg_stream_limiter": {**LIMITER_ROW, "seed": None}}]
    assert synth.main(["--seed", "3", "heg_stream_limiter"]) == 0
    assert len(written) == 1
    assert json.loads((tmp_path / "synth_ecp5_seed3.json").read_text())[
        "heg_stream_limiter"]["seed"] == 3
