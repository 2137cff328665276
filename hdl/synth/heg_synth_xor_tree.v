// openheg synthesis-only harness helper (see heg_synth_shift_in.v).

`resetall
`timescale 1ns / 1ps
`default_nettype none

// Pipelined XOR tree: one register level per 4:1 reduction (recursive).
module heg_synth_xor_tree #(
  parameter integer W = 8
) (
  input  wire         clk_i,
  input  wire [W-1:0] d_i,
  output wire         q_o
);
  localparam integer N = (W + 3) / 4;

  wire [4*N-1:0] pad;
  (* keep *) reg [N-1:0] red_q;

  generate
    if (4 * N == W) begin : gen_full
      assign pad = d_i;
    end else begin : gen_pad
      assign pad = {{(4 * N - W){1'b0}}, d_i};
    end
  endgenerate

  integer i;
  always @(posedge clk_i) begin
    for (i = 0; i < N; i = i + 1) begin
      red_q[i] <= ^pad[4*i +: 4];
    end
  end

  generate
    if (N == 1) begin : gen_leaf
      assign q_o = red_q[0];
    end else begin : gen_next
      heg_synth_xor_tree #(.W(N)) u_next (.clk_i(clk_i), .d_i(red_q), .q_o(q_o));
    end
  endgenerate
endmodule

`resetall
