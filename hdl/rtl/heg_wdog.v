// openheg watchdog: counts cycles since the last kick and reports a trip.
//
// The register block in heg_meter.v owns the configuration (armed code, period,
// window) and decodes the kick; the core latches a trip into the watchdog close
// cause until reset. This module only counts and compares.
//
// Timing (edge N performs a bus write that arms or kicks):
//   - count_o is 0 after an arming or kicking edge and grows by one per edge
//     while armed (saturating); it stays 0 while disarmed.
//   - LATE: trip_o is high at every edge at which armed_i && count_q >= period_i
//     (a kick at that same edge is too late). With a kick at edge K the next
//     kick must land on an edge in K+WINDOW+1 .. K+PERIOD.
//   - EARLY: a kick at an edge where count_q < window_i is recorded and trips at
//     the following edge (one cycle later than a late trip; registered so the
//     decision never depends on the bus write of the same edge).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_wdog #(
  // Width of the cycle counter, the period and the window.
  parameter integer CNT_W = 32
) (
  input  wire             clk_i,
  input  wire             rst_ni,
  // Armed (registered state of WDOG_CTRL; never falls before reset).
  input  wire             armed_i,
  // The arming write is performed at this edge.
  input  wire             arm_i,
  // A kick (magic key while armed) is performed at this edge.
  input  wire             kick_i,
  input  wire [CNT_W-1:0] period_i,
  input  wire [CNT_W-1:0] window_i,
  // Trip event at this edge (late, or the early kick of the previous edge).
  output wire             trip_o,
  output wire [CNT_W-1:0] count_o
);

  localparam [CNT_W-1:0] CNT_MAX = {CNT_W{1'b1}};

  reg [CNT_W-1:0] count_q;
  reg [CNT_W-1:0] count_d;
  reg             early_q;

  always @* begin
    if (arm_i | kick_i) begin
      count_d = {CNT_W{1'b0}};
    end else if (armed_i) begin
      count_d = (count_q == CNT_MAX) ? CNT_MAX : count_q + 1'b1;
    end else begin
      count_d = {CNT_W{1'b0}};
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      count_q <= {CNT_W{1'b0}};
      early_q <= 1'b0;
    end else begin
      count_q <= count_d;
      early_q <= kick_i & armed_i & (count_q < window_i);
    end
  end

  assign trip_o = (armed_i & (count_q >= period_i)) | early_q;
  assign count_o = count_q;

endmodule

`resetall
