"""The guided exam's prompt panel: what the patient is asked, what the operator does, and the controls.

A self-contained widget (the main window puts it in a dock): the prompt in type large enough to read across
the room, the operator's instruction below it, a countdown, "step n of m", the muscle and side, the latest
check (activity at rest, no contraction, reaction time), what the rest shows (the spontaneous activity found so
far and the grades it suggests), the summary table of the last muscle, and next / repeat / skip / abort as buttons
and keys.

It observes an :class:`~emgscope.protocol.runner.ExamRunner` through the GUI's event bridge: the runner's bus
may post from any thread, and the bridge's signal reaches the panel on the GUI thread. The countdown is read
from the runner's status (sample clock) by a timer; the panel never reads the wall clock and never waits. An optional
cue at each step change (a beep, or the prompt spoken by espeak-ng where installed) is off by default; speech
runs in its own process, started without waiting for it.
"""

from __future__ import annotations

import shutil

from PyQt6 import sip
from PyQt6.QtCore import QProcess, Qt, QTimer
from PyQt6.QtGui import QFont, QKeySequence, QShortcut
from PyQt6.QtWidgets import (
    QApplication,
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from emgscope.analysis.checks import REACTION_LABEL, RELAX_LABEL
from emgscope.analysis.monitor import MUSCLE_SUMMARY, SPONTANEOUS
from emgscope.analysis.spontaneous.watch import describe
from emgscope.analysis.summary import SegmentSummary
from emgscope.core.events import Event
from emgscope.gui.bridge import EventBridge
from emgscope.protocol.annotation import FLAG, Annotation, label_colour
from emgscope.protocol.runner import ANNOTATION_ADDED, EXAM_FINISHED, STEP_CHANGED, ExamRunner, RunnerStatus

CUE_OFF = "off"
CUE_BEEP = "beep"
CUE_SPEECH = "speech"
REFRESH_MS = 100
"""Countdown refresh: a tenth of a second is what the display shows."""
PROMPT_POINT_SIZE = 40
COUNTDOWN_POINT_SIZE = 34
"""The countdown sits under the prompt nearly as large: the patient holding a contraction reads it across the room."""
KEYS: dict[str, tuple[str, ...]] = {
    "next": ("N", "PgDown"),
    "repeat": ("Shift+R",),
    "skip": ("S",),
    "abort": ("Shift+Esc",),
}
"""Keys for the operator's actions; PgDown is what presentation clickers send, so one works as a foot pedal.
R alone records and the arrow keys change the sweep, so the exam keeps clear of them."""
SUMMARY_COLUMNS = (
    ("label", "Step", "{}"),
    ("duration_s", "s", "{:.1f}"),
    ("rms_uv", "RMS µV", "{:.1f}"),
    ("peak_to_peak_uv", "p-p µV", "{:.0f}"),
    ("median_frequency_hz", "MF Hz", "{:.0f}"),
    ("active_percent", "% active", "{:.0f}"),
    ("flags", "Flags", "{}"),
)
"""Field, column title and the one number format of the column."""
CHECK_WORDS = {REACTION_LABEL: "reaction time", RELAX_LABEL: "relaxed after"}
"""What the checks' short labels (as the recording's annotations carry them) mean, for the panel's line."""


def espeak_available() -> bool:
    return shutil.which("espeak-ng") is not None


class PromptPanel(QWidget):
    """Shows the running step of an exam and sends the operator's actions to the runner."""

    def __init__(self, runner: ExamRunner, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.runner = runner
        self.cue = CUE_OFF
        self._speech: QProcess | None = None
        self._build()
        self._bridge = EventBridge(runner.bus, self)
        self._bridge.event.connect(self._on_event)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self._timer.start()
        self.refresh()

    def _build(self) -> None:
        self.step_label = QLabel()
        self.place_label = QLabel()
        bold = QFont(self.font())
        bold.setPointSizeF(max(12.0, bold.pointSizeF() * 1.3))
        bold.setBold(True)
        for label in (self.step_label, self.place_label):
            label.setFont(bold)
        header = QHBoxLayout()
        header.addWidget(self.step_label)
        header.addWidget(self.place_label, 1, Qt.AlignmentFlag.AlignRight)

        self.countdown_label = QLabel()
        self.countdown_label.setObjectName("examCountdown")
        self.countdown_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.countdown_label.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self._count_font = QFont(self.font())
        self._count_font.setPointSize(COUNTDOWN_POINT_SIZE)
        self._count_font.setBold(True)
        self._wait_font = bold
        """A step that waits for the operator has no count, only a note for the operator: in the header's size."""
        self.countdown_label.setFont(self._count_font)

        self.prompt_label = QLabel()
        self.prompt_label.setWordWrap(True)
        self.prompt_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        big = QFont(self.font())
        big.setPointSize(PROMPT_POINT_SIZE)
        big.setBold(True)
        self.prompt_label.setFont(big)
        self.prompt_label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.instruction_label = QLabel()
        self.instruction_label.setWordWrap(True)
        self.instruction_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        italic = QFont(self.font())
        italic.setPointSizeF(max(11.0, italic.pointSizeF() * 1.2))
        italic.setItalic(True)
        self.instruction_label.setFont(italic)
        self.check_label = QLabel()
        self.check_label.setWordWrap(True)
        self.spontaneous_label = QLabel()
        self.spontaneous_label.setWordWrap(True)
        self.spontaneous_label.setObjectName("examSpontaneous")

        self.buttons: dict[str, QPushButton] = {}
        row = QGridLayout()
        actions = {
            "next": ("Next", self.runner.next),
            "repeat": ("Repeat", self.runner.repeat),
            "skip": ("Skip", self.runner.skip),
            "abort": ("Abort", self.runner.abort),
        }
        for k, (name, (text, action)) in enumerate(actions.items()):
            keys = KEYS[name]
            button = QPushButton(f"{text} ({keys[0]})")
            button.setToolTip(f"{text}: " + ", ".join(keys))
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(lambda _checked=False, act=action: self._act(act))
            row.addWidget(button, k // 2, k % 2)
            self.buttons[name] = button
            for key in keys:
                shortcut = QShortcut(QKeySequence(key), self)
                shortcut.setContext(Qt.ShortcutContext.WindowShortcut)
                shortcut.activated.connect(lambda act=action: self._act(act))
        self.cue_box = QComboBox()
        self.cue_box.addItem("No cue", CUE_OFF)
        self.cue_box.addItem("Beep", CUE_BEEP)
        self.cue_box.addItem("Speak prompt" if espeak_available() else "Speak (espeak-ng not installed)", CUE_SPEECH)
        if not espeak_available():
            self.cue_box.model().item(2).setEnabled(False)
        self.cue_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.cue_box.currentIndexChanged.connect(lambda _i: setattr(self, "cue", self.cue_box.currentData()))
        row.addWidget(self.cue_box, 2, 0, 1, 2)

        self.summary_title = QLabel()
        self.summary_title.setWordWrap(True)
        self.summary_table = QTableWidget(0, len(SUMMARY_COLUMNS))
        self.summary_table.setHorizontalHeaderLabels([title for _, title, _ in SUMMARY_COLUMNS])
        self.summary_table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.summary_table.horizontalHeader().setStretchLastSection(True)
        self.summary_table.verticalHeader().setVisible(False)
        self.summary_table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.summary_table.setVisible(False)
        self.summary_title.setVisible(False)

        layout = QVBoxLayout(self)
        layout.addLayout(header)
        self.colour_bar = QFrame()
        self.colour_bar.setFixedWidth(16)
        self._shown_colour = ""
        prompt_row = QHBoxLayout()
        prompt_row.addWidget(self.colour_bar)
        prompt_column = QVBoxLayout()
        prompt_column.addWidget(self.prompt_label, 1)
        prompt_column.addWidget(self.countdown_label)
        prompt_row.addLayout(prompt_column, 1)
        layout.addLayout(prompt_row, 3)
        layout.addWidget(self.instruction_label, 1)
        layout.addWidget(self.check_label)
        layout.addWidget(self.spontaneous_label)
        layout.addLayout(row)
        layout.addWidget(self.summary_title)
        layout.addWidget(self.summary_table, 2)

    def detach(self) -> None:
        """Stop observing the runner (before the panel is dropped while the runner lives on)."""
        self._bridge.close()
        self._timer.stop()

    def _act(self, action) -> None:
        action()
        self.refresh()

    def refresh(self) -> None:
        """Redraw from the runner's status (the timer calls this; so does every event)."""
        status = self.runner.status
        planned = status.planned
        running = status.running
        for button in self.buttons.values():
            button.setEnabled(running)
        if not status.started:
            self.step_label.setText(f"Step 0 of {status.total}")
            self.prompt_label.setText("Ready")
            self.instruction_label.setText("The exam starts when acquisition runs.")
            self.countdown_label.setText("")
            self.place_label.setText("")
            return
        if planned is None:
            self.step_label.setText(f"Step {min(status.index, status.total)} of {status.total}")
            self.prompt_label.setText("Exam aborted" if status.aborted else "Exam finished")
            self.instruction_label.setText("")
            self.countdown_label.setText("")
            self._colour("#777777")
            return
        repeat = f" ({planned.repeat_text})" if planned.repeat_text else ""
        attempt = f", attempt {status.attempt}" if status.attempt > 1 else ""
        self.step_label.setText(f"Step {status.index + 1} of {status.total}: {planned.label}{repeat}{attempt}")
        self.place_label.setText(" ".join(part for part in (planned.muscle, planned.side) if part))
        self.prompt_label.setText(planned.step.prompt or planned.label)
        self.instruction_label.setText(planned.step.instruction)
        remaining = status.remaining_s(self.runner.sample_rate)
        self.countdown_label.setFont(self._wait_font if remaining is None else self._count_font)
        self.countdown_label.setText("until you advance" if remaining is None else f"{remaining:4.1f} s")
        self._colour(label_colour(planned.label))

    def _colour(self, colour: str) -> None:
        """The label's colour (the same as its band on the scope) in a bar beside the prompt."""
        if colour != self._shown_colour:
            self._shown_colour = colour
            self.colour_bar.setStyleSheet(f"background-color: {colour};")

    def _on_event(self, event: Event) -> None:
        if event.kind == STEP_CHANGED:
            self._cue(event.data["status"])
            self.check_label.setText("")
            planned = event.data["status"].planned
            if planned is not None and planned.label == "INS":
                self.spontaneous_label.setText("")
        elif event.kind == SPONTANEOUS:
            self.spontaneous_label.setText(describe(event.data["result"]))
        elif event.kind == ANNOTATION_ADDED and event.data["annotation"].kind == FLAG:
            self.check_label.setText(check_line(event.data["annotation"], self.runner.sample_rate))
        elif event.kind == MUSCLE_SUMMARY:
            self.show_summary(event.message, event.data.get("rows", []))
        elif event.kind == EXAM_FINISHED:
            self._cue(event.data["status"])
        self.refresh()

    def show_summary(self, title: str, rows: list[SegmentSummary]) -> None:
        """Fill the table with a finished muscle's segments."""
        self.summary_title.setText(f"Summary: {title}" if title else "Summary")
        table = self.summary_table
        table.setRowCount(len(rows))
        for r, row in enumerate(rows):
            for c, (field, _, number_format) in enumerate(SUMMARY_COLUMNS):
                item = QTableWidgetItem(_cell(row, field, number_format))
                if number_format != "{}":
                    item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                table.setItem(r, c, item)
        table.resizeRowsToContents()
        # Tall enough for every row: the last one is never hidden behind a scroll bar.
        rows_height = sum(table.rowHeight(r) for r in range(len(rows)))
        scroll = table.horizontalScrollBar().sizeHint().height()
        table.setFixedHeight(table.horizontalHeader().height() + rows_height + scroll + 2 * table.frameWidth())
        self.summary_title.setVisible(True)
        table.setVisible(True)

    def _cue(self, status: RunnerStatus) -> None:
        if self.cue == CUE_BEEP:
            QApplication.beep()
        elif self.cue == CUE_SPEECH and status.planned is not None and status.planned.step.prompt:
            if self._speech is not None and not sip.isdeleted(self._speech):
                self._speech.kill()  # a new prompt interrupts the old one; its finished signal deletes it
            speech = QProcess(self)
            speech.finished.connect(speech.deleteLater)
            speech.start("espeak-ng", [status.planned.step.prompt])
            self._speech = speech


def check_line(annotation: Annotation, sample_rate: float) -> str:
    """A check in words a technician reads at a glance: ``74.8 s  reaction time 277 ms``."""
    seconds = annotation.onset / sample_rate
    words = CHECK_WORDS.get(annotation.label)
    if words is not None and annotation.value_ms is not None:
        text = f"{words} {annotation.value_ms:.0f} ms"
    else:
        text = ", ".join(annotation.flags) or annotation.label
    return f"{seconds:.1f} s  {text}"


def _cell(row: SegmentSummary, field: str, number_format: str) -> str:
    """A summary table cell in its column's format; the step names its site (``REST site 2/3``) so repeated rests
    can be told apart; a value that means nothing (no activity to take a median frequency of) stays empty."""
    if field == "label" and row.repeat:
        return f"{row.label} {row.repeat}"
    value = getattr(row, field)
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return number_format.format(value)
