// openheg metering and enforcement core.
//
// Per-precision op counters, the weighted standard-FLOP accumulator, the
// allowance comparator, the low-water condition and the fail-closed gate. No bus
// logic here: the register block in heg_meter.v feeds the weights, the committed
// limit (and its complement shadow), the low-water threshold, the GATE and PAUSE
// codes, the watchdog trip and the throttle decision, and reads status, causes and
// the snapshot registers.
//
// Timing (clock edge N is the edge that samples op_valid_i/op_count_i for cycle N):
//   - edge N registers cycle N's ops and their products (ops x weight) per lane; edge
//     N+1 adds them into the counters and the accumulator (one pipeline stage, so the
//     multipliers and the wide adds never share a cycle). The METERED TOTAL after edge N
//     is accumulator + the registered products: every op up to cycle N.
//   - the gate decision at edge N uses the registered state (the metered total through
//     cycle N-1, the limit, the CHARGE_MAX headroom, the GATE/PAUSE codes, the latches,
//     whether the gate is open in cycle N) plus the inputs sampled at edge N (tamper_i,
//     the watchdog trip, the throttle slot). It does not look at cycle N's ops.
//   - NO OVERSHOOT (CHARGE_MAX = H > 0 declared): the gate opens for cycle N+1 only if
//     total_through_N-1 + H*(open in cycle N) + H <= limit, so whatever the lanes do
//     (each cycle adds at most H, ops only while accel_enable_o is high) the metered
//     total never passes the limit. A cycle whose charge exceeds H breaks the declaration
//     and latches the overrate cause (the excess is metered, never hidden). Near the
//     limit the gate opens every other cycle, and the last < 2H of an allowance may stay
//     unused: the price of never overshooting.
//   - H = 0 (not declared, reset): the gate closes at edge N+1 once the metered total
//     through cycle N reaches the limit; cycle N+1's ops (at most one cycle) still pass.
//   - ENFORCEMENT LATENCY = 1 CYCLE: a decision at edge N governs accel_enable_o from
//     edge N (the cycle N+1); tamper_i high in cycle N closes the gate from edge N.
//   - a snapshot request (snapshot_i) at edge N copies the counters and the accumulator
//     as they stand after edge N: every op through cycle N-1, counters and accumulator
//     together. heg_meter raises it one edge after the CTRL write, so the snapshot holds
//     every op through the write's own cycle.
//
// Metering never stops: ops are counted whether the gate is open or closed (an
// accelerator that computes while accel_enable_o is low is metered, not stopped: the
// integration must gate it with accel_enable_o).
// Every counter saturates at all ones and never wraps; reaching the maximum
// sets that counter's sticky saturated flag.
//
// Close causes (each registered at every edge; GATE_CAUSE shows them):
//   exhausted  the next cycle could take the metered total past the limit (above), or
//              accumulator >= limit (decided twice, see below)
//   disarmed   GATE code is not the open code
//   paused     PAUSE code is not the run code (fails towards paused)
//   watchdog   latched on a watchdog trip until reset
//   tamper     latched on tamper_i until reset
//   throttled  the throttle pattern closes this cycle
//   fatal      latched on any failed consistency check until reset
//   overrate   latched when one cycle's charge exceeded a declared CHARGE_MAX, until reset
//
// Countermeasures. The gate state is a 4-bit multi-bit code (open 4'h6, closed
// 4'h9) next to the registered causes; the output is high only when the code is
// open AND every registered cause is clear. The accumulator and the committed
// limit each have a complemented shadow (acc_n_q, limit_n_i), and "exhausted" is
// computed by two different comparators, acc_q >= limit_i and
// acc_n_q <= limit_n_i; either one closes the gate. Any of: an inconsistent gate
// state (a flipped code bit, an invalid code, open with a cause set), a shadow that
// is not the complement of its register, or the two comparators disagreeing,
// latches fatal, which holds the gate closed until reset.

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
  // Width of CHARGE_MAX (milli-sFLOP one cycle may add); >= COUNT_W + WEIGHT_W + 3.
  parameter integer HEAD_W = 64,
  // Gate code that means open (prim_mubi4 true); the top passes HEG_GATE_ENABLE_OPEN.
  parameter [3:0] GATE_OPEN = 4'h6,
  // Gate code that means closed (prim_mubi4 false); the top passes HEG_GATE_ENABLE_CLOSED.
  parameter [3:0] GATE_CLOSED = 4'h9,
  // PAUSE code that lets the gate open; every other code pauses.
  parameter [3:0] PAUSE_RUN = 4'h9
) (
  input  wire                       clk_i,
  input  wire                       rst_ni,

  // Op events from the accelerator: lane l counts op_count_i[l] ops when op_valid_i[l].
  input  wire [LANES-1:0]           op_valid_i,
  input  wire [LANES*COUNT_W-1:0]   op_count_i,

  // Policy from the register block.
  input  wire [LANES*WEIGHT_W-1:0]  weight_i,
  input  wire [WIDE_W-1:0]          limit_i,
  // Complement shadow of limit_i (written together with it).
  input  wire [WIDE_W-1:0]          limit_n_i,
  input  wire [WIDE_W-1:0]          lowwater_i,
  // Most milli-sFLOP one cycle may add (CHARGE_MAX, from the policy); 0: not declared.
  input  wire [HEAD_W-1:0]          charge_max_i,
  input  wire [3:0]                 gate_enable_i,
  input  wire [3:0]                 pause_i,
  input  wire                       snapshot_i,

  // Fail-closed inputs sampled at every edge.
  input  wire                       wdog_trip_i,
  input  wire                       tamper_i,
  // Throttle decision for the cycle after this edge (1: this slot may open).
  input  wire                       throttle_open_i,

  // Enforcement.
  output wire                       accel_enable_o,

  // Status and close causes (GATE_CAUSE is zero exactly when accel_enable_o is high).
  output wire                       saturated_o,
  output wire [LANES:0]             sat_o,
  output wire                       fatal_o,
  output wire                       cause_exhausted_o,
  output wire                       cause_disarmed_o,
  output wire                       cause_fatal_o,
  output wire                       cause_paused_o,
  output wire                       cause_watchdog_o,
  output wire                       cause_tamper_o,
  output wire                       cause_throttled_o,
  output wire                       cause_overrate_o,

  // Interrupt set events of this edge (evaluated on the registered state, as the gate).
  output wire                       low_water_o,
  output wire                       exhausted_event_o,
  output wire                       fault_event_o,

  // Snapshot registers.
  output wire [LANES*WIDE_W-1:0]    count_snap_o,
  output wire [WIDE_W-1:0]          acc_snap_o
);

  // Width of one lane's product count * weight.
  localparam integer PROD_W = COUNT_W + WEIGHT_W;
  // Width of the sum of all lane products (log2(LANES) guard bits, LANES <= 8).
  localparam integer SUM_W = PROD_W + 3;

  localparam [WIDE_W-1:0] WIDE_MAX = {WIDE_W{1'b1}};

  generate
    if (LANES < 1 || LANES > 8 || COUNT_W < 1 || HEAD_W < SUM_W || HEAD_W + 2 > WIDE_W) begin : gen_bad_params
      heg_meter_core_bad_parameters u_error ();
    end
  endgenerate

  // ---------------------------------------------------------------------------
  // Registers.
  reg [LANES*COUNT_W-1:0] ops_q;
  reg [LANES*PROD_W-1:0]  prod_q;
  reg [LANES*WIDE_W-1:0] count_q;
  reg [LANES*WIDE_W-1:0] count_d;
  reg [WIDE_W-1:0]       acc_q;
  reg [WIDE_W-1:0]       acc_n_q;
  reg [WIDE_W-1:0]       acc_d;
  reg [LANES*WIDE_W-1:0] count_snap_q;
  reg [WIDE_W-1:0]       acc_snap_q;
  reg [LANES:0]          sat_q;
  reg [LANES:0]          sat_d;
  reg [3:0]              gate_q;
  reg [3:0]              gate_d;
  reg                    exhausted_q;
  reg                    disarmed_q;
  reg                    paused_q;
  reg                    watchdog_q;
  reg                    tamper_q;
  reg                    throttled_q;
  reg                    fatal_q;
  reg                    overrate_q;

  // ---------------------------------------------------------------------------
  // Pipeline stage: this edge's ops and their charge per lane.
  reg [LANES*COUNT_W-1:0] ops_d;
  reg [LANES*PROD_W-1:0]  prod_d;
  integer l;

`ifdef HEG_FORMAL_ANY_PRODUCT
  // Proof abstraction (hdl/formal/heg_meter_core.ys): a lane's product is any value, and
  // 0 while the lane is idle. Every behaviour of the multiplier is one of these, so what
  // is proven here holds for the real products, at a fraction of the solver's effort.
  (* anyseq *) reg [LANES*PROD_W-1:0] f_any_prod;
`endif
  always @* begin
    for (l = 0; l < LANES; l = l + 1) begin
      ops_d[l*COUNT_W +: COUNT_W] = op_valid_i[l] ? op_count_i[l*COUNT_W +: COUNT_W]
                                                  : {COUNT_W{1'b0}};
`ifdef HEG_FORMAL_ANY_PRODUCT
      prod_d[l*PROD_W +: PROD_W] = op_valid_i[l] ? f_any_prod[l*PROD_W +: PROD_W]
                                                 : {PROD_W{1'b0}};
`else
      prod_d[l*PROD_W +: PROD_W] = {{WEIGHT_W{1'b0}}, ops_d[l*COUNT_W +: COUNT_W]} *
                                   {{COUNT_W{1'b0}}, weight_i[l*WEIGHT_W +: WEIGHT_W]};
`endif
    end
  end

  // ---------------------------------------------------------------------------
  // Counters and accumulator, from the registered stage (the previous edge's ops).
  reg [SUM_W-1:0]  charge;
  reg [WIDE_W:0]   lane_sum;
  reg [WIDE_W:0]   acc_sum;

  always @* begin
    charge = {SUM_W{1'b0}};
    sat_d = sat_q;
    count_d = count_q;
    for (l = 0; l < LANES; l = l + 1) begin
      lane_sum = {1'b0, count_q[l*WIDE_W +: WIDE_W]} +
                 {{(WIDE_W+1-COUNT_W){1'b0}}, ops_q[l*COUNT_W +: COUNT_W]};
      if (lane_sum[WIDE_W]) begin
        count_d[l*WIDE_W +: WIDE_W] = WIDE_MAX;
      end else begin
        count_d[l*WIDE_W +: WIDE_W] = lane_sum[WIDE_W-1:0];
      end
      if (count_d[l*WIDE_W +: WIDE_W] == WIDE_MAX) begin
        sat_d[l] = 1'b1;
      end
      charge = charge + {{(SUM_W-PROD_W){1'b0}}, prod_q[l*PROD_W +: PROD_W]};
    end
    acc_sum = {1'b0, acc_q} + {{(WIDE_W+1-SUM_W){1'b0}}, charge};
    acc_d = acc_sum[WIDE_W] ? WIDE_MAX : acc_sum[WIDE_W-1:0];
    if (acc_d == WIDE_MAX) begin
      sat_d[LANES] = 1'b1;
    end
  end

  // ---------------------------------------------------------------------------
  // Allowance comparators on the registered accumulator: two structurally different
  // decisions of one fact (the countermeasure pair).
  wire exhausted_a = (acc_q >= limit_i);
  wire exhausted_b = (acc_n_q <= limit_n_i);
  wire acc_shadow_bad = (acc_n_q != ~acc_q);
  wire limit_shadow_bad = (limit_n_i != ~limit_i);
  wire compare_bad = exhausted_a ^ exhausted_b;

  // No overshoot: the metered total through the previous cycle (acc_d) plus the most the
  // lanes can add before the next decision: H in this cycle if the gate is open in it,
  // and H in the next. Undeclared (H = 0): close once the total reaches the limit.
  wire             charge_declared = (charge_max_i != {HEAD_W{1'b0}});
  wire [WIDE_W+1:0] head_one = {{(WIDE_W+2-HEAD_W){1'b0}}, charge_max_i};
  wire [WIDE_W+1:0] head_two = {{(WIDE_W+1-HEAD_W){1'b0}}, charge_max_i, 1'b0};
  wire [WIDE_W+1:0] in_flight = ~charge_declared ? {{(WIDE_W+1){1'b0}}, 1'b1}
                                : (accel_enable_o ? head_two : head_one);
  wire [WIDE_W+1:0] projected = {2'b00, acc_d} + in_flight;
  // Declared: close if projected > limit; undeclared: close if acc_d + 1 > limit.
  wire exhausted_ahead = (projected > {2'b00, limit_i});
  // One cycle's charge above a declared CHARGE_MAX: the declaration is false.
  wire overrate_now = charge_declared & ({{(HEAD_W-SUM_W){1'b0}}, charge} > charge_max_i);

  // Low water: remaining allowance (0 once exhausted) <= threshold.
  wire [WIDE_W-1:0] remaining = limit_i - acc_q;
  assign low_water_o = exhausted_a | (remaining <= lowwater_i);

  // ---------------------------------------------------------------------------
  // Gate. Causes and the gate code are decided together from registered values,
  // so after every edge (open, no cause) or (closed, some cause) holds.
  wire gate_is_open = (gate_q == GATE_OPEN);
  wire gate_is_closed = (gate_q == GATE_CLOSED);
  wire any_cause_q = exhausted_q | disarmed_q | paused_q | watchdog_q | tamper_q |
                     throttled_q | fatal_q | overrate_q;
  wire gate_consistent = (gate_is_open & ~any_cause_q) | (gate_is_closed & any_cause_q);

  wire exhausted_d = exhausted_a | exhausted_b | exhausted_ahead;
  wire disarmed_d = (gate_enable_i != GATE_OPEN);
  wire paused_d = (pause_i != PAUSE_RUN);
  wire watchdog_d = watchdog_q | wdog_trip_i;
  wire tamper_d = tamper_q | tamper_i;
  wire throttled_d = ~throttle_open_i;
  wire fatal_d = fatal_q | ~gate_consistent | acc_shadow_bad | limit_shadow_bad | compare_bad;
  wire overrate_d = overrate_q | overrate_now;

  always @* begin
    if (~exhausted_d & ~disarmed_d & ~paused_d & ~watchdog_d & ~tamper_d & ~throttled_d &
        ~fatal_d & ~overrate_d) begin
      gate_d = GATE_OPEN;
    end else begin
      gate_d = GATE_CLOSED;
    end
  end

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ops_q <= {(LANES*COUNT_W){1'b0}};
      prod_q <= {(LANES*PROD_W){1'b0}};
      count_q <= {(LANES*WIDE_W){1'b0}};
      acc_q <= {WIDE_W{1'b0}};
      acc_n_q <= WIDE_MAX;
      count_snap_q <= {(LANES*WIDE_W){1'b0}};
      acc_snap_q <= {WIDE_W{1'b0}};
      sat_q <= {(LANES+1){1'b0}};
      gate_q <= GATE_CLOSED;
      exhausted_q <= 1'b1;
      disarmed_q <= 1'b1;
      paused_q <= 1'b0;
      watchdog_q <= 1'b0;
      tamper_q <= 1'b0;
      throttled_q <= 1'b0;
      fatal_q <= 1'b0;
      overrate_q <= 1'b0;
    end else begin
      ops_q <= ops_d;
      prod_q <= prod_d;
      count_q <= count_d;
      acc_q <= acc_d;
      acc_n_q <= ~acc_d;
      if (snapshot_i) begin
        count_snap_q <= count_d;
        acc_snap_q <= acc_d;
      end
      sat_q <= sat_d;
      gate_q <= gate_d;
      exhausted_q <= exhausted_d;
      disarmed_q <= disarmed_d;
      paused_q <= paused_d;
      watchdog_q <= watchdog_d;
      tamper_q <= tamper_d;
      throttled_q <= throttled_d;
      fatal_q <= fatal_d;
      overrate_q <= overrate_d;
    end
  end

  // Second check at the output: the code, the causes and the fatal latch must all agree.
  assign accel_enable_o = gate_is_open & ~any_cause_q & ~fatal_q;

  assign saturated_o = |sat_q;
  assign sat_o = sat_q;
  // Fatal shows as soon as the state is inconsistent, and stays latched from the next edge.
  assign fatal_o = fatal_d;
  assign cause_exhausted_o = exhausted_q;
  assign cause_disarmed_o = disarmed_q;
  assign cause_fatal_o = fatal_d;
  assign cause_paused_o = paused_q;
  assign cause_watchdog_o = watchdog_q;
  assign cause_tamper_o = tamper_q;
  assign cause_throttled_o = throttled_q;
  assign cause_overrate_o = overrate_q;

  assign exhausted_event_o = exhausted_d;
  assign fault_event_o = watchdog_d | tamper_d | fatal_d | overrate_d;

  assign count_snap_o = count_snap_q;
  assign acc_snap_o = acc_snap_q;

`ifdef FORMAL
  // Properties proven by hdl/formal/heg_meter.ys (k-induction, yosys SAT).
  reg f_past_valid = 1'b0;
  reg f_live_q = 1'b0;
  reg [WIDE_W-1:0] f_total_q;
  reg [WIDE_W-1:0] f_limit_q;
  reg [HEAD_W-1:0] f_head_q;
  reg              f_enable_q;
  reg              f_acc_at_limit_q;
  reg              f_policy_still_q;
  reg [WIDE_W-1:0] f_acc_q;
  reg              f_fatal_q;
  reg              f_watchdog_q;
  reg              f_tamper_q;
  reg              f_overrate_q;
  // The metered total after the last edge: the accumulator and the registered stage.
  wire [WIDE_W-1:0] f_total = acc_d;
  // The declared headroom and the limit held still since the last edge.
  wire f_policy_still = (limit_i == f_limit_q) && (charge_max_i == f_head_q);
  always @(posedge clk_i) begin
    f_past_valid <= 1'b1;
    f_live_q <= rst_ni;
    f_total_q <= f_total;
    f_limit_q <= limit_i;
    f_head_q <= charge_max_i;
    f_enable_q <= accel_enable_o;
    f_acc_at_limit_q <= (acc_q >= limit_i);
    f_policy_still_q <= f_policy_still;
    f_acc_q <= acc_q;
    f_fatal_q <= fatal_q;
    f_watchdog_q <= watchdog_q;
    f_tamper_q <= tamper_q;
    f_overrate_q <= overrate_q;
  end
  wire f_checked = f_past_valid & f_live_q & rst_ni;
  // The accelerator is gated by accel_enable_o: it issues ops only while it is high.
  always @* begin
    if (!accel_enable_o) assume (op_valid_i == {LANES{1'b0}});
  end
  always @* begin
    if (f_checked) begin
      // No overshoot: with CHARGE_MAX declared, the metered total never passes a limit it
      // was within, unless this cycle's charge broke the declaration (overrate latches).
      // (Limit and CHARGE_MAX unchanged at this edge and at the one that opened the gate.)
      if (f_policy_still && f_policy_still_q && charge_declared && f_total_q <= f_limit_q &&
          !overrate_d) begin
        assert (f_total <= limit_i);
      end
      // Lemma for the induction: an open gate has room for one more declared cycle.
      if (accel_enable_o && charge_declared && f_policy_still && !overrate_d) begin
        assert ({2'b00, f_total} + head_one <= {2'b00, limit_i});
      end
      // The gate is never open after an edge that saw the accumulator at the allowance.
      if (f_acc_at_limit_q) assert (!accel_enable_o);
      // The accumulator never decreases.
      assert (acc_q >= f_acc_q);
      // Latched causes stay latched until reset.
      if (f_fatal_q) assert (fatal_q);
      if (f_watchdog_q) assert (watchdog_q);
      if (f_tamper_q) assert (tamper_q);
      if (f_overrate_q) assert (overrate_q);
    end
    // Open means: open code, no registered cause.
    if (accel_enable_o) begin
      assert (gate_q == GATE_OPEN && !exhausted_q && !fatal_q && !watchdog_q && !tamper_q &&
              !overrate_q);
    end
  end
`endif

endmodule

`resetall
