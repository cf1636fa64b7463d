"""The log file: written by the app and by ``emgscope record``, INFO by default, and free of patient data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PATIENT = ("--patient-id", "LOG-1", "--name", "Jane Roe", "--birthdate", "1970-03-04", "--notes", "secret note")


def emgscope(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", EMGSCOPE_LOG_DIR=str(tmp_path / "log"))
    return subprocess.run(
        [sys.executable, "-m", "emgscope", *args],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=90, check=False,
    )  # fmt: skip


def log_text(tmp_path: Path) -> str:
    return (tmp_path / "log" / "emgscope.log").read_text(encoding="utf-8")


def assert_no_patient_data(text: str) -> None:
    for private in ("Jane", "Roe", "1970", "04-MAR", "secret note"):
        assert private not in text


def test_record_writes_what_it_did_to_the_log(tmp_path: Path) -> None:
    out = tmp_path / "logged.bdf"
    done = emgscope(tmp_path, "record", "--no-settings", "--seconds", "1", "--out", str(out), *PATIENT)
    assert done.returncode == 0, done.stderr
    text = log_text(tmp_path)
    assert "INFO emgscope.session.session: Connecting to the simulated patient (normal)" in text
    assert "Connected: Simulated patient (normal), 1 channel at 20000 Hz" in text
    assert "Recording started: logged.bdf" in text and "Recording stopped: Saved 1.0 s" in text
    assert "DEBUG" not in text  # INFO by default
    assert_no_patient_data(text)


def test_a_headless_exam_logs_its_steps(tmp_path: Path) -> None:
    out = tmp_path / "exam.bdf"
    done = emgscope(tmp_path, "record", "--no-settings", "--protocol", "needle_one_muscle", "--out", str(out), *PATIENT)
    assert done.returncode == 0, done.stderr
    text = log_text(tmp_path)
    assert "Exam started: 8 steps on Tibialis anterior L" in text
    assert "Exam step at 0.0 s: INS Tibialis anterior L" in text and "Exam finished" in text
    assert_no_patient_data(text)


def test_the_app_writes_to_the_same_log_and_the_level_can_be_raised(tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    done = emgscope(tmp_path, "--no-settings", "--screenshot", str(shot), "--seconds", "1", "--log-level", "warning")
    assert done.returncode == 0, done.stderr
    assert "starting" not in log_text(tmp_path)  # INFO lines left out at WARNING
    done = emgscope(tmp_path, "--no-settings", "--screenshot", str(shot), "--seconds", "4")
    assert done.returncode == 0, done.stderr
    text = log_text(tmp_path)
    assert "emgscope.gui.app: emgscope" in text and "starting" in text
    assert "Connected: Simulated patient" in text


def test_an_unwritable_log_folder_does_not_stop_the_app(tmp_path: Path) -> None:
    (tmp_path / "log").write_text("a file where the folder should be", encoding="utf-8")
    done = emgscope(tmp_path, "record", "--no-settings", "--seconds", "0.5", "--out", str(tmp_path / "x.bdf"))
    assert done.returncode == 0
    assert done.stderr.startswith("emgscope: no log file (")


@pytest.mark.parametrize("level", ["debug", "INFO", "Warning", "error"])
def test_log_levels_are_accepted_in_any_case(tmp_path: Path, level: str) -> None:
    done = emgscope(tmp_path, "record", "--no-settings", "--seconds", "0.5", "--out", str(tmp_path / "x.bdf"),
                    "--log-level", level)  # fmt: skip
    assert done.returncode == 0, done.stderr
