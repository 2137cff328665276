"""The C firmware, built for the host, driven from Python (cffi).

A ``Firmware`` is one device's firmware context. Its HAL calls land on a
Python object with this surface (duck-typed):

    reg_read(offset) -> int          reg_write(offset, value)
    storage_geometry() -> (page_size, page_count)
    storage_read(offset, length) -> bytes
    storage_program(offset, data)    storage_erase(page)
    otp_read() -> bytes              (the HEG_OTP_SIZE bytes of the OTP area)
    otp_program(data)                (a truthy return: refused, already programmed)
    random(n) -> bytes               time_now() -> int
    uptime_ms() -> int               (monotonic milliseconds since power-up, on
                                      the board's clock)
    reference_ms() -> int            (the same on the reference oscillator
                                      inside the package)
    native_pages() -> (pages, page_size, page_count)   (optional: the storage
                                      calls then stay in C, see NativeFlash)

An exception raised by the HAL (a ``PowerCut`` from the flash model, say)
cannot unwind through C: it is kept, the C side sees a failed operation and
every later HAL call fails fast (as a powered-off part would), and the
exception is raised again to the caller of ``boot``/``request``/``poll``.
There is no global state: any number of ``Firmware`` objects can coexist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from openheg.errors import DeviceError, DeviceStatus, EmulatorError
from openheg.wire import MAX_MESSAGE_SIZE

from .flash import DEFAULT_PAGE_COUNT, DEFAULT_PAGE_SIZE, Flash, FlashError

try:
    from ._firmware import ffi, lib
except ImportError as error:  # pragma: no cover - depends on the build
    raise ImportError(f"openheg_sim._firmware is not built: run `make firmware-cffi` ({error})"
                      ) from error

HBOOL_TRUE = 0x739
HBOOL_FALSE = 0x1D4
_STATUS_OK = int(DeviceStatus.OK)
_RESPONSE_CAPACITY = MAX_MESSAGE_SIZE
OTP_SIZE = lib.HEG_OTP_SIZE  # firmware/include/heg/heg_hal.h


class _Bridge:
    """What a C HAL call reaches: the Python HAL plus the first exception it raised."""

    __slots__ = ("hal", "error")

    def __init__(self, hal: Any) -> None:
        self.hal = hal
        self.error: BaseException | None = None


def _guarded(handle: Any, on_error: Any, action: Callable[[Any], Any]) -> Any:
    """Run one HAL call for C. A Python exception cannot cross the C frames: the
    first one is kept on the bridge and re-raised once the C call returns, C
    gets ``on_error``, and every later HAL call in that C call fails fast."""
    bridge: _Bridge = ffi.from_handle(handle)
    if bridge.error is not None:
        return on_error
    try:
        return action(bridge.hal)
    except BaseException as error:  # noqa: BLE001 - re-raised after the C call
        bridge.error = error
        return on_error


def _copy_exact(out: Any, data: bytes, length: int, what: str) -> int:
    if type(data) is not bytes:
        data = bytes(data)
    if len(data) != length:
        raise EmulatorError(f"HAL {what} returned {len(data)} bytes, wanted {length}")
    ffi.memmove(out, data, length)
    return 0


def _set_geometry(hal: Any, page_size: Any, page_count: Any) -> int:
    page_size[0], page_count[0] = hal.storage_geometry()
    return 0


# The three hottest HAL calls spell _guarded out inline (same rules: the
# first exception is kept, C gets the failure value, later calls fail fast),
# sparing a closure and a call per access. cffi passes integer arguments as
# Python ints already.
@ffi.def_extern()
def heg_py_reg_read(handle, offset):
    bridge: _Bridge = ffi.from_handle(handle)
    if bridge.error is not None:
        return 0
    try:
        return int(bridge.hal.reg_read(offset)) & 0xFFFFFFFF
    except BaseException as error:  # noqa: BLE001 - re-raised after the C call
        bridge.error = error
        return 0


@ffi.def_extern()
def heg_py_reg_write(handle, offset, value):
    _guarded(handle, None, lambda hal: hal.reg_write(int(offset), int(value)))


@ffi.def_extern()
def heg_py_link_read(handle, offset):
    return _guarded(handle, 0, lambda hal: int(hal.link_read(int(offset))) & 0xFFFFFFFF)


@ffi.def_extern()
def heg_py_link_write(handle, offset, value):
    _guarded(handle, None, lambda hal: hal.link_write(int(offset), int(value)))


@ffi.def_extern()
def heg_py_link_clock_hz(handle):
    return _guarded(handle, 0, lambda hal: int(hal.link_clock_hz()) & 0xFFFFFFFF)


@ffi.def_extern()
def heg_py_storage_geometry(handle, page_size, page_count):
    return _guarded(handle, 1, lambda hal: _set_geometry(hal, page_size, page_count))


@ffi.def_extern()
def heg_py_storage_read(handle, offset, out, length):
    bridge: _Bridge = ffi.from_handle(handle)
    if bridge.error is not None:
        return 1
    try:
        return _copy_exact(out, bridge.hal.storage_read(offset, length), length, "storage_read")
    except BaseException as error:  # noqa: BLE001 - re-raised after the C call
        bridge.error = error
        return 1


@ffi.def_extern()
def heg_py_storage_program(handle, offset, data, length):
    bridge: _Bridge = ffi.from_handle(handle)
    if bridge.error is not None:
        return 1
    try:
        return bridge.hal.storage_program(offset, ffi.buffer(data, length)[:]) or 0
    except BaseException as error:  # noqa: BLE001 - re-raised after the C call
        bridge.error = error
        return 1


@ffi.def_extern()
def heg_py_storage_erase(handle, page):
    return _guarded(handle, 1, lambda hal: hal.storage_erase(int(page)) or 0)


@ffi.def_extern()
def heg_py_otp_read(handle, out):
    return _guarded(handle, 1, lambda hal: _copy_exact(out, hal.otp_read(), OTP_SIZE,
                                                       "otp_read"))


@ffi.def_extern()
def heg_py_otp_program(handle, data):
    return _guarded(handle, 1, lambda hal: 1 if hal.otp_program(
        bytes(ffi.buffer(data, OTP_SIZE))) else 0)


@ffi.def_extern()
def heg_py_random(handle, out, length):
    return _guarded(handle, 1, lambda hal: _copy_exact(out, hal.random(int(length)), length,
                                                       "random"))


@ffi.def_extern()
def heg_py_time_now(handle):
    return _guarded(handle, 0, lambda hal: int(hal.time_now()))


@ffi.def_extern()
def heg_py_uptime_ms(handle):
    return _guarded(handle, 0, lambda hal: int(hal.uptime_ms()) & 0xFFFFFFFFFFFFFFFF)


@ffi.def_extern()
def heg_py_reference_ms(handle):
    return _guarded(handle, 0, lambda hal: int(hal.reference_ms()) & 0xFFFFFFFFFFFFFFFF)


class Firmware:
    """One device's firmware context on the given HAL object."""

    def __init__(self, hal: Any) -> None:
        self.hal = hal
        self._bridge = _Bridge(hal)
        self._handle = ffi.new_handle(self._bridge)
        # uint64_t storage keeps the context aligned for its 64-bit fields.
        self._ctx_buf = ffi.new("uint64_t[]", (lib.heg_ctx_size() + 7) // 8)
        self._ctx = ffi.cast("heg_ctx_t *", self._ctx_buf)
        self._hal_buf = ffi.new("uint64_t[]", (lib.heg_cffi_hal_size() + 7) // 8)
        self._hal = ffi.cast("heg_hal_t *", self._hal_buf)
        lib.heg_cffi_hal_bind(self._hal, self._handle)
        native_pages = getattr(hal, "native_pages", None)
        if native_pages is not None:
            lib.heg_cffi_hal_bind_storage(self._hal, *native_pages())
        self._resp = ffi.new("uint8_t[]", _RESPONSE_CAPACITY)
        self._resp_len = ffi.new("size_t *")

    def _finish(self, status: int, what: str) -> None:
        error, self._bridge.error = self._bridge.error, None
        if error is not None:
            raise error
        if status != _STATUS_OK:
            raise DeviceError(status, what)

    def boot(self) -> None:
        """Power-up: heg_init. Raises DeviceError if the firmware refuses to boot."""
        self._finish(lib.heg_init(self._ctx, self._hal), "boot")

    def request(self, message: bytes) -> bytes:
        """One request through heg_dispatch; returns the raw response bytes."""
        message = bytes(message)
        status = lib.heg_dispatch(self._ctx, message, len(message), self._resp,
                                  _RESPONSE_CAPACITY, self._resp_len)
        self._finish(status, "request")
        return bytes(ffi.buffer(self._resp, self._resp_len[0]))

    def poll(self) -> None:
        """One tick of the metering loop."""
        self._finish(lib.heg_poll(self._ctx), "poll")

    def shutdown(self) -> bool:
        """Orderly power-down (heg_shutdown): True once the allowance is settled
        and the context halted; False means the meter must first see a clock
        edge with the gate closed (advance it, e.g. ``meter.idle(1)``, and call
        again)."""
        settled = ffi.new("heg_hbool_t *")
        self._finish(lib.heg_shutdown(self._ctx, settled), "shutdown")
        if settled[0] == HBOOL_TRUE:
            return True
        if settled[0] == HBOOL_FALSE:
            return False
        raise DeviceError(int(DeviceStatus.FAULT_DETECTED), "shutdown")


class NativeFlash(Flash):
    """A part whose pages are C memory, read and programmed by the firmware's
    cffi HAL through the C NOR model (firmware/port/common/heg_nor_sim.c, the
    rules of Flash: erase by page, program only erased aligned words) without
    a call into Python; a fleet's chips spent about a seventh of their CPU in
    the flash's Python calls. Python reads it (``read``, ``image``) but
    programs nothing. For the scenario simulator: no backing file and no
    power cuts (Flash has both); its OTP area is Flash's."""

    def __init__(self, page_size: int = DEFAULT_PAGE_SIZE,
                 page_count: int = DEFAULT_PAGE_COUNT) -> None:
        super().__init__(page_size, page_count)
        self._pages = ffi.new("uint8_t[]", self.size)
        ffi.memmove(self._pages, self._data, self.size)  # erased, as Flash starts

    def native_pages(self) -> tuple[Any, int, int]:
        return self._pages, self.page_size, self.page_count

    def read(self, offset: int, length: int) -> bytes:
        self._check_range(offset, length)
        return ffi.buffer(self._pages, self.size)[offset:offset + length]

    def image(self) -> bytes:
        return ffi.buffer(self._pages, self.size)[:]

    def program(self, offset: int, data: bytes) -> None:
        raise FlashError("a NativeFlash is programmed by the firmware's C HAL only: give the "
                         "firmware a HAL with native_pages, or use Flash")

    def erase(self, page: int) -> None:
        raise FlashError("a NativeFlash is erased by the firmware's C HAL only: give the "
                         "firmware a HAL with native_pages, or use Flash")

    def cut_after(self, n: int) -> None:
        raise FlashError("a NativeFlash has no power cuts (the C HAL programs it): use Flash")


def parse_license(data: bytes) -> dict[str, Any]:
    """The firmware's strict license parser. Raises DeviceError with its status."""
    data = bytes(data)
    # out.signatures points into the parsed bytes: keep them in one buffer
    # that stays alive while they are read below.
    buf = ffi.from_buffer("uint8_t[]", data)
    out = ffi.new("heg_license_t *")
    status = lib.heg_license_parse(buf, len(data), out)
    if status != _STATUS_OK:
        raise DeviceError(status, "license parse")

    def u128(value: Any) -> int:
        return value.lo | (value.hi << 64)

    count = out.signature_count
    return {
        "license_id": bytes(out.license_id),
        "device_id": bytes(out.device_id),
        "workload_id": bytes(out.workload_id),
        "sequence": out.sequence,
        "allocation_msflop": u128(out.allocation_msflop),
        "workload_total_msflop": u128(out.workload_total_msflop),
        "lineage_msflop": u128(out.lineage_msflop),
        "not_before": out.not_before,
        "not_after": out.not_after,
        "license_class": out.license_class,
        "workload_kind": out.workload_kind,
        "oversight_ppm": out.oversight_ppm,
        "inspector_key": bytes(out.inspector_key),
        "signatures": tuple(
            (bytes(out.signatures[i].signer), bytes(out.signatures[i].signature))
            for i in range(count)
        ),
    }


def ed25519_keypair(seed: bytes) -> tuple[bytes, bytes]:
    """The firmware's Ed25519 key derivation: (public key, secret key = seed || public key)."""
    seed = bytes(seed)
    if len(seed) != 32:
        raise ValueError("an Ed25519 seed is 32 bytes")
    public_key = ffi.new("uint8_t[32]")
    secret_key = ffi.new("uint8_t[64]")
    status = lib.heg_crypto_ed25519_keypair(seed, public_key, secret_key)
    if status != _STATUS_OK:
        raise DeviceError(status, "ed25519 keypair")
    return bytes(public_key), bytes(secret_key)


def ed25519_sign(secret_key: bytes, message: bytes) -> bytes:
    """The firmware's Ed25519 signature of message (secret_key from ed25519_keypair)."""
    secret_key, message = bytes(secret_key), bytes(message)
    if len(secret_key) != 64:
        raise ValueError("an Ed25519 secret key is 64 bytes (seed || public key)")
    signature = ffi.new("uint8_t[64]")
    status = lib.heg_crypto_ed25519_sign(signature, message, len(message), secret_key)
    if status != _STATUS_OK:
        raise DeviceError(status, "ed25519 sign")
    return bytes(signature)


def ed25519_verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """The firmware's strict Ed25519 verification (libsodium's rules)."""
    public_key, message, signature = bytes(public_key), bytes(message), bytes(signature)
    if len(public_key) != 32 or len(signature) != 64:
        raise ValueError("Ed25519 needs a 32-byte public key and a 64-byte signature")
    valid = ffi.new("heg_hbool_t *")
    status = lib.heg_crypto_ed25519_verify(signature, message, len(message), public_key, valid)
    if status != _STATUS_OK:
        raise DeviceError(status, "ed25519 verify")
    if valid[0] == HBOOL_TRUE:
        return True
    if valid[0] == HBOOL_FALSE:
        return False
    raise DeviceError(int(DeviceStatus.FAULT_DETECTED), "ed25519 verify")
