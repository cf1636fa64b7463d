"""When each spontaneous generator fires: the patterns a trainee learns to recognise by ear.

Voluntary motor units follow effort (:mod:`sim_firing`); everything here fires on its own pattern, whatever the
effort: the regular, sometimes slowing trains of fibrillations and positive sharp waves, the slow irregular
fasciculations, the machine-like runs of a complex repetitive discharge, the waxing and waning of a myotonic
discharge, the bursts of a myokymic unit, the decrementing high-frequency trains of a neuromyotonic one, and the
irregular endplate activity. Each pattern is a small class with one method, :meth:`Pattern.advance`, that returns
the discharges (start sample, gain) falling in a block of samples.

Every pattern draws from its own random generator and only when it schedules a discharge, so its output depends on
the seed alone, never on how the stream is read. Times are fractional sample indices until they are returned.
"""

from __future__ import annotations

import math

import numpy as np

from emgscope.acquisition import sim_profiles as p

Events = tuple[np.ndarray, np.ndarray]
"""``(start samples int64, gains)`` of the discharges in a block."""

_NONE: Events = (np.empty(0, np.int64), np.empty(0))


def _events(times: list[float], gains: list[float]) -> Events:
    if not times:
        return _NONE
    return np.floor(np.array(times)).astype(np.int64), np.array(gains)


class Pattern:
    """Discharge times of one generator; ``rate`` is the sample rate, ``start`` the sample it begins at."""

    def __init__(self, rng: np.random.Generator, rate: float, start: float) -> None:
        self.rng = rng
        self.rate = rate
        self._next = start + self._first(start)

    def _first(self, start: float) -> float:
        """Samples from ``start`` to the first discharge (a random phase, so generators do not start together)."""
        return 0.0

    def advance(self, start: int, stop: int) -> Events:
        """Discharges starting in samples ``[start, stop)``."""
        times: list[float] = []
        gains: list[float] = []
        while self._next < stop:
            at = self._next
            gain = self._fire(at)
            if gain > 0:
                times.append(max(at, float(start)))
                gains.append(gain)
        return _events(times, gains)

    def _fire(self, at: float) -> float:
        """Advance ``_next`` past the discharge at ``at``; its gain (0: nothing fires there)."""
        raise NotImplementedError


class Train(Pattern):
    """A fibrillating fibre (or one giving positive sharp waves): a regular train (a few irregular), which may slow
    over seconds and stop, another fibre taking over after a pause (SIMULATION_PARAMETERS §2)."""

    def __init__(self, rng: np.random.Generator, rate: float, start: float) -> None:
        self._begin_train(rng, start)
        super().__init__(rng, rate, start)

    def _first(self, start: float) -> float:
        return self.rng.random() * self.rate / self.rate_hz

    def _begin_train(self, rng: np.random.Generator, at: float) -> None:
        self.rate_hz = rng.uniform(*p.SPONTANEOUS_RATE_HZ)
        irregular = rng.random() < p.IRREGULAR_FRACTION
        self.cv = rng.uniform(*(p.IRREGULAR_CV if irregular else p.REGULAR_CV))
        slowing = not irregular and rng.random() < p.SLOWING_FRACTION
        self.half_life_s = rng.uniform(*p.SLOWING_S) if slowing else math.inf
        self.began = at

    def rate_at(self, at: float) -> float:
        return self.rate_hz * 0.5 ** ((at - self.began) / self.rate / self.half_life_s)

    def _fire(self, at: float) -> float:
        now = self.rate_at(at)
        if now < p.SPONTANEOUS_RATE_HZ[0]:
            # The fibre falls silent; another starts after a pause.
            self._begin_train(self.rng, at)
            self._next = at + self.rng.uniform(*p.PAUSE_S) * self.rate
            return 0.0
        interval = self.rate / now * max(1.0 + self.cv * self.rng.standard_normal(), 0.2)
        self._next = at + interval
        return 1.0


class Poisson(Pattern):
    """Irregular discharges at a mean rate: fasciculations, miniature endplate potentials."""

    def __init__(self, rng: np.random.Generator, rate: float, start: float, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        super().__init__(rng, rate, start)

    def _first(self, start: float) -> float:
        return self.rng.exponential(self.rate / self.rate_hz) if self.rate_hz > 0 else math.inf

    def _fire(self, at: float) -> float:
        self._next = at + self.rng.exponential(self.rate / self.rate_hz)
        return 1.0


class Irregular(Pattern):
    """Endplate spikes: irregular (gamma intervals with a high CV) up to about 50 Hz (§2)."""

    def __init__(self, rng: np.random.Generator, rate: float, start: float, rate_hz: float, cv: float) -> None:
        self.rate_hz = rate_hz
        self.shape = 1.0 / (cv * cv)
        super().__init__(rng, rate, start)

    def _first(self, start: float) -> float:
        return self.rng.random() * self.rate / self.rate_hz

    def _fire(self, at: float) -> float:
        self._next = at + self.rng.gamma(self.shape, 1.0 / self.shape) * self.rate / self.rate_hz
        return 1.0


class Runs(Pattern):
    """Runs separated by silences. Subclasses say how the discharges of a run are spaced and sized."""

    run_s: tuple[float, float] = (1.0, 1.0)
    pause_s: tuple[float, float] = (1.0, 1.0)

    def __init__(self, rng: np.random.Generator, rate: float, start: float) -> None:
        self.run_start = 0.0
        self.run_end = 0.0
        super().__init__(rng, rate, start)

    def _first(self, start: float) -> float:
        first = self.rng.uniform(0.0, self.pause_s[1]) * self.rate
        self._begin(start + first)
        return first

    def _begin(self, at: float) -> None:
        self.run_start = at
        self.run_end = at + self.rng.uniform(*self.run_s) * self.rate
        self._new_run()

    def _new_run(self) -> None:
        """Draw what stays fixed during one run."""

    def start_run(self, at: float) -> None:
        """Begin a run at ``at`` (a needle movement sets one off), unless one is going on."""
        if at >= self.run_end:
            self._begin(at)
            self._next = at

    def _fire(self, at: float) -> float:
        if at >= self.run_end:
            self._begin(at + self.rng.uniform(*self.pause_s) * self.rate)
            self._next = self.run_start
            return 0.0
        phase = (at - self.run_start) / (self.run_end - self.run_start)
        rate_hz, gain = self._at(phase)
        self._next = at + self.rate / rate_hz
        return gain

    def _at(self, phase: float) -> tuple[float, float]:
        """Rate (Hz) and gain at ``phase`` (0-1) of the run."""
        raise NotImplementedError


class Repetitive(Runs):
    """A complex repetitive discharge: the same complex at a fixed rate with no jitter, starting and stopping
    abruptly (§2)."""

    run_s = p.CRD_RUN_S
    pause_s = p.CRD_PAUSE_S

    def __init__(self, rng: np.random.Generator, rate: float, start: float) -> None:
        self.rate_hz = rng.uniform(*p.CRD_RATE_HZ)
        super().__init__(rng, rate, start)

    def _at(self, phase: float) -> tuple[float, float]:
        return self.rate_hz, 1.0


class Myotonic(Runs):
    """A myotonic discharge: rate and amplitude rise then fall together over the run (the "dive bomber", §2)."""

    run_s = p.MYOTONIC_RUN_S
    pause_s = p.MYOTONIC_PAUSE_S

    def _new_run(self) -> None:
        self.peak_at = self.rng.uniform(0.2, 0.4)

    def envelope(self, phase: float) -> float:
        """0 at the ends of the run, 1 at its peak: a quick rise and a longer fall."""
        if phase < self.peak_at:
            return math.sin(0.5 * math.pi * phase / self.peak_at)
        return math.cos(0.5 * math.pi * (phase - self.peak_at) / (1.0 - self.peak_at))

    def _at(self, phase: float) -> tuple[float, float]:
        level = p.MYOTONIC_FLOOR + (1.0 - p.MYOTONIC_FLOOR) * self.envelope(phase)
        low, high = p.MYOTONIC_RATE_HZ
        return low + (high - low) * level, level


class Neuromyotonic(Runs):
    """A neuromyotonic discharge: one unit at 150-250 Hz, its amplitude falling along the train (§2)."""

    run_s = p.NEUROMYOTONIA_TRAIN_S
    pause_s = p.NEUROMYOTONIA_PAUSE_S

    def _new_run(self) -> None:
        self.rate_hz = self.rng.uniform(*p.NEUROMYOTONIA_RATE_HZ)
        self.end_gain = self.rng.uniform(*p.NEUROMYOTONIA_DECREMENT)

    def _at(self, phase: float) -> tuple[float, float]:
        return self.rate_hz, self.end_gain ** min(phase, 1.0)


class Bursts(Pattern):
    """A myokymic discharge: one unit firing in short bursts that recur semi-rhythmically (§2)."""

    def __init__(self, rng: np.random.Generator, rate: float, start: float) -> None:
        self.burst_hz = rng.uniform(*p.MYOKYMIA_BURST_HZ)
        self.left = 0
        self.intraburst_hz = 0.0
        self.burst_from: float | None = None
        super().__init__(rng, rate, start)

    def _first(self, start: float) -> float:
        self._new_burst()
        return self.rng.random() * self.rate / self.burst_hz

    def _new_burst(self) -> None:
        self.left = int(self.rng.integers(p.MYOKYMIA_SPIKES[0], p.MYOKYMIA_SPIKES[1] + 1))
        self.intraburst_hz = self.rng.uniform(*p.MYOKYMIA_INTRABURST_HZ)
        self.burst_from = None

    def _fire(self, at: float) -> float:
        if self.burst_from is None:
            self.burst_from = at
        self.left -= 1
        if self.left > 0:
            self._next = at + self.rate / self.intraburst_hz
        else:
            began = self.burst_from
            self._new_burst()
            period = self.rate / self.burst_hz * max(1.0 + 0.1 * self.rng.standard_normal(), 0.5)
            self._next = max(began + period, at + self.rate / self.intraburst_hz)
        return 1.0
