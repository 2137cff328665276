// openheg synthesis-only I/O harness helpers (NOT part of the product RTL).
//
// They let place-and-route time a block whose ports far exceed a small FPGA
// package's pins: every block input comes straight from a flop of a serial shift
// chain fed by one pin, every block output is captured in a flop, and the captured
// bits are folded by a pipelined XOR tree into one output pin. Each captured bit
// stays observable at the pin (XOR is sensitive to every input), so synthesis
// cannot remove any of the block's logic; (* keep *) guards the capture flops too.
// The timed paths are therefore the block's own: flop -> block logic -> flop, with
// no harness logic in between (the XOR tree starts after the capture flops).

`resetall
`timescale 1ns / 1ps
`default_nettype none

// Serial-in shift chain: q[0] takes si, q[i] takes q[i-1] at every edge.
module heg_synth_shift_in #(
  parameter integer W = 8
) (
  input  wire         clk_i,
  input  wire         si_i,
  output reg  [W-1:0] q_o
);
  generate
    if (W == 1) begin : gen_one
      always @(posedge clk_i) begin
        q_o <= si_i;
      end
    end else begin : gen_chain
      always @(posedge clk_i) begin
        q_o <= {q_o[W-2:0], si_i};
      end
    end
  endgenerate
endmodule

`resetall
