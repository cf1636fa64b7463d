"""When each voluntary motor unit fires: every site's discharge schedule, advanced block by block with numpy.

All units of all sites sit in flat arrays, so one block costs a handful of vector operations whatever the number of
units (a per-unit Python loop would not keep 16 channels at 20 kHz far ahead of real time). The schedule is advanced
only in whole blocks at fixed sample positions, so the random numbers it draws, and therefore the signal, do not
depend on how callers chunk their reads. A new needle site replaces one channel's segment of the arrays
(:meth:`FiringSchedule.replace`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emgscope.acquisition.sim_pool import FiringSpec

MIN_INTERVAL_FRACTION = 0.2
"""A drawn inter-discharge interval is never shorter than this fraction of the mean (a refractory floor)."""
_FIELDS = ("_threshold", "_onset", "_span", "_tau", "_cv", "_next")


class FiringSchedule:
    """Next discharge time of every unit; rates follow the effort given for each block."""

    def __init__(self, specs: Sequence[FiringSpec], sample_rate: float, rng: np.random.Generator) -> None:
        self._fs = sample_rate
        self._rng = rng
        self._threshold, self._onset, self._span, self._tau, self._cv, self._next = _arrays(specs)
        self._rates_for: tuple[float, np.ndarray] | None = None
        """The rates at the last effort asked for: effort usually stays put for many blocks."""

    def __len__(self) -> int:
        return int(self._threshold.size)

    def replace(self, first: int, count: int, specs: Sequence[FiringSpec]) -> None:
        """Put ``specs`` in place of the ``count`` units from index ``first`` (a channel's new site); the new units
        start silent and join at a random phase like any newly recruited unit."""
        for name, new in zip(_FIELDS, _arrays(specs), strict=True):
            old = getattr(self, name)
            setattr(self, name, np.concatenate((old[:first], new, old[first + count :])))
        self._rates_for = None

    def rates(self, effort: float) -> np.ndarray:
        """Discharge rate of every unit at ``effort`` percent, 0 for those not recruited."""
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
        jitter = 1.0 + self._cv[ids] * self._rng.standard_normal(ids.size)
        return self._fs / rates * np.maximum(jitter, MIN_INTERVAL_FRACTION)

    def advance(self, start: int, stop: int, effort: float) -> tuple[np.ndarray, np.ndarray]:
        """Discharges in samples ``[start, stop)`` at ``effort``: ``(sample indices, unit indices)``.

        A unit recruited in this block starts at a random phase of its first interval; one whose threshold is no
        longer reached falls silent at once.
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


def _arrays(specs: Sequence[FiringSpec]) -> tuple[np.ndarray, ...]:
    return (
        np.array([s.threshold for s in specs], dtype=np.float64),
        np.array([s.onset_hz for s in specs], dtype=np.float64),
        np.array([s.peak_hz - s.onset_hz for s in specs], dtype=np.float64),
        np.array([s.tau_percent for s in specs], dtype=np.float64),
        np.array([s.cv for s in specs], dtype=np.float64),
        np.full(len(specs), np.inf),
    )
