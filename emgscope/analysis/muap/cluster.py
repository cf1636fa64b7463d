"""Template matching: the spikes grouped by shape.

Each spike is compared over the central ±:data:`SPIKE_HALF_MS` of its potential, less its straight-line trend
(:func:`detrend`), with the templates found so far, at every shift up to ±:data:`SHIFT_MS`, so a spike detected on
another phase of the same potential, or a little off by noise, is re-aligned onto its unit's template. It joins the
nearest template when the residual is within the tolerance (:func:`tolerance`), otherwise it starts a template of
its own. Spikes are taken largest first, so large, clear units set their templates before small ones are compared
with them. Then each template becomes the median of its members (EMGlab uses median templates, QEMG §2), templates
that match each other are merged, those with fewer than :data:`MIN_DISCHARGES` members are dropped, and every
spike is matched again; this is repeated :data:`REFINE_PASSES` times.

The tolerance has two parts. One is what a discharge differs from another of its unit by, estimated from the
spikes themselves (:func:`discharge_sd`): background noise, the slow potentials of other units, jitter, the
interpolation of a slowly sampled spike. The other is a share of the template's own size, for the variation that
grows with it: :data:`MATCH_RELATIVE` at full bandwidth, :data:`MATCH_RELATIVE_ALIASED` for a source too slow to
carry the whole spike, whose sampled peak then changes with where the samples fall on it (in the emgdb neuropathy
record, sampled at 4 kHz, one unit's peak reads from -2.2 to -3.4 mV from one discharge to the next).

A spike matching no template (superimposed on another unit's, most often) belongs to no cluster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

SPIKE_HALF_MS = 1.0
"""Half of the part of a potential compared with the templates: the spike, where units differ most."""
SHIFT_MS = 0.5
"""How far a spike may be re-aligned onto a template."""
MATCH_NOISE_SD = 1.5
"""Residual allowed per sample, in units of :func:`discharge_sd`: the mean square of 41 independent Gaussian
samples (a window at 20 kHz) exceeds 1.5² times its expectation about once in 10⁵ (χ², 41 degrees of freedom)."""
MATCH_RELATIVE = 0.1
"""Residual allowed in proportion to the template (its RMS) at full bandwidth."""
MATCH_RELATIVE_ALIASED = 0.3
"""The same for a source too slow to carry the whole spike (see the module's docstring)."""
MIN_DISCHARGES = 6
"""A unit must fire more than 5 times in the segment to be measured (issue 14's bad-input sentence)."""
REFINE_PASSES = 3
VARIABILITY_SPIKES = 200
"""At most this many spikes (evenly spread) are used to estimate :func:`discharge_sd`."""

Check = Callable[[], None]
"""Called between stages; raises when the caller has asked to stop."""


def detrend(windows: np.ndarray) -> np.ndarray:
    """Each window (last axis) minus its least-squares straight line.

    The slow phases of other units (and far-field potentials) overlap a spike most of the time at moderate effort;
    over the ±1 ms compared they are close to an offset and a slope. Removing both leaves the spike, so a spike
    riding on another unit's slow phase still matches its template; what is lost is a unit's own offset and slope
    there, which says little about which unit it is.
    """
    n = windows.shape[-1]
    t = np.arange(n) - (n - 1) / 2.0
    mean = windows.mean(axis=-1, keepdims=True)
    slope = (windows @ t)[..., np.newaxis] / float(t @ t)
    return windows - mean - slope * t


class SpikeWindows:
    """The comparison windows of every spike at every shift, cut from the signal once."""

    def __init__(self, x: np.ndarray, peaks: np.ndarray, rate: float) -> None:
        self.half = max(2, round(SPIKE_HALF_MS * rate / 1000.0))
        self.shift = max(1, round(SHIFT_MS * rate / 1000.0))
        self.length = 2 * self.half + 1
        pad = self.half + self.shift
        padded = np.concatenate((np.zeros(pad), np.asarray(x, dtype=np.float64), np.zeros(pad)))
        views = sliding_window_view(padded, self.length)
        self.at = detrend(views[peaks[:, np.newaxis] + np.arange(2 * self.shift + 1)])
        """``(spikes, shifts, length)``: ``at[i, s]`` is spike ``i``'s window moved by ``s - shift`` samples."""
        self.energy = np.einsum("isl,isl->is", self.at, self.at)

    def distances(self, templates: np.ndarray, rows: np.ndarray | slice = slice(None)) -> np.ndarray:
        """Squared residuals ``(spikes, shifts, templates)`` of the spikes in ``rows``."""
        windows = self.at[rows]
        # One matrix product over every spike and shift at once (a stack of small ones is many times slower).
        cross = (windows.reshape(-1, self.length) @ templates.T).reshape(*windows.shape[:2], -1)
        energy = np.einsum("kl,kl->k", templates, templates)
        return self.energy[rows][..., np.newaxis] - 2.0 * cross + energy


def discharge_sd(win: SpikeWindows) -> float:
    """How much one discharge differs from another of its unit, per sample (µV), estimated from the spikes.

    Most spikes have a discharge of the same unit among the others, and the nearest spike (smallest residual at any
    shift) is then usually that one; the residual of two discharges is twice the variance of one. So the median of
    the nearest-spike residuals, per sample and halved, is the variance of a discharge about its template.
    """
    n = win.at.shape[0]
    rows = np.unique(np.linspace(0, n - 1, min(n, VARIABILITY_SPIKES)).round().astype(int))
    d = win.distances(win.at[:, win.shift], rows).min(axis=1)
    d[np.arange(rows.size), rows] = np.inf
    return float(np.sqrt(np.median(d.min(axis=1)) / (2.0 * win.length)))


@dataclass(frozen=True)
class Tolerance:
    """The largest squared residual with which a spike still matches a template (see the module's docstring)."""

    noise_sd: float
    relative: float

    def __call__(self, template: np.ndarray) -> float:
        return template.size * (MATCH_NOISE_SD * self.noise_sd) ** 2 + self.relative**2 * float(template @ template)


def _best(d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each spike of ``d`` ``(spikes, shifts, templates)``: the nearest template, its shift, and the residual
    between samples (a parabola through the residuals at the best shift and its neighbours: a spike half a sample
    off its template's alignment would otherwise look worse than it is)."""
    flat = d.reshape(d.shape[0], -1)
    best = np.argmin(flat, axis=1)
    shift, unit = np.unravel_index(best, d.shape[1:])
    rows = np.arange(d.shape[0])
    here = d[rows, shift, unit]
    left = d[rows, np.maximum(shift - 1, 0), unit]
    right = d[rows, np.minimum(shift + 1, d.shape[1] - 1), unit]
    curve = left - 2.0 * here + right
    dip = np.where(curve > 0, (right - left) ** 2 / (8.0 * np.where(curve > 0, curve, 1.0)), 0.0)
    return unit, shift, np.maximum(here - dip, 0.0)


def _first_pass(win: SpikeWindows, size: np.ndarray, tolerance: Tolerance, check: Check) -> tuple[np.ndarray, ...]:
    """Greedy clustering, largest spikes first: the cluster of each spike and the shift it joined at."""
    label = np.full(size.size, -1)
    joined_at = np.full(size.size, win.shift)
    sums: list[np.ndarray] = []
    counts: list[int] = []
    templates = np.empty((0, win.length))
    energies = np.empty(0)
    limits = np.empty(0)
    for n, i in enumerate(np.argsort(-size, kind="stable").tolist()):
        if n % 256 == 0:
            check()
        if templates.shape[0]:
            # win.distances for one spike, with the templates' energies kept up to date instead of recomputed.
            d = win.energy[i][:, np.newaxis] - 2.0 * (win.at[i] @ templates.T) + energies
            units, shifts, residuals = _best(d[np.newaxis])
            unit, shift = int(units[0]), int(shifts[0])
            if residuals[0] <= limits[unit]:
                label[i], joined_at[i] = unit, shift
                sums[unit] += win.at[i, shift]
                counts[unit] += 1
                templates[unit] = sums[unit] / counts[unit]
                energies[unit] = templates[unit] @ templates[unit]
                limits[unit] = tolerance(templates[unit])
                continue
        label[i] = len(sums)
        sums.append(win.at[i, win.shift].copy())
        counts.append(1)
        templates = np.vstack((templates, win.at[i, win.shift]))
        energies = np.append(energies, win.energy[i, win.shift])
        limits = np.append(limits, tolerance(win.at[i, win.shift]))
    return label, joined_at


def _shifted_distance(a: np.ndarray, b: np.ndarray, shift: int) -> float:
    """The smallest squared residual of ``b`` against ``a`` over shifts up to ``shift``, on their common part,
    scaled to the whole length."""
    n = a.size
    core = a[shift : n - shift]
    moved = sliding_window_view(b, core.size)
    return float(np.min(np.sum((moved - core) ** 2, axis=1))) * n / core.size


def _merge_similar(templates: np.ndarray, shift: int, tolerance: Tolerance) -> np.ndarray:
    """Templates that match each other become one: the larger stays."""
    kept: list[np.ndarray] = []
    for k in np.argsort(-np.einsum("kl,kl->k", templates, templates)).tolist():
        if not any(_shifted_distance(other, templates[k], shift) <= tolerance(other) for other in kept):
            kept.append(templates[k])
    return np.array(kept) if kept else np.empty((0, templates.shape[1]))


@dataclass(frozen=True)
class Clusters:
    """Every spike's cluster (-1 for none), the shift it matched at, and its residual there."""

    label: np.ndarray
    shift: np.ndarray
    residual: np.ndarray
    count: int


def cluster_spikes(win: SpikeWindows, size: np.ndarray, relative: float, check: Check) -> Clusters:
    """Group the spikes of ``win`` (``size`` orders them) by shape, as the module's docstring says."""
    tolerance = Tolerance(discharge_sd(win), relative)
    label, shift = _first_pass(win, size, tolerance, check)
    count = int(label.max()) + 1
    residual = np.zeros(label.size)
    for _ in range(REFINE_PASSES):
        check()
        members = [np.flatnonzero(label == k) for k in range(count)]
        templates = np.array([np.median(win.at[m, shift[m]], axis=0) for m in members if m.size >= MIN_DISCHARGES])
        if templates.size == 0:
            return Clusters(np.full(label.size, -1), shift, residual, 0)
        templates = _merge_similar(templates, win.shift, tolerance)
        count = templates.shape[0]
        label, shift, residual = _best(win.distances(templates))
        limits = np.array([tolerance(t) for t in templates])
        label = np.where(residual <= limits[label], label, -1)
    return Clusters(label, shift, residual, count)
