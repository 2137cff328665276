// The openheg SoC on a Radiona ULX3S (Lattice ECP5 LFE5U-85F, speed grade 6,
// CABGA381; pins in ulx3s.lpf). What the board provides and what stands in:
//   - clock: the 25 MHz oscillator drives the whole domain (CLK_HZ);
//   - reset: button 0 (PWR, active low), asynchronous, synchronised in the SoC;
//   - host link: the on-board FT231X USB serial bridge at 115200 baud, 8N1;
//   - persistent state: the configuration SPI flash (its clock pin is reached
//     through the USRMCLK primitive), from offset 3 MiB, above the bitstream;
//   - tamper: button 1, asynchronous, any pulse width (heg_soc_tamper);
//   - ACCELERATOR STAND-IN: the board has no accelerator, so while button 2 is
//     held a generator issues pseudo-random op counts on all six lanes (the
//     meter gates it through accel_enable_o like a real one), and while
//     button 3 is held it offers pseudo-random beats to the stream limiter;
//   - LEDs: 0 the accelerator enable (the gate is open), 1 the CPU trapped,
//     2 the UART holds off the host (RTS), 7 the parity of the limited stream.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_ulx3s #(
  // The firmware image for the ROM.
  parameter ROM_FILE = "openheg_rv32.hex",
  parameter integer ROM_BYTES = 65536
) (
  input  wire       clk_25mhz,
  input  wire [3:0] btn,
  output wire [7:0] led,
  input  wire       ftdi_txd,
  output wire       ftdi_rxd,
  output wire       flash_csn,
  output wire       flash_mosi,
  input  wire       flash_miso,
  output wire       flash_holdn,
  output wire       flash_wpn,
  output wire       wifi_gpio0
);

  localparam integer CLK_HZ = 25000000;
  // The reference for the firmware's clock monitor: the ECP5's internal
  // oscillator (OSCG, nominally 310 MHz, divided by 124), inside the FPGA
  // package, not the board's 25 MHz crystal (docs/hdl/integration.md).
  localparam integer OSCG_DIV = 124;
  localparam integer REF_HZ = 310000000 / OSCG_DIV;
  localparam integer BAUD = 115200;
  localparam integer LANES = 6;
  localparam integer COUNT_W = 16;
  localparam integer STREAM_W = 64;

  wire spi_sck;
  wire enable;
  wire trap;
  wire rts_n;

  // Held for the stand-in generators only (the SoC synchronises its own inputs).
  wire [1:0] stand_in_buttons;
  heg_soc_sync #(.WIDTH(2)) u_buttons (
    .clk_i (clk_25mhz), .rst_ni (1'b1), .d_i (btn[3:2]), .q_o (stand_in_buttons)
  );

  // ACCELERATOR STAND-IN: a 32-bit LFSR feeds the op counts and the stream.
  reg [31:0] lfsr_q = 32'h1;
  always @(posedge clk_25mhz) begin
    lfsr_q <= {lfsr_q[30:0], lfsr_q[31] ^ lfsr_q[21] ^ lfsr_q[1] ^ lfsr_q[0]};
  end

  wire [LANES-1:0] op_valid = {LANES{stand_in_buttons[0] & enable}} & lfsr_q[LANES-1:0];
  wire [LANES*COUNT_W-1:0] op_count = {3{lfsr_q}};

  wire [STREAM_W-1:0] m_tdata;
  wire                m_tvalid;
  wire                s_tready;
  wire [STREAM_W/8-1:0] m_tkeep;
  wire                m_tlast;

  wire refclk;
  OSCG #(.DIV(OSCG_DIV)) u_refclk_osc (.OSC(refclk));

  heg_soc #(
    .CLK_HZ (CLK_HZ), .REF_HZ (REF_HZ), .UART_DIVISOR (CLK_HZ / BAUD), .SPI_HALF_PERIOD (4),
    .ROM_FILE (ROM_FILE), .ROM_BYTES (ROM_BYTES), .LANES (LANES), .COUNT_W (COUNT_W),
    .STREAM_W (STREAM_W)
  ) u_soc (
    .clk_i           (clk_25mhz),
    .refclk_i        (refclk),
    .rst_ni          (btn[0]),
    .uart_rx_i       (ftdi_txd),
    .uart_tx_o       (ftdi_rxd),
    .uart_rts_no     (rts_n),
    .spi_sck_o       (spi_sck),
    .spi_cs_no       (flash_csn),
    .spi_mosi_o      (flash_mosi),
    .spi_miso_i      (flash_miso),
    .op_valid_i      (op_valid),
    .op_count_i      (op_count),
    .accel_enable_o  (enable),
    .tamper_i        (btn[1]),
    .s_axis_tdata_i  ({lfsr_q, ~lfsr_q}),
    .s_axis_tkeep_i  ({STREAM_W/8{1'b1}}),
    .s_axis_tlast_i  (lfsr_q[7]),
    .s_axis_tvalid_i (stand_in_buttons[1]),
    .s_axis_tready_o (s_tready),
    .m_axis_tdata_o  (m_tdata),
    .m_axis_tkeep_o  (m_tkeep),
    .m_axis_tlast_o  (m_tlast),
    .m_axis_tvalid_o (m_tvalid),
    .m_axis_tready_i (1'b1),
    .trap_o          (trap)
  );

  // The configuration flash's clock pin is only reachable through USRMCLK.
  USRMCLK u_flash_clock (.USRMCLKI (spi_sck), .USRMCLKTS (1'b0));

  assign flash_holdn = 1'b1;
  assign flash_wpn = 1'b1;
  assign wifi_gpio0 = 1'b1;  // keeps the ESP32 from taking the board over
  assign led = {^{m_tdata, m_tkeep, m_tlast, m_tvalid, s_tready}, 4'b0000, ~rts_n, trap, enable};

endmodule

`resetall
