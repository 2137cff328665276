// The stream limiter's policy registers as an AXI4-Lite slave (heg_soc_map.vh):
// RATE and BURST (written by the firmware from the signed policy, then
// locked by writing 0 to REGWEN until reset; RATE's top bits above 32 read
// and stay 0), BYTES (delivered, for the attestation; reading BYTES_LO
// latches BYTES_HI) and TOKENS (whole bytes in the bucket).
//
// A placeholder for the limiter's own register block generated from the
// SystemRDL map (rtl-sec): same AXI4-Lite port, so heg_soc.v swaps one for
// the other. Until RATE and BURST are written the bucket gets no refill and
// holds nothing: the uplink is closed (fail closed).
//
// Bus behaviour (like heg_meter's): AW and W are taken together, the write
// is done at the edge that raises BVALID; a read is done at the edge that
// raises RVALID; unmapped addresses answer SLVERR; writes to a locked or
// read-only register answer OKAY and change nothing.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_limiter_regs #(
  // heg_stream_limiter's FRAC_W, FRAC_W + BURST_W and BURST_W.
  parameter integer FRAC_W = 16,
  parameter integer RATE_W = 40,
  parameter integer BURST_W = 24,
  parameter integer BYTES_W = 64
) (
  input  wire               clk_i,
  input  wire               rst_ni,
  input  wire [11:0]        s_axil_awaddr_i,
  input  wire               s_axil_awvalid_i,
  output wire               s_axil_awready_o,
  input  wire [31:0]        s_axil_wdata_i,
  input  wire [3:0]         s_axil_wstrb_i,
  input  wire               s_axil_wvalid_i,
  output wire               s_axil_wready_o,
  output reg  [1:0]         s_axil_bresp_o,
  output reg                s_axil_bvalid_o,
  input  wire               s_axil_bready_i,
  input  wire [11:0]        s_axil_araddr_i,
  input  wire               s_axil_arvalid_i,
  output wire               s_axil_arready_o,
  output reg  [31:0]        s_axil_rdata_o,
  output reg  [1:0]         s_axil_rresp_o,
  output reg                s_axil_rvalid_o,
  input  wire               s_axil_rready_i,
  output wire [RATE_W-1:0]  rate_o,
  output wire [BURST_W-1:0] burst_o,
  input  wire [BYTES_W-1:0] byte_count_i,
  input  wire [RATE_W-1:0]  tokens_i
);

  `include "heg_soc_map.vh"

  localparam [1:0] RESP_OKAY = 2'b00;
  localparam [1:0] RESP_SLVERR = 2'b10;

  generate
    if (RATE_W != FRAC_W + BURST_W || RATE_W <= 32 || BURST_W > 32 || BYTES_W != 64) begin : gen_bad_widths
      heg_soc_limiter_regs_unsupported_widths u_error ();
    end
  endgenerate

  reg [RATE_W-1:0]  rate_q;
  reg [BURST_W-1:0] burst_q;
  reg               regwen_q;
  reg [31:0]        bytes_hi_q;

  wire do_write = s_axil_awvalid_i && s_axil_wvalid_i && !s_axil_bvalid_o;
  wire do_read = s_axil_arvalid_i && !s_axil_rvalid_o;

  assign s_axil_awready_o = do_write;
  assign s_axil_wready_o = do_write;
  assign s_axil_arready_o = do_read;

  function mapped;
    input [11:0] addr;
    begin
      case (addr)
        HEG_SOC_LIMITER_RATE, HEG_SOC_LIMITER_BURST, HEG_SOC_LIMITER_REGWEN,
        HEG_SOC_LIMITER_BYTES_LO, HEG_SOC_LIMITER_BYTES_HI, HEG_SOC_LIMITER_TOKENS: mapped = 1'b1;
        default: mapped = 1'b0;
      endcase
    end
  endfunction

  wire full_word = (s_axil_wstrb_i == 4'b1111);

  always @(posedge clk_i) begin
    if (do_write) begin
      s_axil_bvalid_o <= 1'b1;
      s_axil_bresp_o <= mapped(s_axil_awaddr_i) ? RESP_OKAY : RESP_SLVERR;
      if (regwen_q && full_word) begin
        case (s_axil_awaddr_i)
          HEG_SOC_LIMITER_RATE: rate_q <= {{(RATE_W-32){1'b0}}, s_axil_wdata_i};
          HEG_SOC_LIMITER_BURST: burst_q <= s_axil_wdata_i[BURST_W-1:0];
          HEG_SOC_LIMITER_REGWEN: regwen_q <= s_axil_wdata_i[0];
          default: ;
        endcase
      end
    end else if (s_axil_bvalid_o && s_axil_bready_i) begin
      s_axil_bvalid_o <= 1'b0;
    end
    if (do_read) begin
      s_axil_rvalid_o <= 1'b1;
      s_axil_rresp_o <= mapped(s_axil_araddr_i) ? RESP_OKAY : RESP_SLVERR;
      case (s_axil_araddr_i)
        HEG_SOC_LIMITER_RATE: s_axil_rdata_o <= rate_q[31:0];
        HEG_SOC_LIMITER_BURST: s_axil_rdata_o <= {{(32-BURST_W){1'b0}}, burst_q};
        HEG_SOC_LIMITER_REGWEN: s_axil_rdata_o <= {31'h0, regwen_q};
        HEG_SOC_LIMITER_BYTES_LO: begin
          s_axil_rdata_o <= byte_count_i[31:0];
          bytes_hi_q <= byte_count_i[63:32];
        end
        HEG_SOC_LIMITER_BYTES_HI: s_axil_rdata_o <= bytes_hi_q;
        HEG_SOC_LIMITER_TOKENS: s_axil_rdata_o <= {{(32-BURST_W){1'b0}}, tokens_i[RATE_W-1:FRAC_W]};
        default: s_axil_rdata_o <= 32'h0;
      endcase
    end else if (s_axil_rvalid_o && s_axil_rready_i) begin
      s_axil_rvalid_o <= 1'b0;
    end
    if (!rst_ni) begin
      rate_q <= {RATE_W{1'b0}};
      burst_q <= {BURST_W{1'b0}};
      regwen_q <= 1'b1;
      bytes_hi_q <= 32'h0;
      s_axil_bvalid_o <= 1'b0;
      s_axil_bresp_o <= RESP_OKAY;
      s_axil_rvalid_o <= 1'b0;
      s_axil_rresp_o <= RESP_OKAY;
      s_axil_rdata_o <= 32'h0;
    end
  end

  assign rate_o = rate_q;
  assign burst_o = burst_q;

endmodule

`resetall
