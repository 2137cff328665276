// The SoC's memories on the CPU's native bus: one 32-bit word per access,
// answered the cycle after the request.
//   ROM: the firmware image, loaded at configuration from INIT_FILE
//        ($readmemh, one word per line); the CPU can only read it (a write
//        is a bus fault, decided in heg_soc_bus.v).
//   RAM: byte-writable, not executable (an instruction fetch from it is a
//        bus fault), contents undefined after power-up.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_mem #(
  // Size in bytes (a power of two).
  parameter integer BYTES = 8192,
  // Hex file of the initial contents; empty: none.
  parameter INIT_FILE = ""
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        sel_i,
  input  wire [31:0] addr_i,
  input  wire [31:0] wdata_i,
  input  wire [3:0]  wstrb_i,
  output reg         ready_o,
  output reg  [31:0] rdata_o
);

  localparam integer WORDS = BYTES / 4;
  localparam integer AW = $clog2(WORDS);

  // Public to the simulation harness, which loads the firmware image into the
  // ROM and reads the stack's paint in RAM.
  reg [31:0] mem_q [0:WORDS-1] /* verilator public_flat_rw */;

  generate
    if (INIT_FILE != "") begin : gen_init
      initial $readmemh(INIT_FILE, mem_q);
    end
  endgenerate

  wire [AW-1:0] word = addr_i[AW+1:2];

  always @(posedge clk_i) begin
    if (sel_i && !ready_o) begin
      if (wstrb_i[0]) mem_q[word][7:0] <= wdata_i[7:0];
      if (wstrb_i[1]) mem_q[word][15:8] <= wdata_i[15:8];
      if (wstrb_i[2]) mem_q[word][23:16] <= wdata_i[23:16];
      if (wstrb_i[3]) mem_q[word][31:24] <= wdata_i[31:24];
      rdata_o <= mem_q[word];
    end
  end

  always @(posedge clk_i) begin
    ready_o <= sel_i && !ready_o;
    if (!rst_ni) begin
      ready_o <= 1'b0;
    end
  end

endmodule

`resetall
