"""Cycle-exact reference model of hdl/rtl/heg_counter_frontend.v: sampled cumulative
per-lane op counters in, meter lane events and tamper out. See the RTL header.

``step(sample)`` is one clock edge; ``sample`` is the tuple of cumulative counters when
sample_valid_i is high in that cycle, None otherwise. After the edge, ``events`` is the
per-lane op count the block drives to the meter in the next cycle (0: no event) and
``tamper`` its tamper output.
"""

from __future__ import annotations

from collections.abc import Sequence


class CounterFrontendModel:
    def __init__(self, lanes: int = 6, cnt_bits: int = 48, count_bits: int = 16) -> None:
        self.lanes = lanes
        self.cnt_max = (1 << cnt_bits) - 1
        self.count_max = (1 << count_bits) - 1
        self.peaks = [0] * lanes
        self.seen = False
        self.last = [0] * lanes
        self.allowance = [0] * lanes
        self.debt = [0] * lanes
        self.events = [0] * lanes
        self.backwards = False
        self.too_fast = False

    @property
    def tamper(self) -> bool:
        return self.backwards or self.too_fast

    def set_peaks(self, peaks: Sequence[int]) -> None:
        if len(peaks) != self.lanes or not all(0 <= p <= self.count_max for p in peaks):
            raise ValueError(f"peaks must be {self.lanes} values in 0..{self.count_max}")
        self.peaks = list(peaks)

    def step(self, sample: Sequence[int] | None = None) -> None:
        if sample is not None and (len(sample) != self.lanes
                                   or not all(0 <= s <= self.cnt_max for s in sample)):
            raise ValueError(f"a sample is {self.lanes} counters in 0..{self.cnt_max}")
        events = []
        for lane in range(self.lanes):
            peak = self.peaks[lane]
            emit = min(self.debt[lane], peak)
            debt = self.debt[lane] - emit
            budget = min(self.allowance[lane] + peak, self.cnt_max)
            self.allowance[lane] = budget
            if sample is not None:
                value, last = sample[lane], self.last[lane]
                self.last[lane] = value
                self.allowance[lane] = 0
                if self.seen:
                    if value < last:
                        self.backwards = True
                    else:
                        if value - last > budget:
                            self.too_fast = True
                        debt += value - last
            self.debt[lane] = debt
            events.append(emit)
        if sample is not None:
            self.seen = True
        self.events = events
