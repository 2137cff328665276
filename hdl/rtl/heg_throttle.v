// openheg throttle: an exact duty-cycle pattern for the gate.
//
// A fractional accumulator (Bresenham): with frac starting at 0 and 0 < num < den,
//   s = frac + num; open = (s >= den); frac' = open ? s - den : s
// so after n steps frac = (n*num) mod den, and step n is open iff
//   floor((n+1)*num/den) > floor(n*num/den).
// Hence exactly num open cycles in every den consecutive cycles, and any window of
// W consecutive cycles holds floor(W*num/den) or ceil(W*num/den) open cycles (the
// best any integer pattern can do). num >= den is always open; den = 0 never opens.
//
// open_o is the decision taken at this edge for the cycle after it; restart_i (the
// THROTTLE write) resets the phase, so the pattern with the new num/den starts at
// the next edge with n = 0.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_throttle #(
  // Width of num, den and the fraction.
  parameter integer W = 16
) (
  input  wire         clk_i,
  input  wire         rst_ni,
  input  wire [W-1:0] num_i,
  input  wire [W-1:0] den_i,
  input  wire         restart_i,
  output reg          open_o
);

  reg [W-1:0] frac_q;
  reg [W-1:0] frac_d;
  reg [W:0]   sum;

  always @* begin
    sum = {1'b0, frac_q} + {1'b0, num_i};
    if (den_i == {W{1'b0}}) begin
      open_o = 1'b0;
      frac_d = {W{1'b0}};
    end else if (num_i >= den_i) begin
      open_o = 1'b1;
      frac_d = {W{1'b0}};
    end else if (sum >= {1'b0, den_i}) begin
      open_o = 1'b1;
      frac_d = sum[W-1:0] - den_i;
    end else begin
      open_o = 1'b0;
      frac_d = sum[W-1:0];
    end
    if (restart_i) begin
      frac_d = {W{1'b0}};
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      frac_q <= {W{1'b0}};
    end else begin
      frac_q <= frac_d;
    end
  end

endmodule

`resetall
