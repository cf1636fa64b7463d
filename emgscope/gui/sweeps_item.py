"""The triggered display's picture: captured sweeps superimposed or rastered, and their running average.

View coordinates are the scope's (x in ms from the left edge, y in divisions, 0 at the bottom); like the trace
raster (:class:`~emgscope.gui.scope_items.RasterItem`) the item paints in device pixels, negative up. The kept
sweeps change only when one is captured (up to a few dozen times a second with several units firing), and are then
drawn afresh into a numpy image as the raster draws the running trace (:func:`draw_sweep`: each pixel column's
span from its minimum to its maximum, joined to the next column), a millisecond for twenty sweeps where QPainter
took ten; every paint blits that image and draws the few sweeps still being captured, the average and the labels
over it as polylines.

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

from emgscope.core.settings import DIVISIONS, RASTER, SUPERIMPOSE
from emgscope.gui.scope_items import BACKGROUND, HEARD_COLOUR, LABEL_COLOUR, LABEL_FILL, ChannelLabelsItem

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
NEWEST_SHARE = 0.92
OLDEST_SHARE = 0.18
"""Superimposed sweeps fade from the newest to the oldest between these shares of their colour over the plot's
background (mixed here and drawn opaque, so a newer sweep covers an older one where they cross)."""
DIMMED_SHARE = 0.18
"""While one sweep is selected, the others are drawn this faint."""
BOLD_OFFSETS_PX = (0.0, 1.0)
"""The average and the selected sweep are drawn twice, a pixel apart, to stand out: a 2-px pen would make Qt
stroke the polyline as an outline (tens of milliseconds for a noisy 2,000-point sweep) instead of drawing lines."""
TEXT_PADDING_PX = 4


def faded(colour: QColor, share: float) -> QColor:
    """``colour`` at ``share`` of its strength over the plot's background, opaque."""
    pairs = zip(colour.getRgb()[:3], BACKGROUND.getRgb()[:3], strict=True)
    return QColor(*(round(share * a + (1.0 - share) * b) for a, b in pairs))


def argb(colour: QColor) -> int:
    """An opaque colour as the image's premultiplied ARGB word."""
    return 0xFF000000 | (colour.red() << 16) | (colour.green() << 8) | colour.blue()


@dataclass(frozen=True)
class Footprint:
    """The pixels one sweep covers: rows relative to its baseline (negative up), and the same pixels as offsets into
    the image's flat buffer from the start of the baseline's row."""

    rows: np.ndarray
    offsets: np.ndarray
    top: int
    bottom: int


def footprint(samples: np.ndarray, length: int, width: int, height: int, px_per_uv: float) -> Footprint:
    """The pixels of ``samples`` (µV), the first ``samples.size`` of a sweep ``length`` long across ``width``
    columns, at ``px_per_uv``; rows beyond ``height`` from the baseline are left out (no lane of a plot that high
    shows them).

    Each column covers the samples that fall in it, from their minimum to their maximum, stretched to meet the
    previous column so the trace stays continuous; a column no sample falls in (a fast sweep: 200 samples over a
    thousand columns at 1 ms/div) takes the value interpolated at its centre.
    """
    values = np.asarray(samples, dtype=np.float64)
    n = values.size
    if n < 2:
        return Footprint(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 0, 0)
    column = np.floor(np.arange(n) * width / length).astype(np.int64)
    count = min(int(column[-1]) + 1, width)
    starts = np.searchsorted(column, np.arange(count))
    ends = np.append(starts[1:], n)
    filled = starts < ends
    lows = np.empty(count)
    highs = np.empty(count)
    lows[filled] = np.minimum.reduceat(values, starts[filled])
    highs[filled] = np.maximum.reduceat(values, starts[filled])
    if not filled.all():
        centres = (np.flatnonzero(~filled) + 0.5) * length / width
        lows[~filled] = highs[~filled] = np.interp(centres, np.arange(n), values)
    joined_lows = np.minimum(lows, np.append(lows[:1], highs[:-1]))
    joined_highs = np.maximum(highs, np.append(highs[:1], lows[:-1]))
    top = np.clip(np.floor(joined_lows * px_per_uv), -height, height).astype(np.int64)
    bottom = np.clip(np.floor(joined_highs * px_per_uv), -height, height).astype(np.int64)
    spans = bottom - top + 1
    first_of_column = np.repeat(np.cumsum(spans) - spans, spans)
    rows = np.repeat(top, spans) + np.arange(int(spans.sum())) - first_of_column
    return Footprint(rows, rows * width + np.repeat(np.arange(count), spans), int(top.min()), int(bottom.max()))


def draw_footprint(pixels: np.ndarray, drawn: Footprint, base_row: int, colour: int) -> None:
    """Paint ``drawn`` on the pixel row ``base_row`` of ``pixels`` (rows × columns of ARGB words), clipped to it."""
    height, width = pixels.shape
    offsets = drawn.offsets
    if drawn.top + base_row < 0 or drawn.bottom + base_row >= height:
        rows = drawn.rows + base_row
        offsets = offsets[(rows >= 0) & (rows < height)]
    pixels.ravel()[offsets + base_row * width] = colour


def draw_sweep(
    pixels: np.ndarray, samples: np.ndarray, length: int, base_row: int, px_per_uv: float, colour: int
) -> None:
    """Draw ``samples`` (see :func:`footprint`) on the pixel row ``base_row`` of ``pixels``, negative up."""
    height, width = pixels.shape
    draw_footprint(pixels, footprint(samples, length, width, height, px_per_uv), base_row, colour)


def baseline_row(style: str, keep: int, lane: int, height: int) -> int:
    """The pixel row (from the top of a plot ``height`` high) of a lane's baseline, a whole row so that a sweep's
    footprint can be moved from lane to lane as it is."""
    return round((DIVISIONS - baseline_divisions(style, keep, lane)) * height / DIVISIONS)


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
    triggers: tuple[int, ...] = ()
    """The kept sweeps' trigger samples (what tells one from another)."""
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
        self.pixels = np.zeros((1, 1), dtype=np.uint32)
        """The kept sweeps as drawn (rows × columns, premultiplied ARGB; the image painted wraps it)."""
        self._footprints: dict[int, Footprint] = {}
        """Each kept sweep's pixels by its trigger sample, for the scale in :attr:`_footprint_scale`: a sweep is
        measured into pixels once, then only painted, however often the sweeps around it change."""
        self._footprint_scale: tuple[object, ...] = ()
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
        # Rastered, the sweeps being captured take the bottom lanes and push the kept ones up.
        lanes_taken = len(self.picture.capturing) if self.style == RASTER else 0
        key = (round(target.width()), round(target.height()), self.picture.version, self.style, self.keep, lanes_taken)
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
            self._line(painter, picture.average, target, self._base(0), AVERAGE_COLOUR, bold=True)
        self._paint_labels(painter, target, sweeps)
        painter.restore()

    def _base(self, lane: int) -> float:
        return baseline_divisions(self.style, self.keep, lane)

    def _render_kept(self, width: int, height: int) -> QImage:
        """The kept sweeps, faded by age (or dimmed around the selected one), on a transparent image."""
        width, height = max(1, width), max(1, height)
        if self.pixels.shape == (height, width):
            self.pixels.fill(0)
        else:
            self.pixels = np.zeros((height, width), dtype=np.uint32)
        picture = self.picture
        px_per_uv = height / (DIVISIONS * self.uv_per_div)
        scale = (width, height, px_per_uv, self.length)
        if scale != self._footprint_scale:
            self._footprints, self._footprint_scale = {}, scale
        footprints = {}
        for trigger, samples in zip(picture.triggers, picture.sweeps, strict=True):
            drawn = self._footprints.get(trigger)
            if drawn is None:
                drawn = footprint(samples, self.length, width, height, px_per_uv)
            footprints[trigger] = drawn
        self._footprints = footprints
        kept = [lane for lane, _samples, capturing in self.lanes() if not capturing]
        count = len(picture.sweeps)
        offset = count - len(kept)
        order = [k for k in range(len(kept)) if offset + k != picture.selected]
        if picture.selected is not None and picture.selected >= offset:
            order.append(picture.selected - offset)  # drawn last, over the others
        for k in order:
            lane = kept[k]
            index = offset + k
            if index == picture.selected:
                colour = SELECTED_COLOUR
            elif picture.selected is not None:
                colour = faded(SWEEP_COLOUR, DIMMED_SHARE)
            elif self.style == SUPERIMPOSE:
                age = (count - 1 - index) / max(1, count - 1)
                colour = faded(SWEEP_COLOUR, NEWEST_SHARE - age * (NEWEST_SHARE - OLDEST_SHARE))
            else:
                colour = SWEEP_COLOUR
            base_row = baseline_row(self.style, self.keep, lane, height)
            draw_footprint(self.pixels, footprints[picture.triggers[index]], base_row, argb(colour))
        return pg.functions.ndarray_to_qimage(self.pixels, QImage.Format.Format_ARGB32_Premultiplied)

    def _line(
        self, painter: QPainter, samples: np.ndarray, target: QRectF, base: float, colour: QColor, bold: bool = False
    ) -> None:
        if samples.size < 2:
            return
        pen = QPen(colour, 1.0)
        pen.setCosmetic(True)
        painter.setPen(pen)
        points = polyline(samples, self.length, target, base, self.uv_per_div)
        for offset in BOLD_OFFSETS_PX if bold else BOLD_OFFSETS_PX[:1]:
            painter.drawPolyline(points.translated(0.0, offset))

    def _paint_trigger_mark(self, painter: QPainter, target: QRectF) -> None:
        """A dotted line at the trigger's time: the pre-trigger part of each sweep lies to its left."""
        x = target.left() + self.pre * target.width() / self.length
        pen = QPen(TRIGGER_MARK_COLOUR, 1.0, Qt.PenStyle.DotLine)
        pen.setCosmetic(True)
        painter.setPen(pen)
        painter.drawLine(QPointF(x, target.top()), QPointF(x, target.bottom()))

    def _paint_labels(self, painter: QPainter, target: QRectF, sweeps: int) -> None:
        """The channel's name and what the yellow trace is, on the labels' dark box, at the top left."""
        painter.setFont(ChannelLabelsItem.font())
        metrics = painter.fontMetrics()
        pad = TEXT_PADDING_PX
        top = target.top() + pad
        lines = [(self.label, LABEL_COLOUR)] if self.label else []
        if sweeps:
            lines.append((f"Average of {sweeps}", AVERAGE_COLOUR))
        for text, colour in lines:
            box = QRectF(target.left() + pad, top, metrics.horizontalAdvance(text) + 2 * pad, metrics.height())
            painter.fillRect(box, LABEL_FILL)
            painter.setPen(colour)
            painter.drawText(QPointF(box.left() + pad, top + metrics.ascent()), text)
            top += metrics.height()
