"""The session form and the record controls, as real widgets (offscreen), recording a real ring to a real file."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QMainWindow
from support.pixels import rgb

from emgscope.acquisition.pump import Pipeline
from emgscope.core.events import EventBus
from emgscope.core.ring import SampleRing
from emgscope.core.settings import FilterSettings, RecordingSettings
from emgscope.core.source import StreamInfo
from emgscope.dsp.filters import FilterBank
from emgscope.gui.bridge import EventBridge
from emgscope.gui.record_controls import RecordControls
from emgscope.gui.session_dialog import SessionDialog
from emgscope.recording.session import SessionInfo, load_muscles
from emgscope.replay.recent import load_recent
from emgscope.session.recording import Recordings

pytestmark = pytest.mark.timeout(60)
"""The recorder writes on its own thread: a hang fails its own test."""

RATE = 4000.0


def test_muscle_list_ships_with_the_app() -> None:
    muscles = load_muscles()
    assert len(muscles) >= 40
    assert "Tibialis anterior" in muscles and "First dorsal interosseous" in muscles
    assert not any(m.startswith("#") for m in muscles)


def test_session_form_requires_a_patient_id_and_reads_back_every_field(qtbot, tmp_path: Path) -> None:
    dialog = SessionDialog(SessionInfo(operator="TN"), RecordingSettings(str(tmp_path), "edf"))
    qtbot.addWidget(dialog)
    dialog.accept()
    assert "patient ID is required" in dialog.problemLabel.text()
    assert dialog.result() == 0
    assert dialog.muscleCombo.count() >= 40
    qtbot.keyClicks(dialog.patientIdEdit, "P-17")
    dialog.nameEdit.setText("Ana Ruiz")
    dialog.birthdateCheck.setChecked(True)
    dialog.birthdateEdit.setDate(date(1970, 5, 6))
    dialog.sexCombo.setCurrentIndex(dialog.sexCombo.findData("F"))
    dialog.muscleCombo.setCurrentText("Deltoid")
    dialog.sideCombo.setCurrentIndex(dialog.sideCombo.findData("right"))
    dialog.notesEdit.setPlainText("follow-up")
    dialog.accept()
    assert dialog.result() == 1
    session = dialog.session()
    assert (session.patient_id, session.name, session.birthdate, session.sex) == (
        "P-17",
        "Ana Ruiz",
        date(1970, 5, 6),
        "F",
    )
    assert (session.operator, session.muscle, session.side, session.notes) == ("TN", "Deltoid", "right", "follow-up")
    assert dialog.recording_settings() == RecordingSettings(str(tmp_path), "edf")


def record_controls(pipeline, settings: RecordingSettings) -> RecordControls:
    """The strip over the session's recordings, their events crossing the real Qt bridge as in the window."""
    bus = EventBus()
    recordings = Recordings(bus, settings, pipeline, FilterSettings)
    bridge = EventBridge(bus)
    bridge.event.connect(recordings.handle)
    return RecordControls(recordings, bridge)


@pytest.fixture
def window_with_controls(qtbot, tmp_path: Path):
    ring = SampleRing(2, int(RATE * 10))
    info = StreamInfo(RATE, ("EMG1", "EMG2"), "test signal", device="test")
    pipeline = Pipeline(info, ring, SampleRing(2, 10), FilterBank(FilterSettings(), RATE, 2))
    window = QMainWindow()
    controls = record_controls(lambda: pipeline, RecordingSettings(str(tmp_path)))
    window.setCentralWidget(controls)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window, controls, ring


def test_record_controls_record_markers_and_notes_to_a_named_file(qtbot, tmp_path: Path, window_with_controls) -> None:
    import pyedflib

    window, controls, ring = window_with_controls
    messages: list[str] = []
    controls.message.connect(messages.append)
    controls.start_recording(
        SessionInfo(patient_id="P5", muscle="Deltoid", side="left"), RecordingSettings(str(tmp_path))
    )
    assert controls.recording and controls.recordButton.text() == "■ Stop"
    block = np.ones((2, 400), dtype=np.float32)
    for i in range(10):
        ring.write(block * i)
        if i == 3:
            qtbot.keyClick(window, Qt.Key.Key_3)
        if i == 6:
            qtbot.keyClicks(controls.noteEdit, "fasciculation")
            controls.noteEdit.insert(" – µ")  # QTest types ASCII only
            qtbot.keyClick(controls.noteEdit, Qt.Key.Key_Return)
        qtbot.wait(20)
    qtbot.waitUntil(lambda: controls.fileLabel.text().endswith(".bdf"), timeout=10_000)
    assert controls.fileLabel.text().endswith("_P5_deltoid-left.bdf")
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_R)  # R stops
    qtbot.waitUntil(lambda: not controls.recording, timeout=10_000)
    assert controls.recordButton.text() == "● Record"
    files = list(tmp_path.glob("*.bdf"))
    assert len(files) == 1
    assert messages and messages[-1] == f"Saved 1.0 s (2 channels at 4000 Hz) to {files[0]}"
    assert load_recent() == [files[0].resolve()]  # the session just saved is one click away
    reader = pyedflib.EdfReader(str(files[0]))
    try:
        assert reader.getNSamples()[0] == 4000
        onsets, _, texts = reader.readAnnotations()
    finally:
        reader.close()
    texts = list(texts)
    assert "Marker 3" in texts and "fasciculation – µ" in texts
    assert onsets[texts.index("Marker 3")] == pytest.approx(0.4, abs=0.001)
    assert onsets[texts.index("fasciculation – µ")] == pytest.approx(0.7, abs=0.001)


def test_the_file_name_is_shortened_in_the_middle_and_recording_reads_white_on_red(
    qtbot, themed, tmp_path: Path, window_with_controls
) -> None:
    window, controls, ring = window_with_controls
    window.resize(560, 40)  # narrower than the file name
    button = controls.recordButton
    assert red_share(rgb(button)) == 0.0
    session = SessionInfo(patient_id="P5", muscle="Extensor digitorum communis", side="left")
    controls.start_recording(session, RecordingSettings(str(tmp_path)))
    ring.write(np.zeros((2, 400), dtype=np.float32))
    qtbot.waitUntil(lambda: controls.fileLabel.text().endswith(".bdf"), timeout=3000)
    label = controls.fileLabel
    name, shown = label.text(), label.shown_text()
    assert name.endswith("_P5_extensor-digitorum-communis-left.bdf")
    assert label.toolTip() == str(controls.recorder.path)  # the full path
    assert "…" in shown and len(shown) < len(name)
    head, tail = shown.split("…")
    assert name.startswith(head) and name.endswith(tail) and len(head) >= 6 and len(tail) >= 6
    assert label.fontMetrics().horizontalAdvance(shown) <= label.contentsRect().width()

    pixels = rgb(button)
    assert red_share(pixels) > 0.5, "a red button while recording"
    white = (pixels.min(axis=-1) > 220).sum()
    assert white >= 25, f"white text on it ({white} white pixels)"
    controls.stop()
    qtbot.waitUntil(lambda: not controls.recording, timeout=5000)
    assert red_share(rgb(button)) == 0.0


def red_share(pixels: np.ndarray) -> float:
    return float(((pixels[..., 0] > 170) & (pixels[..., 1] < 80) & (pixels[..., 2] < 80)).mean())


def test_record_without_a_source_says_so(qtbot, tmp_path: Path) -> None:
    controls = record_controls(lambda: None, RecordingSettings(str(tmp_path)))
    qtbot.addWidget(controls)
    with qtbot.waitSignal(controls.message) as signal:
        controls.toggle()
    assert signal.args == ["Connect a source before recording."]
    assert not controls.recording
