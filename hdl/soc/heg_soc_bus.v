// The SoC's address decoder on the PicoRV32's native bus (regions in
// heg_soc_map.vh). One region answers each access; an access that no region
// may take is a bus fault, which resets the whole domain (heg_soc_reset.v):
//   - an address outside every region (a stack running off the bottom of
//     RAM lands here: RAM starts its region), or in the ROM region past the
//     ROM_BYTES the board fits (the block RAM would otherwise answer there
//     with the image again, aliased);
//   - a write to ROM (the firmware image cannot be changed from software);
//   - an instruction fetch from anywhere but ROM (nothing written at run
//     time can be executed);
//   - an AXI4-Lite error response from the meter or the limiter registers.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_bus #(
  // The ROM fitted: at most the ROM region (heg_soc.v refuses more).
  parameter integer ROM_BYTES = 131072
) (
  input  wire        mem_valid_i,
  input  wire        mem_instr_i,
  input  wire [31:0] mem_addr_i,
  input  wire [3:0]  mem_wstrb_i,
  // An AXI4-Lite slave answered SLVERR/DECERR in this cycle.
  input  wire        axil_error_i,
  output wire        sel_rom_o,
  output wire        sel_ram_o,
  output wire        sel_uart_o,
  output wire        sel_timer_o,
  output wire        sel_spi_o,
  output wire        sel_trng_o,
  output wire        sel_otp_o,
  output wire        sel_refclk_o,
  output wire        sel_meter_o,
  output wire        sel_limiter_o,
  output wire        fault_o
);

  `include "heg_soc_map.vh"

  function in_region;
    input [31:0] addr;
    input [31:0] base;
    input integer bytes;
    begin
      in_region = (addr >= base) && (addr - base < bytes);
    end
  endfunction

  wire rom = in_region(mem_addr_i, HEG_SOC_ROM_BASE, ROM_BYTES);
  wire ram = in_region(mem_addr_i, HEG_SOC_RAM_BASE, HEG_SOC_RAM_BYTES);
  wire uart = in_region(mem_addr_i, HEG_SOC_UART_BASE, HEG_SOC_UART_BYTES);
  wire timer = in_region(mem_addr_i, HEG_SOC_TIMER_BASE, HEG_SOC_TIMER_BYTES);
  wire spi = in_region(mem_addr_i, HEG_SOC_SPI_BASE, HEG_SOC_SPI_BYTES);
  wire trng = in_region(mem_addr_i, HEG_SOC_TRNG_BASE, HEG_SOC_TRNG_BYTES);
  wire otp = in_region(mem_addr_i, HEG_SOC_OTP_BASE, HEG_SOC_OTP_BYTES);
  wire refclk = in_region(mem_addr_i, HEG_SOC_REFCLK_BASE, HEG_SOC_REFCLK_BYTES);
  wire meter = in_region(mem_addr_i, HEG_SOC_METER_BASE, HEG_SOC_METER_BYTES);
  wire limiter = in_region(mem_addr_i, HEG_SOC_LIMITER_BASE, HEG_SOC_LIMITER_BYTES);

  wire write = (mem_wstrb_i != 4'b0000);
  wire data = ram || uart || timer || spi || trng || otp || refclk || meter || limiter;
  wire allowed = mem_instr_i ? rom : ((rom && !write) || data);

  assign sel_rom_o = mem_valid_i && allowed && rom;
  assign sel_ram_o = mem_valid_i && allowed && ram;
  assign sel_uart_o = mem_valid_i && allowed && uart;
  assign sel_timer_o = mem_valid_i && allowed && timer;
  assign sel_spi_o = mem_valid_i && allowed && spi;
  assign sel_trng_o = mem_valid_i && allowed && trng;
  assign sel_otp_o = mem_valid_i && allowed && otp;
  assign sel_refclk_o = mem_valid_i && allowed && refclk;
  assign sel_meter_o = mem_valid_i && allowed && meter;
  assign sel_limiter_o = mem_valid_i && allowed && limiter;
  assign fault_o = (mem_valid_i && !allowed) || axil_error_i;

endmodule

`resetall
