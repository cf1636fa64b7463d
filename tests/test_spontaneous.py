"""Spontaneous activity at rest: found, classified and graded on the simulated patient against its ground truth,
and on real needle EMG (PhysioNet emgdb), whose "rest" is a weak contraction the analysis must recognise."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from support.exams import examine

from emgscope.acquisition.sim_patients import load_patient
from emgscope.acquisition.sim_shapes import fibrillation, positive_sharp_wave
from emgscope.acquisition.sim_truth import read_truth, truth_path
from emgscope.analysis.findings.suggest import Suggestions, suggest
from emgscope.analysis.spontaneous import classify as c
from emgscope.analysis.spontaneous.analyse import analyse_rest
from emgscope.analysis.spontaneous.grade import muscle_grade, site_grade
from emgscope.analysis.spontaneous.pattern import firing_pattern
from emgscope.analysis.spontaneous.shape import POSITIVE_WAVE, SPIKE, measure_shape
from emgscope.bench.report import Owners
from emgscope.core.settings import FILTER_PRESETS
from emgscope.dsp.filters import FilterBank
from emgscope.replay.reader import open_recording

RATE = 20_000.0


@pytest.fixture(scope="module")
def exams(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, Suggestions]]:
    folder = tmp_path_factory.mktemp("spontaneous")
    out = {}
    for name in ("acute_radiculopathy", "chronic_neuropathy_crd", "myotonic_dystrophy", "neuromyotonia", "normal"):
        path = examine(folder, name, "needle_multi_muscle", seed=2)
        out[name] = (path, suggest(open_recording(path)))
    return out


def classes_against_truth(path: Path, suggestions: Suggestions) -> tuple[Counter, int, int]:
    owners = Owners(read_truth(truth_path(path)))
    confusion: Counter = Counter()
    right = total = 0
    for found in suggestions.evidence:
        for rest in found.rests:
            for train in rest.trains:
                for sample in train.samples.tolist():
                    kind = owners.kind(sample)
                    if kind is not None:
                        confusion[(kind, train.cls)] += 1
                        total += 1
                        right += kind == train.cls
    return confusion, right, total


@pytest.mark.parametrize(
    ("name", "kinds", "least"),
    [
        ("acute_radiculopathy", (c.FIBRILLATION, c.PSW), 0.85),
        ("chronic_neuropathy_crd", (c.CRD,), 0.85),
        ("myotonic_dystrophy", (c.MYOTONIC,), 0.85),
        ("neuromyotonia", (c.MYOKYMIC, c.NEUROMYOTONIC), 0.7),
        ("normal", (c.ENDPLATE_NOISE, c.ENDPLATE_SPIKE), 0.8),
    ],
)
def test_discharges_are_classed_as_the_ground_truth_made_them(
    exams: dict, name: str, kinds: tuple[str, ...], least: float
) -> None:
    path, suggestions = exams[name]
    confusion, right, total = classes_against_truth(path, suggestions)
    assert total > 200
    assert right / total >= least, confusion.most_common(8)
    for kind in kinds:  # each discharge the case is built on is found, and mostly called what it is
        found = sum(n for (truth, _), n in confusion.items() if truth == kind)
        called = confusion[(kind, kind)]
        assert found >= 20 and called / found >= 0.6, (kind, confusion.most_common(8))


@pytest.mark.parametrize("name", ["acute_radiculopathy", "chronic_neuropathy_crd", "myotonic_dystrophy", "normal"])
def test_each_muscle_is_graded_within_one_of_its_key_and_names_its_other_discharges(exams: dict, name: str) -> None:
    _, suggestions = exams[name]
    case = load_patient(name)
    for found in suggestions.evidence:
        key = case.muscle(f"{found.steps.muscle} {found.steps.side}").findings
        grade = muscle_grade(found.rests)
        assert grade.relaxed_sites == grade.sites == 3  # two sites and the last rest, each relaxed
        assert abs(grade.grades[c.FIBRILLATION] - key.fibrillations) <= 1, (found.steps.muscle, grade.evidence)
        assert abs(grade.grades[c.PSW] - key.positive_sharp_waves) <= 1, (found.steps.muscle, grade.evidence)
        assert set(grade.others) == set(key.other), (found.steps.muscle, grade.evidence)


def test_a_normal_muscle_away_from_the_endplate_shows_nothing(exams: dict) -> None:
    _, suggestions = exams["normal"]
    tibialis = next(f for f in suggestions.evidence if f.steps.muscle == "Tibialis anterior")
    for rest in tibialis.rests:
        grade = site_grade(rest)
        assert grade.grades == {c.FIBRILLATION: 0, c.PSW: 0, c.FASCICULATION: 0}
        assert not grade.endplate and not grade.others


def test_a_fibrillation_begins_positive_and_a_positive_sharp_wave_has_its_long_negative_phase() -> None:
    rng = np.random.default_rng(4)
    for maker, duration, kind in ((fibrillation, 3.0, SPIKE), (positive_sharp_wave, 20.0, POSITIVE_WAVE)):
        template = maker(rng, RATE, duration, 120.0)
        x = np.concatenate((np.zeros(400), template, np.zeros(800)))
        x = FilterBank(FILTER_PRESETS["needle"], RATE, 1).process(x[np.newaxis])[0].astype(np.float64)
        peak = int(np.argmax(np.abs(x)))
        shape = measure_shape(x, peak, RATE, 3.0)
        assert shape.kind == kind
        assert shape.initial == 1
        assert 80.0 < shape.amplitude_uv < 160.0


def test_firing_patterns_tell_a_steady_run_from_one_that_waxes_and_wanes() -> None:
    steady = np.arange(200) / 36.0  # a complex repetitive discharge: 36 Hz, no jitter
    run = firing_pattern(steady, np.full(steady.size, 400.0)).longest_run
    assert run is not None and run.rate_swing < 1.05 and run.cv < 0.01 and 35.5 < run.rate_hz < 36.5
    rates = 20.0 + 60.0 * np.sin(np.linspace(0.05, np.pi - 0.05, 60))  # a myotonic run: 20-80-20 Hz
    times = np.concatenate(([0.0], np.cumsum(1.0 / rates[:-1])))
    waxing = firing_pattern(times, 50.0 + 2.0 * rates).longest_run
    assert waxing is not None and waxing.rate_swing > 2.5 and waxing.size_rate_correlation > 0.9


def test_emgdb_neuropathy_rest_is_a_weak_contraction_not_spontaneous_activity(shared_data: Path) -> None:
    """The record's quiet stretches hold a 3.8 mV unit firing at a steady 10 Hz (and a 1 mV one at 9 Hz): the
    patient contracts ("dorsiflexed gently ... then relaxed"), so nothing there is graded as spontaneous."""
    recording = open_recording(shared_data / "physionet_emgdb" / "emg_neuropathy.hea")
    rate = recording.signals[0].sample_rate
    raw = recording.read(0, 0, round(11.5 * rate))
    filtered = FilterBank(FILTER_PRESETS["needle"], rate, 1).process(raw[np.newaxis])[0]
    rest = analyse_rest(filtered, rate, 0, settle_s=0.0)
    assert not rest.relaxed
    amplitudes = sorted(a for a, _ in rest.firing_units)
    assert amplitudes[-1] > 3000.0
    assert all(8.0 < r < 12.0 for a, r in rest.firing_units if a > 900.0)
    assert site_grade(rest).grades == {}
    assert muscle_grade([rest]).grades == {c.FIBRILLATION: None, c.PSW: None, c.FASCICULATION: None}
