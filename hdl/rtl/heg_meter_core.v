// openheg metering and enforcement core.
//
// Per-precision op counters, the weighted standard-FLOP accumulator, the
// allowance comparator and the fail-closed gate. No bus logic here: the
// register block in heg_meter.v feeds the weights, the committed limit and the
// GATE.enable request, and reads the status and the snapshot registers.
//
// Timing (clock edge N is the edge that samples op_valid_i/op_count_i for cycle N):
//   - counters and accumulator include cycle N's ops right after edge N;
//   - the gate decision at edge N+1 uses the registered accumulator, limit and
//     GATE.enable as they stand after edge N;
//   - so ENFORCEMENT LATENCY = 1 CYCLE: if the accumulator first reaches the
//     limit at edge N, accel_enable_o is still high during the cycle after edge
//     N and is low from edge N+1 on. At most one extra cycle of ops is issued
//     after the allowance is reached, and those ops are still metered.
//   - a snapshot request at edge N copies the values the counters take at edge
//     N (cycle N's ops included), so a snapshot equals "the state after edge N".
//
// Metering never stops: ops are counted whether the gate is open or closed.
// Every counter saturates at all ones and never wraps; reaching the maximum
// sets the sticky saturated flag.
//
// The gate state is held as a 4-bit multi-bit code (open 4'h6, closed 4'h9)
// next to the registered close causes. The gate is open only when the code is
// open AND every registered cause is clear AND no fatal error is latched. Any
// state that is not one of the two consistent combinations (a flipped bit, an
// invalid code, open with a cause set) latches fatal, which closes the gate
// until reset.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_meter_core #(
  // Number of precision lanes; the top passes HEG_LANES from the register map.
  parameter integer LANES = 6,
  // Width of the per-cycle op count of one lane (ops per cycle per lane).
  parameter integer COUNT_W = 16,
  // Width of every op counter, the accumulator and the allowance limit.
  parameter integer WIDE_W = 128,
  // Width of a weight (milli-sFLOP per op).
  parameter integer WEIGHT_W = 32,
  // Gate code that means open (prim_mubi4 true); the top passes HEG_GATE_ENABLE_OPEN.
  parameter [3:0] GATE_OPEN = 4'h6,
  // Gate code that means closed (prim_mubi4 false); the top passes HEG_GATE_ENABLE_CLOSED.
  parameter [3:0] GATE_CLOSED = 4'h9
) (
  input  wire                       clk_i,
  input  wire                       rst_ni,

  // Op events from the accelerator: lane l counts op_count_i[l] ops when op_valid_i[l].
  input  wire [LANES-1:0]           op_valid_i,
  input  wire [LANES*COUNT_W-1:0]   op_count_i,

  // Policy from the register block.
  input  wire [LANES*WEIGHT_W-1:0]  weight_i,
  input  wire [WIDE_W-1:0]          limit_i,
  input  wire [3:0]                 gate_enable_i,
  input  wire                       snapshot_i,

  // Enforcement.
  output wire                       accel_enable_o,

  // Status and close causes (GATE_CAUSE is zero exactly when accel_enable_o is high).
  output wire                       saturated_o,
  output wire                       fatal_o,
  output wire                       cause_exhausted_o,
  output wire                       cause_disarmed_o,
  output wire                       cause_fatal_o,

  // Snapshot registers.
  output wire [LANES*WIDE_W-1:0]    count_snap_o,
  output wire [WIDE_W-1:0]          acc_snap_o
);

  // Width of one lane's product count * weight.
  localparam integer PROD_W = COUNT_W + WEIGHT_W;
  // Width of the sum of all lane products (log2(LANES) guard bits, LANES <= 8).
  localparam integer SUM_W = PROD_W + 3;

  localparam [WIDE_W-1:0] WIDE_MAX = {WIDE_W{1'b1}};

  // ---------------------------------------------------------------------------
  // Registers.
  reg [LANES*WIDE_W-1:0] count_q;
  reg [LANES*WIDE_W-1:0] count_d;
  reg [WIDE_W-1:0]       acc_q;
  reg [WIDE_W-1:0]       acc_d;
  reg [LANES*WIDE_W-1:0] count_snap_q;
  reg [WIDE_W-1:0]       acc_snap_q;
  reg                    saturated_q;
  reg                    saturated_d;
  reg [3:0]              gate_q;
  reg [3:0]              gate_d;
  reg                    exhausted_q;
  reg                    disarmed_q;
  reg                    fatal_q;

  // ---------------------------------------------------------------------------
  // Counters and accumulator.
  reg [SUM_W-1:0]  charge;
  reg [WIDE_W:0]   lane_sum;
  reg [WIDE_W:0]   acc_sum;
  reg [COUNT_W-1:0] lane_ops;
  integer l;

  always @* begin
    charge = {SUM_W{1'b0}};
    saturated_d = saturated_q;
    count_d = count_q;
    for (l = 0; l < LANES; l = l + 1) begin
      lane_ops = op_valid_i[l] ? op_count_i[l*COUNT_W +: COUNT_W] : {COUNT_W{1'b0}};
      lane_sum = {1'b0, count_q[l*WIDE_W +: WIDE_W]} + {{(WIDE_W+1-COUNT_W){1'b0}}, lane_ops};
      if (lane_sum[WIDE_W]) begin
        count_d[l*WIDE_W +: WIDE_W] = WIDE_MAX;
      end else begin
        count_d[l*WIDE_W +: WIDE_W] = lane_sum[WIDE_W-1:0];
      end
      if (count_d[l*WIDE_W +: WIDE_W] == WIDE_MAX) begin
        saturated_d = 1'b1;
      end
      charge = charge + {{(SUM_W-PROD_W){1'b0}},
                         ({{WEIGHT_W{1'b0}}, lane_ops} *
                          {{COUNT_W{1'b0}}, weight_i[l*WEIGHT_W +: WEIGHT_W]})};
    end
    acc_sum = {1'b0, acc_q} + {{(WIDE_W+1-SUM_W){1'b0}}, charge};
    acc_d = acc_sum[WIDE_W] ? WIDE_MAX : acc_sum[WIDE_W-1:0];
    if (acc_d == WIDE_MAX) begin
      saturated_d = 1'b1;
    end
  end

  // ---------------------------------------------------------------------------
  // Gate. Causes and the gate code are decided together from registered values,
  // so after every edge (open, no cause) or (closed, some cause) holds.
  wire gate_is_open = (gate_q == GATE_OPEN);
  wire gate_is_closed = (gate_q == GATE_CLOSED);
  wire any_cause_q = exhausted_q | disarmed_q | fatal_q;
  wire gate_consistent = (gate_is_open & ~any_cause_q) | (gate_is_closed & any_cause_q);

  wire exhausted_d = (acc_q >= limit_i);
  wire disarmed_d = (gate_enable_i != GATE_OPEN);
  wire fatal_d = fatal_q | ~gate_consistent;

  always @* begin
    if (~exhausted_d & ~disarmed_d & ~fatal_d) begin
      gate_d = GATE_OPEN;
    end else begin
      gate_d = GATE_CLOSED;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      count_q <= {(LANES*WIDE_W){1'b0}};
      acc_q <= {WIDE_W{1'b0}};
      count_snap_q <= {(LANES*WIDE_W){1'b0}};
      acc_snap_q <= {WIDE_W{1'b0}};
      saturated_q <= 1'b0;
      gate_q <= GATE_CLOSED;
      exhausted_q <= 1'b1;
      disarmed_q <= 1'b1;
      fatal_q <= 1'b0;
    end else begin
      count_q <= count_d;
      acc_q <= acc_d;
      if (snapshot_i) begin
        count_snap_q <= count_d;
        acc_snap_q <= acc_d;
      end
      saturated_q <= saturated_d;
      gate_q <= gate_d;
      exhausted_q <= exhausted_d;
      disarmed_q <= disarmed_d;
      fatal_q <= fatal_d;
    end
  end

  // Second check at the output: the code, the causes and the fatal latch must all agree.
  assign accel_enable_o = gate_is_open & ~any_cause_q & ~fatal_q;

  assign saturated_o = saturated_q;
  // Fatal shows as soon as the state is inconsistent, and stays latched from the next edge.
  assign fatal_o = fatal_d;
  assign cause_exhausted_o = exhausted_q;
  assign cause_disarmed_o = disarmed_q;
  assign cause_fatal_o = fatal_d;

  assign count_snap_o = count_snap_q;
  assign acc_snap_o = acc_snap_q;

endmodule

`resetall
