"""The RTL SoC as a device on a pseudo-terminal: the Verilator harness
(build/soc/sim/heg_soc_sim, built by tools/soc/build_sim.py) in a child
process. A host reaches it with pyserial on ``path``, exactly as a board on a
USB serial port; the harness's command channel (its stdin and stdout) drives
the accelerator's op lanes, tamper, power cuts and reads its statistics.
"""

from __future__ import annotations

import queue
import subprocess
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "build" / "soc" / "sim" / "heg_soc_sim"
IMAGE = ROOT / "build" / "firmware" / "rv32" / "openheg_rv32.hex"
ELF = ROOT / "build" / "firmware" / "rv32" / "openheg_rv32.elf"
START_TIMEOUT_S = 20
STOP_TIMEOUT_S = 20


class SocError(RuntimeError):
    """The simulated SoC did not start, or answered its command channel badly."""


def stack_bounds(elf: Path = ELF) -> tuple[int, int]:
    """(__stack_bottom, __stack_top) of a firmware image, for the high-water mark."""
    out = subprocess.run(["riscv64-unknown-elf-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    table = {p[2]: int(p[0], 16) for p in map(str.split, out.splitlines()) if len(p) == 3}
    return table["__stack_bottom"], table["__stack_top"]


class SocDevice:
    """heg_soc_sim on ``flash`` (created erased if missing) and ``otp`` (kept
    beside it as NAME.otp); ``path`` is its pty."""

    def __init__(self, flash: Path, *, image: Path = IMAGE, elf: Path = ELF,
                 harness: Path = HARNESS, extra_args: tuple[str, ...] = ()):
        for needed, hint in ((harness, "python tools/soc/build_sim.py"),
                             (image, "make -f firmware/firmware.mk firmware-rv32")):
            if not needed.exists():
                raise SocError(f"{needed} is not built: run `{hint}`")
        bottom, top = stack_bounds(elf)
        self.started = time.monotonic()
        self.process = subprocess.Popen(
            [str(harness), "--rom", str(image), "--flash", str(flash),
             "--otp", str(flash.with_suffix(".otp")), "--stack", f"{bottom:x}:{top:x}",
             *extra_args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            bufsize=1)
        self._lines: queue.Queue[str] = queue.Queue()
        self.events: list[str] = []  # "power-cut ..." lines, in order
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()
        line = self._next(START_TIMEOUT_S)
        if not line.startswith("PTY /dev/"):
            self.process.kill()
            raise SocError(f"SoC harness did not start: {line!r} {self.process.stderr.read()}")
        self.path = line.split(" ", 1)[1]

    def _read(self) -> None:
        for line in self.process.stdout:
            line = line.rstrip("\n")
            if line.startswith("power-cut"):
                self.events.append(line)
            self._lines.put(line)
        self._lines.put("")  # end of output

    def _next(self, timeout: float) -> str:
        try:
            return self._lines.get(timeout=timeout)
        except queue.Empty:
            raise SocError(f"SoC harness said nothing within {timeout} s") from None

    def command(self, line: str, expect: str, timeout: float = 60) -> str:
        """Send one command; return the first answer line starting with ``expect``."""
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        deadline = time.monotonic() + timeout
        while True:
            answer = self._next(max(0.1, deadline - time.monotonic()))
            if answer.startswith(expect):
                return answer
            if answer.startswith("error") or answer == "":
                raise SocError(f"{line!r}: {answer or 'harness exited'}")
            if time.monotonic() > deadline:
                raise SocError(f"{line!r}: no {expect!r} within {timeout} s")

    def wait_for_event(self, prefix: str, timeout: float) -> str:
        """The first line the harness printed by itself (a power cut) starting with ``prefix``."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for event in self.events:
                if event.startswith(prefix):
                    return event
            if self.process.poll() is not None:
                break
            time.sleep(0.05)
        raise SocError(f"no {prefix!r} from the SoC harness within {timeout} s")

    def stats(self) -> dict[str, float]:
        fields = self.command("stats", "stats ").split()[1:]
        return {k: float(v) for k, v in (f.split("=") for f in fields)}

    def run_ops(self, lane: int, per_cycle: int, max_ops: int, closed_cycles: int,
                timeout: float = 120) -> tuple[int, bool]:
        """``per_cycle`` ops a cycle on ``lane`` while the gate is open, until
        ``max_ops`` or until the gate stayed closed ``closed_cycles`` in a row;
        (ops issued, gate open at the end)."""
        _, issued, enabled = self.command(
            f"run {lane} {per_cycle} {max_ops} {closed_cycles}", "ran ", timeout).split()
        return int(issued), enabled == "1"

    def stop(self) -> int:
        """quit, then the harness's exit status (0: it flushed flash and OTP)."""
        if self.process.poll() is None:
            try:
                self.command("quit", "bye", STOP_TIMEOUT_S)
            finally:
                self.process.stdin.close()
        try:
            return self.process.wait(timeout=STOP_TIMEOUT_S)
        finally:
            self.process.stdout.close()
            self.process.stderr.close()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
        self.process.wait(timeout=STOP_TIMEOUT_S)

    def __enter__(self) -> "SocDevice":
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            self.kill()
