// openheg synthesis-only harness helper (see heg_synth_shift_in.v).

`resetall
`timescale 1ns / 1ps
`default_nettype none

// Capture flops plus a pipelined 4:1 XOR-reduction tree to one bit.
module heg_synth_xor_out #(
  parameter integer W = 8
) (
  input  wire         clk_i,
  input  wire [W-1:0] d_i,
  output wire         q_o
);
  (* keep *) reg [W-1:0] cap_q;

  always @(posedge clk_i) begin
    cap_q <= d_i;
  end

  heg_synth_xor_tree #(.W(W)) u_tree (.clk_i(clk_i), .d_i(cap_q), .q_o(q_o));
endmodule

`resetall
