"""The connection dialog's LSL page: the streams found on the network, refreshed while the page is shown.

Streams are looked for only while the page is on screen (a continuous resolver of liblsl's, asked for its results
once a second without waiting), so opening *Connect…* for a board or the simulated patient sends nothing on the
network. Usable streams are listed, EMG-like ones first; a stream that cannot be an amplifier is listed greyed, with
the reason as its tooltip, so the operator sees why it cannot be picked. Marker streams are offered for the
annotations. Any name can also be typed: a stream that is not running yet is looked for when connecting.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QBrush, QColor, QHideEvent, QShowEvent
from PyQt6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QVBoxLayout,
    QWidget,
)

from emgscope.acquisition import lsl_streams
from emgscope.acquisition.lsl_streams import StreamSummary
from emgscope.core.settings import LslSettings
from emgscope.core.source import SourceError

REFRESH_MS = 1000
"""How often the list is brought up to date while shown."""
FORGET_AFTER_S = 5.0
"""A stream not heard of for this long leaves the list (its sender stopped)."""
NO_MARKERS = "(none)"
UNUSABLE = " — cannot be used"
GREY = "#7a7f87"


class LslPage(QWidget):
    """Edits :class:`LslSettings`: the stream to take as the amplifier and the marker stream to annotate from."""

    def __init__(self, settings: LslSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        self._resolver = None
        self.statusLabel = QLabel("Looking for LSL streams on the network…")
        self.statusLabel.setWordWrap(True)
        self.streamList = QListWidget()
        self.streamList.setMinimumSize(420, 180)
        self.nameEdit = QLineEdit(settings.name)
        self.nameEdit.setPlaceholderText("the stream's name, as its sender announces it")
        self.markersCombo = QComboBox()
        self.markersCombo.setEditable(True)
        self.markersCombo.addItem(NO_MARKERS, "")
        if settings.markers:
            self.markersCombo.addItem(settings.markers, settings.markers)
            self.markersCombo.setCurrentIndex(1)
        form = QFormLayout()
        form.addRow("Stream:", self.nameEdit)
        form.addRow("Markers from:", self.markersCombo)
        layout = QVBoxLayout(self)
        layout.addWidget(self.statusLabel)
        layout.addWidget(self.streamList, 1)
        layout.addLayout(form)
        self.streamList.currentItemChanged.connect(self._picked)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)

    # ---- looking while shown

    @property
    def looking(self) -> bool:
        """Whether streams are being looked for (only while the page is on screen)."""
        return self._resolver is not None

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 (Qt's name)
        super().showEvent(event)
        if self._resolver is None:
            try:
                self._resolver = lsl_streams.pylsl().ContinuousResolver(forget_after=FORGET_AFTER_S)
            except SourceError as exc:
                self.statusLabel.setText(str(exc))
                return
        self._timer.start()
        QTimer.singleShot(300, self.refresh)  # the first answers come within a few hundred ms on a lab network

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 (Qt's name)
        super().hideEvent(event)
        self._timer.stop()
        self._resolver = None  # liblsl stops looking

    def refresh(self) -> None:
        """Show what the resolver has found by now (it never waits)."""
        if self._resolver is None:
            return
        streams = sorted(
            (lsl_streams.summarize(info) for info in self._resolver.results()),
            key=lambda s: (not s.emg_like, s.problem is not None, s.name.lower(), s.hostname),
        )
        self.show_streams(streams)

    def show_streams(self, streams: list[StreamSummary]) -> None:
        signals = [stream for stream in streams if not stream.is_markers]
        chosen = self.nameEdit.text().strip()
        self.streamList.blockSignals(True)
        self.streamList.clear()
        for stream in signals:
            problem = stream.problem
            item = QListWidgetItem(stream.describe() + (UNUSABLE if problem is not None else ""))
            item.setData(Qt.ItemDataRole.UserRole, stream.name)
            if problem is not None:
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable & ~Qt.ItemFlag.ItemIsEnabled)
                item.setForeground(QBrush(QColor(GREY)))  # the style sheet's item colour would hide the state
                item.setToolTip(problem)
            self.streamList.addItem(item)
            if stream.name == chosen and problem is None:
                self.streamList.setCurrentItem(item)
        self.streamList.blockSignals(False)
        usable = sum(stream.problem is None for stream in signals)
        self.statusLabel.setText(
            f"{usable} stream(s) that can be an amplifier on the network (refreshed every second)."
            if usable
            else "No signal stream found yet: start the amplifier's LSL app, or type the stream's name below."
        )
        marker = self.markersCombo.currentText()
        self.markersCombo.blockSignals(True)
        self.markersCombo.clear()
        self.markersCombo.addItem(NO_MARKERS, "")
        for stream in streams:
            if stream.is_markers and self.markersCombo.findData(stream.name) < 0:
                self.markersCombo.addItem(stream.name, stream.name)
        self.markersCombo.setCurrentText(marker)
        self.markersCombo.blockSignals(False)

    def _picked(self, item: QListWidgetItem | None) -> None:
        if item is not None:
            self.nameEdit.setText(item.data(Qt.ItemDataRole.UserRole))

    # ---- results

    def settings(self) -> LslSettings:
        markers = self.markersCombo.currentText().strip()
        return LslSettings(
            name=self.nameEdit.text().strip(),
            markers="" if markers == NO_MARKERS else markers,
            resolve_timeout_s=self._settings.resolve_timeout_s,
        )

    def problem(self) -> str | None:
        """Why connecting cannot work, found without the network; ``None`` when it may."""
        if not self.nameEdit.text().strip():
            return "Choose an LSL stream from the list, or type its name."
        return None
