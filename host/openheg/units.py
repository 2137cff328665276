"""Standard-FLOP amounts as people write them and as the wire carries them.

The wire, the firmware and the meter count milli-sFLOP as integers (weights
are milli-sFLOP per op), so conversions here are exact decimal arithmetic,
never floating point.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from .errors import OpenhegError
from .wire import MAX_U128

MILLI = 1000


class AmountError(OpenhegError):
    """An sFLOP amount that is not a positive number representable on the wire."""


def parse_sflop(text: str) -> int:
    """'1.5e21' sFLOP -> milli-sFLOP, exactly; refuses fractions below 0.001 sFLOP."""
    try:
        value = Decimal(text.strip().replace("_", ""))
    except InvalidOperation:
        raise AmountError(f"{text!r} is not a number of sFLOP (e.g. 1e21 or 250000)") from None
    if not value.is_finite() or value <= 0:
        raise AmountError(f"{text!r}: an sFLOP amount must be a positive number")
    # Compared before scaling: 1e999999 * 1000 would overflow the decimal context.
    if value > MAX_U128:
        raise AmountError(f"{text!r}: larger than the wire's u128 milli-sFLOP can carry")
    milli = value * MILLI
    if milli != milli.to_integral_value():
        raise AmountError(f"{text!r}: amounts are counted in whole milli-sFLOP (0.001 sFLOP)")
    if milli > MAX_U128:
        raise AmountError(f"{text!r}: larger than the wire's u128 milli-sFLOP can carry")
    return int(milli)


def format_sflop(msflop: int) -> str:
    """milli-sFLOP -> a short human string in sFLOP, e.g. '1.2e+09 sFLOP'."""
    value = Decimal(msflop) / MILLI
    if value < 1_000_000:
        return f"{value.normalize():f} sFLOP"
    return f"{float(value):.4g} sFLOP"
