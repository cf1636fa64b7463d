"""MUP analysis in the real window, offscreen: live, while recording, in replay, cancelled, and refused in one sentence.

The sources are real: the simulated patient in the acquisition process, BrainFlow's synthetic board, recordings
written by ``emgscope record --protocol`` and by the app's own BDF+ writer, and the PhysioNet needle records.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from support.window import activate, open_window, wait_connected

from emgscope.acquisition.simulator import SimulatedPatient
from emgscope.analysis.muap.sidecar import load_analyses, sidecar_path
from emgscope.core.settings import RecordingSettings, Settings, SimulatorSettings
from emgscope.core.units import counted
from emgscope.gui.main_window import MainWindow
from emgscope.gui.muap_panel import TABLE_COLUMNS
from emgscope.recording.edfplus import make_layout
from emgscope.recording.session import SessionInfo
from emgscope.recording.writer import EdfPlusWriter
from emgscope.replay.reader import open_recording
from emgscope.session.muap import LIVE, REPLAY, SAVED, MuapResult

REPO = Path(__file__).resolve().parent.parent
RATE = 20_000.0
REMARKS = TABLE_COLUMNS.index("Remarks")


def simulated(effort: float = 15.0, pathology: str = "normal", seed: int = 11) -> Settings:
    settings = Settings()
    simulator = settings.source.simulator
    simulator.pathology, simulator.effort_percent, simulator.channels, simulator.seed = pathology, effort, 1, seed
    return settings


def replaying(path: Path) -> Settings:
    settings = Settings()
    settings.source.kind, settings.source.replay.file = "replay", str(path)
    return settings


def press_a(qtbot, window: MainWindow) -> None:
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_A)


def analyse(qtbot, window: MainWindow, timeout_ms: int = 20_000) -> MuapResult:
    """Key A, and the result the panel then shows."""
    before = len(window.muap.results)
    press_a(qtbot, window)
    qtbot.waitUntil(lambda: len(window.muap.results) > before, timeout=timeout_ms)
    return window.muap.results[-1]


def refused(qtbot, window: MainWindow) -> str:
    """Key A where no result can come: the banner's sentence (in place of whatever it said before)."""
    before = window.bannerLabel.text() if window.bannerFrame.isVisible() else ""
    press_a(qtbot, window)
    qtbot.waitUntil(lambda: window.bannerFrame.isVisible() and window.bannerLabel.text() != before, timeout=20_000)
    assert window.banner.level == "warning"
    assert window.muap.results == []
    return window.bannerLabel.text()


@pytest.fixture(scope="module")
def exam_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A whole guided exam of tibialis anterior on the simulated patient, written headless by ``emgscope record``."""
    out = tmp_path_factory.mktemp("exam") / "exam.bdf"
    command = [sys.executable, "-m", "emgscope", "record", "--no-settings", "--protocol", "needle_one_muscle"]
    result = subprocess.run(
        [*command, "--out", str(out), "--seed", "3"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return out


def copy_of(path: Path, folder: Path) -> Path:
    """A recording copied (with its WFDB signal file) where a results file may be written beside it."""
    for part in path.parent.glob(path.stem + ".*"):
        shutil.copy(part, folder / part.name)
    return folder / path.name


def test_analysing_the_last_5_s_live_shows_the_units_in_the_docked_panel(qtbot) -> None:
    window = open_window(qtbot, simulated())
    wait_connected(qtbot, window)
    raw = window.pipeline.raw
    qtbot.waitUntil(lambda: raw.write_index >= 5.5 * RATE, timeout=15_000)
    assert not window.muap.dock.isVisible()
    asked_at = raw.write_index
    result = analyse(qtbot, window)
    site = result.site
    assert result.origin == LIVE and result.recording is None
    assert result.note == "Not saved: no recording was running (press R to record, then analyse)."
    assert site.samples == 5 * RATE and site.channel_label == "Needle 1"
    assert 0 <= site.start_index + site.samples - asked_at < 0.1 * RATE  # the newest 5 s when A was pressed
    assert len(site.units) >= 2
    for unit in site.units:
        assert 4.0 <= unit.firing.rate_hz <= 25.0  # weak effort: units near their onset rates (QEMG §5)
        assert site.start_index <= unit.discharges.min() and unit.discharges.max() < site.start_index + site.samples
    panel = window.muap.panel
    assert window.muap.dock.isVisible() and panel.site is site
    assert panel.table.rowCount() == len(site.units) == len(panel.plots)
    assert window.muap.chooser.currentText() == result.title
    assert window.statusbar.currentMessage() == f"MUP analysis of Needle 1: {len(site.units)} units. {result.note}"
    assert window.muap.note.text() == result.note


def test_results_while_recording_are_saved_annotated_and_reopen_with_the_edits(qtbot, tmp_path: Path) -> None:
    window = open_window(qtbot, simulated(seed=12))
    wait_connected(qtbot, window)
    controls = window.sessions.record_controls
    controls.start_recording(SessionInfo(patient_id="MUP1", muscle="Deltoid"), RecordingSettings(str(tmp_path)))
    qtbot.waitUntil(lambda: controls.recorder is not None and controls.recorder.elapsed_s > 5.5, timeout=15_000)
    recorder = controls.recorder
    result = analyse(qtbot, window)
    site = result.site
    path = recorder.path
    assert result.recording == path and result.note == f"Saved in {path.name}.muap.json."
    assert site.muscle == "Deltoid"  # from the session form
    # Numbered in the recording's samples, not the stream's.
    assert 0 < site.start_index < (recorder.elapsed_s - 5) * RATE + 0.1 * RATE
    (saved,) = load_analyses(path)
    assert (saved.start_index, saved.samples, len(saved.units)) == (site.start_index, site.samples, len(site.units))

    # The clinician rejects the first unit: kept, marked, saved.
    panel = window.muap.panel
    panel.table.selectRow(0)
    qtbot.mouseClick(panel.reject_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: load_analyses(path)[0].edits != (), timeout=5000)
    (edited,) = load_analyses(path)
    assert edited.units[0].rejected and edited.units[0].edited == ("rejected",)
    assert [e.action for e in edited.edits] == ["reject"]
    controls.stop()
    qtbot.waitUntil(lambda: not controls.recording, timeout=10_000)

    # The recording sums the analysis up in one annotation over the segment.
    recording = open_recording(path)
    (note,) = [a for a in recording.annotations if a.text.startswith("MUP analysis")]
    assert note.onset_s == pytest.approx(site.start_s, abs=1 / RATE)
    assert note.duration_s == pytest.approx(5.0, abs=1 / RATE)
    assert note.text.startswith(f"MUP analysis Needle 1: {counted(len(site.units), 'unit')}")

    # Replayed, the recording brings its results back, the clinician's rejection with them.
    replay = open_window(qtbot, replaying(path))
    qtbot.waitUntil(lambda: len(replay.muap.results) == 1, timeout=15_000)
    reopened = replay.muap.results[0]
    assert reopened.origin == SAVED and reopened.recording == path
    assert [u.id for u in reopened.site.units] == [u.id for u in site.units]
    assert reopened.site.units[0].rejected
    assert replay.muap.dock.isVisible() and replay.muap.panel.site is reopened.site
    assert "rejected" in replay.muap.panel.table.item(0, REMARKS).text()
    assert replay.statusbar.currentMessage() == f"MUP results reopened from {path.name}.muap.json"


def test_the_range_chosen_in_replay_is_analysed_from_the_file_and_kept_beside_it(
    qtbot, exam_file: Path, tmp_path: Path
) -> None:
    path = copy_of(exam_file, tmp_path)
    window = open_window(qtbot, replaying(path))
    wait_connected(qtbot, window)
    panel = window.sessions.replay_panel
    items = [panel.annotation_list.item(k) for k in range(panel.annotation_list.count())]
    (minimal,) = [item for item in items if item.text().split("  ", 1)[1].startswith("MIN ")]
    rect = panel.annotation_list.visualItemRect(minimal)
    qtbot.mouseClick(panel.annotation_list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    assert (panel.loop_start.value(), panel.loop_end.value()) == (33.0, 39.0)  # the MIN step of the exam
    assert window.muap.analyse_action.text() == "&Analyse the chosen range"
    result = analyse(qtbot, window)
    site = result.site
    assert result.origin == REPLAY and result.recording == path
    assert (site.start_s, site.samples) == (33.0, 6 * RATE)
    assert site.muscle == "Tibialis anterior"  # named by the exam's segment in the file
    assert len(site.units) >= 2
    assert [a.start_index for a in load_analyses(path)] == [site.start_index]

    # An edited segment is not analysed over: asked again, the saved result comes back with its edit.
    window.muap.panel.table.selectRow(0)
    qtbot.mouseClick(window.muap.panel.reject_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: load_analyses(path)[0].edits != (), timeout=5000)
    again = analyse(qtbot, window)
    assert again.note == "Analysed and edited before: the saved result is shown, with the clinician's edits."
    assert again.site.units[0].rejected and len(load_analyses(path)) == 1


def test_a_4_khz_record_is_analysed_with_the_loss_of_precision_said(qtbot, shared_data: Path, tmp_path: Path) -> None:
    path = copy_of(shared_data / "physionet_emgdb/emg_healthy.hea", tmp_path)
    window = open_window(qtbot, replaying(path))
    wait_connected(qtbot, window)
    window.sessions.replay_panel.loop_start.setValue(0.0)
    window.sessions.replay_panel.loop_end.setValue(10.0)
    result = analyse(qtbot, window)
    assert result.site.sample_rate_hz == 4000.0 and len(result.site.units) >= 2
    assert result.site.notes[0].startswith(
        "Sampled at 4 kHz, the signal holds nothing above 1.8 kHz: spikes are rounded"
    )
    assert result.site.notes[0] in window.muap.panel.summary.text()
    assert sidecar_path(path).exists()


def test_cancelling_an_analysis(qtbot, shared_data: Path, tmp_path: Path) -> None:
    path = copy_of(shared_data / "physionet_emgdb/emg_neuropathy.hea", tmp_path)
    window = open_window(qtbot, replaying(path))
    wait_connected(qtbot, window)
    duration = window.session.source.duration_s
    assert duration > 30  # long enough that the analysis is still running when it is cancelled
    window.sessions.replay_panel.loop_start.setValue(0.0)
    window.sessions.replay_panel.loop_end.setValue(duration)
    press_a(qtbot, window)
    qtbot.waitUntil(lambda: window.muap.cancel_action.isEnabled(), timeout=5000)
    message = window.statusbar.currentMessage()
    assert message.endswith(" (Esc cancels)")
    assert message == "Reading the recording… (Esc cancels)" or message.startswith(
        f"Analysing EMG from 0.0 to {duration:.1f} s of emg_neuropathy.hea…"
    )
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: window.statusbar.currentMessage() == "The MUP analysis was cancelled.", timeout=10_000)
    assert window.muap.results == [] and not window.session.muap.running
    assert not window.muap.cancel_action.isEnabled()
    assert not sidecar_path(path).exists()


def test_a_segment_too_short_gets_one_sentence(qtbot, exam_file: Path, tmp_path: Path) -> None:
    window = open_window(qtbot, replaying(copy_of(exam_file, tmp_path)))
    wait_connected(qtbot, window)
    window.sessions.replay_panel.loop_start.setValue(34.0)
    window.sessions.replay_panel.loop_end.setValue(34.5)
    assert refused(qtbot, window) == (
        "The segment is 0.5 s long: choose at least 1 s of weak contraction (5 s is usual) so each unit fires more "
        "than 5 times."
    )


def test_a_segment_of_rest_is_all_noise(qtbot, exam_file: Path, tmp_path: Path) -> None:
    window = open_window(qtbot, replaying(copy_of(exam_file, tmp_path)))
    wait_connected(qtbot, window)
    window.sessions.replay_panel.loop_start.setValue(5.0)  # the first rest site of a normal muscle
    window.sessions.replay_panel.loop_end.setValue(12.0)
    assert refused(qtbot, window) == (
        "No motor unit potential stands out of the background (all noise): check that the needle is in the muscle "
        "and ask for a slightly stronger contraction."
    )


def test_a_clipped_recording_gets_one_sentence(qtbot, tmp_path: Path) -> None:
    """A neurogenic muscle recorded with an input range of ±400 µV: its giant potentials are cut off."""
    patient = SimulatedPatient(SimulatorSettings("neurogenic", 30.0, RATE, 1, 4))
    samples = patient.generate(round(4 * RATE))
    path = tmp_path / "clipped.bdf"
    writer = EdfPlusWriter(path, make_layout(True, ("Needle 1",), RATE, 400.0), "X", "Y", datetime(2024, 1, 1))
    writer.write(samples.astype(np.float32))
    writer.close()
    assert writer.clipped_samples > 0
    window = open_window(qtbot, replaying(path))
    wait_connected(qtbot, window)
    sentence = refused(qtbot, window)
    share = int(sentence.split("%", 1)[0])
    assert share == pytest.approx(100 * writer.clipped_samples / samples.size, abs=2)  # a fifth of the time at ±400 µV
    assert sentence == (
        f"{share}% of the samples reach the input range's limit (-0.4 to 0.4 mV) and are clipped: lower the gain or "
        "widen the input range, and record again."
    )


def test_a_250_hz_board_is_refused_with_the_reason(qtbot) -> None:
    settings = Settings()
    settings.source.kind, settings.source.brainflow.board = "brainflow", "SYNTHETIC_BOARD"
    window = open_window(qtbot, settings)
    wait_connected(qtbot, window)
    assert window.pipeline.info.sample_rate == 250.0
    assert refused(qtbot, window) == (
        "A 250 Hz signal cannot be analysed for motor unit potentials: their spikes hold their energy at 1-2.4 kHz, "
        "and sampling needs at least 2 kHz to carry any of it (20 kHz to carry all of it)."
    )
