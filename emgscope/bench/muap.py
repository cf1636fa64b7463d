"""Figures for ``emgscope bench``: the MUP analysis against the simulated patient's own units and discharges.

Patients: normal, myopathic and neurogenic, at 10, 20 and 30 % effort (issue 14: effort ≤ 30 %), two seeds each,
one needle site at 20 kHz. After a second for the firing to settle, a 5 s segment is analysed as a recording would
be: raw samples in, the clinical needle filter and everything else inside :func:`analyse_segment`.

**The truth** comes from one function, :func:`true_units`, so it can move to the simulator's ground-truth file
when there is one. Until then it is built from the simulator's own records: the firing log gives each discharge
(the sample of its largest deflection) and unit; ``units`` give each unit's template and kind. The units that
count are those in the needle's territory (kind ``muap``) with at least :data:`MIN_TRUE_DISCHARGES` discharges in
the segment. The truth for amplitude, duration and phases is what emgscope's own measurements
(:mod:`emgscope.analysis.muap.measure`) give on the noise-free template *as recorded*: zero-padded and passed
through the same needle filter the analysis applies, because the filter is part of the instrument (its 10 Hz
low-frequency filter turns a reinnervated unit's long terminal phase into a slow tail, and both the truth and the
analysis see that tail). The true firing rate is the same modal-band statistic on the true discharge times.

**Matching.** A found unit and a true unit coincide at a discharge when, after the median lag between them (at
most :data:`MAX_LAG_MS`; a found unit may be aligned on another phase), they are within :data:`COINCIDENCE_MS`.
True units are taken in turn, each with the found unit it shares most discharges with (a found unit serves once).
A true unit is *found* when the shared discharges are at least half of its own and half of the found unit's: a
found unit made of two true units, or holding a few of one unit's discharges among another's, does not count.

Figures: ``muap_unit_recall`` (found / true units), the medians over found units of the amplitude error (% of the
true amplitude), of the duration error (ms) and of the firing-rate error (Hz), the share of found units whose
phases equal the truth's, and ``muap_x_realtime`` (5 s of signal over the time the analysis took, the median over
the segments).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from emgscope.acquisition.simulator import SimulatedPatient
from emgscope.analysis.muap.analyse import analyse_segment
from emgscope.analysis.muap.firing import FiringStats, firing_stats
from emgscope.analysis.muap.measure import MupMeasures, auto_markers, measure
from emgscope.analysis.muap.model import MuapUnit, SiteAnalysis
from emgscope.core.settings import FILTER_PRESETS, SimulatorSettings
from emgscope.dsp.filters import FilterBank

RATE = 20_000.0
SETTLE_S = 1.0
SEGMENT_S = 5.0
PATHOLOGIES = ("normal", "myopathic", "neurogenic")
EFFORTS = (10.0, 20.0, 30.0)
SEEDS = (1, 2)
MIN_TRUE_DISCHARGES = 20
"""Units that fire at least this often in the segment are the ones recall counts (issue 14)."""
COINCIDENCE_MS = 1.0
MAX_LAG_MS = 5.0
PAD_MS = 30.0
"""Silence around a true template before it is filtered and measured (room for the filter's tail)."""


@dataclass(frozen=True)
class TrueUnit:
    id: int
    discharges: np.ndarray
    """Absolute sample indices of the largest deflection of each discharge in the segment."""
    measures: MupMeasures
    firing: FiringStats


def as_recorded(template: np.ndarray, rate: float) -> np.ndarray:
    """A noise-free template as the instrument shows it: in silence, through the clinical needle filter."""
    pad = np.zeros(round(PAD_MS * rate / 1000.0))
    padded = np.concatenate((pad, np.asarray(template, dtype=np.float64), pad))
    return FilterBank(FILTER_PRESETS["needle"], rate, 1).process(padded[np.newaxis])[0]


def true_units(patient: SimulatedPatient, start: int, stop: int) -> list[TrueUnit]:
    """The truth for samples ``[start, stop)``: every unit in the needle's territory, its discharges there and the
    measurements of its template as recorded. The one place that knows where the truth comes from."""
    log = patient.firing_log()
    out = []
    for unit in patient.units:
        if unit.kind != "muap":
            continue
        times = log.samples[(log.units == unit.id) & (log.samples >= start) & (log.samples < stop)]
        template = as_recorded(unit.template, patient.sample_rate).astype(np.float32)
        measures = measure(template, patient.sample_rate, auto_markers(template, patient.sample_rate))
        out.append(TrueUnit(unit.id, times, measures, firing_stats(times / patient.sample_rate)))
    return out


def simulate(pathology: str, effort: float, seed: int) -> tuple[SimulatedPatient, int, np.ndarray]:
    """A patient holding ``effort``, and the first index and raw samples of its analysed segment."""
    patient = SimulatedPatient(SimulatorSettings(pathology, effort, RATE, 1, seed), log_firings=True)
    patient.generate(round(SETTLE_S * RATE))
    start = patient.position
    return patient, start, patient.generate(round(SEGMENT_S * RATE))[0]


def _coincidences(found: np.ndarray, true: np.ndarray, rate: float) -> int:
    """Discharges of ``found`` within COINCIDENCE_MS of one of ``true`` after their median lag."""
    if found.size == 0 or true.size == 0:
        return 0
    after = np.clip(np.searchsorted(true, found), 0, true.size - 1)
    before = np.clip(after - 1, 0, true.size - 1)
    lag = np.where(
        np.abs(found - true[before]) <= np.abs(found - true[after]), found - true[before], found - true[after]
    )
    centre = float(np.median(lag))
    if abs(centre) > MAX_LAG_MS * rate / 1000.0:
        return 0
    return int(np.count_nonzero(np.abs(lag - centre) <= COINCIDENCE_MS * rate / 1000.0))


def match(site: SiteAnalysis, truth: list[TrueUnit]) -> list[tuple[TrueUnit, MuapUnit | None]]:
    """Each counted true unit with the found unit that is it, or None (see the module's docstring)."""
    pairs: list[tuple[TrueUnit, MuapUnit | None]] = []
    free = list(site.units)
    for true in sorted(truth, key=lambda t: -t.discharges.size):
        if true.discharges.size < MIN_TRUE_DISCHARGES:
            continue
        scored = [(_coincidences(u.discharges, true.discharges, site.sample_rate_hz), u) for u in free]
        shared, best = max(scored, key=lambda item: item[0], default=(0, None))
        if best is not None and shared >= 0.5 * true.discharges.size and shared >= 0.5 * best.discharges.size:
            free.remove(best)
            pairs.append((true, best))
        else:
            pairs.append((true, None))
    return pairs


@dataclass(frozen=True)
class Row:
    """One counted true unit of one segment."""

    pathology: str
    found: bool
    amplitude_error_pct: float = np.nan
    duration_error_ms: float = np.nan
    phases_exact: bool = False
    rate_error_hz: float = np.nan


def run_case(pathology: str, effort: float, seed: int) -> tuple[list[Row], float]:
    """The rows of one segment and the seconds its analysis took."""
    patient, start, samples = simulate(pathology, effort, seed)
    began = time.perf_counter()
    site = analyse_segment(samples, RATE, start_index=start)
    elapsed = time.perf_counter() - began
    rows = []
    for true, unit in match(site, true_units(patient, start, start + samples.size)):
        if unit is None:
            rows.append(Row(pathology, False))
            continue
        t, m = true.measures, unit.measures
        rows.append(
            Row(
                pathology,
                True,
                100.0 * abs(m.amplitude_uv - t.amplitude_uv) / t.amplitude_uv,
                abs(m.duration_ms - t.duration_ms),
                m.phases == t.phases,
                abs(unit.firing.rate_hz - true.firing.rate_hz),
            )
        )
    return rows, elapsed


def summarise(rows: list[Row], seconds: list[float]) -> dict[str, float]:
    found = [r for r in rows if r.found]
    return {
        "muap_unit_recall": round(len(found) / len(rows), 3) if rows else float("nan"),
        "muap_amplitude_error_pct_median": round(float(np.median([r.amplitude_error_pct for r in found])), 2),
        "muap_duration_error_ms_median": round(float(np.median([r.duration_error_ms for r in found])), 2),
        "muap_phases_exact_fraction": round(float(np.mean([r.phases_exact for r in found])), 3),
        "muap_firing_rate_error_hz_median": round(float(np.nanmedian([r.rate_error_hz for r in found])), 2),
        "muap_x_realtime": round(float(np.median([SEGMENT_S / s for s in seconds])), 1),
    }


def measure_muap(
    pathologies: tuple[str, ...] = PATHOLOGIES, efforts: tuple[float, ...] = EFFORTS, seeds: tuple[int, ...] = SEEDS
) -> dict[str, float]:
    """The six MUP figures over every segment (see the module's docstring)."""
    rows: list[Row] = []
    seconds: list[float] = []
    for pathology in pathologies:
        for effort in efforts:
            for seed in seeds:
                case_rows, elapsed = run_case(pathology, effort, seed)
                rows += case_rows
                seconds.append(elapsed)
    return summarise(rows, seconds)
