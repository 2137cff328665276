// openheg counter-snapshot front end for retrofits (register map hdl/rdl/heg_frontend.rdl).
//
// A retrofit accelerator has no op strobes: it exposes cumulative per-precision op
// counters over a sideband, sampled now and then (sample_valid_i). This block turns the
// samples into lane events for heg_meter (op_valid_o/op_count_o, wired to the meter's
// op_valid_i/op_count_i) and raises tamper_o (wired to the meter's tamper_i) when the
// samples cannot come from the accelerator the policy describes.
//
// Per lane, at an edge where sample_valid_i is high (sample = the lane's counter):
//   - the first sample after reset is the baseline (ops before it are not this meter's);
//   - backwards: sample < previous sample. Latched (STATUS.backwards); the sample becomes
//     the new baseline and nothing is charged for it.
//   - too fast: sample - previous > PEAK * (edges since the previous sample). Latched
//     (STATUS.too_fast); the rise is still charged (every reported op is metered).
//   - otherwise the rise joins the lane's debt.
// Every edge the lane emits min(debt, PEAK) ops (an event only when nonzero), so the
// events never exceed PEAK per cycle and the debt never exceeds PEAK * the longest gap
// between samples; every reported op reaches the meter. tamper_o = backwards | too_fast,
// registered, latched until reset.
// The allowance PEAK * edges is kept as a running sum (no multiplier), saturating.
// Reset: PEAK 0 (any rise is too fast), FE_REGWEN 1; write the peaks from the signed
// policy, then 0 to FE_REGWEN. Bus rules: heg_axil_slave.v (unmapped: SLVERR).
// Enforcement latency for a retrofit is the sampling gap plus the drain: the gate acts
// on reported work, so CNT_W must be wide enough never to wrap (48 bits: years at
// 10^6 ops per cycle per lane at 1 GHz).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_counter_frontend #(
  // Number of precision lanes (the meter's).
  parameter integer LANES = 6,
  // Width of each cumulative counter on the sideband.
  parameter integer CNT_W = 48,
  // Width of a lane event's op count (the meter's COUNT_W, and of PEAK).
  parameter integer COUNT_W = 16
) (
  input  wire                     clk_i,
  input  wire                     rst_ni,

  // AXI4-Lite slave (the firmware's CPU).
  input  wire [7:0]               s_axil_awaddr_i,
  input  wire                     s_axil_awvalid_i,
  output wire                     s_axil_awready_o,
  input  wire [31:0]              s_axil_wdata_i,
  input  wire [3:0]               s_axil_wstrb_i,
  input  wire                     s_axil_wvalid_i,
  output wire                     s_axil_wready_o,
  output wire [1:0]               s_axil_bresp_o,
  output wire                     s_axil_bvalid_o,
  input  wire                     s_axil_bready_i,
  input  wire [7:0]               s_axil_araddr_i,
  input  wire                     s_axil_arvalid_i,
  output wire                     s_axil_arready_o,
  output wire [31:0]              s_axil_rdata_o,
  output wire [1:0]               s_axil_rresp_o,
  output wire                     s_axil_rvalid_o,
  input  wire                     s_axil_rready_i,

  // Sampled cumulative counters (lane l at bits l*CNT_W), valid for one cycle.
  input  wire                     sample_valid_i,
  input  wire [LANES*CNT_W-1:0]   sample_i,

  // Lane events for heg_meter.
  output wire [LANES-1:0]         op_valid_o,
  output wire [LANES*COUNT_W-1:0] op_count_o,
  // Tamper for heg_meter (latched until reset).
  output wire                     tamper_o
);

  `include "heg_frontend_regs.vh"

  localparam [CNT_W-1:0] CNT_MAX = {CNT_W{1'b1}};

  generate
    if (COUNT_W > HEG_FE_PEAK_NF4_OPS_WIDTH || COUNT_W >= CNT_W || LANES > 6) begin : gen_bad_params
      heg_counter_frontend_bad_parameters u_error ();
    end
  endgenerate

  // ---------------------------------------------------------------------------
  // Bus and registers.
  wire        reg_we;
  wire [7:0]  reg_waddr;
  wire [31:0] reg_wdata;
  wire [3:0]  reg_wstrb;
  wire        reg_re;
  reg  [31:0] reg_rdata;
  wire [7:0]  reg_raddr;
  wire [31:0] reg_wmask = {{8{reg_wstrb[3]}}, {8{reg_wstrb[2]}}, {8{reg_wstrb[1]}}, {8{reg_wstrb[0]}}};

  reg                     regwen_q;
  reg [LANES*COUNT_W-1:0] peak_q;
  reg                     backwards_q;
  reg                     too_fast_q;

  // Lane index of a PEAK_* address, or LANES when it is none.
  function integer peak_lane;
    input [7:0] addr;
    integer i;
    begin
      peak_lane = LANES;
      for (i = 0; i < LANES; i = i + 1) begin
        if (addr == HEG_FE_REG_PEAK_NF4[7:0] + 8'd4 * i[7:0]) peak_lane = i;
      end
    end
  endfunction

  function mapped;
    input [7:0] addr;
    begin
      mapped = (addr == HEG_FE_REG_ID[7:0]) | (addr == HEG_FE_REG_VERSION[7:0]) |
               (addr == HEG_FE_REG_FE_REGWEN[7:0]) | (addr == HEG_FE_REG_STATUS[7:0]) |
               (peak_lane(addr) != LANES);
    end
  endfunction

  // Read data as an always @* block, not a function called in the port list: a
  // function call there is re-evaluated only when its argument changes (Icarus
  // follows IEEE 1364), not when the registers it reads do, so a read of an
  // unchanged address returned the value from before the last write.
  integer lane;
  always @* begin
    lane = peak_lane(reg_raddr);
    if (reg_raddr == HEG_FE_REG_ID[7:0]) reg_rdata = HEG_FE_ID_MAGIC_RESET;
    else if (reg_raddr == HEG_FE_REG_VERSION[7:0])
      reg_rdata = {HEG_FE_VERSION_MAJOR_RESET, HEG_FE_VERSION_MINOR_RESET};
    else if (reg_raddr == HEG_FE_REG_FE_REGWEN[7:0]) reg_rdata = {31'h0, regwen_q};
    else if (reg_raddr == HEG_FE_REG_STATUS[7:0]) reg_rdata = {30'h0, too_fast_q, backwards_q};
    else if (lane != LANES) reg_rdata = {{(32-COUNT_W){1'b0}}, peak_q[lane*COUNT_W +: COUNT_W]};
    else reg_rdata = 32'h0;
  end

  heg_axil_slave #(
    .ADDR_W(8)
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
    .read_hold_i(1'b0)
  );

  // ---------------------------------------------------------------------------
  // Lanes.
  reg                     seen_q;
  reg [LANES*CNT_W-1:0]   last_q;
  reg [LANES*CNT_W-1:0]   allowance_q;
  reg [LANES*CNT_W-1:0]   debt_q;
  reg [LANES*CNT_W-1:0]   last_d;
  reg [LANES*CNT_W-1:0]   allowance_d;
  reg [LANES*CNT_W-1:0]   debt_d;
  reg [LANES-1:0]         valid_d;
  reg [LANES*COUNT_W-1:0] count_d;
  reg [LANES-1:0]         valid_q;
  reg [LANES*COUNT_W-1:0] count_q;
  reg                     backwards_d;
  reg                     too_fast_d;

  reg [CNT_W-1:0] peak;
  reg [CNT_W-1:0] sample;
  reg [CNT_W-1:0] last;
  reg [CNT_W-1:0] rise;
  reg [CNT_W-1:0] budget;
  reg [CNT_W-1:0] debt;
  reg [CNT_W-1:0] emit;
  reg [CNT_W:0]   sum;
  integer l;

  always @* begin
    backwards_d = backwards_q;
    too_fast_d = too_fast_q;
    for (l = 0; l < LANES; l = l + 1) begin
      peak = {{(CNT_W-COUNT_W){1'b0}}, peak_q[l*COUNT_W +: COUNT_W]};
      sample = sample_i[l*CNT_W +: CNT_W];
      last = last_q[l*CNT_W +: CNT_W];
      debt = debt_q[l*CNT_W +: CNT_W];
      // This edge's emission, from the debt as it stands before the edge.
      emit = (debt < peak) ? debt : peak;
      debt = debt - emit;
      // The allowance for a sample at this edge includes this edge's cycle.
      sum = {1'b0, allowance_q[l*CNT_W +: CNT_W]} + {1'b0, peak};
      budget = sum[CNT_W] ? CNT_MAX : sum[CNT_W-1:0];
      rise = sample - last;
      last_d[l*CNT_W +: CNT_W] = last;
      allowance_d[l*CNT_W +: CNT_W] = budget;
      if (sample_valid_i) begin
        last_d[l*CNT_W +: CNT_W] = sample;
        allowance_d[l*CNT_W +: CNT_W] = {CNT_W{1'b0}};
        if (seen_q) begin
          if (sample < last) begin
            backwards_d = 1'b1;
          end else begin
            if (rise > budget) too_fast_d = 1'b1;
            debt = debt + rise;
          end
        end
      end
      debt_d[l*CNT_W +: CNT_W] = debt;
      valid_d[l] = (emit != {CNT_W{1'b0}});
      count_d[l*COUNT_W +: COUNT_W] = emit[COUNT_W-1:0];
    end
  end

  integer p;
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      regwen_q <= HEG_FE_FE_REGWEN_EN_RESET;
      peak_q <= {(LANES*COUNT_W){1'b0}};
      backwards_q <= HEG_FE_STATUS_BACKWARDS_RESET;
      too_fast_q <= HEG_FE_STATUS_TOO_FAST_RESET;
      seen_q <= 1'b0;
      last_q <= {(LANES*CNT_W){1'b0}};
      allowance_q <= {(LANES*CNT_W){1'b0}};
      debt_q <= {(LANES*CNT_W){1'b0}};
      valid_q <= {LANES{1'b0}};
      count_q <= {(LANES*COUNT_W){1'b0}};
    end else begin
      if (reg_we && reg_waddr == HEG_FE_REG_FE_REGWEN[7:0] && reg_wstrb[0] &&
          !reg_wdata[HEG_FE_FE_REGWEN_EN_LSB]) begin
        regwen_q <= 1'b0;
      end
      for (p = 0; p < LANES; p = p + 1) begin
        if (reg_we && regwen_q && peak_lane(reg_waddr) == p) begin
          peak_q[p*COUNT_W +: COUNT_W] <= (peak_q[p*COUNT_W +: COUNT_W] & ~reg_wmask[COUNT_W-1:0]) |
                                         (reg_wdata[COUNT_W-1:0] & reg_wmask[COUNT_W-1:0]);
        end
      end
      backwards_q <= backwards_d;
      too_fast_q <= too_fast_d;
      seen_q <= seen_q | sample_valid_i;
      last_q <= last_d;
      allowance_q <= allowance_d;
      debt_q <= debt_d;
      valid_q <= valid_d;
      count_q <= count_d;
    end
  end

  assign op_valid_o = valid_q;
  assign op_count_o = count_q;
  assign tamper_o = backwards_q | too_fast_q;

  // Reads have no side effect here, and PEAK fields are COUNT_W bits of the word.
  wire unused_bus = reg_re ^ (^reg_wmask[31:COUNT_W]) ^ (^reg_wdata[31:COUNT_W]);

endmodule

`resetall
