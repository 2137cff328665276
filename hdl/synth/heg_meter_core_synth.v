// Synthesis-only timing harness for heg_meter_core (NOT product RTL), used for the
// REDUCED FPGA configuration (fewer lanes / narrower counters through the core's own
// LANES and WIDE_W parameters): all inputs come from a serial shift chain (pin si_i),
// all outputs are captured in flops and XOR-folded to pin so_o (4 pins in all).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_meter_core_synth #(
  parameter integer LANES = 6,
  parameter integer COUNT_W = 16,
  parameter integer WIDE_W = 128,
  parameter integer WEIGHT_W = 32,
  parameter integer HEAD_W = 64
) (
  input  wire clk_i,
  input  wire rst_ni,
  input  wire si_i,
  output wire so_o
);
  localparam integer IN_W = LANES + LANES * COUNT_W + LANES * WEIGHT_W + 3 * WIDE_W + HEAD_W + 4 + 4
                            + 1 + 3;
  localparam integer OUT_W = 1 + 1 + (LANES + 1) + 1 + 8 + 3 + LANES * WIDE_W + WIDE_W;

  reg rst_q;
  always @(posedge clk_i) begin
    rst_q <= rst_ni;
  end

  wire [IN_W-1:0] stim;
  heg_synth_shift_in #(.W(IN_W)) u_in (.clk_i(clk_i), .si_i(si_i), .q_o(stim));

  wire [LANES-1:0]          op_valid;
  wire [LANES*COUNT_W-1:0]  op_count;
  wire [LANES*WEIGHT_W-1:0] weight;
  wire [WIDE_W-1:0]         limit;
  wire [WIDE_W-1:0]         limit_n;
  wire [WIDE_W-1:0]         lowwater;
  wire [HEAD_W-1:0]         charge_max;
  wire [3:0]                gate_enable;
  wire [3:0]                pause;
  wire                      snapshot;
  wire                      wdog_trip;
  wire                      tamper;
  wire                      throttle_open;
  assign {op_valid, op_count, weight, limit, limit_n, lowwater, charge_max, gate_enable, pause, snapshot,
          wdog_trip, tamper, throttle_open} = stim;

  wire                      accel_enable;
  wire                      saturated;
  wire [LANES:0]            sat;
  wire                      fatal;
  wire [7:0]                cause;
  wire                      low_water;
  wire                      exhausted_event;
  wire                      fault_event;
  wire [LANES*WIDE_W-1:0]   count_snap;
  wire [WIDE_W-1:0]         acc_snap;

  heg_meter_core #(
    .LANES(LANES), .COUNT_W(COUNT_W), .WIDE_W(WIDE_W), .WEIGHT_W(WEIGHT_W), .HEAD_W(HEAD_W)
  ) u_dut (
    .clk_i(clk_i),
    .rst_ni(rst_q),
    .op_valid_i(op_valid),
    .op_count_i(op_count),
    .weight_i(weight),
    .limit_i(limit),
    .limit_n_i(limit_n),
    .lowwater_i(lowwater),
    .charge_max_i(charge_max),
    .gate_enable_i(gate_enable),
    .pause_i(pause),
    .snapshot_i(snapshot),
    .wdog_trip_i(wdog_trip),
    .tamper_i(tamper),
    .throttle_open_i(throttle_open),
    .accel_enable_o(accel_enable),
    .saturated_o(saturated),
    .sat_o(sat),
    .fatal_o(fatal),
    .cause_exhausted_o(cause[0]),
    .cause_disarmed_o(cause[1]),
    .cause_fatal_o(cause[2]),
    .cause_paused_o(cause[3]),
    .cause_watchdog_o(cause[4]),
    .cause_tamper_o(cause[5]),
    .cause_throttled_o(cause[6]),
    .cause_overrate_o(cause[7]),
    .low_water_o(low_water),
    .exhausted_event_o(exhausted_event),
    .fault_event_o(fault_event),
    .count_snap_o(count_snap),
    .acc_snap_o(acc_snap)
  );

  heg_synth_xor_out #(.W(OUT_W)) u_out (
    .clk_i(clk_i),
    .d_i({accel_enable, saturated, sat, fatal, cause, low_water, exhausted_event, fault_event,
          count_snap, acc_snap}),
    .q_o(so_o)
  );
endmodule

`resetall
