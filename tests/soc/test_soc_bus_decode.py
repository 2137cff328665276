"""The SoC's address decoder (hdl/soc/heg_soc_bus.v) under Icarus: the ROM answers only
the bytes fitted. The board fits 64 KiB of ROM in the 128 KiB ROM region; before the
decoder knew the fitted size, an access to the region's upper half was sent to the block
RAM, which answered with the image again (its address wraps). Now such an access is a bus
fault (which resets the domain), as every other unmapped address is."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SOC = ROOT / "hdl" / "soc"
BOARD_ROM = 64 * 1024
REGION = 128 * 1024

# address, instruction fetch?, write strobes
ACCESSES = [(0x0000_0000, 1, 0), (BOARD_ROM - 4, 1, 0), (BOARD_ROM - 4, 0, 0),
            (BOARD_ROM, 1, 0), (BOARD_ROM, 0, 0), (REGION - 4, 0, 0), (REGION, 0, 0),
            (0x0000_0100, 0, 0xF)]


def decoded(tmp_path: Path, rom_bytes: int) -> dict[tuple[int, int, int], tuple[int, int]]:
    """(address, fetch, wstrb) -> (sel_rom, fault) for each access, from the RTL."""
    drive = "\n".join(f"    addr = 32'h{a:08x}; instr = 1'b{i}; wstrb = 4'h{w:x}; #1;\n"
                      f"    $display(\"%h %0d %h %0d %0d\", addr, instr, wstrb, sel_rom, fault);"
                      for a, i, w in ACCESSES)
    bench = tmp_path / "bus_tb.v"
    bench.write_text(f"""`timescale 1ns / 1ps
module bus_tb;
  reg [31:0] addr; reg instr; reg [3:0] wstrb;
  wire sel_rom, fault;
  heg_soc_bus #(.ROM_BYTES({rom_bytes})) dut (
    .mem_valid_i(1'b1), .mem_instr_i(instr), .mem_addr_i(addr), .mem_wstrb_i(wstrb),
    .axil_error_i(1'b0), .sel_rom_o(sel_rom), .sel_ram_o(), .sel_uart_o(), .sel_timer_o(),
    .sel_spi_o(), .sel_trng_o(), .sel_otp_o(), .sel_refclk_o(), .sel_meter_o(),
    .sel_limiter_o(), .fault_o(fault));
  initial begin
{drive}
    $finish;
  end
endmodule
""")
    image = tmp_path / "bus_tb.vvp"
    subprocess.run(["iverilog", "-g2005", f"-I{SOC}", "-o", str(image), str(bench),
                    str(SOC / "heg_soc_bus.v")], check=True, capture_output=True, text=True)
    out = subprocess.run(["vvp", "-n", str(image)], check=True, capture_output=True,
                         text=True).stdout
    rows = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 5:
            addr, instr, wstrb, sel, fault = fields
            rows[(int(addr, 16), int(instr), int(wstrb, 16))] = (int(sel), int(fault))
    assert len(rows) == len(ACCESSES), out
    return rows


def test_the_board_rom_answers_only_its_fitted_bytes(tmp_path):
    rows = decoded(tmp_path, BOARD_ROM)
    assert rows[(0, 1, 0)] == (1, 0)
    assert rows[(BOARD_ROM - 4, 1, 0)] == (1, 0) and rows[(BOARD_ROM - 4, 0, 0)] == (1, 0)
    # Past the fitted ROM, in the region: no select, a fault (fetch or read).
    assert rows[(BOARD_ROM, 1, 0)] == (0, 1) and rows[(BOARD_ROM, 0, 0)] == (0, 1)
    assert rows[(REGION - 4, 0, 0)] == (0, 1)
    assert rows[(REGION, 0, 0)] == (0, 1)
    assert rows[(0x100, 0, 0xF)][1] == 1  # a write to ROM is still a fault


def test_a_rom_filling_its_region_answers_all_of_it(tmp_path):
    """The simulation's 128 KiB ROM: the whole region is ROM, as before."""
    rows = decoded(tmp_path, REGION)
    assert rows[(BOARD_ROM, 1, 0)] == (1, 0) and rows[(REGION - 4, 0, 0)] == (1, 0)
    assert rows[(REGION, 0, 0)] == (0, 1)
