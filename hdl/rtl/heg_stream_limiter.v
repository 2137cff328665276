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
//   - at every edge: tokens' = min(tokens - (accepted ? BEAT_COST : 0) + rate,
//     burst - (output register full after the edge ? BEAT_COST : 0)),
//     so credit <= burst always (the beat waiting in the register is part of it).
//     rate and burst are the policy in effect: rate_i and burst_i as sampled at the
//     previous edge (the policy stage below; reset: 0 and 0), so a policy change takes
//     effect one edge later.
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
// byte_count_o counts the wire bytes of the beats delivered (saturating), exact in every
// cycle although its two halves are added in different cycles (see the counter below).

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

  reg [TOK_W-1:0]   tokens_q;
  reg [DATA_W-1:0]  out_data_q;
  reg [KEEP_W-1:0]  out_keep_q;
  reg               out_last_q;
  reg [USER_W-1:0]  out_user_q;
  reg               out_valid_q;

  wire out_free = ~out_valid_q | m_axis_tready_i;
  // afford_q == (tokens_q >= COST), registered with tokens_q (computed below from the same
  // candidates), so the handshake starts from a flop rather than a compare.
  reg  afford_q;
  assign s_axis_tready_o = out_free & afford_q;
  wire s_xfer = s_axis_tvalid_i & s_axis_tready_o;
  wire m_xfer = out_valid_q & m_axis_tready_i;
  wire out_valid_d = s_xfer | (out_valid_q & ~m_axis_tready_i);

  // Token update, the same rule as above, arranged for timing (ECP5 >= 150 MHz): every
  // path from a register to tokens_q is ONE carry chain of tokens_q plus one policy term,
  // then the selects. The policy terms are precomputed from rate_i and burst_i into the
  // policy stage registers at every edge, so a policy change takes effect ONE EDGE LATER
  // (rate_i/burst_i sampled at edge N govern the update at edge N+1); the registers are
  // locked in heg_link, so this only delays the first edge after a write.
  //   refill_keep = tokens + rate           refill_take = tokens + (rate - COST)
  //   room_full   = cap - COST (0 if cap < COST), the credit besides a held beat
  //   clamp_cap:  tokens + (rate - cap) >= 0        (refill_keep >= cap; and, when a beat
  //               is taken, refill_take >= room_full: the same test, since room_full =
  //               cap - COST, or with cap < COST tokens >= COST > cap makes both hold)
  //   clamp_full: tokens + (rate - room_full) >= 0  (refill_keep >= room_full)
  // afford_q (tokens >= COST after the edge) is chosen from the same candidates:
  //   refill_keep >= COST is refill_take >= 0; refill_take >= COST is
  //   tokens + (rate - 2*COST) >= 0; cap >= COST and room_full >= COST are policy flags.
  localparam integer SUM_W = TOK_W + 2;
  localparam [SUM_W-1:0] COST_S = {2'b00, COST};
  wire [SUM_W-1:0] rate_in = {2'b00, rate_i};
  wire [SUM_W-1:0] cap_in = {2'b00, burst_i, {FRAC_W{1'b0}}};
  wire [31:0]      burst_32 = {{(32-BURST_W){1'b0}}, burst_i};
  // The bucket holds a beat's cost at all (else nothing ever passes).
  wire             afford_cap_in = (burst_32 >= BEAT_COST_32);
  wire [TOK_W-1:0] room_full_in = afford_cap_in ? cap_in[TOK_W-1:0] - COST : {TOK_W{1'b0}};

  // rate - room_full: rate when cap < COST, else rate - cap + COST, whose three terms a
  // carry-save stage (bitwise) reduces to two before the one carry chain; ~cap = -cap - 1,
  // and the +1 enters as the free low bit of the shifted carry word.
  wire [SUM_W-1:0] cap_neg_in = ~cap_in;
  wire [SUM_W-1:0] rf_sum = rate_in ^ cap_neg_in ^ COST_S;
  wire [SUM_W-2:0] rf_majority = (rate_in[SUM_W-2:0] & cap_neg_in[SUM_W-2:0]) |
                                 (rate_in[SUM_W-2:0] & COST_S[SUM_W-2:0]) |
                                 (cap_neg_in[SUM_W-2:0] & COST_S[SUM_W-2:0]);
  wire [SUM_W-1:0] rate_less_room_full_in = afford_cap_in
                                            ? rf_sum + {rf_majority, 1'b1} : rate_in;

  // Policy stage: the policy terms, sampled at every edge (reset: rate 0, burst 0).
  reg [BURST_W-1:0] burst_q;
  reg [TOK_W-1:0] rate_q;                  // rate
  reg [SUM_W-1:0] rate_less_cap_q;         // rate - cap (two's complement)
  reg [SUM_W-1:0] rate_less_room_full_q;   // rate - room_full
  reg [SUM_W-1:0] rate_less_cost_q;        // rate - COST
  reg [SUM_W-1:0] rate_less_cost2_q;       // rate - 2*COST
  reg [TOK_W-1:0] room_full_q;
  reg             afford_cap_q;            // cap >= COST
  reg             afford_room_full_q;      // room_full >= COST
  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      burst_q <= {BURST_W{1'b0}};
      rate_q <= {TOK_W{1'b0}};
      rate_less_cap_q <= {SUM_W{1'b0}};
      rate_less_room_full_q <= {SUM_W{1'b0}};
      rate_less_cost_q <= -COST_S;
      rate_less_cost2_q <= -(COST_S << 1);
      room_full_q <= {TOK_W{1'b0}};
      afford_cap_q <= 1'b0;
      afford_room_full_q <= 1'b0;
    end else begin
      burst_q <= burst_i;
      rate_q <= rate_i;
      rate_less_cap_q <= rate_in - cap_in;
      rate_less_room_full_q <= rate_less_room_full_in;
      rate_less_cost_q <= rate_in - COST_S;
      rate_less_cost2_q <= rate_in - (COST_S << 1);
      room_full_q <= room_full_in;
      afford_cap_q <= afford_cap_in;
      afford_room_full_q <= (burst_32 >= (BEAT_COST_32 << 1));
    end
  end

  wire [SUM_W-1:0] tok_s = {2'b00, tokens_q};
  wire [TOK_W-1:0] cap_q = {burst_q, {FRAC_W{1'b0}}};
  // Used only where it is not clamped, so below cap: no carry out of TOK_W bits.
  wire [TOK_W-1:0] refill_keep = tokens_q + rate_q;
  wire [SUM_W-1:0] refill_take = tok_s + rate_less_cost_q;
  wire [SUM_W-1:0] over_cap = tok_s + rate_less_cap_q;
  wire [SUM_W-1:0] over_full = tok_s + rate_less_room_full_q;
  wire [SUM_W-1:0] over_two = tok_s + rate_less_cost2_q;
  wire clamp_cap = ~over_cap[SUM_W-1];
  wire clamp_full = ~over_full[SUM_W-1];
  wire afford_keep = ~refill_take[SUM_W-1];
  wire afford_take = ~over_two[SUM_W-1];
  reg  [TOK_W-1:0] tokens_d;
  reg              afford_d;
  always @* begin
    if (s_xfer) begin
      tokens_d = clamp_cap ? room_full_q : refill_take[TOK_W-1:0];
      afford_d = clamp_cap ? afford_room_full_q : afford_take;
    end else if (out_valid_d) begin
      tokens_d = clamp_full ? room_full_q : refill_keep;
      afford_d = clamp_full ? afford_room_full_q : afford_keep;
    end else begin
      tokens_d = clamp_cap ? cap_q : refill_keep;
      afford_d = clamp_cap ? afford_cap_q : afford_keep;
    end
  end

  // Wire-byte counter, split in two halves so that no carry chain spans all BYTES_W bits
  // (timing): the low half adds BEAT_COST and registers its carry-out; the high half
  // takes that carry at the next edge. The value is exact in every cycle: the high half
  // shown is hi + carry, selected between hi_q and hi_inc_q (= hi_q + 1, kept alongside),
  // so a read never sees a torn or lagging count. Saturation: a carry out of the low
  // half while the shown high half is all ones pins the count at all ones.
  localparam integer LO_W = BYTES_W / 2;
  localparam integer HI_W = BYTES_W - LO_W;
  localparam [LO_W-1:0] LO_BEAT = {{(LO_W-16){1'b0}}, BEAT_COST_32[15:0]};
  reg  [LO_W-1:0] bytes_lo_q;
  reg  [HI_W-1:0] bytes_hi_q;
  reg  [HI_W-1:0] bytes_hi_inc_q;
  reg             bytes_carry_q;
  wire [HI_W-1:0] bytes_hi = bytes_carry_q ? bytes_hi_inc_q : bytes_hi_q;
  wire            bytes_hi_full = bytes_carry_q ? (&bytes_hi_inc_q) : (&bytes_hi_q);
  wire [LO_W:0]   bytes_lo_sum = {1'b0, bytes_lo_q} + {1'b0, LO_BEAT};
  wire            bytes_saturate = bytes_lo_sum[LO_W] & bytes_hi_full;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      tokens_q <= {TOK_W{1'b0}};
      afford_q <= 1'b0;
      out_data_q <= {DATA_W{1'b0}};
      out_keep_q <= {KEEP_W{1'b0}};
      out_last_q <= 1'b0;
      out_user_q <= {USER_W{1'b0}};
      out_valid_q <= 1'b0;
      bytes_lo_q <= {LO_W{1'b0}};
      bytes_hi_q <= {HI_W{1'b0}};
      bytes_hi_inc_q <= {{(HI_W-1){1'b0}}, 1'b1};
      bytes_carry_q <= 1'b0;
    end else begin
      tokens_q <= tokens_d;
      afford_q <= afford_d;
      out_valid_q <= out_valid_d;
      if (s_xfer) begin
        out_data_q <= s_axis_tdata_i;
        out_keep_q <= s_axis_tkeep_i;
        out_last_q <= s_axis_tlast_i;
        out_user_q <= s_axis_tuser_i;
      end
      // The pending carry is absorbed at every edge.
      if (bytes_carry_q) begin
        bytes_hi_q <= bytes_hi_inc_q;
        bytes_hi_inc_q <= bytes_hi_inc_q + {{(HI_W-1){1'b0}}, 1'b1};
      end
      bytes_carry_q <= m_xfer & bytes_lo_sum[LO_W] & ~bytes_hi_full;
      if (m_xfer) begin
        bytes_lo_q <= bytes_saturate ? {LO_W{1'b1}} : bytes_lo_sum[LO_W-1:0];
      end
    end
  end

  assign m_axis_tdata_o = out_data_q;
  assign m_axis_tkeep_o = out_keep_q;
  assign m_axis_tlast_o = out_last_q;
  assign m_axis_tuser_o = out_user_q;
  assign m_axis_tvalid_o = out_valid_q;
  assign byte_count_o = {bytes_hi, bytes_lo_q};
  assign tokens_o = tokens_q;
  assign beat_cost_o = BEAT_COST_32[15:0];

`ifdef FORMAL
  // Proven by hdl/formal/heg_stream_limiter.ys (k-induction, yosys SAT, full width).
  // The ghost credit is computed from the handshake, not from the cost logic above,
  // so a cheaper beat (for instance one priced by popcount(tkeep)) breaks the proof.
  localparam [TOK_W+1:0] F_COST = {2'b00, COST};
  localparam [BYTES_W-1:0] BEAT_BYTES = {{(BYTES_W-32){1'b0}}, BEAT_COST_32};
  localparam [BYTES_W-1:0] BYTES_MAX = {BYTES_W{1'b1}};
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
    f_rate_q <= {2'b00, rate_q};  // the rate the edge applies (policy stage)
    f_m_xfer_q <= m_xfer;
    f_bytes_q <= byte_count_o;
    f_live_q <= rst_ni;
    f_burst_q <= burst_i;
  end
  // Each check holds after every edge taken out of reset.
  wire f_checked = f_past_valid & f_live_q & rst_ni;
  // The credit never exceeds the burst capacity.
  wire f_ok_cap = f_credit <= cap_in;
  // Per edge: wire bytes delivered + credit after <= credit before + rate.
  wire f_ok_edge = f_credit + (f_m_xfer_q ? F_COST : {(TOK_W+2){1'b0}}) <= f_credit_q + f_rate_q;
  // The counter grows by exactly the wire bytes of each delivered beat, and saturates.
  // (On the count shown, byte_count_o: the split halves never show a torn value.)
  wire f_ok_bytes = (f_bytes_q > BYTES_MAX - BEAT_BYTES)
                    ? (byte_count_o == (f_m_xfer_q ? BYTES_MAX : f_bytes_q))
                    : (byte_count_o == f_bytes_q + (f_m_xfer_q ? BEAT_BYTES : {BYTES_W{1'b0}}));
  // The split counter's own invariants: the high half's increment is kept alongside it,
  // and a carry is only ever pending into a high half that can take it.
  wire f_ok_split = (bytes_hi_inc_q == bytes_hi_q + {{(HI_W-1){1'b0}}, 1'b1}) &&
                    !(bytes_carry_q && (&bytes_hi_q));
  wire [31:0]      f_burst_32 = {{(32-BURST_W){1'b0}}, burst_q};
  wire [SUM_W-1:0] f_cap = {2'b00, burst_q, {FRAC_W{1'b0}}};
  wire [SUM_W-1:0] f_room_full = (f_burst_32 >= BEAT_COST_32) ? f_cap - COST_S : {SUM_W{1'b0}};
  wire [SUM_W-1:0] f_rate = {2'b00, rate_q};
  wire f_ok_policy = ({2'b00, room_full_q} == f_room_full) &&
                     (rate_less_cap_q == f_rate - f_cap) &&
                     (rate_less_room_full_q == f_rate - f_room_full) &&
                     (rate_less_cost_q == f_rate - COST_S) &&
                     (rate_less_cost2_q == f_rate - (COST_S << 1)) &&
                     (afford_cap_q == (f_burst_32 >= BEAT_COST_32)) &&
                     (afford_room_full_q == (f_burst_32 >= (BEAT_COST_32 << 1)));
  always @* begin
    // The burst is fixed while the bound is claimed (the register top locks it).
    if (f_checked) assume (burst_i == f_burst_q);
    if (f_checked) assert (f_ok_cap);
    if (f_checked) assert (f_ok_edge);
    if (f_checked) assert (f_ok_bytes);
    if (rst_ni) assert (f_ok_split);
    if (rst_ni) assert (afford_q == (tokens_q >= COST));
    // The policy stage holds one consistent policy: every term from the same sample.
    assert (f_ok_policy);
    // The policy in effect is the one programmed (one edge later: the policy stage).
    if (f_checked) assert (burst_q == f_burst_q);
  end
`endif

endmodule

`resetall
