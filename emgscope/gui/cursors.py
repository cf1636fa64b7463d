"""Measuring cursors on the scope: two time and two amplitude lines, and what they read.

Clinical machines measure a frozen, triggered or replayed trace with cursors (DESIGN §3): the two time cursors
give Δt in ms and the firing rate it implies (1000 / Δt, in Hz: from one discharge to the next), the two amplitude
cursors give ΔV in µV at the scope's sensitivity. The lines are dragged with the mouse; they keep their place on
the screen as a share of the sweep and of the height when the sweep or the sensitivity changes, and the readout
follows the new scale.
"""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QColor

from emgscope.core.settings import DIVISIONS
from emgscope.gui.scope_items import LABEL_FILL

CURSOR_COLOUR = QColor(80, 210, 255)
TIME_CURSORS = ("t1", "t2")
AMPLITUDE_CURSORS = ("v1", "v2")
START_PLACES = {"t1": 0.3, "t2": 0.5, "v1": 0.65, "v2": 0.45}
"""Where the cursors first appear: shares of the sweep (time) and of the height (amplitude)."""
CURSOR_Z = 30


class Cursors(QObject):
    """Four draggable lines in a scope's view box and their readout."""

    readout_changed = pyqtSignal(str)

    def __init__(self, view_box: pg.ViewBox) -> None:
        super().__init__()
        self.span_ms = 1.0
        self.uv_per_div = 100.0
        self.visible = False
        self.lines: dict[str, pg.InfiniteLine] = {}
        self._share = dict(START_PLACES)
        self._moving = False
        for name in (*TIME_CURSORS, *AMPLITUDE_CURSORS):
            vertical = name in TIME_CURSORS
            line = pg.InfiniteLine(
                angle=90 if vertical else 0,
                movable=True,
                pen=pg.mkPen(CURSOR_COLOUR, width=1, style=Qt.PenStyle.DashLine),
                hoverPen=pg.mkPen("w", width=2),
                label=name,
                labelOpts={"position": 0.03 if vertical else 0.02, "color": CURSOR_COLOUR, "fill": LABEL_FILL},
            )
            line.setZValue(CURSOR_Z)
            line.setVisible(False)
            line.sigPositionChanged.connect(lambda _line, n=name: self._moved(n))
            view_box.addItem(line)
            self.lines[name] = line
        self._place()

    @property
    def readout(self) -> str:
        """``Δt 20.00 ms (50.0 Hz)   ΔV 500 µV`` (empty while the cursors are hidden)."""
        if not self.visible:
            return ""
        dt = abs(self.value("t2") - self.value("t1"))
        dv = abs(self.value("v2") - self.value("v1"))
        rate = f"{1000.0 / dt:.1f} Hz" if dt > 0 else "— Hz"
        return f"Δt {dt:.2f} ms ({rate})   ΔV {dv:.0f} µV"

    def value(self, name: str) -> float:
        """A time cursor in ms from the left edge, an amplitude cursor in µV above the bottom of the plot (only
        differences between cursors mean something clinically)."""
        position = float(self.lines[name].value())
        return position if name in TIME_CURSORS else position * self.uv_per_div

    def set_visible(self, visible: bool) -> None:
        self.visible = visible
        for line in self.lines.values():
            line.setVisible(visible)
        self.readout_changed.emit(self.readout)

    def set_scale(self, span_ms: float, uv_per_div: float) -> None:
        """The scope's sweep (ms across the plot) and sensitivity changed: same places, new readings."""
        self.span_ms, self.uv_per_div = span_ms, uv_per_div
        self._place()

    def place(self, name: str, value: float) -> None:
        """Put a cursor at ``value``: ms from the left edge for ``t1``/``t2``, divisions from the bottom for
        ``v1``/``v2``."""
        limit = self.span_ms if name in TIME_CURSORS else float(DIVISIONS)
        self._share[name] = min(max(value / limit, 0.0), 1.0)
        self._place()

    def _place(self) -> None:
        self._moving = True
        for name, line in self.lines.items():
            limit = self.span_ms if name in TIME_CURSORS else float(DIVISIONS)
            line.setBounds((0.0, limit))
            line.setValue(self._share[name] * limit)
        self._moving = False
        self.readout_changed.emit(self.readout)

    def _moved(self, name: str) -> None:
        if self._moving:
            return
        limit = self.span_ms if name in TIME_CURSORS else float(DIVISIONS)
        self._share[name] = float(self.lines[name].value()) / limit
        self.readout_changed.emit(self.readout)
