// openheg metering and enforcement block: AXI4-Lite register interface around
// heg_meter_core.
//
// Every address and reset value comes from the generated heg_meter_regs.vh
// (source: hdl/rdl/heg_meter.rdl).
//
// Bus behaviour (channel timing: heg_axil_slave.v):
//   - Mapped (word-aligned, listed) addresses answer OKAY, anything else SLVERR
//     (reads of unmapped addresses return 0, writes are dropped). Writes to
//     read-only registers answer OKAY and change nothing.
//   - WSTRB is honoured on every writable register.
//   - LIMIT_0..2 are staged; a write to LIMIT_3 commits all four words at once.
//     LIMIT reads return the committed limit that the comparator uses.
//   - CTRL.snapshot (write 1) copies every lane counter and the accumulator,
//     including the ops of the cycle of the write, into the *_SNAP registers. The
//     copy completes two edges later; ARREADY stays low until it has.
//   - LOWWATER_0..2 are staged the same way; LOWWATER_3 commits.
//   - CHARGE_MAX_0 is staged; a write to CHARGE_MAX_1 commits both words at once.
//   - CFG_REGWEN is write-zero-to-clear: once 0, writes to WEIGHT_*, CHARGE_MAX_* and
//     THROTTLE are ignored (still OKAY) and counted in ERR_STATUS.locked_writes.
//   - WDOG_CTRL: writing the armed code arms the watchdog; once armed, writes to
//     WDOG_CTRL/WDOG_PERIOD/WDOG_WINDOW are ignored and counted. WDOG_KICK with
//     the magic key and all byte strobes kicks (see heg_wdog.v).
//   - INTR_STATE is RW1C with hardware set winning; INTR_TEST sets; irq_o is
//     OR(INTR_STATE & INTR_ENABLE) from registers.
//
// Enforcement latency and the no-overshoot rule (CHARGE_MAX): see heg_meter_core.v.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_meter #(
  // Number of precision lanes; must equal HEG_LANES from the register map.
  parameter integer LANES = 6,
  // Width of the per-cycle op count of one lane.
  parameter integer COUNT_W = 16
) (
  input  wire                     clk_i,
  input  wire                     rst_ni,

  // AXI4-Lite slave: write address channel.
  input  wire [11:0]              s_axil_awaddr_i,
  input  wire                     s_axil_awvalid_i,
  output wire                     s_axil_awready_o,
  // Write data channel.
  input  wire [31:0]              s_axil_wdata_i,
  input  wire [3:0]               s_axil_wstrb_i,
  input  wire                     s_axil_wvalid_i,
  output wire                     s_axil_wready_o,
  // Write response channel.
  output wire [1:0]               s_axil_bresp_o,
  output wire                     s_axil_bvalid_o,
  input  wire                     s_axil_bready_i,
  // Read address channel.
  input  wire [11:0]              s_axil_araddr_i,
  input  wire                     s_axil_arvalid_i,
  output wire                     s_axil_arready_o,
  // Read data channel.
  output wire [31:0]              s_axil_rdata_o,
  output wire [1:0]               s_axil_rresp_o,
  output wire                     s_axil_rvalid_o,
  input  wire                     s_axil_rready_i,

  // Op events from the accelerator.
  input  wire [LANES-1:0]         op_valid_i,
  input  wire [LANES*COUNT_W-1:0] op_count_i,

  // Tamper input, synchronous to clk_i (synchronise outside if it is not):
  // high in a cycle closes the gate from the edge that samples it, until reset.
  input  wire                     tamper_i,

  // Accelerator enable: high only while the gate is open.
  output wire                     accel_enable_o,

  // Interrupt request to the firmware's CPU (level, active high).
  output wire                     irq_o
);

  `include "heg_meter_regs.vh"

  // Width of counters, accumulator and limit.
  localparam integer WIDE_W = 128;
  // Width of one weight register.
  localparam integer WEIGHT_W = 32;
  // Width of CHARGE_MAX (two words).
  localparam integer HEAD_W = 64;

  // The lane count is part of the register map; refuse to elaborate otherwise.
  generate
    if (LANES != HEG_LANES) begin : gen_lanes_mismatch
      heg_meter_lanes_must_equal_heg_lanes u_error ();
    end
  endgenerate

  // ---------------------------------------------------------------------------
  // Bus: the shared AXI4-Lite front end (heg_axil_slave.v) gives one write strobe and one
  // read strobe. A snapshot completes two edges after its CTRL write; reads wait for it.
  // snap_pending_q: [0] the edge after the write, [1] the edge that copies.
  reg  [1:0]  snap_pending_q;
  wire        reg_we;
  wire [11:0] reg_waddr;
  wire [31:0] reg_wdata;
  wire [3:0]  reg_wstrb;
  wire        reg_re;
  reg  [31:0] reg_rdata;
  wire [11:0] reg_raddr;
  wire [31:0] reg_wmask = {{8{reg_wstrb[3]}}, {8{reg_wstrb[2]}}, {8{reg_wstrb[1]}}, {8{reg_wstrb[0]}}};

  heg_axil_slave #(
    .ADDR_W(12)
  ) u_bus (
    .clk_i(clk_i),
    .rst_ni(rst_ni),
    .s_axil_awaddr_i(s_axil_awaddr_i),
    .s_axil_awvalid_i(s_axil_awvalid_i),
    .s_axil_awready_o(s_axil_awready_o),
    .s_axil_wdata_i(s_axil_wdata_i),
    .s_axil_wstrb_i(s_axil_wstrb_i),
    .s_axil_wvalid_i(s_axil_wvalid_i),
    .s_axil_wready_o(s_axil_wready_o),
    .s_axil_bresp_o(s_axil_bresp_o),
    .s_axil_bvalid_o(s_axil_bvalid_o),
    .s_axil_bready_i(s_axil_bready_i),
    .s_axil_araddr_i(s_axil_araddr_i),
    .s_axil_arvalid_i(s_axil_arvalid_i),
    .s_axil_arready_o(s_axil_arready_o),
    .s_axil_rdata_o(s_axil_rdata_o),
    .s_axil_rresp_o(s_axil_rresp_o),
    .s_axil_rvalid_o(s_axil_rvalid_o),
    .s_axil_rready_i(s_axil_rready_i),
    .reg_we_o(reg_we),
    .reg_waddr_o(reg_waddr),
    .reg_wdata_o(reg_wdata),
    .reg_wstrb_o(reg_wstrb),
    .reg_wok_i(mapped(reg_waddr)),
    .reg_re_o(reg_re),
    .reg_raddr_o(reg_raddr),
    .reg_rdata_i(reg_rdata),
    .reg_rok_i(mapped(reg_raddr)),
    .read_hold_i(|snap_pending_q)
  );

  // ---------------------------------------------------------------------------
  // Registers.
  reg [3:0]               gate_enable_q;
  reg [LANES*WEIGHT_W-1:0] weight_q;
  reg [3*32-1:0]          limit_stage_q;
  reg [WIDE_W-1:0]        limit_q;
  // Complement shadow of limit_q, written with it; the core checks the pair.
  reg [WIDE_W-1:0]        limit_n_q;
  reg [3*32-1:0]          lowwater_stage_q;
  reg [WIDE_W-1:0]        lowwater_q;
  reg [31:0]              charge_max_stage_q;
  reg [HEAD_W-1:0]        charge_max_q;
  reg                     cfg_regwen_q;
  reg [15:0]              locked_writes_q;
  reg [3:0]               pause_q;
  reg [3:0]               wdog_arm_q;
  reg [31:0]              wdog_period_q;
  reg [31:0]              wdog_window_q;
  reg [31:0]              throttle_q;
  reg [2:0]               intr_state_q;
  reg [2:0]               intr_enable_q;

  wire                    accel_enable;
  wire                    saturated;
  wire [LANES:0]          sat;
  wire                    fatal;
  wire                    cause_exhausted;
  wire                    cause_disarmed;
  wire                    cause_fatal;
  wire                    cause_paused;
  wire                    cause_watchdog;
  wire                    cause_tamper;
  wire                    cause_throttled;
  wire                    cause_overrate;
  wire                    low_water;
  wire                    exhausted_event;
  wire                    fault_event;
  wire [LANES*WIDE_W-1:0] count_snap;
  wire [WIDE_W-1:0]       acc_snap;
  wire                    wdog_trip;
  wire [31:0]             wdog_count;
  wire                    throttle_open;

  // Fails towards armed: only the reset (disarmed) code counts as disarmed.
  wire wdog_armed = (wdog_arm_q != HEG_WDOG_CTRL_ARM_DISARMED);

  // Merge a write into an existing register under the byte strobes.
  function [31:0] merge;
    input [31:0] old;
    begin
      merge = (old & ~reg_wmask) | (reg_wdata & reg_wmask);
    end
  endfunction

  // Is addr a register of the map (word aligned and listed)?
  function mapped;
    input [11:0] addr;
    begin
      case (addr)
        HEG_REG_ID, HEG_REG_VERSION, HEG_REG_CTRL, HEG_REG_GATE, HEG_REG_STATUS,
        HEG_REG_GATE_CAUSE, HEG_REG_CFG_REGWEN, HEG_REG_ERR_STATUS, HEG_REG_WEIGHT_NF4,
        HEG_REG_WEIGHT_FP8, HEG_REG_WEIGHT_FP16, HEG_REG_WEIGHT_FP32, HEG_REG_WEIGHT_FP64,
        HEG_REG_WEIGHT_INT8, HEG_REG_PAUSE, HEG_REG_WDOG_CTRL, HEG_REG_LIMIT_0,
        HEG_REG_LIMIT_1, HEG_REG_LIMIT_2, HEG_REG_LIMIT_3, HEG_REG_WDOG_PERIOD,
        HEG_REG_WDOG_WINDOW, HEG_REG_WDOG_KICK, HEG_REG_WDOG_COUNT, HEG_REG_ACC_SNAP_0,
        HEG_REG_ACC_SNAP_1, HEG_REG_ACC_SNAP_2, HEG_REG_ACC_SNAP_3, HEG_REG_THROTTLE,
        HEG_REG_SATURATION, HEG_REG_LOWWATER_0, HEG_REG_LOWWATER_1, HEG_REG_LOWWATER_2,
        HEG_REG_LOWWATER_3, HEG_REG_INTR_STATE, HEG_REG_INTR_ENABLE, HEG_REG_INTR_TEST,
        HEG_REG_CHARGE_MAX_0, HEG_REG_CHARGE_MAX_1,
        HEG_REG_COUNT_SNAP_NF4_0, HEG_REG_COUNT_SNAP_NF4_1, HEG_REG_COUNT_SNAP_NF4_2,
        HEG_REG_COUNT_SNAP_NF4_3, HEG_REG_COUNT_SNAP_FP8_0, HEG_REG_COUNT_SNAP_FP8_1,
        HEG_REG_COUNT_SNAP_FP8_2, HEG_REG_COUNT_SNAP_FP8_3, HEG_REG_COUNT_SNAP_FP16_0,
        HEG_REG_COUNT_SNAP_FP16_1, HEG_REG_COUNT_SNAP_FP16_2, HEG_REG_COUNT_SNAP_FP16_3,
        HEG_REG_COUNT_SNAP_FP32_0, HEG_REG_COUNT_SNAP_FP32_1, HEG_REG_COUNT_SNAP_FP32_2,
        HEG_REG_COUNT_SNAP_FP32_3, HEG_REG_COUNT_SNAP_FP64_0, HEG_REG_COUNT_SNAP_FP64_1,
        HEG_REG_COUNT_SNAP_FP64_2, HEG_REG_COUNT_SNAP_FP64_3, HEG_REG_COUNT_SNAP_INT8_0,
        HEG_REG_COUNT_SNAP_INT8_1, HEG_REG_COUNT_SNAP_INT8_2, HEG_REG_COUNT_SNAP_INT8_3: mapped = 1'b1;
        default: mapped = 1'b0;
      endcase
    end
  endfunction


  wire [3:0] gate_merged = (gate_enable_q & ~reg_wmask[3:0]) | (reg_wdata[3:0] & reg_wmask[3:0]);
  wire [3:0] pause_merged = (pause_q & ~reg_wmask[3:0]) | (reg_wdata[3:0] & reg_wmask[3:0]);
  wire [3:0] wdog_arm_merged = (wdog_arm_q & ~reg_wmask[3:0]) | (reg_wdata[3:0] & reg_wmask[3:0]);

  // Register groups a lock protects.
  wire waddr_cfg = (reg_waddr == HEG_REG_WEIGHT_NF4) | (reg_waddr == HEG_REG_WEIGHT_FP8) |
                   (reg_waddr == HEG_REG_WEIGHT_FP16) | (reg_waddr == HEG_REG_WEIGHT_FP32) |
                   (reg_waddr == HEG_REG_WEIGHT_FP64) | (reg_waddr == HEG_REG_WEIGHT_INT8) |
                   (reg_waddr == HEG_REG_CHARGE_MAX_0) | (reg_waddr == HEG_REG_CHARGE_MAX_1) |
                   (reg_waddr == HEG_REG_THROTTLE);
  wire waddr_wdog_cfg = (reg_waddr == HEG_REG_WDOG_CTRL) | (reg_waddr == HEG_REG_WDOG_PERIOD) |
                        (reg_waddr == HEG_REG_WDOG_WINDOW);
  // A write that a lock turns away (performed as OKAY, changes nothing, counted).
  wire locked_write = reg_we & ((waddr_cfg & ~cfg_regwen_q) | (waddr_wdog_cfg & wdog_armed));

  // Watchdog and throttle strobes of this edge.
  wire wdog_arm = reg_we & (reg_waddr == HEG_REG_WDOG_CTRL) & ~wdog_armed &
                  (wdog_arm_merged == HEG_WDOG_CTRL_ARM_ARMED);
  wire wdog_kick = reg_we & (reg_waddr == HEG_REG_WDOG_KICK) & wdog_armed &
                   (reg_wstrb == 4'hF) & (reg_wdata == HEG_WDOG_KICK_KEY_MAGIC);
  wire throttle_restart = reg_we & (reg_waddr == HEG_REG_THROTTLE) & cfg_regwen_q;

  // Interrupts: hardware set events win over the RW1C clear of the same edge.
  wire [2:0] intr_field_mask = {reg_wstrb[0], reg_wstrb[0], reg_wstrb[0]} & reg_wdata[2:0];
  wire [2:0] intr_clear = (reg_we & (reg_waddr == HEG_REG_INTR_STATE)) ? intr_field_mask : 3'b000;
  wire [2:0] intr_test = (reg_we & (reg_waddr == HEG_REG_INTR_TEST)) ? intr_field_mask : 3'b000;
  reg  [2:0] intr_set;
  always @* begin
    intr_set = 3'b000;
    intr_set[HEG_INTR_STATE_LOW_WATER_LSB] = low_water;
    intr_set[HEG_INTR_STATE_EXHAUSTED_LSB] = exhausted_event;
    intr_set[HEG_INTR_STATE_FAULT_LSB] = fault_event;
  end
  wire [2:0] intr_state_d = (intr_state_q & ~intr_clear) | intr_set | intr_test;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      gate_enable_q <= HEG_GATE_ENABLE_RESET;
      weight_q <= {HEG_WEIGHT_INT8_MILLI_RESET, HEG_WEIGHT_FP64_MILLI_RESET,
                   HEG_WEIGHT_FP32_MILLI_RESET, HEG_WEIGHT_FP16_MILLI_RESET,
                   HEG_WEIGHT_FP8_MILLI_RESET, HEG_WEIGHT_NF4_MILLI_RESET};
      limit_stage_q <= {(3*32){1'b0}};
      limit_q <= {WIDE_W{1'b0}};
      limit_n_q <= {WIDE_W{1'b1}};
      lowwater_stage_q <= {(3*32){1'b0}};
      lowwater_q <= {WIDE_W{1'b0}};
      charge_max_stage_q <= HEG_CHARGE_MAX_0_VALUE_RESET;
      charge_max_q <= {HEG_CHARGE_MAX_1_VALUE_RESET, HEG_CHARGE_MAX_0_VALUE_RESET};
      cfg_regwen_q <= HEG_CFG_REGWEN_EN_RESET;
      locked_writes_q <= HEG_ERR_STATUS_LOCKED_WRITES_RESET;
      pause_q <= HEG_PAUSE_REQUEST_RESET;
      wdog_arm_q <= HEG_WDOG_CTRL_ARM_RESET;
      wdog_period_q <= HEG_WDOG_PERIOD_CYCLES_RESET;
      wdog_window_q <= HEG_WDOG_WINDOW_CYCLES_RESET;
      throttle_q <= {HEG_THROTTLE_DEN_RESET, HEG_THROTTLE_NUM_RESET};
      intr_state_q <= {HEG_INTR_STATE_FAULT_RESET, HEG_INTR_STATE_EXHAUSTED_RESET,
                       HEG_INTR_STATE_LOW_WATER_RESET};
      intr_enable_q <= 3'b000;
    end else begin
      intr_state_q <= intr_state_d;
      if (locked_write && locked_writes_q != 16'hFFFF) begin
        locked_writes_q <= locked_writes_q + 16'd1;
      end
      if (reg_we) begin
        case (reg_waddr)
          HEG_REG_GATE: gate_enable_q <= gate_merged;
          HEG_REG_CFG_REGWEN: if (reg_wstrb[0] & ~reg_wdata[HEG_CFG_REGWEN_EN_LSB]) begin
            cfg_regwen_q <= 1'b0;
          end
          HEG_REG_WEIGHT_NF4: if (cfg_regwen_q) begin
            weight_q[HEG_LANE_NF4*WEIGHT_W +: WEIGHT_W] <= merge(weight_q[HEG_LANE_NF4*WEIGHT_W +: WEIGHT_W]);
          end
          HEG_REG_WEIGHT_FP8: if (cfg_regwen_q) begin
            weight_q[HEG_LANE_FP8*WEIGHT_W +: WEIGHT_W] <= merge(weight_q[HEG_LANE_FP8*WEIGHT_W +: WEIGHT_W]);
          end
          HEG_REG_WEIGHT_FP16: if (cfg_regwen_q) begin
            weight_q[HEG_LANE_FP16*WEIGHT_W +: WEIGHT_W] <= merge(weight_q[HEG_LANE_FP16*WEIGHT_W +: WEIGHT_W]);
          end
          HEG_REG_WEIGHT_FP32: if (cfg_regwen_q) begin
            weight_q[HEG_LANE_FP32*WEIGHT_W +: WEIGHT_W] <= merge(weight_q[HEG_LANE_FP32*WEIGHT_W +: WEIGHT_W]);
          end
          HEG_REG_WEIGHT_FP64: if (cfg_regwen_q) begin
            weight_q[HEG_LANE_FP64*WEIGHT_W +: WEIGHT_W] <= merge(weight_q[HEG_LANE_FP64*WEIGHT_W +: WEIGHT_W]);
          end
          HEG_REG_WEIGHT_INT8: if (cfg_regwen_q) begin
            weight_q[HEG_LANE_INT8*WEIGHT_W +: WEIGHT_W] <= merge(weight_q[HEG_LANE_INT8*WEIGHT_W +: WEIGHT_W]);
          end
          HEG_REG_THROTTLE: if (cfg_regwen_q) throttle_q <= merge(throttle_q);
          HEG_REG_CHARGE_MAX_0: if (cfg_regwen_q) charge_max_stage_q <= merge(charge_max_stage_q);
          HEG_REG_CHARGE_MAX_1: if (cfg_regwen_q) begin
            charge_max_q <= {merge(charge_max_q[32 +: 32]), charge_max_stage_q};
          end
          HEG_REG_PAUSE: pause_q <= pause_merged;
          HEG_REG_WDOG_CTRL: if (wdog_arm) wdog_arm_q <= HEG_WDOG_CTRL_ARM_ARMED;
          HEG_REG_WDOG_PERIOD: if (!wdog_armed) wdog_period_q <= merge(wdog_period_q);
          HEG_REG_WDOG_WINDOW: if (!wdog_armed) wdog_window_q <= merge(wdog_window_q);
          HEG_REG_LIMIT_0: limit_stage_q[0 +: 32] <= merge(limit_stage_q[0 +: 32]);
          HEG_REG_LIMIT_1: limit_stage_q[32 +: 32] <= merge(limit_stage_q[32 +: 32]);
          HEG_REG_LIMIT_2: limit_stage_q[64 +: 32] <= merge(limit_stage_q[64 +: 32]);
          HEG_REG_LIMIT_3: begin
            limit_q <= {merge(limit_q[96 +: 32]), limit_stage_q};
            limit_n_q <= ~{merge(limit_q[96 +: 32]), limit_stage_q};
          end
          HEG_REG_LOWWATER_0: lowwater_stage_q[0 +: 32] <= merge(lowwater_stage_q[0 +: 32]);
          HEG_REG_LOWWATER_1: lowwater_stage_q[32 +: 32] <= merge(lowwater_stage_q[32 +: 32]);
          HEG_REG_LOWWATER_2: lowwater_stage_q[64 +: 32] <= merge(lowwater_stage_q[64 +: 32]);
          HEG_REG_LOWWATER_3: lowwater_q <= {merge(lowwater_q[96 +: 32]), lowwater_stage_q};
          HEG_REG_INTR_ENABLE: if (reg_wstrb[0]) intr_enable_q <= reg_wdata[2:0];
          default: ;
        endcase
      end
    end
  end

  // A snapshot requested at the edge of the CTRL write is copied two edges later, when
  // the core's counters and accumulator hold the write cycle's ops (metering latency).
  wire snapshot = reg_we & (reg_waddr == HEG_REG_CTRL) & reg_wstrb[0] &
                  reg_wdata[HEG_CTRL_SNAPSHOT_LSB];
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      snap_pending_q <= 2'b00;
    end else begin
      snap_pending_q <= {snap_pending_q[0], snapshot};
    end
  end

  // VERSION: major from the map, minor 0 (the map gives it no reset constant).
  wire [31:0] version_word = {{(32-HEG_VERSION_MAJOR_WIDTH){1'b0}}, HEG_VERSION_MAJOR_RESET}
                             << HEG_VERSION_MAJOR_LSB;

  // STATUS, GATE_CAUSE and SATURATION words, placed by the generated field positions.
  reg [31:0] status_word;
  reg [31:0] gate_cause_word;
  reg [31:0] saturation_word;
  always @* begin
    status_word = 32'h0;
    status_word[HEG_STATUS_GATE_OPEN_LSB] = accel_enable;
    status_word[HEG_STATUS_SATURATED_LSB] = saturated;
    status_word[HEG_STATUS_FATAL_LSB] = fatal;
    status_word[HEG_STATUS_WDOG_ARMED_LSB] = wdog_armed;
    status_word[HEG_STATUS_CFG_LOCKED_LSB] = ~cfg_regwen_q;
    gate_cause_word = 32'h0;
    gate_cause_word[HEG_GATE_CAUSE_EXHAUSTED_LSB] = cause_exhausted;
    gate_cause_word[HEG_GATE_CAUSE_DISARMED_LSB] = cause_disarmed;
    gate_cause_word[HEG_GATE_CAUSE_FATAL_LSB] = cause_fatal;
    gate_cause_word[HEG_GATE_CAUSE_PAUSED_LSB] = cause_paused;
    gate_cause_word[HEG_GATE_CAUSE_WATCHDOG_LSB] = cause_watchdog;
    gate_cause_word[HEG_GATE_CAUSE_TAMPER_LSB] = cause_tamper;
    gate_cause_word[HEG_GATE_CAUSE_THROTTLED_LSB] = cause_throttled;
    gate_cause_word[HEG_GATE_CAUSE_OVERRATE_LSB] = cause_overrate;
    saturation_word = 32'h0;
    saturation_word[HEG_SATURATION_NF4_LSB] = sat[HEG_LANE_NF4];
    saturation_word[HEG_SATURATION_FP8_LSB] = sat[HEG_LANE_FP8];
    saturation_word[HEG_SATURATION_FP16_LSB] = sat[HEG_LANE_FP16];
    saturation_word[HEG_SATURATION_FP32_LSB] = sat[HEG_LANE_FP32];
    saturation_word[HEG_SATURATION_FP64_LSB] = sat[HEG_LANE_FP64];
    saturation_word[HEG_SATURATION_INT8_LSB] = sat[HEG_LANE_INT8];
    saturation_word[HEG_SATURATION_ACC_LSB] = sat[LANES];
  end

  // Read data for addr from the registers as they stand before this edge.
  // Read data as an always @* block, not a function called in the port list: a
  // function call there is re-evaluated only when its argument changes (Icarus
  // follows IEEE 1364), not when the registers it reads do, so a read of an
  // unchanged address returned the value from before the last write.
  // Read data: every mapped word sits in a table indexed by the word address, so the
  // read is one balanced multiplexer over address bits [8:2] (a case over 12-bit
  // compares decodes each address on its own and ORs the hits, a deeper tree). Words
  // no register occupies, and addresses outside the table, read 0.
  localparam integer READ_WORDS = 128;
  reg [31:0] read_word [0:READ_WORDS-1];
  integer rw;
  integer rl;
  always @* begin
    for (rw = 0; rw < READ_WORDS; rw = rw + 1) begin
      read_word[rw] = 32'h0;
    end
    read_word[HEG_REG_ID / 4] = HEG_ID_MAGIC_RESET;
    read_word[HEG_REG_VERSION / 4] = version_word;
    read_word[HEG_REG_GATE / 4] = {28'h0, gate_enable_q};
    read_word[HEG_REG_STATUS / 4] = status_word;
    read_word[HEG_REG_GATE_CAUSE / 4] = gate_cause_word;
    read_word[HEG_REG_CFG_REGWEN / 4] = {31'h0, cfg_regwen_q};
    read_word[HEG_REG_ERR_STATUS / 4] = {16'h0, locked_writes_q};
    read_word[HEG_REG_WEIGHT_NF4 / 4] = weight_q[HEG_LANE_NF4*WEIGHT_W +: WEIGHT_W];
    read_word[HEG_REG_WEIGHT_FP8 / 4] = weight_q[HEG_LANE_FP8*WEIGHT_W +: WEIGHT_W];
    read_word[HEG_REG_WEIGHT_FP16 / 4] = weight_q[HEG_LANE_FP16*WEIGHT_W +: WEIGHT_W];
    read_word[HEG_REG_WEIGHT_FP32 / 4] = weight_q[HEG_LANE_FP32*WEIGHT_W +: WEIGHT_W];
    read_word[HEG_REG_WEIGHT_FP64 / 4] = weight_q[HEG_LANE_FP64*WEIGHT_W +: WEIGHT_W];
    read_word[HEG_REG_WEIGHT_INT8 / 4] = weight_q[HEG_LANE_INT8*WEIGHT_W +: WEIGHT_W];
    read_word[HEG_REG_PAUSE / 4] = {28'h0, pause_q};
    read_word[HEG_REG_WDOG_CTRL / 4] = {28'h0, wdog_arm_q};
    // The wide registers: four little-endian words each, the lane snapshots lane after lane.
    for (rw = 0; rw < 4; rw = rw + 1) begin
      read_word[{22'd0, HEG_REG_LIMIT_0[11:2]} + rw] = limit_q[32*rw +: 32];
      read_word[{22'd0, HEG_REG_ACC_SNAP_0[11:2]} + rw] = acc_snap[32*rw +: 32];
      read_word[{22'd0, HEG_REG_LOWWATER_0[11:2]} + rw] = lowwater_q[32*rw +: 32];
      for (rl = 0; rl < LANES; rl = rl + 1) begin
        read_word[{22'd0, HEG_REG_COUNT_SNAP_NF4_0[11:2]} + 4*rl + rw] =
            count_snap[rl*WIDE_W + 32*rw +: 32];
      end
    end
    read_word[HEG_REG_WDOG_PERIOD / 4] = wdog_period_q;
    read_word[HEG_REG_WDOG_WINDOW / 4] = wdog_window_q;
    read_word[HEG_REG_WDOG_COUNT / 4] = wdog_count;
    read_word[HEG_REG_THROTTLE / 4] = throttle_q;
    read_word[HEG_REG_SATURATION / 4] = saturation_word;
    read_word[HEG_REG_INTR_STATE / 4] = {29'h0, intr_state_q};
    read_word[HEG_REG_INTR_ENABLE / 4] = {29'h0, intr_enable_q};
    read_word[HEG_REG_CHARGE_MAX_0 / 4] = charge_max_q[0 +: 32];
    read_word[HEG_REG_CHARGE_MAX_1 / 4] = charge_max_q[32 +: 32];
    reg_rdata = (reg_raddr[11:9] == 3'b000 && reg_raddr[1:0] == 2'b00)
                ? read_word[reg_raddr[8:2]] : 32'h0;
  end

  heg_wdog #(
    .CNT_W(32)
  ) u_wdog (
    .clk_i(clk_i),
    .rst_ni(rst_ni),
    .armed_i(wdog_armed),
    .arm_i(wdog_arm),
    .kick_i(wdog_kick),
    .period_i(wdog_period_q),
    .window_i(wdog_window_q),
    .trip_o(wdog_trip),
    .count_o(wdog_count)
  );

  heg_throttle #(
    .W(16)
  ) u_throttle (
    .clk_i(clk_i),
    .rst_ni(rst_ni),
    .num_i(throttle_q[HEG_THROTTLE_NUM_LSB +: HEG_THROTTLE_NUM_WIDTH]),
    .den_i(throttle_q[HEG_THROTTLE_DEN_LSB +: HEG_THROTTLE_DEN_WIDTH]),
    .restart_i(throttle_restart),
    .open_o(throttle_open)
  );

  heg_meter_core #(
    .LANES(LANES),
    .COUNT_W(COUNT_W),
    .WIDE_W(WIDE_W),
    .WEIGHT_W(WEIGHT_W),
    .HEAD_W(HEAD_W),
    .GATE_OPEN(HEG_GATE_ENABLE_OPEN),
    .GATE_CLOSED(HEG_GATE_ENABLE_CLOSED),
    .PAUSE_RUN(HEG_PAUSE_REQUEST_RUN)
  ) u_core (
    .clk_i(clk_i),
    .rst_ni(rst_ni),
    .op_valid_i(op_valid_i),
    .op_count_i(op_count_i),
    .weight_i(weight_q),
    .limit_i(limit_q),
    .limit_n_i(limit_n_q),
    .lowwater_i(lowwater_q),
    .charge_max_i(charge_max_q),
    .gate_enable_i(gate_enable_q),
    .pause_i(pause_q),
    .snapshot_i(snap_pending_q[1]),
    .wdog_trip_i(wdog_trip),
    .tamper_i(tamper_i),
    .throttle_open_i(throttle_open),
    .accel_enable_o(accel_enable),
    .saturated_o(saturated),
    .sat_o(sat),
    .fatal_o(fatal),
    .cause_exhausted_o(cause_exhausted),
    .cause_disarmed_o(cause_disarmed),
    .cause_fatal_o(cause_fatal),
    .cause_paused_o(cause_paused),
    .cause_watchdog_o(cause_watchdog),
    .cause_tamper_o(cause_tamper),
    .cause_throttled_o(cause_throttled),
    .cause_overrate_o(cause_overrate),
    .low_water_o(low_water),
    .exhausted_event_o(exhausted_event),
    .fault_event_o(fault_event),
    .count_snap_o(count_snap),
    .acc_snap_o(acc_snap)
  );

  assign accel_enable_o = accel_enable;
  assign irq_o = |(intr_state_q & intr_enable_q);

`ifdef FORMAL
  // Properties proven by hdl/formal/heg_meter.sby (k-induction, yosys + SMT solver).
  reg f_past_valid = 1'b0;
  always @(posedge clk_i) begin
    f_past_valid <= 1'b1;
  end
  always @(posedge clk_i) begin
    if (f_past_valid && rst_ni && $past(rst_ni)) begin
      // Locked registers never change: the lock itself, the weights and the throttle.
      if (!$past(cfg_regwen_q)) begin
        assert (!cfg_regwen_q);
        assert (weight_q == $past(weight_q));
        assert (throttle_q == $past(throttle_q));
        assert (charge_max_q == $past(charge_max_q));
      end
      // An armed watchdog stays armed and its configuration is frozen.
      if ($past(wdog_armed)) begin
        assert (wdog_armed);
        assert (wdog_period_q == $past(wdog_period_q));
        assert (wdog_window_q == $past(wdog_window_q));
      end
      // The committed limit and its shadow move together.
      assert (limit_n_q == ~limit_q);
    end
  end
`endif

endmodule

`resetall
