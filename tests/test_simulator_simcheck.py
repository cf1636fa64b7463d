"""The simulated patient against real needle EMG (PhysioNet emgdb in ../shared/data): the targets of issue 13.

The emgdb records are read with the app's own WFDB reader; the simulated presets go through the chain emgdb was
stored with. Skipped, with the reason, when the shared data folder is absent (``EMGSCOPE_SHARED_DATA``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from emgscope import cli
from emgscope.commands import simcheck


@pytest.fixture
def emgdb(shared_data: Path) -> dict[str, simcheck.Figures]:
    return simcheck.emgdb_figures(shared_data / "physionet_emgdb")


def test_emgdb_figures_match_the_survey(emgdb: dict[str, simcheck.Figures]) -> None:
    """SIMULATION_PARAMETERS §1 [M]: healthy RMS p50 59 µV, median frequency 118 Hz; myopathy 94 µV, 253 Hz;
    neuropathy 237 µV, 293 Hz (its band-pass and windows)."""
    healthy, myopathy, neuropathy = emgdb["normal"], emgdb["myopathic"], emgdb["neurogenic"]
    assert healthy.rms_uv[1] == pytest.approx(59, abs=2) and healthy.median_hz == pytest.approx(118, abs=8)
    assert myopathy.rms_uv[1] == pytest.approx(94, abs=2) and myopathy.median_hz == pytest.approx(253, abs=8)
    assert neuropathy.rms_uv[1] == pytest.approx(237, abs=3) and neuropathy.median_hz == pytest.approx(300, abs=15)
    assert healthy.peak_to_peak_uv == pytest.approx(1490, rel=0.05)


def test_simulated_presets_meet_the_targets(emgdb: dict[str, simcheck.Figures]) -> None:
    simulated = simcheck.simulated_figures()
    results = simcheck.targets(simulated, emgdb)
    assert len(results) == 6
    assert all(held for _, held in results), results
    # The spectral shape too: the normal muscle keeps most of its power below 300 Hz, as emgdb's healthy one.
    assert simulated["normal"].low_band >= 0.7 and simulated["myopathic"].high_band > simulated["normal"].high_band


def test_the_chain_resamples_and_high_passes() -> None:
    rate = 20_000.0
    t = np.arange(int(rate)) / rate
    x = np.vstack([np.sin(2 * np.pi * 5 * t), np.sin(2 * np.pi * 500 * t)]) * 100
    stored = simcheck.emgdb_chain(x, rate)
    assert stored.shape == (2, 4000)
    steady = stored[:, 2000:]
    assert np.ptp(steady[0]) < 0.15 * 200 and np.ptp(steady[1]) == pytest.approx(200, rel=0.05)


def test_simcheck_prints_the_table_and_passes(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = shared_data / "physionet_emgdb"
    assert cli.main(["simcheck", "--emgdb", str(folder), "--sites", "40", "--seconds", "4"]) == 0
    out = capsys.readouterr().out
    assert out.count("| emgdb ") == 3 and out.count("| simulated ") == 3 and out.count("✓") == 6


def test_simcheck_says_where_it_looked(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["simcheck", "--emgdb", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("emgscope simcheck: no PhysioNet emgdb record emg_healthy in ") and "--emgdb" in err
