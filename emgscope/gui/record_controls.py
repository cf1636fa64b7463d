"""The recording section of the toolbar: Record/Stop (key R), elapsed time, file name, markers and notes.

The view of the session's :class:`~emgscope.session.recording.Recordings`. Everything slow happens elsewhere:
Record opens the session form without blocking (``QDialog.open``), the file is named and created on the recorder's
thread, and the elapsed time is read from the ring's write index on a timer. Number keys 1–9 drop numbered
markers and the note field adds typed text, stamped with the sample being acquired at that moment. What the
recorder reports (started, failed because the disk is full, stopped) comes back through the event bridge;
failures are re-emitted as :attr:`RecordControls.message` for the banner.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QKeySequence, QShortcut
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QWidget

from emgscope.core import events
from emgscope.core.events import Event
from emgscope.core.settings import RecordingSettings
from emgscope.gui.bridge import EventBridge
from emgscope.gui.elided_label import ElidedLabel
from emgscope.gui.session_dialog import SessionDialog
from emgscope.gui.theme import set_style_state
from emgscope.recording import recorder as rec
from emgscope.recording.session import SessionInfo
from emgscope.session.recording import Recordings

REFRESH_MS = 200
IDLE_TIME = "--:--.-"
IDLE_FILE = "not recording"
FILE_NAME_ROOM = "2026-01-01_000000_P000_muscle"
"""What the file name is given room for in the toolbar; a longer name is shortened in the middle."""


class RecordControls(QWidget):
    """Record/Stop, the elapsed time, the file name, markers and notes, over the session's recordings."""

    recording_changed = pyqtSignal(bool)
    new_patient = pyqtSignal()
    """The recording about to start is of another patient than the last one."""
    message = pyqtSignal(str)
    """Something the user must read (a recording that failed, or where a recording was saved)."""

    def __init__(self, recordings: Recordings, bridge: EventBridge, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.recordings = recordings
        self._recorder: rec.Recorder | None = None
        """The recording this strip shows (until its file is closed)."""
        self._dialog: SessionDialog | None = None
        self.recordButton = QPushButton("● Record")
        self.recordButton.setObjectName("recordButton")  # the style sheet colours it while recording
        self.recordButton.setToolTip("Start or stop recording the raw signal (R)")
        self.elapsedLabel = QLabel(IDLE_TIME)
        self.fileLabel = ElidedLabel(IDLE_FILE, FILE_NAME_ROOM)
        self.noteEdit = QLineEdit()
        self.noteEdit.setPlaceholderText("Note, then Enter")
        self.noteEdit.setToolTip("Typed notes become annotations; keys 1–9 drop numbered markers")
        self.noteEdit.setEnabled(False)
        self.noteEdit.setMinimumWidth(self.fontMetrics().horizontalAdvance("M") * 16)
        self.noteEdit.setMaximumWidth(self.fontMetrics().horizontalAdvance("M") * 24)
        self.elapsedLabel.setMinimumWidth(self.fontMetrics().horizontalAdvance("000:00.0 "))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        for widget in (self.recordButton, self.elapsedLabel, self.fileLabel, self.noteEdit):
            layout.addWidget(widget)
        layout.setStretchFactor(self.fileLabel, 1)
        self.recordButton.clicked.connect(self.toggle)
        self.noteEdit.returnPressed.connect(self._add_note)
        self._shortcuts = [self._shortcut("R", self.toggle)]
        for n in range(1, 10):
            self._shortcuts.append(self._shortcut(str(n), lambda n=n: self.add_marker(f"Marker {n}")))
        bridge.event.connect(self._on_event)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self._refresh)

    @property
    def recorder(self) -> rec.Recorder | None:
        return self.recordings.recorder

    @property
    def recording(self) -> bool:
        return self._recorder is not None

    def toggle(self) -> None:
        """Key R and the button: stop a running recording, or ask for the session and start one."""
        if self._recorder is not None:
            self.stop()
        elif self._dialog is None:
            self.ask()

    def ask(self) -> None:
        """Open the session form (non-blocking); OK starts the recording."""
        if self.recordings.pipeline() is None:
            self.message.emit("Connect a source before recording.")
            return
        self._dialog = SessionDialog(self.recordings.session, self.recordings.settings, self.window())
        self._dialog.accepted.connect(self._dialog_accepted)
        self._dialog.finished.connect(self._dialog_closed)
        self._dialog.open()

    def start_recording(self, session: SessionInfo, settings: RecordingSettings) -> None:
        """Record the current stream to a new file named from ``session`` in the sessions folder; a patient other
        than the last one recorded starts from the study defaults (:attr:`new_patient`)."""
        if session.patient_id != self.recordings.session.patient_id and self.recordings.pipeline() is not None:
            self.new_patient.emit()
        recorder = self.recordings.start(session, settings)
        if recorder is None:
            return
        self._recorder = recorder
        self._show_recording(True)
        self.fileLabel.setText("starting…")
        self._timer.start()
        self.recording_changed.emit(True)

    def stop(self) -> None:
        """Ask the recorder to finish (it closes the file on its own thread and reports back)."""
        self.recordings.stop()

    def add_marker(self, text: str) -> None:
        self.recordings.add_marker(text)

    def _add_note(self) -> None:
        self.add_marker(self.noteEdit.text().strip())
        self.noteEdit.clear()

    def _shortcut(self, key: str, slot: Callable[[], None]) -> QShortcut:
        shortcut = QShortcut(QKeySequence(key), self)
        shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
        shortcut.activated.connect(slot)
        return shortcut

    def _dialog_accepted(self) -> None:
        if self._dialog is not None:
            self.start_recording(self._dialog.session(), self._dialog.recording_settings())

    def _dialog_closed(self) -> None:
        if self._dialog is not None:
            self._dialog.deleteLater()
        self._dialog = None

    def _refresh(self) -> None:
        if self._recorder is not None:
            minutes, seconds = divmod(self._recorder.elapsed_s, 60)
            self.elapsedLabel.setText(f"{int(minutes):02d}:{seconds:04.1f}")

    def _on_event(self, event: Event) -> None:
        if event.kind == events.CONNECTED and self._recorder is None:
            self._show_idle()  # a new source: the last recording's name and time belong to the old one
        recorder = self._recorder
        if recorder is None or event.data.get("path") != str(recorder.path or ""):
            return
        if event.kind == rec.RECORDING_STARTED:
            self.fileLabel.setText(Path(event.message).name)
            self.fileLabel.setToolTip(event.message)
        elif event.kind == rec.MARKER_ADDED:
            self.fileLabel.setToolTip(f"{recorder.path}\nlast marker: {event.message}")
        elif event.kind in (rec.RECORDING_STOPPED, rec.RECORDING_FAILED):
            self._recorder = None
            self._timer.stop()
            self._show_recording(False)
            self.message.emit(event.message if event.kind == rec.RECORDING_FAILED else recorder.summary())
            self.recording_changed.emit(False)

    def _show_idle(self) -> None:
        self.elapsedLabel.setText(IDLE_TIME)
        self.fileLabel.setText(IDLE_FILE)
        self.fileLabel.setToolTip("")

    def _show_recording(self, recording: bool) -> None:
        self.recordButton.setText("■ Stop" if recording else "● Record")
        set_style_state(self.recordButton, "recording", recording)
        self.noteEdit.setEnabled(recording)
        if not recording:
            self.noteEdit.clear()
