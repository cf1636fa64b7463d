"""When each generator fires: every site's discharge schedule, advanced block by block with numpy.

All generators of all sites sit in flat arrays, so one block costs a handful of vector operations whatever the
number of units (a per-unit Python loop would not keep 16 channels at 20 kHz far ahead of real time). The
schedule is advanced only in whole blocks at fixed sample positions, so the random numbers it draws, and
therefore the signal, do not depend on how callers chunk their reads.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emgscope.acquisition.sim_pool import FiringSpec

MIN_INTERVAL_FRACTION = 0.2
"""A drawn inter-discharge interval is never shorter than this fraction of the mean (a refractory floor)."""


class FiringSchedule:
    """Next discharge time of every generator; rates follow the effort given for each block."""

    def __init__(self, specs: Sequence[FiringSpec], sample_rate: float, rng: np.random.Generator) -> None:
        self._fs = sample_rate
        self._rng = rng
        self._threshold = np.array([s.threshold for s in specs], dtype=np.float64)
        self._onset = np.array([s.onset_hz for s in specs], dtype=np.float64)
        self._span = np.array([s.peak_hz - s.onset_hz for s in specs], dtype=np.float64)
        self._tau = np.array([s.tau_percent for s in specs], dtype=np.float64)
        self._cv = np.array([s.cv for s in specs], dtype=np.float64)
        self._poisson = np.array([s.poisson for s in specs], dtype=bool)
        self._next = np.full(len(specs), np.inf)
        """Sample index (fractional) of each generator's next discharge; inf while it is silent."""
        self._rates_for: tuple[float, np.ndarray] | None = None
        """The rates at the last effort asked for: effort usually stays put for many blocks."""

    def rates(self, effort: float) -> np.ndarray:
        """Discharge rate of every generator at ``effort`` percent, 0 for those not recruited."""
        cached = self._rates_for
        if cached is not None and cached[0] == effort:
            return cached[1]
        above = effort - self._threshold
        with np.errstate(invalid="ignore"):
            rates = self._onset + self._span * (1.0 - np.exp(-np.maximum(above, 0.0) / self._tau))
        rates = np.where(above >= 0, rates, 0.0)
        self._rates_for = (effort, rates)
        return rates

    def _intervals(self, ids: np.ndarray, rates: np.ndarray) -> np.ndarray:
        mean = self._fs / rates
        jitter = 1.0 + self._cv[ids] * self._rng.standard_normal(ids.size)
        spread = np.where(self._poisson[ids], self._rng.exponential(1.0, ids.size), jitter)
        return mean * np.maximum(spread, MIN_INTERVAL_FRACTION)

    def advance(self, start: int, stop: int, effort: float) -> tuple[np.ndarray, np.ndarray]:
        """Discharges in samples ``[start, stop)`` at ``effort``: ``(sample indices, generator ids)``.

        A generator recruited in this block starts at a random phase of its first interval; one whose
        threshold is no longer reached falls silent at once.
        """
        rates = self.rates(effort)
        active = rates > 0
        self._next[~active] = np.inf
        joined = np.flatnonzero(active & np.isinf(self._next))
        if joined.size:
            self._next[joined] = start + self._rng.random(joined.size) * self._fs / rates[joined]
        times: list[np.ndarray] = []
        ids: list[np.ndarray] = []
        due = np.flatnonzero(self._next < stop)
        while due.size:
            times.append(self._next[due])
            ids.append(due)
            self._next[due] += self._intervals(due, rates[due])
            due = due[self._next[due] < stop]
        if not ids:
            return np.empty(0, np.int64), np.empty(0, np.intp)
        return np.floor(np.concatenate(times)).astype(np.int64), np.concatenate(ids)
