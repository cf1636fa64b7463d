"""Each unit's template: its discharges averaged, with the other units' potentials taken away first.

At a weak contraction the needle records a few units near it and many more farther off, and every discharge of a
unit lands on parts of the others' potentials. Averaging alone leaves, at every latency, the mean of what landed
there: a background of tens of µV in a 5 s segment, enough to carry the ±40 µV rule's quiet band away and stretch
the duration by many ms. So, as EMGlab resolves superimpositions by template subtraction (QEMG §2), the templates
are found together: each unit's current potential (:func:`potential_shape`) is placed at every one of its
discharges to model the segment, and each template is its own potential plus the robust mean of what the model
leaves at its discharges (:func:`robust_mean`), :data:`PASSES` times over. What remains is the background no unit
accounts for.

A unit's potential is taken as its template between the markers, widened by :data:`SHAPE_MARGIN_MS` either side,
less its baseline: outside that stretch a template is background, and subtracting it would only add noise.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from emgscope.analysis.muap.measure import auto_markers

OUTLIER_MADS = 3.0
"""Discharges this far from the median at a latency are left out of the template's mean there."""
PASSES = 2
"""Templates are found again this many times, each time against the model made of the previous ones."""
SHAPE_MARGIN_MS = 3.0
"""What of a template is the unit's potential: its duration and this much either side (the quiet stretch of the
duration rule, QEMG §3)."""


def robust_mean(windows: np.ndarray) -> np.ndarray:
    """The mean at each latency of the windows within :data:`OUTLIER_MADS` of their median there (NaNs ignored).

    A plain median would be biased by the slow phases of other units, which have no mean but a skewed spread; a
    plain mean would keep other units' spikes."""
    middle = np.nanmedian if np.isnan(windows).any() else np.median
    median = middle(windows, axis=0)
    spread = middle(np.abs(windows - median), axis=0)
    inside = np.abs(windows - median) <= OUTLIER_MADS * spread
    kept = np.where(inside, windows, np.nan)
    counts = np.sum(np.isfinite(kept), axis=0)
    means = np.nansum(kept, axis=0) / np.maximum(counts, 1)
    return np.where(counts > 0, means, np.where(np.isfinite(median), median, 0.0))


def potential_shape(template: np.ndarray, rate: float) -> np.ndarray:
    """The unit's potential in ``template``: between its markers and :data:`SHAPE_MARGIN_MS` beyond, less its
    baseline; zero elsewhere."""
    markers = auto_markers(template, rate)
    margin = round(SHAPE_MARGIN_MS * rate / 1000.0)
    shape = np.zeros(template.size)
    first, last = max(0, markers.onset - margin), min(template.size, markers.end + margin + 1)
    shape[first:last] = template[first:last] - markers.baseline_uv
    return shape


class Segment:
    """The segment's samples with room for a template's span around every discharge (NaN beyond the ends)."""

    def __init__(self, x: np.ndarray, rate: float, before: int, after: int) -> None:
        self.rate, self.before, self.after = rate, before, after
        self.size = x.size
        self.padded = np.concatenate((np.full(before, np.nan), np.asarray(x, dtype=np.float64), np.full(after, np.nan)))
        self.span = np.arange(before + after + 1)
        """A template's samples: ``padded[t + span]`` is the template's span around segment sample ``t``."""

    def windows(self, signal: np.ndarray, times: np.ndarray) -> np.ndarray:
        return signal[times[:, np.newaxis] + self.span]

    def model(self, trains: Sequence[np.ndarray], shapes: Sequence[np.ndarray]) -> np.ndarray:
        """Every unit's potential placed at each of its discharges (padded like the segment)."""
        out = np.zeros(self.padded.size)
        for times, shape in zip(trains, shapes, strict=True):
            np.add.at(out, (times[:, np.newaxis] + self.span).ravel(), np.tile(shape, times.size))
        return out

    def templates(self, trains: Sequence[np.ndarray], averaged: Sequence[np.ndarray]) -> list[np.ndarray]:
        """The templates of units discharging at ``trains``, averaged over ``averaged`` (each a subset of its
        train: the discharges fit to average), each with the others taken away (see the module's docstring)."""
        templates = [robust_mean(self.windows(self.padded, times)) for times in averaged]
        for _ in range(PASSES):
            shapes = [potential_shape(t, self.rate) for t in templates]
            residual = self.padded - self.model(trains, shapes)
            templates = [
                shape + robust_mean(self.windows(residual, times))
                for shape, times in zip(shapes, averaged, strict=True)
            ]
        return templates
