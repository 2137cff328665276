"""cocotb tests of the whole SoC (hdl/soc/heg_soc.v) with the real firmware
image in its ROM: the testbench is the board around it, at the pins.

- A serial line at bit level on uart_rx_i/uart_tx_o (honouring RTS) carries
  the host library's frames: openheg.device.Device runs in a thread started
  with ``bridge``, and each exchange is driven on the pins through ``resume``.
- An SPI NOR flash model at the SPI pins (mode 0, W25Q-class commands, erase
  before write: programming only clears bits), erased at the start.
- The meter's AXI4-Lite read channel is watched: the firmware's register
  reads are bus cycles on the real block.
"""

from __future__ import annotations

import os

import cocotb
from cocotb.clock import Clock
from cocotb.task import bridge, resume
from cocotb.triggers import ClockCycles, FallingEdge, First, RisingEdge, Timer

from openheg import wire
from openheg.device import Device
from openheg.framing import DELIMITER, decode_frame, encode_frame
from openheg.transport import Transport

CLOCK_NS = 10
# heg_soc's default REF_HZ, 1 MHz, to its default CLK_HZ, 25 MHz.
REFCLK_NS = CLOCK_NS * 25
DIVISOR = int(os.environ["HEG_SOC_UART_DIVISOR"])
FLASH_BYTES = 4 << 20


class NorFlash:
    """SPI NOR at the pins (mode 0: MOSI sampled on SCK's rising edge, MISO
    changed after its falling edge): READ, PAGE PROGRAM, SECTOR ERASE, READ
    STATUS, WRITE ENABLE. Operations complete at once (never busy)."""

    def __init__(self, dut):
        self.dut = dut
        self.mem = bytearray(b"\xff") * FLASH_BYTES
        self.programs = 0
        self.erases = 0
        self.write_enabled = False
        dut.spi_miso_i.value = 1

    def next_out(self, received: list[int], read_at: list[int]) -> int:
        command = received[0]
        if command == 0x05:
            return 0x02 if self.write_enabled else 0x00
        if command == 0x03 and len(received) >= 4:
            value = self.mem[read_at[0]]
            read_at[0] = (read_at[0] + 1) % FLASH_BYTES
            return value
        return 0xFF

    def finish(self, received: list[int]) -> None:
        if not received:
            return
        command = received[0]
        address = int.from_bytes(bytes(received[1:4]), "big") % FLASH_BYTES
        if command == 0x06:
            self.write_enabled = True
        elif command == 0x02 and self.write_enabled and len(received) > 4:
            page = address & ~0xFF
            for i, data in enumerate(received[4:][-256:]):
                self.mem[page + ((address + i) & 0xFF)] &= data  # NOR: only clears bits
            self.programs += 1
            self.write_enabled = False
        elif command == 0x20 and self.write_enabled and len(received) == 4:
            start = address & ~0xFFF
            self.mem[start:start + 4096] = b"\xff" * 4096
            self.erases += 1
            self.write_enabled = False

    async def serve(self) -> None:
        dut = self.dut
        while True:
            if dut.spi_cs_no.value == 1:
                await FallingEdge(dut.spi_cs_no)
            received: list[int] = []
            read_at = [0]
            shift_in = bit = 0
            shift_out = 0xFF
            while True:
                await First(RisingEdge(dut.spi_sck_o), RisingEdge(dut.spi_cs_no))
                if dut.spi_cs_no.value == 1:
                    break
                shift_in = ((shift_in << 1) | int(dut.spi_mosi_o.value)) & 0xFF
                bit += 1
                if bit == 8:
                    received.append(shift_in)
                    bit = 0
                    if len(received) == 4 and received[0] == 0x03:
                        read_at[0] = int.from_bytes(bytes(received[1:4]), "big") % FLASH_BYTES
                    shift_out = self.next_out(received, read_at)
                await First(FallingEdge(dut.spi_sck_o), RisingEdge(dut.spi_cs_no))
                if dut.spi_cs_no.value == 1:
                    break
                dut.spi_miso_i.value = (shift_out >> (7 - bit)) & 1
            self.finish(received)
            dut.spi_miso_i.value = 1


class SerialLine:
    """8N1 at DIVISOR clocks per bit, host side."""

    def __init__(self, dut):
        self.dut = dut
        self.received = bytearray()
        dut.uart_rx_i.value = 1

    async def listen(self) -> None:
        dut = self.dut
        while True:
            await FallingEdge(dut.uart_tx_o)
            await Timer(CLOCK_NS * DIVISOR * 3 // 2, unit="ns")
            byte = 0
            for bit in range(8):
                byte |= int(dut.uart_tx_o.value) << bit
                await Timer(CLOCK_NS * DIVISOR, unit="ns")
            self.received.append(byte)

    async def send(self, data: bytes) -> None:
        dut = self.dut
        for byte in data:
            while dut.uart_rts_no.value == 1:
                await ClockCycles(dut.clk_i, DIVISOR)
            for bit in [0, *((byte >> i) & 1 for i in range(8)), 1]:
                dut.uart_rx_i.value = bit
                await Timer(CLOCK_NS * DIVISOR, unit="ns")

    async def exchange(self, request: bytes) -> bytes:
        self.received.clear()
        await self.send(encode_frame(request))
        while DELIMITER not in self.received:
            await ClockCycles(self.dut.clk_i, 1000)
        frame = bytes(self.received[:self.received.index(DELIMITER[0])])
        return decode_frame(frame)


class PinLink(Transport):
    """The host library's transport, as a board's serial port: every exchange
    is bits on the SoC's pins (called from the bridged thread)."""

    url = "cocotb://heg_soc"

    def __init__(self, line: SerialLine):
        self._exchange = resume(line.exchange)

    def exchange(self, request: bytes) -> bytes:
        return self._exchange(request)


class MeterReads:
    """Counts the reads on the meter's AXI4-Lite slave port: the core's adapter
    raises ARVALID once per read and drops it after the handshake."""

    def __init__(self, dut):
        self.dut = dut
        self.count = 0

    async def watch(self) -> None:
        while True:
            await RisingEdge(self.dut.u_meter.s_axil_arvalid_i)
            self.count += 1


async def boot(dut, refclk: bool = True) -> tuple[NorFlash, SerialLine, MeterReads]:
    flash, line, reads = NorFlash(dut), SerialLine(dut), MeterReads(dut)
    dut.tamper_i.value = 0
    dut.op_valid_i.value = 0
    dut.op_count_i.value = 0
    dut.s_axis_tvalid_i.value = 0
    dut.s_axis_tdata_i.value = 0
    dut.s_axis_tkeep_i.value = 0
    dut.s_axis_tlast_i.value = 0
    dut.m_axis_tready_i.value = 1
    dut.rst_ni.value = 0
    cocotb.start_soon(Clock(dut.clk_i, CLOCK_NS, unit="ns").start())
    # The reference oscillator inside the package: a clock of its own, slower
    # (heg_soc's REF_HZ against CLK_HZ; the firmware checks one by the other).
    if refclk:
        cocotb.start_soon(Clock(dut.refclk_i, REFCLK_NS, unit="ns").start())
    else:
        dut.refclk_i.value = 0
    cocotb.start_soon(flash.serve())
    cocotb.start_soon(line.listen())
    cocotb.start_soon(reads.watch())
    await ClockCycles(dut.clk_i, 5)
    dut.rst_ni.value = 1
    return flash, line, reads


# Boot and the first answer take about 2.1 M cycles (docs/soc.md): a firmware
# that never answers fails the test at four times that instead of hanging.
@cocotb.test(timeout_time=4 * 2_100_000 * CLOCK_NS, timeout_unit="ns")
async def soc_boots_the_firmware_and_answers_info_over_its_pins(dut):
    """Reset, the firmware boots from ROM (counting the reset in flash), and
    the host library's INFO over the serial pins gets the firmware's answer.
    The host sends at once: the UART's RTS holds it off while the SoC is in
    reset (before, the first bytes went into a receiver held in reset and
    the request was never answered)."""
    from openheg_sim.firmware_build import firmware_measurement

    flash, line, reads = await boot(dut)
    info = await bridge(lambda: Device(PinLink(line)).info())()
    assert info.state == wire.DeviceState.UNPROVISIONED
    assert info.firmware_measurement == firmware_measurement()
    assert info.reset_count == 1
    # Boot read the meter's identity and state through the bus, and put the
    # reset count in flash: erase before write on the NOR model.
    assert reads.count > 0
    assert flash.erases > 0 and flash.programs > 0
    assert dut.accel_enable_o.value == 0  # no license: the gate is closed


@cocotb.test(timeout_time=1_000_000, timeout_unit="ns")
async def a_tamper_pulse_shorter_than_a_clock_closes_the_gate(dut):
    """tamper_i high for 2 ns between two edges: the SoC's latch catches it,
    the synchroniser hands it to the meter, whose tamper cause holds."""
    await boot(dut)
    await ClockCycles(dut.clk_i, 50)
    meter = dut.u_meter
    assert meter.cause_tamper.value == 0
    await FallingEdge(dut.clk_i)
    await Timer(2, unit="ns")
    dut.tamper_i.value = 1
    await Timer(2, unit="ns")
    dut.tamper_i.value = 0
    for _ in range(4):
        await RisingEdge(dut.clk_i)
    await Timer(1, unit="ns")
    assert meter.cause_tamper.value == 1
    await ClockCycles(dut.clk_i, 100)
    assert meter.cause_tamper.value == 1  # latched until reset
    assert dut.accel_enable_o.value == 0


# The SoC's ms: heg_soc's CLK_HZ (25 MHz) cycles of clk_i, REF_HZ (1 MHz) of refclk_i.
SOC_MS_CYCLES = 25_000


@cocotb.test(timeout_time=20_000_000, timeout_unit="ns")
async def the_reference_counter_keeps_time_on_its_own_clock(dut):
    """refclk_i at its own rate (one edge per 25 of clk_i, as REF_HZ to
    CLK_HZ): the REFCLK block's ms, its count crossed into clk_i in gray code,
    keep pace with refclk_i's time; with refclk_i stopped they stand still
    while clk_i runs on. That difference is what the firmware's clock monitor
    latches."""
    await boot(dut, refclk=False)
    refclk = Clock(dut.refclk_i, REFCLK_NS, unit="ns")
    refclk.start()
    await ClockCycles(dut.clk_i, 6 * SOC_MS_CYCLES)
    ms = int(dut.u_refclk.ms_q.value)
    assert 5 <= ms <= 6, ms
    refclk.stop()
    await ClockCycles(dut.clk_i, 3 * SOC_MS_CYCLES)
    assert int(dut.u_refclk.ms_q.value) == ms
    refclk.start()
    await ClockCycles(dut.clk_i, 2 * SOC_MS_CYCLES)
    assert ms + 1 <= int(dut.u_refclk.ms_q.value) <= ms + 3
