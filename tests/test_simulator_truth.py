"""The ground truth written beside a simulated recording: it round-trips, and it is exactly what was recorded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.exams import record

from emgscope.acquisition.sim_pool import FAR, MUAP
from emgscope.acquisition.sim_truth import SUFFIX, TruthError, collect, read_truth, truth_path, write_truth
from emgscope.acquisition.simulator import SimulatedPatient
from emgscope.core.discharges import FIBRILLATION, PSW, SPONTANEOUS
from emgscope.core.settings import SimulatorSettings
from emgscope.replay.reader import open_recording

FS = 20_000.0


def test_ground_truth_round_trips(tmp_path: Path) -> None:
    p = SimulatedPatient(SimulatorSettings("neurogenic", 20.0, FS, 2, 3), log_firings=True)
    p.generate(1234)
    first = p.position
    p.insertion()
    x = p.generate(int(3 * FS))
    path = write_truth(tmp_path / f"x{SUFFIX}", p, first, x.shape[1])
    truth = read_truth(path)
    assert truth.sample_rate == FS and truth.meta["channels"] == 2 and truth.meta["samples"] == x.shape[1]
    assert truth.meta["pathology"] == "neurogenic" and truth.meta["first_sample"] == first
    assert truth.meta["insertions"][0][0] == 0
    assert [n["site"] for n in truth.meta["needle"]] == [0, 0, 0, 0] and truth.meta["needle"][-1]["move"] == 1
    assert len(truth.units) == len(p.units)
    for mine, theirs in zip(truth.units, p.units, strict=True):
        assert (mine.id, mine.channel, mine.kind, mine.motor_unit, mine.site) == (
            theirs.id,
            theirs.channel,
            theirs.kind,
            theirs.motor_unit,
            theirs.site,
        )
        assert np.array_equal(mine.template, theirs.template)
        assert mine.peak_offset == theirs.peak_offset and mine.amplitude_uv == theirs.amplitude_uv
        assert mine.clinical_duration_ms == theirs.clinical_duration_ms
        assert np.isnan(mine.distance_mm) == np.isnan(theirs.distance_mm)
    log = p.firing_log()
    inside = (log.samples >= first) & (log.samples < first + x.shape[1])
    assert truth.firing_start.size == int(inside.sum())
    # Every discharge, by unit: its starts (relative to the recording) at the peak minus the peak offset.
    for unit in truth.units:
        peaks = log.samples[inside & (log.units == unit.id)] - first
        assert np.array_equal(unit.starts + unit.peak_offset, peaks)
    spontaneous = truth.spontaneous()
    assert spontaneous and {kind for kind, _, _ in spontaneous} <= set(SPONTANEOUS)
    assert {kind for kind, _, _ in spontaneous} >= {FIBRILLATION, PSW}
    # The recording is the sum of the templates plus the background noise.
    for channel in range(2):
        residual = x[channel] - truth.render(channel, x.shape[1])
        assert np.std(residual[2000:-2000]) == pytest.approx(p.noise_rms_uv[channel], rel=0.05)
    # Never overwritten.
    with pytest.raises(FileExistsError):
        write_truth(path, p, first, x.shape[1])


def test_a_broken_ground_truth_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / f"bad{SUFFIX}"
    bad.write_bytes(b"not a numpy archive")
    with pytest.raises(TruthError, match=f"{bad.name}: not a ground-truth file"):
        read_truth(bad)
    p = SimulatedPatient(SimulatorSettings(), log_firings=True)
    p.generate(100)
    arrays = collect(p, 0, 100)
    del arrays["firing_unit"]
    partial = tmp_path / f"partial{SUFFIX}"
    np.savez(partial, **arrays)
    with pytest.raises(TruthError, match="incomplete ground-truth file"):
        read_truth(partial)


def test_record_writes_the_ground_truth_beside_the_recording(tmp_path: Path) -> None:
    out = tmp_path / "rest.bdf"
    result = record("--seconds", "1.5", "--out", str(out), "--pathology", "neurogenic", "--seed", "2")
    assert result.returncode == 0, result.stderr
    truth = read_truth(truth_path(out))
    assert truth_path(out).name == "rest.truth.npz"
    recording = open_recording(out)
    samples = recording.read(recording.data_signals[0], 0, recording.signals[recording.data_signals[0]].n_samples)
    assert truth.meta["samples"] == samples.size
    residual = samples - truth.render(0, samples.size)
    assert np.std(residual[2000:-2000]) <= 5.0  # the needle noise (2.5-4 µV) and the 24-bit file's quantisation
    assert np.std(samples) > 3 * np.std(residual)


def test_guided_exam_of_a_patient_writes_its_ground_truth(tmp_path: Path) -> None:
    out = tmp_path / "exam.bdf"
    result = record("--protocol", "needle_one_muscle", "--patient", "als", "--out", str(out), "--seed", "3")
    assert result.returncode == 0, result.stderr
    truth = read_truth(truth_path(out))
    assert truth.meta["patient"] == "als" and truth.meta["muscle"] == "als: First dorsal interosseous R"
    assert truth.meta["samples"] == 53 * FS
    # The exam moved the needle: a small step at the insertion, a new site for each later rest.
    needle = truth.meta["needle"]
    assert [n["site"] for n in needle] == [0, 0, 1, 2] and needle[1]["move"] == 1
    assert len(truth.meta["insertions"]) == 3
    assert truth.of_kind(MUAP, FAR) and truth.of_kind(FIBRILLATION)
    recording = open_recording(out)
    samples = recording.read(recording.data_signals[0], 0, int(truth.meta["samples"]))
    residual = samples - truth.render(0, samples.size)
    assert np.std(residual[4000:-4000]) <= 5.0
