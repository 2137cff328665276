// The openheg co-processor as hardware: a PicoRV32 (fetched at a pinned
// version, never copied here) running the firmware (firmware/port/rv32) beside
// the metering block and the interconnect limiter, on one bus.
//
//   CPU native bus -> heg_soc_bus (decoder, faults)
//     ROM (firmware image), RAM, UART, timer, SPI master (NOR flash),
//     TRNG stand-in, OTP, reference clock counter (native-bus slaves of this
//     directory)
//     -> picorv32_axi_adapter -> heg_meter (AXI4-Lite, hdl/rtl)
//     -> picorv32_axi_adapter -> heg_link (AXI4-Lite registers of
//        hdl/rdl/heg_link.rdl around heg_stream_limiter, hdl/rtl)
//
// One reset domain (heg_soc_reset): the board reset, a CPU trap and a bus
// fault all reset the CPU, the meter, the limiter and every peripheral
// together; no port resets the meter alone. Inputs from outside the package:
// rst_ni, tamper_i, uart_rx_i and spi_miso_i are asynchronous and are
// synchronised here; the op lanes and the stream are synchronous interfaces
// of the accelerator, clocked by clk_i (docs/hdl/integration.md). refclk_i is
// a second clock, from an oscillator inside the package; its one crossing is
// the gray-coded counter of heg_soc_refclk.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc #(
  // Clock frequency in Hz (the timer's ms prescaler).
  parameter integer CLK_HZ = 25000000,
  // refclk_i's nominal frequency in Hz (the reference's ms prescaler).
  parameter integer REF_HZ = 1000000,
  // UART clock cycles per bit (CLK_HZ / baud).
  parameter integer UART_DIVISOR = 217,
  // SPI clock cycles per SCK phase.
  parameter integer SPI_HALF_PERIOD = 4,
  // The firmware image ($readmemh, one 32-bit word per line).
  parameter ROM_FILE = "",
  // ROM bytes actually built (at most the map's region).
  parameter integer ROM_BYTES = 65536,
  // Seed of the TRNG stand-in (NOT random).
  parameter [31:0] TRNG_SEED = 32'h2545f491,
  // Meter lanes and op count width (heg_meter's parameters).
  parameter integer LANES = 6,
  parameter integer COUNT_W = 16,
  // Limited stream's data width in bits.
  parameter integer STREAM_W = 64
) (
  input  wire                     clk_i,
  // The reference oscillator inside the package, slower than clk_i
  // (docs/hdl/integration.md): the firmware checks clk_i against it.
  input  wire                     refclk_i,
  // Board reset: asynchronous, active low.
  input  wire                     rst_ni,

  // Host serial line (8N1) and its flow control (active low: room for more).
  input  wire                     uart_rx_i,
  output wire                     uart_tx_o,
  output wire                     uart_rts_no,

  // NOR flash (SPI mode 0).
  output wire                     spi_sck_o,
  output wire                     spi_cs_no,
  output wire                     spi_mosi_o,
  input  wire                     spi_miso_i,

  // The accelerator: op events (synchronous to clk_i) and its enable.
  input  wire [LANES-1:0]         op_valid_i,
  input  wire [LANES*COUNT_W-1:0] op_count_i,
  output wire                     accel_enable_o,
  // Tamper sensor: asynchronous, active high, any pulse width.
  input  wire                     tamper_i,

  // The pod uplink through the limiter (AXI4-Stream, synchronous to clk_i).
  input  wire [STREAM_W-1:0]      s_axis_tdata_i,
  input  wire [STREAM_W/8-1:0]    s_axis_tkeep_i,
  input  wire                     s_axis_tlast_i,
  input  wire                     s_axis_tvalid_i,
  output wire                     s_axis_tready_o,
  output wire [STREAM_W-1:0]      m_axis_tdata_o,
  output wire [STREAM_W/8-1:0]    m_axis_tkeep_o,
  output wire                     m_axis_tlast_o,
  output wire                     m_axis_tvalid_o,
  input  wire                     m_axis_tready_i,

  // The CPU stopped on a trap in this cycle (the domain resets next).
  output wire                     trap_o
);

  `include "heg_soc_map.vh"

  generate
    if (ROM_BYTES > HEG_SOC_ROM_BYTES) begin : gen_rom_too_big
      heg_soc_rom_bytes_exceed_the_map u_error ();
    end
  endgenerate

  // ---------------------------------------------------------------------------
  // The one reset domain.
  wire rst_n;
  wire trap;
  wire bus_fault;

  heg_soc_reset u_reset (
    .clk_i       (clk_i),
    .ext_rst_ni  (rst_ni),
    .trap_i      (trap),
    .bus_fault_i (bus_fault),
    .rst_no      (rst_n)
  );

  assign trap_o = trap;

  // ---------------------------------------------------------------------------
  // CPU.
  wire        mem_valid;
  wire        mem_instr;
  wire        mem_ready;
  wire [31:0] mem_addr;
  wire [31:0] mem_wdata;
  wire [3:0]  mem_wstrb;
  wire [31:0] mem_rdata;

  picorv32 #(
    .ENABLE_COUNTERS      (1),
    .ENABLE_COUNTERS64    (0),
    .ENABLE_REGS_16_31    (1),
    .ENABLE_REGS_DUALPORT (1),
    .BARREL_SHIFTER       (1),
    .COMPRESSED_ISA       (1),
    .CATCH_MISALIGN       (1),
    .CATCH_ILLINSN        (1),
    .ENABLE_PCPI          (0),
    .ENABLE_MUL           (0),
    .ENABLE_FAST_MUL      (1),
    .ENABLE_DIV           (1),
    .ENABLE_IRQ           (0),
    .ENABLE_TRACE         (0),
    .PROGADDR_RESET       (HEG_SOC_ROM_BASE)
  ) u_cpu (
    .clk          (clk_i),
    .resetn       (rst_n),
    .trap         (trap),
    .mem_valid    (mem_valid),
    .mem_instr    (mem_instr),
    .mem_ready    (mem_ready),
    .mem_addr     (mem_addr),
    .mem_wdata    (mem_wdata),
    .mem_wstrb    (mem_wstrb),
    .mem_rdata    (mem_rdata),
    .mem_la_read  (),
    .mem_la_write (),
    .mem_la_addr  (),
    .mem_la_wdata (),
    .mem_la_wstrb (),
    .pcpi_valid   (),
    .pcpi_insn    (),
    .pcpi_rs1     (),
    .pcpi_rs2     (),
    .pcpi_wr      (1'b0),
    .pcpi_rd      (32'h0),
    .pcpi_wait    (1'b0),
    .pcpi_ready   (1'b0),
    .irq          (32'h0),
    .eoi          (),
    .trace_valid  (),
    .trace_data   ()
  );

  // ---------------------------------------------------------------------------
  // Decoder.
  wire sel_rom, sel_ram, sel_uart, sel_timer, sel_spi, sel_trng, sel_otp, sel_refclk;
  wire sel_meter, sel_limiter;
  wire axil_error;

  heg_soc_bus #(.ROM_BYTES(ROM_BYTES)) u_bus (
    .mem_valid_i   (mem_valid),
    .mem_instr_i   (mem_instr),
    .mem_addr_i    (mem_addr),
    .mem_wstrb_i   (mem_wstrb),
    .axil_error_i  (axil_error),
    .sel_rom_o     (sel_rom),
    .sel_ram_o     (sel_ram),
    .sel_uart_o    (sel_uart),
    .sel_timer_o   (sel_timer),
    .sel_spi_o     (sel_spi),
    .sel_trng_o    (sel_trng),
    .sel_otp_o     (sel_otp),
    .sel_refclk_o  (sel_refclk),
    .sel_meter_o   (sel_meter),
    .sel_limiter_o (sel_limiter),
    .fault_o       (bus_fault)
  );

  // ---------------------------------------------------------------------------
  // Native-bus slaves.
  wire        rom_ready, ram_ready, uart_ready, timer_ready, spi_ready, trng_ready, otp_ready;
  wire [31:0] rom_rdata, ram_rdata, uart_rdata, timer_rdata, spi_rdata, trng_rdata, otp_rdata;
  wire        refclk_ready;
  wire [31:0] refclk_rdata;

  heg_soc_mem #(.BYTES(ROM_BYTES), .INIT_FILE(ROM_FILE)) u_rom (
    .clk_i (clk_i), .rst_ni (rst_n), .sel_i (sel_rom), .addr_i (mem_addr),
    .wdata_i (32'h0), .wstrb_i (4'b0000), .ready_o (rom_ready), .rdata_o (rom_rdata)
  );

  heg_soc_mem #(.BYTES(HEG_SOC_RAM_BYTES)) u_ram (
    .clk_i (clk_i), .rst_ni (rst_n), .sel_i (sel_ram), .addr_i (mem_addr),
    .wdata_i (mem_wdata), .wstrb_i (mem_wstrb), .ready_o (ram_ready), .rdata_o (ram_rdata)
  );

  heg_soc_uart #(.DIVISOR(UART_DIVISOR)) u_uart (
    .clk_i (clk_i), .rst_ni (rst_n), .sel_i (sel_uart), .addr_i (mem_addr[11:0]),
    .wdata_i (mem_wdata), .wstrb_i (mem_wstrb), .ready_o (uart_ready), .rdata_o (uart_rdata),
    .rx_i (uart_rx_i), .tx_o (uart_tx_o), .rts_no (uart_rts_no)
  );

  heg_soc_timer #(.CLK_HZ(CLK_HZ)) u_timer (
    .clk_i (clk_i), .rst_ni (rst_n), .sel_i (sel_timer), .addr_i (mem_addr[11:0]),
    .wstrb_i (mem_wstrb), .ready_o (timer_ready), .rdata_o (timer_rdata)
  );

  heg_soc_refclk #(.REF_HZ(REF_HZ)) u_refclk (
    .clk_i (clk_i), .rst_ni (rst_n), .refclk_i (refclk_i), .sel_i (sel_refclk),
    .addr_i (mem_addr[11:0]), .wstrb_i (mem_wstrb), .ready_o (refclk_ready),
    .rdata_o (refclk_rdata)
  );

  heg_soc_spi #(.HALF_PERIOD(SPI_HALF_PERIOD)) u_spi (
    .clk_i (clk_i), .rst_ni (rst_n), .sel_i (sel_spi), .addr_i (mem_addr[11:0]),
    .wdata_i (mem_wdata), .wstrb_i (mem_wstrb), .ready_o (spi_ready), .rdata_o (spi_rdata),
    .sck_o (spi_sck_o), .cs_no (spi_cs_no), .mosi_o (spi_mosi_o), .miso_i (spi_miso_i)
  );

  heg_soc_trng_standin #(.SEED(TRNG_SEED)) u_trng (
    .clk_i (clk_i), .rst_ni (rst_n), .sel_i (sel_trng), .addr_i (mem_addr[11:0]),
    .wstrb_i (mem_wstrb), .ready_o (trng_ready), .rdata_o (trng_rdata)
  );

  heg_soc_otp u_otp (
    .clk_i (clk_i), .rst_ni (rst_n), .sel_i (sel_otp), .addr_i (mem_addr[11:0]),
    .wdata_i (mem_wdata), .wstrb_i (mem_wstrb), .ready_o (otp_ready), .rdata_o (otp_rdata)
  );

  // ---------------------------------------------------------------------------
  // AXI4-Lite slaves, each behind the core's own native-to-AXI4-Lite adapter.
  wire        meter_ready, limiter_ready;
  wire [31:0] meter_rdata, limiter_rdata;

  wire        m_awvalid, m_awready, m_wvalid, m_wready, m_bvalid, m_bready;
  wire        m_arvalid, m_arready, m_rvalid, m_rready;
  wire [31:0] m_awaddr, m_wdata, m_araddr, m_rdata;
  wire [3:0]  m_wstrb;
  wire [1:0]  m_bresp, m_rresp;

  picorv32_axi_adapter u_meter_axi (
    .clk (clk_i), .resetn (rst_n),
    .mem_axi_awvalid (m_awvalid), .mem_axi_awready (m_awready), .mem_axi_awaddr (m_awaddr),
    .mem_axi_awprot (),
    .mem_axi_wvalid (m_wvalid), .mem_axi_wready (m_wready), .mem_axi_wdata (m_wdata),
    .mem_axi_wstrb (m_wstrb),
    .mem_axi_bvalid (m_bvalid), .mem_axi_bready (m_bready),
    .mem_axi_arvalid (m_arvalid), .mem_axi_arready (m_arready), .mem_axi_araddr (m_araddr),
    .mem_axi_arprot (),
    .mem_axi_rvalid (m_rvalid), .mem_axi_rready (m_rready), .mem_axi_rdata (m_rdata),
    .mem_valid (sel_meter), .mem_instr (mem_instr), .mem_ready (meter_ready),
    .mem_addr (mem_addr), .mem_wdata (mem_wdata), .mem_wstrb (mem_wstrb),
    .mem_rdata (meter_rdata)
  );

  wire meter_irq;

  heg_meter #(.LANES(LANES), .COUNT_W(COUNT_W)) u_meter (
    .clk_i            (clk_i),
    .rst_ni           (rst_n),
    .s_axil_awaddr_i  (m_awaddr[11:0]),
    .s_axil_awvalid_i (m_awvalid),
    .s_axil_awready_o (m_awready),
    .s_axil_wdata_i   (m_wdata),
    .s_axil_wstrb_i   (m_wstrb),
    .s_axil_wvalid_i  (m_wvalid),
    .s_axil_wready_o  (m_wready),
    .s_axil_bresp_o   (m_bresp),
    .s_axil_bvalid_o  (m_bvalid),
    .s_axil_bready_i  (m_bready),
    .s_axil_araddr_i  (m_araddr[11:0]),
    .s_axil_arvalid_i (m_arvalid),
    .s_axil_arready_o (m_arready),
    .s_axil_rdata_o   (m_rdata),
    .s_axil_rresp_o   (m_rresp),
    .s_axil_rvalid_o  (m_rvalid),
    .s_axil_rready_i  (m_rready),
    .op_valid_i       (op_valid_i),
    .op_count_i       (op_count_i),
    .tamper_i         (tamper_sync),
    .accel_enable_o   (accel_enable_o),
    .irq_o            (meter_irq)
  );

  wire tamper_sync;
  heg_soc_tamper u_tamper (
    .clk_i (clk_i), .rst_ni (rst_n), .tamper_i (tamper_i), .tamper_o (tamper_sync)
  );

  wire        l_awvalid, l_awready, l_wvalid, l_wready, l_bvalid, l_bready;
  wire        l_arvalid, l_arready, l_rvalid, l_rready;
  wire [31:0] l_awaddr, l_wdata, l_araddr, l_rdata;
  wire [3:0]  l_wstrb;
  wire [1:0]  l_bresp, l_rresp;

  picorv32_axi_adapter u_limiter_axi (
    .clk (clk_i), .resetn (rst_n),
    .mem_axi_awvalid (l_awvalid), .mem_axi_awready (l_awready), .mem_axi_awaddr (l_awaddr),
    .mem_axi_awprot (),
    .mem_axi_wvalid (l_wvalid), .mem_axi_wready (l_wready), .mem_axi_wdata (l_wdata),
    .mem_axi_wstrb (l_wstrb),
    .mem_axi_bvalid (l_bvalid), .mem_axi_bready (l_bready),
    .mem_axi_arvalid (l_arvalid), .mem_axi_arready (l_arready), .mem_axi_araddr (l_araddr),
    .mem_axi_arprot (),
    .mem_axi_rvalid (l_rvalid), .mem_axi_rready (l_rready), .mem_axi_rdata (l_rdata),
    .mem_valid (sel_limiter), .mem_instr (mem_instr), .mem_ready (limiter_ready),
    .mem_addr (mem_addr), .mem_wdata (mem_wdata), .mem_wstrb (mem_wstrb),
    .mem_rdata (limiter_rdata)
  );

  // The interconnect limiter with its own register block (heg_link, registers
  // from hdl/rdl/heg_link.rdl: RATE, BURST, LINK_REGWEN, the wire-byte counter)
  // on the limiter's region. The block decodes the low 8 address bits, so its
  // registers repeat every 256 bytes of the region.
  heg_link #(
    .DATA_W (STREAM_W), .USER_W (1)
  ) u_link (
    .clk_i            (clk_i),
    .rst_ni           (rst_n),
    .s_axil_awaddr_i  (l_awaddr[7:0]),
    .s_axil_awvalid_i (l_awvalid),
    .s_axil_awready_o (l_awready),
    .s_axil_wdata_i   (l_wdata),
    .s_axil_wstrb_i   (l_wstrb),
    .s_axil_wvalid_i  (l_wvalid),
    .s_axil_wready_o  (l_wready),
    .s_axil_bresp_o   (l_bresp),
    .s_axil_bvalid_o  (l_bvalid),
    .s_axil_bready_i  (l_bready),
    .s_axil_araddr_i  (l_araddr[7:0]),
    .s_axil_arvalid_i (l_arvalid),
    .s_axil_arready_o (l_arready),
    .s_axil_rdata_o   (l_rdata),
    .s_axil_rresp_o   (l_rresp),
    .s_axil_rvalid_o  (l_rvalid),
    .s_axil_rready_i  (l_rready),
    .s_axis_tdata_i   (s_axis_tdata_i),
    .s_axis_tkeep_i   (s_axis_tkeep_i),
    .s_axis_tlast_i   (s_axis_tlast_i),
    .s_axis_tuser_i   (1'b0),
    .s_axis_tvalid_i  (s_axis_tvalid_i),
    .s_axis_tready_o  (s_axis_tready_o),
    .m_axis_tdata_o   (m_axis_tdata_o),
    .m_axis_tkeep_o   (m_axis_tkeep_o),
    .m_axis_tlast_o   (m_axis_tlast_o),
    .m_axis_tuser_o   (),
    .m_axis_tvalid_o  (m_axis_tvalid_o),
    .m_axis_tready_i  (m_axis_tready_i)
  );

  // An error response on a completed AXI4-Lite transfer is a bus fault.
  assign axil_error = (m_bvalid && m_bready && m_bresp[1]) || (m_rvalid && m_rready && m_rresp[1]) ||
                      (l_bvalid && l_bready && l_bresp[1]) || (l_rvalid && l_rready && l_rresp[1]);

  // ---------------------------------------------------------------------------
  // Response: exactly one slave answers a selected access.
  assign mem_ready = rom_ready | ram_ready | uart_ready | timer_ready | spi_ready | trng_ready |
                     otp_ready | refclk_ready | meter_ready | limiter_ready;
  assign mem_rdata = ({32{rom_ready}} & rom_rdata) | ({32{ram_ready}} & ram_rdata) |
                     ({32{uart_ready}} & uart_rdata) | ({32{timer_ready}} & timer_rdata) |
                     ({32{spi_ready}} & spi_rdata) | ({32{trng_ready}} & trng_rdata) |
                     ({32{otp_ready}} & otp_rdata) | ({32{refclk_ready}} & refclk_rdata) |
                     ({32{meter_ready}} & meter_rdata) |
                     ({32{limiter_ready}} & limiter_rdata);

endmodule

`resetall
