"""Automatic multi-MUP analysis of one segment of one needle channel (QEMG §2).

The stages, each a module of this package, with a cancellation check between them (the app runs this on a worker
thread and may give up on it):

1. the input is checked: sample rate, length, samples that are numbers; a bad segment gets one sentence saying
   why and what to do (:class:`MuapInputError`);
2. the raw samples go through the clinical needle filters (:mod:`emgscope.dsp.filters`), as on screen;
3. a source slower than :data:`WORKING_RATE_HZ` is interpolated up to it (band-limited, so nothing is invented:
   the spike is only located and measured between samples, as EMGlab aligns to sub-sample precision, QEMG §2);
4. spikes are detected (:mod:`.detect`) and sorted into units (:mod:`.sort`: superimposed discharges are left out,
   not resolved); a class of alike spikes that does not fire as a train is not a unit (:mod:`.firing`);
5. each unit's clean discharges are averaged into its template, its onset and end marked and everything measured
   (:mod:`.measure`); its firing rate and variability come from its discharges (:mod:`.firing`);
6. recruitment is judged over the site's units (:mod:`.firing`).

The template is a robust mean: at each latency the discharges more than :data:`OUTLIER_MADS` median absolute
deviations from their median (another unit's spike landing there) are left out and the rest averaged. A plain
median would be biased by the slow phases of other units, which the needle filter leaves with no mean but a
skewed spread; a plain mean would keep other units' spikes.

Sample rates: below :data:`MIN_RATE_HZ` the spike of a MUP is not in the signal at all and the analysis is refused;
below :data:`FULL_PRECISION_RATE_HZ` it runs and says what is lost. A 4 kHz record such as emgdb is filtered below
1.8 kHz, so spikes are rounded: amplitudes read low, rise times long (the near-field criterion is then not
applied), and the spike's sampled shape changes with where the samples fall on it, so templates are matched with a
wider tolerance (:data:`~emgscope.analysis.muap.cluster.MATCH_RELATIVE_ALIASED`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
from scipy import signal

from emgscope.analysis.muap.cluster import MATCH_RELATIVE, MATCH_RELATIVE_ALIASED, MIN_DISCHARGES
from emgscope.analysis.muap.detect import DETECT_THRESHOLD_SD, background_sd, detect_spikes
from emgscope.analysis.muap.firing import fires_as_a_train, firing_stats
from emgscope.analysis.muap.measure import auto_markers, measure
from emgscope.analysis.muap.model import MuapUnit, SiteAnalysis, site_recruitment
from emgscope.analysis.muap.sort import sort_spikes
from emgscope.core.settings import FILTER_PRESETS, FilterSettings
from emgscope.dsp.filters import CLINICAL_CONTENT_HZ, FilterBank

MIN_RATE_HZ = 2_000.0
"""Below this the analysis is refused: a single fibre's potential has its energy at 0.98-2.41 kHz (the -3 dB points
of the SFAP spectrum, SIMULATION_PARAMETERS §1), and a rate under twice the lower one holds none of it."""
FULL_PRECISION_RATE_HZ = 2 * CLINICAL_CONTENT_HZ
"""At or above this the needle band is carried whole (twice the filters' limit of clinical content); slower sources
are analysed with a stated loss of precision."""
WORKING_RATE_HZ = 20_000.0
"""Rate the spikes are located and measured at (DESIGN §3: needle EMG needs about 20 kHz)."""
MIN_SEGMENT_S = 1.0
"""Shortest segment analysed: a unit firing at its 5 Hz onset rate discharges 5 times in a second, and it must fire
more than 5 times (Stålberg's multi-MUP epochs are 4.8 s, QEMG §2)."""
TEMPLATE_BEFORE_MS = 20.0
TEMPLATE_AFTER_MS = 40.0
"""A template spans this long before and after its main spike: room for a reinnervated unit (up to ~27 ms with the
spike a third of the way in, and the needle filter's slow tail after it), the 3 ms quiet stretch beyond each marker
and the baseline 6 ms before the onset (QEMG §3)."""
TEMPLATE_RESOLUTION_UV = 0.01
"""Templates are kept to this (far below any noise), so the results file stores them exactly."""
OUTLIER_MADS = 3.0
"""Discharges this far from the median at a latency are left out of the template's mean there."""
CLIP_FRACTION = 0.98
"""A raw sample within 2 % of the input range's limit is taken as clipped."""
CLIP_GUARD_MS = 5.0
"""A discharge with a clipped sample this close to its main spike is left out of its unit's template."""
MAX_CLIPPED_SHARE = 0.5
"""When more than this share of the spikes are clipped, the segment is refused."""
MAX_CLIPPED_TIME = 0.05
"""When more than this share of the samples sit at the input range's limits, the segment is refused before spikes are
looked for: plateaus of clipped potentials raise the background's spread until no potential stands out of it, and
the segment would be called all noise (a neurogenic muscle at 30 % effort recorded within ±400 µV: 19 % clipped)."""
DENSE_SPIKES_PER_S = 150.0
"""More spikes than this per second with no unit found: an interference pattern, too dense to separate."""


class MuapInputError(ValueError):
    """The segment cannot be analysed; the message is one sentence for the user saying why and what to do."""


class AnalysisCancelled(Exception):
    """The caller asked the analysis to stop."""


Cancel = Callable[[], bool]
"""Returns True once the caller wants the analysis to stop (e.g. ``threading.Event.is_set``)."""


def check_rate(rate: float) -> str | None:
    """Refuse a rate that cannot carry a MUP (raises); return a sentence on the precision lost, or None."""
    if rate < MIN_RATE_HZ:
        raise MuapInputError(
            f"A {rate:g} Hz signal cannot be analysed for motor unit potentials: their spikes hold their energy at "
            f"1-2.4 kHz, and sampling needs at least {MIN_RATE_HZ / 1000:g} kHz to carry any of it (20 kHz to carry "
            f"all of it)."
        )
    if rate < FULL_PRECISION_RATE_HZ:
        return (
            f"Sampled at {rate / 1000:g} kHz, the signal holds nothing above {0.45 * rate / 1000:.2g} kHz: spikes are "
            f"rounded, so amplitudes read low and rise times long (far-field potentials are not told apart), turns "
            f"are counted on a coarser spike, and units are told apart less finely."
        )
    return None


def analyse_segment(
    samples_uv: np.ndarray,
    rate: float,
    *,
    start_index: int = 0,
    muscle: str | None = None,
    channel: int = 0,
    channel_label: str = "",
    input_range_uv: tuple[float, float] | None = None,
    filters: FilterSettings = FILTER_PRESETS["needle"],
    cancel: Cancel | None = None,
) -> SiteAnalysis:
    """Analyse the raw samples (µV, one channel) of a segment whose first is absolute index ``start_index``.

    ``input_range_uv`` is the amplifier's or the file's range, for finding clipped discharges (none are looked for
    without it). Raises :class:`MuapInputError` with one sentence for a segment that cannot be analysed, and
    :class:`AnalysisCancelled` once ``cancel()`` returns True.
    """

    def check() -> None:
        if cancel is not None and cancel():
            raise AnalysisCancelled("the MUP analysis was cancelled")

    raw = np.asarray(samples_uv, dtype=np.float64).ravel()
    note = check_rate(rate)
    notes = [note] if note else []
    duration_s = raw.size / rate
    if duration_s < MIN_SEGMENT_S:
        raise MuapInputError(
            f"The segment is {duration_s:.2g} s long: choose at least {MIN_SEGMENT_S:g} s of weak contraction (5 s is "
            f"usual) so each unit fires more than 5 times."
        )
    if not np.all(np.isfinite(raw)):
        raise MuapInputError("The segment holds samples that are not numbers: choose a stretch the device recorded.")
    check()
    bank = FilterBank(filters, rate, 1)
    filtered = bank.process(raw[np.newaxis])[0].astype(np.float64)
    up = max(1, math.ceil(WORKING_RATE_HZ / rate))
    x = signal.resample_poly(filtered, up, 1) if up > 1 else filtered
    working_rate = rate * up
    check()
    clipped = _clipped(raw, input_range_uv, up, x.size)
    if clipped is not None and clipped.size > MAX_CLIPPED_TIME * raw.size:
        raise MuapInputError(_clipping(f"{clipped.size / raw.size:.0%} of the samples", input_range_uv))
    noise = background_sd(x)
    peaks = detect_spikes(x, working_rate, DETECT_THRESHOLD_SD * noise)
    if clipped is not None and peaks.size:
        touching = int(np.count_nonzero(_near(clipped, peaks, working_rate)))
        if touching > MAX_CLIPPED_SHARE * peaks.size:
            raise MuapInputError(_clipping(f"{touching} of {peaks.size} potentials", input_range_uv))
    check()
    relative = MATCH_RELATIVE if rate >= FULL_PRECISION_RATE_HZ else MATCH_RELATIVE_ALIASED
    trains = sort_spikes(x, working_rate, peaks, relative, check)
    built = _Builder(x, working_rate, up, start_index, clipped)
    units = []
    for times in trains:
        check()
        unit = built.unit(times)
        if unit is not None:
            units.append(unit)
    if built.clipped_left_out:
        notes.append(f"{built.clipped_left_out} clipped discharges were left out of the templates.")
    if built.not_trains:
        notes.append(f"{built.not_trains} classes of alike potentials that did not fire as one unit were left out.")
    if not units:
        raise MuapInputError(_why_no_units(peaks.size, duration_s))
    units.sort(key=lambda u: -u.measures.amplitude_uv)
    units = [dataclasses.replace(u, id=k + 1) for k, u in enumerate(units)]
    return SiteAnalysis(
        sample_rate_hz=float(rate),
        start_index=int(start_index),
        samples=int(raw.size),
        units=tuple(units),
        recruitment=site_recruitment(units, rate, start_index),
        background_sd_uv=noise,
        spikes=int(peaks.size),
        sorted_spikes=int(sum(u.discharges.size for u in units)),
        channel=channel,
        channel_label=channel_label,
        muscle=muscle,
        filters=_band_text(bank),
        notes=tuple(notes),
        judge_rise_time=rate >= FULL_PRECISION_RATE_HZ,
    )


def _clipping(what: str, input_range_uv: tuple[float, float] | None) -> str:
    low, high = input_range_uv or (0.0, 0.0)
    return (
        f"{what} reach the input range's limit ({low / 1000:g} to {high / 1000:g} mV) and are clipped: lower the gain "
        f"or widen the input range, and record again."
    )


def _why_no_units(spikes: int, duration_s: float) -> str:
    if spikes == 0:
        return (
            "No motor unit potential stands out of the background (all noise): check that the needle is in the "
            "muscle and ask for a slightly stronger contraction."
        )
    if spikes / duration_s > DENSE_SPIKES_PER_S:
        return "The potentials overlap too much to tell units apart: ask for a weaker contraction."
    return "No motor unit fired more than 5 times: ask for a slightly stronger contraction."


def _band_text(bank: FilterBank) -> str:
    design = bank.design
    low = f"{design.low_cut_hz:g} Hz" if design.low_cut_hz > 0 else "DC"
    high = f"{design.high_cut_hz / 1000:.3g} kHz" if design.high_cut_hz > 0 else "open"
    return f"{low} – {high}"


def _clipped(raw: np.ndarray, input_range_uv: tuple[float, float] | None, up: int, size: int) -> np.ndarray | None:
    """Working-rate indices of the raw samples at the input range's limits, or None when the range is unknown."""
    if input_range_uv is None:
        return None
    low, high = input_range_uv
    at_limit = np.flatnonzero((raw >= CLIP_FRACTION * high) | (raw <= CLIP_FRACTION * low))
    return np.minimum(at_limit * up, size - 1)


def _near(clipped: np.ndarray, times: np.ndarray, rate: float) -> np.ndarray:
    """Which of ``times`` have a clipped sample within :data:`CLIP_GUARD_MS`."""
    guard = round(CLIP_GUARD_MS * rate / 1000.0)
    return np.searchsorted(clipped, times + guard, side="right") > np.searchsorted(clipped, times - guard)


def robust_mean(windows: np.ndarray) -> np.ndarray:
    """The mean at each latency of the windows within :data:`OUTLIER_MADS` of their median there (NaNs ignored)."""
    median = np.nanmedian(windows, axis=0)
    spread = np.nanmedian(np.abs(windows - median), axis=0)
    inside = np.abs(windows - median) <= OUTLIER_MADS * spread
    kept = np.where(inside, windows, np.nan)
    counts = np.sum(np.isfinite(kept), axis=0)
    means = np.nansum(kept, axis=0) / np.maximum(counts, 1)
    return np.where(counts > 0, means, np.where(np.isfinite(median), median, 0.0))


class _Builder:
    """Makes a :class:`MuapUnit` of each train, counting what it leaves out."""

    def __init__(self, x: np.ndarray, rate: float, up: int, start_index: int, clipped: np.ndarray | None) -> None:
        self.rate, self.up, self.start_index, self.clipped = rate, up, start_index, clipped
        self.before = round(TEMPLATE_BEFORE_MS * rate / 1000.0)
        self.after = round(TEMPLATE_AFTER_MS * rate / 1000.0)
        self.padded = np.concatenate((np.full(self.before, np.nan), x, np.full(self.after + 1, np.nan)))
        self.clipped_left_out = 0
        self.not_trains = 0

    def unit(self, times: np.ndarray) -> MuapUnit | None:
        # Discharges at the source's samples (what the results file keeps), and the firing measured from them.
        discharges = np.round(self.start_index + times / self.up).astype(np.int64)
        firing = firing_stats(discharges / (self.rate / self.up))
        if not fires_as_a_train(firing):
            self.not_trains += 1
            return None
        clean = times if self.clipped is None else times[~_near(self.clipped, times, self.rate)]
        self.clipped_left_out += times.size - clean.size
        if clean.size < MIN_DISCHARGES:
            return None
        windows = self.padded[clean[:, np.newaxis] + np.arange(self.before + self.after + 1)]
        template = (np.round(robust_mean(windows) / TEMPLATE_RESOLUTION_UV) * TEMPLATE_RESOLUTION_UV).astype(np.float32)
        markers = auto_markers(template, self.rate)
        return MuapUnit(
            id=0,
            template_uv=template,
            template_rate_hz=self.rate,
            zero=self.before,
            discharges=discharges,
            auto_markers=markers,
            markers=markers,
            measures=measure(template, self.rate, markers),
            firing=firing,
        )
