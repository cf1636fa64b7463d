"""The triggered display's picture: captured sweeps superimposed or rastered, and their running average.

View coordinates are the scope's (x in ms from the left edge, y in divisions, 0 at the bottom); like the trace
raster (:class:`~emgscope.gui.scope_items.RasterItem`) the item paints in device pixels, negative up. A sweep is
at most 4,000 samples (20 ms/div at 20 kHz), so QPainter draws each as a polyline (decimated to a minimum and a
maximum per pixel column where it has more samples than that). Completed sweeps change only when one is captured,
a few times a second, so they are rendered once into an image that every paint blits; the sweeps still being
captured, the average and the labels are drawn over it.

* **Superimposed**: every sweep on one baseline in the middle of the plot, the newest brightest and older ones
  fainter, the average over them in yellow.
* **Raster**: one lane per kept sweep, stacked top to bottom, oldest at the top and the newest (or the one being
  captured) at the bottom; the average has the top lane. Traces keep the scope's µV/div, so a large potential
  reaches into the neighbouring lanes, as on a clinical raster.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QImage, QPainter, QPen, QPolygonF

from emgscope.core.settings import DIVISIONS
from emgscope.gui.scope_items import HEARD_COLOUR, LABEL_COLOUR, ChannelLabelsItem

SUPERIMPOSE = "superimpose"
RASTER = "raster"
STYLES = (SUPERIMPOSE, RASTER)
SWEEP_COLOUR = QColor(92, 255, 122)
"""The trace's green (:data:`~emgscope.gui.raster.TRACE_COLOUR`)."""
CAPTURING_COLOUR = QColor(200, 255, 212)
"""A sweep still coming in: brighter than any kept one."""
SELECTED_COLOUR = QColor(255, 255, 255)
"""The sweep chosen while stepping through a frozen display."""
AVERAGE_COLOUR = QColor(255, 230, 90)
"""The running average: the MUP panel's colour for means."""
FREE_RUN_COLOUR = QColor(130, 142, 150)
"""The untriggered signal shown while no sweep has been captured, so the level can be placed on it."""
TRIGGER_MARK_COLOUR = HEARD_COLOUR
NEWEST_ALPHA = 235
OLDEST_ALPHA = 45
"""Superimposed sweeps fade from the newest to the oldest between these opacities (of 255)."""
DIMMED_ALPHA = 45
"""While one sweep is selected, the others are drawn this faint."""
AVERAGE_WIDTH_PX = 2.0
TEXT_PADDING_PX = 4


def baseline_divisions(style: str, keep: int, lane: int) -> float:
    """Height (divisions from the bottom) of a lane's baseline: ``lane`` 0 is the average's, 1…``keep`` the sweeps'
    (``keep`` the newest). Superimposed, every lane is the middle of the plot."""
    if style == SUPERIMPOSE:
        return DIVISIONS / 2
    return DIVISIONS * (1.0 - (lane + 0.5) / (keep + 1))


def polyline(samples: np.ndarray, length: int, target: QRectF, base_div: float, uv_per_div: float) -> QPolygonF:
    """Device-pixel points of ``samples`` (µV), the first ``samples.size`` of a sweep ``length`` long that spans
    ``target``, on the baseline ``base_div`` divisions from the bottom, negative up."""
    width, height = target.width(), target.height()
    px_per_div = height / DIVISIONS
    baseline = target.top() + (DIVISIONS - base_div) * px_per_div
    values = np.asarray(samples, dtype=np.float64)
    n = values.size
    columns = max(1, round(width))
    if n > 2 * columns:
        column = np.floor(np.arange(n) * columns / length).astype(np.int64)
        starts = np.flatnonzero(np.diff(column, prepend=-1))
        lows = np.minimum.reduceat(values, starts)
        highs = np.maximum.reduceat(values, starts)
        x = np.repeat(column[starts] + 0.5, 2) * width / columns
        values = np.column_stack((highs, lows)).ravel()
    else:
        x = np.arange(n) * width / length
    y = baseline + values * px_per_div / uv_per_div
    return pg.functions.arrayToQPolygonF(target.left() + x, y)


@dataclass(frozen=True)
class SweepPicture:
    """What the triggered display shows in one frame."""

    sweeps: tuple[np.ndarray, ...] = ()
    """The kept sweeps, oldest first."""
    capturing: tuple[np.ndarray, ...] = ()
    """Sweeps still coming in (each as far as it has arrived), oldest first."""
    average: np.ndarray | None = None
    free_run: np.ndarray | None = None
    selected: int | None = None
    """Index in :attr:`sweeps` of the sweep chosen while stepping, or ``None``."""
    version: int = 0
    """Changes whenever :attr:`sweeps` or :attr:`selected` do (the kept sweeps' image is then drawn again)."""


class SweepsItem(pg.GraphicsObject):
    """Paints a :class:`SweepPicture` in the plot, in the chosen style, at the scope's µV/div."""

    def __init__(self) -> None:
        super().__init__()
        self._span_ms = 1.0
        self.style = SUPERIMPOSE
        self.keep = 1
        self.length = 1
        """Samples in a whole sweep."""
        self.pre = 0
        """Samples before the trigger."""
        self.uv_per_div = 100.0
        self.label = ""
        self.picture = SweepPicture()
        self._image: QImage | None = None
        self._image_key: tuple[object, ...] | None = None

    def set_span(self, span_ms: float) -> None:
        self.prepareGeometryChange()
        self._span_ms = span_ms
        self.update()

    def set_layout(self, style: str, keep: int, length: int, pre: int, uv_per_div: float, label: str) -> None:
        """How sweeps are laid out and scaled; the kept sweeps' image is drawn again at the next paint."""
        self.style, self.keep, self.length, self.pre = style, keep, max(2, length), pre
        self.uv_per_div, self.label = uv_per_div, label
        self._image_key = None
        self.update()

    def show_picture(self, picture: SweepPicture) -> None:
        self.picture = picture
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(0, 0, self._span_ms, DIVISIONS)

    def lanes(self) -> list[tuple[int, np.ndarray, bool]]:
        """``(lane, samples, capturing)`` for every sweep drawn (raster lanes; superimposed they share one)."""
        picture = self.picture
        shown = [(s, False) for s in picture.sweeps] + [(s, True) for s in picture.capturing]
        shown = shown[-self.keep :]
        first = self.keep - len(shown) + 1
        return [(first + k, samples, capturing) for k, (samples, capturing) in enumerate(shown)]

    def paint(self, painter: QPainter, *_args: object) -> None:
        target = painter.transform().mapRect(self.boundingRect())
        painter.save()
        painter.resetTransform()
        painter.setClipRect(target)
        key = (round(target.width()), round(target.height()), self.picture.version, self.style, self.keep)
        if self._image is None or self._image_key != key:
            self._image = self._render_kept(round(target.width()), round(target.height()))
            self._image_key = key
        painter.drawImage(QPointF(target.left(), target.top()), self._image)
        self._paint_trigger_mark(painter, target)
        picture = self.picture
        if picture.free_run is not None and not picture.sweeps:
            self._line(painter, picture.free_run, target, self._base(self.keep), FREE_RUN_COLOUR)
        sweeps = len(picture.sweeps)
        for lane, samples, capturing in self.lanes():
            if capturing:
                self._line(painter, samples, target, self._base(lane), CAPTURING_COLOUR)
        if picture.average is not None and sweeps:
            self._line(painter, picture.average, target, self._base(0), AVERAGE_COLOUR, AVERAGE_WIDTH_PX)
        self._paint_labels(painter, target, sweeps)
        painter.restore()

    def _base(self, lane: int) -> float:
        return baseline_divisions(self.style, self.keep, lane)

    def _render_kept(self, width: int, height: int) -> QImage:
        """The kept sweeps, faded by age (or dimmed around the selected one), on a transparent image."""
        image = QImage(max(1, width), max(1, height), QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        picture = self.picture
        if not picture.sweeps:
            return image
        painter = QPainter(image)
        target = QRectF(0, 0, width, height)
        kept = [(lane, samples) for lane, samples, capturing in self.lanes() if not capturing]
        count = len(picture.sweeps)
        offset = count - len(kept)
        for k, (lane, samples) in enumerate(kept):
            index = offset + k
            if index == picture.selected:
                continue
            colour = QColor(SWEEP_COLOUR)
            if picture.selected is not None:
                colour.setAlpha(DIMMED_ALPHA)
            elif self.style == SUPERIMPOSE:
                age = (count - 1 - index) / max(1, count - 1)
                colour.setAlpha(round(NEWEST_ALPHA - age * (NEWEST_ALPHA - OLDEST_ALPHA)))
            self._line(painter, samples, target, self._base(lane), colour)
        if picture.selected is not None and picture.selected >= offset:
            lane, samples = kept[picture.selected - offset]
            self._line(painter, samples, target, self._base(lane), SELECTED_COLOUR, AVERAGE_WIDTH_PX)
        painter.end()
        return image

    def _line(
        self, painter: QPainter, samples: np.ndarray, target: QRectF, base: float, colour: QColor, width: float = 1.0
    ) -> None:
        if samples.size < 2:
            return
        pen = QPen(colour, width)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawPolyline(polyline(samples, self.length, target, base, self.uv_per_div))

    def _paint_trigger_mark(self, painter: QPainter, target: QRectF) -> None:
        """A dotted line at the trigger's time: the pre-trigger part of each sweep lies to its left."""
        x = target.left() + self.pre * target.width() / self.length
        pen = QPen(TRIGGER_MARK_COLOUR, 1.0, Qt.PenStyle.DotLine)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()))

    def _paint_labels(self, painter: QPainter, target: QRectF, sweeps: int) -> None:
        painter.setFont(ChannelLabelsItem.font())
        pad = TEXT_PADDING_PX
        top = target.top() + pad
        if self.label:
            painter.setPen(LABEL_COLOUR)
            painter.drawText(QPointF(target.left() + pad, top + painter.fontMetrics().ascent()), self.label)
            top += painter.fontMetrics().height()
        if sweeps:
            painter.setPen(AVERAGE_COLOUR)
            painter.drawText(QPointF(target.left() + pad, top + painter.fontMetrics().ascent()), f"Average of {sweeps}")
