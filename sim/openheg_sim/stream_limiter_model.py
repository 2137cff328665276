"""Cycle-exact reference model of hdl/rtl/heg_stream_limiter.v (token-bucket shaper).

Per cycle the inputs are (s_tvalid, s_tkeep, m_tready); ``outputs`` gives what the RTL
drives in that cycle (s_tready, m_tvalid) and ``step`` is the clock edge. Tokens are in
1/2^frac_bits byte units; the bucket starts empty. See the RTL header for the rules.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Beat:
    data: int
    keep: int
    last: int = 0
    user: int = 0

    @property
    def nbytes(self) -> int:
        return bin(self.keep).count("1")


class StreamLimiterModel:
    def __init__(self, rate: int, burst: int, frac_bits: int = 16, bytes_bits: int = 64) -> None:
        self.rate = rate
        self.burst = burst
        self.frac_bits = frac_bits
        self.bytes_max = (1 << bytes_bits) - 1
        self.tokens = 0
        self.out: Beat | None = None
        self.byte_count = 0
        self.cycle = 0

    @property
    def cap(self) -> int:
        return self.burst << self.frac_bits

    def outputs(self, s_valid: bool, keep: int, m_ready: bool) -> tuple[bool, bool]:
        """(s_tready, m_tvalid) in this cycle."""
        out_free = self.out is None or m_ready
        cost = bin(keep).count("1") << self.frac_bits
        return out_free and self.tokens >= cost, self.out is not None

    def step(self, s_valid: bool, beat: Beat, m_ready: bool) -> tuple[bool, Beat | None]:
        """One edge. Returns (input beat accepted, beat delivered on the master side)."""
        s_ready, m_valid = self.outputs(s_valid, beat.keep, m_ready)
        s_xfer = s_valid and s_ready
        delivered = self.out if (m_valid and m_ready) else None
        cost = beat.nbytes << self.frac_bits if s_xfer else 0
        self.tokens = min(self.tokens - cost + self.rate, self.cap)
        if self.out is None or m_ready:
            self.out = Beat(beat.data, beat.keep, beat.last, beat.user) if s_xfer else None
        if delivered is not None:
            self.byte_count = min(self.byte_count + delivered.nbytes, self.bytes_max)
        self.cycle += 1
        return s_xfer, delivered

    def max_bytes(self, cycles: int, tokens_at_start: int | None = None) -> int:
        """Upper bound on the bytes accepted in ``cycles`` consecutive cycles."""
        start = self.cap if tokens_at_start is None else tokens_at_start
        return (start + cycles * self.rate) >> self.frac_bits
