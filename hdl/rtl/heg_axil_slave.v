// openheg AXI4-Lite slave front end shared by the register blocks (heg_meter.v,
// heg_link.v): the five channels, reduced to one write strobe and one read strobe.
//
// Bus behaviour (what a vendor's testbench can rely on):
//   - AW and W are accepted independently (one-deep holding register each; AWREADY and
//     WREADY are high while the holding register is empty). The write is performed at
//     the first edge where both are held and the B channel is free (reg_we_o), and
//     BVALID rises at that same edge: OKAY if reg_wok_i (the address is mapped), SLVERR
//     otherwise.
//   - A read is performed at the edge where ARVALID && ARREADY (reg_re_o); RVALID rises
//     at that edge with the data and response sampled from reg_rdata_i/reg_rok_i, and
//     ARREADY stays low until the R beat is taken (and while read_hold_i is high).
//   - No ordering between reads and writes is promised; a master that needs one waits
//     for BVALID before issuing the read.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_axil_slave #(
  // Byte address width of the register block.
  parameter integer ADDR_W = 12
) (
  input  wire              clk_i,
  input  wire              rst_ni,

  input  wire [ADDR_W-1:0] s_axil_awaddr_i,
  input  wire              s_axil_awvalid_i,
  output wire              s_axil_awready_o,
  input  wire [31:0]       s_axil_wdata_i,
  input  wire [3:0]        s_axil_wstrb_i,
  input  wire              s_axil_wvalid_i,
  output wire              s_axil_wready_o,
  output wire [1:0]        s_axil_bresp_o,
  output wire              s_axil_bvalid_o,
  input  wire              s_axil_bready_i,
  input  wire [ADDR_W-1:0] s_axil_araddr_i,
  input  wire              s_axil_arvalid_i,
  output wire              s_axil_arready_o,
  output wire [31:0]       s_axil_rdata_o,
  output wire [1:0]        s_axil_rresp_o,
  output wire              s_axil_rvalid_o,
  input  wire              s_axil_rready_i,

  // The register block's side: a write is performed at every edge where reg_we_o is high.
  output wire              reg_we_o,
  output wire [ADDR_W-1:0] reg_waddr_o,
  output wire [31:0]       reg_wdata_o,
  output wire [3:0]        reg_wstrb_o,
  input  wire              reg_wok_i,
  // A read is sampled at every edge where reg_re_o is high.
  output wire              reg_re_o,
  output wire [ADDR_W-1:0] reg_raddr_o,
  input  wire [31:0]       reg_rdata_i,
  input  wire              reg_rok_i,
  // Holds reads back for this cycle (ARREADY low).
  input  wire              read_hold_i
);

  localparam [1:0] RESP_OKAY = 2'b00;
  localparam [1:0] RESP_SLVERR = 2'b10;

  reg              aw_full_q;
  reg [ADDR_W-1:0] aw_addr_q;
  reg              w_full_q;
  reg [31:0]       w_data_q;
  reg [3:0]        w_strb_q;
  reg              bvalid_q;
  reg [1:0]        bresp_q;
  reg              rvalid_q;
  reg [31:0]       rdata_q;
  reg [1:0]        rresp_q;

  assign s_axil_awready_o = ~aw_full_q;
  assign s_axil_wready_o = ~w_full_q;
  assign s_axil_bvalid_o = bvalid_q;
  assign s_axil_bresp_o = bresp_q;
  assign s_axil_arready_o = ~rvalid_q & ~read_hold_i;
  assign s_axil_rvalid_o = rvalid_q;
  assign s_axil_rdata_o = rdata_q;
  assign s_axil_rresp_o = rresp_q;

  assign reg_we_o = aw_full_q & w_full_q & (~bvalid_q | s_axil_bready_i);
  assign reg_waddr_o = aw_addr_q;
  assign reg_wdata_o = w_data_q;
  assign reg_wstrb_o = w_strb_q;
  assign reg_re_o = s_axil_arvalid_i & ~rvalid_q & ~read_hold_i;
  assign reg_raddr_o = s_axil_araddr_i;

  always @(posedge clk_i or negedge rst_ni) begin
    if (!rst_ni) begin
      aw_full_q <= 1'b0;
      aw_addr_q <= {ADDR_W{1'b0}};
      w_full_q <= 1'b0;
      w_data_q <= 32'h0;
      w_strb_q <= 4'h0;
      bvalid_q <= 1'b0;
      bresp_q <= RESP_OKAY;
      rvalid_q <= 1'b0;
      rdata_q <= 32'h0;
      rresp_q <= RESP_OKAY;
    end else begin
      if (s_axil_awvalid_i & ~aw_full_q) begin
        aw_full_q <= 1'b1;
        aw_addr_q <= s_axil_awaddr_i;
      end
      if (s_axil_wvalid_i & ~w_full_q) begin
        w_full_q <= 1'b1;
        w_data_q <= s_axil_wdata_i;
        w_strb_q <= s_axil_wstrb_i;
      end
      if (bvalid_q & s_axil_bready_i) begin
        bvalid_q <= 1'b0;
      end
      if (reg_we_o) begin
        aw_full_q <= 1'b0;
        w_full_q <= 1'b0;
        bvalid_q <= 1'b1;
        bresp_q <= reg_wok_i ? RESP_OKAY : RESP_SLVERR;
      end
      if (s_axil_rready_i & rvalid_q) begin
        rvalid_q <= 1'b0;
      end
      if (reg_re_o) begin
        rvalid_q <= 1'b1;
        rresp_q <= reg_rok_i ? RESP_OKAY : RESP_SLVERR;
        rdata_q <= reg_rdata_i;
      end
    end
  end

endmodule

`resetall
