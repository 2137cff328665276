// Synthesis-only timing harness for heg_meter (NOT product RTL): all input bits
// (AXI4-Lite slave, op events, tamper) come from a serial shift chain (pin si_i),
// all output bits are captured in flops and XOR-folded to pin so_o, so the block
// needs 4 pins (clk_i, rst_ni, si_i, so_o) and nextpnr times its internal paths.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_meter_synth #(
  parameter integer LANES = 6,
  parameter integer COUNT_W = 16
) (
  input  wire clk_i,
  input  wire rst_ni,
  input  wire si_i,
  output wire so_o
);
  localparam integer IN_W = 12 + 1 + 32 + 4 + 1 + 1 + 12 + 1 + 1 + LANES + LANES * COUNT_W + 1;
  localparam integer OUT_W = 1 + 1 + 2 + 1 + 1 + 32 + 2 + 1 + 1 + 1;

  reg rst_q;
  always @(posedge clk_i) begin
    rst_q <= rst_ni;
  end

  wire [IN_W-1:0] stim;
  heg_synth_shift_in #(.W(IN_W)) u_in (.clk_i(clk_i), .si_i(si_i), .q_o(stim));

  wire [11:0]              awaddr;
  wire                     awvalid;
  wire [31:0]              wdata;
  wire [3:0]               wstrb;
  wire                     wvalid;
  wire                     bready;
  wire [11:0]              araddr;
  wire                     arvalid;
  wire                     rready;
  wire [LANES-1:0]         op_valid;
  wire [LANES*COUNT_W-1:0] op_count;
  wire                     tamper;
  assign {awaddr, awvalid, wdata, wstrb, wvalid, bready, araddr, arvalid, rready,
          op_valid, op_count, tamper} = stim;

  wire        awready;
  wire        wready;
  wire [1:0]  bresp;
  wire        bvalid;
  wire        arready;
  wire [31:0] rdata;
  wire [1:0]  rresp;
  wire        rvalid;
  wire        accel_enable;
  wire        irq;

  heg_meter #(.LANES(LANES), .COUNT_W(COUNT_W)) u_dut (
    .clk_i(clk_i),
    .rst_ni(rst_q),
    .s_axil_awaddr_i(awaddr),
    .s_axil_awvalid_i(awvalid),
    .s_axil_awready_o(awready),
    .s_axil_wdata_i(wdata),
    .s_axil_wstrb_i(wstrb),
    .s_axil_wvalid_i(wvalid),
    .s_axil_wready_o(wready),
    .s_axil_bresp_o(bresp),
    .s_axil_bvalid_o(bvalid),
    .s_axil_bready_i(bready),
    .s_axil_araddr_i(araddr),
    .s_axil_arvalid_i(arvalid),
    .s_axil_arready_o(arready),
    .s_axil_rdata_o(rdata),
    .s_axil_rresp_o(rresp),
    .s_axil_rvalid_o(rvalid),
    .s_axil_rready_i(rready),
    .op_valid_i(op_valid),
    .op_count_i(op_count),
    .tamper_i(tamper),
    .accel_enable_o(accel_enable),
    .irq_o(irq)
  );

  heg_synth_xor_out #(.W(OUT_W)) u_out (
    .clk_i(clk_i),
    .d_i({awready, wready, bresp, bvalid, arready, rdata, rresp, rvalid, accel_enable, irq}),
    .q_o(so_o)
  );
endmodule

`resetall
