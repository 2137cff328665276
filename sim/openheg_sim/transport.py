"""The emu:// URL scheme: a chip emulated in this process, registered with the
host library through the `openheg.transports` entry point (pyproject.toml)."""

from __future__ import annotations

from pathlib import Path

from openheg.errors import TransportError
from openheg.transport import EMULATOR_SCHEME, Transport

from .emulator import EmulatedChip


class EmulatorTransport(Transport):
    """A chip emulated in this process: the real C firmware on the meter model."""

    def __init__(self, url: str, home: Path, *, create: bool = True):
        self.url = url
        name = url[len(EMULATOR_SCHEME):]
        if not name or not all(c.isalnum() or c in "-_." for c in name) or name.startswith("."):
            raise TransportError(f"bad emulator URL {url!r}: use emu://NAME with letters, "
                                 "digits, '-', '_' or '.'")
        self.chip = EmulatedChip.open(name, home / "emu", create=create)

    def exchange(self, request: bytes) -> bytes:
        return self.chip.request(request)

    def close(self) -> None:
        self.chip.close()


def open_emulator(url: str, home: Path, timeout: float, retries: int, *,
                  create: bool = True) -> EmulatorTransport:
    """The entry point's opener: an emulated chip answers at once, so the link's
    timeout and retries do not apply. create=False refuses a chip that does not
    exist yet (EmulatedChip.open)."""
    del timeout, retries
    return EmulatorTransport(url, home, create=create)
