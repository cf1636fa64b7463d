"""How the scope turns the ring into a picture: one interchangeable strategy per display mode.

A :class:`DisplayMode` decides what a frame does (:meth:`DisplayMode.frame`) and what a rebuild does (new size,
sweep speed or channels: :meth:`DisplayMode.rebuild`); the :class:`~emgscope.gui.scope_view.ScopeView` only keeps
the stream, the scales and the timer, and delegates both. A new mode is one new class here and one entry in
:data:`DISPLAY_MODES`.

The two running modes share the min/max raster (:class:`~emgscope.gui.raster.TraceRaster`) and differ in where a
column lands on the screen:

* :class:`SweepMode`: the write position runs left to right over the old sweep behind an erase bar, as on a
  clinical machine; a frame repaints only the strip it changed;
* :class:`ScrollMode`: the newest column sits at the right edge and everything moves left; each frame repaints it all.

:class:`TriggeredMode` is the trigger and delay line: each sweep starts a set time before a crossing of the trigger
level on the heard channel, and the sweeps are shown superimposed or rastered with their average
(:mod:`emgscope.gui.triggered`). It has a timebase of its own (1-20 ms/div), so choosing it and leaving it again
gives the running modes their sweep speed back.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import TYPE_CHECKING, ClassVar

import numpy as np
from PyQt6.QtCore import QPointF, QRectF
from PyQt6.QtGui import QImage, QPainter

from emgscope.core.settings import MS_PER_DIV_RANGE
from emgscope.gui.raster import TraceRaster

if TYPE_CHECKING:
    from emgscope.gui.scope_view import ScopeView


class DisplayMode(ABC):
    """What a frame and a rebuild of the scope do."""

    name: ClassVar[str]
    """As stored in the settings (``DisplaySettings.mode``)."""

    @abstractmethod
    def rebuild(self, view: ScopeView) -> None:
        """Build the picture afresh from the ring (new size, sweep speed, channels or stream)."""

    @abstractmethod
    def frame(self, view: ScopeView) -> None:
        """One frame: take what arrived since the last one and update only what it changed."""

    def timebase(self, view: ScopeView) -> float:
        """The sweep speed this mode shows (ms/div)."""
        return view.sweep_ms

    def set_timebase(self, view: ScopeView, ms_per_division: float) -> None:
        """Take a new sweep speed (the view then rebuilds)."""
        view.sweep_ms = ms_per_division


class RunningMode(DisplayMode):
    """The trace as it comes in, min/max per pixel column (sweep and scroll differ in where columns land)."""

    erase: ClassVar[bool]
    """Whether an erase bar runs ahead of the write position."""

    def rebuild(self, view: ScopeView) -> None:
        pipeline, reader = view.pipeline, view.reader
        if pipeline is None or reader is None:
            view.show_raster(None)
            return
        labels = pipeline.info.channel_labels
        visible = [i for i, label in enumerate(labels) if label not in view.hidden]
        sweep_samples = view.sweep_samples
        width, height = view.plot_size()
        raster = TraceRaster(len(labels), width, height, sweep_samples, view.sensitivity_uv, visible, self.erase)
        position = reader.position
        first, data = pipeline.filtered.read_range(position - int(np.ceil(sweep_samples)), position)
        raster.ingest(first, data)
        view.show_raster(raster)

    def frame(self, view: ScopeView) -> None:
        reader, raster, pipeline = view.reader, view.raster, view.pipeline
        if reader is None or raster is None or pipeline is None:
            return
        ring = pipeline.filtered
        lost = ring.oldest_index - reader.position
        if lost > 0:
            reader.overrun_samples += lost  # fell behind by more than the ring holds: those samples are gone
        newest_sweep = ring.write_index - int(np.ceil(raster.sweep_samples))
        if reader.position < newest_sweep:
            reader.skip_to(newest_sweep)  # older samples would be drawn over within this very frame
        data = reader.read()
        view.raster_item.update_columns(raster.ingest(reader.position - data.shape[1], data))

    def oldest_column(self, raster: TraceRaster) -> int:
        """The oldest absolute column still on screen."""
        assert raster.last_column is not None
        return raster.last_column - raster.width + 1 + raster.erase_columns

    @abstractmethod
    def screen_pieces(self, first: int, last: int, raster: TraceRaster) -> list[tuple[int, int]]:
        """Screen column ranges of absolute columns ``first…last`` (one piece, or two where it wraps)."""

    @abstractmethod
    def label_pieces(self, pieces: list[tuple[int, int]], start_visible: bool) -> list[tuple[int, int]]:
        """Where a band's label goes: never somewhere that moves each frame but is not repainted."""

    @abstractmethod
    def dirty(self, parts: list[slice], raster: TraceRaster) -> list[slice] | None:
        """Buffer columns to repaint after a frame (``None``: everything)."""

    @abstractmethod
    def paint(self, painter: QPainter, target: QRectF, image: QImage, raster: TraceRaster) -> None:
        """Draw the raster's image 1:1 into ``target`` (device pixels)."""


class SweepMode(RunningMode):
    name = "sweep"
    erase = True

    def screen_pieces(self, first: int, last: int, raster: TraceRaster) -> list[tuple[int, int]]:
        width = raster.width
        a, b = first % width, last % width
        return [(a, b)] if a <= b else [(a, width - 1), (0, b)]

    def label_pieces(self, pieces: list[tuple[int, int]], start_visible: bool) -> list[tuple[int, int]]:
        """At the band's first sample while that is on screen, and at the left edge where the current sweep began
        (painted as the head passes it); the tail of a band whose start the erase bar has wiped has no label."""
        return [piece for k, piece in enumerate(pieces) if (k == 0 and start_visible) or piece[0] == 0]

    def dirty(self, parts: list[slice], raster: TraceRaster) -> list[slice] | None:
        return parts

    def paint(self, painter: QPainter, target: QRectF, image: QImage, raster: TraceRaster) -> None:
        painter.drawImage(QPointF(target.left(), target.top()), image)


class ScrollMode(RunningMode):
    name = "scroll"
    erase = False

    def screen_pieces(self, first: int, last: int, raster: TraceRaster) -> list[tuple[int, int]]:
        assert raster.last_column is not None
        offset = raster.width - 1 - raster.last_column
        return [(first + offset, last + offset)]

    def label_pieces(self, pieces: list[tuple[int, int]], start_visible: bool) -> list[tuple[int, int]]:
        return pieces[:1]

    def dirty(self, parts: list[slice], raster: TraceRaster) -> list[slice] | None:
        return None  # every column moves

    def paint(self, painter: QPainter, target: QRectF, image: QImage, raster: TraceRaster) -> None:
        head, width = raster.head, raster.width
        if head is None or head >= width - 1:
            painter.drawImage(QPointF(target.left(), target.top()), image)
            return
        left = width - head - 1
        painter.drawImage(QPointF(target.left(), target.top()), image, QRectF(head + 1, 0, left, image.height()))
        painter.drawImage(QPointF(target.left() + left, target.top()), image, QRectF(0, 0, head + 1, image.height()))


class TriggeredMode(DisplayMode):
    """Sweeps held still by the trigger; the state and the picture are the view's :class:`TriggerScope`
    (:mod:`emgscope.gui.triggered`), since a mode is shared by every view."""

    name = "triggered"

    def rebuild(self, view: ScopeView) -> None:
        view.show_raster(None)
        view.trigger.rebuild(view.pipeline, view.reader)

    def frame(self, view: ScopeView) -> None:
        view.trigger.frame()

    def timebase(self, view: ScopeView) -> float:
        return view.trigger.ms_per_div

    def set_timebase(self, view: ScopeView, ms_per_division: float) -> None:
        """The trigger's own sweep, held within what it offers (1-20 ms/div)."""
        low, high = MS_PER_DIV_RANGE
        view.trigger.update_settings(ms_per_div=min(max(ms_per_division, low), high))


DISPLAY_MODES: dict[str, DisplayMode] = {mode.name: mode for mode in (SweepMode(), ScrollMode(), TriggeredMode())}
"""Every display mode by its settings name."""
