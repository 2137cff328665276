"""The HDL docs a vendor writes a testbench from say what the RTL does (issue 10: the
guide's watchdog window, the WaveDrom, the watchdog code, the throttle rule, COUNT_W).
Each claim is checked against the reference model (which scores the RTL every cycle in
cocotb) or against Verilator's elaboration of the RTL itself."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from openheg import regmap
from openheg_sim.meter_model import MeterModel

REPO = Path(__file__).resolve().parents[2]
DOCS = REPO / "docs" / "hdl"
GUIDE = (DOCS / "programmers_guide.md").read_text()
THEORY = (DOCS / "theory.md").read_text()
sys.path.insert(0, str(REPO / "tools" / "hdl"))
import waves  # noqa: E402
from blocks import sources  # noqa: E402


def kick_outcome(window: int, period: int, offset: int) -> bool:
    """Does a kick performed ``offset`` edges after the previous one keep the gate open?"""
    m = MeterModel()
    m.write_limit(1 << 64)
    m.write(regmap.REG_GATE, regmap.GATE_ENABLE_OPEN)
    m.write(regmap.REG_WDOG_PERIOD, period)
    m.write(regmap.REG_WDOG_WINDOW, window)
    m.write(regmap.REG_WDOG_CTRL, regmap.WDOG_CTRL_ARM_ARMED)  # performed at edge K
    m.idle(offset)
    m.write(regmap.REG_WDOG_KICK, regmap.WDOG_KICK_KEY_MAGIC)
    m.idle(3)
    return not m.watchdog


@pytest.mark.parametrize("window, period", [(0, 5), (3, 10), (20, 400)])
def test_guide_kick_window_is_what_the_block_accepts(window, period):
    """The guide: the next kick lands on an edge in K + WINDOW + 1 .. K + PERIOD."""
    assert "K + WINDOW + 1 .. K + PERIOD" in GUIDE
    assert "no earlier than" not in GUIDE
    accepted = [j for j in range(1, period + 3) if kick_outcome(window, period, j)]
    assert accepted == list(range(max(window + 1, 1), period + 1))


def test_exhaustion_diagram_is_drawn_from_the_model():
    """docs/hdl/timing/exhaustion.json is the model's run, not a drawing (it once held the
    accumulator still while ops stayed valid)."""
    assert waves.main(["--check"]) == 0
    diagram = waves.exhaustion_diagram()
    lanes = {s["name"]: s for s in diagram["signal"]}
    # Ops stop when enable drops, and the total stops with them, never before.
    assert lanes["accel_enable_o"]["wave"] == lanes["op_valid_i (FP8, obeys enable)"]["wave"]
    assert lanes["metered total"]["data"][-1] == "L+2c"  # two cycles in the pipeline


def test_writing_another_code_does_not_arm_the_watchdog():
    """theory.md: only 0x6 arms; a write of 0x5 changes nothing."""
    assert "0x5 say, is ignored" in THEORY
    for code in (0x5, 0x7, 0x0, 0xF):
        m = MeterModel()
        m.write(regmap.REG_WDOG_CTRL, code)
        assert not m.wdog_armed and m.read(regmap.REG_WDOG_CTRL) == regmap.WDOG_CTRL_ARM_DISARMED
    m.write(regmap.REG_WDOG_CTRL, regmap.WDOG_CTRL_ARM_ARMED)
    assert m.read(regmap.REG_STATUS) & regmap.STATUS_WDOG_ARMED_MASK


@pytest.mark.parametrize("num, den", [(3, 2), (65535, 7), (5, 5)])
def test_throttle_rule_holds_for_num_above_den(num, den):
    """theory.md's rule uses k = min(num, den): num >= den is always open."""
    assert "k = min(num, den)" in THEORY
    m = MeterModel()
    m.write_limit(1 << 64)
    m.write(regmap.REG_GATE, regmap.GATE_ENABLE_OPEN)
    m.write(regmap.REG_THROTTLE, (den << 16) | num)
    m.step()
    opens = []
    for _ in range(3 * den):
        m.step()
        opens.append(m.enable)
    assert all(opens)


def elaborates(count_w: int) -> bool:
    verilator = shutil.which("verilator")
    result = subprocess.run(
        [verilator, "--lint-only", "-Wall", f"-I{REPO / 'hdl' / 'rtl'}",
         str(REPO / "hdl" / "lint" / "heg_meter.vlt"), *map(str, sources("heg_meter")),
         "--top-module", "heg_meter", f"-GCOUNT_W={count_w}"],
        capture_output=True, text=True, timeout=120)
    return result.returncode == 0


def test_count_w_range_is_what_elaboration_accepts():
    low, high = map(int, re.search(r"legal range (\d+) <= COUNT_W <= (\d+)", THEORY).groups())
    assert elaborates(low) and elaborates(high)
    assert not elaborates(high + 1) and not elaborates(low - 1)


def test_bus_rules_are_in_the_docs():
    """The AXI4-Lite response rules live in theory.md, not only in RTL comments."""
    section = THEORY[THEORY.index("## Bus interface"):THEORY.index("## Formal")]
    for rule in ("SLVERR", "OKAY", "WSTRB", "BVALID", "ARREADY"):
        assert rule in section
