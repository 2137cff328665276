// Synthesis-only timing harness for heg_stream_limiter (NOT product RTL): all
// 140 input bits come from a serial shift chain (pin si_i), all 180 output bits are
// captured in flops and XOR-folded to pin so_o, so the block fits a 4-pin budget
// (clk_i, rst_ni, si_i, so_o) and nextpnr times the block's internal paths.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_stream_limiter_synth #(
  parameter integer DATA_W = 64,
  parameter integer USER_W = 1,
  parameter integer FRAC_W = 16,
  parameter integer BURST_W = 24,
  parameter integer BYTES_W = 64
) (
  input  wire clk_i,
  input  wire rst_ni,
  input  wire si_i,
  output wire so_o
);
  localparam integer KEEP_W = DATA_W / 8;
  localparam integer TOK_W = BURST_W + FRAC_W;
  localparam integer IN_W = TOK_W + BURST_W + DATA_W + KEEP_W + 1 + USER_W + 1 + 1;
  localparam integer OUT_W = 1 + DATA_W + KEEP_W + 1 + USER_W + 1 + BYTES_W + TOK_W + 16;

  reg rst_q;
  always @(posedge clk_i) begin
    rst_q <= rst_ni;
  end

  wire [IN_W-1:0] stim;
  heg_synth_shift_in #(.W(IN_W)) u_in (.clk_i(clk_i), .si_i(si_i), .q_o(stim));

  wire [TOK_W-1:0]   rate;
  wire [BURST_W-1:0] burst;
  wire [DATA_W-1:0]  s_tdata;
  wire [KEEP_W-1:0]  s_tkeep;
  wire               s_tlast;
  wire [USER_W-1:0]  s_tuser;
  wire               s_tvalid;
  wire               m_tready;
  assign {rate, burst, s_tdata, s_tkeep, s_tlast, s_tuser, s_tvalid, m_tready} = stim;

  wire               s_tready;
  wire [DATA_W-1:0]  m_tdata;
  wire [KEEP_W-1:0]  m_tkeep;
  wire               m_tlast;
  wire [USER_W-1:0]  m_tuser;
  wire               m_tvalid;
  wire [BYTES_W-1:0] byte_count;
  wire [TOK_W-1:0]   tokens;
  wire [15:0]        beat_cost;

  heg_stream_limiter #(
    .DATA_W(DATA_W), .USER_W(USER_W), .FRAC_W(FRAC_W), .BURST_W(BURST_W), .BYTES_W(BYTES_W)
  ) u_dut (
    .clk_i(clk_i),
    .rst_ni(rst_q),
    .rate_i(rate),
    .burst_i(burst),
    .s_axis_tdata_i(s_tdata),
    .s_axis_tkeep_i(s_tkeep),
    .s_axis_tlast_i(s_tlast),
    .s_axis_tuser_i(s_tuser),
    .s_axis_tvalid_i(s_tvalid),
    .s_axis_tready_o(s_tready),
    .m_axis_tdata_o(m_tdata),
    .m_axis_tkeep_o(m_tkeep),
    .m_axis_tlast_o(m_tlast),
    .m_axis_tuser_o(m_tuser),
    .m_axis_tvalid_o(m_tvalid),
    .m_axis_tready_i(m_tready),
    .byte_count_o(byte_count),
    .tokens_o(tokens),
    .beat_cost_o(beat_cost)
  );

  heg_synth_xor_out #(.W(OUT_W)) u_out (
    .clk_i(clk_i),
    .d_i({s_tready, m_tdata, m_tkeep, m_tlast, m_tuser, m_tvalid, byte_count, tokens, beat_cost}),
    .q_o(so_o)
  );
endmodule

`resetall
