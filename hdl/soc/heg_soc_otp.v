// One-time-programmable area inside the package (the HAL's OTP contract,
// docs/soc.md): OTP_WORDS fuse words that read all ones until programmed.
// The firmware writes the 32 words of a staging copy, then PROGRAM_KEY to
// PROGRAM: at that one edge the whole staging copy is burnt into the fuses
// and PROGRAMMED is set, so a power cut leaves either no fuse or every fuse
// burnt. Once PROGRAMMED, a second PROGRAM changes no fuse and sets REFUSED
// (sticky until reset). Any other value written to PROGRAM burns nothing.
//
// The fuses and PROGRAMMED are not reset by rst_ni: they survive every reset
// of the domain. In simulation the harness keeps them across power cuts (the
// two registers are public to it). An FPGA has no fuses: on a board this
// block is a STAND-IN whose contents last until the FPGA loses power; a
// product maps it to the part's eFuse or OTP macro.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_otp (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        sel_i,
  input  wire [11:0] addr_i,
  input  wire [31:0] wdata_i,
  input  wire [3:0]  wstrb_i,
  output reg         ready_o,
  output reg  [31:0] rdata_o
);

  `include "heg_soc_map.vh"

  localparam integer WORDS = HEG_SOC_OTP_WORDS;

  // Non-volatile: no reset.
  reg [31:0] fuse_q [0:WORDS-1] /* verilator public_flat_rw */;
  reg        programmed_q /* verilator public_flat_rw */;

  reg [31:0] stage_q [0:WORDS-1];
  reg        refused_q;

  // As shipped: every fuse intact (all ones), nothing programmed.
  integer init_word;
  initial begin
    for (init_word = 0; init_word < WORDS; init_word = init_word + 1) begin
      fuse_q[init_word] = 32'hffffffff;
    end
    programmed_q = 1'b0;
  end

  integer burn_word;
  integer reset_word;

  wire       access = sel_i && !ready_o;
  wire       write = access && (wstrb_i == 4'b1111);
  wire       read = access && (wstrb_i == 4'b0000);
  wire       word_addr = (addr_i[11:7] == 5'd0);
  wire [4:0] word = addr_i[6:2];
  wire       burn = write && addr_i == HEG_SOC_OTP_PROGRAM && wdata_i == HEG_SOC_OTP_PROGRAM_KEY;

  always @(posedge clk_i) begin
    if (burn && !programmed_q) begin
      for (burn_word = 0; burn_word < WORDS; burn_word = burn_word + 1) begin
        fuse_q[burn_word] <= stage_q[burn_word];
      end
      programmed_q <= 1'b1;
    end
  end

  always @(posedge clk_i) begin
    if (write && word_addr) begin
      stage_q[word] <= wdata_i;
    end
    if (burn && programmed_q) begin
      refused_q <= 1'b1;
    end
    ready_o <= access;
    if (read) begin
      if (word_addr) begin
        rdata_o <= fuse_q[word];
      end else if (addr_i == HEG_SOC_OTP_STATUS) begin
        rdata_o <= {30'h0, refused_q, programmed_q};
      end else begin
        rdata_o <= 32'h0;
      end
    end
    if (!rst_ni) begin
      for (reset_word = 0; reset_word < WORDS; reset_word = reset_word + 1) begin
        stage_q[reset_word] <= 32'hffffffff;
      end
      refused_q <= 1'b0;
      ready_o <= 1'b0;
    end
  end

endmodule

`resetall
