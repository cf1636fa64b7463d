"""Waveforms of the simulated needle signal, and the clinical measurements made on them.

Every potential is built as a sum of single-fibre action potential (SFAP) shapes, as the SFAP model in
SIMULATION_PARAMETERS §1 describes: a motor unit action potential (MUAP) is many SFAPs arriving a little apart,
plus the slow initial and terminal phases of fibres farther from the needle. Shapes are in true polarity
(a negative spike is a negative voltage); drawing negative upwards is the display's convention, not ours.

Each builder returns a template that is exactly zero outside its duration, so placing it in a stream never
leaves a step, and scales it to an exact peak-to-peak amplitude in µV. Templates are built at no less than
:data:`BUILD_RATE_MIN` and decimated with an anti-alias filter, so a slow device still sees the right shapes.

The measurement functions (:func:`peak_to_peak`, :func:`duration_ms`, :func:`phase_count`,
:func:`rise_time_ms`) follow the clinical definitions and give the ground truth the simulator reports.
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
MAX_DRAWS = 10
"""Attempts at a simple MUAP whose negative spike is its largest phase (one draw in ~200 needs a second)."""


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


def muap(
    rng: np.random.Generator,
    sample_rate: float,
    duration_ms: float,
    amplitude_uv: float,
    polyphasic: bool,
    fibre_width_ms: tuple[float, float] = (0.1, 0.18),
    component_gap_ms: tuple[float, float] = (0.5, 1.0),
    components: tuple[int, int] = (3, 4),
) -> np.ndarray:
    """A motor unit action potential: a spike made of SFAPs between a slow initial and a slow terminal phase.

    A simple unit's fibres arrive within ~0.1 ms of each other, which sums to a bi- or triphasic spike. A
    polyphasic unit's fibres arrive in ``components`` groups ``component_gap_ms`` apart (poor synchrony after
    reinnervation, or fibres of different sizes in myopathy), so the spike crosses the baseline repeatedly.
    Wider fibre shapes (``fibre_width_ms``) make the slow-rising potential of a unit far from the needle.
    A bi- or triphasic unit's main spike is negative: a draw whose positive phases outgrow it is drawn again.
    """
    for _ in range(MAX_DRAWS):
        wave = _muap_draw(
            rng, sample_rate, duration_ms, amplitude_uv, polyphasic, fibre_width_ms, component_gap_ms, components
        )
        if -wave.min() >= wave.max() or phase_count(wave) >= 5:
            break
    return wave


def _muap_draw(
    rng: np.random.Generator,
    sample_rate: float,
    duration_ms: float,
    amplitude_uv: float,
    polyphasic: bool,
    fibre_width_ms: tuple[float, float],
    component_gap_ms: tuple[float, float],
    components: tuple[int, int],
) -> np.ndarray:
    t, factor = _time_axis(duration_ms, sample_rate)
    centre = duration_ms * rng.uniform(0.3, 0.4)
    spike = np.zeros_like(t)
    if polyphasic:
        groups = int(rng.integers(components[0], components[1] + 1))
        gaps = rng.uniform(*component_gap_ms, size=groups - 1)
        onsets = centre + np.concatenate(([0.0], np.cumsum(gaps))) - gaps.sum() / 2
        weights = rng.uniform(0.5, 1.0, groups)
        weights[rng.integers(groups)] = 1.0
    else:
        onsets = np.array([centre])
        weights = np.array([1.0])
    for onset, weight in zip(onsets, weights, strict=True):
        for _ in range(6):
            width = rng.uniform(*fibre_width_ms)
            x = (t - (onset + rng.normal(0.0, 0.05))) / width
            mix = rng.uniform(0.0, 0.3)
            spike += weight * rng.uniform(0.6, 1.0) * ((1 - mix) * tripole(x) + mix * dipole(x))
    peak = float(-spike.min())
    first, last = onsets[0] - 3 * fibre_width_ms[1], onsets[-1] + 3 * fibre_width_ms[1]
    initial = rng.uniform(0.06, 0.1) * peak * lobe(t, 0.0, max(first, 0.2 * centre))
    terminal = rng.uniform(0.08, 0.14) * peak * lobe(t, min(last, duration_ms * 0.9), duration_ms)
    return _finish(spike + initial + terminal, t, factor, amplitude_uv)


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
