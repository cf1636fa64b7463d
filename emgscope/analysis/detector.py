"""A streaming muscle-activity detector for one channel: TKEO, envelope, threshold on the resting baseline.

The method is Hodges & Bui's (a threshold ``h`` standard deviations above the mean of a resting baseline on a
low-passed envelope, which must be held for a minimum time) with the Teager-Kaiser energy operator
ψ(n) = x²(n) − x(n+1)·x(n−1) in front of the rectifier (Li, Zhou & Aruin 2007): ψ weights each sample by its
instantaneous frequency, so a motor unit's sharp potential stands out of low-frequency noise and slow baseline
drift, and the onset is sharper than on a plain rectified envelope.

For needle EMG a weak contraction is a few units firing at 5-10 Hz, not a continuous burst, so "held" means
"enough time above threshold within a short window" (a double threshold) and activity ends only after the
envelope has stayed below threshold for ``off_hold_ms`` (longer than the slowest voluntary inter-spike
interval). Onsets and offsets are stamped on the sample where the envelope first crossed (and last left) the
threshold, minus the envelope filter's delay; they are reported once confirmed, a few tens of ms later.

The baseline is the noise floor of the envelope over a rest segment, estimated from its quietest samples
(:func:`noise_floor`): a denervated muscle fills most of a rest with fibrillations and positive sharp waves, and a
median over the whole rest would learn them as "baseline" and never flag them. The detector keeps a decimated
history of its envelope so the caller can name the rest segment after the fact, and so that, once the first
baseline is known, :meth:`ActivityDetector.rescan` can look back over what came before it (the first rest and
the insertion before it, where a denervated muscle's fibrillations are the finding). Until a baseline is set it
finds nothing by itself. Everything per chunk is vectorised; Python only loops over
threshold crossings, of which there are a handful per chunk.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emgscope.core.settings import FilterSettings
from emgscope.dsp.filters import FilterBank


@dataclass(frozen=True)
class DetectorSettings:
    envelope_hz: float = 50.0
    """Low-pass of the rectified TKEO output (Hodges & Bui used 50 Hz)."""
    threshold_sd: float = 8.0
    """``h``: how many baseline standard deviations above the baseline the envelope must rise."""
    threshold_ratio: float = 2.5
    """The threshold is at least this many times the baseline median (the envelope of pure noise is so smooth
    that its SD alone would put the threshold inside the noise)."""
    min_on_ms: float = 4.0
    """Time above threshold needed, within ``confirm_ms``, before an onset is believed."""
    confirm_ms: float = 60.0
    off_hold_ms: float = 300.0
    """Below threshold this long ends the activity: longer than 1/(5 Hz), a unit's slowest voluntary rate."""
    history_s: float = 120.0
    """How far back a baseline can be taken from."""
    history_hz: float = 1000.0


DETECTOR_PRESETS: dict[str, DetectorSettings] = {
    "needle": DetectorSettings(),
    # Surface EMG at 0.5-2 kHz is a continuous interference signal with no sharp single potentials: a smoother
    # envelope and Hodges & Bui's sustained 25 ms keep the envelope's ripple from counting as onsets.
    "surface": DetectorSettings(envelope_hz=10.0, threshold_sd=5.0, min_on_ms=25.0, confirm_ms=50.0),
}
"""Detector settings per filter preset (a protocol names its filter preset)."""


_FLOOR_PERCENTILES = (2.0, 10.0)
_FLOOR_Z = (-2.0537, -1.2816)
"""Standard-normal quantiles of those percentiles."""


def noise_floor(values: np.ndarray) -> tuple[float, float]:
    """Level and spread of the envelope's noise, from its lowest percentiles only.

    The envelope of background noise is close to normal (a low-pass averages many TKEO samples), so its 2nd and
    10th percentiles give its mean and SD. Activity only adds to the envelope, so the estimate holds while
    spontaneous potentials cover up to about 85 % of the rest; on a quiet rest it equals median and SD.
    """
    low, high = np.percentile(values, _FLOOR_PERCENTILES)
    sd = max(0.0, float(high - low) / (_FLOOR_Z[1] - _FLOOR_Z[0]))
    return float(high) - _FLOOR_Z[1] * sd, sd


@dataclass(frozen=True)
class Transition:
    """An onset or offset of activity, stamped on its sample."""

    sample: int
    onset: bool


class ActivityDetector:
    """Fed chunks ``(n,)`` of one channel, in order; returns the onsets and offsets each chunk confirmed."""

    def __init__(self, sample_rate: float, settings: DetectorSettings | None = None) -> None:
        self.sample_rate = sample_rate
        self.settings = settings = settings or DetectorSettings()
        # The envelope low-pass is the clinical filter bank's own (2nd-order Butterworth, state carried).
        self._smoother = FilterBank(FilterSettings("envelope", 0.0, settings.envelope_hz, 0.0), sample_rate, 1)
        cutoff = self._smoother.design.high_cut_hz
        self.delay_samples = round(np.sqrt(2) / (2 * np.pi * cutoff) * sample_rate)
        """The envelope filter's group delay at low frequency (a 2nd-order Butterworth: √2 / ω_c)."""
        self._min_on = max(1, round(settings.min_on_ms * sample_rate / 1000))
        self._confirm = round(settings.confirm_ms * sample_rate / 1000)
        self._off_hold = round(settings.off_hold_ms * sample_rate / 1000)
        self._tail = np.zeros(2)
        self._next_index: int | None = None
        """Absolute index of the next input sample."""
        self.threshold: float | None = None
        self.baseline: tuple[float, float] | None = None
        self.active = False
        self._candidate: int | None = None
        self._above = 0
        self._last_above_end = 0
        # Decimated envelope history: entry j is the envelope at absolute sample j * decimation.
        self._decimation = max(1, round(sample_rate / settings.history_hz))
        self._history = np.zeros(max(1, round(settings.history_s * sample_rate / self._decimation)))
        self._history_count = 0

    @property
    def position(self) -> int:
        """Samples processed so far (absolute index of the next one)."""
        return self._next_index or 0

    def set_baseline(self, start: int, stop: int) -> bool:
        """Take the baseline from the envelope over absolute samples ``[start, stop)``; False if not held."""
        values = self._remembered(start, stop)
        if values is None:
            return False
        self.use_baseline(*noise_floor(values))
        return True

    def use_baseline(self, median: float, sd: float) -> None:
        """Set the resting envelope's level and spread directly (e.g. learnt by another pass over a file)."""
        self.baseline = (median, sd)
        self.threshold = max(median + self.settings.threshold_sd * sd, self.settings.threshold_ratio * median)

    def baseline_level(self, start: int, stop: int) -> float | None:
        """The envelope's noise-floor level over ``[start, stop)`` (to pick the quietest rest); ``None``: not held."""
        values = self._remembered(start, stop)
        return None if values is None else noise_floor(values)[0]

    def rescan(self, start: int) -> list[Transition]:
        """Run the threshold over the remembered envelope from ``start`` to now, as if the baseline had been known
        then, and return what it finds; live detection carries on from the state this leaves.

        The baseline comes from a rest only once that rest has ended, so without this the first rest (and the
        insertion before it) would never be checked. The history is decimated, so what this finds is stamped to
        within one history step (1 ms by default); history older than ``history_s`` is not looked at.
        """
        if self.threshold is None:
            return []
        self.active = False
        self._candidate = None
        self._above = 0
        end = self.position - 1  # the next envelope sample, where live detection takes over
        first, values = self._window(start, end)
        found: list[Transition] = []
        d = self._decimation
        for run_start, run_stop in zip(*_runs(values > self.threshold), strict=True):
            self._run((first + run_start) * d, min(end, (first + run_stop) * d), found)
        self._expire(end, found)
        return found

    def _remembered(self, start: int, stop: int) -> np.ndarray | None:
        """The decimated envelope over ``[start, stop)``, or ``None`` if the history holds too little of it."""
        _, values = self._window(start, stop)
        return None if values.size < 10 else values

    def _window(self, start: int, stop: int) -> tuple[int, np.ndarray]:
        """The decimated envelope over ``[start, stop)`` that the history still holds, and its first entry's index
        (entry ``j`` is the envelope at absolute sample ``j × decimation``)."""
        first = max(-(-start // self._decimation), self._history_count - self._history.size)
        last = max(first, min(-(-stop // self._decimation), self._history_count))
        return first, self._history[np.arange(first, last) % self._history.size]

    def envelope(self, start: int, chunk: np.ndarray) -> tuple[int, np.ndarray]:
        """Advance the envelope over ``chunk`` (first sample ``start``); returns ``(first index, envelope)``.

        The TKEO needs the next sample, so the envelope runs one sample behind the input.
        """
        x = np.asarray(chunk, dtype=np.float64)
        if self._next_index is None or start != self._next_index:
            # First chunk, or a gap (an overrun): restart the operator on this chunk.
            self._tail = np.full(2, x[0] if x.size else 0.0)
        self._next_index = start + x.size
        ext = np.concatenate((self._tail, x))
        self._tail = ext[-2:]
        psi = np.abs(ext[1:-1] * ext[1:-1] - ext[2:] * ext[:-2])
        env = self._smoother.process(psi[np.newaxis, :])[0]
        first = start - 1
        self._remember(first, env)
        return first, env

    def process(self, start: int, chunk: np.ndarray) -> list[Transition]:
        """Feed ``chunk`` (one channel, µV) whose first sample is absolute index ``start``."""
        if chunk.size == 0:
            return []
        first, env = self.envelope(start, chunk)
        if self.threshold is None:
            return []
        above = env > self.threshold
        found: list[Transition] = []
        if not above[0] and not above[-1] and not above.any():
            # The common case at rest or between potentials: nothing crossed, only time passed.
            self._expire(first + env.size, found)
            return found
        for run_start, run_stop in zip(*_runs(above), strict=True):
            self._run(first + run_start, first + run_stop, found)
        self._expire(first + env.size, found)
        return found

    def _run(self, start: int, stop: int, found: list[Transition]) -> None:
        """One stretch of envelope above threshold, ``[start, stop)``."""
        if self.active:
            if start - self._last_above_end <= self._off_hold:
                self._last_above_end = stop
                return
            self._end_activity(found)
        if self._candidate is not None and start - self._last_above_end > self._confirm:
            self._candidate = None
        if self._candidate is None:
            self._candidate = start
            self._above = 0
        self._above += stop - start
        self._last_above_end = stop
        if self._above >= self._min_on:
            self.active = True
            found.append(Transition(max(0, self._candidate - self.delay_samples), True))
            self._candidate = None

    def _expire(self, now: int, found: list[Transition]) -> None:
        """At the end of a chunk: end activity or drop a candidate that has been below threshold too long."""
        if self.active and now - self._last_above_end > self._off_hold:
            self._end_activity(found)
        if self._candidate is not None and now - self._last_above_end > self._confirm:
            self._candidate = None

    def _end_activity(self, found: list[Transition]) -> None:
        self.active = False
        found.append(Transition(max(0, self._last_above_end - self.delay_samples), False))

    def _remember(self, first: int, env: np.ndarray) -> None:
        d = self._decimation
        offset = (-first) % d
        picked = env[offset::d]
        if picked.size == 0:
            return
        index = (first + offset) // d
        size = self._history.size
        if picked.size > size:
            picked, index = picked[-size:], index + picked.size - size
        begin = index % size
        head = min(picked.size, size - begin)
        self._history[begin : begin + head] = picked[:head]
        self._history[: picked.size - head] = picked[head:]
        self._history_count = index + picked.size


def _runs(above: np.ndarray) -> tuple[list[int], list[int]]:
    """Start and stop indices of the stretches of ``True`` in ``above`` (as Python ints: the caller loops)."""
    padded = np.zeros(above.size + 2, dtype=bool)
    padded[1:-1] = above
    edges = np.flatnonzero(padded[1:] != padded[:-1]).tolist()
    return edges[::2], edges[1::2]
