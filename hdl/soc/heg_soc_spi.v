// SPI master (mode 0, most significant bit first) for the NOR flash that
// holds the firmware's persistent state. The firmware selects the part
// (SELECT), writes a byte to DATA to shift it out while a byte shifts in,
// polls STATUS.BUSY, and reads the byte in from DATA. SCK runs at
// clk / (2 * HALF_PERIOD). miso_i comes from outside the package and is
// synchronised (two flops); it is sampled at the end of SCK's high phase,
// which leaves HALF_PERIOD cycles for the part's output and the synchroniser
// after the falling edge that launched it (HALF_PERIOD >= 3).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_spi #(
  // Clock cycles per SCK phase (>= 3).
  parameter integer HALF_PERIOD = 4
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        sel_i,
  input  wire [11:0] addr_i,
  input  wire [31:0] wdata_i,
  input  wire [3:0]  wstrb_i,
  output reg         ready_o,
  output reg  [31:0] rdata_o,
  output wire        sck_o,
  output wire        cs_no,
  output wire        mosi_o,
  input  wire        miso_i
);

  `include "heg_soc_map.vh"

  localparam integer TICK_W = $clog2(HALF_PERIOD);

  generate
    if (HALF_PERIOD < 3) begin : gen_bad_half_period
      heg_soc_spi_half_period_must_be_at_least_3 u_error ();
    end
  endgenerate

  wire miso;
  heg_soc_sync #(.WIDTH(1), .RESET_VALUE(1'b1)) u_miso_sync (
    .clk_i (clk_i), .rst_ni (rst_ni), .d_i (miso_i), .q_o (miso)
  );

  reg [TICK_W-1:0] tick_q;
  reg [3:0]        phases_q;   // SCK phases left: 16 per byte
  reg [7:0]        out_q;
  reg [7:0]        in_q;
  reg              sck_q;
  reg              select_q;

  wire access = sel_i && !ready_o;
  wire write = access && (wstrb_i != 4'b0000);
  wire read = access && (wstrb_i == 4'b0000);
  wire busy = (phases_q != 4'd0) || sck_q;

  always @(posedge clk_i) begin
    if (write && addr_i == HEG_SOC_SPI_DATA && !busy) begin
      out_q <= wdata_i[7:0];
      phases_q <= 4'd15;
      tick_q <= HALF_PERIOD[TICK_W-1:0] - 1'b1;
      sck_q <= 1'b0;
    end else if (busy) begin
      if (tick_q != 0) begin
        tick_q <= tick_q - 1'b1;
      end else begin
        tick_q <= HALF_PERIOD[TICK_W-1:0] - 1'b1;
        sck_q <= !sck_q;
        if (sck_q) begin
          // falling edge: the bit just sampled is in, the next goes out
          in_q <= {in_q[6:0], miso};
          out_q <= {out_q[6:0], 1'b0};
        end
        if (phases_q != 4'd0) begin
          phases_q <= phases_q - 1'b1;
        end
      end
    end
    if (write && addr_i == HEG_SOC_SPI_SELECT && !busy) begin
      select_q <= wdata_i[0];
    end
    if (!rst_ni) begin
      phases_q <= 4'd0;
      tick_q <= {TICK_W{1'b0}};
      sck_q <= 1'b0;
      select_q <= 1'b0;
      out_q <= 8'h0;
      in_q <= 8'h0;
    end
  end

  always @(posedge clk_i) begin
    ready_o <= access;
    if (read) begin
      case (addr_i)
        HEG_SOC_SPI_DATA: rdata_o <= {24'h0, in_q};
        HEG_SOC_SPI_STATUS: rdata_o <= {31'h0, busy};
        HEG_SOC_SPI_SELECT: rdata_o <= {31'h0, select_q};
        default: rdata_o <= 32'h0;
      endcase
    end
    if (!rst_ni) begin
      ready_o <= 1'b0;
    end
  end

  assign sck_o = sck_q;
  assign cs_no = !select_q;
  assign mosi_o = out_q[7];

endmodule

`resetall
