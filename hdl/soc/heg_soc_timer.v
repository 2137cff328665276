// Uptime for the firmware: milliseconds and clock cycles since the domain's
// reset, 64 bits each (they never wrap in the life of a part). The firmware's
// trusted time is a signed beacon plus this uptime; it is reset with the CPU
// and the meter, never alone. Reading a low word latches its high word, so
// the pair is one coherent value.

`resetall
`timescale 1ns / 1ps
`default_nettype none

module heg_soc_timer #(
  // The clock's frequency in Hz (the ms prescaler's period is CLK_HZ / 1000).
  parameter integer CLK_HZ = 25000000
) (
  input  wire        clk_i,
  input  wire        rst_ni,
  input  wire        sel_i,
  input  wire [11:0] addr_i,
  input  wire [3:0]  wstrb_i,
  output reg         ready_o,
  output reg  [31:0] rdata_o
);

  `include "heg_soc_map.vh"

  localparam integer PER_MS = CLK_HZ / 1000;
  localparam integer PRE_W = $clog2(PER_MS);

  generate
    if (PER_MS < 1) begin : gen_bad_clock
      heg_soc_timer_needs_clk_hz_of_at_least_1000 u_error ();
    end
  endgenerate

  reg [PRE_W-1:0] prescale_q;
  reg [63:0]      uptime_q;
  reg [63:0]      cycles_q;
  reg [31:0]      high_q;

  wire read = sel_i && !ready_o && (wstrb_i == 4'b0000);

  always @(posedge clk_i) begin
    cycles_q <= cycles_q + 1'b1;
    if (prescale_q == PER_MS[PRE_W-1:0] - 1'b1) begin
      prescale_q <= {PRE_W{1'b0}};
      uptime_q <= uptime_q + 1'b1;
    end else begin
      prescale_q <= prescale_q + 1'b1;
    end
    ready_o <= sel_i && !ready_o;
    if (read) begin
      case (addr_i)
        HEG_SOC_TIMER_UPTIME_LO: begin
          rdata_o <= uptime_q[31:0];
          high_q <= uptime_q[63:32];
        end
        HEG_SOC_TIMER_CYCLES_LO: begin
          rdata_o <= cycles_q[31:0];
          high_q <= cycles_q[63:32];
        end
        HEG_SOC_TIMER_UPTIME_HI, HEG_SOC_TIMER_CYCLES_HI: rdata_o <= high_q;
        HEG_SOC_TIMER_CLK_HZ: rdata_o <= CLK_HZ;
        default: rdata_o <= 32'h0;
      endcase
    end
    if (!rst_ni) begin
      prescale_q <= {PRE_W{1'b0}};
      uptime_q <= 64'h0;
      cycles_q <= 64'h0;
      high_q <= 32'h0;
      ready_o <= 1'b0;
    end
  end

endmodule

`resetall
