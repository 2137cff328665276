"""A transport straight into an emulated chip, without a URL or a home directory."""

from __future__ import annotations

from openheg.transport import Transport
from openheg_sim.emulator import EmulatedChip


class ChipLink(Transport):
    url = "chip-link"

    def __init__(self, chip: EmulatedChip):
        self.chip = chip

    def exchange(self, request: bytes) -> bytes:
        return self.chip.request(request)
