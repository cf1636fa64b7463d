"""The replay panel: play/pause, position slider and time field, speed, loop range, annotation list.

A plain widget, so the window docks it like any other part (``MainWindow.add_dock("Replay", panel)``).

It drives the replay the pump is running, through its proxy in the acquisition process
(:class:`~emgscope.acquisition.proxy.ReplayProxy`): a control call sends a command and every property is read
from the latest state the process published, so nothing here waits on the file or the pump. The position is
pulled on a timer (10 Hz), never pushed per chunk.

A replay that reached the end has stopped its pump (the source raised ``SourceEnded``); pressing play or
seeking then emits :attr:`ReplayPanel.restart_requested` with the position wanted, for the window to start a new
pump on a new source.

:class:`ReplayBands` shows the file's segment annotations as bands on the scope: the ring index keeps counting
while the file position jumps (seek, loop), so each continuous stretch of :attr:`ReplaySource.segments` maps the
file's annotations onto ring indices of its own.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from pathlib import Path

from PyQt6.QtCore import QObject, QRectF, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QColor, QPainter, QPaintEvent
from PyQt6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSlider,
    QStyle,
    QStyleOptionSlider,
    QVBoxLayout,
    QWidget,
)

from emgscope.core.controls import ReplayControl
from emgscope.gui.scope_items import LANE_MARKER, MARKER_COLOUR, Band, lane_for
from emgscope.protocol.annotation import label_colour
from emgscope.replay.reader import Annotation
from emgscope.replay.recent import load_recent

SPEEDS = (0.25, 0.5, 1.0, 2.0, 4.0)
SLIDER_STEPS_PER_S = 100
PLAY_KEY = "Space"
"""While a recording replays, Space plays and pauses it (the window routes the key here)."""
LOOP_COLOUR = "#ffd24a"
LOOP_MARK_PX = 3
REFRESH_MS = 100
NEXT_EPSILON_S = 0.05
"""'Next segment' skips annotations this close after the play head, so pressing it twice moves on."""
FILE_FILTER = (
    "Recordings (*.edf *.EDF *.bdf *.BDF *.rec *.hea *.dat *.csv *.txt);;EDF/BDF (*.edf *.bdf *.rec);;"
    "PhysioNet WFDB (*.hea);;BrainFlow data file (*.csv *.txt);;All files (*)"
)
"""For the window's "Open recording…" file dialog: every format :func:`~emgscope.replay.reader.open_recording` reads."""
_TIME = re.compile(r"\s*(?:(\d+):)?(?:(\d+):)?(\d+(?:\.\d*)?)\s*s?\s*")


def format_time(seconds: float) -> str:
    """``m:ss.s`` (or ``h:mm:ss.s``): the way a reader of a recording counts time."""
    seconds = max(seconds, 0.0)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours >= 1:
        return f"{int(hours)}:{int(minutes):02d}:{secs:04.1f}"
    return f"{int(minutes)}:{secs:04.1f}"


def parse_time(text: str) -> float | None:
    """Seconds from ``"83.5"``, ``"1:23.5"`` or ``"0:01:23.5"``; ``None`` when the text is not a time."""
    match = _TIME.fullmatch(text)
    if not match:
        return None
    first, second, secs = match.groups()
    if second is not None:
        return int(first) * 3600 + int(second) * 60 + float(secs)
    return (int(first) * 60 if first else 0) + float(secs)


def fill_recent_menu(menu: QMenu, open_file: Callable[[Path], None]) -> None:
    """Rebuild ``menu`` with the recent recordings (call it from ``menu.aboutToShow``): one click reopens one."""
    menu.clear()
    recent = load_recent()
    if not recent:
        menu.addAction("(no recent recordings)").setEnabled(False)
    for path in recent:
        action = menu.addAction(path.name)
        action.setToolTip(str(path))
        action.triggered.connect(lambda _checked=False, p=path: open_file(p))


class ReplayPanel(QWidget):
    """Controls one replay; disabled while nothing is replayed."""

    restart_requested = pyqtSignal(float)
    """The replay ended and the user asked to play from this position (seconds): start a new pump."""
    seeked = pyqtSignal(float)
    """The user moved the play head to this file time (the display may clear its sweep)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("replayPanel")
        self.source: ReplayControl | None = None
        self._annotations: list[Annotation] = []
        self._dragging = False
        self._asked_s = 0.0
        """The position last sought (what a jump counts from until the replay has applied it)."""

        self.body = QWidget()
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.body)
        layout = QVBoxLayout(self.body)
        transport = QHBoxLayout()
        self.play_button = QPushButton(f"Pause ({PLAY_KEY})")
        self.play_button.setCheckable(True)
        self.play_button.setChecked(True)
        self.play_button.setToolTip(f"Play / pause the replay ({PLAY_KEY}); Freeze stops only the picture")
        self.play_button.toggled.connect(self._play_toggled)
        self.previous_button = QPushButton("◀ Segment")
        self.previous_button.setToolTip("Jump to the previous labelled segment")
        self.previous_button.clicked.connect(lambda: self.jump_segment(-1))
        self.next_button = QPushButton("Segment ▶")
        self.next_button.setToolTip("Jump to the next labelled segment")
        self.next_button.clicked.connect(lambda: self.jump_segment(1))
        self.speed_combo = QComboBox()
        for speed in SPEEDS:
            self.speed_combo.addItem(f"{speed:g}×", speed)
        self.speed_combo.setCurrentIndex(SPEEDS.index(1.0))
        self.speed_combo.setToolTip("Replay speed")
        self.speed_combo.currentIndexChanged.connect(self._speed_changed)
        for button in (self.play_button, self.previous_button, self.next_button, self.speed_combo):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Space and the arrows belong to the window's keys
        for widget in (self.play_button, QLabel("Speed"), self.speed_combo):
            transport.addWidget(widget)
        transport.addStretch(1)
        layout.addLayout(transport)
        segments = QHBoxLayout()  # a row of their own: in one row with the others the dock cut their words
        for widget in (self.previous_button, self.next_button):
            segments.addWidget(widget)
        segments.addStretch(1)
        layout.addLayout(segments)

        position = QHBoxLayout()
        self.slider = LoopSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.setToolTip("Position in the recording")
        self.slider.sliderPressed.connect(self._slider_pressed)
        self.slider.sliderReleased.connect(self._slider_released)
        self.time_edit = QLineEdit("0:00.0")
        self.time_edit.setToolTip("Position: seconds, m:ss or h:mm:ss; Enter jumps there")
        self.time_edit.setMaximumWidth(100)
        self.time_edit.returnPressed.connect(self._time_entered)
        self.duration_label = QLabel("/ 0:00.0")
        position.addWidget(self.slider, 1)
        position.addWidget(self.time_edit)
        position.addWidget(self.duration_label)
        layout.addLayout(position)

        loop = QGridLayout()
        self.loop_start = QDoubleSpinBox()
        self.loop_end = QDoubleSpinBox()
        for box in (self.loop_start, self.loop_end):
            box.setDecimals(2)
            box.setSuffix(" s")
            box.valueChanged.connect(self._loop_range_changed)
        self.loop_button = QPushButton("Loop")
        self.loop_button.setCheckable(True)
        self.loop_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.loop_button.setToolTip("Repeat the range; selecting an annotation with a duration fills it in")
        self.loop_button.toggled.connect(self._loop_toggled)
        loop.addWidget(QLabel("Loop from"), 0, 0)
        loop.addWidget(self.loop_start, 0, 1)
        loop.addWidget(QLabel("to"), 0, 2)
        loop.addWidget(self.loop_end, 0, 3)
        loop.addWidget(self.loop_button, 0, 4)
        layout.addLayout(loop)

        self.annotation_list = QListWidget()
        self.annotation_list.setToolTip("Click an annotation to jump to it")
        self.annotation_list.itemClicked.connect(self._annotation_clicked)
        layout.addWidget(self.annotation_list, 1)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.about = QLabel("")
        self.about.setObjectName("replayAbout")
        self.about.setWordWrap(True)
        self.about.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.about)

        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.set_source(None)

    # --- wiring -----------------------------------------------------------------------------------------

    def set_source(self, source: ReplayControl | None) -> None:
        """Control ``source`` (already opened by the pump: its recording is known) or nothing."""
        self.source = source
        enabled = source is not None and source.facts is not None
        self.body.setEnabled(enabled)
        self.annotation_list.clear()
        self._annotations = []
        if not enabled or source is None or source.facts is None:
            self._timer.stop()
            self.message.setText("No recording is being replayed.")
            return
        duration = source.duration_s
        self.slider.setRange(0, max(1, round(duration * SLIDER_STEPS_PER_S)))
        self.duration_label.setText(f"/ {format_time(duration)}")
        for box in (self.loop_start, self.loop_end):
            box.setRange(0.0, duration)
        self.loop_start.setValue(0.0)
        self.loop_end.setValue(duration)
        self.loop_button.setChecked(False)
        self.speed_combo.setCurrentIndex(min(range(len(SPEEDS)), key=lambda i: abs(SPEEDS[i] - source.speed)))
        self.play_button.setChecked(not source.paused)
        self._annotations = list(source.facts.annotations)
        for a in self._annotations:
            span = f" ({a.duration_s:g} s)" if a.duration_s > 0 else ""
            item = QListWidgetItem(f"{format_time(a.onset_s)}  {a.text}{span}")
            item.setToolTip(a.text)  # long texts (device, filters, notes) are cut off by the dock's width
            item.setData(Qt.ItemDataRole.UserRole, a)
            if a.duration_s > 0:
                item.setData(Qt.ItemDataRole.DecorationRole, QColor(label_colour(annotation_label(a.text))))
            self.annotation_list.addItem(item)
        self.message.setText(source.facts.path.name)
        self.about.setText(source.facts.about)
        self.slider.set_loop(None)
        self._timer.start()
        self.refresh()

    def refresh(self) -> None:
        """Pull the play head from the source (the timer calls this; tests may too)."""
        source = self.source
        if source is None or not source.settled:
            return  # a command is on its way: the state from before it would move the slider back
        position = source.position_s
        if not self._dragging:
            self.slider.blockSignals(True)
            self.slider.setValue(round(position * SLIDER_STEPS_PER_S))
            self.slider.blockSignals(False)
        if not self.time_edit.hasFocus():
            self.time_edit.setText(format_time(position))
        if source.ended and self.play_button.isChecked():
            self.play_button.blockSignals(True)
            self.play_button.setChecked(False)
            self.play_button.setText(f"Play ({PLAY_KEY})")
            self.play_button.blockSignals(False)
            self.message.setText("End of the recording: press Play to start again.")

    def chosen_range(self) -> tuple[float, float] | None:
        """The loop range as set (seconds), looping or not: what a user picked for analysis or export; ``None``
        while nothing is replayed."""
        if self.source is None or not self.body.isEnabled():
            return None
        return self.loop_start.value(), self.loop_end.value()

    # --- actions ----------------------------------------------------------------------------------------

    def seek(self, seconds: float) -> None:
        """Move the play head (restarting the replay if it had ended)."""
        source = self.source
        if source is None:
            return
        seconds = min(max(seconds, 0.0), source.duration_s)
        looping = self.loop_button.isChecked()
        if looping and not self.loop_start.value() <= seconds < self.loop_end.value():
            self.loop_button.setChecked(False)  # a jump out of the loop means the user is done with it
        if source.ended:
            self.restart_requested.emit(seconds)
            return
        self._asked_s = seconds
        source.seek(seconds)
        self.seeked.emit(seconds)
        self.refresh()

    def jump_segment(self, direction: int) -> None:
        """Jump to the next (``+1``) or previous (``-1``) annotation, labelled segments (with a duration) first."""
        if self.source is None:
            return
        segments = [a for a in self._annotations if a.duration_s > 0] or self._annotations
        # Until the replay has applied the last seek, where it was asked to go is where it is.
        here = self.source.position_s if self.source.settled else self._asked_s
        if direction > 0:
            later = [a for a in segments if a.onset_s > here + NEXT_EPSILON_S]
            target = min(later, key=lambda a: a.onset_s) if later else None
        else:
            earlier = [a for a in segments if a.onset_s < here - NEXT_EPSILON_S - 0.5]
            target = max(earlier, key=lambda a: a.onset_s) if earlier else None
        if target is not None:
            self._select(target)
            self._go_to(target)

    def _select(self, annotation: Annotation) -> None:
        for row in range(self.annotation_list.count()):
            if self.annotation_list.item(row).data(Qt.ItemDataRole.UserRole) is annotation:
                self.annotation_list.setCurrentRow(row)
                return

    def _annotation_clicked(self, item: QListWidgetItem) -> None:
        self._go_to(item.data(Qt.ItemDataRole.UserRole))

    def _go_to(self, annotation: Annotation) -> None:
        """Jump to an annotation; one with a duration is a segment and becomes the loop range too."""
        if annotation.duration_s > 0 and self.source is not None:
            for box, value in (
                (self.loop_start, annotation.onset_s),
                (self.loop_end, min(annotation.onset_s + annotation.duration_s, self.source.duration_s)),
            ):
                box.blockSignals(True)
                box.setValue(value)
                box.blockSignals(False)
            self._loop_range_changed()
        self.seek(annotation.onset_s)

    def toggle_play(self) -> None:
        """Play or pause (the window's Space key while a recording replays)."""
        self.play_button.toggle()

    def _play_toggled(self, playing: bool) -> None:
        self.play_button.setText(f"{'Pause' if playing else 'Play'} ({PLAY_KEY})")
        source = self.source
        if source is None:
            return
        if playing and source.ended:
            self.restart_requested.emit(0.0 if source.position_s >= source.duration_s - 0.01 else source.position_s)
        elif playing:
            source.resume()
        else:
            source.pause()

    def _speed_changed(self, index: int) -> None:
        if self.source is not None:
            self.source.set_speed(SPEEDS[index])

    def _slider_pressed(self) -> None:
        self._dragging = True

    def _slider_released(self) -> None:
        self._dragging = False
        self.seek(self.slider.value() / SLIDER_STEPS_PER_S)

    def _time_entered(self) -> None:
        seconds = parse_time(self.time_edit.text())
        if seconds is None:
            self.message.setText(f"'{self.time_edit.text()}' is not a time: type seconds, m:ss or h:mm:ss.")
            return
        self.time_edit.clearFocus()
        self.seek(seconds)

    def _loop_range_changed(self) -> None:
        if self.loop_button.isChecked():
            self._loop_toggled(True)

    def _loop_toggled(self, on: bool) -> None:
        source = self.source
        if source is None:
            return
        if not on:
            source.clear_loop()
            self.slider.set_loop(None)
            return
        try:
            source.set_loop(self.loop_start.value(), self.loop_end.value())
        except ValueError as exc:
            self.message.setText(f"Cannot loop: {exc}.")
            self.loop_button.setChecked(False)
            return
        scale = SLIDER_STEPS_PER_S
        self.slider.set_loop((round(self.loop_start.value() * scale), round(self.loop_end.value() * scale)))


class LoopSlider(QSlider):
    """The position slider, with the loop range drawn along its groove while one is set."""

    def __init__(self, orientation: Qt.Orientation) -> None:
        super().__init__(orientation)
        self.loop: tuple[int, int] | None = None
        """The loop in slider steps, or ``None``."""

    def set_loop(self, loop: tuple[int, int] | None) -> None:
        self.loop = loop
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        super().paintEvent(event)
        if self.loop is None or self.maximum() <= self.minimum():
            return
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        groove = self.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderGroove, self
        )
        span = self.maximum() - self.minimum()
        left = groove.left() + (self.loop[0] - self.minimum()) / span * groove.width()
        right = groove.left() + (self.loop[1] - self.minimum()) / span * groove.width()
        painter = QPainter(self)
        painter.fillRect(QRectF(left, groove.center().y() - LOOP_MARK_PX, max(2.0, right - left), 2 * LOOP_MARK_PX),
                         QColor(LOOP_COLOUR))  # fmt: skip
        painter.end()


MAX_STRETCHES = 64
"""Continuous stretches of a replay mapped to bands: older ones have long left the ring (a tight loop makes many)."""
BAND_GROUP = "replay"


def annotation_label(text: str) -> str:
    """The label a file annotation starts with (``MAX Biceps brachii L [repeat 2]`` → ``MAX``)."""
    return text.split(" ", 1)[0] if text else ""


def file_bands(
    annotations: Sequence[Annotation], segments: Sequence[tuple[int, int]], sample_rate: float, n_samples: int
) -> list[Band]:
    """The file's annotations as bands in ring indices, for every continuous stretch: spans (with a duration) as
    coloured bands, markers and notes (none) as ticks; the session's facts at its very start are not drawn.

    ``segments`` are :attr:`ReplaySource.segments`: from ``ring_index`` on, the ring continues from
    ``file_sample``; the last stretch runs on to the end of the file.
    """
    spans = [
        (round(a.onset_s * sample_rate), max(1, round(a.duration_s * sample_rate)), a.duration_s > 0, a.text)
        for a in annotations
        if a.duration_s > 0 or a.onset_s > 0
    ]
    bands = []
    stretches = list(segments)[-MAX_STRETCHES:]
    for k, (ring_start, file_start) in enumerate(stretches):
        ring_stop = stretches[k + 1][0] if k + 1 < len(stretches) else math.inf
        file_stop = min(n_samples, file_start + ring_stop - ring_start)
        offset = ring_start - file_start
        for first, length, span, text in spans:
            a, b = max(first, file_start), min(first + length, file_stop)
            if b <= a:
                continue
            if span:
                label = annotation_label(text)
                bands.append(Band(int(a + offset), int(b + offset), text, label_colour(label), lane_for(label)))
            else:
                bands.append(Band(int(a + offset), int(a + offset + 1), text, MARKER_COLOUR, LANE_MARKER))
    return bands


class ReplayBands(QObject):
    """Keeps the scope's replay bands in step with a :class:`ReplaySource`'s jumps (polled, never pushed)."""

    def __init__(self, show: Callable[[str, list[Band]], None], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._show = show
        self.source: ReplayControl | None = None
        self._segments: tuple[tuple[int, int], ...] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    def set_source(self, source: ReplayControl | None) -> None:
        """Follow ``source`` (opened: its recording is known), or show no replay bands."""
        self.source = source
        self._segments = None
        if source is None or source.facts is None:
            self.source = None
            self._timer.stop()
            self._show(BAND_GROUP, [])
            return
        self._timer.start()
        self.refresh()

    def refresh(self) -> None:
        """Recompute the bands when the replay jumped since the last look (a tuple compare otherwise)."""
        source = self.source
        if source is None or source.facts is None:
            return
        segments = source.segments
        if segments == self._segments:
            return
        self._segments = segments
        bands = file_bands(source.facts.annotations, segments, source.sample_rate, source.n_samples)
        self._show(BAND_GROUP, bands)
