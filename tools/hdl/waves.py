"""The WaveDrom timing diagrams in docs/hdl/timing/: the exhaustion diagram is drawn from
a run of the reference model (so it shows what the RTL does), the others are written by
hand; each JSON is rendered to SVG (wavedrom from PyPI).

    python tools/hdl/waves.py            # write exhaustion.json, render every *.json
    python tools/hdl/waves.py --check    # exit 1 if exhaustion.json is not the model's
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TIMING = ROOT / "docs" / "hdl" / "timing"


def _wave(levels: list[int]) -> str:
    """WaveDrom digits with '.' for a repeated level."""
    out = []
    for i, level in enumerate(levels):
        out.append("." if i and levels[i - 1] == level else str(level))
    return "".join(out)


def _labels(values: list[int], limit: int, charge: int) -> tuple[str, list[str]]:
    """A data lane for the metered total, written relative to LIMIT in units of c."""
    wave, data = [], []
    for i, value in enumerate(values):
        if i and values[i - 1] == value:
            wave.append(".")
            continue
        wave.append("3")
        k = (value - limit) // charge
        data.append("L" if k == 0 else f"L{'+' if k > 0 else '-'}{abs(k) if abs(k) != 1 else ''}c")
    return "".join(wave), data


def exhaustion_diagram() -> dict:
    """An accelerator on FP8 that issues ops whenever accel_enable_o is high, against a
    limit 3 cycles ahead, CHARGE_MAX not declared; sampled once per cycle by the model."""
    from openheg import regmap
    from openheg_sim.meter_model import MeterModel

    lane = regmap.LANES.index("FP8")
    ops = 5
    charge = ops * regmap.DEFAULT_WEIGHTS_MILLI["FP8"]
    limit = 100 * charge
    m = MeterModel()
    m.write_limit(limit)
    m.write(regmap.REG_GATE, regmap.GATE_ENABLE_OPEN)
    m.poke_accumulator(limit - 3 * charge)
    m.step()
    m.write(regmap.REG_INTR_STATE, regmap.INTR_STATE_EXHAUSTED_MASK)  # clear the reset value
    enable, valid, total, exhausted, intr = [], [], [], [], []
    for _ in range(8):
        issuing = m.enable
        enable.append(int(m.enable))
        valid.append(int(issuing))
        total.append(m.acc)
        exhausted.append(int(m.exhausted))
        intr.append(int(bool(m.intr_state & regmap.INTR_STATE_EXHAUSTED_MASK)))
        m.step({lane: ops} if issuing else None)
    wave, data = _labels(total, limit, charge)
    return {"signal": [
        {"name": "clk_i", "wave": "p" + "." * (len(enable) - 1)},
        {"name": "accel_enable_o", "wave": _wave(enable)},
        {"name": "op_valid_i (FP8, obeys enable)", "wave": _wave(valid)},
        {"name": "metered total", "wave": wave, "data": data},
        {"name": "GATE_CAUSE.exhausted", "wave": _wave(exhausted)},
        {"name": "INTR_STATE.exhausted", "wave": _wave(intr)},
    ],
        "head": {"text": "Allowance exhaustion, CHARGE_MAX not declared: the gate closes two "
                         "edges after the total reaches LIMIT (the metering pipeline)"},
        "foot": {"text": "c = ops x weight per cycle; drawn from sim/openheg_sim/meter_model.py "
                         "by tools/hdl/waves.py; every op is metered"}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if exhaustion.json is stale")
    args = parser.parse_args(argv)
    target = TIMING / "exhaustion.json"
    text = json.dumps(exhaustion_diagram(), indent=1) + "\n"
    if args.check:
        if target.read_text() != text:
            print(f"stale generated file: {target.relative_to(ROOT)} (run `make waves`)",
                  file=sys.stderr)
            return 1
        return 0
    target.write_text(text)
    import wavedrom
    for source in sorted(TIMING.glob("*.json")):
        wavedrom.render(source.read_text()).saveas(str(source.with_suffix(".svg")))
        print(f"wrote {source.with_suffix('.svg').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
