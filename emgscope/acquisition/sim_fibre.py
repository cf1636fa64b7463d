"""The potential one muscle fibre makes at the needle: the physics every simulated waveform is built from.

A muscle fibre's action potential travels from its endplate towards both tendons at its conduction velocity. The
needle sees it through the tissue, a volume conductor that conducts better along the fibres than across them. Two
parts are computed here, both from the same source (the line-source model: the transmembrane current is the second
spatial derivative of the intracellular action potential, IAP, weighted by ``1/distance``):

* the **propagating potential**: the fibre's action potential passing the needle. Close to the fibre it is sharp
  and large (the spike: positive, large negative, positive); with distance it falls steeply and is low-passed,
  because the tissue between averages the current over a length that grows with the distance. This is what makes a
  near unit "crisp" and a distant one a small, blunt thump (SIMULATION_PARAMETERS §1: near-field rise time
  ≤ 0.5 ms; outside the territory a long rise time and < 50 µV);
* the **end-of-fibre potential**: when the action potential reaches the tendon it is extinguished, and the current
  that stops flowing there is seen from afar as a dipole whose strength follows the IAP itself. It is monophasic
  (positive), broad (the IAP lasts milliseconds) and falls off only with the square of the distance, so the sum over
  the hundreds of fibres of a unit gives the slow terminal phase of a MUAP and the slow background of a contraction
  that real needle EMG has and that a sum of spikes alone lacks (PhysioNet emgdb: 78 % of the power of a healthy
  muscle's signal lies below 300 Hz).

The IAP follows Rosenfalck (1969), ``V(z) = 96 z³ exp(-z/λ)`` mV: a fast component sets the spike, and a slower
component (the repolarisation and after-potential of a real fibre) sets the terminal phase; their scales and the
other constants below were fitted so that the simulated signal meets the emgdb spectra (README, ``emgscope
simcheck``). :func:`fibre_table` tabulates the propagating potential over a grid of distances once per build rate;
:func:`sum_fibres` places any number of fibres with their distances and timings in one template.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np
from scipy import signal

CONDUCTION_MM_PER_MS = 3.2
"""Muscle-fibre conduction velocity, 4 m/s (typical 3-5 m/s [T]); it turns the IAP's length into time."""
IAP_FAST_MM = 0.45
"""Length scale of the IAP's fast component (Rosenfalck's λ is 1 mm; a shorter one gives the near-field rise time
of ≤ 0.5 ms that SIMULATION_PARAMETERS §1 requires of a MUAP recorded close to its fibres)."""
IAP_FAST_POWER = 3
"""Power of the fast component's rise (Rosenfalck's is 3; a higher one rises more evenly, which balances the
current ahead of the front against the current behind it)."""
IAP_SLOW_MM = 2.2
"""Length scale of the IAP's slow component: repolarisation and after-potential, the slow terminal phase."""
IAP_SLOW_FRACTION = 0.4
"""Share of the slow component in the IAP's amplitude."""
IAP_AMPLITUDE_MV = 96.0
"""Rosenfalck's scale factor (the IAP peaks near 130 mV above rest)."""
ANISOTROPY = 5.0
"""Axial over radial conductivity of muscle: radial distances count √5 times as much as axial ones."""
ELECTRODE_RADIUS_MM = 0.1
"""The concentric needle's core (about 150 × 580 µm) averages the potential over its surface; a fibre is never
effectively closer than this."""
SFAP_UV_AT_100_UM = 300.0
"""Peak-to-peak potential of one fibre of mean diameter whose centre is 100 µm from the core: sets every amplitude.
A single fibre near a concentric needle gives the 20-200 µV of a fibrillation potential (SIMULATION_PARAMETERS §2)."""
DISTANCE_GRID_MM = np.geomspace(0.02, 8.0, 48)
"""Distances at which the propagating potential is tabulated (log-spaced: the shape changes fastest close by)."""
BUILD_RATE_MIN = 20_000.0
"""Potentials are computed at least this fast (SFAP energy reaches 2-5 kHz), then decimated to the stream rate."""
_STEP_MM = 0.025
"""Spatial step of the line-source integral."""
_WINDOW_MM = 80.0
"""Half-length of the distance weighting; beyond it the weighting changes too slowly to matter (the transmembrane
current integrates to zero)."""


def _components() -> tuple[tuple[float, float, int], ...]:
    """``(share, length scale, power)`` of the IAP's components, each ``u**power * exp(-u)`` scaled to the height
    of Rosenfalck's (power 3)."""
    return ((1.0 - IAP_SLOW_FRACTION, IAP_FAST_MM, IAP_FAST_POWER), (IAP_SLOW_FRACTION, IAP_SLOW_MM, 3))


def _height(power: int) -> float:
    return 27.0 * math.exp(-3.0) / (power**power * math.exp(-power))


def iap_mv(z_mm: np.ndarray) -> np.ndarray:
    """The intracellular action potential (mV above rest) at ``z_mm`` behind the travelling front."""
    z = np.maximum(z_mm, 0.0)
    out = np.zeros_like(z)
    for share, scale, n in _components():
        u = z / scale
        out += share * _height(n) * u**n * np.exp(-u)
    return IAP_AMPLITUDE_MV * out


def _iap_curvature(z_mm: np.ndarray) -> np.ndarray:
    """d²V/dz² of :func:`iap_mv` (the transmembrane current, up to a constant), exact."""
    z = np.maximum(z_mm, 0.0)
    out = np.zeros_like(z)
    for share, scale, n in _components():
        u = z / scale
        curve = (n * (n - 1) * u ** (n - 2) - 2 * n * u ** (n - 1) + u**n) * np.exp(-u)
        out += share * _height(n) * curve / scale**2
    return IAP_AMPLITUDE_MV * np.where(z_mm > 0, out, 0.0)


def _effective_radius(distance_mm: np.ndarray | float) -> np.ndarray:
    return np.sqrt(ANISOTROPY * (np.square(distance_mm) + ELECTRODE_RADIUS_MM**2))


@dataclass(frozen=True)
class FibreTable:
    """The propagating potential at every grid distance, and the end-of-fibre time course, at ``rate``."""

    rate: float
    potentials: np.ndarray
    """``(len(DISTANCE_GRID_MM), n)`` µV; row ``i`` is one fibre at ``DISTANCE_GRID_MM[i]``."""
    passing: int
    """Column at which the action potential's front passes the needle."""
    end_wave: np.ndarray
    """IAP time course scaled so that ``end_gain(...) * end_wave`` is in µV."""


@functools.lru_cache(maxsize=4)
def fibre_table(rate: float) -> FibreTable:
    """The tables at ``rate`` (computed once: about 50 ms)."""
    oversample = max(1, round(CONDUCTION_MM_PER_MS * 1000.0 / rate / _STEP_MM))
    step = CONDUCTION_MM_PER_MS * 1000.0 / rate / oversample
    span = 20 * IAP_SLOW_MM
    behind = np.arange(0.0, span, step)
    current = _iap_curvature(behind)
    offsets = np.arange(-_WINDOW_MM - span, _WINDOW_MM + step / 2, step)
    rows = []
    for distance in DISTANCE_GRID_MM:
        weight = 1.0 / np.sqrt(_effective_radius(distance) ** 2 + offsets**2)
        # Needle at axial 0, front at x: the fibre's current at z is current(x - z). Only fronts whose whole current
        # lies inside the weighting window are kept; column k has the front at x = offsets[0] + behind[-1] + k * step,
        # so columns run forward in time (x = conduction velocity × time).
        rows.append(signal.fftconvolve(weight, current, mode="valid") * step)
    fine = np.array(rows)
    passing_fine = round(-(offsets[0] + behind[-1]) / step)
    if oversample > 1:
        fine = signal.resample_poly(fine, 1, oversample, axis=1)
    passing = passing_fine // oversample
    reference = float(np.ptp(_row_at(fine, 0.1)))
    scale = SFAP_UV_AT_100_UM / reference
    end_wave = iap_mv(np.arange(0.0, span, CONDUCTION_MM_PER_MS * 1000.0 / rate)) * scale
    return FibreTable(rate, fine * scale, passing, end_wave)


def _row_at(rows: np.ndarray, distance_mm: float) -> np.ndarray:
    return rows[int(np.argmin(np.abs(np.log(DISTANCE_GRID_MM / distance_mm))))]


def end_gain(radial_mm: np.ndarray, axial_mm: np.ndarray) -> np.ndarray:
    """Gain of the end-of-fibre wave (per mm², times the IAP in mV) for a fibre end ``axial_mm`` along the fibres
    from the needle and ``radial_mm`` across them: the axial derivative of the line-source weighting."""
    axial = np.abs(axial_mm)
    return axial / (_effective_radius(radial_mm) ** 2 + axial**2) ** 1.5


def build_rate(stream_rate: float) -> float:
    """The rate potentials are computed at for a stream at ``stream_rate``: a whole multiple of it, at least
    :data:`BUILD_RATE_MIN`."""
    return stream_rate * max(1, math.ceil(BUILD_RATE_MIN / stream_rate))


def to_stream(wave: np.ndarray, build: float, stream_rate: float) -> np.ndarray:
    """``wave`` computed at ``build`` brought to ``stream_rate`` (anti-aliased decimation)."""
    factor = round(build / stream_rate)
    return signal.resample_poly(wave, 1, factor) if factor > 1 else wave


def grid_index(distance_mm: np.ndarray) -> np.ndarray:
    """The nearest tabulated distance (in log distance) of each fibre."""
    d = np.clip(distance_mm, DISTANCE_GRID_MM[0], DISTANCE_GRID_MM[-1])
    upper = np.clip(np.searchsorted(DISTANCE_GRID_MM, d), 1, DISTANCE_GRID_MM.size - 1)
    lower = upper - 1
    nearer_lower = np.log(d / DISTANCE_GRID_MM[lower]) < np.log(DISTANCE_GRID_MM[upper] / d)
    return np.where(nearer_lower, lower, upper)


def sum_fibres(
    rate: float,
    distance_mm: np.ndarray,
    pass_ms: np.ndarray,
    weight: np.ndarray,
    end_ms: np.ndarray | None = None,
    end_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, float]:
    """Sum of fibres: fibre ``i`` at ``distance_mm[i]`` whose front passes the needle at ``pass_ms[i]``, scaled by
    ``weight[i]`` (its size); optional end-of-fibre waves starting at ``end_ms`` with gains ``end_weight`` (µV per mV
    of IAP, from :func:`end_gain` times the fibre's size). Returns ``(samples at rate, time of sample 0 in ms)``."""
    table = fibre_table(rate)
    to_samples = rate / 1000.0
    first = float(pass_ms.min()) - table.passing / to_samples
    last = float(pass_ms.max()) - table.passing / to_samples + table.potentials.shape[1] / to_samples
    if end_ms is not None and end_ms.size:
        first = min(first, float(end_ms.min()))
        last = max(last, float(end_ms.max()) + table.end_wave.size / to_samples)
    n = 1 << math.ceil(math.log2(math.ceil((last - first) * to_samples) + 2))
    rows = grid_index(distance_mm)
    shifts = np.round((pass_ms - first) * to_samples).astype(np.int64) - table.passing
    trains = np.zeros((DISTANCE_GRID_MM.size, n))
    np.add.at(trains, (rows, shifts), weight)
    used = np.flatnonzero(trains.any(axis=1))
    spectrum = np.einsum("ij,ij->j", np.fft.rfft(trains[used], n), np.fft.rfft(table.potentials[used], n))
    if end_ms is not None and end_ms.size:
        ends = np.zeros(n)
        np.add.at(ends, np.round((end_ms - first) * to_samples).astype(np.int64), end_weight)
        spectrum += np.fft.rfft(ends, n) * np.fft.rfft(table.end_wave, n)
    return np.fft.irfft(spectrum, n), first
