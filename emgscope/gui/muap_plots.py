"""The MUP panel's two kinds of plot: a unit's template on the division grid, and the duration-amplitude plot.

Templates are drawn as the scope draws the trace (DESIGN §3): on the 10 × 10 division graticule, negative up, at a
sweep every template of the panel shares and at the most sensitive preset µV/div its own size allows (a 300 µV
unit would be a ripple at the 500 µV/div a 4 mV one needs), written in its corner. View coordinates are the
scope's: x in ms from the left edge, y in divisions. The onset and end markers are lines the clinician drags;
where a marker stops, :attr:`TemplatePlot.marker_moved` says so.

The duration-amplitude plot (Stålberg's multi-MUP display, QEMG §2) puts each accepted MUP at its duration and
amplitude, the muscle's mean as a cross, and where the muscle has reference values the inner box (the limits of
the mean) and the outer box (the outlier limits).
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QColor

from emgscope.analysis.muap.model import END, ONSET, MuapUnit, SiteAnalysis
from emgscope.core.settings import DIVISIONS, SENSITIVITY_PRESETS_UV
from emgscope.core.units import format_sensitivity
from emgscope.gui.scope_items import LABEL_COLOUR, GridItem
from emgscope.gui.scope_view import BACKGROUND

TRACE_COLOUR = QColor(92, 255, 122)
REJECTED_COLOUR = QColor(110, 120, 126)
MARKER_COLOUR = QColor(90, 170, 255)
EDITED_COLOUR = QColor(255, 170, 60)
"""Markers the clinician placed, and the numbers measured from them."""
MEAN_COLOUR = QColor(255, 230, 90)
INNER_BOX_COLOUR = QColor(92, 255, 122)
OUTER_BOX_COLOUR = QColor(255, 110, 110)
VIEW_BEFORE_MS = 15.0
"""A template is shown from this long before its main spike (the onset of a normal MUP is 3-8 ms before it)."""
TEMPLATE_FILL = 0.8
"""The largest template fills at most this share of the grid's height."""
TEMPLATE_MS_PER_DIV = 5.0
"""Sweep for templates: 50 ms over the grid (QEMG §1: 5-10 ms/div is usual for MUPs)."""


def sensitivity_for(unit: MuapUnit) -> float:
    """The most sensitive preset µV/div at which the template fits :data:`TEMPLATE_FILL` of the grid's height."""
    size = float(np.ptp(unit.template_uv))
    for preset in SENSITIVITY_PRESETS_UV:
        if size <= TEMPLATE_FILL * DIVISIONS * preset:
            return preset
    return SENSITIVITY_PRESETS_UV[-1]


class TemplatePlot(pg.PlotWidget):
    """One unit's template on the grid, with its onset and end markers."""

    marker_moved = pyqtSignal(int, str, float)
    """``(unit id, "onset" or "end", ms from the alignment point)`` when the clinician lets go of a marker."""

    def __init__(self, unit: MuapUnit, ms_per_div: float = TEMPLATE_MS_PER_DIV) -> None:
        super().__init__(background=BACKGROUND)
        self.unit = unit
        self.uv_per_div = sensitivity_for(unit)
        self.ms_per_div = ms_per_div
        self.span_ms = DIVISIONS * ms_per_div
        item = self.getPlotItem()
        item.hideButtons()
        item.hideAxis("left")
        item.hideAxis("bottom")
        box = item.getViewBox()
        box.setMouseEnabled(False, False)
        box.setMenuEnabled(False)
        box.setDefaultPadding(0)
        box.setRange(xRange=(0, self.span_ms), yRange=(0, DIVISIONS), padding=0)
        grid = GridItem()
        grid.set_span(self.span_ms)
        self.addItem(grid)
        self.curve = pg.PlotCurveItem(skipFiniteCheck=True)
        self.addItem(self.curve)
        self.title = pg.TextItem(anchor=(0, 0), color=LABEL_COLOUR)
        self.title.setPos(0.3, DIVISIONS)
        self.addItem(self.title)
        self.scale = pg.TextItem(f"{format_sensitivity(self.uv_per_div)}/div", anchor=(1, 1), color=LABEL_COLOUR)
        self.scale.setPos(self.span_ms - 0.3, 0)
        self.addItem(self.scale)
        self.lines: dict[str, pg.InfiniteLine] = {}
        for which in (ONSET, END):
            line = pg.InfiniteLine(angle=90, movable=True, bounds=(0, self.span_ms))
            line.sigPositionChangeFinished.connect(lambda ln, w=which: self._released(w, ln))
            self.addItem(line)
            self.lines[which] = line
        self.show_unit(unit)

    def x_of(self, ms: float) -> float:
        """View x of a time from the alignment point."""
        return ms + VIEW_BEFORE_MS

    def ms_of(self, x: float) -> float:
        return x - VIEW_BEFORE_MS

    def show_unit(self, unit: MuapUnit, far_field: bool = False) -> None:
        """Draw ``unit`` (after an edit, a new copy of it) and place its markers."""
        self.unit = unit
        ms = (np.arange(unit.template_uv.size) - unit.zero) * 1000.0 / unit.template_rate_hz
        # Centred on its own range, so a potential whose peaks are unequal still fits the grid.
        middle = (float(unit.template_uv.max()) + float(unit.template_uv.min())) / 2
        y = DIVISIONS / 2 - (unit.template_uv.astype(np.float64) - middle) / self.uv_per_div
        inside = (ms >= -VIEW_BEFORE_MS) & (ms <= self.span_ms - VIEW_BEFORE_MS)
        colour = REJECTED_COLOUR if unit.rejected else TRACE_COLOUR
        self.curve.setData(self.x_of(ms[inside]), np.clip(y[inside], -1.0, DIVISIONS + 1.0), pen=pg.mkPen(colour))
        words = [f"Unit {unit.id}", f"{unit.measures.amplitude_uv:.0f} µV"]
        words.append(f"{unit.measures.duration_ms:.1f} ms" if unit.duration_measured else "no quiet baseline")
        if unit.rejected:
            words.append("rejected")
        elif far_field:
            words.append("far-field")
        self.title.setText("  ".join(words))
        for which, ms_value in ((ONSET, unit.onset_ms), (END, unit.end_ms)):
            line = self.lines[which]
            line.setPen(pg.mkPen(EDITED_COLOUR if which in unit.edited else MARKER_COLOUR, width=2))
            line.blockSignals(True)
            line.setValue(self.x_of(ms_value))
            line.blockSignals(False)
            line.setMovable(not unit.rejected)

    def _released(self, which: str, line: pg.InfiniteLine) -> None:
        self.marker_moved.emit(self.unit.id, which, self.ms_of(float(line.value())))


class DurationAmplitudePlot(pg.PlotWidget):
    """Each accepted MUP at its duration (x, ms) and amplitude (y, µV); the muscle's mean and reference boxes."""

    def __init__(self) -> None:
        super().__init__(background=BACKGROUND)
        item = self.getPlotItem()
        item.hideButtons()
        item.setLabel("bottom", "duration", units="ms")
        item.setLabel("left", "amplitude", units="µV")
        item.getAxis("left").enableAutoSIPrefix(False)
        item.getAxis("bottom").enableAutoSIPrefix(False)
        item.showGrid(x=True, y=True, alpha=0.15)
        self.getPlotItem().getViewBox().setMenuEnabled(False)
        self.points = pg.ScatterPlotItem(size=9, pen=pg.mkPen(None))
        self.addItem(self.points)
        self.labels: list[pg.TextItem] = []
        self.mean = pg.ScatterPlotItem(size=16, symbol="+", pen=pg.mkPen(MEAN_COLOUR, width=2.5))
        self.addItem(self.mean)
        self.inner = pg.PlotCurveItem(pen=pg.mkPen(INNER_BOX_COLOUR, width=1.5))
        self.outer = pg.PlotCurveItem(pen=pg.mkPen(OUTER_BOX_COLOUR, width=1.5, style=Qt.PenStyle.DashLine))
        self.addItem(self.inner)
        self.addItem(self.outer)
        self.caption = pg.TextItem(anchor=(0, 0), color=LABEL_COLOUR)
        self.addItem(self.caption, ignoreBounds=True)

    @staticmethod
    def _box(x0: float, x1: float, y0: float, y1: float) -> tuple[list[float], list[float]]:
        return [x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0]

    def show_site(self, site: SiteAnalysis) -> None:
        accepted = [u for u in site.units if site.accepted(u)]
        spots = [
            {
                "pos": (u.measures.duration_ms, u.measures.amplitude_uv),
                "brush": pg.mkBrush(EDITED_COLOUR if u.edited else TRACE_COLOUR),
                "data": u.id,
            }
            for u in accepted
        ]
        self.points.setData(spots)
        for label in self.labels:
            self.removeItem(label)
        self.labels = []
        for unit in accepted:
            label = pg.TextItem(str(unit.id), anchor=(-0.3, 0.5), color=LABEL_COLOUR)
            label.setPos(unit.measures.duration_ms, unit.measures.amplitude_uv)
            self.addItem(label)
            self.labels.append(label)
        summary = site.muscle_summary()
        if accepted:
            self.mean.setData([summary.duration_ms_mean], [summary.amplitude_uv_mean])
        else:
            self.mean.setData([], [])
        reference = summary.reference
        if reference is None:
            self.inner.setData([], [])
            self.outer.setData([], [])
            self.caption.setText(f"{summary.findings[-1] if summary.findings else ''}")
        else:
            a, d = reference.amplitude_uv, reference.duration_ms
            self.inner.setData(*self._box(d.mean_low, d.mean_high, a.mean_low, a.mean_high))
            if reference.has_outlier_limits:
                outer = self._box(
                    d.outlier_low or 0.0, d.outlier_high or 0.0, a.outlier_low or 0.0, a.outlier_high or 0.0
                )
                self.outer.setData(*outer)
                self.caption.setText(f"{reference.name}: limits of the mean (solid), outlier limits (dashed)")
            else:
                self.outer.setData([], [])
                self.caption.setText(f"{reference.name}: limits of the mean (no outlier limits in the reference)")
        self._fit(site, accepted)

    def _fit(self, site: SiteAnalysis, accepted: list[MuapUnit]) -> None:
        durations = [u.measures.duration_ms for u in accepted] or [0.0, 20.0]
        amplitudes = [u.measures.amplitude_uv for u in accepted] or [0.0, 1000.0]
        reference = site.muscle_summary().reference
        if reference is not None:
            durations += [reference.duration_ms.outlier_high or reference.duration_ms.mean_high]
            amplitudes += [reference.amplitude_uv.outlier_high or reference.amplitude_uv.mean_high]
        top = max(amplitudes) * 1.15
        right = max(max(durations) * 1.15, 5.0)
        self.setRange(xRange=(0, right), yRange=(0, top), padding=0.02)
        self.caption.setPos(0, top)
