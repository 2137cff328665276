"""An emulated co-processor: the real C firmware on the meter's reference model.

An EmulatedChip is one device: the firmware (built for the host, driven
through cffi), a MeterModel as the metering block it programs over its
registers, a flash model for persistent state (its pages in NAME.flash, its
one-time-programmable area in NAME.otp beside it), and an accelerator that issues
ops while the meter's enable is high. Opening a chip is a power-up: the meter
resets and the firmware boots from flash, exactly as a real board would
between two commands from the host.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from openheg import regmap
from openheg.errors import EmulatorError
from openheg.transport import Transport

from .flash import FLASH_SUFFIX, Flash, FlashError
from .meter_model import MeterModel
from .stream_limiter_model import EMULATED_LINK_CLOCK_HZ, LinkRegisters

try:
    from .firmware import Firmware
except ImportError as error:  # the cffi module is built by `make firmware-cffi`
    Firmware = None  # type: ignore[assignment,misc]
    _FIRMWARE_IMPORT_ERROR: ImportError | None = error
else:
    _FIRMWARE_IMPORT_ERROR = None

# A few thousand ops per lane per cycle is in the range of one accelerator core.
DEFAULT_OPS_PER_CYCLE = 4096
# The gate decision is registered, so the meter confirms a closed gate after one
# edge; a few more leave room without letting a broken firmware hang the host.
SHUTDOWN_MAX_CYCLES = 8


class SincePowerUp:
    """Milliseconds since the first reading of ``clock`` (seconds): monotonic
    even if ``clock`` steps back, as a counter that starts at power-up is."""

    def __init__(self, clock: Callable[[], float]) -> None:
        self.clock = clock
        self._power_up: float | None = None
        self._ms = 0

    def __call__(self) -> int:
        now = self.clock()
        if self._power_up is None:
            self._power_up = now
        self._ms = max(self._ms, int((now - self._power_up) * 1000))
        return self._ms


class ChipHal:
    """The platform the firmware's HAL calls land on, in emulation.

    ``clock`` is the wall clock; uptime counts ``uptime_clock`` (the board's
    clock input) and the reference counts ``reference_clock`` (the oscillator
    inside the package), both ``clock`` unless given: a test that drives them
    apart plays the operator slowing, stopping or speeding the board's clock
    (or a reference that fails)."""

    def __init__(self, meter: MeterModel, flash: Flash, clock: Callable[[], float],
                 uptime_clock: Callable[[], float] | None = None,
                 reference_clock: Callable[[], float] | None = None,
                 random: Callable[[int], bytes] = os.urandom):
        self.meter = meter
        # The interconnect limiter resets with the rest of the part.
        self.link = LinkRegisters()
        self.flash = flash
        # A flash in C memory (firmware.NativeFlash): the firmware's HAL reads
        # and programs its pages itself, and never calls storage_* here.
        native_pages = getattr(flash, "native_pages", None)
        if native_pages is not None:
            self.native_pages = native_pages
        self.clock = clock
        self._random = random
        self._uptime = SincePowerUp(uptime_clock or clock)
        self._reference = SincePowerUp(reference_clock or clock)

    def reg_read(self, offset: int) -> int:
        return self.meter.read(offset)

    def reg_write(self, offset: int, value: int) -> None:
        self.meter.write(offset, value)

    def link_read(self, offset: int) -> int:
        return self.link.read(offset)

    def link_write(self, offset: int, value: int) -> None:
        self.link.write(offset, value)

    def link_clock_hz(self) -> int:
        return EMULATED_LINK_CLOCK_HZ

    def storage_geometry(self) -> tuple[int, int]:
        return self.flash.page_size, self.flash.page_count

    def storage_read(self, offset: int, length: int) -> bytes:
        return self.flash.read(offset, length)

    def storage_program(self, offset: int, data: bytes) -> None:
        self.flash.program(offset, data)

    def storage_erase(self, page: int) -> None:
        self.flash.erase(page)

    def otp_read(self) -> bytes:
        return self.flash.otp_read()

    def otp_program(self, data: bytes) -> bool:
        """Truthy when refused (the area was programmed before)."""
        return not self.flash.otp_program(data)

    def random(self, length: int) -> bytes:
        return self._random(length)

    def time_now(self) -> int:
        return int(self.clock())

    def uptime_ms(self) -> int:
        """Milliseconds since this power-up, on the board's clock."""
        return self._uptime()

    def reference_ms(self) -> int:
        """Milliseconds since this power-up, on the reference oscillator."""
        return self._reference()


@dataclass(frozen=True)
class WorkloadResult:
    lane: str
    requested_ops: int
    issued_ops: int
    gate_open: bool

    @property
    def stopped_by_gate(self) -> bool:
        return self.issued_ops < self.requested_ops


class EmulatedChip:
    """``meter``: the metering block (a wider op-event bus than the default
    lets a fleet simulation issue a second of compute in a few cycles);
    ``random``: the HAL's entropy source (seeded for a reproducible run)."""

    def __init__(self, name: str, flash: Flash, clock: Callable[[], float] = time.time, *,
                 meter: MeterModel | None = None,
                 random: Callable[[int], bytes] = os.urandom):
        if Firmware is None:
            raise EmulatorError("the firmware emulation module is not built: run "
                                f"`make firmware-cffi` ({_FIRMWARE_IMPORT_ERROR})")
        self.name = name
        self.flash = flash
        self.meter = MeterModel() if meter is None else meter
        self.hal = ChipHal(self.meter, flash, clock, random=random)
        self.firmware = Firmware(self.hal)
        self.firmware.boot()

    @classmethod
    def open(cls, name: str, directory: Path, clock: Callable[[], float] = time.time,
             *, create: bool = True) -> "EmulatedChip":
        """Power up the chip called ``name`` whose flash image lives in ``directory``.

        A chip exists once its flash image does. create=False refuses a name
        with no image (a typo would otherwise bring a blank chip into being);
        create=True makes a blank, unprovisioned chip, as a factory does."""
        path = directory / f"{name}{FLASH_SUFFIX}"
        if not create and not path.exists():
            known = sorted(p.name[:-len(FLASH_SUFFIX)] for p in directory.glob(f"*{FLASH_SUFFIX}"))
            raise EmulatorError(
                f"no emulated chip {name!r} in {directory} (chips there: "
                f"{', '.join(known) or 'none'}); `openheg device provision emu://{name} ...` "
                "makes a new one")
        try:
            directory.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise EmulatorError(f"cannot keep emulated chips in {directory}: {error.strerror} "
                                "(give --home a folder)") from None
        try:
            flash = Flash(path=path)
        except FlashError as error:
            raise EmulatorError(f"the flash image {path} of emulated chip {name!r} is corrupt "
                                f"({error}): restore it, or delete it and its .otp file and "
                                "provision the chip again") from None
        except OSError as error:
            raise EmulatorError(f"cannot read the flash image {path}: {error.strerror}") from None
        return cls(name, flash, clock)

    def restart(self) -> None:
        """A planned reset of the whole part: the firmware settles first (as in
        close, so nothing charged ahead is forfeited), then the meter and the
        interconnect limiter start again from their reset values, uptime from
        0, and the firmware boots from flash (loading the weights and the link
        cap of the policy and the license in force)."""
        self._settle()
        self.meter.reset()
        self.hal = ChipHal(self.meter, self.flash, self.hal.clock, random=self.hal._random)
        self.firmware = Firmware(self.hal)
        self.firmware.boot()

    def request(self, message: bytes) -> bytes:
        """One protocol exchange, then one pass of the firmware's metering loop."""
        response = self.firmware.request(message)
        self.firmware.poll()
        return response

    @property
    def gate_open(self) -> bool:
        return self.meter.enable

    def run(self, lane: str, ops: int, ops_per_cycle: int = DEFAULT_OPS_PER_CYCLE
            ) -> WorkloadResult:
        """Let the accelerator issue ``ops`` on ``lane`` for as long as the gate allows.

        The firmware's metering loop runs whenever the gate closes, as its
        low-allowance handling would on a chip: it grants the next charged-ahead
        chunk if the license has any left, and otherwise the gate stays shut.
        """
        if lane not in regmap.LANES:
            raise EmulatorError(f"unknown precision lane {lane!r}; lanes are "
                                + ", ".join(regmap.LANES))
        if ops < 0:
            raise EmulatorError("ops must not be negative")
        index = regmap.LANES.index(lane)
        issued = 0
        self.firmware.poll()
        while issued < ops:
            if not self.meter.enable:
                # The gate decision is registered: a grant the firmware just made
                # opens the gate at the next clock edge, not before.
                self.meter.idle(1)
                if not self.meter.enable:
                    break
            issued += self.meter.drive(index, ops - issued, ops_per_cycle)
            self.firmware.poll()
        return WorkloadResult(lane, ops, issued, self.meter.enable)

    def close(self) -> None:
        """A planned power-off: the firmware closes the gate, waits for the meter
        to confirm it, and settles the charged allowance to what was consumed,
        so an orderly shutdown forfeits nothing (a power cut still would)."""
        self._settle()
        self.flash.close()

    def _settle(self) -> None:
        for _ in range(SHUTDOWN_MAX_CYCLES):
            if self.firmware.shutdown():
                return
            self.meter.idle(1)
        raise EmulatorError(f"{self.name}: firmware did not settle within "
                            f"{SHUTDOWN_MAX_CYCLES} cycles of closing the gate")


class ChipLink(Transport):
    """A transport straight into an emulated chip already powered up: no URL, no
    home directory, and no power cycle per exchange."""

    url = "chip-link"

    def __init__(self, chip: EmulatedChip):
        self.chip = chip

    def exchange(self, request: bytes) -> bytes:
        return self.chip.request(request)
