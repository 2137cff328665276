// The reference clock for the firmware's clock monitor: milliseconds since the
// domain's reset counted on refclk_i, an oscillator inside the package (on the
// ULX3S build the ECP5's internal OSCG), not on clk_i, which the board feeds
// and the operator controls. The firmware bounds trusted time by both clocks
// and latches tamper when they disagree (firmware/src/timekeeping.c).
//
// Clock crossing: a free-running counter in the refclk domain, kept in gray
// code, so that between two values only one bit changes; clk_i samples it
// through a two-flop synchroniser per bit, and whatever instant it samples it
// reads the old value or the new one, never a mix (docs/hdl/integration.md).
// The system domain turns it back into binary and accumulates the advance
// since its last sample (modulo the counter's width), so the ms count starts
// at 0 at the domain's reset and never wraps. refclk_i must be slower than
// clk_i (each count is then seen), and its reset is the domain's, synchronised.
// Reading MS_LO latches MS_HI, as the timer does.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_refclk #(
  // refclk_i's nominal frequency in Hz (a whole number of kHz, below clk_i's).
  parameter integer REF_HZ = 1000000,
  // Width of the gray-coded counter crossing the domains.
  parameter integer GRAY_W = 8
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        refclk_i,
  input  wire        sel_i,
  input  wire [11:0] addr_i,
  input  wire [3:0]  wstrb_i,
  output reg         ready_o,
  output reg  [31:0] rdata_o
);

  `include "heg_soc_map.vh"

  localparam integer PER_MS = REF_HZ / 1000;
  // The prescaler holds less than PER_MS plus one cycle's advance.
  localparam integer PRE_W = $clog2(PER_MS + (1 << GRAY_W)) + 1;

  generate
    if (PER_MS < 1 || PER_MS * 1000 != REF_HZ) begin : gen_bad_clock
      heg_soc_refclk_needs_a_whole_number_of_khz u_error ();
    end
  endgenerate

  // ---- refclk domain: its reset, then the counter in gray code.
  wire ref_rst_n;
  heg_soc_sync u_ref_reset (
    .clk_i (refclk_i), .rst_ni (rst_ni), .d_i (1'b1), .q_o (ref_rst_n)
  );

  reg [GRAY_W-1:0] ref_count_q;
  reg [GRAY_W-1:0] ref_gray_q;
  wire [GRAY_W-1:0] ref_count_next = ref_count_q + 1'b1;

  always @(posedge refclk_i) begin
    ref_count_q <= ref_count_next;
    ref_gray_q <= ref_count_next ^ (ref_count_next >> 1);
    if (!ref_rst_n) begin
      ref_count_q <= {GRAY_W{1'b0}};
      ref_gray_q <= {GRAY_W{1'b0}};
    end
  end

  // ---- clk_i domain: synchronised, back to binary, accumulated.
  wire [GRAY_W-1:0] gray_sync;
  heg_soc_sync #(.WIDTH(GRAY_W)) u_gray_sync (
    .clk_i (clk_i), .rst_ni (rst_ni), .d_i (ref_gray_q), .q_o (gray_sync)
  );

  // Binary bit i of a gray code is the parity of its bits i and up.
  wire [GRAY_W-1:0] seen_bin;
  genvar g;
  generate
    for (g = 0; g < GRAY_W; g = g + 1) begin : gen_gray_to_bin
      assign seen_bin[g] = ^gray_sync[GRAY_W-1:g];
    end
  endgenerate

  reg [GRAY_W-1:0] last_bin_q;
  reg [PRE_W-1:0]  prescale_q;
  reg [63:0]       ms_q;
  reg [31:0]       high_q;
  wire [GRAY_W-1:0] advance = seen_bin - last_bin_q;  // modulo 2^GRAY_W
  wire [PRE_W-1:0]  prescale_sum = prescale_q + {{(PRE_W - GRAY_W){1'b0}}, advance};

  wire read = sel_i && !ready_o && (wstrb_i == 4'b0000);

  always @(posedge clk_i) begin
    last_bin_q <= seen_bin;
    if (prescale_sum >= PER_MS[PRE_W-1:0]) begin
      prescale_q <= prescale_sum - PER_MS[PRE_W-1:0];
      ms_q <= ms_q + 1'b1;
    end else begin
      prescale_q <= prescale_sum;
    end
    ready_o <= sel_i && !ready_o;
    if (read) begin
      case (addr_i)
        HEG_SOC_REFCLK_MS_LO: begin
          rdata_o <= ms_q[31:0];
          high_q <= ms_q[63:32];
        end
        HEG_SOC_REFCLK_MS_HI: rdata_o <= high_q;
        HEG_SOC_REFCLK_REF_HZ: rdata_o <= REF_HZ;
        default: rdata_o <= 32'h0;
      endcase
    end
    if (!rst_ni) begin
      last_bin_q <= seen_bin;
      prescale_q <= {PRE_W{1'b0}};
      ms_q <= 64'h0;
      high_q <= 32'h0;
      ready_o <= 1'b0;
    end
  end

endmodule

`resetall
