"""The graphics items the scope draws inside its ViewBox: the division grid, the trace raster, the channel
labels and the annotation bands.

View coordinates are clinical: x in ms from the left edge, y in divisions (0 at the bottom, 10 at the top).
The raster item paints its image pixel for pixel in device coordinates (no scaling, no smoothing), and only the
strip a frame changed is invalidated, so Qt repaints a few dozen columns per frame instead of the whole screen.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import pyqtgraph as pg
from PyQt6.QtCore import QPointF, QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPen, QPixmap
from PyQt6.QtWidgets import QGraphicsItem

from emgscope.analysis.checks import CHECK_LABEL, REACTION_LABEL, RELAX_LABEL
from emgscope.analysis.monitor import ACTIVITY_LABEL
from emgscope.analysis.spontaneous.watch import SPONTANEOUS_LABEL
from emgscope.core.settings import DIVISIONS
from emgscope.gui.display_modes import RunningMode
from emgscope.gui.raster import TraceRaster

BACKGROUND = QColor(8, 12, 16)
"""The plot's near-black."""
GRID_COLOUR = QColor(70, 86, 96)
GRID_MINOR_COLOUR = QColor(38, 48, 56)
MINOR_PER_DIVISION = 5
LABEL_COLOUR = QColor(200, 214, 222)
LABEL_FILL = QColor(8, 12, 16, 200)
BAND_ALPHA = 72
"""Opacity of a band's fill (of 255): the trace stays readable through it."""
LANE_SEGMENT = 0
"""A protocol step: the full height of the plot, its label at the top."""
LANE_FLAG = 1
"""A check's finding or a reaction time: a strip at the bottom."""
LANE_ACTIVITY = 2
"""Detected activity: a strip just above the flags."""
LANE_MARKER = 3
"""A marker or a note (no duration): a tick across the height, its label on the second row from the top."""
MARKER_COLOUR = "#ffd24a"
HEARD_COLOUR = QColor(255, 210, 74)
"""The channel heard on the loudspeaker: its label in the markers' amber, with a note sign."""
HEARD_SIGN = "♪ "
TICK_WIDTH_PX = 2.0
"""A marker's tick: wide enough to see at any sweep speed."""
FLAG_LABELS = (CHECK_LABEL, REACTION_LABEL, RELAX_LABEL)
MAX_CACHED_LABELS = 512
"""Rendered label pixmaps kept; a long exam's texts are mostly the same few, so the cache is cleared if it grows."""


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
    """Paints a :class:`TraceRaster` image 1:1 in device pixels, where its display mode puts the columns."""

    def __init__(self, mode: RunningMode) -> None:
        super().__init__()
        self._span_ms = 1.0
        self._raster: TraceRaster | None = None
        self._image: QImage | None = None
        self.mode = mode

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
        """Invalidate only the columns a frame changed (as the display mode says)."""
        if self._raster is None:
            return
        dirty = self.mode.dirty(parts, self._raster)
        if dirty is None:
            self.update()
            return
        ms_per_column = self._span_ms / self._raster.width
        for part in dirty:
            x0 = (part.start - 1) * ms_per_column
            self.update(QRectF(x0, 0, (part.stop - part.start + 2) * ms_per_column, DIVISIONS))

    def paint(self, painter: QPainter, *_args: object) -> None:
        if self._raster is None or self._image is None:
            return
        target = painter.transform().mapRect(self.boundingRect())
        painter.save()
        painter.resetTransform()
        raster = self._raster
        if round(target.width()) != raster.width or round(target.height()) != raster.height:
            painter.drawImage(target, self._image)  # mid-resize, before the raster is rebuilt for the new size
        else:
            self.mode.paint(painter, target, self._image, raster)
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
        self._heard: str | None = None
        self.setZValue(10)
        self.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)

    def set_labels(self, names: list[str], rows: list[float], height_px: int, ms_per_px: float) -> None:
        """``rows``: each baseline's pixel row from the top of a ``height_px`` high plot."""
        self.prepareGeometryChange()
        self._names = names
        self._rows = rows
        self._height_px = max(1, height_px)
        metrics = QFontMetricsF(self.font())
        widest = max((metrics.horizontalAdvance(HEARD_SIGN + name) for name in names), default=0.0)
        self._width_ms = (widest + 3 * self.PADDING_PX) * ms_per_px
        self.update()

    def set_heard(self, name: str | None) -> None:
        """Mark the channel heard on the loudspeaker (or none)."""
        self._heard = name
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
            heard = name == self._heard
            text = HEARD_SIGN + name if heard else name
            anchor = transform.map(QPointF(0, DIVISIONS * (1 - row / self._height_px)))
            box = QRectF(
                anchor.x(),
                anchor.y() - metrics.height() - pad,
                metrics.horizontalAdvance(text) + 2 * pad,
                metrics.height() + pad,
            )
            painter.fillRect(box, LABEL_FILL)
            painter.setPen(HEARD_COLOUR if heard else LABEL_COLOUR)
            painter.drawText(box.adjusted(pad, 0, 0, 0), Qt.AlignmentFlag.AlignVCenter, text)
        painter.restore()


@dataclass(frozen=True)
class Band:
    """A labelled span of the signal by absolute ring sample index; ``end`` ``None``: still open (up to now)."""

    onset: int
    end: int | None
    text: str
    colour: str
    lane: int = LANE_SEGMENT


def lane_for(label: str) -> int:
    """Where a label's band goes: segments fill the height, detected activity (and the trains found at rest) and
    flags are strips."""
    if label in (ACTIVITY_LABEL, SPONTANEOUS_LABEL):
        return LANE_ACTIVITY
    if label in FLAG_LABELS:
        return LANE_FLAG
    return LANE_SEGMENT


class BandsItem(pg.GraphicsObject):
    """Coloured translucent bands with their labels over the traces, placed by absolute sample index.

    The bands follow the raster's columns (``floor(index × width / sweep_samples)``), so they sweep or scroll
    with the trace for free: the raster's dirty strips repaint whatever of a band lies in them. A frame only
    looks at the bands that can be on screen (a bisection of the onsets, kept sorted when the bands change),
    fills their rectangles and blits each label from a pixmap rendered once, so a repaint costs a few
    rectangle fills and blits whatever the channel count or the length of the exam.
    """

    TEXT_PADDING_PX = 3

    def __init__(self, mode: RunningMode) -> None:
        super().__init__()
        self._span_ms = 1.0
        self._raster: TraceRaster | None = None
        self._groups: dict[str, list[Band]] = {}
        self._closed: list[Band] = []
        self._onsets: list[int] = []
        self._longest = 0
        self._open: list[Band] = []
        self._colours: dict[str, QColor] = {}
        self._labels: dict[tuple[str, str], QPixmap] = {}
        self.mode = mode
        self.setZValue(5)

    def set_raster(self, raster: TraceRaster | None, span_ms: float) -> None:
        self.prepareGeometryChange()
        self._span_ms = span_ms
        self._raster = raster
        self.update()

    def set_bands(self, group: str, bands: list[Band]) -> None:
        """Replace one owner's bands (the live exam, a replayed file's annotations) and repaint."""
        if bands:
            self._groups[group] = list(bands)
        else:
            self._groups.pop(group, None)
        every = [band for group_bands in self._groups.values() for band in group_bands]
        self._open = [band for band in every if band.end is None]
        self._closed = sorted((band for band in every if band.end is not None), key=lambda band: band.onset)
        self._onsets = [band.onset for band in self._closed]
        self._longest = max((band.end - band.onset for band in self._closed), default=0)
        if len(self._labels) > MAX_CACHED_LABELS:
            self._labels.clear()
        self.update()

    def bands(self, group: str | None = None) -> list[Band]:
        if group is None:
            return [band for group_bands in self._groups.values() for band in group_bands]
        return list(self._groups.get(group, []))

    def boundingRect(self) -> QRectF:  # noqa: N802 (Qt's name)
        return QRectF(0, 0, self._span_ms, DIVISIONS)

    def paint(self, painter: QPainter, *_args: object) -> None:
        raster = self._raster
        if raster is None or raster.last_column is None or not (self._closed or self._open):
            return
        transform = painter.transform()
        target = transform.mapRect(self.boundingRect())
        clip = transform.mapRect(painter.clipBoundingRect()) if painter.hasClipping() else target
        newest = raster.last_column
        oldest = self.mode.oldest_column(raster)
        per_sample = raster.columns_per_sample
        first_sample = int(oldest / per_sample)
        lo = bisect.bisect_left(self._onsets, first_sample - self._longest)
        hi = bisect.bisect_right(self._onsets, (newest + 1) / per_sample)
        painter.save()
        painter.resetTransform()
        scale_x = target.width() / raster.width
        for band in [*self._closed[lo:hi], *self._open]:
            start = int(band.onset * per_sample)
            last = newest if band.end is None else int(max(band.end - 1, band.onset) * per_sample)
            first, last = max(start, oldest), min(last, newest)
            if last < first:
                continue
            label = self._label(band.text, band.colour)
            top, lane_height = _lane_rows(band.lane, target.height(), label.height())
            pieces = self.mode.screen_pieces(first, last, raster)
            tick = band.lane == LANE_MARKER
            fill = QColor(band.colour) if tick else self._colour(band.colour)
            for a, b in pieces:
                width = max(TICK_WIDTH_PX, (b - a + 1) * scale_x) if tick else (b - a + 1) * scale_x
                rect = QRectF(target.left() + a * scale_x, target.top() + top, width, lane_height)
                if rect.intersects(clip):
                    painter.fillRect(rect, fill)
            for anchor in self.mode.label_pieces(pieces, start >= oldest):
                room = float(label.width()) if tick else (anchor[1] - anchor[0] + 1) * scale_x
                width = min(float(label.width()), room)
                y = _label_top(band.lane, target.top(), top, lane_height, label.height())
                box = QRectF(target.left() + anchor[0] * scale_x, y, width, label.height())
                if box.intersects(clip):
                    painter.drawPixmap(box.topLeft(), label, QRectF(0, 0, width, label.height()))
        painter.restore()

    def _colour(self, colour: str) -> QColor:
        fill = self._colours.get(colour)
        if fill is None:
            fill = self._colours[colour] = QColor(colour)
            fill.setAlpha(BAND_ALPHA)
        return fill

    def _label(self, text: str, colour: str) -> QPixmap:
        """The label's text on its dark box, rendered once (text layout per repaint costs more than the bands)."""
        key = (text, colour)
        pixmap = self._labels.get(key)
        if pixmap is None:
            font = ChannelLabelsItem.font()
            metrics = QFontMetricsF(font)
            pad = self.TEXT_PADDING_PX
            pixmap = QPixmap(math.ceil(metrics.horizontalAdvance(text) + 2 * pad), math.ceil(metrics.height()))
            pixmap.fill(LABEL_FILL)
            label_painter = QPainter(pixmap)
            label_painter.setFont(font)
            label_painter.setPen(QColor(colour).lighter(130))
            label_painter.drawText(QRectF(pad, 0, pixmap.width(), pixmap.height()), Qt.AlignmentFlag.AlignVCenter, text)
            label_painter.end()
            self._labels[key] = pixmap
        return pixmap


def _label_top(lane: int, plot_top: float, top: float, lane_height: float, text_height: float) -> float:
    """Where a band's label sits: a segment's at the top, a marker's on the row below it, a strip's in the strip."""
    if lane == LANE_SEGMENT:
        return plot_top
    if lane == LANE_MARKER:
        return plot_top + text_height + 1
    return plot_top + top + lane_height - text_height


def _lane_rows(lane: int, height: float, text_height: float) -> tuple[float, float]:
    """Top (pixels from the plot's top) and height of a lane: segments and markers fill it, strips sit at the
    bottom."""
    if lane in (LANE_SEGMENT, LANE_MARKER):
        return 0.0, height
    strip = text_height + 2
    return height - strip * lane, strip
