"""The posix port's meter (firmware/port/common/heg_meter_sim.c, the stand-in
for the RTL block) against the Python reference model on random register
traffic: every read and the enable output must agree after every step."""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import pytest
from openheg import regmap
from openheg_sim.meter_model import MeterModel

ROOT = Path(__file__).resolve().parents[2]
REPLAY = ROOT / "build/firmware/heg_meter_replay"
MAPPED = sorted(regmap.REGISTER_NAMES)
CODES = [regmap.GATE_ENABLE_OPEN, regmap.GATE_ENABLE_CLOSED, 0, 0xF, 0x5]


@pytest.fixture(scope="module")
def replay() -> Path:
    subprocess.run(["make", "--no-print-directory", "-f", "firmware/firmware.mk",
                    f"FW_PYTHON={sys.executable}", str(REPLAY.relative_to(ROOT))],
                   cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return REPLAY


def random_trace(rng: random.Random, length: int, faults: bool) -> list[tuple]:
    """Random traffic after a preamble that opens the gate with a large limit.
    Tamper and watchdog trips are sticky, so only ``faults`` traces have them."""
    interesting = [regmap.REG_GATE, regmap.REG_PAUSE, regmap.REG_LIMIT_0, regmap.REG_LIMIT_3,
                   regmap.REG_CTRL, regmap.REG_WDOG_CTRL, regmap.REG_WDOG_KICK,
                   regmap.REG_THROTTLE, regmap.REG_CFG_REGWEN, regmap.REG_INTR_STATE,
                   regmap.REG_INTR_ENABLE, regmap.REG_INTR_TEST, regmap.REG_LOWWATER_3,
                   regmap.REG_CHARGE_MAX_0, regmap.REG_CHARGE_MAX_1]
    trace: list[tuple] = [("w", regmap.REG_LIMIT_0 + 4 * i, v, 0xF)
                          for i, v in enumerate((0, 0x10, 0, 0))]
    trace.append(("w", regmap.REG_GATE, regmap.GATE_ENABLE_OPEN, 0xF))
    for _ in range(length):
        kind = rng.random()
        if kind < 0.35:
            addr = rng.choice(interesting if rng.random() < 0.6 else MAPPED)
            if addr == regmap.REG_WDOG_CTRL:
                value = rng.choice(CODES) if faults else regmap.WDOG_CTRL_ARM_DISARMED
            elif addr in (regmap.REG_GATE, regmap.REG_PAUSE):
                value = rng.choice(CODES + [regmap.GATE_ENABLE_OPEN] * 4
                                   if addr == regmap.REG_GATE else CODES)
            elif addr == regmap.REG_WDOG_KICK:
                value = rng.choice([regmap.WDOG_KICK_KEY_MAGIC, 0, 1])
            elif addr == regmap.REG_THROTTLE:
                value = (rng.randrange(4) << 16 | rng.randrange(4)) if rng.random() < 0.5 \
                    else 0x10001
            elif addr in (regmap.REG_CFG_REGWEN,):
                value = rng.choice([0, 1]) if rng.random() < 0.1 else 1
            else:
                value = rng.choice([0, 1, 5000, 0xFFFFFFFF, rng.getrandbits(32),
                                rng.randrange(1 << 16)])
            strb = 0xF if rng.random() < 0.85 else rng.randrange(16)
            trace.append(("w", addr, value, strb))
        elif kind < 0.6:
            trace.append(("s", tuple(rng.choice([0, 0, 1, 7, 4096, 65535]) for _ in regmap.LANES)))
        elif kind < 0.62:
            trace.append(("t", int(faults and rng.random() < 0.3)))
        elif kind < 0.7:
            trace.append(("e",))
        else:
            trace.append(("r", rng.choice(MAPPED)))
    for addr in MAPPED:
        trace.append(("r", addr))
    trace.append(("e",))
    return trace


def run_python(trace: list[tuple]) -> list[int]:
    model = MeterModel()
    out = []
    for item in trace:
        if item[0] == "w":
            model.write(item[1], item[2], item[3])
        elif item[0] == "s":
            model.step(list(item[1]))
        elif item[0] == "t":
            model.set_tamper(bool(item[1]))
        elif item[0] == "r":
            out.append(model.read(item[1]))
        else:
            out.append(int(model.enable))
    return out


def run_c(replay: Path, trace: list[tuple]) -> list[int]:
    lines = []
    for item in trace:
        if item[0] == "s":
            lines.append("s " + " ".join(str(n) for n in item[1]))
        else:
            lines.append(" ".join(str(x) for x in item))
    result = subprocess.run([str(replay)], input="\n".join(lines) + "\n", text=True,
                            capture_output=True, check=True)
    return [int(x) for x in result.stdout.split()]


@pytest.mark.parametrize("seed", range(12))
def test_c_meter_model_matches_python_model(replay, seed):
    rng = random.Random(seed)
    trace = random_trace(rng, 1500, faults=seed % 3 == 0)
    expected = run_python(trace)
    got = run_c(replay, trace)
    assert len(got) == len(expected)
    reads = [item for item in trace if item[0] in "re"]
    for item, want, have in zip(reads, expected, got):
        name = regmap.REGISTER_NAMES.get(item[1], "enable") if item[0] == "r" else "enable"
        assert have == want, f"seed {seed}: {name}: C {have:#x}, Python {want:#x}"
