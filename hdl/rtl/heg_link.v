// openheg interconnect limiter block: AXI4-Lite register top around
// heg_stream_limiter.v (register map: hdl/rdl/heg_link.rdl, generated heg_link_regs.vh).
//
//   - RATE (16.16 wire bytes per cycle) and BURST (wire bytes) come from the signed
//     policy; both reset to 0, so nothing passes until firmware programs them (fails
//     closed). LINK_REGWEN is write-zero-to-clear: once 0, RATE and BURST writes are
//     ignored (OKAY) and counted in ERR_STATUS until reset.
//   - BYTES_LO/BYTES_HI read the 64-bit wire-byte counter coherently: the read of LO
//     latches the high word, which the read of HI returns (read LO first).
//   - BEAT_COST reads the wire bytes every beat costs for this instance's parameters.
//   - Bus rules: heg_axil_slave.v; mapped word addresses answer OKAY, others SLVERR
//     (reads return 0, writes change nothing); writes to read-only registers answer OKAY
//     and change nothing; WSTRB is honoured on RATE and BURST.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_link #(
  // Stream data width in bits (a multiple of 8).
  parameter integer DATA_W = 64,
  // TUSER width (carried unchanged).
  parameter integer USER_W = 1
) (
  input  wire                clk_i,
  input  wire                rst_ni,

  // AXI4-Lite slave (the firmware's CPU).
  input  wire [7:0]          s_axil_awaddr_i,
  input  wire                s_axil_awvalid_i,
  output wire                s_axil_awready_o,
  input  wire [31:0]         s_axil_wdata_i,
  input  wire [3:0]          s_axil_wstrb_i,
  input  wire                s_axil_wvalid_i,
  output wire                s_axil_wready_o,
  output wire [1:0]          s_axil_bresp_o,
  output wire                s_axil_bvalid_o,
  input  wire                s_axil_bready_i,
  input  wire [7:0]          s_axil_araddr_i,
  input  wire                s_axil_arvalid_i,
  output wire                s_axil_arready_o,
  output wire [31:0]         s_axil_rdata_o,
  output wire [1:0]          s_axil_rresp_o,
  output wire                s_axil_rvalid_o,
  input  wire                s_axil_rready_i,

  // AXI4-Stream slave (from the accelerator side).
  input  wire [DATA_W-1:0]   s_axis_tdata_i,
  input  wire [DATA_W/8-1:0] s_axis_tkeep_i,
  input  wire                s_axis_tlast_i,
  input  wire [USER_W-1:0]   s_axis_tuser_i,
  input  wire                s_axis_tvalid_i,
  output wire                s_axis_tready_o,

  // AXI4-Stream master (towards the uplink).
  output wire [DATA_W-1:0]   m_axis_tdata_o,
  output wire [DATA_W/8-1:0] m_axis_tkeep_o,
  output wire                m_axis_tlast_o,
  output wire [USER_W-1:0]   m_axis_tuser_o,
  output wire                m_axis_tvalid_o,
  input  wire                m_axis_tready_i
);

  `include "heg_link_regs.vh"

  localparam integer FRAC_W = 16;
  localparam integer BURST_W = HEG_LINK_BURST_BYTES_WIDTH;
  localparam integer BYTES_W = 64;

  // ---------------------------------------------------------------------------
  // Bus.
  wire        reg_we;
  wire [7:0]  reg_waddr;
  wire [31:0] reg_wdata;
  wire [3:0]  reg_wstrb;
  wire        reg_re;
  reg  [31:0] reg_rdata;
  wire [7:0]  reg_raddr;
  wire [31:0] reg_wmask = {{8{reg_wstrb[3]}}, {8{reg_wstrb[2]}}, {8{reg_wstrb[1]}}, {8{reg_wstrb[0]}}};

  // Is addr a register of the map (word aligned and listed)?
  function mapped;
    input [7:0] addr;
    begin
      case (addr)
        HEG_LINK_REG_ID[7:0], HEG_LINK_REG_VERSION[7:0], HEG_LINK_REG_LINK_REGWEN[7:0],
        HEG_LINK_REG_RATE[7:0], HEG_LINK_REG_BURST[7:0], HEG_LINK_REG_BEAT_COST[7:0],
        HEG_LINK_REG_BYTES_LO[7:0], HEG_LINK_REG_BYTES_HI[7:0],
        HEG_LINK_REG_ERR_STATUS[7:0]: mapped = 1'b1;
        default: mapped = 1'b0;
      endcase
    end
  endfunction

  // ---------------------------------------------------------------------------
  // Registers.
  reg                regwen_q;
  reg [31:0]         rate_q;
  reg [BURST_W-1:0]  burst_q;
  reg [31:0]         bytes_hi_q;
  reg [15:0]         locked_writes_q;

  wire [BYTES_W-1:0] byte_count;
  wire [15:0]        beat_cost;

  wire policy_write = reg_we & ((reg_waddr == HEG_LINK_REG_RATE[7:0]) |
                                (reg_waddr == HEG_LINK_REG_BURST[7:0]));
  // A write the lock turns away (performed as OKAY, changes nothing, counted).
  wire locked_write = policy_write & ~regwen_q;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      regwen_q <= HEG_LINK_LINK_REGWEN_EN_RESET;
      rate_q <= HEG_LINK_RATE_BYTES_PER_CYCLE_RESET;
      burst_q <= HEG_LINK_BURST_BYTES_RESET;
      bytes_hi_q <= HEG_LINK_BYTES_HI_VALUE_RESET;
      locked_writes_q <= HEG_LINK_ERR_STATUS_LOCKED_WRITES_RESET;
    end else begin
      if (locked_write && locked_writes_q != 16'hFFFF) begin
        locked_writes_q <= locked_writes_q + 16'd1;
      end
      if (reg_we) begin
        case (reg_waddr)
          HEG_LINK_REG_LINK_REGWEN[7:0]:
            if (reg_wstrb[0] & ~reg_wdata[HEG_LINK_LINK_REGWEN_EN_LSB]) regwen_q <= 1'b0;
          HEG_LINK_REG_RATE[7:0]:
            if (regwen_q) rate_q <= (rate_q & ~reg_wmask) | (reg_wdata & reg_wmask);
          HEG_LINK_REG_BURST[7:0]:
            if (regwen_q) begin
              burst_q <= (burst_q & ~reg_wmask[BURST_W-1:0]) | (reg_wdata[BURST_W-1:0] &
                                                                 reg_wmask[BURST_W-1:0]);
            end
          default: ;
        endcase
      end
      if (reg_re && reg_raddr == HEG_LINK_REG_BYTES_LO[7:0]) begin
        bytes_hi_q <= byte_count[63:32];
      end
    end
  end

  // Read data for addr from the registers as they stand before this edge.
  // Read data as an always @* block, not a function called in the port list: a
  // function call there is re-evaluated only when its argument changes (Icarus
  // follows IEEE 1364), not when the registers it reads do, so a read of an
  // unchanged address returned the value from before the last write.
  always @* begin
    case (reg_raddr)
      HEG_LINK_REG_ID[7:0]: reg_rdata = HEG_LINK_ID_MAGIC_RESET;
      HEG_LINK_REG_VERSION[7:0]:
        reg_rdata = {HEG_LINK_VERSION_MAJOR_RESET, HEG_LINK_VERSION_MINOR_RESET};
      HEG_LINK_REG_LINK_REGWEN[7:0]: reg_rdata = {31'h0, regwen_q};
      HEG_LINK_REG_RATE[7:0]: reg_rdata = rate_q;
      HEG_LINK_REG_BURST[7:0]: reg_rdata = {{(32-BURST_W){1'b0}}, burst_q};
      HEG_LINK_REG_BEAT_COST[7:0]: reg_rdata = {16'h0, beat_cost};
      HEG_LINK_REG_BYTES_LO[7:0]: reg_rdata = byte_count[31:0];
      HEG_LINK_REG_BYTES_HI[7:0]: reg_rdata = bytes_hi_q;
      HEG_LINK_REG_ERR_STATUS[7:0]: reg_rdata = {16'h0, locked_writes_q};
      default: reg_rdata = 32'h0;
    endcase
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

  wire [BURST_W+FRAC_W-1:0] tokens;

  heg_stream_limiter #(
    .DATA_W(DATA_W),
    .USER_W(USER_W),
    .FRAC_W(FRAC_W),
    .BURST_W(BURST_W),
    .BYTES_W(BYTES_W)
  ) u_limiter (
    .clk_i(clk_i),
    .rst_ni(rst_ni),
    .rate_i({{(BURST_W+FRAC_W-32){1'b0}}, rate_q}),
    .burst_i(burst_q),
    .s_axis_tdata_i(s_axis_tdata_i),
    .s_axis_tkeep_i(s_axis_tkeep_i),
    .s_axis_tlast_i(s_axis_tlast_i),
    .s_axis_tuser_i(s_axis_tuser_i),
    .s_axis_tvalid_i(s_axis_tvalid_i),
    .s_axis_tready_o(s_axis_tready_o),
    .m_axis_tdata_o(m_axis_tdata_o),
    .m_axis_tkeep_o(m_axis_tkeep_o),
    .m_axis_tlast_o(m_axis_tlast_o),
    .m_axis_tuser_o(m_axis_tuser_o),
    .m_axis_tvalid_o(m_axis_tvalid_o),
    .m_axis_tready_i(m_axis_tready_i),
    .byte_count_o(byte_count),
    .tokens_o(tokens),
    .beat_cost_o(beat_cost)
  );

  // The bucket level is observable in simulation (tokens); it has no register.
  wire unused_tokens = ^tokens;

`ifdef FORMAL
  // Proven by hdl/formal/heg_link.ys: the lock holds the policy still until reset.
  reg f_past_valid = 1'b0;
  always @(posedge clk_i) begin
    f_past_valid <= 1'b1;
    if (f_past_valid && rst_ni && $past(rst_ni) && !$past(regwen_q)) begin
      assert (!regwen_q);
      assert (rate_q == $past(rate_q));
      assert (burst_q == $past(burst_q));
    end
  end
`endif

endmodule

`resetall
