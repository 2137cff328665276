"""Serve an emulated chip on a pseudo-terminal, framed as on a real UART.

The host reaches it through pyserial by the pty's path, exactly as it would a
board on /dev/ttyACM0, so the serial transport and framing are exercised for
real. Frames that fail COBS or CRC are dropped, as firmware would drop line
noise; the host then times out and reports it.
"""

from __future__ import annotations

import os
import pty
import select
import threading
import tty

from openheg.framing import DELIMITER, MAX_FRAME_SIZE, FramingError, decode_frame, encode_frame

from .emulator import EmulatedChip

POLL_INTERVAL_S = 0.05


class PtyServer:
    def __init__(self, chip: EmulatedChip):
        self.chip = chip
        self._master, self._slave = pty.openpty()
        tty.setraw(self._slave)
        self.path = os.ttyname(self._slave)
        self.dropped_frames = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name=f"pty-{chip.name}", daemon=True)

    def __enter__(self) -> "PtyServer":
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        os.close(self._master)
        os.close(self._slave)

    def _serve(self) -> None:
        pending = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self._master], [], [], POLL_INTERVAL_S)
            if not ready:
                continue
            pending += os.read(self._master, 4096)
            while DELIMITER in pending:
                frame, pending = pending.split(DELIMITER, 1)
                self._answer(frame)
            if len(pending) > MAX_FRAME_SIZE:
                pending = b""  # no delimiter in a frame's worth: resynchronise
                self.dropped_frames += 1

    def _answer(self, frame: bytes) -> None:
        if not frame:
            return
        try:
            request = decode_frame(frame)
        except FramingError:
            self.dropped_frames += 1
            return
        os.write(self._master, encode_frame(self.chip.request(request)))
