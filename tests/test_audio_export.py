"""``emgscope export-audio``: real files written by other programs in, a WAV of what would have been heard out."""

from __future__ import annotations

import argparse
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pyedflib
import pytest

from emgscope.audio.dsp import FULL_SCALE_UV, LIMITER_CEILING
from emgscope.commands import export_audio as export

pytestmark = pytest.mark.timeout(90)
"""Exports run as a subprocess of the command line: a hang fails its own test."""

REPO = Path(__file__).resolve().parent.parent


def read_wav(path: Path) -> tuple[int, np.ndarray]:
    with wave.open(str(path), "rb") as wav:
        assert wav.getnchannels() == 1 and wav.getsampwidth() == 2
        frames = wav.readframes(wav.getnframes())
        return wav.getframerate(), np.frombuffer(frames, dtype="<i2") / 32767


def write_tone_edf(path: Path, rate: int, frequency: float, amplitude_uv: float, seconds: int) -> None:
    """A one-signal EDF+ written by pyEDFlib (EDFlib), the way other EMG programs write them."""
    writer = pyedflib.EdfWriter(str(path), 1, file_type=pyedflib.FILETYPE_EDFPLUS)
    writer.setSignalHeaders(
        [
            {
                "label": "Needle",
                "dimension": "uV",
                "sample_frequency": rate,
                "physical_max": 1000.0,
                "physical_min": -1000.0,
                "digital_max": 32767,
                "digital_min": -32768,
                "transducer": "",
                "prefilter": "",
            }
        ]
    )
    t = np.arange(rate * seconds) / rate
    writer.writeSamples([amplitude_uv * np.sin(2 * np.pi * frequency * t)])
    writer.close()


def test_export_of_a_tone_has_its_frequency_level_and_length(tmp_path: Path) -> None:
    source = tmp_path / "tone.edf"
    write_tone_edf(source, 20_000, 1000.0, 300.0, 4)
    out = tmp_path / "tone.wav"
    assert export.run(export_args(source, out, "--start", "1", "--end", "3", "--no-settings")) == 0
    rate, y = read_wav(out)
    assert rate == 48_000
    assert y.size == 2 * 48_000
    spectrum = np.abs(np.fft.rfft(y * np.hanning(y.size)))
    assert np.fft.rfftfreq(y.size, 1 / rate)[spectrum.argmax()] == pytest.approx(1000, abs=1)
    # The needle filters (10 Hz – 9 kHz here) barely touch 1 kHz; 300 µV at 0 dB is 0.3 of full scale.
    assert y[4800:].std() * np.sqrt(2) == pytest.approx(300 / FULL_SCALE_UV, rel=0.03)


def test_export_of_real_needle_emg_is_limited_and_squelched(tmp_path: Path, shared_data: Path) -> None:
    source = shared_data / "physionet_emgdb" / "emg_neuropathy.hea"
    loud, quiet = tmp_path / "loud.wav", tmp_path / "quiet.wav"
    assert export.run(export_args(source, loud, "--end", "5", "--volume-db", "20", "--no-settings")) == 0
    assert export.run(export_args(source, quiet, "--end", "5", "--squelch", "200", "--no-settings")) == 0
    _, y_loud = read_wav(loud)
    _, y_quiet = read_wav(quiet)
    assert y_loud.size == 5 * 48_000
    assert np.abs(y_loud).max() <= LIMITER_CEILING + 1 / 32767  # 20 dB up on mV potentials: limited, not clipped
    assert np.mean(np.abs(y_loud) > 0.5) > 0.001
    assert 0.01 < np.mean(np.abs(y_quiet) > 1e-3) < 0.9  # squelch: silence between the big potentials


def test_bad_requests_get_a_clear_message_and_write_nothing(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    source = tmp_path / "tone.edf"
    write_tone_edf(source, 2000, 100.0, 100.0, 2)
    existing = tmp_path / "exists.wav"
    existing.write_bytes(b"keep me")
    assert export.run(export_args(source, existing, "--no-settings")) == 1
    assert existing.read_bytes() == b"keep me"
    assert "never overwrite" in capsys.readouterr().err
    assert export.run(export_args(source, tmp_path / "a.wav", "--channel", "Biceps", "--no-settings")) == 1
    assert "no channel 'Biceps'" in capsys.readouterr().err
    assert export.run(export_args(source, tmp_path / "b.wav", "--start", "5", "--no-settings")) == 1
    assert "nothing to export" in capsys.readouterr().err
    assert export.run(export_args(tmp_path / "missing.edf", tmp_path / "c.wav", "--no-settings")) == 1
    assert not (tmp_path / "a.wav").exists() and not (tmp_path / "b.wav").exists()


def test_export_audio_is_a_working_subcommand(tmp_path: Path) -> None:
    source = tmp_path / "tone.edf"
    write_tone_edf(source, 2000, 200.0, 100.0, 2)
    out = tmp_path / "cli.wav"
    command = [sys.executable, "-m", "emgscope", "export-audio", str(source), "--out", str(out), "--no-settings"]
    result = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert read_wav(out)[1].size == 2 * 48_000


def export_args(source: Path, out: Path, *options: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    export.add_arguments(parser)
    return parser.parse_args([str(source), "--out", str(out), *options])
