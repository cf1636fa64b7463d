"""The shape of one discharge at rest, measured where it was detected: what tells a fibrillation from a positive
sharp wave, an endplate spike or a motor unit's potential.

The published descriptions (SIMULATION_PARAMETERS §2, QEMG §6) separate the discharges by a few plain features,
and those are what is measured here on the filtered signal around each detected peak:

* the **initial polarity**: fibrillations and positive sharp waves begin positive (true polarity: a positive
  voltage), endplate spikes and endplate noise negative (StatPearls 19794, via §2 and QEMG §6);
* the **slow negative phase** after a positive peak with no negative spike: the positive sharp wave;
* the **extent** (duration above the background): fibrillations 1-5 ms, endplate spikes 3-5 ms, endplate noise
  0.5-3 ms, positive sharp waves 10-30 ms, fasciculations (a whole unit's potential) 2.8-24 ms;
* the **amplitude** (peak to peak): fibrillations 20-200 µV, endplate noise 10-40 µV (< 100), a fasciculation
  123-1480 µV in ALS.

Each threshold below is a named constant that says which of those figures it stands between.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from emgscope.analysis.muap.measure import quiet_run_lengths

SPIKE = "spike"
"""A brief potential that begins positive: a fibrillation potential's shape (and a myotonic discharge's spike
form)."""
NEGATIVE_SPIKE = "negative spike"
"""A brief potential that begins negative: an endplate spike's or endplate noise's shape."""
POSITIVE_WAVE = "positive wave"
"""A sharp positive deflection followed by a long, low negative phase: a positive sharp wave's shape."""
UNIT = "unit"
"""Too large or too long for a single fibre: a motor unit's potential (a fasciculation, a myokymic or
neuromyotonic discharge, a voluntary unit)."""

LEAD_MS = 3.0
"""How far before the peak the start of a discharge is looked for (a fibrillation's initial positive phase lies
well within it: the whole potential lasts 1-5 ms)."""
SPAN_MS = 30.0
"""How far after the peak its end is looked for: the longest positive sharp wave lasts 30 ms (§2)."""
QUIET_MS = 2.0
"""A discharge ends where the signal has stayed within :data:`QUIET_SD` background SDs (or
:data:`QUIET_FRACTION` of its peak) for this long: shorter than the 3 ms of the Pattichis rule (QEMG §3), which
is made for MUPs and would join the trains of a 15 Hz fibrillation... (no: it would join two neighbouring
discharges of a dense site)."""
QUIET_SD = 3.0
QUIET_FRACTION = 0.08
"""The background band around the baseline, in background SDs or as a share of the peak, whichever is wider."""
INITIAL_FRACTION = 0.25
"""The first phase counts when it reaches this share of the peak and :data:`QUIET_SD` background SDs (smaller
wiggles before it are noise)."""
BRIEF_MS = 6.0
"""Extent of a single fibre's spike: fibrillations last 1-5 ms and endplate spikes 3-5 ms (§2), a fasciculation
2.8-24 ms (12.6 ± 4.4 ms, §2): a discharge over 6 ms that is not a positive wave is taken for a unit's."""
FIBRE_MAX_UV = 300.0
"""Largest single-fibre potential: fibrillations reach 200 µV, endplate spikes 200 µV and positive sharp waves are
"similar to fibrillations" (§2); a discharge above 300 µV is taken for a motor unit's (a fasciculation is
123-1480 µV, §2), even when its largest phase is positive and a long negative one follows, as a positive sharp
wave's does."""
UNIT_MIN_UV = 100.0
"""... and a long discharge is a unit's only from this size: fasciculations are 123-1480 µV (§2), and a small
potential that reads long is a single fibre's with the background's wiggles in its tail."""
WAVE_AFTER_MS = (2.0, 10.0)
WAVE_AFTER_FRACTION = 0.05
"""A positive wave's slow negative phase: the mean over 2-10 ms after the peak is below -5 % of the peak."""
WAVE_NO_SPIKE_FRACTION = 0.5
"""... and no negative spike follows the positive peak within :data:`WAVE_SPIKE_MS` (no deeper than half of it):
"a sharp initial positivity, then a long low negative phase (no negative spike)" (§2)."""
WAVE_SPIKE_MS = 3.0


@dataclass(frozen=True)
class Shape:
    """One discharge's shape features (µV, ms, polarity +1 / -1)."""

    peak_uv: float
    """The largest deflection, signed (true polarity)."""
    amplitude_uv: float
    """Peak to peak over the discharge's extent."""
    initial: int
    """Polarity of the first phase reaching :data:`INITIAL_FRACTION` of the peak."""
    extent_ms: float
    """From the first to the last sample above the background band."""
    onset_ms: float
    """The extent's start relative to the peak (negative)."""
    kind: str
    """:data:`SPIKE`, :data:`NEGATIVE_SPIKE`, :data:`POSITIVE_WAVE` or :data:`UNIT`."""


def _quiet_before(quiet: np.ndarray, peak: int, run: int) -> int:
    """Index of the first loud sample after the last quiet run of ``run`` samples before ``peak``."""
    ending = quiet_run_lengths(quiet[: peak + 1])
    found = np.flatnonzero(ending >= run)
    return int(found[-1]) + 1 if found.size else 0


def _quiet_after(quiet: np.ndarray, peak: int, run: int) -> int:
    """Index of the last loud sample before the first quiet run of ``run`` samples after ``peak``."""
    starting = quiet_run_lengths(quiet[peak:][::-1])[::-1]
    found = np.flatnonzero(starting >= run)
    return peak + int(found[0]) - 1 if found.size else quiet.size - 1


def measure_shape(x: np.ndarray, peak: int, rate: float, noise_sd: float) -> Shape:
    """The shape of the discharge whose largest deflection is ``x[peak]`` (filtered signal, µV)."""
    lead = round(LEAD_MS * rate / 1000.0)
    span = round(SPAN_MS * rate / 1000.0)
    first = max(0, peak - lead)
    w = np.asarray(x[first : peak + span + 1], dtype=np.float64)
    p = peak - first
    value = float(w[p])
    size = abs(value)
    quiet = np.abs(w) <= max(QUIET_SD * noise_sd, QUIET_FRACTION * size)
    run = max(2, round(QUIET_MS * rate / 1000.0))
    start = _quiet_before(quiet, p, run)
    end = max(_quiet_after(quiet, p, run), p)
    body = w[start : end + 1]
    loud = np.flatnonzero(np.abs(w[start : p + 1]) >= max(INITIAL_FRACTION * size, QUIET_SD * noise_sd))
    initial = int(np.sign(w[start + loud[0]])) if loud.size else int(np.sign(value))
    extent = (end - start + 1) * 1000.0 / rate
    amplitude = float(body.max() - body.min())
    initial = initial or 1
    kind = _kind(w, p, value, initial, extent, amplitude, rate)
    return Shape(value, amplitude, initial, extent, (start - p) * 1000.0 / rate, kind)


def _kind(w: np.ndarray, p: int, value: float, initial: int, extent_ms: float, amplitude: float, rate: float) -> str:
    if value > 0 and amplitude <= FIBRE_MAX_UV:
        after = w[p + round(WAVE_AFTER_MS[0] * rate / 1000.0) : p + round(WAVE_AFTER_MS[1] * rate / 1000.0)]
        spike = w[p : p + round(WAVE_SPIKE_MS * rate / 1000.0)]
        if (
            after.size
            and float(after.mean()) <= -WAVE_AFTER_FRACTION * value
            and float(-spike.min()) < WAVE_NO_SPIKE_FRACTION * value
        ):
            return POSITIVE_WAVE
    if amplitude > FIBRE_MAX_UV or (extent_ms > BRIEF_MS and amplitude >= UNIT_MIN_UV):
        return UNIT
    return SPIKE if initial > 0 else NEGATIVE_SPIKE
