"""``emgscope muap``: the issue's JSON, the table, the results file and one line for what it cannot do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from emgscope.analysis.muap.edits import REJECT, Edit, apply_edit
from emgscope.analysis.muap.sidecar import load_analyses, save_analysis, sidecar_path
from emgscope.cli import main

UNIT_KEYS = {
    "amplitude_uv",
    "duration_ms",
    "phases",
    "turns",
    "area_uv_ms",
    "thickness_ms",
    "size_index",
    "rise_time_ms",
    "discharges",
    "firing_rate_hz",
    "firing_rate_cv",
}


def healthy(shared_data: Path) -> Path:
    return shared_data / "physionet_emgdb" / "emg_healthy.hea"


def test_json_has_the_issues_keys(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["muap", str(healthy(shared_data)), "--muscle", "tibialis anterior", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert set(result) == {"units", "recruitment_frequency_hz", "recruitment_ratio", "muscle"}
    assert len(result["units"]) >= 3
    for unit in result["units"]:
        assert set(unit) == UNIT_KEYS
        assert unit["discharges"] >= 6 and 4.0 <= unit["firing_rate_hz"] <= 30.0
    amplitudes = [u["amplitude_uv"] for u in result["units"]]
    assert amplitudes == sorted(amplitudes, reverse=True)
    assert result["recruitment_frequency_hz"] > 0 and result["recruitment_ratio"] > 0
    muscle = result["muscle"]
    assert muscle["name"] == "Tibialis anterior" and "JNNP" in muscle["reference"]
    assert muscle["outliers"] is None  # the tibialis anterior reference has no outlier limits
    assert muscle["mups"] >= 3 and 300 < muscle["amplitude_uv_mean"] < 900


def test_a_segment_and_a_table(shared_data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["muap", str(healthy(shared_data)), "--start", "5", "--end", "10", "--channel", "1"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("emg_healthy.hea, channel 1 (EMG), 5.000-10.000 s, 4000 Hz, filtered 10 Hz – 1.8 kHz")
    assert "Amplitude (µV)  Duration (ms)  Phases  Turns" in out
    assert "Muscle: not named" in out and "no muscle named: no reference values" in out
    assert "Note: Sampled at 4 kHz" in out


@pytest.mark.parametrize(
    ("extra", "words"),
    [
        (["--start", "5", "--end", "4"], "choose a segment inside the recording's 12.715 s"),
        (["--channel", "2"], "no channel '2' in emg_healthy.hea: its data signals are 1 (EMG)"),
        (["--start", "12", "--end", "12.5"], "The segment is 0.5 s long"),
    ],
)
def test_what_it_cannot_do_is_one_line(
    shared_data: Path, capsys: pytest.CaptureFixture[str], extra: list[str], words: str
) -> None:
    assert main(["muap", str(healthy(shared_data)), *extra]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.startswith("emgscope muap: ") and words in captured.err
    assert captured.err.count("\n") == 1


def test_save_keeps_the_result_but_never_a_clinicians_edits(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for suffix in (".hea", ".dat"):
        shutil.copy(healthy(shared_data).with_suffix(suffix), tmp_path)
    recording = tmp_path / "emg_healthy.hea"
    assert main(["muap", str(recording), "--start", "0", "--end", "6", "--save"]) == 0
    (saved,) = load_analyses(recording)
    assert (saved.start_index, saved.samples) == (0, 24_000)
    printed = capsys.readouterr().out
    # What was printed is what reads back (a 4 kHz record: templates interpolated to 20 kHz, discharges at 4 kHz).
    for unit in saved.units:
        assert f"{unit.measures.amplitude_uv:.0f}" in printed and f"{unit.firing.rate_hz:.1f}" in printed
    save_analysis(recording, apply_edit(saved, Edit(saved.units[0].id, REJECT)))
    capsys.readouterr()
    assert main(["muap", str(recording), "--start", "0", "--end", "6", "--save"]) == 1
    assert "holds the clinician's edits of this segment; it was not replaced" in capsys.readouterr().err
    assert load_analyses(recording)[0].units[0].rejected
    assert sidecar_path(recording).name == "emg_healthy.hea.muap.json"
