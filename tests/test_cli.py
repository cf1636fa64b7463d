"""The command line's source options: ``--mains`` reaches the simulated patient, and its hum the recording."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyedflib
import pytest

from emgscope.cli import gui_parser, main
from emgscope.core.settings import Settings
from emgscope.session.options import apply_source_options


def test_mains_option_sets_the_simulated_hum() -> None:
    settings = Settings()
    apply_source_options(gui_parser().parse_args(["--mains", "60"]), settings)
    assert settings.source.simulator.mains_hz == 60.0
    apply_source_options(gui_parser().parse_args([]), settings)
    assert settings.source.simulator.mains_hz == 60.0  # not given: the setting keeps its value
    apply_source_options(gui_parser().parse_args(["--mains", "0"]), settings)
    assert settings.source.simulator.mains_hz == 0.0


def test_mains_option_rejects_other_frequencies(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        gui_parser().parse_args(["--mains", "55"])
    assert "--mains" in capsys.readouterr().err


def test_recording_with_mains_has_the_hum_in_its_spectrum(tmp_path: Path) -> None:
    out = tmp_path / "hum.bdf"
    assert main(["record", "--no-settings", "--seconds", "1", "--mains", "50", "--out", str(out)]) == 0
    reader = pyedflib.EdfReader(str(out))
    try:
        rate = reader.getSampleFrequency(0)
        signal = reader.readSignal(0)
    finally:
        reader.close()
    n = round(rate)  # one second: 1 Hz bins
    spectrum = np.abs(np.fft.rfft(signal[:n] - signal[:n].mean()))
    background = np.median(spectrum[30:300])
    assert spectrum[50] > 20 * background
    assert spectrum[150] > 5 * background  # the third harmonic
    assert spectrum[60] < 5 * background
