"""The trigger strip: level, slope, amplitude window, pre-trigger, superimposed or raster, how many sweeps.

A row of controls under the scope's toolbar, shown while the triggered display mode is chosen. It edits the
view's :class:`~emgscope.gui.triggered.TriggerScope` and follows it (a level dragged on the trace shows here at
once). The sweep speed is the scope's own control (Left/Right, the sweep box), held to 1-20 ms/div in this mode.

The slope is named as the user sees it: the scope draws negative up, so "going up" is a negative-going signal
(a *falling* slope in µV, see :mod:`emgscope.dsp.trigger`).
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget

from emgscope.core.settings import FALLING, KEEP_RANGE, RASTER, RISING, SUPERIMPOSE
from emgscope.gui.triggered import LEVEL_RANGE_UV, TriggerScope

SLOPE_TEXT = {FALLING: "▲ going up", RISING: "▼ going down"}
SLOPE_TIP = (
    "Trigger where the trace crosses the level going up on the screen (the signal going negative: a falling "
    "slope in µV), or going down (going positive)"
)
STYLE_TEXT = {SUPERIMPOSE: "Superimposed", RASTER: "Raster"}


class TriggerStrip(QWidget):
    """Controls of one :class:`TriggerScope`."""

    done = pyqtSignal()
    """A value was typed in: the keyboard can go back to the scope's keys."""

    def __init__(self, trigger: TriggerScope, step: Callable[[int], None], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("triggerStrip")
        self.trigger = trigger
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Trigger"))
        self.level = self._spin(" µV", "Trigger level (drag the solid line on the trace)")
        self.slope = QComboBox()
        for slope, text in SLOPE_TEXT.items():
            self.slope.addItem(text, slope)
        self.slope.setToolTip(SLOPE_TIP)
        self.window_box = QCheckBox("Window")
        self.window_box.setToolTip(
            "An amplitude window: a crossing whose excursion goes beyond the dashed line is "
            "another unit's, and gives no sweep"
        )
        self.window = self._spin(" µV", "The window's far level (drag the dashed line on the trace)")
        self.pretrigger = QSpinBox()
        self.pretrigger.setRange(0, 90)
        self.pretrigger.setSuffix(" % before")
        self.pretrigger.setToolTip("Pre-trigger: the share of the sweep shown before the trigger")
        self.style_box = QComboBox()
        for style, text in STYLE_TEXT.items():
            self.style_box.addItem(text, style)
        self.style_box.setToolTip("Sweeps on one baseline, older ones fainter, or stacked one under another")
        self.keep = QSpinBox()
        self.keep.setRange(*KEEP_RANGE)
        self.keep.setPrefix("last ")
        self.keep.setToolTip("How many sweeps are kept, shown and averaged")
        self.previous = QPushButton("◀")
        self.previous.setToolTip("Freeze, and show the sweep before (key ,)")
        self.next = QPushButton("▶")
        self.next.setToolTip("Freeze, and show the sweep after (key .)")
        self.previous.clicked.connect(lambda: step(-1))
        self.next.clicked.connect(lambda: step(+1))
        self.status = QLabel(objectName="triggerStatus")
        for widget in (self.slope, self.window_box, self.style_box, self.previous, self.next):
            widget.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for widget in (self.pretrigger, self.keep):
            widget.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
            widget.setKeyboardTracking(False)
            widget.editingFinished.connect(self.done)
        for widget in (
            self.level,
            self.slope,
            self.window_box,
            self.window,
            self.pretrigger,
            self.style_box,
            self.keep,
            self.previous,
            self.next,
        ):
            layout.addWidget(widget)
        layout.addWidget(self.status, 1)
        self.sync()
        self.level.valueChanged.connect(lambda value: self._apply(level_uv=value))
        self.slope.activated.connect(lambda _i: self._apply(slope=self.slope.currentData()))
        self.window_box.toggled.connect(self._window_toggled)
        self.window.valueChanged.connect(lambda value: self._apply(window_uv=value))
        self.pretrigger.valueChanged.connect(lambda value: self._apply(pretrigger=value / 100))
        self.style_box.activated.connect(lambda _i: trigger.set_style(self.style_box.currentData()))
        self.keep.valueChanged.connect(trigger.set_keep)
        trigger.changed.connect(self.sync)
        trigger.status_changed.connect(self.status.setText)
        self.status.setText(trigger.status)

    def _spin(self, suffix: str, tip: str) -> QDoubleSpinBox:
        spin = QDoubleSpinBox()
        spin.setRange(*LEVEL_RANGE_UV)
        spin.setDecimals(0)
        spin.setSingleStep(10)
        spin.setSuffix(suffix)
        spin.setToolTip(tip)
        spin.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        spin.setKeyboardTracking(False)
        spin.editingFinished.connect(self.done)
        return spin

    def sync(self) -> None:
        """Show the trigger's settings (after a drag on the trace, or a change made elsewhere)."""
        t = self.trigger
        s = t.settings
        widgets = (self.level, self.slope, self.window_box, self.window, self.pretrigger, self.style_box, self.keep)
        for widget in widgets:
            widget.blockSignals(True)
        self.level.setValue(s.level_uv)
        self.slope.setCurrentIndex(self.slope.findData(s.slope))
        self.window_box.setChecked(s.window_uv is not None)
        self.window.setVisible(s.window_uv is not None)
        self.window.setValue(s.window_uv if s.window_uv is not None else t.default_window())
        self.pretrigger.setValue(round(s.pretrigger * 100))
        self.style_box.setCurrentIndex(self.style_box.findData(t.style))
        self.keep.setValue(t.keep)
        for widget in widgets:
            widget.blockSignals(False)

    def _window_toggled(self, on: bool) -> None:
        self._apply(window_uv=self.trigger.default_window() if on else None)

    def _apply(self, **changes: object) -> None:
        """Change the trigger; a value it cannot honour is put back and the reason shown."""
        try:
            self.trigger.update_settings(**changes)
        except ValueError as exc:
            self.status.setText(f"{str(exc)[:1].upper()}{str(exc)[1:]}.")
            self.sync()
