"""The two graphics items the scope draws inside its ViewBox: the division grid and the trace raster.

View coordinates are clinical: x in ms from the left edge, y in divisions (0 at the bottom, 10 at the top).
The raster item paints its image pixel for pixel in device coordinates (no scaling, no smoothing), and only the
strip a frame changed is invalidated, so Qt repaints a few dozen columns per frame instead of the whole screen.
"""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen
from PyQt6.QtWidgets import QGraphicsItem

from emgscope.core.settings import DIVISIONS
from emgscope.gui.raster import TraceRaster

GRID_COLOUR = QColor(70, 86, 96)
GRID_MINOR_COLOUR = QColor(38, 48, 56)
MINOR_PER_DIVISION = 5
LABEL_COLOUR = QColor(200, 214, 222)
LABEL_FILL = QColor(8, 12, 16, 200)


class GridItem(pg.GraphicsObject):
    """The 10 × 10 division graticule, with faint minor ticks on the centre lines as on a scope screen."""

    def __init__(self) -> None:
        super().__init__()
        self._span_ms = 1.0
        self.setZValue(-10)
        # Drawn once into a pixmap and blitted: the full repaints of scroll mode then cost one copy, not 130 lines.
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_span(self, span_ms: float) -> None:
        self.prepareGeometryChange()
        self._span_ms = span_ms
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(0, 0, self._span_ms, DIVISIONS)

    def paint(self, painter: QPainter, *_args: object) -> None:
        division = self._span_ms / DIVISIONS
        minor = QPen(GRID_MINOR_COLOUR, 0)
        painter.setPen(minor)
        step = division / MINOR_PER_DIVISION
        for i in range(DIVISIONS * MINOR_PER_DIVISION + 1):
            x = i * step
            painter.drawLine(QPointF(x, DIVISIONS / 2 - 0.1), QPointF(x, DIVISIONS / 2 + 0.1))
            y = i / MINOR_PER_DIVISION
            painter.drawLine(
                QPointF(self._span_ms / 2 - division * 0.1, y), QPointF(self._span_ms / 2 + division * 0.1, y)
            )
        major = QPen(GRID_COLOUR, 0)
        major.setStyle(Qt.PenStyle.DotLine)
        painter.setPen(major)
        for i in range(DIVISIONS + 1):
            painter.drawLine(QPointF(i * division, 0), QPointF(i * division, DIVISIONS))
            painter.drawLine(QPointF(0, i), QPointF(self._span_ms, i))


class RasterItem(pg.GraphicsObject):
    """Paints a :class:`TraceRaster` image 1:1 in device pixels; scroll mode puts the newest column at the right."""

    def __init__(self) -> None:
        super().__init__()
        self._span_ms = 1.0
        self._raster: TraceRaster | None = None
        self._image: QImage | None = None
        self.scrolling = False

    def set_raster(self, raster: TraceRaster | None, span_ms: float) -> None:
        self.prepareGeometryChange()
        self._span_ms = span_ms
        self._raster = raster
        self._image = None
        if raster is not None:
            self._image = pg.functions.ndarray_to_qimage(raster.pixels, QImage.Format.Format_ARGB32_Premultiplied)
        self.update()

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(0, 0, self._span_ms, DIVISIONS)

    def update_columns(self, parts: list[slice]) -> None:
        """Invalidate only the columns a frame changed (everything in scroll mode, where all columns move)."""
        if self._raster is None:
            return
        if self.scrolling:
            self.update()
            return
        ms_per_column = self._span_ms / self._raster.width
        for part in parts:
            x0 = (part.start - 1) * ms_per_column
            self.update(QRectF(x0, 0, (part.stop - part.start + 2) * ms_per_column, DIVISIONS))

    def paint(self, painter: QPainter, *_args: object) -> None:
        if self._raster is None or self._image is None:
            return
        target = painter.transform().mapRect(self.boundingRect())
        painter.save()
        painter.resetTransform()
        image = self._image
        width = self._raster.width
        head = self._raster.head
        if round(target.width()) != width or round(target.height()) != self._raster.height:
            painter.drawImage(target, image)
        elif self.scrolling and head is not None and head < width - 1:
            left = width - head - 1
            painter.drawImage(QPointF(target.left(), target.top()), image, QRectF(head + 1, 0, left, image.height()))
            painter.drawImage(
                QPointF(target.left() + left, target.top()), image, QRectF(0, 0, head + 1, image.height())
            )
        else:
            painter.drawImage(QPointF(target.left(), target.top()), image)
        painter.restore()


class ChannelLabelsItem(pg.GraphicsObject):
    """Every channel's name at the left end of its baseline, drawn as one small cached strip.

    One item instead of a text item per channel: text layout per label per repaint cost more than the traces.
    Its bounds cover only the label column, so the sweep's dirty strips elsewhere never repaint it.
    """

    PADDING_PX = 3

    def __init__(self) -> None:
        super().__init__()
        self._names: list[str] = []
        self._rows: list[float] = []
        self._width_ms = 0.0
        self._height_px = 1
        self.setZValue(10)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_labels(self, names: list[str], rows: list[float], height_px: int, ms_per_px: float) -> None:
        """``rows``: each baseline's pixel row from the top of a ``height_px`` high plot."""
        self.prepareGeometryChange()
        self._names = names
        self._rows = rows
        self._height_px = max(1, height_px)
        metrics = QFontMetricsF(self.font())
        widest = max((metrics.horizontalAdvance(name) for name in names), default=0.0)
        self._width_ms = (widest + 3 * self.PADDING_PX) * ms_per_px
        self.update()

    @staticmethod
    def font() -> QFont:
        font = QFont()
        font.setPointSize(9)
        return font

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(0, 0, self._width_ms, DIVISIONS)

    def paint(self, painter: QPainter, *_args: object) -> None:
        transform = painter.transform()
        painter.save()
        painter.resetTransform()
        painter.setFont(self.font())
        metrics = QFontMetricsF(painter.font())
        pad = self.PADDING_PX
        for name, row in zip(self._names, self._rows, strict=True):
            anchor = transform.map(QPointF(0, DIVISIONS * (1 - row / self._height_px)))
            box = QRectF(
                anchor.x(),
                anchor.y() - metrics.height() - pad,
                metrics.horizontalAdvance(name) + 2 * pad,
                metrics.height() + pad,
            )
            painter.fillRect(box, LABEL_FILL)
            painter.setPen(LABEL_COLOUR)
            painter.drawText(box.adjusted(pad, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, name)
        painter.restore()
