"""Spontaneous activity in one rest step: every discharge found, grouped into trains, classified (QEMG §6).

The stages: the filtered signal (the clinical needle filter, as on screen; a source slower than 20 kHz is
interpolated up to it, as the MUP analysis does) has its background measured and its discharges detected with the
MUP analysis's own detector (:mod:`emgscope.analysis.muap.detect`); each discharge's shape is measured
(:mod:`.shape`); alike discharges are grouped into the trains of one generator (:mod:`.group`), and groups locked
to each other at a steady lag are united as the MUP analysis unites the components of one potential (the spikes of a
complex repetitive discharge, :func:`~emgscope.analysis.muap.trains.merge_components`; only groups with a firing
pattern, :data:`~.classify.PATTERN_MIN` discharges, are looked at: fewer are too few to lock); each group's firing
is measured (:mod:`.pattern`) and the group classified (:mod:`.classify`). A few discharges that fall inside the
runs of a repetitive discharge and matched no run of their own are taken for its discharges (a run that waxes and
wanes spreads over a few groups). After a needle movement, groups that stop within
:data:`~emgscope.analysis.spontaneous.classify.PERSIST_S` are insertional activity.

The analysis starts :data:`SETTLE_S` after the rest begins: the patient's time to relax, as the exam's own check
gives it (:class:`~emgscope.analysis.checks.CheckSettings`).
"""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import signal
from scipy.ndimage import median_filter

from emgscope.analysis.checks import CheckSettings
from emgscope.analysis.muap.analyse import WORKING_RATE_HZ, MuapInputError, analyse_segment
from emgscope.analysis.muap.detect import DETECT_THRESHOLD_SD, MAD_TO_SD, background_sd, detect_spikes
from emgscope.analysis.muap.trains import merge_components, split_merged
from emgscope.analysis.spontaneous import classify as c
from emgscope.analysis.spontaneous.group import group, windows
from emgscope.analysis.spontaneous.pattern import RUN_BREAK_FACTOR, RUN_BREAK_MIN_S, Pattern, firing_pattern
from emgscope.analysis.spontaneous.shape import FIBRE_MAX_UV, LEAD_MS, POSITIVE_WAVE, SPAN_MS, Shape, measure_shape
from emgscope.core.settings import FilterSettings

SETTLE_S = CheckSettings().relax_grace_s
"""Skipped at the start of a rest: the patient relaxes (the same grace the exam's check gives)."""
MIN_DETECT_UV = 10.0
"""No discharge smaller than this is looked for: endplate noise starts at 10 µV, fibrillations at 20 µV (§2),
and on a very quiet needle 5 background SDs would be a few µV."""
BASELINE_MS = 10.0
"""Discharges are detected above the local baseline, the running median over this long: longer than a
fibrillation's or an endplate spike's spike (1-5 ms) and a positive sharp wave's sharp positive phase, shorter than
the slow swings of the baseline between discharges (the 10 Hz filter's return after a positive sharp wave's
10-30 ms negative phase lasts tens of ms, §2), on which the background's wiggles would otherwise pass for small
spikes."""
SHAPE_MEMBERS = 40
"""A group's shape is measured on the mean of at most this many of its discharges (spread over the group)."""
REPETITIVE = (c.NEUROMYOTONIC, c.MYOTONIC, c.CRD, c.MYOKYMIC)
FRAGMENT_SHARE = 0.5
"""A small group with at least this share of its discharges inside a repetitive discharge's runs is part of it."""
LOCKED_COMPONENTS = (2, 3, 4)
LOCKED_CV = 0.02
"""Cycles this steady (their spread, robustly: a missed spike aside) are a complex's (ephaptic: no jitter, §2; a
fibrillation train varies by 1-4 %, and two trains merged in one group do not make steady cycles)."""
LOCKED_SPREAD_CV = 0.1
"""... looked for only in a group whose single intervals spread more than this, robustly (they alternate; a
train with a few missed discharges has most of its intervals equal)."""
DUPLICATE_MS = 2.0
"""Two discharges of one group closer than this are one (a neuromyotonic run's intervals are 3.3-7 ms at 150-300 Hz,
§2; no generator fires faster)."""
CONSISTENT_CORRELATION = 0.8
SPLIT_MIN = 12
"""Groups from this size are looked at for two generators in one (each part must fire 6 times)."""
BLOCK_MS = 20.0
QUIET_PERCENTILE = 20.0
"""The background is measured in 20 ms blocks and taken from the quietest fifth of them."""
ABSORB_FRACTION = 0.5
"""A peak under half the size of the discharge whose extent it lies in belongs to that discharge; discharges of
one train that follow each other closely (a neuromyotonic run) are nearly the same size and stay apart."""
EXAMPLES = 3
UNFILTERED = FilterSettings("custom", 0.0, 0.0, 0.0)
"""The samples given are filtered already (as on screen): the MUP analysis is told not to filter them again."""
"""Example discharges kept per class (the report's evidence)."""


@dataclass(frozen=True)
class Train:
    """One group of alike discharges: a generator and how it fired."""

    cls: str
    samples: np.ndarray
    """Each discharge's largest deflection, absolute sample index at the source's rate."""
    shape: Shape
    pattern: Pattern
    amplitude_uv: float
    """Median peak to peak of its discharges."""
    consistency: float = 1.0
    """Share of its discharges whose whole potential correlates with the group's median potential by at least
    :data:`CONSISTENT_CORRELATION`: near 1 for one generator firing again and again, low for a group of
    superimposed discharges that only their spikes made alike."""

    @property
    def count(self) -> int:
        return int(self.samples.size)


@dataclass(frozen=True)
class RestAnalysis:
    """What was found in one rest step."""

    sample_rate: float
    start_index: int
    """The first sample analysed (after :data:`SETTLE_S`)."""
    samples: int
    noise_sd_uv: float
    trains: tuple[Train, ...]
    muscle: str = ""
    side: str = ""
    site: str = ""
    """Which site of the muscle, e.g. ``site 2/3`` (empty for a rest that was not repeated)."""
    firing_units: tuple[tuple[float, float], ...] = ()
    """Motor units firing as in a weak contraction, ``(amplitude µV, rate Hz)``: the patient was not relaxed."""

    @property
    def relaxed(self) -> bool:
        return not self.firing_units

    @property
    def seconds(self) -> float:
        return self.samples / self.sample_rate

    def of(self, cls: str) -> list[Train]:
        return [t for t in self.trains if t.cls == cls]

    def count(self, cls: str) -> int:
        """Discharges of ``cls``."""
        return sum(t.count for t in self.of(cls))

    def counts(self) -> dict[str, int]:
        """Discharges per class found, in the report's order."""
        found = Counter({t.cls: 0 for t in self.trains})
        for t in self.trains:
            found[t.cls] += t.count
        return {k: found[k] for k in c.CLASSES if found[k]}

    def examples(self, cls: str) -> list[int]:
        """Up to :data:`EXAMPLES` sample indices of clear discharges of ``cls`` (of its largest trains)."""
        out = []
        for train in sorted(self.of(cls), key=lambda t: -t.count):
            out.append(int(train.samples[train.count // 2]))
            if len(out) == EXAMPLES:
                break
        return out


def working_signal(filtered_uv: np.ndarray, rate: float) -> tuple[np.ndarray, float, int]:
    """The filtered signal at :data:`~emgscope.analysis.muap.analyse.WORKING_RATE_HZ` or faster (band-limited
    interpolation of a slow source), its rate, and the factor it was interpolated by."""
    x = np.asarray(filtered_uv, np.float64)
    up = max(1, math.ceil(WORKING_RATE_HZ / rate))
    if up > 1:
        x = signal.resample_poly(x, up, 1)
    return x, rate * up, up


def analyse_rest(
    filtered_uv: np.ndarray,
    rate: float,
    start_index: int = 0,
    after_movement: bool = False,
    muscle: str = "",
    side: str = "",
    site: str = "",
    settle_s: float = SETTLE_S,
) -> RestAnalysis:
    """Analyse a rest step's filtered samples (µV, one channel), the first at absolute ``start_index``.

    ``after_movement``: the needle was moved as the rest began (a new site, or the insertion before the first
    rest), so discharges that stop within 3 s are insertional activity. The first ``settle_s`` are skipped.
    """
    skip = min(round(settle_s * rate), max(0, np.asarray(filtered_uv).size - 1))
    x, working, up = working_signal(np.asarray(filtered_uv)[skip:], rate)
    first = start_index + skip
    if x.size == 0:
        return RestAnalysis(rate, first, 0, math.nan, (), muscle, side, site)
    noise = quiet_background_sd(x, working)
    peaks = whole_discharges(x, detect_discharges(x, working, noise), working, noise)
    labels = group(x, peaks, working, noise)
    groups = _apart([peaks[labels == k] for k in range(int(labels.max()) + 1 if labels.size else 0)], x, working)
    trains: list[Train] = []
    steady = [g for g in groups if g.size >= c.PATTERN_MIN]
    for united in merge_components(steady, working, DUPLICATE_MS) + [g for g in groups if g.size < c.PATTERN_MIN]:
        members = _one_per_cycle(x, _once(x, united, working))
        if members.size == 0:
            continue
        sizes = np.array([_size(x, p, working) for p in members])
        shape, consistency = _group_shape(x, members, working, noise)
        pattern = firing_pattern(members / working, sizes)
        samples = first + np.round(members / up).astype(np.int64)
        cls = c.classify(shape, pattern, consistency)
        trains += _by_discharge(Train(cls, samples, shape, pattern, float(np.median(sizes)), consistency), sizes, rate)
    trains = _fragments(trains, rate)
    if after_movement:
        trains = _insertional(trains, start_index, rate)
    large = sum(1 for t in trains for _ in range(t.count) if t.amplitude_uv >= FIBRE_MAX_UV)
    firing = firing_units(np.asarray(filtered_uv)[skip:], rate) if large >= c.VOLUNTARY_MIN else ()
    return RestAnalysis(rate, first, round(x.size / up), noise, tuple(trains), muscle, side, site, firing)


def detect_discharges(x: np.ndarray, rate: float, noise: float) -> np.ndarray:
    """Peaks beyond the detection threshold both from zero and from the local baseline (see
    :data:`BASELINE_MS`), on the same side of both."""
    threshold = max(DETECT_THRESHOLD_SD * noise, MIN_DETECT_UV)
    above = x - median_filter(x, max(3, round(BASELINE_MS * rate / 1000.0)) | 1, mode="nearest")
    peaks = detect_spikes(above, rate, threshold)
    return peaks[(np.abs(x[peaks]) > threshold) & (np.sign(x[peaks]) == np.sign(above[peaks]))]


def firing_units(filtered_uv: np.ndarray, rate: float) -> tuple[tuple[float, float], ...]:
    """Motor units that fire through the rest as in a weak contraction, found by the MUP analysis itself (it is
    made to find them, and is checked on real needle EMG): larger than any single fibre's potential
    (:data:`~.shape.FIBRE_MAX_UV`), at a voluntary rate, with a voluntary unit's jitter (a complex repetitive
    discharge has none)."""
    try:
        site = analyse_segment(filtered_uv, rate, filters=UNFILTERED)
    except MuapInputError:
        return ()
    low, high = c.VOLUNTARY_HZ
    return tuple(
        (round(u.measures.amplitude_uv, 1), round(u.firing.rate_hz, 2))
        for u in site.units
        if u.measures.amplitude_uv >= FIBRE_MAX_UV
        and low <= u.firing.rate_hz <= high
        and u.firing.cv >= c.VOLUNTARY_MIN_CV
    )


def quiet_background_sd(x: np.ndarray, rate: float) -> float:
    """The background's SD where the needle is quietest: the :data:`QUIET_PERCENTILE` th percentile of the robust SD
    (:func:`~emgscope.analysis.muap.detect.background_sd`) of :data:`BLOCK_MS` blocks. At rest the discharges can
    fill much of the time (a site of grade 3+ or 4+, endplate noise), and a median over the whole step would take
    them for background and raise the threshold over the small ones."""
    block = round(BLOCK_MS * rate / 1000.0)
    n = x.size // block
    if n < 2:
        return background_sd(x)
    blocks = x[: n * block].reshape(n, block)
    spread = np.median(np.abs(blocks - np.median(blocks, axis=1, keepdims=True)), axis=1) / MAD_TO_SD
    return float(np.percentile(spread, QUIET_PERCENTILE))


def whole_discharges(x: np.ndarray, peaks: np.ndarray, rate: float, noise: float) -> np.ndarray:
    """One peak per discharge: a smaller peak inside a larger discharge's extent (another spike of a complex) is part
    of it, not a discharge of its own (see :data:`ABSORB_FRACTION`); so is a negative peak in the
    :data:`~.shape.SPAN_MS` after a positive wave (its long, low negative phase, §2)."""
    if peaks.size < 2:
        return peaks
    size = np.abs(x[peaks])
    spans: list[tuple[int, int, float, bool]] = []
    """``(first, last, size, negative peaks only)`` of the discharges kept so far."""
    keep = np.zeros(peaks.size, bool)
    tail = round(SPAN_MS * rate / 1000.0)
    for i in np.argsort(-size, kind="stable").tolist():
        p = int(peaks[i])
        inside = (
            a <= p <= b and size[i] < ABSORB_FRACTION * big and (x[p] < 0 or not only) for a, b, big, only in spans
        )
        if any(inside):
            continue
        shape = measure_shape(x, p, rate, noise)
        start = p + round(shape.onset_ms * rate / 1000.0)
        spans.append((start, start + round(shape.extent_ms * rate / 1000.0), float(size[i]), False))
        if shape.kind == POSITIVE_WAVE:
            spans.append((p, p + tail, float(size[i]), True))
        keep[i] = True
    return peaks[keep]


def _apart(groups: list[np.ndarray], x: np.ndarray, rate: float) -> list[np.ndarray]:
    """Groups that hold two generators of one shape (two fibrillating fibres alike in shape and size: their merged
    train has many intervals far shorter than its typical one) split as the MUP analysis splits two alike units
    (:func:`~emgscope.analysis.muap.trains.split_merged`)."""
    out = []
    for members in groups:
        if members.size < SPLIT_MIN:
            out.append(members)
            continue
        members = np.sort(members)
        at, shift = windows(x, members, rate)
        out += [members[part] for part in split_merged(at[:, shift], members)]
    return out


def _once(x: np.ndarray, members: np.ndarray, rate: float) -> np.ndarray:
    """A group's discharges, each once: of two closer than :data:`DUPLICATE_MS` (two spikes of one complex, or
    one found twice), the larger."""
    members = np.sort(members[(members >= 0) & (members < x.size)])  # a united component may lie past the ends
    if members.size < 2:
        return members
    limit = DUPLICATE_MS * rate / 1000.0
    kept = [int(members[0])]
    for p in members[1:].tolist():
        if p - kept[-1] < limit:
            if abs(x[p]) > abs(x[kept[-1]]):
                kept[-1] = p
        else:
            kept.append(p)
    return np.array(kept, np.int64)


def _one_per_cycle(x: np.ndarray, members: np.ndarray) -> np.ndarray:
    """A group holding two to four alike spikes of each cycle of a complex (its intervals alternate, while the
    sum of each :data:`LOCKED_COMPONENTS` consecutive ones is steady) reduced to one spike a cycle, the largest:
    a complex repetitive discharge's complex is one discharge (§2), and its spikes fire locked together."""
    if members.size < 4 * LOCKED_COMPONENTS[-1]:
        return members
    intervals = np.diff(members).astype(np.float64)
    within = intervals < RUN_BREAK_FACTOR * np.median(intervals)  # inside runs: a pause between them is no cycle
    inside = intervals[within]
    middle = float(np.median(inside))
    if np.median(np.abs(inside - middle)) / MAD_TO_SD <= LOCKED_SPREAD_CV * middle:
        return members  # one steady interval (a missed discharge aside): nothing alternates
    for k in LOCKED_COMPONENTS:
        sums = np.convolve(intervals, np.ones(k), mode="valid")[np.convolve(within, np.ones(k), mode="valid") == k]
        centre = float(np.median(sums)) if sums.size else 0.0
        if sums.size >= 3 * k and np.median(np.abs(sums - centre)) / MAD_TO_SD <= LOCKED_CV * centre:
            phases = [members[phase::k] for phase in range(k)]
            return max(phases, key=lambda p: float(np.median(np.abs(x[p]))))
    return members


def _size(x: np.ndarray, peak: int, rate: float) -> float:
    """Peak to peak within ±1 ms of a discharge's peak (its spike; a neighbour rarely falls inside)."""
    half = round(rate / 1000.0)
    part = x[max(0, peak - half) : peak + half + 1]
    return float(part.max() - part.min())


def _group_shape(x: np.ndarray, members: np.ndarray, rate: float, noise: float) -> tuple[Shape, float]:
    """The shape of the median of up to :data:`SHAPE_MEMBERS` discharges aligned on their peaks (a group is one
    shape, and the median keeps it while other generators' discharges, which fall anywhere, drop out), and the
    group's consistency (see :attr:`Train.consistency`)."""
    lead = round(LEAD_MS * rate / 1000.0)
    span = round(SPAN_MS * rate / 1000.0)
    chosen = members[np.unique(np.linspace(0, members.size - 1, min(members.size, SHAPE_MEMBERS)).astype(int))]
    padded = np.concatenate((np.zeros(lead), x, np.zeros(span + 1)))
    windows = padded[chosen[:, None] + np.arange(lead + span + 1)]
    median = np.median(windows, axis=0)
    shape = measure_shape(median, lead, rate, noise / math.sqrt(chosen.size))
    a = lead + round(shape.onset_ms * rate / 1000.0)
    b = a + max(2, round(shape.extent_ms * rate / 1000.0))
    part = windows[:, a:b] - windows[:, a:b].mean(axis=1, keepdims=True)
    ref = median[a:b] - median[a:b].mean()
    norms = np.linalg.norm(part, axis=1) * max(float(np.linalg.norm(ref)), 1e-12)
    r = (part @ ref) / np.maximum(norms, 1e-12)
    return shape, float(np.mean(r >= CONSISTENT_CORRELATION))


def _by_discharge(train: Train, sizes: np.ndarray, rate: float) -> list[Train]:
    """Endplate activity is told by each discharge's size: endplate noise and spikes come from the same endplates
    and mix in one group (:data:`~.classify.ENDPLATE_NOISE_MAX_UV`)."""
    if train.cls not in (c.ENDPLATE_NOISE, c.ENDPLATE_SPIKE):
        return [train]
    noise = sizes < c.ENDPLATE_NOISE_MAX_UV
    parts = [(c.ENDPLATE_NOISE, noise), (c.ENDPLATE_SPIKE, ~noise)]
    return [
        dataclasses.replace(
            train,
            cls=cls,
            samples=train.samples[mask],
            pattern=firing_pattern(train.samples[mask] / rate, sizes[mask]),
            amplitude_uv=float(np.median(sizes[mask])),
        )
        for cls, mask in parts
        if mask.any()
    ]


def _fragments(trains: list[Train], rate: float) -> list[Train]:
    """Small groups lying inside the runs of a repetitive discharge take its class (see the module's docstring)."""
    spans: list[tuple[int, int, str]] = []
    margin = round(RUN_BREAK_MIN_S * rate)
    for t in trains:
        if t.cls in REPETITIVE:
            for run in t.pattern.runs:
                if run.count >= c.RUN_MIN or (t.cls == c.MYOKYMIC and run.count >= 2):
                    a, b = t.samples[run.first], t.samples[run.first + run.count - 1]
                    spans.append((int(a) - margin, int(b) + margin, t.cls))
    if not spans:
        return trains
    out = []
    for t in trains:
        if t.cls not in REPETITIVE and t.count < c.PATTERN_MIN:
            votes = Counter(cls for s in t.samples.tolist() for a, b, cls in spans if a <= s <= b)
            if votes and votes.most_common(1)[0][1] >= FRAGMENT_SHARE * t.count:
                t = dataclasses.replace(t, cls=votes.most_common(1)[0][0])
        out.append(t)
    return out


def _insertional(trains: list[Train], moved_at: int, rate: float) -> list[Train]:
    """Groups that have all stopped within :data:`~.classify.PERSIST_S` of the movement are insertional."""
    limit = moved_at + round(c.PERSIST_S * rate)
    return [
        dataclasses.replace(t, cls=c.INSERTIONAL) if t.cls not in (c.VOLUNTARY,) and int(t.samples[-1]) < limit else t
        for t in trains
    ]
