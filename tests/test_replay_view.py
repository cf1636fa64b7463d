"""Replay as the trainee meets it in the real window: where files are looked for, a broken file that changes
nothing, Space that pauses, the loop on the slider, the file's own words, and a record strip that forgets."""

from __future__ import annotations

from pathlib import Path

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QColor
from PyQt6.QtWidgets import QApplication, QFileDialog
from support.window import focus, open_window, wait_connected

from emgscope.core.controls import ReplayControl, SimulatorControl
from emgscope.core.settings import RecordingSettings, Settings
from emgscope.gui.main_window import MainWindow
from emgscope.gui.replay_panel import LOOP_COLOUR
from emgscope.recording.session import SessionInfo


def replay_window(qtbot, path: Path):
    settings = Settings()
    settings.source.kind, settings.source.replay.file = "replay", str(path)
    window = open_window(qtbot, settings)
    wait_connected(qtbot, window)
    return window


def test_open_recording_looks_in_the_sessions_folder(qtbot, tmp_path: Path) -> None:
    settings = Settings()
    settings.recording.sessions_folder = str(tmp_path)
    window = open_window(qtbot, settings)
    seen: list[str] = []

    def look() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QFileDialog):
            seen.append(dialog.directory().absolutePath())
            dialog.reject()
        else:
            QTimer.singleShot(50, look)

    QTimer.singleShot(50, look)
    window.sessions.open_action.trigger()  # the real dialog, closed by the timer once it is up
    assert seen == [str(tmp_path)]


def test_a_broken_file_leaves_the_running_source_and_says_why(qtbot, tmp_path: Path) -> None:
    window = open_window(qtbot, Settings())
    wait_connected(qtbot, window)
    pipeline = window.session.pipeline
    broken = tmp_path / "broken.edf"
    broken.write_bytes(b"0       not an EDF header at all")
    window.sessions.open_recording(broken).join(10)
    qtbot.waitUntil(lambda: "broken.edf" in window.banner.text, timeout=5000)
    assert window.banner.level == "error" and "The running source goes on." in window.banner.text
    assert window.session.pipeline is pipeline and isinstance(window.session.source, SimulatorControl)
    assert window.status.source.text() == "Simulated patient (normal)"
    assert not window.sessions.replay_dock.isVisible()


def test_space_pauses_a_replay_and_the_loop_is_drawn_on_the_slider(qtbot, shared_data: Path) -> None:
    window = replay_window(qtbot, shared_data / "physionet_emgdb" / "emg_healthy.hea")
    source = window.session.source
    assert isinstance(source, ReplayControl)
    panel = window.sessions.replay_panel
    assert panel.play_button.text() == "Pause (Space)"
    qtbot.waitUntil(lambda: window.focusWidget() is window.scope, timeout=2000)  # the keys work at once
    focus(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: source.settled and source.paused, timeout=3000)
    assert not window.controls.freeze_action.isChecked()  # the replay pauses; the picture is not frozen
    qtbot.wait(100)  # what was due before the pause still arrives
    held = window.session.pipeline.raw.write_index
    qtbot.wait(300)
    assert window.session.pipeline.raw.write_index == held
    qtbot.keyClick(window, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: source.settled and not source.paused, timeout=3000)

    panel.loop_start.setValue(4.0)
    panel.loop_end.setValue(6.0)
    panel.loop_button.setChecked(True)
    assert panel.slider.loop == (400, 600)
    image = panel.slider.grab().toImage()
    amber = QColor(LOOP_COLOUR)
    columns = sorted(
        {x for x in range(image.width()) for y in range(image.height()) if image.pixelColor(x, y) == amber}
    )
    width = panel.slider.width()
    assert columns and 0.25 * width < columns[0] and columns[-1] < 0.55 * width  # 4-6 s of 12.7 s


def test_the_files_own_words_are_shown(qtbot, shared_data: Path) -> None:
    window = replay_window(qtbot, shared_data / "physionet_emgdb" / "emg_neuropathy.hea")
    about = window.sessions.replay_panel.about.text()
    assert about.startswith("WFDB, 1 signal(s) at 4000 Hz, 37.0 s.")
    assert "right L5 radiculopathy" in about and "tibialis anterior" in about
    # The 4 kHz band limit, said as a fact about the file (the pump's word may come a moment after the connection's).
    qtbot.waitUntil(lambda: window.banner.text.startswith("This recording was sampled at 4000 Hz"), timeout=10_000)
    assert window.banner.level == "info"


def test_the_record_strip_forgets_the_last_recording_when_a_file_replays(qtbot, tmp_path: Path) -> None:
    window = open_window(qtbot, Settings())
    wait_connected(qtbot, window)
    controls = window.sessions.record_controls
    controls.start_recording(SessionInfo(patient_id="R1"), RecordingSettings(str(tmp_path), "bdf"))
    qtbot.waitUntil(lambda: controls.recorder is not None and controls.recorder.elapsed_s > 1.2, timeout=5000)
    controls.stop()
    qtbot.waitUntil(lambda: not controls.recording, timeout=5000)
    assert controls.fileLabel.text().endswith("_R1.bdf")
    (saved,) = tmp_path.glob("*.bdf")
    window.sessions.open_recording(saved)
    qtbot.waitUntil(lambda: isinstance(window.session.source, ReplayControl), timeout=10_000)
    qtbot.waitUntil(lambda: controls.fileLabel.text() == "not recording", timeout=5000)
    assert controls.elapsedLabel.text() == "--:--.-"


def test_the_transport_buttons_show_their_whole_words(qtbot, shared_data: Path) -> None:
    """In one row with the speed, the dock of a window opened at its own size (1400 px) cut "Pause (Space)" to
    "use (Spac" and "◀ Segment" to "◀ Segmen"."""
    settings = Settings()
    settings.source.kind = "replay"
    settings.source.replay.file = str(shared_data / "physionet_emgdb" / "emg_healthy.hea")
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    window.start()
    wait_connected(qtbot, window)
    panel = window.sessions.replay_panel
    buttons = (panel.play_button, panel.previous_button, panel.next_button)
    qtbot.waitUntil(lambda: panel.isVisible() and all(b.width() > 0 for b in buttons), timeout=5000)
    for button in buttons:
        assert button.width() >= button.sizeHint().width(), button.text()
