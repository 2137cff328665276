// openheg interconnect bandwidth limiter: a token-bucket shaper on an AXI4-Stream
// data path (a pod's uplink), with a wire-byte counter for attestation.
//
// It makes "enough bandwidth for inference, too little for cross-pod training"
// enforceable in hardware: the long-run throughput is at most RATE wire bytes per
// cycle and any burst is at most BURST wire bytes above that.
//
// Cost rule (what is charged is what reaches the wire). Every beat that crosses
// carries DATA_W data bits, KEEP_W tkeep bits, tlast and USER_W tuser bits, whatever
// tkeep says: a null lane still drives its tdata bits, and a tkeep = 0 beat still
// carries tlast and tuser. So every beat costs the same BEAT_COST wire bytes:
//     BEAT_COST = ceil((DATA_W + DATA_W/8 + 1 + USER_W) / 8)
// (64-bit data, 1-bit tuser: 74 bits, 10 wire bytes). Every bit that crosses is
// paid for; no tkeep pattern makes a beat cheaper. Rates and bursts are in wire
// bytes; the byte counter counts wire bytes charged and delivered.
//
// Token bucket (tokens in 1/2^FRAC_W wire-byte units, reset empty). The credit is
// tokens plus the cost of the beat held in the output register:
//   - a beat is accepted (s_axis_tready_o) only when tokens >= BEAT_COST and the
//     output register is free or being emptied in the same cycle;
//   - at every edge: tokens' = min(tokens - (accepted ? BEAT_COST : 0) + rate_i,
//     burst_i - (output register full after the edge ? BEAT_COST : 0)),
//     so credit <= burst_i always (the beat waiting in the register is part of it).
//   - per edge, (wire bytes delivered) + credit' <= credit + rate_i, so over ANY
//     window of t cycles the wire bytes delivered on the master side are at most
//     credit_at_start + t*rate <= BURST + t*RATE (hdl/formal/heg_stream_limiter.ys
//     proves both per-edge facts at full width; the window bound is their sum).
//   burst_i must be >= BEAT_COST or nothing ever passes (the bucket cannot hold a
//   beat's cost); with burst_i >= BEAT_COST + 2*rate a saturating stream gets the whole
//   rate (the bucket never clamps its refill while the output register holds a beat).
// Data path: one output register stage. Beats are neither dropped, reordered nor
// altered (tdata, tkeep, tlast, tuser travel together); m_axis_tvalid_o and the data
// stay stable while m_axis_tready_i is low (AXI4-Stream rule). s_axis_tready_o depends
// combinationally on m_axis_tready_i (allowed: masters must not wait for TREADY).
// byte_count_o counts the wire bytes of the beats delivered (saturating).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_stream_limiter #(
  // Stream data width in bits (a multiple of 8).
  parameter integer DATA_W = 64,
  // TUSER width (carried unchanged).
  parameter integer USER_W = 1,
  // Fractional bits of the rate (rate_i = wire bytes per cycle * 2^FRAC_W).
  parameter integer FRAC_W = 16,
  // Width of the bucket capacity in wire bytes.
  parameter integer BURST_W = 24,
  // Width of the delivered-wire-bytes counter.
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
  output wire [BURST_W+FRAC_W-1:0] tokens_o,
  // BEAT_COST, the wire bytes every beat costs (a constant of the parameters).
  output wire [15:0]               beat_cost_o
);

  localparam integer KEEP_W = DATA_W / 8;
  localparam integer TOK_W = BURST_W + FRAC_W;
  // Wire bits of one beat on the master side, and its cost in wire bytes.
  localparam integer BEAT_BITS = DATA_W + KEEP_W + 1 + USER_W;
  localparam integer BEAT_COST = (BEAT_BITS + 7) / 8;

  generate
    if (DATA_W % 8 != 0 || BURST_W > 30 || BEAT_COST >= (1 << BURST_W) || BEAT_COST > 16'hFFFF ||
        BURST_W + FRAC_W <= 32 || BYTES_W <= 32) begin : gen_bad_params
      heg_stream_limiter_bad_parameters u_error ();
    end
  endgenerate

  localparam [31:0] BEAT_COST_32 = BEAT_COST;
  localparam [TOK_W-1:0] COST_WHOLE = {{(TOK_W-32){1'b0}}, BEAT_COST_32};
  localparam [TOK_W-1:0] COST = COST_WHOLE << FRAC_W;
  localparam [BYTES_W-1:0] BEAT_BYTES = {{(BYTES_W-32){1'b0}}, BEAT_COST_32};
  localparam [BYTES_W-1:0] BYTES_MAX = {BYTES_W{1'b1}};

  reg [TOK_W-1:0]   tokens_q;
  reg [DATA_W-1:0]  out_data_q;
  reg [KEEP_W-1:0]  out_keep_q;
  reg               out_last_q;
  reg [USER_W-1:0]  out_user_q;
  reg               out_valid_q;
  reg [BYTES_W-1:0] bytes_q;

  wire [TOK_W-1:0] cap = {burst_i, {FRAC_W{1'b0}}};

  wire out_free = ~out_valid_q | m_axis_tready_i;
  wire afford = (tokens_q >= COST);
  assign s_axis_tready_o = out_free & afford;
  wire s_xfer = s_axis_tvalid_i & s_axis_tready_o;
  wire m_xfer = out_valid_q & m_axis_tready_i;
  wire out_valid_d = s_xfer | (out_valid_q & ~m_axis_tready_i);

  // Both refills and both rooms are computed in parallel; the handshake only selects.
  // tokens - spent + rate, one guard bit; tokens >= COST whenever a beat is taken.
  wire [TOK_W:0] refill_keep = {1'b0, tokens_q} + {1'b0, rate_i};
  wire [TOK_W:0] refill_take = {1'b0, tokens_q - COST} + {1'b0, rate_i};
  wire [TOK_W:0] refill = s_xfer ? refill_take : refill_keep;
  // The credit the bucket may hold besides the beat in the output register.
  wire [TOK_W-1:0] room_full = (cap >= COST) ? cap - COST : {TOK_W{1'b0}};
  wire [TOK_W-1:0] room = out_valid_d ? room_full : cap;
  wire [TOK_W-1:0] tokens_d = (refill >= {1'b0, room}) ? room : refill[TOK_W-1:0];

  wire [BYTES_W:0] bytes_sum = {1'b0, bytes_q} + {1'b0, BEAT_BYTES};

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
      out_valid_q <= out_valid_d;
      if (s_xfer) begin
        out_data_q <= s_axis_tdata_i;
        out_keep_q <= s_axis_tkeep_i;
        out_last_q <= s_axis_tlast_i;
        out_user_q <= s_axis_tuser_i;
      end
      if (m_xfer) begin
        bytes_q <= bytes_sum[BYTES_W] ? BYTES_MAX : bytes_sum[BYTES_W-1:0];
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
  assign beat_cost_o = BEAT_COST_32[15:0];

`ifdef FORMAL
  // Proven by hdl/formal/heg_stream_limiter.ys (k-induction, yosys SAT, full width).
  // The ghost credit is computed from the handshake, not from the cost logic above,
  // so a cheaper beat (for instance one priced by popcount(tkeep)) breaks the proof.
  localparam [TOK_W+1:0] F_COST = {2'b00, COST};
  reg f_past_valid = 1'b0;
  reg [TOK_W+1:0] f_credit_q;
  reg [TOK_W+1:0] f_rate_q;
  reg             f_m_xfer_q;
  reg [BYTES_W-1:0] f_bytes_q;
  reg             f_live_q;
  reg [BURST_W-1:0] f_burst_q;
  wire [TOK_W+1:0] f_credit = {2'b00, tokens_q} + (out_valid_q ? F_COST : {(TOK_W+2){1'b0}});
  always @(posedge clk_i) begin
    f_past_valid <= 1'b1;
    f_credit_q <= f_credit;
    f_rate_q <= {2'b00, rate_i};
    f_m_xfer_q <= m_xfer;
    f_bytes_q <= bytes_q;
    f_live_q <= rst_ni;
    f_burst_q <= burst_i;
  end
  // Each check holds after every edge taken out of reset.
  wire f_checked = f_past_valid & f_live_q & rst_ni;
  // The credit never exceeds the burst capacity.
  wire f_ok_cap = f_credit <= {2'b00, cap};
  // Per edge: wire bytes delivered + credit after <= credit before + rate.
  wire f_ok_edge = f_credit + (f_m_xfer_q ? F_COST : {(TOK_W+2){1'b0}}) <= f_credit_q + f_rate_q;
  // The counter grows by exactly the wire bytes of each delivered beat, and saturates.
  wire f_ok_bytes = (f_bytes_q > BYTES_MAX - BEAT_BYTES)
                    ? (bytes_q == (f_m_xfer_q ? BYTES_MAX : f_bytes_q))
                    : (bytes_q == f_bytes_q + (f_m_xfer_q ? BEAT_BYTES : {BYTES_W{1'b0}}));
  always @* begin
    // The burst is fixed while the bound is claimed (the register top locks it).
    if (f_checked) assume (burst_i == f_burst_q);
    if (f_checked) assert (f_ok_cap);
    if (f_checked) assert (f_ok_edge);
    if (f_checked) assert (f_ok_bytes);
  end
`endif

endmodule

`resetall
