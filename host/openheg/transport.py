"""One transport interface for every way of reaching a device.

URLs are pyserial's (`/dev/ttyACM0`, a pty path, `socket://host:port`,
`loop://`, ...) plus `emu://NAME` for a chip emulated in this process (registered
by the simulator package through an entry point, see scheme_handlers) and
`soc://PTY` for the RTL SoC under Verilator (`make soc-sim` prints the pty). A
transport moves one request message to the device and returns its response;
it knows nothing of what the messages mean (that is openheg.device).
"""

from __future__ import annotations

import functools
import os
from abc import ABC, abstractmethod
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import serial

from .errors import TransportError
from .framing import DELIMITER, MAX_FRAME_SIZE, FramingError, decode_frame, encode_frame

# Entry-point group through which packages add URL schemes (see scheme_handlers).
TRANSPORT_ENTRY_POINTS = "openheg.transports"
# Registered by the simulator (openheg_sim.transport), not by this library.
EMULATOR_SCHEME = "emu://"
# The RTL SoC simulated cycle by cycle checks a signature in about ten seconds
# (docs/soc.md): its pty, with a timeout for that speed instead of a board's.
SOC_SCHEME = "soc://"
SOC_TIMEOUT_S = 600.0
DEFAULT_TIMEOUT_S = 5.0
# A lost or garbled response is retried this many times. The request is sent
# again unchanged: a command the device did carry out before its answer was
# lost then answers REPLAYED (licenses, orders) or gives a fresh answer (reads),
# so a retry never applies a record twice.
DEFAULT_RETRIES = 2


def default_home() -> Path:
    """Where emulated chips keep their flash between runs (OPENHEG_HOME or ~/.openheg)."""
    return Path(os.environ.get("OPENHEG_HOME", Path.home() / ".openheg"))


try:
    import termios

    _TERMIOS_ERRORS: tuple[type[BaseException], ...] = (termios.error,)
except ImportError:  # not a POSIX host: no ptys
    _TERMIOS_ERRORS = ()


class Transport(ABC):
    """Carries one request message to a device and brings back its response."""

    url: str

    @abstractmethod
    def exchange(self, request: bytes) -> bytes:
        """Send one request message; return the device's response message."""

    def close(self) -> None:
        """Release the link; a closed transport cannot exchange again."""

    def __enter__(self) -> "Transport":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class SerialTransport(Transport):
    """Framed messages over any pyserial URL."""

    def __init__(self, url: str, timeout: float = DEFAULT_TIMEOUT_S,
                 retries: int = DEFAULT_RETRIES):
        if timeout <= 0 or retries < 0:
            raise TransportError("timeout must be positive and retries not negative")
        self.url = url
        self.retries = retries
        try:
            self._port = serial.serial_for_url(url, baudrate=115200, timeout=timeout)
        except (serial.SerialException, ValueError) as error:
            raise TransportError(f"cannot open {url}: {error}") from None

    def exchange(self, request: bytes) -> bytes:
        """One exchange; a timeout or a corrupted frame is retried ``retries`` times."""
        for attempt in range(self.retries + 1):
            try:
                return self._exchange_once(request)
            except TransportError as error:
                if attempt == self.retries or not getattr(error, "retryable", False):
                    if attempt:
                        raise type(error)(f"{error} (after {attempt + 1} attempts)") from None
                    raise
        raise AssertionError("unreachable")

    def _exchange_once(self, request: bytes) -> bytes:
        try:
            self._port.reset_input_buffer()
            self._port.write(encode_frame(request))
            self._port.flush()
            frame = self._port.read_until(DELIMITER, MAX_FRAME_SIZE + 1)
        except (serial.SerialException, OSError, *_TERMIOS_ERRORS) as error:
            # A pty whose far end closed (a board unplugged, an emulator gone)
            # fails in termios, which pyserial does not wrap.
            raise TransportError(f"{self.url}: link failed: {error}") from None
        if not frame.endswith(DELIMITER):
            if len(frame) > MAX_FRAME_SIZE:
                raise _retryable(FramingError(f"{self.url}: response frame exceeds "
                                              f"{MAX_FRAME_SIZE} bytes"))
            raise _retryable(TransportError(f"{self.url}: no response within "
                                            f"{self._port.timeout} s (is the device powered "
                                            "and the URL right?)"))
        try:
            return decode_frame(frame[:-1])
        except FramingError as error:
            raise _retryable(error) from None

    def close(self) -> None:
        self._port.close()


def _retryable(error: TransportError) -> TransportError:
    error.retryable = True  # type: ignore[attr-defined]
    return error


@functools.cache
def scheme_handlers() -> dict[str, EntryPoint]:
    """URL schemes other packages register (entry-point group `openheg.transports`).

    Each entry point is named after its scheme ("emu" for emu://) and loads a
    callable `(url, home, timeout, retries, *, create) -> Transport`; with
    create false it refuses a device that does not exist yet. The simulator registers
    emu:// this way, so the host library itself never imports it.
    """
    return {ep.name: ep for ep in entry_points(group=TRANSPORT_ENTRY_POINTS)}


def open_transport(url: str, home: Path | None = None, timeout: float = DEFAULT_TIMEOUT_S,
                   retries: int = DEFAULT_RETRIES, create: bool = True) -> Transport:
    """The link to the device at url. create=False: a scheme whose devices live
    in HOME (emu://) refuses a name that names none yet, instead of making it."""
    if not url:
        raise TransportError("no device URL given: name one (a serial port, a pty path or "
                             "emu://NAME)")
    scheme, separator, _ = url.partition("://")
    if separator and scheme in scheme_handlers():
        opener = scheme_handlers()[scheme].load()
        return opener(url, home or default_home(), timeout, retries, create=create)
    if url.startswith(EMULATOR_SCHEME):
        raise TransportError(f"{url}: no handler for emu:// URLs is installed; the emulator "
                             "comes with the simulator package openheg_sim (`make setup` "
                             "installs it)")
    if url.startswith(SOC_SCHEME):
        return SerialTransport(url[len(SOC_SCHEME):], max(timeout, SOC_TIMEOUT_S), retries)
    return SerialTransport(url, timeout, retries)
