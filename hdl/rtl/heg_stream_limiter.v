// openheg interconnect bandwidth limiter: a token-bucket shaper on an AXI4-Stream
// data path (a pod's uplink), with a byte counter for attestation.
//
// It makes "enough bandwidth for inference, too little for cross-pod training"
// enforceable in hardware: the long-run throughput is at most RATE bytes per cycle
// and any burst is at most BURST bytes above that.
//
// Token bucket (tokens in 1/2^FRAC_W byte units, reset empty):
//   - a beat costs cost = popcount(tkeep) bytes;
//   - a beat is accepted (s_axis_tready_o) only when tokens >= cost and the output
//     register is free or being emptied in the same cycle;
//   - at every edge: tokens' = min(tokens - (accepted ? cost : 0) + rate_i, burst_i);
//   - hence over any N consecutive cycles the bytes accepted are at most
//     tokens_at_start + N*rate (<= burst + N*rate), and the accepted stream never
//     exceeds RATE in the long run. burst_i must be >= DATA_W/8 bytes, or a full
//     beat can never pass (the bucket cannot hold its cost).
// Data path: one output register stage. Beats are neither dropped, reordered nor
// altered (tdata, tkeep, tlast, tuser travel together); m_axis_tvalid_o and the data
// stay stable while m_axis_tready_i is low (AXI4-Stream rule). s_axis_tready_o depends
// combinationally on m_axis_tready_i and on s_axis_tkeep_i (allowed: a slave may
// look at TVALID/TDATA before raising TREADY; masters must not wait for TREADY).
// byte_count_o counts the bytes delivered on the master side (saturating).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_stream_limiter #(
  // Stream data width in bits (a multiple of 8).
  parameter integer DATA_W = 64,
  // TUSER width (carried unchanged).
  parameter integer USER_W = 1,
  // Fractional bits of the rate (rate_i = bytes per cycle * 2^FRAC_W).
  parameter integer FRAC_W = 16,
  // Width of the bucket capacity in bytes.
  parameter integer BURST_W = 24,
  // Width of the delivered-bytes counter.
  parameter integer BYTES_W = 64
) (
  input  wire                      clk_i,
  input  wire                      rst_ni,

  // Policy: refill per cycle (fixed point, FRAC_W fractional bits) and capacity.
  input  wire [BURST_W+FRAC_W-1:0] rate_i,
  input  wire [BURST_W-1:0]        burst_i,

  // AXI4-Stream slave (from the accelerator side).
  input  wire [DATA_W-1:0]         s_axis_tdata_i,
  input  wire [DATA_W/8-1:0]       s_axis_tkeep_i,
  input  wire                      s_axis_tlast_i,
  input  wire [USER_W-1:0]         s_axis_tuser_i,
  input  wire                      s_axis_tvalid_i,
  output wire                      s_axis_tready_o,

  // AXI4-Stream master (towards the uplink).
  output wire [DATA_W-1:0]         m_axis_tdata_o,
  output wire [DATA_W/8-1:0]       m_axis_tkeep_o,
  output wire                      m_axis_tlast_o,
  output wire [USER_W-1:0]         m_axis_tuser_o,
  output wire                      m_axis_tvalid_o,
  input  wire                      m_axis_tready_i,

  // Attestation and observation.
  output wire [BYTES_W-1:0]        byte_count_o,
  output wire [BURST_W+FRAC_W-1:0] tokens_o
);

  localparam integer KEEP_W = DATA_W / 8;
  localparam integer TOK_W = BURST_W + FRAC_W;
  // Width of a byte count of one beat.
  localparam integer POP_W = $clog2(KEEP_W + 1);

  generate
    if (DATA_W % 8 != 0 || POP_W > BURST_W) begin : gen_bad_params
      heg_stream_limiter_bad_parameters u_error ();
    end
  endgenerate

  function [POP_W-1:0] popcount;
    input [KEEP_W-1:0] keep;
    integer i;
    begin
      popcount = {POP_W{1'b0}};
      for (i = 0; i < KEEP_W; i = i + 1) begin
        popcount = popcount + {{(POP_W-1){1'b0}}, keep[i]};
      end
    end
  endfunction

  reg [TOK_W-1:0]   tokens_q;
  reg [DATA_W-1:0]  out_data_q;
  reg [KEEP_W-1:0]  out_keep_q;
  reg               out_last_q;
  reg [USER_W-1:0]  out_user_q;
  reg               out_valid_q;
  reg [BYTES_W-1:0] bytes_q;

  wire [POP_W-1:0] in_bytes = popcount(s_axis_tkeep_i);
  wire [POP_W-1:0] out_bytes = popcount(out_keep_q);
  wire [TOK_W-1:0] cost = {{(BURST_W-POP_W){1'b0}}, in_bytes, {FRAC_W{1'b0}}};
  wire [TOK_W-1:0] cap = {burst_i, {FRAC_W{1'b0}}};

  wire out_free = ~out_valid_q | m_axis_tready_i;
  wire afford = (tokens_q >= cost);
  assign s_axis_tready_o = out_free & afford;
  wire s_xfer = s_axis_tvalid_i & s_axis_tready_o;
  wire m_xfer = out_valid_q & m_axis_tready_i;

  // tokens - spent + rate, one guard bit; tokens >= spent whenever a beat is taken.
  wire [TOK_W:0] refill = {1'b0, tokens_q - (s_xfer ? cost : {TOK_W{1'b0}})} + {1'b0, rate_i};
  wire [TOK_W-1:0] tokens_d = (refill >= {1'b0, cap}) ? cap : refill[TOK_W-1:0];

  wire [BYTES_W:0] bytes_sum = {1'b0, bytes_q} + {{(BYTES_W+1-POP_W){1'b0}}, out_bytes};

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      tokens_q <= {TOK_W{1'b0}};
      out_data_q <= {DATA_W{1'b0}};
      out_keep_q <= {KEEP_W{1'b0}};
      out_last_q <= 1'b0;
      out_user_q <= {USER_W{1'b0}};
      out_valid_q <= 1'b0;
      bytes_q <= {BYTES_W{1'b0}};
    end else begin
      tokens_q <= tokens_d;
      if (out_free) begin
        out_valid_q <= s_xfer;
      end
      if (s_xfer) begin
        out_data_q <= s_axis_tdata_i;
        out_keep_q <= s_axis_tkeep_i;
        out_last_q <= s_axis_tlast_i;
        out_user_q <= s_axis_tuser_i;
      end
      if (m_xfer) begin
        bytes_q <= bytes_sum[BYTES_W] ? {BYTES_W{1'b1}} : bytes_sum[BYTES_W-1:0];
      end
    end
  end

  assign m_axis_tdata_o = out_data_q;
  assign m_axis_tkeep_o = out_keep_q;
  assign m_axis_tlast_o = out_last_q;
  assign m_axis_tuser_o = out_user_q;
  assign m_axis_tvalid_o = out_valid_q;
  assign byte_count_o = bytes_q;
  assign tokens_o = tokens_q;

endmodule

`resetall
