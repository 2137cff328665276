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
//   - three pipeline stages, so that no cycle holds more than one wide carry chain:
//     edge N registers cycle N's ops and their products (ops x weight) per lane; edge
//     N+1 sums the lane products into the cycle's charge; edge N+2 adds the ops into the
//     counters and the charge into the accumulator. METERING LATENCY = 2 EDGES: after
//     edge N the accumulator holds every op through cycle N-2, and the METERED TOTAL
//     (accumulator + the registered charge + the registered products) every op up to
//     cycle N.
//   - the gate decision at edge N uses the registered state (the accumulator after this
//     edge, i.e. every op through cycle N-2, the limit, the CHARGE_MAX headroom, the
//     GATE/PAUSE codes, the latches, whether the gate was open in cycles N-1 and N) plus
//     the inputs sampled at edge N (tamper_i, the watchdog trip, the throttle slot). It
//     does not look at the ops of cycles N-1 and N: they are still in the pipeline.
//   - NO OVERSHOOT (CHARGE_MAX = H > 0 declared): the gate opens for cycle N+1 only if
//     total_through_N-2 + H*(open in N-1) + H*(open in N) + H <= limit, so whatever the
//     lanes do (each cycle adds at most H, ops only while accel_enable_o is high) the
//     metered total never passes the limit. A cycle whose charge exceeds H breaks the
//     declaration and latches the overrate cause at the edge that sums it (the excess is
//     metered, never hidden). Near the limit the gate opens every third cycle, and the
//     last < 3H of an allowance may stay unused: the price of never overshooting.
//   - H = 0 (not declared, reset): the gate closes at edge N+2 once the metered total
//     through cycle N reaches the limit; the ops of cycles N+1 and N+2 (at most two
//     cycles) still pass.
//   - ENFORCEMENT LATENCY = 1 CYCLE: a decision at edge N governs accel_enable_o from
//     edge N (the cycle N+1); tamper_i high in cycle N closes the gate from edge N.
//   - a snapshot request (snapshot_i) at edge N copies the counters and the accumulator
//     as they stand after edge N: every op through cycle N-2, counters and accumulator
//     together. heg_meter raises it two edges after the CTRL write, so the snapshot holds
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
  // Split point of the half-width carry chains (carry-select adders and comparators).
  localparam integer HALF_W = WIDE_W / 2;

  localparam [WIDE_W-1:0] WIDE_MAX = {WIDE_W{1'b1}};

  generate
    if (LANES < 1 || LANES > 8 || COUNT_W < 1 || HEAD_W < SUM_W || HEAD_W + 2 > WIDE_W ||
        SUM_W > HALF_W) begin : gen_bad_params
      heg_meter_core_bad_parameters u_error ();
    end
  endgenerate

  // ---------------------------------------------------------------------------
  // Registers.
  reg [LANES*COUNT_W-1:0] ops_q;
  reg [LANES*PROD_W-1:0]  prod_q;
  // Stage 2: the ops per lane whose charge charge_q holds (the counters add them next).
  reg [LANES*COUNT_W-1:0] ops_sum_q;
  reg [SUM_W-1:0]        charge_q;
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
  // The in-flight allowance for the next decision, if the gate is shut or open in the
  // cycle after this edge, and the CHARGE_MAX it was registered from.
  reg [WIDE_W+1:0]       in_flight_shut_q;
  reg [WIDE_W+1:0]       in_flight_open_q;
  reg [HEAD_W-1:0]       head_seen_q;
  reg                    exhausted_q;
  reg                    disarmed_q;
  reg                    paused_q;
  reg                    watchdog_q;
  reg                    tamper_q;
  reg                    throttled_q;
  reg                    fatal_q;
  reg                    overrate_q;

  // ---------------------------------------------------------------------------
  // Stage 1: this edge's ops and their charge per lane.
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
  // Stage 2: the lane products of the previous edge summed into one charge. The lanes
  // are reduced carry-save (3:2 compressors, no carry chain) to two words, and one adder
  // resolves them, so the stage holds a single carry chain however many lanes there are.
  // The two words left after the last 3:2 pass.
  localparam integer CSA_LAST = (LANES > 1) ? 3 * LANES - 6 : 0;
  reg [SUM_W-1:0] csa_word [0:3*LANES];
  reg [SUM_W-1:0] csa_a;
  reg [SUM_W-1:0] csa_b;
  reg [SUM_W-1:0] csa_c;
  reg [SUM_W-1:0] charge_d;
  integer w;
  always @* begin
    for (w = 0; w < 3 * LANES + 1; w = w + 1) begin
      csa_word[w] = {SUM_W{1'b0}};
    end
    for (w = 0; w < LANES; w = w + 1) begin
      csa_word[w] = {{(SUM_W-PROD_W){1'b0}}, prod_q[w*PROD_W +: PROD_W]};
    end
    // Pass k turns words 3k..3k+2 into two (sum, carry<<1) appended at LANES+2k; after
    // LANES-2 passes the last two words hold the charge. The guard bits of SUM_W hold
    // every carry, and the queue order makes a balanced tree (3 levels for 6 lanes).
    for (w = 0; w < LANES - 2; w = w + 1) begin
      csa_a = csa_word[3*w];
      csa_b = csa_word[3*w+1];
      csa_c = csa_word[3*w+2];
      csa_word[LANES+2*w] = csa_a ^ csa_b ^ csa_c;
      csa_word[LANES+2*w+1] = {(csa_a[SUM_W-2:0] & csa_b[SUM_W-2:0]) |
                               (csa_a[SUM_W-2:0] & csa_c[SUM_W-2:0]) |
                               (csa_b[SUM_W-2:0] & csa_c[SUM_W-2:0]), 1'b0};
    end
    charge_d = (LANES == 1) ? csa_word[0] : csa_word[CSA_LAST] + csa_word[CSA_LAST+1];
  end

  // ---------------------------------------------------------------------------
  // Stage 3: counters and accumulator, from the registered stage-2 ops and charge. Each
  // counter saturates; "reached all ones" is decided beside the adder, not after it:
  // x + y == 2^W - 1 without a carry out exactly when y == ~x.
  reg [WIDE_W:0] lane_sum;
  reg [WIDE_W:0] acc_sum;

  // x + y for a y narrower than half the width, as a carry-select adder: the low half's
  // carry picks the high half or the high half + 1 (computed beside it), so the carry
  // chain is half as long. Returns {carry out, sum}.
  function [WIDE_W:0] wide_sum;
    input [WIDE_W-1:0] x;
    input [HALF_W-1:0] y;
    reg   [HALF_W:0]   low;
    begin
      low = {1'b0, x[HALF_W-1:0]} + {1'b0, y};
      if (low[HALF_W]) begin
        wide_sum = {{1'b0, x[WIDE_W-1:HALF_W]} + {{(WIDE_W-HALF_W){1'b0}}, 1'b1},
                    low[HALF_W-1:0]};
      end else begin
        wide_sum = {1'b0, x[WIDE_W-1:HALF_W], low[HALF_W-1:0]};
      end
    end
  endfunction

  always @* begin
    sat_d = sat_q;
    count_d = count_q;
    for (l = 0; l < LANES; l = l + 1) begin
      lane_sum = wide_sum(count_q[l*WIDE_W +: WIDE_W],
                          {{(HALF_W-COUNT_W){1'b0}}, ops_sum_q[l*COUNT_W +: COUNT_W]});
      count_d[l*WIDE_W +: WIDE_W] = lane_sum[WIDE_W-1:0] | {WIDE_W{lane_sum[WIDE_W]}};
      if (lane_sum[WIDE_W] || ({{(WIDE_W-COUNT_W){1'b0}}, ops_sum_q[l*COUNT_W +: COUNT_W]} ==
                               ~count_q[l*WIDE_W +: WIDE_W])) begin
        sat_d[l] = 1'b1;
      end
    end
    acc_sum = wide_sum(acc_q, {{(HALF_W-SUM_W){1'b0}}, charge_q});
    acc_d = acc_sum[WIDE_W-1:0] | {WIDE_W{acc_sum[WIDE_W]}};
    if (acc_sum[WIDE_W] || ({{(WIDE_W-SUM_W){1'b0}}, charge_q} == ~acc_q)) begin
      sat_d[LANES] = 1'b1;
    end
  end

  // ---------------------------------------------------------------------------
  // Allowance comparators on the registered accumulator: two structurally different
  // decisions of one fact (the countermeasure pair).
  // Each compares its halves side by side (a half-width chain, the high halves' equality
  // beside it) rather than along one 128-bit chain.
  wire exhausted_a = (acc_q[WIDE_W-1:HALF_W] > limit_i[WIDE_W-1:HALF_W]) |
                     ((acc_q[WIDE_W-1:HALF_W] == limit_i[WIDE_W-1:HALF_W]) &
                      (acc_q[HALF_W-1:0] >= limit_i[HALF_W-1:0]));
  wire exhausted_b = (acc_n_q[WIDE_W-1:HALF_W] < limit_n_i[WIDE_W-1:HALF_W]) |
                     ((acc_n_q[WIDE_W-1:HALF_W] == limit_n_i[WIDE_W-1:HALF_W]) &
                      (acc_n_q[HALF_W-1:0] <= limit_n_i[HALF_W-1:0]));
  wire acc_shadow_bad = (acc_n_q != ~acc_q);
  wire limit_shadow_bad = (limit_n_i != ~limit_i);
  wire compare_bad = exhausted_a ^ exhausted_b;

  // x + y + z > limit without a full-width carry chain: two 3:2 compressor levels fold x,
  // y, z and ~limit into two words (x + y + z + ~limit >= 2^W exactly when the sum exceeds
  // limit), then a carry-select adder gives the top bits: the low half's carry picks the
  // high half's sum with or without it, both computed beside it, so the chain is half as
  // long. Operands are WIDE_W+2 bits wide, so nothing wraps.
  function exceeds_limit;
    input [WIDE_W+1:0] x;
    input [WIDE_W+1:0] y;
    input [WIDE_W+1:0] z;
    input [WIDE_W-1:0] limit;
    reg   [WIDE_W+1:0] nl;
    reg   [WIDE_W+1:0] s;
    reg   [WIDE_W+1:0] c;
    reg   [WIDE_W+1:0] t;
    reg   [HALF_W:0]   low;
    reg   [WIDE_W+1-HALF_W:0] high_carry;
    reg   [WIDE_W+1-HALF_W:0] high_plain;
    reg   [WIDE_W+1-HALF_W:0] high;
    begin
      nl = {2'b00, ~limit};
      s = x ^ y ^ nl;
      c = {(x[WIDE_W:0] & y[WIDE_W:0]) | (x[WIDE_W:0] & nl[WIDE_W:0]) |
           (y[WIDE_W:0] & nl[WIDE_W:0]), 1'b0};
      // z joins as the chain's second operand after the first level: (s + c) + z would be
      // two chains, so z is compressed in too.
      t = (s ^ c ^ z);
      c = {(s[WIDE_W:0] & c[WIDE_W:0]) | (s[WIDE_W:0] & z[WIDE_W:0]) |
           (c[WIDE_W:0] & z[WIDE_W:0]), 1'b0};
      low = {1'b0, t[HALF_W-1:0]} + {1'b0, c[HALF_W-1:0]};
      high_plain = t[WIDE_W+1:HALF_W] + c[WIDE_W+1:HALF_W];
      high_carry = t[WIDE_W+1:HALF_W] + c[WIDE_W+1:HALF_W] + {{(WIDE_W+1-HALF_W){1'b0}}, 1'b1};
      high = (low >> HALF_W) != 0 ? high_carry : high_plain;
      exceeds_limit = (high >> (WIDE_W - HALF_W)) != 0;
    end
  endfunction

  // No overshoot: the accumulator after this edge (every op through cycle N-2) plus the
  // most the lanes can add before the next decision: H for each of cycles N-1 and N in
  // which the gate was open, and H for cycle N+1. The in-flight allowance is registered
  // one edge ahead for both outcomes of whether the gate is open in cycle N, so only a
  // select by accel_enable_o follows the comparators. Undeclared (H = 0): close once the
  // accumulator reaches the limit (in flight 1: acc + 1 > limit).
  wire             charge_declared = (charge_max_i != {HEAD_W{1'b0}});
  wire [WIDE_W+1:0] head_one = {{(WIDE_W+2-HEAD_W){1'b0}}, charge_max_i};
  wire [WIDE_W+1:0] head_two = {{(WIDE_W+1-HEAD_W){1'b0}}, charge_max_i, 1'b0};
  wire [WIDE_W+1:0] head_three = head_one + head_two;
  wire [WIDE_W+1:0] acc_ahead = {2'b00, acc_q};
  wire [WIDE_W+1:0] charge_ahead = {{(WIDE_W+2-SUM_W){1'b0}}, charge_q};
  wire exhausted_shut = exceeds_limit(acc_ahead, charge_ahead, in_flight_shut_q, limit_i);
  wire exhausted_open = exceeds_limit(acc_ahead, charge_ahead, in_flight_open_q, limit_i);
  // The in-flight allowance was registered from CHARGE_MAX as it stood at the last edge;
  // at an edge where it has just changed the allowance is stale, so the gate closes.
  wire head_changed = (charge_max_i != head_seen_q);
  wire exhausted_ahead = head_changed | (accel_enable_o ? exhausted_open : exhausted_shut);
  // One cycle's charge above a declared CHARGE_MAX: the declaration is false.
  wire overrate_now = charge_declared & ({{(HEAD_W-SUM_W){1'b0}}, charge_q} > charge_max_i);

  // Low water: remaining allowance (0 once exhausted) <= threshold, decided as
  // acc + threshold >= limit (the same fact without the subtraction's carry chain).
  wire low_reached = exceeds_limit(acc_ahead, {2'b00, lowwater_i},
                                   {{(WIDE_W+1){1'b0}}, 1'b1}, limit_i);
  assign low_water_o = exhausted_a | low_reached;

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

  // In flight at the next edge: H for cycle N (if open now), H for cycle N+1 (if this
  // edge opens it; the select at the next edge), H for cycle N+2.
  wire [WIDE_W+1:0] in_flight_shut_d = ~charge_declared ? {{(WIDE_W+1){1'b0}}, 1'b1}
                                       : (accel_enable_o ? head_two : head_one);
  wire [WIDE_W+1:0] in_flight_open_d = ~charge_declared ? {{(WIDE_W+1){1'b0}}, 1'b1}
                                       : (accel_enable_o ? head_three : head_two);

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      ops_q <= {(LANES*COUNT_W){1'b0}};
      prod_q <= {(LANES*PROD_W){1'b0}};
      ops_sum_q <= {(LANES*COUNT_W){1'b0}};
      charge_q <= {SUM_W{1'b0}};
      count_q <= {(LANES*WIDE_W){1'b0}};
      acc_q <= {WIDE_W{1'b0}};
      acc_n_q <= WIDE_MAX;
      count_snap_q <= {(LANES*WIDE_W){1'b0}};
      acc_snap_q <= {WIDE_W{1'b0}};
      sat_q <= {(LANES+1){1'b0}};
      gate_q <= GATE_CLOSED;
      in_flight_shut_q <= {{(WIDE_W+1){1'b0}}, 1'b1};
      in_flight_open_q <= {{(WIDE_W+1){1'b0}}, 1'b1};
      head_seen_q <= {HEAD_W{1'b0}};
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
      ops_sum_q <= ops_q;
      charge_q <= charge_d;
      count_q <= count_d;
      acc_q <= acc_d;
      acc_n_q <= ~acc_d;
      if (snapshot_i) begin
        count_snap_q <= count_d;
        acc_snap_q <= acc_d;
      end
      sat_q <= sat_d;
      gate_q <= gate_d;
      in_flight_shut_q <= in_flight_shut_d;
      in_flight_open_q <= in_flight_open_d;
      head_seen_q <= charge_max_i;
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
  // Properties proven by hdl/formal/heg_meter_core.ys (k-induction, yosys SAT).
  reg f_past_valid = 1'b0;
  reg f_live_q = 1'b0;
  reg [WIDE_W-1:0] f_total_q;
  reg [WIDE_W-1:0] f_limit_q;
  reg [HEAD_W-1:0] f_head_q;
  reg              f_acc_at_limit_q;
  reg              f_policy_still_q;
  reg              f_policy_still_qq;
  reg [WIDE_W-1:0] f_acc_q;
  reg              f_fatal_q;
  reg              f_watchdog_q;
  reg              f_tamper_q;
  reg              f_overrate_q;
  // Whether the gate was open in the cycle of the ops now in prod_q (f_open_q) and of the
  // charge now in charge_q (f_open_qq).
  reg              f_open_q;
  reg              f_open_qq;
  // The products now in prod_q, summed: the charge the pipeline has not checked yet.
  reg [SUM_W-1:0]  f_prod_sum;
  always @* begin
    f_prod_sum = {SUM_W{1'b0}};
    for (l = 0; l < LANES; l = l + 1) begin
      f_prod_sum = f_prod_sum + {{(SUM_W-PROD_W){1'b0}}, prod_q[l*PROD_W +: PROD_W]};
    end
  end
  // The metered total after the last edge: accumulator, registered charge and products.
  wire [WIDE_W+1:0] f_total_wide = {2'b00, acc_q} + {{(WIDE_W+2-SUM_W){1'b0}}, charge_q} +
                                   {{(WIDE_W+2-SUM_W){1'b0}}, f_prod_sum};
  wire [WIDE_W-1:0] f_total = (f_total_wide > {2'b00, WIDE_MAX}) ? WIDE_MAX
                                                                 : f_total_wide[WIDE_W-1:0];
  // Every charge in the pipeline within the declaration: charge_q is checked by
  // overrate_now at this edge, the products by the next one.
  wire f_charges_ok = !overrate_d && ({{(HEAD_W-SUM_W){1'b0}}, f_prod_sum} <= charge_max_i);
  // The declared headroom and the limit held still since the last edge.
  wire f_policy_still = (limit_i == f_limit_q) && (charge_max_i == f_head_q);
  wire f_policy_held = f_policy_still && f_policy_still_q && f_policy_still_qq;
  always @(posedge clk_i) begin
    f_past_valid <= 1'b1;
    f_live_q <= rst_ni;
    f_total_q <= f_total;
    f_limit_q <= limit_i;
    f_head_q <= charge_max_i;
    f_acc_at_limit_q <= (acc_q >= limit_i);
    f_policy_still_q <= f_policy_still;
    f_policy_still_qq <= f_policy_still_q;
    f_acc_q <= acc_q;
    f_fatal_q <= fatal_q;
    f_watchdog_q <= watchdog_q;
    f_tamper_q <= tamper_q;
    f_overrate_q <= overrate_q;
    f_open_q <= accel_enable_o;
    f_open_qq <= f_open_q;
  end
  wire f_checked = f_past_valid & f_live_q & rst_ni;
  // The accelerator is gated by accel_enable_o: it issues ops only while it is high.
  always @* begin
    if (!accel_enable_o) assume (op_valid_i == {LANES{1'b0}});
  end
  always @* begin
    if (f_checked) begin
      // No overshoot: with CHARGE_MAX declared, the metered total never passes a limit it
      // was within, unless a charge in the pipeline broke the declaration (overrate
      // latches for it at the edge that sums it). (Limit and CHARGE_MAX unchanged at this
      // edge and the two before it: the in-flight allowance is registered one edge ahead.)
      if (f_policy_held && charge_declared && f_total_q <= f_limit_q && f_charges_ok) begin
        assert (f_total <= limit_i);
      end
      // Lemmas for the induction: an open gate has room for one more declared cycle;
      // the pipeline holds no charge of a cycle in which the gate was closed; the
      // in-flight allowance matches the policy and the gate of the cycle before.
      if (accel_enable_o && charge_declared && f_policy_held && f_charges_ok) begin
        assert ({2'b00, f_total} + head_one <= {2'b00, limit_i});
      end
      if (!f_open_q) assert (prod_q == {(LANES*PROD_W){1'b0}});
      if (!f_open_qq) assert (charge_q == {SUM_W{1'b0}});
      if (!head_changed && charge_declared) begin
        assert (in_flight_shut_q == (f_open_q ? head_two : head_one));
        assert (in_flight_open_q == (f_open_q ? head_three : head_two));
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
