"""How one generator fires: its rate, its regularity, its shortest interval, and how its discharges come (steady,
in runs, in bursts), measured from the discharge times and sizes of one group.

These are the firing features by which the discharges of SIMULATION_PARAMETERS §2 differ: fibrillations and
positive sharp waves fire regularly at 0.5-15 Hz (some irregularly), fasciculations slowly and irregularly,
complex repetitive discharges in runs at a fixed rate with no jitter that start and stop abruptly, myotonic
discharges in runs whose rate and amplitude rise and fall together, myokymic discharges in recurring bursts,
neuromyotonic discharges in runs at 150-250 Hz whose amplitude falls, endplate spikes irregularly up to 50 Hz with
short minimum intervals (Partanen 2013, QEMG §6).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import numpy as np

from emgscope.analysis.muap.firing import MODAL_BAND, FiringStats, firing_stats

RUN_BREAK_FACTOR = 4.0
"""An interval this many times the group's median interval ends a run ..."""
RUN_BREAK_MIN_S = 0.15
"""... and is at least this long: the pauses between the runs of a repetitive discharge last 0.5-4 s, while a
myokymic burst's discharges are 17-200 ms apart (5-60 Hz, §2)."""
BURST_MAX = 12
"""A burst has a few discharges (myokymia: "bursts of a few MUAPs", §2); a longer run is not a burst."""


@dataclass(frozen=True)
class Run:
    """Discharges of one group with no pause between them."""

    first: int
    """Index of its first discharge in the group."""
    count: int
    rate_hz: float
    """1 / the median interval inside the run (NaN for a run of one)."""
    rate_swing: float
    """Fastest over slowest rate inside the run, each over a few intervals (1 for a steady run); a gap a missed
    discharge leaves is not a slowing, and is left out (:func:`_without_gaps`)."""
    size_rate_correlation: float
    """Correlation of the discharges' sizes with the rate at them (rising and falling together: myotonic)."""
    size_end_ratio: float
    """Mean size of the last quarter over the first quarter (below 1: decrementing)."""
    cv: float
    """Variability of the run's single intervals (those within :data:`MODAL_BAND` of its median): the jitter of a
    train, not the gaps a missed discharge leaves."""
    regular_share: float
    """Share of the run's intervals within :data:`MODAL_BAND` of its median (1 for a train without gaps)."""


@dataclass(frozen=True)
class Pattern:
    """The firing of one group."""

    count: int
    span_s: float
    rate_hz: float
    """1 / the median interval (NaN with fewer than two discharges)."""
    cv: float
    """Coefficient of variation of the intervals within runs (NaN with fewer than three discharges)."""
    min_interval_ms: float
    runs: tuple[Run, ...]
    firing: FiringStats
    """Rate and variability as the MUP analysis measures a unit's (from the modal band of its intervals)."""
    regular_share: float = 0.0
    """Share of all intervals within :data:`MODAL_BAND` of the median: near 1 for a regular train (less the gaps
    of missed discharges), near 0.3 for irregular firing (an exponential interval falls there 28 % of the time)."""

    @property
    def longest_run(self) -> Run | None:
        return max(self.runs, key=lambda r: r.count, default=None)

    def bursts(self) -> list[Run]:
        """Runs of 2 to :data:`BURST_MAX` discharges."""
        return [r for r in self.runs if 2 <= r.count <= BURST_MAX]


def _smooth_rate(intervals: np.ndarray) -> np.ndarray:
    """Rate at each interval, each the mean of up to three neighbouring intervals (noise of one is averaged)."""
    if intervals.size < 3:
        return 1.0 / intervals
    padded = np.concatenate((intervals[:1], intervals, intervals[-1:]))
    return 3.0 / (padded[:-2] + padded[1:-1] + padded[2:])


GAP_FACTOR = 1.7
"""An interval this many times the median of its neighbours is a missed discharge's gap (twice the period, less
the variation of a run that is slowing), and one this many times shorter a stray discharge's, not a change of
rate."""
NEIGHBOURS = 2
"""Intervals either side an interval is compared with."""


def _without_gaps(intervals: np.ndarray) -> np.ndarray:
    """``intervals`` less the gaps of missed discharges and the cuts of stray ones (see :data:`GAP_FACTOR`); all
    of them if that leaves too few."""
    if intervals.size < 2 * NEIGHBOURS + 1:
        return intervals
    padded = np.pad(intervals, NEIGHBOURS, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * NEIGHBOURS + 1)
    around = np.median(np.delete(windows, NEIGHBOURS, axis=1), axis=1)
    kept = intervals[(intervals < GAP_FACTOR * around) & (intervals > around / GAP_FACTOR)]
    return kept if kept.size >= 3 else intervals


def _run(times: np.ndarray, sizes: np.ndarray, first: int) -> Run:
    count = times.size
    if count < 2:
        return Run(first, count, math.nan, 1.0, 0.0, 1.0, math.nan, 0.0)
    intervals = np.diff(times)
    median = float(np.median(intervals))
    rate = 1.0 / median
    single = intervals[(intervals >= MODAL_BAND[0] * median) & (intervals <= MODAL_BAND[1] * median)]
    swing_rates = _smooth_rate(_without_gaps(intervals))
    swing = float(swing_rates.max() / swing_rates.min()) if swing_rates.min() > 0 else math.inf
    smooth = _smooth_rate(intervals)
    at = 0.5 * (sizes[1:] + sizes[:-1])
    correlation = 0.0
    if count >= 4 and np.std(at) > 0 and np.std(smooth) > 0:
        correlation = float(np.corrcoef(at, smooth)[0, 1])
    quarter = max(1, count // 4)
    ratio = float(np.mean(sizes[-quarter:]) / max(np.mean(sizes[:quarter]), 1e-9))
    cv = float(np.std(single) / np.mean(single)) if single.size >= 2 else math.nan
    return Run(first, count, rate, swing, correlation, ratio, cv, single.size / intervals.size)


def firing_pattern(times_s: np.ndarray, sizes_uv: np.ndarray) -> Pattern:
    """The pattern of a group firing at ``times_s`` (sorted) with discharges of ``sizes_uv``."""
    times = np.asarray(times_s, np.float64)
    sizes = np.asarray(sizes_uv, np.float64)
    count = times.size
    firing = firing_stats(times)
    if count < 2:
        return Pattern(count, 0.0, math.nan, math.nan, math.nan, (_run(times, sizes, 0),) if count else (), firing)
    intervals = np.diff(times)
    median = float(np.median(intervals))
    breaks = np.flatnonzero(intervals > max(RUN_BREAK_FACTOR * median, RUN_BREAK_MIN_S))
    edges = [0, *(breaks + 1).tolist(), count]
    runs = tuple(_run(times[a:b], sizes[a:b], a) for a, b in itertools.pairwise(edges))
    inside = np.delete(intervals, breaks)
    cv = float(np.std(inside) / np.mean(inside)) if inside.size >= 2 else math.nan
    single = (intervals >= MODAL_BAND[0] * median) & (intervals <= MODAL_BAND[1] * median)
    return Pattern(
        count,
        float(times[-1] - times[0]),
        1.0 / median,
        cv,
        1000.0 * float(intervals.min()),
        runs,
        firing,
        float(single.mean()),
    )
