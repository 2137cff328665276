"""The RTL blocks and their source files, leaves first: the one list that synthesis,
formal, lint, the cocotb benches and the FuseSoC cores all read."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
RTL = ROOT / "hdl" / "rtl"

# block (its top module) -> the files under hdl/rtl that build it, leaves first.
BLOCKS: dict[str, tuple[str, ...]] = {
    "heg_meter": ("heg_axil_slave.v", "heg_wdog.v", "heg_throttle.v", "heg_meter_core.v",
                  "heg_meter.v"),
    "heg_meter_core": ("heg_meter_core.v",),
    "heg_stream_limiter": ("heg_stream_limiter.v",),
    "heg_link": ("heg_axil_slave.v", "heg_stream_limiter.v", "heg_link.v"),
    "heg_counter_frontend": ("heg_axil_slave.v", "heg_counter_frontend.v"),
}

# Generated register-map includes each block's sources use (from hdl/rdl/).
INCLUDES: dict[str, tuple[str, ...]] = {
    "heg_meter": ("heg_meter_regs.vh",),
    "heg_link": ("heg_link_regs.vh",),
    "heg_counter_frontend": ("heg_frontend_regs.vh",),
}


def sources(block: str) -> list[Path]:
    """Absolute paths of ``block``'s source files, leaves first."""
    return [RTL / name for name in BLOCKS[block]]


def all_sources() -> list[Path]:
    """Every product RTL file once, leaves first (for lint runs over the whole tree)."""
    seen: dict[str, None] = {}
    for files in BLOCKS.values():
        seen.update(dict.fromkeys(files))
    return [RTL / name for name in seen]
