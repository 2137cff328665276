// The host protocol's serial line: 8N1, DIVISOR clock cycles per bit (fixed
// by the board: CLK_HZ / baud), a receive FIFO of RX_DEPTH bytes, polled.
// Registers (heg_soc_map.vh): DATA (write: send a byte, ignored while
// TX_BUSY; read: pop the oldest received byte, bit 8 set when there was
// one), STATUS (RX_VALID, TX_BUSY, RX_OVERRUN: a byte arrived to a full FIFO
// and was lost, sticky until reset), DIVISOR (read-only).
// rx_i comes from outside the package: it is synchronised (two flops) and
// the start bit is checked again at mid-bit, so a glitch is not a byte.
// rts_no (active low, "ready for more") is low while the FIFO has room for
// RX_SLACK more bytes and the domain is out of reset: a host with hardware
// flow control (the simulation harness does this) never overruns it, and
// never sends into a receiver held in reset (its bytes would be lost).

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_uart #(
  // Clock cycles per bit (>= 4).
  parameter integer DIVISOR = 217,
  // Receive FIFO depth in bytes (a power of two).
  parameter integer RX_DEPTH = 16,
  // rts_no rises when fewer than this many bytes of room are left.
  parameter integer RX_SLACK = 4
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        sel_i,
  input  wire [11:0] addr_i,
  input  wire [31:0] wdata_i,
  input  wire [3:0]  wstrb_i,
  output reg         ready_o,
  output reg  [31:0] rdata_o,
  input  wire        rx_i,
  output wire        tx_o,
  output wire        rts_no
);

  `include "heg_soc_map.vh"

  localparam integer DIV_W = $clog2(DIVISOR + 1);
  localparam integer PTR_W = $clog2(RX_DEPTH);

  wire access = sel_i && !ready_o;
  wire write = access && (wstrb_i != 4'b0000);
  wire read = access && (wstrb_i == 4'b0000);

  // ---- receive -------------------------------------------------------------
  wire rx;
  heg_soc_sync #(.WIDTH(1), .RESET_VALUE(1'b1)) u_rx_sync (
    .clk_i (clk_i), .rst_ni (rst_ni), .d_i (rx_i), .q_o (rx)
  );

  reg [DIV_W-1:0] rx_tick_q;
  reg [3:0]       rx_bit_q;    // 0: idle; 1: start; 2..9: data; 10: stop
  reg [7:0]       rx_shift_q;
  reg [7:0]       fifo_q [0:RX_DEPTH-1];
  reg [PTR_W:0]   wr_q;
  reg [PTR_W:0]   rd_q;
  reg             overrun_q;

  wire [PTR_W:0] used = wr_q - rd_q;
  wire           fifo_empty = (used == 0);
  wire           fifo_full = (used == RX_DEPTH[PTR_W:0]);
  wire           pop = read && (addr_i == HEG_SOC_UART_DATA) && !fifo_empty;
  wire           rx_done = (rx_bit_q == 4'd10) && (rx_tick_q == 0);
  wire           push = rx_done && rx && !fifo_full;

  always @(posedge clk_i) begin
    if (rx_bit_q == 4'd0) begin
      if (!rx) begin
        rx_bit_q <= 4'd1;
        rx_tick_q <= DIVISOR[DIV_W-1:0] / 2 - 1'b1;
      end
    end else if (rx_tick_q != 0) begin
      rx_tick_q <= rx_tick_q - 1'b1;
    end else begin
      rx_tick_q <= DIVISOR[DIV_W-1:0] - 1'b1;
      if (rx_bit_q == 4'd1 && rx) begin
        rx_bit_q <= 4'd0;  // the start bit did not last: a glitch
      end else if (rx_bit_q == 4'd10) begin
        rx_bit_q <= 4'd0;
      end else begin
        if (rx_bit_q != 4'd1) begin
          rx_shift_q <= {rx, rx_shift_q[7:1]};
        end
        rx_bit_q <= rx_bit_q + 1'b1;
      end
    end
    if (push) begin
      fifo_q[wr_q[PTR_W-1:0]] <= rx_shift_q;
      wr_q <= wr_q + 1'b1;
    end
    if (rx_done && rx && fifo_full) begin
      overrun_q <= 1'b1;
    end
    if (pop) begin
      rd_q <= rd_q + 1'b1;
    end
    if (!rst_ni) begin
      rx_bit_q <= 4'd0;
      rx_tick_q <= {DIV_W{1'b0}};
      wr_q <= {(PTR_W+1){1'b0}};
      rd_q <= {(PTR_W+1){1'b0}};
      overrun_q <= 1'b0;
    end
  end

  assign rts_no = !rst_ni || ((RX_DEPTH[PTR_W:0] - used) < RX_SLACK[PTR_W:0]);

  // ---- transmit ------------------------------------------------------------
  reg [DIV_W-1:0] tx_tick_q;
  reg [3:0]       tx_bits_q;   // bits still to send (start, 8 data, stop)
  reg [9:0]       tx_shift_q;

  wire tx_busy = (tx_bits_q != 4'd0);

  always @(posedge clk_i) begin
    if (write && addr_i == HEG_SOC_UART_DATA && !tx_busy) begin
      tx_shift_q <= {1'b1, wdata_i[7:0], 1'b0};
      tx_bits_q <= 4'd10;
      tx_tick_q <= DIVISOR[DIV_W-1:0] - 1'b1;
    end else if (tx_busy) begin
      if (tx_tick_q != 0) begin
        tx_tick_q <= tx_tick_q - 1'b1;
      end else begin
        tx_tick_q <= DIVISOR[DIV_W-1:0] - 1'b1;
        tx_shift_q <= {1'b1, tx_shift_q[9:1]};
        tx_bits_q <= tx_bits_q - 1'b1;
      end
    end
    if (!rst_ni) begin
      tx_shift_q <= 10'h3ff;
      tx_bits_q <= 4'd0;
      tx_tick_q <= {DIV_W{1'b0}};
    end
  end

  assign tx_o = tx_shift_q[0];

  // ---- registers -----------------------------------------------------------
  always @(posedge clk_i) begin
    ready_o <= access;
    if (read) begin
      case (addr_i)
        HEG_SOC_UART_DATA:
          rdata_o <= fifo_empty ? 32'h0 : (HEG_SOC_UART_DATA_VALID | {24'h0, fifo_q[rd_q[PTR_W-1:0]]});
        HEG_SOC_UART_STATUS:
          rdata_o <= {29'h0, overrun_q, tx_busy, !fifo_empty};
        HEG_SOC_UART_DIVISOR:
          rdata_o <= DIVISOR;
        default:
          rdata_o <= 32'h0;
      endcase
    end
    if (!rst_ni) begin
      ready_o <= 1'b0;
    end
  end

endmodule

`resetall
