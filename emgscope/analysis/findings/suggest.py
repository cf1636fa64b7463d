"""The findings table suggested from a recording of an exam: every cell from the segments that measure it.

Per muscle and side (:mod:`.segments`), on the channel's signal through the clinical needle filter (as on screen):

* **insertional activity**: the burst after each needle movement (the insertion step, and each rest at a new site),
  :mod:`emgscope.analysis.insertional`;
* **fibrillations, positive sharp waves, fasciculations, other discharges**: each rest step analysed
  (:mod:`emgscope.analysis.spontaneous`) and graded over the muscle's sites;
* **MUP amplitude, duration, polyphasia**: the multi-MUP analysis of the minimal contraction (or the clinician's
  edited analyses from the MUP results file), the muscle's means against its reference (the limits of the mean,
  ``resources/muap_reference.toml``) or, for a muscle the table has no values for, the general ranges of
  :data:`GENERIC_AMPLITUDE_UV` and :data:`GENERIC_DURATION_MS`. With fewer than :data:`MIN_MUPS` MUPs measured
  the means say nothing of the muscle, and amplitude and duration are read from where the moderate and maximal
  epochs lie against the normal turns-amplitude region (:mod:`emgscope.analysis.interference`), said so in the
  evidence. Polyphasia is judged from every MUP measured, however few, by whether their count of polyphasic ones
  is one a normal muscle would give (:mod:`.polyphasia`); with no MUP it is not measured;
* **recruitment**: early when the minimal contraction is already a full pattern (QEMG §5); reduced when the MUP
  analysis's recruitment rules flag the site (fastest unit over 15 Hz, recruitment frequency from 20 Hz, ratio
  from 10; QEMG §5, :mod:`emgscope.analysis.muap.firing`) on the trains that fire as voluntary units do, fast
  spontaneous discharges riding on the contraction left out (:mod:`.recruitment`); otherwise normal;
* **interference pattern**: the grade of the maximal-effort epochs.

A cell whose segments are missing is ``None``, and its evidence says which segment was missing.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emgscope.analysis.findings.polyphasia import judge_polyphasia
from emgscope.analysis.findings.recruitment import left_out_words, voluntary_recruitment
from emgscope.analysis.findings.segments import MuscleSteps, Step, exam_steps
from emgscope.analysis.findings.sidecar import Findings, FindingsFileError, load_findings, save_findings
from emgscope.analysis.findings.table import NOT_MEASURED, Row
from emgscope.analysis.insertional import Burst, measure_burst, muscle_insertional
from emgscope.analysis.interference import OUTSIDE_RANGE, Interference, measure_step
from emgscope.analysis.muap.analyse import MuapInputError, analyse_segment
from emgscope.analysis.muap.model import SiteAnalysis, muscle_summary
from emgscope.analysis.muap.reference import MuscleSummary
from emgscope.analysis.muap.sidecar import SidecarError, load_analyses, save_analysis
from emgscope.analysis.spontaneous import classify as spont
from emgscope.analysis.spontaneous.analyse import RestAnalysis, analyse_rest
from emgscope.analysis.spontaneous.grade import muscle_grade
from emgscope.core.settings import FILTER_PRESETS, FilterSettings
from emgscope.dsp.filters import FilterBank
from emgscope.replay.reader import Recording, RecordingError

MIN_MUPS = 3
"""Fewer MUPs than this in a muscle's means say nothing of the muscle (the reference rules are made for 20, QEMG
§4; three is the fewest whose mean we let stand for the muscle, and the evidence gives the count)."""
GENERIC_AMPLITUDE_UV = (300.0, 3000.0)
"""Normal MUP amplitude where the reference table has no values for the muscle: 300 µV - 3 mV (Aminoff [V],
SIMULATION_PARAMETERS §1)."""
GENERIC_DURATION_MS = (5.0, 15.0)
"""Normal MUP duration there: up to 15 ms (Aminoff [V], 2-15 ms), and from 5 ms, the rough myopathic cut-off
(under about 5-6 ms, Preston & Shapiro [T], SIMULATION_PARAMETERS §1)."""
POLYPHASIC_LIMIT_PERCENT = 15.0
"""Up to 10-15 % of a normal muscle's MUPs are polyphasic (Aminoff [V], SIMULATION_PARAMETERS §1): the upper end is
the limit of normal where the reference table gives none for the muscle (:mod:`.polyphasia` judges against it)."""
MIN_SETTLE_S = 0.5
"""The start of the minimal contraction is left out of the MUP analysis: the patient reacts and the force rises."""
FILTERS: FilterSettings = FILTER_PRESETS["needle"]

Cancel = Callable[[], bool]


class NoExamError(ValueError):
    """The recording has no exam segments; the message says how to mark them."""


@dataclass
class MuscleEvidence:
    """What one muscle's suggestions rest on (the report draws its figures from it)."""

    steps: MuscleSteps
    rests: list[RestAnalysis] = field(default_factory=list)
    bursts: list[Burst | None] = field(default_factory=list)
    mups: list[SiteAnalysis] = field(default_factory=list)
    mup_problem: str = ""
    """Why the minimal contraction gave no MUPs (the analysis's own sentence)."""
    interference: dict[str, Interference] = field(default_factory=dict)
    rate: float = 0.0

    def summary(self) -> MuscleSummary | None:
        return muscle_summary(self.mups) if self.mups else None


@dataclass
class Suggestions:
    """The suggested table of a recording and what each row rests on."""

    rows: list[Row]
    evidence: list[MuscleEvidence]
    sample_rate: float
    channel: int


def saved_or_suggested(recording: Recording, path: Path) -> Findings:
    """The findings saved beside ``path`` (the recording's file), or new suggestions, saved there when its folder
    can be written, with the MUP analyses they made (in the MUP results file: the report draws its templates from
    them, and the clinician can open and edit them). Raises :class:`NoExamError`,
    :class:`~emgscope.replay.reader.RecordingError` and the results files' errors."""
    saved = load_findings(path)
    if saved is not None:
        return saved
    saved_mups = load_analyses(path)
    result = suggest(recording, saved_mups=saved_mups)
    findings = Findings(result.rows, result.channel)
    kept = {id(site) for site in saved_mups}
    with contextlib.suppress(FindingsFileError, SidecarError):  # a read-only folder: the table is used, not kept
        save_findings(path, findings)
        for site in (m for e in result.evidence for m in e.mups if id(m) not in kept):
            save_analysis(path, site)
    return findings


def choose_channel(recording: Recording, channel: int | None = None) -> int:
    """The signal analysed: ``channel`` (a signal index) or the first data signal in a voltage."""
    data = [i for i in recording.data_signals if recording.signals[i].uv_factor is not None]
    if not data:
        raise RecordingError(f"{recording.path.name} holds no signal in a voltage: nothing to report on")
    if channel is None:
        return data[0]
    if channel not in data:
        raise RecordingError(f"{recording.path.name} has no voltage signal {channel + 1}")
    return channel


def recording_steps(recording: Recording) -> list[MuscleSteps]:
    """The exam's steps per muscle, or :class:`NoExamError` saying how to mark them."""
    muscles = exam_steps([(a.onset_s, a.duration_s, a.text) for a in recording.annotations])
    if not muscles:
        raise NoExamError(
            f"{recording.path.name} has no exam segments (annotations INS, REST, MIN, MOD or MAX with a duration): "
            "record a guided exam (Exam → Start guided exam…), or mark the segments in the replayed recording "
            "and save them, then make the report again"
        )
    return muscles


def suggest(
    recording: Recording,
    channel: int | None = None,
    saved_mups: Sequence[SiteAnalysis] = (),
    cancel: Cancel | None = None,
) -> Suggestions:
    """Suggest every cell of the table from ``recording`` (see the module's docstring). ``saved_mups``: the MUP
    results file's analyses (the clinician's edits win over a new analysis of the same minimal contraction).
    Raises :class:`NoExamError` and :class:`~emgscope.replay.reader.RecordingError`."""
    index = choose_channel(recording, channel)
    info = recording.signals[index]
    rate = info.sample_rate
    raw = recording.read(index, 0, info.n_samples)
    filtered = FilterBank(FILTERS, rate, 1).process(raw[np.newaxis])[0].astype(np.float64)
    factor = info.uv_factor or 1.0
    input_range = (info.physical_min * factor, info.physical_max * factor)
    rows, evidence = [], []
    for muscle in recording_steps(recording):
        if cancel is not None and cancel():
            break
        found = _evidence(muscle, raw, filtered, rate, index, info.label.strip(), input_range, saved_mups)
        evidence.append(found)
        rows.append(suggest_row(found))
    return Suggestions(rows, evidence, rate, index)


def _samples(step: Step, rate: float, skip_s: float = 0.0) -> tuple[int, int]:
    return round((step.onset_s + skip_s) * rate), round(step.end_s * rate)


def _evidence(
    muscle: MuscleSteps,
    raw: np.ndarray,
    filtered: np.ndarray,
    rate: float,
    channel: int,
    label: str,
    input_range: tuple[float, float],
    saved_mups: Sequence[SiteAnalysis],
) -> MuscleEvidence:
    found = MuscleEvidence(muscle, rate=rate)
    for step in muscle.steps:
        if step.label == "INS" or (step.label == "REST" and step.repeat > 1):
            a, b = _samples(step, rate)
            found.bursts.append(measure_burst(filtered[a:b], rate, a))
    for step, moved in muscle.movements():
        a, b = _samples(step, rate)
        found.rests.append(
            analyse_rest(
                filtered[a:b], rate, a, moved, muscle.muscle, muscle.side, f"site {step.repeat}" if step.repeat else ""
            )
        )
    for step in muscle.of("MIN"):
        a, b = _samples(step, rate, MIN_SETTLE_S)
        saved = [s for s in saved_mups if s.channel == channel and a - rate <= s.start_index < b]
        if saved:
            found.mups += saved
            continue
        try:
            found.mups.append(
                analyse_segment(
                    raw[a:b],
                    rate,
                    start_index=a,
                    muscle=muscle.muscle or None,
                    channel=channel,
                    channel_label=label,
                    input_range_uv=input_range,
                )
            )
        except MuapInputError as exc:
            found.mup_problem = str(exc)
    for name in ("MOD", "MAX", "MIN"):
        steps = muscle.of(name)
        if steps:
            step = steps[-1]
            a, b = _samples(step, rate)
            found.interference[name] = measure_step(filtered[a:b], rate, name, a)
    return found


def suggest_row(found: MuscleEvidence) -> Row:
    """One row's suggestions and evidence from what its segments gave."""
    steps = found.steps
    row = Row(steps.muscle, steps.side)
    values, why = row.suggested, row.evidence
    values["insertional"] = muscle_insertional(found.bursts)
    why["insertional"] = (
        "bursts of "
        + ", ".join(f"{b.duration_ms:.0f} ms" if b is not None else "none" for b in found.bursts)
        + " after the needle moved"
        if found.bursts
        else "no insertion or new site examined"
    )
    if found.rests:
        grade = muscle_grade(found.rests)
        for name, cls in (("fibs", spont.FIBRILLATION), ("psw", spont.PSW), ("fasc", spont.FASCICULATION)):
            values[name] = grade.grades[cls]
            why[name] = grade.evidence[cls]
        values["other"] = list(grade.others)
        why["other"] = "; ".join(f"{spont.NAMES[k]}: {grade.evidence[k]}" for k in grade.others) or (
            f"none in {grade.sites} rest steps"
        )
        if not grade.relaxed_sites:
            for name in ("fibs", "psw", "fasc"):
                why[name] = "motor units fired through every rest step: not relaxed, not graded"
    else:
        for name in ("fibs", "psw", "fasc", "other"):
            values[name] = None
            why[name] = "no rest step examined"
    _mup_cells(found, values, why)
    _recruitment(found, values, why)
    maximal = found.interference.get("MAX")
    if maximal is not None and maximal.epochs:
        values["interference"] = maximal.grade
        why["interference"] = (
            f"maximal effort: {maximal.turns_per_s:.0f} turns/s, mean amplitude {maximal.amplitude_uv:.0f} µV, "
            f"{maximal.cloud_place()} the normal turns-amplitude region"
        )
    else:
        values["interference"] = None
        why["interference"] = "no maximal contraction examined"
    row.anchors = anchors(found)
    return row


TRACE_S = 1.0
"""The report's rest and maximal-effort traces are this long."""
SHOWN_FIRST = (
    *spont.OTHER_DISCHARGES,
    spont.FIBRILLATION,
    spont.PSW,
    spont.FASCICULATION,
    spont.ENDPLATE_SPIKE,
    spont.ENDPLATE_NOISE,
)
"""The rest trace shows an example of the first of these found (what a reader most needs to see)."""


def anchors(found: MuscleEvidence) -> dict[str, tuple[float, float]]:
    """Where the report's traces of this muscle come from (see :attr:`~.table.Row.anchors`)."""
    out: dict[str, tuple[float, float]] = {}
    insertions = found.steps.of("INS")
    if insertions:
        out["ins"] = (insertions[0].onset_s, min(insertions[0].end_s, insertions[0].onset_s + TRACE_S))
    relaxed = [r for r in found.rests if r.relaxed and r.samples]
    for cls in SHOWN_FIRST:
        examples = [(r, s) for r in relaxed for s in r.examples(cls)]
        if examples:
            rest, sample = examples[0]
            centre = sample / rest.sample_rate
            out["rest"] = (max(rest.start_index / rest.sample_rate, centre - TRACE_S / 2), centre + TRACE_S / 2)
            break
    else:
        if relaxed:
            start = relaxed[0].start_index / relaxed[0].sample_rate
            out["rest"] = (start, start + min(TRACE_S, relaxed[0].seconds))
    if found.mups:
        site = found.mups[0]
        out["min"] = (site.start_s, site.end_s)
    maximal = found.interference.get("MAX")
    if maximal is not None and maximal.epochs:
        start = maximal.epochs[len(maximal.epochs) // 2].start_index / found.rate
        out["max"] = (start, start + TRACE_S)
    return out


def _size_word(value: float, low: float, high: float) -> str:
    return "decreased" if value < low else ("increased" if value > high else "normal")


def _mup_cells(found: MuscleEvidence, values: dict, why: dict) -> None:
    summary = found.summary()
    _polyphasia(found, summary, values, why)
    if summary is not None and summary.mups >= MIN_MUPS:
        reference = summary.reference
        if reference is not None:
            amp = (reference.amplitude_uv.mean_low, reference.amplitude_uv.mean_high)
            dur = (reference.duration_ms.mean_low, reference.duration_ms.mean_high)
            against = f"the limits of the mean for {reference.name}"
        else:
            amp, dur = GENERIC_AMPLITUDE_UV, GENERIC_DURATION_MS
            against = f"the general ranges (no reference values for {found.steps.muscle or 'an unnamed muscle'})"
        values["muap_amplitude"] = _size_word(summary.amplitude_uv_mean, *amp)
        values["muap_duration"] = _size_word(summary.duration_ms_mean, *dur)
        why["muap_amplitude"] = f"mean {summary.amplitude_uv_mean:.0f} µV of {summary.mups} MUPs against {against}"
        why["muap_duration"] = f"mean {summary.duration_ms_mean:.1f} ms of {summary.mups} MUPs against {against}"
        return
    reason = _few_mups(found, summary)
    epochs = [e for name in ("MOD", "MAX") if name in found.interference for e in found.interference[name].epochs]
    if not found.steps.of("MIN") and not epochs:
        for name in ("muap_amplitude", "muap_duration"):
            values[name] = None
            why[name] = "no contraction examined"
        return
    if not epochs:
        values["muap_amplitude"] = values["muap_duration"] = None
        why["muap_amplitude"] = why["muap_duration"] = f"{NOT_MEASURED}: {reason}"
        return
    pooled = Interference("MOD+MAX", tuple(epochs))
    place = pooled.cloud_place()
    if place == OUTSIDE_RANGE:
        values["muap_amplitude"] = values["muap_duration"] = None
        why["muap_amplitude"] = why["muap_duration"] = (
            f"{NOT_MEASURED}: {reason}; the contractions made too few turns to judge against the normal region"
        )
        return
    word = {"above": "increased", "below": "decreased"}.get(place, "normal")
    values["muap_amplitude"] = values["muap_duration"] = word
    text = f"{reason}; read from the interference pattern: its epochs lie {place} the normal turns-amplitude region"
    why["muap_amplitude"] = why["muap_duration"] = text


def _few_mups(found: MuscleEvidence, summary: MuscleSummary | None) -> str:
    """Why the means were not used, in words."""
    measured = 0 if summary is None else summary.mups
    return found.mup_problem or f"{measured} MUP{'' if measured == 1 else 's'} measured (fewer than {MIN_MUPS})"


def _polyphasia(found: MuscleEvidence, summary: MuscleSummary | None, values: dict, why: dict) -> None:
    """Polyphasia from every MUP measured, however few (:mod:`.polyphasia`)."""
    if summary is None or summary.mups < 1:
        values["polyphasia"] = None
        why["polyphasia"] = (
            f"{NOT_MEASURED}: {_few_mups(found, summary)}" if found.steps.of("MIN") else "no contraction examined"
        )
        return
    reference = summary.reference
    if reference is not None and reference.polyphasic_uln_percent is not None:
        limit, source = reference.polyphasic_uln_percent, f"the limit for {reference.name}"
    else:
        limit, source = POLYPHASIC_LIMIT_PERCENT, "the general limit"
    polyphasic = round(summary.polyphasic_percent * summary.mups / 100.0)
    judged = judge_polyphasia(polyphasic, summary.mups, limit, source)
    values["polyphasia"] = judged.word
    why["polyphasia"] = judged.evidence


def _recruitment(found: MuscleEvidence, values: dict, why: dict) -> None:
    minimal = found.interference.get("MIN")
    if minimal is None and "MOD" not in found.interference:
        values["recruitment"] = None
        why["recruitment"] = "no minimal or moderate contraction examined"
        return
    if minimal is not None and minimal.early:
        values["recruitment"] = "early"
        why["recruitment"] = (
            f"minimal contraction already a full pattern: {minimal.turns_per_s:.0f} turns/s, mean amplitude "
            f"{minimal.amplitude_uv:.0f} µV"
        )
        return
    sites = [voluntary_recruitment(site) for site in found.mups]
    flags = [flag for site in sites for flag in site.recruitment.flags]
    fastest = max((s.recruitment.fastest_rate_hz for s in sites), default=math.nan)
    left_out = left_out_words(sum(s.left_out for s in sites))
    if flags:
        values["recruitment"] = "reduced"
        why["recruitment"] = "; ".join(dict.fromkeys(flags)) + left_out
    else:
        values["recruitment"] = "normal"
        why["recruitment"] = (
            f"fastest unit {fastest:.1f} Hz at minimal effort" if math.isfinite(fastest) else "no unit fired fast"
        ) + left_out
