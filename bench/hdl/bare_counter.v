// Baseline for bench/hdl/bench.py: one 128-bit counter, the simplest block a simulator
// can run, with the same clock and reset ports as heg_meter.
`resetall
`timescale 1ns / 1ps
`default_nettype none
module bare_counter (
  input  wire         clk_i,
  input  wire         rst_ni,
  input  wire [15:0]  inc_i,
  output reg  [127:0] count_o
);
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) count_o <= 128'h0;
    else count_o <= count_o + {112'h0, inc_i};
  end
endmodule
`resetall
