"""HDL benchmark: events accepted per cycle per lane (must be 1), enforcement latency in
cycles (target 1), and simulated cycles per second of the full heg_meter on Icarus and on
Verilator, as a ratio against a bare 128-bit counter measured in the same run and the
same simulator. Writes build/hdl/bench.json and docs/hdl/numbers.md.

    python bench/hdl/bench.py [--cycles N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT / "tests" / "rtl"))
sys.path.insert(0, str(ROOT / "tools" / "hdl"))
os.environ["PATH"] = os.pathsep.join([str(ROOT / "tools"), os.environ.get("PATH", "")])

from cocotb_tools.runner import get_runner  # noqa: E402

from meter_tb import RTL_DIR, RTL_SOURCES  # noqa: E402


def version(sim: str) -> str:
    cmd = ["iverilog", "-V"] if sim == "icarus" else ["verilator", "--version"]
    out = subprocess.run(cmd, capture_output=True, text=True).stdout.splitlines()
    return out[0].split("(")[0].strip() if out else ""


def measure(sim: str, cycles: int) -> dict:
    out = ROOT / "build" / "hdl" / f"bench-{sim}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.unlink(missing_ok=True)
    env = {"PYTHONPATH": os.pathsep.join([str(HERE), str(ROOT / "tests" / "rtl")]),
           "HEG_BENCH_OUT": str(out), "HEG_BENCH_CYCLES": str(cycles)}
    for top, sources, test, params in (
            ("bare_counter", [HERE / "bare_counter.v"], "bench_bare_counter", {}),
            ("heg_meter", [RTL_DIR / s for s in RTL_SOURCES], "bench_heg_meter", {"COUNT_W": 16})):
        build = ROOT / "build" / "hdl" / f"bench-{sim}-{top}"
        runner = get_runner(sim)
        runner.build(sources=sources, includes=[RTL_DIR], hdl_toplevel=top, build_dir=build,
                     build_args=["-g2005"] if sim == "icarus" else ["-O3"],
                     parameters=params, timescale=("1ns", "1ps"))
        runner.test(test_module="cocotb_bench", testcase=test, hdl_toplevel=top,
                    build_dir=build, test_dir=build, extra_env=env, timescale=("1ns", "1ps"))
    data = json.loads(out.read_text())
    data["ratio"] = data["block_cycles_per_s"] / data["baseline_cycles_per_s"]
    data["version"] = version(sim)
    return data


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200_000)
    args = parser.parse_args()
    results = {sim: measure(sim, args.cycles) for sim in ("icarus", "verilator")}
    (ROOT / "build" / "hdl" / "bench.json").write_text(json.dumps(results, indent=2))
    for sim, r in results.items():
        print(f"{sim}: events/cycle/lane {r['events_per_cycle_per_lane']}, enforcement latency "
              f"{r['enforcement_latency_cycles']} cycle(s), {r['block_cycles_per_s']:,.0f} "
              f"cycles/s = {r['ratio']:.2f} x bare counter ({r['baseline_cycles_per_s']:,.0f})")
    sys.path.insert(0, str(HERE))
    import numbers_doc
    print(f"wrote {numbers_doc.write().relative_to(ROOT)}")
    ok = all(r["events_per_cycle_per_lane"] == 1 and r["enforcement_latency_cycles"] == 1
             for r in results.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
