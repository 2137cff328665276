// Tamper input from outside the package: a pulse of any width, even one
// shorter than a clock period or between two edges, is caught. The latch is
// set asynchronously by tamper_i and cleared only by the domain's reset (and
// only once tamper_i is low again); its output crosses into the clock domain
// through a two-flop synchroniser, so the meter sees a clean level at most
// three edges later and closes the gate until reset (heg_meter's tamper).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_tamper (
  input  wire clk_i,
  input  wire rst_ni,
  // Asynchronous, active high, from the package's tamper sensor.
  input  wire tamper_i,
  // Synchronous to clk_i, for heg_meter's tamper_i.
  output wire tamper_o
);

  // No power-up value: an FPGA flop with an asynchronous set takes none but
  // its set value; the domain starts in reset (heg_soc_reset), which clears it.
  reg seen_q;

  always @(posedge clk_i or posedge tamper_i) begin
    if (tamper_i) begin
      seen_q <= 1'b1;
    end else if (!rst_ni) begin
      seen_q <= 1'b0;
    end
  end

  heg_soc_sync #(.WIDTH(1), .RESET_VALUE(1'b0)) u_sync (
    .clk_i  (clk_i),
    .rst_ni (rst_ni),
    .d_i    (seen_q),
    .q_o    (tamper_o)
  );

endmodule

`resetall
