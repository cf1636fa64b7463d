"""Automatic multi-MUP analysis of one segment of one needle channel (QEMG §2).

The stages, each a module of this package, with a cancellation check between them (the app runs this on a worker
thread and may give up on it):

1. the input is checked: sample rate, length, samples that are numbers; a bad segment gets one sentence saying
   why and what to do (:class:`MuapInputError`);
2. the raw samples go through the clinical needle filters (:mod:`emgscope.dsp.filters`), the band on screen, but
   forwards and backwards (:func:`zero_phase`);
3. a source slower than :data:`WORKING_RATE_HZ` is interpolated up to it (band-limited, so nothing is invented:
   the spike is only located and measured between samples, as EMGlab aligns to sub-sample precision, QEMG §2);
4. spikes are detected (:mod:`.detect`: in the spike band, or for a slow source in the clinical band) and sorted
   into units by comparing them in that same signal (:mod:`.sort`: superimposed discharges are left out, not
   resolved); a class of alike spikes that does not fire as a train is not a unit (:mod:`.firing`). In the spike
   band a discharge's ±1 ms differs from its unit's far less than in the clinical band, where distant units' blunt
   potentials bend it (on the simulated patient at weak efforts, 98 % of the units are found against 95 %);
5. the units' templates are averaged from their clean discharges, each with the other units' potentials taken away
   (:mod:`.templates`), their onsets and ends marked and everything measured (:mod:`.measure`); each unit's firing
   rate and variability come from its discharges (:mod:`.firing`);
6. recruitment is judged over the site's units (:mod:`.firing`).

**Why forwards and backwards.** The display's filters are causal, as a live trace must be: each output sample
depends on the past only, so the low-frequency filter answers a potential's slow phases late, with a slow swing
after the potential that has no counterpart before it. Its size follows the potential's net area (about 0.07 µV per
µV·ms with the needle filter's 10 Hz, second order), and a reinnervated unit holds 500-1500 µV·ms: a swing of
35-115 µV that the ±40 µV duration rule counts into the MUP, several ms or tens of ms of it. The analysis has the
whole segment, so it runs the same filters over it once each way: the magnitude is the display's squared, the phase
is zero, what is left of the swing is a third as large and shared out on both sides, and a potential keeps its
shape: on the simulated patient's noise-free templates this takes the duration error from a median of 0.7 ms (90th
centile 12 ms for neurogenic units) to 0.1 ms (0.6 ms), and the amplitude's from 2-3 % to none.

Sample rates: below :data:`MIN_RATE_HZ` the spike of a MUP is not in the signal at all and the analysis is refused;
below :data:`FULL_PRECISION_RATE_HZ` it runs and says what is lost. A 4 kHz record such as emgdb is filtered below
1.8 kHz, so spikes are rounded: amplitudes read low, rise times long (the near-field criterion is then not
applied), and the spike's sampled shape changes with where the samples fall on it, so templates are matched with a
wider tolerance (:data:`~emgscope.analysis.muap.cluster.MATCH_RELATIVE_ALIASED`) and spikes are looked for in the
clinical band (:mod:`.detect`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable

import numpy as np
from scipy import signal

from emgscope.analysis.muap.cluster import MATCH_RELATIVE, MATCH_RELATIVE_ALIASED, MIN_DISCHARGES
from emgscope.analysis.muap.detect import DETECT_THRESHOLD_SD, background_sd, detect_spikes, spike_band
from emgscope.analysis.muap.firing import fires_as_a_train, firing_stats
from emgscope.analysis.muap.measure import auto_markers, measure
from emgscope.analysis.muap.model import MuapUnit, SiteAnalysis, site_recruitment
from emgscope.analysis.muap.sort import sort_spikes
from emgscope.analysis.muap.templates import Segment
from emgscope.core.settings import FILTER_PRESETS, FilterSettings
from emgscope.dsp.filters import CLINICAL_CONTENT_HZ, FilterDesign
from emgscope.dsp.filters import design as filter_design

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
"""A template spans this long before and after its spike: room for a reinnervated unit (up to ~27 ms with the
spike a third of the way in), the 3 ms quiet stretch beyond each marker and the baseline 6 ms before the onset
(QEMG §3)."""
TEMPLATE_RESOLUTION_UV = 0.01
"""Templates are kept to this (far below any noise), so the results file stores them exactly."""
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
    chain = filter_design(filters, rate)
    filtered = zero_phase(chain, raw)
    up = max(1, math.ceil(WORKING_RATE_HZ / rate))
    x = signal.resample_poly(filtered, up, 1) if up > 1 else filtered
    working_rate = rate * up
    check()
    clipped = _clipped(raw, input_range_uv, up, x.size)
    if clipped is not None and clipped.size > MAX_CLIPPED_TIME * raw.size:
        raise MuapInputError(_clipping(f"{clipped.size / raw.size:.0%} of the samples", input_range_uv))
    spikes = spike_band(x, working_rate) if rate >= FULL_PRECISION_RATE_HZ else x
    noise = background_sd(spikes)
    peaks = detect_spikes(spikes, working_rate, DETECT_THRESHOLD_SD * noise)
    if clipped is not None and peaks.size:
        touching = int(np.count_nonzero(_near(clipped, peaks, working_rate)))
        if touching > MAX_CLIPPED_SHARE * peaks.size:
            raise MuapInputError(_clipping(f"{touching} of {peaks.size} potentials", input_range_uv))
    check()
    relative = MATCH_RELATIVE if rate >= FULL_PRECISION_RATE_HZ else MATCH_RELATIVE_ALIASED
    trains = sort_spikes(x, working_rate, peaks, relative, check, compared=spikes)
    check()
    built = _Builder(x, working_rate, up, start_index, clipped)
    units = built.units(trains)
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
        filters=_band_text(chain),
        notes=tuple(notes),
        judge_rise_time=rate >= FULL_PRECISION_RATE_HZ,
    )


def zero_phase(design: FilterDesign, raw: np.ndarray) -> np.ndarray:
    """``raw`` through ``design``'s filters forwards and then backwards (see the module's docstring)."""
    return signal.sosfiltfilt(design.sos, raw) if design.sos.shape[0] else raw


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


def _band_text(design: FilterDesign) -> str:
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


class _Builder:
    """Makes the units of the sorted trains: templates, resolved superimpositions, measurements; counts what it
    leaves out."""

    def __init__(self, x: np.ndarray, rate: float, up: int, start_index: int, clipped: np.ndarray | None) -> None:
        self.x, self.rate, self.up, self.start_index, self.clipped = x, rate, up, start_index, clipped
        before = round(TEMPLATE_BEFORE_MS * rate / 1000.0)
        after = round(TEMPLATE_AFTER_MS * rate / 1000.0)
        self.segment = Segment(x, rate, before, after)
        self.clipped_left_out = 0
        self.not_trains = 0

    def units(self, trains: list[np.ndarray]) -> list[MuapUnit]:
        """The units of the trains that fire as a motor unit does and have enough clean discharges."""
        kept = []
        for train in trains:
            # Re-aligned onto its template, a spike at the very edge may fall just outside the segment.
            times = train[(train >= 0) & (train < self.segment.size)]
            clean = self._clean(times)
            self.clipped_left_out += times.size - clean.size
            if clean.size >= MIN_DISCHARGES and self._fires(times):
                kept.append(times)
        templates = self.segment.templates(kept, [self._averaged(t) for t in kept])
        return [self._unit(times, template) for times, template in zip(kept, templates, strict=True)]

    def _discharges(self, times: np.ndarray) -> np.ndarray:
        """Discharges at the source's samples (what the results file keeps)."""
        return np.round(self.start_index + times / self.up).astype(np.int64)

    def _fires(self, times: np.ndarray) -> bool:
        if fires_as_a_train(firing_stats(self._discharges(times) / (self.rate / self.up))):
            return True
        self.not_trains += 1
        return False

    def _clean(self, times: np.ndarray) -> np.ndarray:
        """The discharges with no clipped sample near them."""
        return times if self.clipped is None else times[~_near(self.clipped, times, self.rate)]

    def _averaged(self, times: np.ndarray) -> np.ndarray:
        """The discharges a template is averaged over: clean ones whose whole span lies in the segment."""
        clean = self._clean(times)
        inside = (clean >= self.segment.before) & (clean < self.segment.size - self.segment.after)
        return clean[inside] if np.count_nonzero(inside) >= MIN_DISCHARGES else clean

    def _unit(self, times: np.ndarray, template: np.ndarray) -> MuapUnit:
        discharges = self._discharges(times)
        kept = (np.round(template / TEMPLATE_RESOLUTION_UV) * TEMPLATE_RESOLUTION_UV).astype(np.float32)
        markers = auto_markers(kept, self.rate)
        return MuapUnit(
            id=0,
            template_uv=kept,
            template_rate_hz=self.rate,
            zero=self.segment.before,
            discharges=discharges,
            auto_markers=markers,
            markers=markers,
            measures=measure(kept, self.rate, markers),
            firing=firing_stats(discharges / (self.rate / self.up)),
        )
