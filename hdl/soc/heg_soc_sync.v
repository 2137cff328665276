// Two-flop synchroniser for a level from another clock domain (or from
// outside the package). The first flop may go metastable; the second gives it
// a whole clock period to settle. RESET_VALUE is what the output reads while
// in reset (the safe value of the signal).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_sync #(
  // Bits synchronised (each on its own: only for independent levels).
  parameter integer WIDTH = 1,
  // Output while in reset.
  parameter [WIDTH-1:0] RESET_VALUE = {WIDTH{1'b0}}
) (
  input  wire             clk_i,
  input  wire             rst_ni,
  input  wire [WIDTH-1:0] d_i,
  output wire [WIDTH-1:0] q_o
);

  reg [WIDTH-1:0] meta_q;
  reg [WIDTH-1:0] sync_q;

  always @(posedge clk_i) begin
    meta_q <= d_i;
    sync_q <= meta_q;
    if (!rst_ni) begin
      meta_q <= RESET_VALUE;
      sync_q <= RESET_VALUE;
    end
  end

  assign q_o = sync_q;

endmodule

`resetall
