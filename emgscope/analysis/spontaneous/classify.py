"""Which discharge a group of alike discharges is, from its shape and how it fires (QEMG §6).

No published automatic classifier was found to copy (QEMG §6); the rules follow the scheme QEMG §6 sketches
(shape, interval regularity, minimum interval) with the figures of SIMULATION_PARAMETERS §2, and each threshold
below is a named constant placed between the published ranges of the discharges it separates. The order of the
rules matters: a firing pattern that only one discharge has (a 150 Hz run, rate and size waxing and waning
together, recurring bursts, a fixed rate above a fibrillation's) decides before the shape does, because the
myotonic discharge has a fibrillation's shape and the neuromyotonic one a motor unit's.
"""

from __future__ import annotations

import math

from emgscope.analysis.muap.firing import fires_as_a_train
from emgscope.analysis.spontaneous.pattern import BURST_MAX, Pattern
from emgscope.analysis.spontaneous.shape import NEGATIVE_SPIKE, POSITIVE_WAVE, SPIKE, UNIT, Shape
from emgscope.core.discharges import (
    CRD,
    ENDPLATE_NOISE,
    ENDPLATE_SPIKE,
    FASCICULATION,
    FIBRILLATION,
    MYOKYMIC,
    MYOTONIC,
    NEUROMYOTONIC,
    PSW,
    SPONTANEOUS,
)

VOLUNTARY = "voluntary"
"""A motor unit firing as in a weak contraction: the patient is not relaxed (not spontaneous activity)."""
INSERTIONAL = "insertional"
"""Discharges of the needle's movement that stop within :data:`PERSIST_S` (not spontaneous activity)."""
UNCLASSIFIED = "unclassified"

CLASSES = (*SPONTANEOUS, VOLUNTARY, INSERTIONAL, UNCLASSIFIED)
"""Every class, in the order a report lists them. The names are those of the simulated patient's ground truth."""
OTHER_DISCHARGES = (CRD, MYOTONIC, MYOKYMIC, NEUROMYOTONIC)
"""The report's "other discharges" (QEMG §8)."""
NAMES: dict[str, str] = {
    FIBRILLATION: "fibrillation potentials",
    PSW: "positive sharp waves",
    FASCICULATION: "fasciculation potentials",
    CRD: "complex repetitive discharges",
    MYOTONIC: "myotonic discharges",
    MYOKYMIC: "myokymic discharges",
    NEUROMYOTONIC: "neuromyotonic discharges",
    ENDPLATE_NOISE: "endplate noise",
    ENDPLATE_SPIKE: "endplate spikes",
    VOLUNTARY: "motor units firing (not relaxed)",
    INSERTIONAL: "insertional discharges",
    UNCLASSIFIED: "unclassified discharges",
}
"""What a person reads, in neutral words (QEMG §8)."""
SHORT_NAMES: dict[str, str] = {
    FIBRILLATION: "fib",
    PSW: "PSW",
    FASCICULATION: "fasc",
    CRD: "CRD",
    MYOTONIC: "myotonic",
    MYOKYMIC: "myokymic",
    NEUROMYOTONIC: "neuromyotonic",
    ENDPLATE_NOISE: "EP noise",
    ENDPLATE_SPIKE: "EP spike",
    VOLUNTARY: "MU firing",
    INSERTIONAL: "insertional",
    UNCLASSIFIED: "unclassified",
}
"""For annotations and the prompt panel, where room is short."""

PERSIST_S = 3.0
"""Spontaneous activity is abnormal when it persists more than 3 s after the needle stops (QEMG §6, StatPearls):
after a needle movement, discharges that have all stopped by then belong to the insertional activity."""
UNIT_CONSISTENCY = 0.5
"""A motor unit's discharges repeat its whole potential: a group of unit-sized discharges of which fewer than half
do is superimposed single-fibre potentials, not a unit (unclassified) ..."""
FRAGMENT_RATIO = 2.0
"""A potential's peak to peak is at most twice its largest deflection. A unit-sized detection whose peak to peak
over its extent is more than twice its own peak is a wiggle beside a larger potential (its extent reaches into
that one, as between the complexes of a CRD), not a unit's discharge: unclassified ..."""
LONE_UNIT_MIN_UV = 400.0
"""... and a unit-sized discharge is taken for a fasciculation only above what two single-fibre potentials
superimposed reach (2 × 200 µV, §2): fasciculations are 123-1480 µV (mean 561, §2), so the smallest are left
unclassified rather than have superimposed fibrillations called fasciculations (at a dense site they superimpose
again and again, slowly enough to pass for a fasciculation's firing)."""
PATTERN_MIN = 4
"""Fewer discharges than this give no firing pattern: the group is classed by its shape alone."""
NEUROMYOTONIC_MIN_HZ = 150.0
"""Neuromyotonic discharges fire at 150-250 Hz (textbook [T]; 200-300 Hz in the case of §2); myotonic discharges
at 20-80 Hz (AANEM [V]; up to 150 Hz [T]) and complex repetitive discharges mostly at 30-40 Hz (5-150 Hz): a run
at 150 Hz or more is neuromyotonic."""
REGULAR_SHARE = 0.7
"""... as one unit's regular train: most intervals are single periods (within the modal band, a missed discharge
aside), where a group holding two spikes of one complex alternates a short and a long interval."""
RUN_MIN = 5
"""A run of a repetitive discharge has at least this many discharges (neuromyotonic trains have about 20, §2)."""
MYOTONIC_MIN_HZ = 20.0
"""Myotonic discharges fire at 20-80 Hz (AANEM, §2) ..."""
MYOTONIC_SWING = 1.5
"""... and their rate waxes and wanes: the fastest stretch of a run is at least this many times the slowest ..."""
MYOTONIC_CORRELATION = 0.3
"""... with the amplitude rising and falling with the rate ("both amplitude and frequency wax and wane", §2); and
they are single-fibre potentials of a fibrillation's or a positive sharp wave's form (§2), which begin positive: a
fast train that begins negative is the endplate's (two endplate spike generators merged into one group fire at
20-40 Hz with a rate that swings). One fibre fires them, so most discharges repeat the group's whole potential
(:data:`UNIT_CONSISTENCY`): at the endplate zone, superimposed fibrillations and endplate spikes merged into one
group also swing in rate and size, but do not."""
CRD_MIN_HZ = 16.0
"""A complex repetitive discharge fires at 5-150 Hz, most often 30-40 Hz (§2), fibrillations at 0.5-15 Hz: a
regular run faster than a fibrillation's range is a complex repetitive discharge. (Slower CRDs exist, and are
missed by this rule: at 5-15 Hz a CRD and a regular fibrillation differ by the complex's shape, which this rule
does not judge.)"""
CRD_MAX_CV = 0.05
"""Ephaptic transmission gives no jitter: a CRD's intervals are nearly constant (§2); fibrillations' regular
trains vary by less than 5 % too (§4), so regularity alone does not tell them apart: the rate does."""
CRD_MAX_SWING = 1.3
"""Its rate is fixed for the run ("abrupt onset and end", no waxing and waning)."""
BURSTS_MIN = 2
"""Myokymic discharges, a motor unit's potentials (MUAP-sized, §2; not a single fibre's): at least this many
bursts ..."""
BURST_INTRA_MIN_HZ = 5.0
"""... each of a few discharges at 5-60 Hz (§2 [T]) ..."""
BURSTS_SHARE = 0.6
"""... making most of the group's discharges."""
ENDPLATE_NOISE_MAX_UV = 60.0
"""Endplate noise is 10-40 µV (under 100), endplate spikes 100-200 µV (§2): a negative spike under 60 µV is
noise."""
IRREGULAR_CV = 0.5
"""Endplate spikes fire irregularly (a Poisson-like CV near 1); regular fibrillation trains vary by less than
5 %, and about 43 % of trains are irregular (§2), with CVs near 0.3-0.5: above this a spike train is irregular
enough to be an endplate's."""
ENDPLATE_MIN_INTERVAL_MS = 15.0
"""Endplate spikes fire up to 50 Hz irregularly, so intervals well under 20 ms occur; fibrillations, even irregular
ones, have longer minimum intervals (Partanen 2013, QEMG §6)."""
VOLUNTARY_HZ = (4.0, 30.0)
"""A voluntary unit fires semi-regularly at 5-20 Hz at weak effort (SIMULATION_PARAMETERS §1; onset near 5 Hz) ..."""
VOLUNTARY_MAX_CV = 0.35
"""... with interval variability of 10-20 % (§4); fasciculations are irregular and slow (§2)."""
VOLUNTARY_MIN = 6
VOLUNTARY_MIN_CV = 0.03
"""A voluntary unit's intervals vary by 10-20 % (§4; continuous single discharges 3.5 ± 1.7 %, Posa 2020, §1); a
complex repetitive discharge's by nothing (ephaptic, §2)."""
VOLUNTARY_REGULAR_SHARE = 0.5
"""... most of whose intervals are single periods (irregular firing puts about 30 % of its intervals there)."""
FASCICULATION_MAX_HZ = 1.0
"""Fasciculations fire slowly and irregularly: in ALS one may take up to 90 s to appear (§2), and benign ones fire
"faster" with no figure given; a unit-shaped group firing on average faster than once a second without a
voluntary unit's regularity is not called a fasciculation (our bound)."""
"""... and as a train: at least this many discharges (a weak contraction held for a second or more)."""


def classify(shape: Shape, pattern: Pattern, consistency: float = 1.0) -> str:
    """The class of a group with the (median) ``shape``, firing ``pattern`` and ``consistency`` (the share of its
    discharges that have the group's whole shape)."""
    if pattern.count >= PATTERN_MIN:
        by_firing = _by_firing(shape, pattern, consistency)
        if by_firing is not None:
            return by_firing
    return _by_shape(shape, consistency)


def _unlike_a_unit(shape: Shape, consistency: float) -> bool:
    """Unit-sized, but begins negative (a unit's potential away from its endplate begins positive: triphasic,
    SIMULATION_PARAMETERS §1), does not repeat its whole shape (see :data:`UNIT_CONSISTENCY`) or is a fragment
    beside a larger potential (see :data:`FRAGMENT_RATIO`)."""
    return (
        shape.initial < 0 or consistency < UNIT_CONSISTENCY or shape.amplitude_uv > FRAGMENT_RATIO * abs(shape.peak_uv)
    )


def _by_firing(shape: Shape, pattern: Pattern, consistency: float) -> str | None:
    runs = [r for r in pattern.runs if r.count >= RUN_MIN]
    longest = max(runs, key=lambda r: r.count, default=None)
    if longest is not None and longest.rate_hz >= NEUROMYOTONIC_MIN_HZ and longest.regular_share >= REGULAR_SHARE:
        return NEUROMYOTONIC
    if (
        longest is not None
        and longest.count > BURST_MAX
        and longest.rate_hz >= CRD_MIN_HZ
        and longest.regular_share >= REGULAR_SHARE
        and _below(longest.cv, CRD_MAX_CV)
        and longest.rate_swing <= CRD_MAX_SWING
    ):
        return CRD
    if shape.kind == UNIT and _voluntary(pattern):
        return VOLUNTARY
    if shape.initial < 0 and _irregular(pattern):
        return ENDPLATE_NOISE if shape.amplitude_uv < ENDPLATE_NOISE_MAX_UV else ENDPLATE_SPIKE
    bursts = [b for b in pattern.bursts() if b.rate_hz >= BURST_INTRA_MIN_HZ]
    if (
        shape.kind == UNIT
        and len(bursts) >= BURSTS_MIN
        and sum(b.count for b in bursts) >= BURSTS_SHARE * pattern.count
        and all(r.count <= BURST_MAX for r in pattern.runs)
    ):
        return MYOKYMIC
    if (
        longest is not None
        and longest.rate_hz >= MYOTONIC_MIN_HZ
        and shape.kind != UNIT
        and shape.initial > 0
        and consistency >= UNIT_CONSISTENCY
        and longest.rate_swing >= MYOTONIC_SWING
        and longest.size_rate_correlation >= MYOTONIC_CORRELATION
    ):
        return MYOTONIC
    if shape.kind == UNIT:
        if _unlike_a_unit(shape, consistency):
            return UNCLASSIFIED
        slow = pattern.rate_hz <= FASCICULATION_MAX_HZ
        return FASCICULATION if slow and shape.amplitude_uv >= LONE_UNIT_MIN_UV else UNCLASSIFIED
    if shape.kind in (SPIKE, POSITIVE_WAVE):
        return FIBRILLATION if shape.kind == SPIKE else PSW
    return None


def _by_shape(shape: Shape, consistency: float) -> str:
    if shape.kind == SPIKE:
        return FIBRILLATION
    if shape.kind == POSITIVE_WAVE:
        return PSW
    if shape.kind == NEGATIVE_SPIKE:
        return ENDPLATE_NOISE if shape.amplitude_uv < ENDPLATE_NOISE_MAX_UV else ENDPLATE_SPIKE
    if shape.kind == UNIT and not _unlike_a_unit(shape, consistency) and shape.amplitude_uv >= LONE_UNIT_MIN_UV:
        return FASCICULATION
    return UNCLASSIFIED


def _voluntary(pattern: Pattern) -> bool:
    """Fires as a motor unit in a weak contraction: as a train (the MUP analysis's own test, the rate and variability
    from the modal band of its intervals), at a voluntary rate, regularly."""
    if pattern.count < VOLUNTARY_MIN or pattern.regular_share < VOLUNTARY_REGULAR_SHARE:
        return False
    stats = pattern.firing
    low, high = VOLUNTARY_HZ
    return fires_as_a_train(stats) and low <= stats.rate_hz <= high and _below(stats.cv, VOLUNTARY_MAX_CV)


def _irregular(pattern: Pattern) -> bool:
    """Fires as endplate spikes do: irregularly, with intervals much shorter than its typical one."""
    return _above(pattern.cv, IRREGULAR_CV) and pattern.min_interval_ms < ENDPLATE_MIN_INTERVAL_MS


def _below(value: float, limit: float) -> bool:
    return math.isfinite(value) and value <= limit


def _above(value: float, limit: float) -> bool:
    return math.isfinite(value) and value > limit
