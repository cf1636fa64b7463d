"""Firing rate of each unit, and recruitment at one needle site (QEMG §2 and §5).

**Firing rate and its variability.** Sorting leaves superimposed discharges out (:mod:`.sort`), so a unit's train
has gaps (an interval doubled) and now and then a stray member (an interval cut short). As EMGlab does (QEMG §2),
the rate is taken from the modal band of the inter-discharge intervals, 0.67-1.5 × their mean: starting from the
lower quartile of the intervals (see :data:`BAND_START_PERCENTILE`), the band is re-centred on its own mean until
it settles. Its mean is a first period. The intervals that are then close to a whole number of periods (one, or two
or three when discharges were missed in between) are each divided into that many, and the period becomes their
total over the number of periods they hold, again until it settles: every interval of the train counts, not only
the single ones, so a unit that lost many discharges is not measured from its few short-interval neighbours
(which, at 10-20 % variability, lean short). The rate is 1 / the period, the variability the coefficient of
variation (SD / mean) of the single intervals inside the modal band. A class of alike potentials is taken for a
motor unit only when it fires as a train (:func:`fires_as_a_train`).

**Recruitment** (QEMG §5, "rule of 5s" [V2]): the *recruitment frequency* is the first unit's rate when the second
unit appears, the *recruitment ratio* the fastest rate divided by the number of units firing. The first unit is
the one that fires first in the segment, and its rate is measured over its last intervals (up to
:data:`RATE_AT_ARRIVAL_INTERVALS`) before the second unit's first discharge. When two or more units already fire
at the start of the segment (a steady contraction), the moment of recruitment is not in it: the earliest-recruited
unit is then the fastest of them (rate grows with effort above threshold), its rate is reported, and
:attr:`Recruitment.observed` is False, because that rate is an upper bound (the effort may have grown since the
second unit was recruited). Every unit that is not rejected counts as firing, far-field ones too: they are motor
units discharging, and the ratio counts units, not MUPs accepted for measurement.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

MODAL_BAND = (0.67, 1.5)
"""Intervals inside this multiple of the mean interval are the unit's own (EMGlab, QEMG §2)."""
MIN_INTERVALS = 3
"""Fewer intervals in the modal band give no rate."""
BAND_ITERATIONS = 5
MAX_MISSED = 2
"""An interval counts towards the period as up to this many missed discharges plus one ..."""
MULTIPLE_TOLERANCE = 0.3
"""... when it lies within this many periods of a whole number of them."""
BAND_START_PERCENTILE = 25.0
"""The band is first centred on this percentile of the intervals, not on their median: a unit that lost half of its
discharges to superimpositions has intervals of twice its period about as often as of its period, and a band
started at the median can settle on the doubled one."""
MIN_TRAIN_INTERVALS = 5
"""A class of alike potentials is a motor unit's train when at least this many of its intervals fall in the modal
band ..."""
MIN_TRAIN_RATE_HZ = 4.0
"""... at a rate of at least this: a voluntary unit starts firing near 5 Hz (SIMULATION_PARAMETERS §1, "onset
firing at recruitment"); a class whose band settles lower is a scatter of discharges (or of several units') whose
intervals are multiples of a period, not a train."""
RECRUITMENT_FREQUENCY_LIMIT_HZ = 20.0
"""Normal recruitment frequency is below this (QEMG §5, rule of 5s [V2])."""
RECRUITMENT_RATIO_LIMIT = 10.0
"""Normal recruitment ratio is below this (QEMG §5 [V2]; Preston & Shapiro put the usual value near 5 [T])."""
FASTEST_RATE_LIMIT_HZ = 15.0
"""Upper limit of normal for the fastest unit at low to moderate effort (12-15 Hz; above 15 Hz at several sites
suggests reduced recruitment; Clin Neurophysiol 2024, QEMG §5 [V]). The upper end is used, so a flag means the
rate is above every published limit."""
RATE_AT_ARRIVAL_INTERVALS = 3
"""The first unit's rate when the second arrives: the mean of its last intervals before then (at most this many;
its rate was still rising with effort before that)."""
FROM_START_INTERVALS = 1.5
"""A unit whose first discharge comes within this many of its intervals after the segment starts was already
firing when it started."""


@dataclass(frozen=True)
class FiringStats:
    rate_hz: float
    """NaN when fewer than :data:`MIN_INTERVALS` intervals fall in the modal band."""
    cv: float
    intervals: int
    """Intervals inside the modal band (the ones the figures come from)."""


def _band(intervals: np.ndarray) -> np.ndarray:
    centre = float(np.percentile(intervals, BAND_START_PERCENTILE))
    band = intervals
    for _ in range(BAND_ITERATIONS):
        band = intervals[(intervals >= MODAL_BAND[0] * centre) & (intervals <= MODAL_BAND[1] * centre)]
        if band.size == 0:
            break
        new = float(band.mean())
        if new == centre:
            break
        centre = new
    return band


def _period(intervals: np.ndarray) -> tuple[float, np.ndarray]:
    """The unit's period from its intervals, and which intervals are single ones (see the module's docstring)."""
    if intervals.size < MIN_INTERVALS:
        return math.nan, np.zeros(intervals.size, dtype=bool)
    band = _band(intervals)
    if band.size < MIN_INTERVALS:
        return math.nan, np.zeros(intervals.size, dtype=bool)
    period = float(band.mean())
    multiple = np.ones(intervals.size)
    for _ in range(BAND_ITERATIONS):
        ratio = intervals / period
        multiple = np.round(ratio)
        fits = (multiple >= 1) & (multiple <= MAX_MISSED + 1) & (np.abs(ratio - multiple) <= MULTIPLE_TOLERANCE)
        new = float(intervals[fits].sum() / multiple[fits].sum())
        if new == period:
            break
        period = new
    single = (multiple == 1) & (intervals >= MODAL_BAND[0] * period) & (intervals <= MODAL_BAND[1] * period)
    return period, single


def _intervals(times: np.ndarray) -> np.ndarray:
    intervals = np.diff(np.asarray(times, dtype=np.float64))
    return intervals[intervals > 0]


def mean_interval(times: np.ndarray) -> float:
    """The period of the unit firing at ``times`` (any unit of time), NaN when there is no modal band."""
    return _period(_intervals(times))[0]


def firing_stats(times_s: np.ndarray) -> FiringStats:
    """Rate and CV of one unit's discharges (seconds, sorted); see the module's docstring."""
    intervals = _intervals(times_s)
    period, single = _period(intervals)
    if not math.isfinite(period) or np.count_nonzero(single) < MIN_INTERVALS:
        return FiringStats(math.nan, math.nan, int(np.count_nonzero(single)))
    ones = intervals[single]
    return FiringStats(1.0 / period, float(ones.std(ddof=1) / ones.mean()), int(ones.size))


def fires_as_a_train(stats: FiringStats) -> bool:
    """Whether a class of potentials fires like one motor unit (see :data:`MIN_TRAIN_INTERVALS`)."""
    return stats.intervals >= MIN_TRAIN_INTERVALS and stats.rate_hz >= MIN_TRAIN_RATE_HZ


@dataclass(frozen=True)
class Recruitment:
    frequency_hz: float
    observed: bool
    """Whether the second unit's arrival was seen in the segment (see the module's docstring)."""
    ratio: float
    fastest_rate_hz: float
    units_firing: int
    flags: tuple[str, ...]
    """Plain sentences for what is outside normal, empty when nothing is."""


def recruitment(trains: Sequence[tuple[np.ndarray, float]], segment_start_s: float) -> Recruitment:
    """Recruitment at one site from each firing unit's ``(discharge times in s, rate in Hz)``."""
    trains = [(np.asarray(t, dtype=np.float64), r) for t, r in trains if len(t) and math.isfinite(r)]
    if not trains:
        return Recruitment(math.nan, False, math.nan, math.nan, 0, ())
    fastest = max(rate for _, rate in trains)
    ratio = fastest / len(trains)
    frequency, observed = _recruitment_frequency(trains, segment_start_s)
    flags = []
    if frequency >= RECRUITMENT_FREQUENCY_LIMIT_HZ:
        flags.append(
            f"recruitment frequency {frequency:.1f} Hz (normal below {RECRUITMENT_FREQUENCY_LIMIT_HZ:g} Hz)"
            + ("" if observed else ", measured on a steady contraction")
        )
    if ratio >= RECRUITMENT_RATIO_LIMIT:
        flags.append(f"recruitment ratio {ratio:.1f} (normal below {RECRUITMENT_RATIO_LIMIT:g})")
    if fastest > FASTEST_RATE_LIMIT_HZ:
        flags.append(f"fastest unit {fastest:.1f} Hz (upper limit {FASTEST_RATE_LIMIT_HZ:g} Hz at low effort)")
    return Recruitment(frequency, observed, ratio, fastest, len(trains), tuple(flags))


def _recruitment_frequency(trains: list[tuple[np.ndarray, float]], start_s: float) -> tuple[float, bool]:
    from_start = [(t, r) for t, r in trains if t[0] - start_s <= FROM_START_INTERVALS / r]
    if len(trains) == 1:
        return trains[0][1], False
    if len(from_start) >= 2:
        return max(r for _, r in from_start), False
    ordered = sorted(trains, key=lambda item: item[0][0])
    (first, first_rate), (second, _) = ordered[0], ordered[1]
    before = first[first < second[0]][-(RATE_AT_ARRIVAL_INTERVALS + 1) :]
    if before.size < 3:
        return first_rate, False
    return 1.0 / float(np.mean(np.diff(before))), True
