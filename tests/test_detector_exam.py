"""The exam checked against the signal: flags, reaction times and the summary on the simulated patient."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from emgscope.analysis.checks import CHECK_LABEL, REACTION_LABEL, RELAX_LABEL, CheckSettings, check_segment
from emgscope.analysis.monitor import MUSCLE_SUMMARY
from emgscope.analysis.summary import median_frequency, summary_csv_path, write_csv
from emgscope.bench.detector import RATE, contraction_plan, run_simulated_exam
from emgscope.protocol.annotation import ACTIVITY, FLAG_ACTIVITY_AT_REST, FLAG_NO_CONTRACTION, Annotation
from emgscope.protocol.loader import load_protocol, shipped_protocols
from emgscope.protocol.model import build_plan
from emgscope.protocol.sim_patient_driver import NOT_RELAXING, Compliance


@pytest.fixture(scope="module")
def unruly_exam():
    """30 contractions with a patient who is often late, weak or does not relax."""
    compliance = Compliance(late_probability=0.15, weak_probability=0.2, not_relaxing_probability=0.25)
    return run_simulated_exam(contraction_plan(30, seed=2), compliance, seed=5)


def segment_of(run, sample: int) -> Annotation:
    return next(a for a in run.runner.annotations if a.onset <= sample < a.end)


def test_not_relaxing_is_flagged_as_activity_at_rest(unruly_exam) -> None:
    run = unruly_exam
    not_relaxed = [c for c in run.driver.truth if c.behaviour == NOT_RELAXING]
    assert len(not_relaxed) >= 4
    flagged = {
        (a.muscle, segment_of(run, a.onset).onset) for a in run.monitor.annotations if FLAG_ACTIVITY_AT_REST in a.flags
    }
    for change in not_relaxed:
        assert ("Bench", change.prompt_sample) in flagged, f"rest at {change.prompt_sample} not flagged"
    relaxed_rests = {
        a.onset
        for a in run.runner.annotations
        if a.label == "REST" and not any(c.prompt_sample == a.onset and c.effort_percent > 0 for c in run.driver.truth)
    }
    false_alarms = [s for _, s in flagged if s in relaxed_rests]
    assert len(false_alarms) <= 1, false_alarms


def test_no_contraction_is_flagged_when_the_patient_did_not_contract(unruly_exam) -> None:
    run = unruly_exam
    contractions = [a for a in run.runner.annotations if a.label in ("MIN", "MOD", "MAX")]
    no_contraction = {a.onset for a in run.monitor.annotations if FLAG_NO_CONTRACTION in a.flags}
    fired_from = {c.prompt_sample for c in run.driver.truth if c.effort_percent >= 2.0}
    # The normal preset recruits its first unit at 2 % effort: below that (or never reacting) is no contraction.
    for segment in contractions:
        at_rest_before = not any(
            c.sample <= segment.onset and c.effort_percent > 0 for c in _latest(run, segment.onset)
        )
        if segment.onset not in fired_from and at_rest_before:
            assert segment.onset in no_contraction
        if segment.onset in fired_from:
            assert segment.onset not in no_contraction
    assert no_contraction


def _latest(run, sample: int):
    before = [c for c in run.driver.truth if c.sample <= sample]
    return before[-1:]


def test_reaction_times_match_the_patients_true_reactions(unruly_exam) -> None:
    run = unruly_exam
    reactions = {a.onset: a.value_ms for a in run.monitor.annotations if a.label == REACTION_LABEL}
    assert len(reactions) >= 15
    errors = []
    for change in run.driver.truth:
        if change.previous_percent == 0 and change.effort_percent > 0 and change.prompt_sample in reactions:
            true_ms = (change.sample - change.prompt_sample) * 1000 / RATE
            errors.append(reactions[change.prompt_sample] - true_ms)
    errors = np.array(errors)
    assert errors.size >= 15
    # Measured from the first potential, so never much earlier than the effort change, and rarely far later.
    assert errors.min() >= -5.0
    assert np.median(errors) <= 60.0
    relax = [a for a in run.monitor.annotations if a.label == RELAX_LABEL]
    # The last potential comes up to one inter-spike interval before the true relaxation (~300 ms after the prompt).
    relax_ms = np.array([a.value_ms for a in relax])
    assert relax_ms.size >= 10 and relax_ms.min() > 0 and relax_ms.max() <= 3000
    assert 200 <= np.median(relax_ms) <= 450


def test_summary_rows_and_csv(unruly_exam, tmp_path: Path) -> None:
    run = unruly_exam
    rows = run.monitor.summaries
    assert len(rows) == len(run.runner.annotations)
    first_rest, first_max = rows[0], next(r for r in rows if r.label in ("MAX", "MOD") and r.active_percent > 50)
    assert first_rest.label == "REST" and first_rest.active_percent == 0.0
    assert 2.0 <= first_rest.rms_uv <= 5.0  # the needle noise floor of DESIGN §4 / the simulator (2.5-4 µV)
    assert first_max.rms_uv > 5 * first_rest.rms_uv
    # Needle EMG of a healthy muscle contracting puts its median frequency near 100-150 Hz (PhysioNet emgdb healthy:
    # 117 Hz, SIMULATION_PARAMETERS §1 [M]); the simulated patient is calibrated to it (emgscope simcheck).
    assert 70 <= first_max.median_frequency_hz <= 400
    recording = tmp_path / "session.bdf"
    path = summary_csv_path(recording)
    assert path.name == "session_summary.csv"
    write_csv(path, rows)
    with open(path, encoding="utf-8") as handle:
        table = list(csv.DictReader(handle))
    assert len(table) == len(rows) and table[0]["label"] == "REST" and float(table[0]["rms_uv"]) == first_rest.rms_uv
    assert any(FLAG_ACTIVITY_AT_REST in row["flags"] for row in table)
    with pytest.raises(FileExistsError):
        write_csv(path, rows)  # never over an existing file


def test_muscle_summary_arrives_once_per_muscle() -> None:
    protocol = load_protocol(next(p for p in shipped_protocols() if p.stem == "needle_multi_muscle"))
    plan = build_plan(protocol, [("Tibialis anterior", "L"), ("Deltoid", "R")])
    run = run_simulated_exam(plan, seed=3, operator_s=4.0)  # the operator advances MIN after 4 s
    summaries = [e for e in run.events if e.kind == MUSCLE_SUMMARY]
    assert [(e.data["muscle"], e.data["side"]) for e in summaries] == [("Tibialis anterior", "L"), ("Deltoid", "R")]
    per_muscle = len(plan) // 2
    assert [len(e.data["rows"]) for e in summaries] == [per_muscle, per_muscle]
    assert run.runner.status.finished
    minimal = [a for a in run.runner.annotations if a.label == "MIN"]
    assert [a.duration for a in minimal] == [round(4.0 * RATE)] * 2
    # The compliant patient contracts at every MIN, MOD and MAX and relaxes at every rest: no flag but timings.
    flagged = [a for a in run.monitor.annotations if a.flags]
    assert flagged == [], [a.text for a in flagged]
    assert [row.label for row in run.monitor.summaries] == [a.label for a in run.runner.annotations]
    # Activity belongs to the muscle where it began, even when it ends after the exam moved on.
    activity = [a for a in run.monitor.annotations if a.kind == ACTIVITY]
    assert activity
    for a in activity:
        assert (a.muscle, a.side) == (segment_of(run, a.onset).muscle, segment_of(run, a.onset).side)


def test_check_segment_rules() -> None:
    fs = 1000.0
    rest = Annotation(10_000, 5_000, "REST", "TA", "L")
    # Activity that stops 400 ms into the rest: a relaxation time, no flag.
    found = check_segment(rest, False, [(8_000, 10_400)], fs)
    assert [(a.label, a.value_ms) for a in found] == [(RELAX_LABEL, 400.0)]
    # Activity 2-3 s into the rest: flagged where it is.
    found = check_segment(rest, False, [(12_000, 13_000)], fs)
    assert [(a.label, a.flags, a.onset, a.duration) for a in found] == [
        (CHECK_LABEL, (FLAG_ACTIVITY_AT_REST,), 12_000, 1_000)
    ]
    # A stray 100 ms potential at rest is not flagged.
    assert check_segment(rest, False, [(12_000, 12_100)], fs) == []
    contraction = Annotation(20_000, 3_000, "MAX", "TA", "L")
    assert [a.value_ms for a in check_segment(contraction, True, [(20_350, 23_000)], fs)] == [350.0]
    assert check_segment(contraction, True, [], fs)[0].flags == (FLAG_NO_CONTRACTION,)
    assert check_segment(contraction, None, [], fs) == []


def test_median_frequency_of_a_known_spectrum() -> None:
    fs = 10_000.0
    t = np.arange(int(fs)) / fs
    assert abs(median_frequency(np.sin(2 * np.pi * 250 * t), fs) - 250) <= 10
    rng = np.random.default_rng(0)
    assert abs(median_frequency(rng.normal(size=int(fs)), fs) - fs / 4) <= 150


def test_spontaneous_activity_at_rest_is_flagged_in_a_denervated_muscle() -> None:
    """Fibrillations and positive sharp waves fill a neurogenic rest: the baseline must not learn them, and the
    first rest, which gives the baseline, is checked against it too (looked back over once it has ended)."""
    protocol = load_protocol(next(p for p in shipped_protocols() if p.stem == "needle_one_muscle"))
    plan = build_plan(protocol, [("Tibialis anterior", "L")])
    grace = round(CheckSettings().relax_grace_s * RATE)
    for pathology in ("neurogenic", "normal"):
        run = run_simulated_exam(plan, seed=2, pathology=pathology)
        rests = [a for a in run.runner.annotations if a.label == "REST"]
        assert [(a.onset, a.repeat) for a in rests] == [
            (60_000, "site 1/3"),
            (260_000, "site 2/3"),
            (460_000, "site 3/3"),
            (960_000, ""),
        ]
        flags = [a for a in run.monitor.annotations if FLAG_ACTIVITY_AT_REST in a.flags]
        rows = {row.onset_s: row for row in run.monitor.summaries}
        if pathology == "normal":
            assert flags == [] and run.monitor.activity[0][0] > rests[2].end  # quiet until the contraction
            assert [rows[r.onset / RATE].active_percent for r in rests[:3]] == [0.0] * 3
            continue
        # Every rest is flagged, the first site included, from the moment the patient had time to relax.
        assert [(f.onset, f.end, f.repeat) for f in flags] == [(r.onset + grace, r.end, r.repeat) for r in rests]
        # The first site's activity is there from the start: the denervated muscle fires within the first
        # second of the exam, long before the first baseline existed (at 13 s).
        onset, offset = run.monitor.activity[0]
        assert onset < RATE and (offset is None or offset > rests[0].end)
        assert rows[rests[0].onset / RATE].active_percent >= 90.0
        assert rows[rests[0].onset / RATE].flags == FLAG_ACTIVITY_AT_REST
        assert rows[0.0].active_percent >= 90.0  # the insertion before it, summarised with the same baseline
