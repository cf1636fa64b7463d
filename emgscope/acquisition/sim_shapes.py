"""Waveforms of single potentials that need no muscle anatomy, and the clinical measurements made on any template.

Motor unit potentials come from the fibres of :mod:`sim_muscle` through :mod:`sim_fibre`. The potentials built here
are those of §2 of SIMULATION_PARAMETERS that a generator can draw directly: fibrillation potentials (a single
fibre's spike, initially positive), positive sharp waves, endplate noise and endplate spikes, and the insertional
waveforms. Shapes are in true polarity (a negative spike is a negative voltage); drawing negative upwards is the
display's convention, not ours.

Each builder returns a template that is exactly zero outside its duration, so placing it in a stream never leaves a
step, and scales it to an exact peak-to-peak amplitude in µV. Templates are built at no less than
:data:`BUILD_RATE_MIN` and decimated with an anti-alias filter, so a slow device still sees the right shapes.

The measurement functions (:func:`peak_to_peak`, :func:`duration_ms`, :func:`phase_count`, :func:`rise_time_ms`,
and the clinical rules of QEMG §3, :func:`clinical_duration_ms` and :func:`clinical_phases`) give the ground truth
the simulator reports.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import signal

BUILD_RATE_MIN = 20_000.0
"""Templates are computed at least this fast (SFAP energy reaches 2-5 kHz), then decimated to the stream rate."""
DURATION_LEVEL = 0.025
"""A potential's duration runs from its first to its last departure from baseline by more than this fraction of
its peak-to-peak amplitude; smaller wiggles do not count as phases either."""
TAPER_MS = 0.25
"""Each end of a template is tapered over this long, so it starts and stops at exactly zero."""
SLOW_PHASE_EXPONENT = 0.7
"""Flattens the half-sine of the slow phases so their edges stand clear of the duration level."""


def tripole(x: np.ndarray) -> np.ndarray:
    """SFAP seen away from the endplate: positive, large negative, positive; the negative peak is -1 at x=0."""
    return -(1.0 - x * x) * np.exp(-0.5 * x * x)


def dipole(x: np.ndarray) -> np.ndarray:
    """SFAP seen at the endplate: biphasic with initial negativity, peaks of ±1."""
    return x * np.exp(0.5 - 0.5 * x * x)


def lobe(t: np.ndarray, start: float, stop: float) -> np.ndarray:
    """A flattened half-sine on ``[start, stop]`` (ms) and zero elsewhere: the slow phases of a potential."""
    u = (t - start) / max(stop - start, 1e-9)
    inside = (u > 0) & (u < 1)
    out = np.zeros_like(t)
    out[inside] = np.sin(np.pi * u[inside]) ** SLOW_PHASE_EXPONENT
    return out


def _time_axis(duration_ms: float, sample_rate: float) -> tuple[np.ndarray, int]:
    """Times in ms at the build rate, and the decimation factor that brings them to ``sample_rate``."""
    factor = max(1, math.ceil(BUILD_RATE_MIN / sample_rate))
    n = max(3, round(duration_ms * sample_rate * factor / 1000.0))
    return np.arange(n) * (1000.0 / (sample_rate * factor)), factor


def _finish(wave: np.ndarray, t: np.ndarray, factor: int, amplitude_uv: float) -> np.ndarray:
    """Taper to exact zero at both ends, decimate to the stream rate, scale to ``amplitude_uv`` peak to peak."""
    taper_fraction = min(1.0, 2 * TAPER_MS / max(t[-1], 1e-9))
    wave = wave * signal.windows.tukey(wave.size, taper_fraction)
    if factor > 1:
        wave = signal.resample_poly(wave, 1, factor)
        wave[0] = wave[-1] = 0.0
    span = float(wave.max() - wave.min())
    return wave * (amplitude_uv / span) if span > 0 else wave


def fibrillation(rng: np.random.Generator, sample_rate: float, duration_ms: float, amplitude_uv: float) -> np.ndarray:
    """A fibrillation potential: one muscle fibre's spike, initially positive, with a short positive tail."""
    t, factor = _time_axis(duration_ms, sample_rate)
    width = rng.uniform(0.08, 0.15) + 0.02 * duration_ms
    centre = 3.2 * width
    wave = tripole((t - centre) / width)
    wave += rng.uniform(0.05, 0.12) * lobe(t, centre + 2.0 * width, duration_ms)
    return _finish(wave, t, factor, amplitude_uv)


def positive_sharp_wave(
    rng: np.random.Generator, sample_rate: float, duration_ms: float, amplitude_uv: float
) -> np.ndarray:
    """A positive sharp wave: a sharp positive deflection, then a long low negative phase (no negative spike)."""
    t, factor = _time_axis(duration_ms, sample_rate)
    lead = TAPER_MS
    rise = rng.uniform(0.3, 0.6)
    decay = rng.uniform(0.8, 1.6)
    ramp = 0.5 - 0.5 * np.cos(np.pi * np.clip(t - lead, 0.0, rise) / rise)
    wave = np.where(t < lead + rise, ramp, np.exp(-(t - lead - rise) / decay))
    wave -= rng.uniform(0.15, 0.3) * lobe(t, lead + rise + 0.5 * decay, duration_ms)
    return _finish(wave, t, factor, amplitude_uv)


def endplate_noise(rng: np.random.Generator, sample_rate: float, duration_ms: float, amplitude_uv: float) -> np.ndarray:
    """A miniature endplate potential: a monophasic negative blip (SIMULATION_PARAMETERS §2)."""
    t, factor = _time_axis(duration_ms, sample_rate)
    wave = -(lobe(t, 0.0, duration_ms) ** rng.uniform(1.5, 2.5))
    return _finish(wave, t, factor, amplitude_uv)


def endplate_spike(rng: np.random.Generator, sample_rate: float, duration_ms: float, amplitude_uv: float) -> np.ndarray:
    """An endplate spike: a muscle fibre's potential born under the tip, so biphasic and initially negative (§2)."""
    t, factor = _time_axis(duration_ms, sample_rate)
    width = duration_ms * rng.uniform(0.12, 0.16)
    wave = dipole((t - 3.0 * width) / width)
    return _finish(wave, t, factor, amplitude_uv)


def peak_to_peak(wave: np.ndarray) -> float:
    return float(np.max(wave) - np.min(wave))


def _significant(wave: np.ndarray) -> np.ndarray:
    return np.flatnonzero(np.abs(wave) > DURATION_LEVEL * peak_to_peak(wave))


def duration_ms(wave: np.ndarray, sample_rate: float) -> float:
    """From the first to the last departure from baseline larger than :data:`DURATION_LEVEL` of peak to peak."""
    idx = _significant(wave)
    return (idx[-1] - idx[0] + 1) * 1000.0 / sample_rate if idx.size else 0.0


def phase_count(wave: np.ndarray) -> int:
    """Phases = baseline crossings + 1, counting only excursions beyond :data:`DURATION_LEVEL` of peak to peak."""
    signs = np.sign(wave[_significant(wave)])
    return int(np.count_nonzero(np.diff(signs))) + 1 if signs.size else 0


CLINICAL_DURATION_UV = 40.0
CLINICAL_QUIET_MS = 3.0
"""QEMG §3 (Pattichis et al. 1995 [V2]): a MUP's onset is where the signal before it stays within ±40 µV of the
baseline for 3 ms, its end mirrored."""
CLINICAL_PHASE_UV = 25.0
"""QEMG §3: phases are the baseline crossings of excursions beyond 25 µV, plus one."""


def clinical_duration_ms(wave: np.ndarray, sample_rate: float) -> float:
    """Duration by the clinical rule of QEMG §3: from the first to the last departure beyond
    :data:`CLINICAL_DURATION_UV` around the largest deflection, departures closer than :data:`CLINICAL_QUIET_MS`
    counting as one. 0 for a potential that never leaves ±40 µV (too small to measure that way)."""
    beyond = np.flatnonzero(np.abs(wave) > CLINICAL_DURATION_UV)
    if beyond.size == 0:
        return 0.0
    quiet = CLINICAL_QUIET_MS * sample_rate / 1000.0
    breaks = np.flatnonzero(np.diff(beyond) > quiet)
    starts = np.concatenate(([beyond[0]], beyond[breaks + 1]))
    ends = np.concatenate((beyond[breaks], [beyond[-1]]))
    k = int(np.searchsorted(starts, int(np.argmax(np.abs(wave))), side="right")) - 1
    return (ends[k] - starts[k] + 1) * 1000.0 / sample_rate


def clinical_phases(wave: np.ndarray) -> int:
    """Phases by the clinical rule of QEMG §3: crossings of the baseline by excursions beyond
    :data:`CLINICAL_PHASE_UV`, plus one (polyphasic: 5 or more)."""
    signs = np.sign(wave[np.abs(wave) > CLINICAL_PHASE_UV])
    return int(np.count_nonzero(np.diff(signs))) + 1 if signs.size else 0


def rise_time_ms(wave: np.ndarray, sample_rate: float) -> float:
    """From the positive peak that precedes the main negative peak to that negative peak (the near-field
    criterion). The preceding peak is the nearest local maximum before the trough; wiggles smaller than
    :data:`DURATION_LEVEL` of the peak to peak do not end the search."""
    trough = int(np.argmin(wave))
    if trough == 0:
        return 0.0
    tolerance = DURATION_LEVEL * peak_to_peak(wave)
    before = wave[trough::-1]
    peak_value = np.maximum.accumulate(before)
    fallen = np.flatnonzero(before < peak_value - tolerance)
    span = before[: fallen[0]] if fallen.size else before
    return int(np.argmax(span)) * 1000.0 / sample_rate
