"""Sample index ↔ host time for a stream sampled at a nominal rate, learnt from when its chunks arrived.

Both ends of the Lab Streaming Layer need it: the outlet stamps each sample of a ring with the time it was taken,
and the inlet puts an LSL marker on the sample of its time. Neither can use arrival times as they are: a chunk
arrives (is written to the ring, reaches the inlet) some time after its samples were taken, late by however long
the device, the transport or a busy machine held it. That lateness is never negative, so the *earliest* arrival
relative to the sample clock is the best estimate of when samples are taken: the clock's offset is the lowest
``arrival - n / rate`` seen over the last :data:`WINDOW_S` (the lower envelope of the arrivals). Taking the lowest
of a window, not of all time, follows a device whose crystal runs a little fast or slow of the host's. A lower
offset is taken up no faster than :data:`MAX_SLEW` of the signal time that passed, so stamps never run backwards.

Samples that never arrived (a gap the source counted, see :meth:`SampleClock.skip`) still took their time: the
samples after a gap are stamped as late as they were taken.
"""

from __future__ import annotations

import bisect
import collections
import math

WINDOW_S = 10.0
"""How far back the lowest lateness is looked for. A device 100 ppm off the host's clock moves the offset 1 ms in
this time, which is how far the estimate may trail it; a shorter window lets one late stretch weigh more."""
MAX_SLEW = 0.1
"""How fast a lower offset is taken up, as a fraction of the signal time that passed: stamps run at no less than
0.9 × real time while the clock settles, so consecutive stamps always increase."""


class SampleClock:
    """``time_of(index)`` and ``index_at(time)`` for one stream (indices are the ring's, times any one clock's)."""

    def __init__(self, rate: float, window_s: float = WINDOW_S) -> None:
        self.rate = rate
        self.window_s = window_s
        self._offset = math.nan
        """Time of counter position 0 (``time = offset + counter / rate``)."""
        self._envelope: collections.deque[tuple[float, float]] = collections.deque()
        """(arrival, offset) of the observations in the window whose offsets increase from the front: its front is
        the window's lowest (a sliding-window minimum)."""
        self._last_counter = 0
        self._gap_indices: list[int] = []
        self._gap_totals: list[int] = []
        """Ring index of each gap (the first sample after it) and the samples missing up to and including it."""
        self._gap_starts: list[int] = []
        """Where each gap begins on the counter (ring index plus the samples missing before it)."""

    @property
    def ready(self) -> bool:
        """Whether anything arrived yet (before that, no time can be given)."""
        return not math.isnan(self._offset)

    def skipped_before(self, index: int) -> int:
        """Samples missing before ring index ``index``."""
        k = bisect.bisect_right(self._gap_indices, index)
        return self._gap_totals[k - 1] if k else 0

    def gaps_in(self, start: int, stop: int) -> list[int]:
        """The ring indices in ``(start, stop)`` that follow a gap: a stretch of samples stamped at the nominal rate
        must be cut there."""
        return [index for index in self._gap_indices if start < index < stop]

    def skip(self, index: int, samples: int) -> None:
        """``samples`` never arrived before ring index ``index`` (gaps are reported in order)."""
        if samples <= 0:
            return
        if self._gap_indices and index < self._gap_indices[-1]:
            raise ValueError("gaps must be reported in the order of the samples")
        before = self.skipped_before(index)
        self._gap_indices.append(index)
        self._gap_totals.append(before + samples)
        self._gap_starts.append(index + before)

    def observe(self, count: int, arrived: float) -> None:
        """Samples up to ring index ``count - 1`` had arrived by ``arrived``."""
        if count <= 0:
            return
        counter = count - 1 + self.skipped_before(count - 1)
        offset = arrived - counter / self.rate
        envelope = self._envelope
        while envelope and envelope[-1][1] >= offset:
            envelope.pop()
        envelope.append((arrived, offset))
        while envelope[0][0] < arrived - self.window_s:
            envelope.popleft()
        lowest = envelope[0][1]
        if not self.ready or lowest >= self._offset:
            self._offset = lowest
        else:
            passed = max(0, counter - self._last_counter) / self.rate
            self._offset = max(lowest, self._offset - MAX_SLEW * passed)
        self._last_counter = counter

    def time_of(self, index: float) -> float:
        """When the sample at ring index ``index`` was taken."""
        return self._offset + (index + self.skipped_before(math.floor(index))) / self.rate

    def index_at(self, time: float) -> int:
        """The ring index of the sample taken nearest ``time`` (a time within a gap gives the first sample after
        it; one before the stream began, sample 0)."""
        counter = round((time - self._offset) * self.rate)
        k = bisect.bisect_right(self._gap_starts, counter)
        if k == 0:
            return max(0, counter)
        gap_index, total = self._gap_indices[k - 1], self._gap_totals[k - 1]
        return max(gap_index, counter - total)
