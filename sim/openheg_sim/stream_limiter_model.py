"""Cycle-exact reference model of hdl/rtl/heg_stream_limiter.v (token-bucket shaper).

Per cycle the inputs are (s_tvalid, m_tready); ``outputs`` gives what the RTL drives in
that cycle (s_tready, m_tvalid) and ``step`` is the clock edge. Tokens are in
1/2^frac_bits wire-byte units; the bucket starts empty. Every beat costs the same
``beat_cost`` wire bytes: all the bits it puts on the wire (data, tkeep, tlast, tuser),
whatever tkeep says. See the RTL header for the rules.

``rate`` and ``burst`` are the policy inputs (rate_i, burst_i); like the RTL's three-stage
policy pipeline, the model applies the policy sampled POLICY_LATENCY edges earlier
(``rate_applied``, ``burst_applied``: 0 out of reset): a policy on the inputs at edge N
governs the token update from edge N+3.
"""

from __future__ import annotations

from dataclasses import dataclass

from openheg import linkmap

# Edges from a policy on rate_i/burst_i to the token update that applies it: sampled at
# edge N into stage 1, applied at edge N + POLICY_LATENCY (heg_stream_limiter.v).
POLICY_LATENCY = 3


def beat_cost(data_bits: int = 64, user_bits: int = 1) -> int:
    """Wire bytes one beat costs: ceil((data + keep + last + user bits) / 8)."""
    return -(-(data_bits + data_bits // 8 + 1 + user_bits) // 8)


@dataclass
class Beat:
    data: int
    keep: int
    last: int = 0
    user: int = 0

    @property
    def nbytes(self) -> int:
        """Data bytes the beat marks valid (not what it costs: see beat_cost)."""
        return bin(self.keep).count("1")


class StreamLimiterModel:
    def __init__(self, rate: int, burst: int, frac_bits: int = 16, bytes_bits: int = 64,
                 data_bits: int = 64, user_bits: int = 1) -> None:
        self.rate = rate
        self.burst = burst
        self.frac_bits = frac_bits
        self.bytes_max = (1 << bytes_bits) - 1
        self.beat_cost = beat_cost(data_bits, user_bits)
        # Stages 1..POLICY_LATENCY of the policy pipeline, as (rate, burst); the last is
        # the one in effect. Reset: rate 0, burst 0 in every stage.
        self.policy_stages = [(0, 0)] * POLICY_LATENCY
        self.tokens = 0
        self.out: Beat | None = None
        self.byte_count = 0
        self.cycle = 0

    @property
    def rate_applied(self) -> int:
        """The rate the next edge applies (policy in effect)."""
        return self.policy_stages[-1][0]

    @property
    def burst_applied(self) -> int:
        """The burst the next edge applies (policy in effect)."""
        return self.policy_stages[-1][1]

    @property
    def cap(self) -> int:
        """The bucket capacity in token units, of the policy in effect."""
        return self.burst_applied << self.frac_bits

    @property
    def cost(self) -> int:
        """One beat's cost in token units."""
        return self.beat_cost << self.frac_bits

    @property
    def credit(self) -> int:
        """Tokens plus the cost of the beat waiting in the output register."""
        return self.tokens + (self.cost if self.out is not None else 0)

    def outputs(self, s_valid: bool, m_ready: bool) -> tuple[bool, bool]:
        """(s_tready, m_tvalid) in this cycle."""
        out_free = self.out is None or m_ready
        return out_free and self.tokens >= self.cost, self.out is not None

    def step(self, s_valid: bool, beat: Beat, m_ready: bool) -> tuple[bool, Beat | None]:
        """One edge. Returns (input beat accepted, beat delivered on the master side)."""
        s_ready, m_valid = self.outputs(s_valid, m_ready)
        s_xfer = s_valid and s_ready
        delivered = self.out if (m_valid and m_ready) else None
        held = self.out is not None and not m_ready
        out_full_after = s_xfer or held
        room = max(self.cap - self.cost, 0) if out_full_after else self.cap
        self.tokens = min(self.tokens - (self.cost if s_xfer else 0) + self.rate_applied, room)
        self.policy_stages = [(self.rate, self.burst)] + self.policy_stages[:-1]
        if self.out is None or m_ready:
            self.out = Beat(beat.data, beat.keep, beat.last, beat.user) if s_xfer else None
        if delivered is not None:
            self.byte_count = min(self.byte_count + self.beat_cost, self.bytes_max)
        self.cycle += 1
        return s_xfer, delivered

    def max_wire_bytes(self, cycles: int) -> int:
        """Upper bound on the wire bytes delivered in any ``cycles`` consecutive cycles
        (with the policy held)."""
        return ((self.burst << self.frac_bits) + cycles * self.rate) >> self.frac_bits


# The emulated link's clock: the limiter counts cycles of it (RATE is wire bytes
# per cycle x 2^16). One gigahertz, an accelerator-link-class clock.
EMULATED_LINK_CLOCK_HZ = 1_000_000_000


class LinkRegisters:
    """heg_link (hdl/rtl/heg_link.v) as its firmware sees it: the register block
    of hdl/rdl/heg_link.rdl around a token bucket, in bulk steps.

    ``carry`` offers traffic for a stretch of cycles at once, for emulation that
    does not step cycles: the bucket gains RATE a cycle, never holds more than
    BURST, and a beat passes only on a whole beat's cost, so over ``cycles`` at
    most BURST + RATE x cycles wire bytes pass, the RTL's bound
    (StreamLimiterModel is the cycle-exact model of the datapath)."""

    def __init__(self, frac_bits: int = 16, data_bits: int = 64, user_bits: int = 1) -> None:
        self.frac_bits = frac_bits
        self.beat_cost = beat_cost(data_bits, user_bits)
        self.regwen = 1
        self.rate = 0
        self.burst = 0
        self.tokens = 0
        self.byte_count = 0
        self.bytes_hi_latched = 0
        self.locked_writes = 0

    def read(self, offset: int) -> int:
        if offset == linkmap.REG_ID:
            return linkmap.ID_MAGIC_RESET
        if offset == linkmap.REG_VERSION:
            return linkmap.VERSION_MAJOR_RESET << linkmap.VERSION_MAJOR_SHIFT
        if offset == linkmap.REG_LINK_REGWEN:
            return self.regwen
        if offset == linkmap.REG_RATE:
            return self.rate
        if offset == linkmap.REG_BURST:
            return self.burst
        if offset == linkmap.REG_BEAT_COST:
            return self.beat_cost
        if offset == linkmap.REG_BYTES_LO:
            self.bytes_hi_latched = self.byte_count >> 32
            return self.byte_count & 0xFFFFFFFF
        if offset == linkmap.REG_BYTES_HI:
            return self.bytes_hi_latched
        if offset == linkmap.REG_ERR_STATUS:
            return self.locked_writes
        return 0

    def write(self, offset: int, value: int) -> None:
        if offset == linkmap.REG_LINK_REGWEN:
            self.regwen &= value & 1  # write-zero-to-clear
        elif offset in (linkmap.REG_RATE, linkmap.REG_BURST):
            if not self.regwen:
                self.locked_writes = min(self.locked_writes + 1, 0xFFFF)
            elif offset == linkmap.REG_RATE:
                self.rate = value & 0xFFFFFFFF
            else:
                self.burst = value & linkmap.BURST_BYTES_MASK

    def carry(self, offered_wire_bytes: int, cycles: int) -> int:
        """Offer ``offered_wire_bytes`` over ``cycles``; returns the wire bytes let through."""
        cost = self.beat_cost << self.frac_bits
        cap = self.burst << self.frac_bits
        budget = min(self.tokens, cap) + self.rate * cycles
        beats = min(offered_wire_bytes // self.beat_cost, budget // cost) if cost <= cap else 0
        self.tokens = min(budget - beats * cost, cap)
        passed = beats * self.beat_cost
        self.byte_count = min(self.byte_count + passed, (1 << 64) - 1)
        return passed
