// TRNG STAND-IN. NOT A RANDOM NUMBER GENERATOR.
//
// A 32-bit xorshift generator stepped every clock from a fixed SEED: its
// output is predictable by anyone who knows the seed and the cycle count, so
// every key the firmware makes from it is NOT SECRET. It exists so the SoC
// runs the firmware end to end in simulation and on an FPGA, which has no
// entropy source this design could vouch for. A product replaces this block
// with a certified TRNG at the same address (health-tested, conditioned);
// the ID register reads HEG_SOC_TRNG_STANDIN_ID ("STND") so software and
// tests can tell.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_trng_standin #(
  // Initial state (never 0: xorshift stays at 0).
  parameter [31:0] SEED = 32'h2545f491
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        sel_i,
  input  wire [11:0] addr_i,
  input  wire [3:0]  wstrb_i,
  output reg         ready_o,
  output reg  [31:0] rdata_o
);

  `include "heg_soc_map.vh"

  generate
    if (SEED == 32'h0) begin : gen_bad_seed
      heg_soc_trng_standin_seed_must_not_be_zero u_error ();
    end
  endgenerate

  reg [31:0] state_q;

  function [31:0] xorshift;
    input [31:0] x;
    reg [31:0] a, b;
    begin
      a = x ^ (x << 13);
      b = a ^ (a >> 17);
      xorshift = b ^ (b << 5);
    end
  endfunction

  wire read = sel_i && !ready_o && (wstrb_i == 4'b0000);

  always @(posedge clk_i) begin
    state_q <= xorshift(state_q);
    ready_o <= sel_i && !ready_o;
    if (read) begin
      case (addr_i)
        HEG_SOC_TRNG_ID: rdata_o <= HEG_SOC_TRNG_STANDIN_ID;
        HEG_SOC_TRNG_DATA: rdata_o <= state_q;
        default: rdata_o <= 32'h0;
      endcase
    end
    if (!rst_ni) begin
      state_q <= SEED;
      ready_o <= 1'b0;
    end
  end

endmodule

`resetall
