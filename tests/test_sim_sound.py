"""What the loudspeaker plays of each discharge: the app's own audio path on a recording of the simulated patient.

A trainee learns the discharges by ear, so the sound must keep what tells them apart: a complex repetitive
discharge's machine-like rate and its abrupt start and stop, a myotonic discharge's rising and falling rate and
loudness (the "dive bomber"), a fibrillation train's regularity (SIMULATION_PARAMETERS §2). The simulated signal is
written to a BDF+ file by pyEDFlib and played through ``emgscope export-audio``'s chain (the clinical filters, then
the very AudioChain the live callback runs); the WAV it writes is measured against the ground truth.
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np
import pyedflib
import pytest
from scipy import signal

from emgscope.acquisition import sim_profiles as profiles
from emgscope.acquisition.sim_discharges import Train
from emgscope.acquisition.simulator import SimulatedPatient
from emgscope.audio.export import export_audio
from emgscope.core.discharges import CRD, FIBRILLATION, MYOTONIC
from emgscope.core.settings import AudioSettings, FilterSettings, SimulatorSettings

FS = 20_000.0


def heard(p: SimulatedPatient, seconds: float, folder: Path) -> tuple[float, np.ndarray]:
    """``seconds`` of the patient's first channel as the loudspeaker plays them: ``(WAV rate, samples)``."""
    x = p.generate(int(seconds * FS))[0]
    recording = folder / "patient.bdf"
    writer = pyedflib.EdfWriter(str(recording), 1, file_type=pyedflib.FILETYPE_BDFPLUS)
    writer.setSignalHeaders(
        [
            {
                "label": "Needle 1",
                "dimension": "uV",
                "sample_frequency": FS,
                "physical_max": 20000.0,
                "physical_min": -20000.0,
                "digital_max": 8388607,
                "digital_min": -8388608,
                "transducer": "concentric needle",
                "prefilter": "",
            }
        ]
    )
    writer.writeSamples([x])
    writer.close()
    out = folder / "heard.wav"
    export_audio(recording, out, 0.0, None, "0", FilterSettings(), AudioSettings())
    with wave.open(str(out), "rb") as wav:
        rate = float(wav.getframerate())
        samples = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2") / 32767.0
    return rate, samples


def truth_times(p: SimulatedPatient, kind: str) -> np.ndarray:
    """Peak times (s) of every discharge of ``kind``."""
    log = p.firing_log()
    ids = [u.id for u in p.units if u.kind == kind]
    return log.samples[np.isin(log.units, ids)] / FS


def runs(times: np.ndarray, gap_s: float) -> list[np.ndarray]:
    cuts = np.flatnonzero(np.diff(times) > gap_s) + 1
    return [r for r in np.split(times, cuts) if r.size >= 5]


def loudness(audio: np.ndarray, rate: float, start_s: float, stop_s: float) -> float:
    part = audio[int(start_s * rate) : int(stop_s * rate)]
    return float(np.sqrt(np.mean(part**2))) if part.size else 0.0


def test_a_complex_repetitive_discharge_sounds_like_a_machine_that_starts_and_stops(tmp_path: Path) -> None:
    p = SimulatedPatient(SimulatorSettings(patient="chronic_neuropathy_crd:Medial gastrocnemius"), log_firings=True)
    rate, audio = heard(p, 14.0, tmp_path)
    found = runs(truth_times(p, CRD), gap_s=0.2)
    assert len(found) >= 2
    crd_rate = 1.0 / np.median(np.diff(found[0]))
    for run in found:
        begin, end = run[0], run[-1]
        # The repetition rate, from the sound alone: the autocorrelation of its envelope peaks at one period.
        part = np.abs(audio[int((begin + 0.05) * rate) : int((end - 0.05) * rate)])
        envelope = signal.resample_poly(part, 1, int(rate // 8000))
        envelope -= envelope.mean()
        lags = np.arange(int(8000 / 80), int(8000 / 15))
        correlation = np.array([np.dot(envelope[:-lag], envelope[lag:]) for lag in lags])
        # The shortest lag at which the sound repeats (multiples of the period repeat too).
        heard_rate = 8000.0 / lags[np.flatnonzero(correlation >= 0.8 * correlation.max())[0]]
        assert heard_rate == pytest.approx(crd_rate, rel=0.03), (heard_rate, crd_rate)
        # Abrupt: full loudness from the first complexes, silence (the background) just before and after.
        during = loudness(audio, rate, begin, begin + 0.1)
        steady = loudness(audio, rate, begin + 0.2, end - 0.1)
        before = loudness(audio, rate, begin - 0.08, begin - 0.03)
        after = loudness(audio, rate, end + 0.03, end + 0.08)
        assert during >= 0.7 * steady and before <= 0.35 * steady and after <= 0.35 * steady, (before, during, after)


def test_a_myotonic_discharge_rises_and_falls_in_rate_and_loudness(tmp_path: Path) -> None:
    p = SimulatedPatient(SimulatorSettings(patient="myotonic_dystrophy:Deltoid"), log_firings=True)
    rate, audio = heard(p, 14.0, tmp_path)
    found = runs(truth_times(p, MYOTONIC), gap_s=0.3)
    assert len(found) >= 2
    checked = 0
    for run in found:
        part = np.abs(audio[int((run[0] - 0.005) * rate) : int((run[-1] + 0.005) * rate)])
        # Discharges as heard: the sound's peaks, at most 80 per second.
        peaks, props = signal.find_peaks(part, height=0.15 * part.max(), distance=int(rate / 90))
        if peaks.size < 10:
            continue
        checked += 1
        times = peaks / rate
        instantaneous = 1.0 / np.diff(times)
        heights = props["peak_heights"][1:]
        assert instantaneous.min() >= 18.0 and instantaneous.max() <= 85.0
        assert instantaneous.max() >= 2.0 * instantaneous.min()  # the rate waxes and wanes
        assert heights.max() >= 2.0 * heights.min()  # and so does the loudness
        top = int(np.argmax(signal.savgol_filter(instantaneous, min(9, instantaneous.size // 2 * 2 - 1), 2)))
        assert 0 < top < instantaneous.size - 1  # up, then down
        assert np.corrcoef(instantaneous, heights)[0, 1] > 0.5
    assert checked >= 2


def test_a_fibrillation_train_is_heard_as_regular_as_it_fires(tmp_path: Path) -> None:
    profile = profiles.MuscleProfile("one train", spontaneous=profiles.Spontaneous(fibrillations=1))
    # A seed whose only train is a regular one that does not slow (the others are irregular or slowing).
    for seed in range(1, 60):
        p = SimulatedPatient(SimulatorSettings(seed=seed), log_firings=True, profile=profile)
        trains = [d.pattern for d in p._discharges[0] if isinstance(d.pattern, Train)]
        if len(trains) == 1 and trains[0].cv < 0.05 and trains[0].half_life_s == np.inf and trains[0].rate_hz > 2:
            break
    else:
        pytest.fail("no seed gave a single regular train")
    rate, audio = heard(p, 8.0, tmp_path)
    fired = truth_times(p, FIBRILLATION)
    peaks, _ = signal.find_peaks(
        np.abs(audio), height=0.3 * np.abs(audio).max(), distance=int(0.6 * rate / trains[0].rate_hz)
    )
    times = peaks / rate
    assert times.size == pytest.approx(fired.size, abs=1)
    intervals = np.diff(times)
    assert np.std(intervals) / np.mean(intervals) < 0.05  # regular: "rain on the roof" has a steady beat
    assert 1 / np.mean(intervals) == pytest.approx(trains[0].rate_hz, rel=0.03)
    # Each potential is heard where it fired, delayed only by the audio path (the same lag for all).
    lag = times[: fired.size] - fired[: times.size]
    assert np.ptp(lag) < 0.002
