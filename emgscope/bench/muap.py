"""Figures for ``emgscope bench``: the MUP analysis against the simulated patient's ground-truth file.

**Segments.** One needle site at 20 kHz holds a steady effort; after :data:`SETTLE_S` for the firing to settle, a
:data:`SEGMENT_S` segment is generated and its ground truth written beside it and read back exactly as a recording's
is (:mod:`emgscope.acquisition.sim_truth`: ``write_truth``, then ``read_truth``). The raw samples go into
:func:`~emgscope.analysis.muap.analyse.analyse_segment` as a recording's would: the clinical needle filter and
everything else happens inside it.

**Efforts.** The simulated patient recruits by *drive*, the effort over the muscle's force capacity
(:func:`~emgscope.acquisition.sim_muscle.force_capacity`: 1 for a normal muscle, 0.1 for the generic myopathic one,
0.575 for the generic neurogenic one), so one effort recruits a handful of units in a normal muscle and fills a
myopathic one's pattern (early recruitment). Each muscle is therefore asked for the efforts that give it the drives
of :data:`DRIVES_PERCENT`, the weak contraction of multi-MUP analysis (QEMG §2): normal 5, 10 and 20 %, myopathic
0.5, 1 and 2 %, neurogenic 2.9, 5.8 and 11.5 %, all within issue 14's effort ≤ 30 %.

**The truth** comes from one function, :func:`true_units`. The units that count (*present*) are those a clinician
measures, by a stated rule: near-field by the ground truth's own criterion (``unit_kind`` ``muap``: rise time
≤ 0.5 ms and at least 50 µV peak to peak, SIMULATION_PARAMETERS §1) and firing at least
:data:`MIN_TRUE_DISCHARGES` times in the segment (issue 14). Their truth is the file's: the template's peak to
peak (``unit_amplitude_uv``), its duration and phases by QEMG §3's rules (``unit_clinical_duration_ms``,
``unit_clinical_phases``), measured by the simulator on the noise-free template as the tissue delivers it (no
filter), and every discharge (the sample of its largest deflection). The true firing rate is the number of
intervals over the time they span.

**Matching.** A found unit and a true unit coincide at a discharge when, after the median lag between them (at
most :data:`MAX_LAG_MS`; a found unit may be aligned on another phase), they are within :data:`COINCIDENCE_MS`.
True units are taken in turn, each with the found unit it shares most discharges with (a found unit serves once).
A true unit is *found* when the shared discharges are at least half of its own and half of the found unit's: a
found unit made of two true units, or holding a few of one unit's discharges among another's, does not count.

Figures: ``muap_unit_recall`` (found / present units), the medians over found units of the amplitude error (% of
the true amplitude), of the duration error (ms) and of the firing-rate error (Hz), the share of found units whose
phases equal the truth's, and ``muap_x_realtime`` (5 s of signal over the time the analysis took, the median over
the segments). :func:`measure_muap` gives them over the generic patients; :func:`report` also per pathology and per
teaching patient (every muscle of the case, at the same drives). ``python -m emgscope.bench.muap`` prints the
report as JSON.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emgscope.acquisition.sim_muscle import force_capacity
from emgscope.acquisition.sim_patients import load_patient, patient_names
from emgscope.acquisition.sim_pool import MUAP
from emgscope.acquisition.sim_truth import GroundTruth, read_truth, truth_path, write_truth
from emgscope.acquisition.simulator import SimulatedPatient
from emgscope.analysis.muap.analyse import analyse_segment
from emgscope.analysis.muap.model import MuapUnit, SiteAnalysis
from emgscope.core.settings import SimulatorSettings

RATE = 20_000.0
SETTLE_S = 1.0
SEGMENT_S = 5.0
PATHOLOGIES = ("normal", "myopathic", "neurogenic")
DRIVES_PERCENT = (5.0, 10.0, 20.0)
"""Drive (effort over the muscle's force capacity) of each segment: a weak contraction, a few units to a dozen."""
MAX_EFFORT_PERCENT = 30.0
"""Issue 14's bar is for efforts up to this."""
SEEDS = (1, 2, 3, 4)
PATIENT_SEEDS = (1,)
MIN_TRUE_DISCHARGES = 20
"""Units that fire at least this often in the segment are the ones recall counts (issue 14)."""
COINCIDENCE_MS = 1.0
MAX_LAG_MS = 5.0


@dataclass(frozen=True)
class Case:
    """One segment: a generic patient (``pathology``) or a teaching patient's muscle (``patient``)."""

    label: str
    """What the figures are grouped by: the pathology, or the teaching patient's name."""
    pathology: str
    patient: str
    effort: float
    seed: int

    def settings(self) -> SimulatorSettings:
        return SimulatorSettings(self.pathology, self.effort, RATE, 1, self.seed, patient=self.patient)


@dataclass(frozen=True)
class TrueUnit:
    id: int
    discharges: np.ndarray
    """Sample indices (from the segment's first) of the largest deflection of each discharge."""
    amplitude_uv: float
    duration_ms: float
    phases: int
    rate_hz: float


def simulate(case: Case) -> tuple[np.ndarray, GroundTruth]:
    """The raw samples of ``case``'s segment (µV) and its ground truth, read back from the file written for it."""
    patient = SimulatedPatient(case.settings(), log_firings=True)
    patient.generate(round(SETTLE_S * RATE))
    first = patient.position
    samples = patient.generate(round(SEGMENT_S * RATE))[0]
    with tempfile.TemporaryDirectory() as folder:
        path = write_truth(truth_path(Path(folder) / "segment.bdf"), patient, first, samples.size)
        truth = read_truth(path)
    return samples, truth


def true_units(truth: GroundTruth) -> list[TrueUnit]:
    """The present units of a segment's ground truth (see the module's docstring): the one place that knows which
    units count and where their truth comes from."""
    out = []
    for unit in truth.of_kind(MUAP):
        peaks = np.sort(unit.starts + unit.peak_offset)
        if peaks.size < MIN_TRUE_DISCHARGES:
            continue
        rate = (peaks.size - 1) / float(peaks[-1] - peaks[0]) * truth.sample_rate
        out.append(TrueUnit(unit.id, peaks, unit.amplitude_uv, unit.clinical_duration_ms, unit.clinical_phases, rate))
    return out


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
    """Each present unit with the found unit that is it, or None (see the module's docstring)."""
    pairs: list[tuple[TrueUnit, MuapUnit | None]] = []
    free = list(site.units)
    for true in sorted(truth, key=lambda t: -t.discharges.size):
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
    """One present unit of one segment."""

    label: str
    found: bool
    amplitude_error_pct: float = np.nan
    duration_error_ms: float = np.nan
    phases_exact: bool = False
    rate_error_hz: float = np.nan


def run_case(case: Case) -> tuple[list[Row], float]:
    """The rows of one segment and the seconds its analysis took."""
    samples, truth = simulate(case)
    began = time.perf_counter()
    site = analyse_segment(samples, RATE)
    elapsed = time.perf_counter() - began
    rows = []
    for true, unit in match(site, true_units(truth)):
        if unit is None:
            rows.append(Row(case.label, False))
            continue
        m = unit.measures
        rows.append(
            Row(
                case.label,
                True,
                100.0 * abs(m.amplitude_uv - true.amplitude_uv) / true.amplitude_uv,
                abs(m.duration_ms - true.duration_ms),
                m.phases == true.phases,
                abs(unit.firing.rate_hz - true.rate_hz),
            )
        )
    return rows, elapsed


def _median(values: list[float]) -> float:
    finite = [v for v in values if np.isfinite(v)]
    return round(float(np.median(finite)), 2) if finite else float("nan")


def summarise(rows: Sequence[Row], seconds: Sequence[float]) -> dict[str, float]:
    """The six figures of ``rows`` (and ``muap_units``, how many present units they are)."""
    found = [r for r in rows if r.found]
    return {
        "muap_units": len(rows),
        "muap_unit_recall": round(len(found) / len(rows), 3) if rows else float("nan"),
        "muap_amplitude_error_pct_median": _median([r.amplitude_error_pct for r in found]),
        "muap_duration_error_ms_median": _median([r.duration_error_ms for r in found]),
        "muap_phases_exact_fraction": round(float(np.mean([r.phases_exact for r in found])), 3) if found else np.nan,
        "muap_firing_rate_error_hz_median": _median([r.rate_error_hz for r in found]),
        "muap_x_realtime": round(float(np.median([SEGMENT_S / s for s in seconds])), 1) if seconds else np.nan,
    }


def effort_for(capacity: float, drive: float) -> float:
    """The effort that gives a muscle of ``capacity`` the ``drive`` (both in %), within issue 14's 30 %."""
    return min(MAX_EFFORT_PERCENT, round(drive * capacity, 2))


def generic_cases(
    pathologies: Iterable[str] = PATHOLOGIES, drives: Iterable[float] = DRIVES_PERCENT, seeds: Iterable[int] = SEEDS
) -> list[Case]:
    """The segments of the generic patients."""
    cases = []
    for pathology in pathologies:
        capacity = force_capacity(SimulatedPatient(SimulatorSettings(pathology)).profile.state)
        cases += [
            Case(pathology, pathology, "", effort_for(capacity, drive), seed) for drive in drives for seed in seeds
        ]
    return cases


def patient_cases(drives: Iterable[float] = DRIVES_PERCENT, seeds: Iterable[int] = PATIENT_SEEDS) -> list[Case]:
    """The segments of every teaching patient: each muscle of the case, at each drive."""
    cases = []
    for name in patient_names():
        case = load_patient(name)
        for muscle in case.muscles:
            capacity = force_capacity(muscle.state)
            spec = f"{name}:{muscle.muscle}"
            cases += [Case(name, "normal", spec, effort_for(capacity, d), seed) for d in drives for seed in seeds]
    return cases


def _run(cases: Iterable[Case]) -> dict[str, tuple[list[Row], list[float]]]:
    groups: dict[str, tuple[list[Row], list[float]]] = {}
    for case in cases:
        rows, elapsed = run_case(case)
        group = groups.setdefault(case.label, ([], []))
        group[0].extend(rows)
        group[1].append(elapsed)
    return groups


def measure_muap(cases: Iterable[Case] | None = None) -> dict[str, float]:
    """The six MUP figures over every segment of ``cases`` (default: the generic patients)."""
    groups = _run(generic_cases() if cases is None else cases)
    return summarise([r for rows, _ in groups.values() for r in rows], [s for _, s in groups.values() for s in s])


def report() -> dict[str, dict[str, float]]:
    """The figures over the generic patients (``all``), per pathology, and per teaching patient."""
    generic = _run(generic_cases())
    out = {"all": summarise([r for g in generic.values() for r in g[0]], [s for g in generic.values() for s in g[1]])}
    out |= {label: summarise(*group) for label, group in generic.items()}
    out |= {f"patient {label}": summarise(*group) for label, group in _run(patient_cases()).items()}
    return out


if __name__ == "__main__":
    print(json.dumps(report(), indent=1))
