"""A NOR flash model: the storage behind the emulated firmware's HAL.

Behaves like the parts the firmware targets (and like mcuboot's simflash):

* erased bytes read ``0xFF``; erase works on whole pages and is counted per
  page (wear);
* program works on aligned 32-bit words and may only clear bits of *erased*
  words: programming a word that is not erased raises ``FlashError``
  (erase-before-write is enforced, so a firmware bug cannot hide);
* an optional backing file makes a device's flash persist across processes;
  the image is replaced atomically after every change (``image=`` starts
  from a given content instead, to clone a device's flash in tests);
* ``cut_after(n)`` arms a power cut: the n-th following program or erase is
  torn (only partly done) and raises ``PowerCut``.

Beside the pages the part has a one-time-programmable area (as many MCUs'
flash interfaces do, e.g. the STM32F4's OTP block): ``OTP_SIZE`` bytes that
read ``0xFF`` until programmed, written whole by one ``otp_program``, never
erased; a program while any byte is no longer ``0xFF`` is refused (returns
False) and changes nothing. It is kept beside the backing file (``NAME.otp``
for ``NAME.flash``). An OTP program is one more operation ``cut_after`` counts:
torn, the first half of its words land, and the area counts as programmed.
"""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_PAGE_SIZE = 2048
DEFAULT_PAGE_COUNT = 8
WORD_SIZE = 4
ERASED = 0xFF
OTP_SIZE = 128  # firmware/include/heg/heg_hal.h HEG_OTP_SIZE
FLASH_SUFFIX = ".flash"
OTP_SUFFIX = ".otp"


def otp_path_for(path: Path) -> Path:
    """NAME.otp for NAME.flash (any other name: ``.otp`` appended), as the pty
    server's HAL names it."""
    name = path.name
    stem = name[:-len(FLASH_SUFFIX)] if name.endswith(FLASH_SUFFIX) else name
    return path.with_name(stem + OTP_SUFFIX)


class FlashError(Exception):
    """An access the flash part would refuse (misaligned, out of range, not erased)."""


class PowerCut(Exception):
    """Power failed in the middle of a flash operation (injected by ``cut_after``)."""


class Flash:
    def __init__(self, page_size: int = DEFAULT_PAGE_SIZE, page_count: int = DEFAULT_PAGE_COUNT,
                 path: str | os.PathLike[str] | None = None, image: bytes | None = None,
                 otp: bytes | None = None) -> None:
        if page_size <= 0 or page_size % WORD_SIZE or page_count <= 0:
            raise ValueError("page size must be a positive multiple of 4 and page count positive")
        self.page_size = page_size
        self.page_count = page_count
        self.size = page_size * page_count
        self.path = Path(path) if path is not None else None
        self.erase_counts = [0] * page_count
        self.program_count = 0
        self._cut_in: int | None = None
        if image is None and self.path is not None and self.path.exists():
            image = self.path.read_bytes()
        if image is not None:
            if len(image) != self.size:
                raise FlashError(f"flash image is {len(image)} bytes, expected {self.size}")
            self._data = bytearray(image)
        else:
            self._data = bytearray([ERASED]) * self.size
        self.otp_path = otp_path_for(self.path) if self.path is not None else None
        if otp is None and self.otp_path is not None and self.otp_path.exists():
            otp = self.otp_path.read_bytes()
        if otp is not None and len(otp) != OTP_SIZE:
            raise FlashError(f"OTP image is {len(otp)} bytes, expected {OTP_SIZE}")
        self._otp = bytearray(otp) if otp is not None else bytearray([ERASED]) * OTP_SIZE
        self.otp_program_count = 0

    # ---------------------------------------------------------------- access
    def geometry(self) -> tuple[int, int]:
        return self.page_size, self.page_count

    def read(self, offset: int, length: int) -> bytes:
        self._check_range(offset, length)
        return bytes(self._data[offset:offset + length])

    def image(self) -> bytes:
        """The whole flash content."""
        return bytes(self._data)

    def program(self, offset: int, data: bytes) -> None:
        data = bytes(data)
        self._check_range(offset, len(data))
        if offset % WORD_SIZE or len(data) % WORD_SIZE:
            raise FlashError(f"program at 0x{offset:x}+{len(data)} is not word aligned")
        if self._data[offset:offset + len(data)].count(ERASED) != len(data):
            # Name the first word that is not erased (the common case, all
            # erased, is the one comparison above).
            for word in range(offset, offset + len(data), WORD_SIZE):
                if self._data[word:word + WORD_SIZE] != b"\xff" * WORD_SIZE:
                    raise FlashError(f"program of non-erased word at 0x{word:x}")
        if self._tick():
            # Torn: the first half of the words land, then power goes.
            done = (len(data) // WORD_SIZE // 2) * WORD_SIZE
            self._program(offset, data[:done])
            self._save()
            raise PowerCut(f"power cut while programming 0x{offset:x}+{len(data)}")
        self._program(offset, data)
        self.program_count += 1
        self._save()

    def erase(self, page: int) -> None:
        if not 0 <= page < self.page_count:
            raise FlashError(f"erase of page {page}: the part has {self.page_count} pages")
        start = page * self.page_size
        if self._tick():
            # Torn: part of the page is erased, the rest keeps its old bits.
            half = self.page_size // 2
            self._data[start:start + half] = b"\xff" * half
            self.erase_counts[page] += 1
            self._save()
            raise PowerCut(f"power cut while erasing page {page}")
        self._data[start:start + self.page_size] = b"\xff" * self.page_size
        self.erase_counts[page] += 1
        self._save()

    def otp_read(self) -> bytes:
        return bytes(self._otp)

    @property
    def otp_programmed(self) -> bool:
        return any(b != ERASED for b in self._otp)

    def otp_program(self, data: bytes) -> bool:
        """Program the whole OTP area; False (nothing changed) if it was programmed before."""
        data = bytes(data)
        if len(data) != OTP_SIZE:
            raise FlashError(f"OTP program of {len(data)} bytes: the area is {OTP_SIZE}")
        if self.otp_programmed:
            return False
        if self._tick():
            done = (OTP_SIZE // WORD_SIZE // 2) * WORD_SIZE
            self._otp[:done] = data[:done]
            self._save_otp()
            raise PowerCut("power cut while programming the OTP area")
        self._otp[:] = data
        self.otp_program_count += 1
        self._save_otp()
        return True

    def clone(self) -> "Flash":
        """An independent part with the same pages and OTP area (no backing file)."""
        return Flash(self.page_size, self.page_count, image=self.image(), otp=self.otp_read())

    # ---------------------------------------------------------- fault hooks
    def cut_after(self, n: int) -> None:
        """Make the n-th following program or erase (1 = the next one) tear and raise."""
        if n < 1:
            raise ValueError("cut_after needs n >= 1")
        self._cut_in = n

    def cancel_cut(self) -> None:
        self._cut_in = None

    @property
    def cut_pending(self) -> bool:
        return self._cut_in is not None

    def close(self) -> None:
        self._save()
        if self.otp_programmed:
            self._save_otp()

    # -------------------------------------------------------------- helpers
    def _tick(self) -> bool:
        if self._cut_in is None:
            return False
        self._cut_in -= 1
        if self._cut_in == 0:
            self._cut_in = None
            return True
        return False

    def _program(self, offset: int, data: bytes) -> None:
        # Target words are erased (checked), so clearing bits is a plain copy.
        self._data[offset:offset + len(data)] = data

    def _check_range(self, offset: int, length: int) -> None:
        if offset < 0 or length < 0 or offset + length > self.size:
            raise FlashError(f"access 0x{offset:x}+{length} is outside the {self.size}-byte part")

    def _save(self) -> None:
        if self.path is not None:
            _replace_file(self.path, self._data)

    def _save_otp(self) -> None:
        if self.otp_path is not None:
            _replace_file(self.otp_path, self._otp)


def _replace_file(path: Path, data: bytes) -> None:
    """Write data beside path, then rename it over: the old content or the new."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)
