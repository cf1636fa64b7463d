"""The guided exam as the operator sees it in the real window: the prompt panel's size, the filters it proposes,
one step per key press, the patient's effort on its control, and a summary a technician can read."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PyQt6.QtCore import Qt
from support.window import focus, open_window, wait_connected

from emgscope.analysis.summary import SegmentSummary
from emgscope.core.settings import FilterSettings, Settings
from emgscope.gui.prompt_panel import SUMMARY_COLUMNS, PromptPanel, check_line
from emgscope.protocol.annotation import FLAG, Annotation
from emgscope.protocol.loader import load_protocol, protocols_dir
from emgscope.protocol.model import build_plan
from emgscope.protocol.runner import ExamRunner
from emgscope.session.exam import ExamChoice

RATE = 20_000.0


def needle_exam(channel: int = 0) -> ExamChoice:
    protocol = load_protocol(protocols_dir() / "needle_one_muscle.toml")
    return ExamChoice(protocol, [("Tibialis anterior", "L")], channel, "compliant")


@pytest.fixture
def exam_window(qtbot):
    settings = Settings()
    settings.filters = FilterSettings("custom", 20.0, 5_000.0, 50.0)  # the operator's own band, and a notch
    window = open_window(qtbot, settings)
    window.resize(1400, 900)
    wait_connected(qtbot, window)
    focus(qtbot, window)
    return window


def test_the_panel_keeps_one_width_and_leaves_the_scope_most_of_the_window(qtbot, exam_window) -> None:
    window = exam_window
    exam = window.exam.start(needle_exam())
    assert exam is not None
    widths, scopes = set(), []
    for step in range(4):
        qtbot.waitUntil(lambda step=step: exam.runner.status.index == step, timeout=15_000)
        qtbot.waitUntil(lambda: window.exam.dock.widget().isVisible(), timeout=2000)
        widths.add(window.exam.dock.width())
        scopes.append(window.scope.width())
        qtbot.keyClick(window, Qt.Key.Key_N)
    assert len(widths) == 1  # the time base the neurologist watches never changes width during the exam
    assert min(scopes) >= 0.7 * window.width()


def test_one_press_of_n_advances_one_step_even_during_a_countdown(qtbot, exam_window) -> None:
    window = exam_window
    exam = window.exam.start(needle_exam())
    qtbot.waitUntil(lambda: exam.runner.status.index == 1, timeout=15_000)  # REST site 1, counting down
    assert exam.runner.status.remaining_s(RATE) > 3
    qtbot.keyClick(window, Qt.Key.Key_N)
    qtbot.wait(400)  # several exam steps of the window's timer: nothing else may advance it
    assert exam.runner.status.index == 2
    rests = [a for a in exam.runner.annotations if a.label == "REST"]
    assert [a.flags for a in rests] == [("cut short",)]  # the step N ended, and only that one


def test_an_exam_says_which_filters_it_uses_and_gives_the_operators_back(qtbot, exam_window) -> None:
    window = exam_window
    exam = window.exam.start(needle_exam())
    assert window.settings.filters == FilterSettings("needle", 10.0, 10_000.0, 50.0)  # the notch is the room's
    text = window.banner.text
    assert "needle filters (10 Hz – 10 kHz, notch 50 Hz)" in text and "yours (20 Hz – 5 kHz, notch 50 Hz)" in text
    window.exam.abort()
    qtbot.waitUntil(lambda: window.session.exam is None, timeout=5000)
    assert window.settings.filters == FilterSettings("custom", 20.0, 5_000.0, 50.0)
    qtbot.waitUntil(lambda: "your filters are back" in window.banner.text, timeout=2000)
    assert exam.ended


def test_ok_with_no_muscle_ticked_is_refused_in_the_dialog(qtbot, exam_window) -> None:
    window = exam_window
    window.exam.start_action.trigger()
    dialog = window.exam.dialog
    dialog.select("needle_one_muscle", [], ["L"])
    dialog.accept()
    assert dialog.isVisible() and "Tick at least one muscle" in dialog.error.text()
    assert window.session.exam is None
    dialog.reject()


def test_the_effort_control_follows_the_patient_during_the_exam_and_the_keys_outside_it(qtbot, exam_window) -> None:
    window = exam_window
    slider = window.controls.effort
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert slider.value() == 20 and window.settings.source.simulator.effort_percent == 20.0
    qtbot.keyClick(window, Qt.Key.Key_BracketLeft)
    assert slider.value() == 10
    exam = window.exam.start(needle_exam())
    qtbot.waitUntil(lambda: not slider.isEnabled(), timeout=2000)  # read-only while the exam drives the patient
    qtbot.waitUntil(lambda: slider.value() == 0, timeout=3000)  # insertion: the patient relaxes, after a moment
    qtbot.keyClick(window, Qt.Key.Key_BracketRight)
    assert slider.value() == 0  # the keys do not fight the exam
    for _ in range(4):  # insertion, three rests: on to the minimal contraction
        qtbot.waitUntil(lambda: exam.runner.status.running, timeout=2000)
        qtbot.keyClick(window, Qt.Key.Key_N)
    qtbot.waitUntil(lambda: exam.runner.status.planned.label == "MIN", timeout=5000)
    qtbot.waitUntil(lambda: slider.value() == 10, timeout=5000)  # the patient tightens very gently
    window.exam.abort()
    qtbot.waitUntil(lambda: slider.isEnabled(), timeout=5000)


def test_the_summary_has_one_format_per_column_every_row_visible_and_words_for_the_checks(qtbot) -> None:
    protocol = load_protocol(protocols_dir() / "needle_one_muscle.toml")
    runner = ExamRunner(build_plan(protocol, [("Deltoid", "L")]), RATE)
    panel = PromptPanel(runner)
    qtbot.addWidget(panel)
    panel.setFixedWidth(400)
    panel.resize(400, 900)
    panel.show()
    rows = [
        SegmentSummary("Deltoid", "L", "REST", 1, 3.0, 10.0, 6.1315, 21.0, None, 0.0, "", "site 1/3"),
        SegmentSummary("Deltoid", "L", "MAX", 1, 40.0, 4.0, 310.26, 2480.0, 412.55, 97.5, "", ""),
        SegmentSummary("Deltoid", "L", "REST", 1, 44.0, 5.0, 3.0, 18.0, None, 0.0, "", ""),
    ]
    panel.show_summary("Deltoid L", rows)
    table = panel.summary_table
    columns = {field: k for k, (field, _, _) in enumerate(SUMMARY_COLUMNS)}
    rms = [table.item(r, columns["rms_uv"]).text() for r in range(3)]
    assert rms == ["6.1", "310.3", "3.0"]  # one format for the column, not "6.1315" beside "3.0"
    assert [table.item(r, columns["median_frequency_hz"]).text() for r in range(3)] == ["", "413", ""]
    last = table.visualItemRect(table.item(2, 0))
    assert table.viewport().rect().contains(last)  # the last row is on screen, not cut off
    reaction = Annotation(round(74.8 * RATE), round(0.277 * RATE), "RT", kind=FLAG, value_ms=277.0)
    assert check_line(reaction, RATE) == "74.8 s  reaction time 277 ms"
    relaxed = Annotation(round(88.2 * RATE), round(0.292 * RATE), "RELAX", kind=FLAG, value_ms=292.0)
    assert check_line(relaxed, RATE) == "88.2 s  relaxed after 292 ms"
    at_rest = Annotation(round(12.0 * RATE), RATE, "CHECK", flags=("activity at rest",), kind=FLAG)
    assert re.fullmatch(r"12\.0 s  activity at rest", check_line(at_rest, RATE))


def test_a_rest_with_no_activity_has_no_median_frequency(tmp_path: Path) -> None:
    """In the summary file too: the median frequency of the noise floor (it read 4440 Hz) means nothing."""
    import csv
    import subprocess
    import sys

    out = tmp_path / "exam.bdf"
    repo = Path(__file__).resolve().parent.parent
    command = [sys.executable, "-m", "emgscope", "record", "--no-settings", "--protocol", "needle_one_muscle"]
    subprocess.run([*command, "--out", str(out)], cwd=repo, check=True, timeout=120, capture_output=True)
    with open(out.with_name("exam_summary.csv"), newline="", encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    quiet = [row for row in rows if row["label"] == "REST" and float(row["active_percent"]) < 1.0]
    assert quiet and all(row["median_frequency_hz"] == "" for row in quiet)
    active = [row for row in rows if row["label"] == "MAX"]
    assert active and float(active[0]["median_frequency_hz"]) > 100


def test_a_new_patient_starts_from_the_study_defaults_and_says_so(qtbot, exam_window, tmp_path: Path) -> None:
    from emgscope.core.settings import RecordingSettings
    from emgscope.recording.session import SessionInfo

    window = exam_window  # the last patient's 20 Hz – 5 kHz band and 50 Hz notch are still on
    window.set_sensitivity(20.0)
    window.set_sweep(10.0)
    controls = window.sessions.record_controls
    controls.start_recording(SessionInfo(patient_id="NEW-1"), RecordingSettings(str(tmp_path), "bdf"))
    assert window.settings.display.sensitivity_uv == 100.0 and window.settings.display.sweep_ms == 100.0
    assert window.settings.filters == FilterSettings()  # the needle preset, no notch: the app's own defaults
    assert window.banner.text.startswith("New patient: the study defaults are set (100 µV/div, 100 ms/div")
    assert window.scope.band_label.text() == "10 Hz – 9 kHz"  # what is applied at 20 kHz
    controls.stop()
    qtbot.waitUntil(lambda: not controls.recording, timeout=5000)

    window.set_sensitivity(50.0)
    window.set_sweep(10.0)
    window.save_study_defaults()  # the operator's own defaults from now on
    window.set_sensitivity(1000.0)
    controls.start_recording(SessionInfo(patient_id="NEW-1"), RecordingSettings(str(tmp_path), "bdf"))
    assert window.settings.display.sensitivity_uv == 1000.0  # the same patient: nothing is reset
    controls.stop()
    qtbot.waitUntil(lambda: not controls.recording, timeout=5000)
    controls.start_recording(SessionInfo(patient_id="NEW-2"), RecordingSettings(str(tmp_path), "bdf"))
    assert (window.settings.display.sensitivity_uv, window.settings.display.sweep_ms) == (50.0, 10.0)
    window.controls.sync()
    assert window.controls.sensitivity.currentText() == "50 µV/div"
    controls.stop()
    qtbot.waitUntil(lambda: not controls.recording, timeout=5000)
