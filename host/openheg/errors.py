"""Typed exceptions raised by openheg, and the device's status codes.

Every failure a person can hit is one of these classes, and every message says
what was wrong and, where it can, what to do about it. The CLI prints
``str(error)`` on one line and exits non-zero; it never shows a traceback.
"""

from __future__ import annotations

from enum import IntEnum


class DeviceStatus(IntEnum):
    """Status codes the firmware returns, one per failure it can report.

    This list is the single source: tools/wire_gen.py writes it into the
    firmware's C header. Extend only: existing values never change. OK is
    deliberately not 0 so that a zeroed or uninitialised status reads as a
    failure; the high byte names the module that raised it.
    """

    OK = 0x0739
    BAD_REQUEST = 0x0101
    UNKNOWN_COMMAND = 0x0102
    RESPONSE_TOO_LARGE = 0x0103
    RECORD_LENGTH = 0x0201
    RECORD_HEADER = 0x0202
    RECORD_FIELD = 0x0203
    SIGNATURE_INVALID = 0x0301
    SIGNER_UNTRUSTED = 0x0302
    KEY_REVOKED = 0x0303
    QUORUM_NOT_MET = 0x0304
    PARTY_VETO = 0x0305
    WRONG_DEVICE = 0x0401
    REPLAYED = 0x0402
    SEQUENCE_JUMP = 0x0403
    NOT_YET_VALID = 0x0404
    EXPIRED = 0x0405
    CLASS_TOO_LOW = 0x0406
    OVERSIGHT_TOO_LOW = 0x0407
    TIME_UNTRUSTED = 0x0408
    NONCE_EXPIRED = 0x0409
    ALLOCATION_EXCEEDS_TOTAL = 0x040A
    OVER_GRANTED = 0x040B
    WORKLOADS_FULL = 0x040C
    PAUSE_IS_NEWER = 0x040D
    OUTSIDE_REPLAY_WINDOW = 0x040E
    WRONG_POLICY = 0x040F
    WRONG_STATE = 0x0501
    LOCKED_OUT = 0x0502
    RECOVERY_REQUIRED = 0x0503
    RECOVERY_NONCE_MISMATCH = 0x0504
    GENESIS_MISMATCH = 0x0505
    STORAGE = 0x0601
    OTP_INVALID = 0x0602
    HARDWARE = 0x0701
    FAULT_DETECTED = 0x0702
    CRYPTO = 0x0801


STATUS_HINTS: dict[DeviceStatus, str] = {
    DeviceStatus.BAD_REQUEST: "the request was malformed; check the host and device versions match",
    DeviceStatus.UNKNOWN_COMMAND: "the device does not implement this command",
    DeviceStatus.RESPONSE_TOO_LARGE: "the response does not fit the host's buffer",
    DeviceStatus.RECORD_LENGTH: "the record is truncated or has trailing bytes",
    DeviceStatus.RECORD_HEADER: "the record is not an openheg record of the expected type and version",
    DeviceStatus.RECORD_FIELD: "a field of the record is out of range or not in canonical form",
    DeviceStatus.SIGNATURE_INVALID: "a signature does not verify",
    DeviceStatus.SIGNER_UNTRUSTED: "no signature is by a key the device trusts",
    DeviceStatus.KEY_REVOKED: "a signer or named key is revoked by the policy in force",
    DeviceStatus.QUORUM_NOT_MET: ("too few signatures by the board or the party representatives "
                                  "the record needs"),
    DeviceStatus.PARTY_VETO: ("the policy changes who holds the Horizon veto (the party "
                              "representatives, the board or its Horizon quorum) or raises the "
                              "Horizon threshold: it needs every current party representative "
                              "and the current board's Horizon quorum"),
    DeviceStatus.CLASS_TOO_LOW: ("the license's class is below what its compute requires at the "
                                 "Frontier and Horizon thresholds in force"),
    DeviceStatus.OVERSIGHT_TOO_LOW: "the license reserves less oversight than the policy's minimum",
    DeviceStatus.TIME_UNTRUSTED: ("the device has no fresh time beacon: send one with `openheg "
                                  "authority beacon URL --authority DIR` (or run `openheg "
                                  "--time-from DIR ...`) and try again"),
    DeviceStatus.NONCE_EXPIRED: ("the time beacon answers a nonce older than the nonce lifetime "
                                 "(wire.NONCE_LIFETIME_S): ask for a new TIME_NONCE and deliver "
                                 "its beacon at once"),
    DeviceStatus.ALLOCATION_EXCEEDS_TOTAL: ("the license allocates more compute than the "
                                            "workload total it declares; its class follows "
                                            "from that total, so the allocation may not exceed "
                                            "it"),
    DeviceStatus.OVER_GRANTED: ("with this license the device would have granted the workload "
                                "more than the total the license declares (its earlier licenses "
                                "on this device count): issue one whose allocation fits what is "
                                "left, or declare the workload's true total and class"),
    DeviceStatus.WORKLOADS_FULL: ("the device's workload table is full of paused workloads: "
                                  "resume one before licensing a new workload"),
    DeviceStatus.PAUSE_IS_NEWER: ("the resume was issued before the pause in force: a resume "
                                  "lifts only a pause issued no later than itself; issue a new "
                                  "resume"),
    DeviceStatus.OUTSIDE_REPLAY_WINDOW: ("the order restricts, but its sequence lies more than "
                                         "wire.ORDER_REPLAY_WINDOW below the highest its role "
                                         "has given the device: the device cannot tell whether "
                                         "it was applied; issue it again with the role's next "
                                         "sequence"),
    DeviceStatus.WRONG_POLICY: ("the fleet order is bound to another policy than the one in "
                                "force on the device (its digest differs): issue it under the "
                                "device's policy (INFO, or the ledger's attested policy digest)"),
    DeviceStatus.LOCKED_OUT: ("too many failed signature or authorization attempts: the device "
                              "refuses records until its lockout period has passed"),
    DeviceStatus.WRONG_DEVICE: "the record is bound to another device",
    DeviceStatus.REPLAYED: "the record's sequence number is not newer than the last one accepted",
    DeviceStatus.SEQUENCE_JUMP: "the record's sequence number jumps too far ahead",
    DeviceStatus.NOT_YET_VALID: "the record's validity window has not started",
    DeviceStatus.EXPIRED: "the record's validity window has ended",
    DeviceStatus.WRONG_STATE: "the device is not in a state that allows this command",
    DeviceStatus.RECOVERY_REQUIRED: ("the device lost its stored state after it was provisioned: "
                                     "it takes only INFO, READ_LOG and a RECOVER signed by the "
                                     "vendor its OTP anchor names"),
    DeviceStatus.RECOVERY_NONCE_MISMATCH: ("the recovery authorization names another device "
                                           "nonce: read INFO's recovery_nonce (new at every "
                                           "boot) and have the vendor sign again"),
    DeviceStatus.GENESIS_MISMATCH: ("the genesis policy sent is not the one the vendor's "
                                    "recovery authorization names (its digest differs)"),
    DeviceStatus.STORAGE: "the device's persistent storage failed",
    DeviceStatus.OTP_INVALID: ("the device's OTP anchor is torn or names another vendor: it "
                               "cannot be provisioned or recovered (fail closed)"),
    DeviceStatus.HARDWARE: "the meter hardware did not respond as expected",
    DeviceStatus.FAULT_DETECTED: "the firmware detected an inconsistent decision (fault injection?)",
    DeviceStatus.CRYPTO: "the device's cryptographic operation failed",
}


class OpenhegError(Exception):
    """Base of every error openheg raises on purpose."""


class RecordError(OpenhegError):
    """Bytes that are not exactly one valid encoding of the expected record.

    ``kind`` is the DeviceStatus the firmware returns for the same bytes
    (RECORD_LENGTH, RECORD_HEADER or RECORD_FIELD), so host and device
    verdicts can be compared on the golden vectors.
    """

    def __init__(self, message: str, kind: DeviceStatus = DeviceStatus.RECORD_FIELD):
        self.kind = kind
        super().__init__(message)


class SignatureError(OpenhegError):
    """A signature that does not verify under the strict Ed25519 rules."""


class VerificationError(OpenhegError):
    """An attestation or record that is well formed but must not be trusted."""


class KeyFileError(OpenhegError):
    """A key file that is missing, unreadable or of the wrong kind."""


class TransportError(OpenhegError):
    """The device could not be reached, or the link broke mid-exchange."""


class DeviceError(OpenhegError):
    """The device answered, and refused the request with a status code."""

    def __init__(self, status: int, command: str):
        self.status = status
        self.command = command
        try:
            known = DeviceStatus(status)
        except ValueError:
            message = f"device refused {command}: unknown status 0x{status:04x}"
        else:
            message = f"device refused {command}: {known.name} ({STATUS_HINTS[known]})"
        super().__init__(message)


class DeviceStateError(OpenhegError):
    """The device is in a state where the asked-for step makes no sense yet."""


class EmulatorError(OpenhegError):
    """The in-process emulator is not built or cannot run as asked."""
