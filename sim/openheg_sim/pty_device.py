"""Devices on a pseudo-terminal, as child processes: a host reaches each with
pyserial on ``path`` exactly as it reaches a board on a USB serial port.

* PtyDevice: the firmware's standalone pty server (firmware/port/posix).
  ``make firmware-posix`` builds it; it prints ``PTY <path>`` once serving,
  and shuts down in order on SIGTERM (exit status 0).
* QemuDevice: the Cortex-M4 image (``make firmware-cm4``) under
  qemu-system-arm, board mps2-an386, UART0 on a pty; its monitor (on a unix
  socket) reads the guest's memory.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import termios
import time
import tty
from abc import ABC, abstractmethod
from pathlib import Path

from openheg.errors import EmulatorError

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "build" / "firmware" / "heg_serve_pty"
CM4_IMAGE = ROOT / "build" / "firmware" / "cm4" / "openheg_cm4.elf"
STOP_TIMEOUT_S = 10
QEMU_START_TIMEOUT_S = 20
QEMU_INSTALL_HINT = ("`make test` installs it (tools/install-system-deps.sh: qemu-system-arm, "
                     "gcc-arm-none-eabi, libnewlib-arm-none-eabi)")


class _ChildDevice(ABC):
    """What every device in a child process shares: ``path`` (its pty), and a
    context manager that stops it."""

    path: str
    process: subprocess.Popen

    @abstractmethod
    def stop(self) -> int:
        """Stop the device; 0 once it is gone as it should be."""

    def __enter__(self):
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.stop()


class PtyDevice(_ChildDevice):
    """heg_serve_pty on a flash image; ``path`` is its pty, for any pyserial URL.
    ``uptime_permille`` and ``reference_permille`` run the board's clock and the
    reference oscillator at that many thousandths of true time (1000: honest)."""

    def __init__(self, flash: Path, *, time: int | None = None, server: Path = SERVER,
                 uptime_permille: int = 1000, reference_permille: int = 1000):
        if not server.exists():
            raise EmulatorError(f"{server} is not built: run `make firmware-posix`")
        command = [str(server), "--flash", str(flash)]
        if time is not None:
            command += ["--time", str(time)]
        command += ["--uptime-permille", str(uptime_permille),
                    "--reference-permille", str(reference_permille)]
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


class QemuDevice(_ChildDevice):
    """The Cortex-M4 image under ``qemu-system-arm -M mps2-an386`` with UART0
    on a pty (``path``) and the HMP monitor on a unix socket in ``workdir``.

    The device side of the pty is held open for the device's life: QEMU's pty
    backend drops output and stalls input while no one has the port open, and
    takes up to a second to notice a reopen, so a host that opens and closes
    the port between calls (as the CLI does) would see lost frames otherwise.
    """

    def __init__(self, workdir: Path, *, image: Path = CM4_IMAGE,
                 qemu: str = "qemu-system-arm", extra_args: tuple[str, ...] = ()):
        if shutil.which(qemu) is None:
            raise EmulatorError(f"{qemu} not found: {QEMU_INSTALL_HINT}")
        if not image.exists():
            raise EmulatorError(f"{image} is not built: run `make firmware-cm4`")
        workdir.mkdir(parents=True, exist_ok=True)
        self.monitor_path = workdir / "qemu-monitor.sock"
        self.log_path = workdir / "qemu.log"
        self._monitor: socket.socket | None = None
        self._hold = -1
        command = [qemu, "-M", "mps2-an386", "-nographic", "-serial", "pty",
                   "-monitor", f"unix:{self.monitor_path},server,nowait",
                   "-kernel", str(image), *extra_args]
        with open(self.log_path, "wb") as log:
            # Its own session: a kill of the group cannot miss a child.
            self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=log,
                                            stderr=subprocess.STDOUT, start_new_session=True)
        try:
            self.path = self._wait_for_pty()
            self._hold = os.open(self.path, os.O_RDWR | os.O_NOCTTY)
            tty.setraw(self._hold, termios.TCSANOW)
        except BaseException:
            self.kill()
            raise

    def _wait_for_pty(self) -> str:
        deadline = time.monotonic() + QEMU_START_TIMEOUT_S
        pattern = re.compile(r"char device redirected to (/dev/\S+) \(label serial0\)")
        while time.monotonic() < deadline:
            text = self.log_path.read_text(errors="replace")
            found = pattern.search(text)
            if found:
                return found.group(1)
            if self.process.poll() is not None:
                raise EmulatorError(f"qemu exited ({self.process.returncode}): {text.strip()}")
            time.sleep(0.02)
        raise EmulatorError(f"qemu printed no pty within {QEMU_START_TIMEOUT_S} s")

    def monitor(self, command: str, timeout: float = 10) -> str:
        """One HMP command; its output (without the echo and the prompt)."""
        if self._monitor is None:
            self._monitor = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            self._monitor.settimeout(timeout)
            deadline = time.monotonic() + timeout
            while True:
                try:
                    self._monitor.connect(str(self.monitor_path))
                    break
                except (FileNotFoundError, ConnectionRefusedError):
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.05)
            self._read_to_prompt()
        self._monitor.sendall(command.encode() + b"\n")
        out = self._read_to_prompt()
        # The monitor echoes the command with terminal redraws; output starts
        # on the line after the echo.
        lines = out.replace("\r", "").split("\n")
        return "\n".join(lines[1:]).strip()

    def _read_to_prompt(self) -> str:
        data = b""
        while not data.endswith(b"(qemu) "):
            chunk = self._monitor.recv(65536)
            if not chunk:
                raise EmulatorError("qemu monitor closed")
            data += chunk
        return data[:-len(b"(qemu) ")].decode(errors="replace")

    def read_words(self, address: int, count: int) -> list[int]:
        """``count`` 32-bit words of guest physical memory from ``address``."""
        words: list[int] = []
        out = self.monitor(f"xp /{count}wx 0x{address:x}")
        for line in out.splitlines():
            if ":" in line:
                words += [int(w, 16) for w in line.split(":", 1)[1].split()]
        if len(words) != count:
            raise EmulatorError(f"qemu monitor: xp gave {len(words)} words, not {count}: {out!r}")
        return words

    def kill(self) -> None:
        """Stop QEMU for sure: its whole process group, SIGKILL, reaped."""
        if self._monitor is not None:
            self._monitor.close()
            self._monitor = None
        if self._hold >= 0:
            os.close(self._hold)
            self._hold = -1
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.process.wait(timeout=STOP_TIMEOUT_S)

    def stop(self) -> int:
        """QEMU has no orderly shutdown of the guest to wait for: kill it and
        return 0 once it is gone (a device that already died is an error)."""
        died = self.process.poll()
        self.kill()
        if died is not None:
            raise EmulatorError(f"qemu had exited ({died}): "
                                f"{self.log_path.read_text(errors='replace').strip()}")
        return 0
