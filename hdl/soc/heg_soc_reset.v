// The SoC's one reset domain: the CPU, the meter, the limiter and every
// peripheral share rst_no. Nothing else resets any of them, so the meter
// cannot be reset alone (docs/hdl/integration.md).
//
// Sources: the board's reset input (asynchronous, active low: asserted at
// once, released synchronously through two flops), the CPU's trap, and a bus
// fault (an access to unmapped space, a write to ROM, an instruction fetch
// outside ROM). Any of them holds rst_no low for HOLD_CYCLES. After
// configuration (FPGA) or power-up the domain starts in reset.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_reset #(
  // Cycles rst_no stays low after the last request.
  parameter integer HOLD_CYCLES = 16
) (
  input  wire clk_i,
  // Board reset, asynchronous, active low.
  input  wire ext_rst_ni,
  // Synchronous requests from inside the domain (high for at least a cycle).
  input  wire trap_i,
  input  wire bus_fault_i,
  // The domain's reset, synchronous, active low.
  output wire rst_no
);

  localparam integer CNT_W = $clog2(HOLD_CYCLES + 1);

  reg [1:0]       ext_sync_q = 2'b00;
  reg [CNT_W-1:0] hold_q = HOLD_CYCLES[CNT_W-1:0];
  reg             rst_q = 1'b0;

  always @(posedge clk_i or negedge ext_rst_ni) begin
    if (!ext_rst_ni) begin
      ext_sync_q <= 2'b00;
    end else begin
      ext_sync_q <= {ext_sync_q[0], 1'b1};
    end
  end

  always @(posedge clk_i) begin
    if (!ext_sync_q[1] || trap_i || bus_fault_i) begin
      hold_q <= HOLD_CYCLES[CNT_W-1:0];
      rst_q <= 1'b0;
    end else if (hold_q != {CNT_W{1'b0}}) begin
      hold_q <= hold_q - 1'b1;
      rst_q <= 1'b0;
    end else begin
      rst_q <= 1'b1;
    end
  end

  assign rst_no = rst_q;

endmodule

`resetall
