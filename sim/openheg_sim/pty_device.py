"""The firmware's standalone pty server (firmware/port/posix) as a child process.

``make firmware-posix`` builds it; it prints ``PTY <path>`` once serving, and
shuts down in order on SIGTERM (exit status 0), so a device used through its
pty behaves like a board on a USB serial port.
"""

from __future__ import annotations

import signal
import subprocess
from pathlib import Path

from openheg.errors import EmulatorError

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "build" / "firmware" / "heg_serve_pty"
STOP_TIMEOUT_S = 10


class PtyDevice:
    """heg_serve_pty on a flash image; ``path`` is its pty, for any pyserial URL."""

    def __init__(self, flash: Path, *, time: int | None = None, server: Path = SERVER):
        if not server.exists():
            raise EmulatorError(f"{server} is not built: run `make firmware-posix`")
        command = [str(server), "--flash", str(flash)]
        if time is not None:
            command += ["--time", str(time)]
        self.process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                        text=True)
        line = self.process.stdout.readline().strip()
        if not line.startswith("PTY /dev/"):
            self.process.kill()
            raise EmulatorError(f"pty server did not start: {line!r} "
                                f"{self.process.stderr.read().strip()}")
        self.path = line.split(" ", 1)[1]

    def stop(self) -> int:
        """SIGTERM, then the server's exit status (0 for an orderly shutdown)."""
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        finally:
            self.process.stdout.close()
            self.process.stderr.close()

    def __enter__(self) -> "PtyDevice":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.stop()
