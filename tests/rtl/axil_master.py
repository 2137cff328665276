"""A small AXI4-Lite master for cocotb 2.x testbenches.

Why not cocotbext-axi's AxiLiteMaster: it binds ports named ``<prefix>_<signal>``
(``s_axil_awvalid``), while openheg's RTL follows the ``_i``/``_o`` port convention
(``s_axil_awvalid_i``), which its bus objects cannot map.

Timing discipline (race-free on Icarus and Verilator): signals are driven right after a
rising edge; a handshake is decided in the ReadOnly phase before the next rising edge
(valid and ready both high there means the beat transfers at that edge).

AW, W and B run as independent tasks, each with its own optional random delay, so the
slave sees AW before W, W before AW, both together, and late BREADY/RREADY.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import cocotb
from cocotb.handle import SimHandleBase
from cocotb.triggers import Lock, ReadOnly, RisingEdge

RESP_OKAY = 0
RESP_SLVERR = 2


@dataclass(frozen=True)
class AxiLiteResponse:
    """The outcome of one bus transaction (``data`` is 0 for writes)."""

    addr: int
    resp: int
    data: int = 0

    @property
    def ok(self) -> bool:
        return self.resp == RESP_OKAY


class AxiLiteMaster:
    """Drives one AXI4-Lite slave port; one read and one write may be in flight at once."""

    def __init__(self, dut: SimHandleBase, clock: SimHandleBase, prefix: str = "s_axil",
                 rng: random.Random | None = None, max_delay: int = 0) -> None:
        self.clock = clock
        self.rng = rng or random.Random(0)
        self.max_delay = max_delay
        sig = lambda name: getattr(dut, f"{prefix}_{name}")  # noqa: E731
        self.awaddr, self.awvalid, self.awready = sig("awaddr_i"), sig("awvalid_i"), sig("awready_o")
        self.wdata, self.wstrb = sig("wdata_i"), sig("wstrb_i")
        self.wvalid, self.wready = sig("wvalid_i"), sig("wready_o")
        self.bresp, self.bvalid, self.bready = sig("bresp_o"), sig("bvalid_o"), sig("bready_i")
        self.araddr, self.arvalid, self.arready = sig("araddr_i"), sig("arvalid_i"), sig("arready_o")
        self.rdata, self.rresp = sig("rdata_o"), sig("rresp_o")
        self.rvalid, self.rready = sig("rvalid_o"), sig("rready_i")
        self._write_lock = Lock()
        self._read_lock = Lock()
        self.idle_bus()

    def idle_bus(self) -> None:
        """Drive every master output to its idle value (call before reset)."""
        for handle in (self.awaddr, self.awvalid, self.wdata, self.wstrb, self.wvalid,
                       self.bready, self.araddr, self.arvalid, self.rready):
            handle.value = 0

    def _delay(self) -> int:
        if self.max_delay <= 0:
            return 0
        # Mostly back-to-back, sometimes stalled: both paths matter.
        return 0 if self.rng.random() < 0.5 else self.rng.randint(1, self.max_delay)

    async def _cycles(self, n: int) -> None:
        for _ in range(n):
            await RisingEdge(self.clock)

    async def _beat(self, valid: SimHandleBase, ready: SimHandleBase, delay: int,
                    drive: dict[SimHandleBase, int]) -> None:
        """Present one beat on a master->slave channel and wait for its handshake."""
        await self._cycles(delay)
        for handle, value in drive.items():
            handle.value = value
        valid.value = 1
        while True:
            await ReadOnly()
            done = int(ready.value) == 1
            await RisingEdge(self.clock)
            if done:
                break
        valid.value = 0

    async def _accept(self, valid: SimHandleBase, ready: SimHandleBase, delay: int,
                      capture: tuple[SimHandleBase, ...]) -> tuple[int, ...]:
        """Accept one beat on a slave->master channel after ``delay`` cycles of not-ready."""
        await self._cycles(delay)
        ready.value = 1
        while True:
            await ReadOnly()
            if int(valid.value) == 1:
                values = tuple(int(h.value) for h in capture)
                await RisingEdge(self.clock)
                break
            await RisingEdge(self.clock)
        ready.value = 0
        return values

    async def write(self, addr: int, data: int, strb: int = 0xF) -> AxiLiteResponse:
        async with self._write_lock:
            await RisingEdge(self.clock)
            aw = cocotb.start_soon(self._beat(self.awvalid, self.awready, self._delay(),
                                              {self.awaddr: addr}))
            w = cocotb.start_soon(self._beat(self.wvalid, self.wready, self._delay(),
                                             {self.wdata: data & 0xFFFF_FFFF, self.wstrb: strb}))
            b = cocotb.start_soon(self._accept(self.bvalid, self.bready, self._delay(),
                                               (self.bresp,)))
            await aw
            await w
            (resp,) = await b
        return AxiLiteResponse(addr, resp)

    async def read(self, addr: int) -> AxiLiteResponse:
        async with self._read_lock:
            await RisingEdge(self.clock)
            ar = cocotb.start_soon(self._beat(self.arvalid, self.arready, self._delay(),
                                              {self.araddr: addr}))
            r = cocotb.start_soon(self._accept(self.rvalid, self.rready, self._delay(),
                                               (self.rdata, self.rresp)))
            await ar
            data, resp = await r
        return AxiLiteResponse(addr, resp, data)


class CocotbextAxiLite:
    """cocotbext-axi 0.1.28's AxiLiteMaster bound to ``_i``/``_o`` ports, with the same
    ``read``/``write`` interface as :class:`AxiLiteMaster` (a second, independent master).

    cocotbext-axi works under cocotb 2.1, but its bus objects look for ``<prefix>_awaddr``;
    cocotb_bus accepts an attribute -> port-name map, which is what this builds.
    """

    _CHANNELS = {
        "aw": (["awaddr", "awvalid"], ["awready"]),
        "w": (["wdata", "wstrb", "wvalid"], ["wready"]),
        "b": (["bready"], ["bresp", "bvalid"]),
        "ar": (["araddr", "arvalid"], ["arready"]),
        "r": (["rready"], ["rdata", "rresp", "rvalid"]),
    }

    def __init__(self, dut: SimHandleBase, clock: SimHandleBase, reset: SimHandleBase,
                 prefix: str = "s_axil") -> None:
        from cocotb_bus.bus import Bus
        from cocotbext.axi import AxiLiteBus
        from cocotbext.axi import AxiLiteMaster as ExtMaster

        buses = {}
        for channel, (inputs, outputs) in self._CHANNELS.items():
            names = {sig: f"{sig}_i" for sig in inputs}
            names.update({sig: f"{sig}_o" for sig in outputs})
            buses[channel] = Bus(dut, prefix, names)
            buses[channel]._optional_signals = []  # cocotbext-axi reads it; all are mapped
        bus = AxiLiteBus.from_channels(buses["aw"], buses["w"], buses["b"], buses["ar"], buses["r"])
        self.master = ExtMaster(bus, clock, reset, reset_active_level=False)

    def idle_bus(self) -> None:
        """cocotbext-axi drives its own idle values."""

    async def write(self, addr: int, data: int, strb: int = 0xF) -> AxiLiteResponse:
        if strb != 0xF:
            raise ValueError("use AxiLiteMaster for partial-strobe writes")
        rsp = await self.master.write(addr, (data & 0xFFFF_FFFF).to_bytes(4, "little"))
        return AxiLiteResponse(addr, int(rsp.resp))

    async def read(self, addr: int) -> AxiLiteResponse:
        rsp = await self.master.read(addr, 4)
        return AxiLiteResponse(addr, int(rsp.resp), int.from_bytes(rsp.data, "little"))
