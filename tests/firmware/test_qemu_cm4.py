"""The Cortex-M4 image (firmware/port/cortex_m4) booted in QEMU (mps2-an386)
with UART0 on a pseudo-terminal, driven by the host library exactly as a
board on a serial port is (the same session as against the POSIX pty
server, whose answers it is compared with). After the session the stack's
high-water mark is read out of the running guest through QEMU's monitor.

Nothing here skips: without qemu-system-arm or arm-none-eabi-gcc the tests
fail with the install hint (`make test` installs both).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from openheg import wire
from openheg.device import Device
from openheg.transport import SerialTransport
from openheg_sim.pty_device import CM4_IMAGE, QEMU_INSTALL_HINT, PtyDevice, QemuDevice

from fwkit import NOW, Authority, host_session, make

ROOT = Path(__file__).resolve().parents[2]
STACK_PAINT = 0xDEADBEEF


def require(tool: str) -> None:
    if shutil.which(tool) is None:
        pytest.fail(f"{tool} is missing: {QEMU_INSTALL_HINT}")


def symbols(elf: Path) -> dict[str, int]:
    out = subprocess.run(["arm-none-eabi-nm", str(elf)], capture_output=True, text=True,
                         check=True).stdout
    return {parts[2]: int(parts[0], 16) for parts in map(str.split, out.splitlines())
            if len(parts) == 3}


@pytest.fixture(scope="module")
def image() -> Path:
    require("arm-none-eabi-gcc")
    require("qemu-system-arm")
    make("firmware-cm4")
    return CM4_IMAGE


@pytest.fixture
def qemu(image: Path, tmp_path: Path):
    device = QemuDevice(tmp_path / "qemu", image=image)
    try:
        yield device
    finally:
        assert device.stop() == 0  # QEMU was still running: the guest never took it down


def stack_high_water(device: QemuDevice, sym: dict[str, int]) -> tuple[int, int]:
    """(bytes of stack ever used, bytes reserved), from the paint left below
    the deepest frame (startup.c paints the stack at reset)."""
    bottom, top = sym["__stack_bottom"], sym["__stack_top"]
    words = device.read_words(bottom, (top - bottom) // 4)
    painted = next((i for i, w in enumerate(words) if w != STACK_PAINT), len(words))
    assert painted > 0, "no paint left at the bottom of the stack: it overflowed"
    return top - (bottom + 4 * painted), top - bottom


def uptime_ms(device: QemuDevice, sym: dict[str, int]) -> int:
    lo, hi = device.read_words(sym["g_uptime_ms"], 2)
    return lo | hi << 32


def test_host_session_on_qemu_matches_the_pty_server(qemu, image, tmp_path):
    """Info, provision, policy, time beacon, license (and a refused replay),
    four orders, attestation verified by openheg.verify, event log: the image in QEMU does
    all of it, gives the POSIX server's answers, and stays inside its stack."""
    from openheg_sim.firmware_build import firmware_measurement

    sym = symbols(image)
    started = time.monotonic()
    ours = host_session(qemu.path, Authority())
    session_s = time.monotonic() - started
    make("firmware-posix")
    with PtyDevice(tmp_path / "posix.flash", time=NOW) as server:
        theirs = host_session(server.path, Authority())
        assert server.stop() == 0
    assert ours["measurement"] == firmware_measurement()
    for key in ("refused", "log_types", "policy_version", "license_sequence", "reset_count"):
        assert ours[key] == theirs[key], key
    # reset, then provisioned, policy installed, time set, license installed, orders
    event = wire.EventType
    assert ours["log_types"][0] == event.RESET
    assert {event.PROVISIONED, event.POLICY_INSTALLED, event.TIME_SET, event.LICENSE_INSTALLED,
            event.ORDER_APPLIED} <= set(ours["log_types"])
    assert ours["log_types"].count(event.ORDER_APPLIED) == 4

    used, reserved = stack_high_water(qemu, sym)
    print(f"\nqemu cm4: session {session_s:.2f} s; stack high-water mark {used} bytes "
          f"of {reserved} reserved")
    assert 0 < used < reserved


def test_uptime_is_a_real_millisecond_tick(qemu, image):
    """SysTick drives uptime: it advances with (virtual) time while the device
    idles, never goes back, and about one count per millisecond."""
    sym = symbols(image)
    with SerialTransport(qemu.path, timeout=5) as link:
        assert Device(link).info().state == wire.DeviceState.UNPROVISIONED
    # QEMU shares the host's cores with the rest of the suite: a window of a
    # fixed length can be starved. Keep sampling (never going back) until a
    # window of at least half a second shows about one count per millisecond,
    # so a longer window averages a stall out; ten seconds without one fails.
    first, t0 = uptime_ms(qemu, sym), time.monotonic()
    previous, windows = first, []
    while time.monotonic() - t0 < 10:
        time.sleep(0.1)
        now, t1 = uptime_ms(qemu, sym), time.monotonic()
        assert now >= previous, (previous, now)
        previous = now
        elapsed_ms = (t1 - t0) * 1000
        if elapsed_ms < 500:
            continue
        windows.append((now - first, round(elapsed_ms)))
        if 0.25 * elapsed_ms < now - first < 2 * elapsed_ms + 100:
            break
    else:
        raise AssertionError(f"uptime never kept pace with time: (counts, ms) {windows[-5:]}")


# hal_cm4.c: the reference is the FPGA IO block's 100 Hz counter (CLK100HZ).
FPGAIO_CLK100HZ = 0x40028000 + 0x14


def test_the_reference_counts_its_own_clock_and_an_honest_board_is_no_tamper(qemu, image):
    """The port's reference (heg_hal_reference_ms) is a counter QEMU runs on
    a clock of its own, not SysTick's: it advances at about 100 Hz while the
    device idles. Provisioned, licensed and then idle for more than two clock
    monitor windows, the device compares it with uptime over whole windows and
    latches no tamper: the two clocks agree (a SysTick wrap taken late puts
    one window behind and the next ahead, which together agree)."""
    from openheg.device import Device as HostDevice

    session_started = time.monotonic()
    host_session(qemu.path, Authority())
    ref0, t0 = qemu.read_words(FPGAIO_CLK100HZ, 1)[0], time.monotonic()
    time.sleep(max(1.0, session_started + wire.CLOCK_MONITOR_WINDOW_MS / 1000 * 2.5
                   - time.monotonic()))
    ref1, t1 = qemu.read_words(FPGAIO_CLK100HZ, 1)[0], time.monotonic()
    assert 0.5 * (t1 - t0) * 100 < ref1 - ref0 < 2 * (t1 - t0) * 100 + 10, (ref0, ref1)
    with SerialTransport(qemu.path, timeout=5) as link:
        device = HostDevice(link)
        record = device.attest(bytes(wire.NONCE_SIZE))
        tampers = [bytes(e.payload).hex() for e in device.read_whole_log().entries
                   if e.event_type == wire.EventType.TAMPER]
    assert wire.GateCause.TAMPER not in wire.Attestation.from_bytes(record).gate_causes, tampers


def test_a_stack_overflow_faults_instead_of_corrupting_data(image, tmp_path):
    """The same image with a 2 KiB stack (a signature check needs about 4):
    the session dies at the first deep call, and QEMU stops on a lockup with
    the stack pointer below the stack's bottom, in the MPU's no-access guard,
    rather than the stack growing on into .data and .bss."""
    from openheg.errors import TransportError

    make("build/firmware/cm4/openheg_cm4_small_stack.elf")
    small = ROOT / "build/firmware/cm4/openheg_cm4_small_stack.elf"
    bottom = symbols(small)["__stack_bottom"]
    device = QemuDevice(tmp_path / "qemu", image=small)
    try:
        with pytest.raises(TransportError):
            host_session(device.path, Authority(), timeout=2)
        device.process.wait(timeout=10)
    finally:
        device.kill()
    log = device.log_path.read_text(errors="replace")
    assert "Lockup" in log, log[-2000:]
    stack_pointer = int(re.search(r"R13=([0-9a-f]{8})", log).group(1), 16)
    assert bottom - (1 << 20) <= stack_pointer < bottom, hex(stack_pointer)


def test_image_says_it_is_a_test_image(image):
    """The RNG is a fixed generator (QEMU has no TRNG): the image says so."""
    assert b"TEST IMAGE: RNG is a fixed generator, NOT SECRET" in image.read_bytes()
