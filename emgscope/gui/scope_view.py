"""The live scope: stacked needle-EMG traces in clinical units, redrawn from the filtered ring at a fixed rate.

A QTimer pulls whatever the acquisition thread wrote since the last frame through the ring's ``display``
reader; no signal is emitted per chunk and nothing here ever waits. What a frame and a rebuild do is the display
mode's (:mod:`emgscope.gui.display_modes`: sweep, scroll, triggered); the running modes draw from a
:class:`~emgscope.gui.raster.TraceRaster`, which only recomputes the columns new samples fall into. A change of
size, sweep speed or channel set rebuilds the picture from the ring by absolute sample index; a change of
sensitivity only redraws the stored min/max. Freeze stops pulling: acquisition and the ring carry on.

Annotation bands (a guided exam's steps, a replayed file's segments) are placed by absolute sample index on the
raster's own columns (:class:`~emgscope.gui.scope_items.BandsItem`), so they move with the trace. The triggered
mode's state and level lines are the view's :attr:`ScopeView.trigger`; the measuring cursors
(:mod:`emgscope.gui.cursors`) read out in the header.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterable

import pyqtgraph as pg
from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QGraphicsItem, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from emgscope.acquisition.pump import Pipeline
from emgscope.core.ring import RingReader
from emgscope.core.settings import DIVISIONS
from emgscope.core.units import format_sensitivity, format_sweep
from emgscope.gui.cursors import Cursors
from emgscope.gui.display_modes import DISPLAY_MODES, DisplayMode, RunningMode, TriggeredMode
from emgscope.gui.raster import TraceRaster
from emgscope.gui.scope_items import (
    BACKGROUND,
    LABEL_COLOUR,
    Band,
    BandsItem,
    ChannelLabelsItem,
    GridItem,
    RasterItem,
)
from emgscope.gui.triggered import TriggerScope

FRAME_RATE_HZ = 60
FRAME_INTERVAL_MS = 16
"""16 ms rather than round(1000/60) = 17, so a precise timer really gives at least 60 frames a second."""
READER_NAME = "display"


class ScopeView(QWidget):
    """Header readouts (scale, band, FROZEN) above a pyqtgraph plot holding the grid and the trace raster."""

    channel_clicked = pyqtSignal(int)
    """The index (in the stream's channel list) of the trace the user clicked: the channel to hear."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scopeView")
        self.sensitivity_uv = 100.0
        self.sweep_ms = 100.0
        self.display_mode: DisplayMode = DISPLAY_MODES["sweep"]
        self.frozen = False
        self.hidden: set[str] = set()
        self.pipeline: Pipeline | None = None
        self.reader: RingReader | None = None
        self.raster: TraceRaster | None = None
        self._frame_times: deque[float] = deque(maxlen=256)

        self.scale_label = QLabel(objectName="scaleLabel")
        self.band_label = QLabel(objectName="bandLabel")
        self.frozen_label = QLabel("FROZEN", objectName="frozenLabel")
        self.frozen_label.setVisible(False)
        self.cursor_label = QLabel(objectName="cursorLabel")
        header = QHBoxLayout()
        header.setContentsMargins(8, 2, 8, 2)
        header.addWidget(self.scale_label)
        header.addStretch(1)
        header.addWidget(self.frozen_label)
        header.addStretch(1)
        header.addWidget(self.cursor_label)
        header.addWidget(self.band_label)

        self.plot = pg.PlotWidget(background=BACKGROUND)
        self.plot.setObjectName("scopePlot")
        self.view_box: pg.ViewBox = self.plot.getPlotItem().getViewBox()
        self.view_box.setMouseEnabled(False, False)
        self.view_box.setMenuEnabled(False)
        self.view_box.setDefaultPadding(0)
        plot_item = self.plot.getPlotItem()
        plot_item.hideButtons()
        plot_item.hideAxis("left")
        axis = plot_item.getAxis("bottom")
        axis.setLabel("time", units="ms")
        axis.enableAutoSIPrefix(False)
        axis.setPen(pg.mkPen(LABEL_COLOUR))
        axis.setTextPen(pg.mkPen(LABEL_COLOUR))
        axis.setCacheMode(QGraphicsItem.CacheMode.DeviceCoordinateCache)  # its text changes only with the sweep
        self.grid = GridItem()
        running = DISPLAY_MODES["sweep"]
        assert isinstance(running, RunningMode)
        self.raster_item = RasterItem(running)
        self.labels = ChannelLabelsItem()
        self.bands = BandsItem(running)
        self.view_box.addItem(self.grid)
        self.view_box.addItem(self.raster_item)
        self.view_box.addItem(self.bands)
        self.view_box.addItem(self.labels)
        self.trigger = TriggerScope(self.view_box)
        self.cursors = Cursors(self.view_box)
        self.cursors.readout_changed.connect(self.cursor_label.setText)
        self.view_box.sigResized.connect(self.rebuild)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addLayout(header)
        layout.addWidget(self.plot, 1)

        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.setInterval(FRAME_INTERVAL_MS)
        self.timer.timeout.connect(self.tick)
        self._apply_span()
        self._update_scale_label()

    # --- what is shown -------------------------------------------------------------------------------

    def set_pipeline(self, pipeline: Pipeline | None) -> None:
        """Show a newly connected stream (or nothing); the display reader starts at the newest sample."""
        if self.pipeline is not None:
            self.pipeline.filtered.remove_reader(READER_NAME)
        self.pipeline = pipeline
        self.reader = pipeline.filtered.reader(READER_NAME) if pipeline is not None else None
        self.rebuild()
        if pipeline is None:
            self.timer.stop()
        elif not self.frozen:
            self.timer.start()

    def set_sensitivity(self, uv_per_division: float) -> None:
        self.sensitivity_uv = uv_per_division
        self._update_scale_label()
        self.trigger.set_sensitivity(uv_per_division)
        self.cursors.set_scale(self._span_ms, uv_per_division)
        if self.raster is not None:
            self.raster.set_layout(uv_per_division, self.raster.visible)
            self.raster.redraw()
            self.raster_item.update()

    def set_sweep(self, ms_per_division: float) -> None:
        """The shown mode's sweep speed (the triggered mode keeps its own, within 1-20 ms/div)."""
        self.display_mode.set_timebase(self, ms_per_division)
        self._update_scale_label()
        self._apply_span()
        self.rebuild()

    @property
    def mode(self) -> str:
        return self.display_mode.name

    @property
    def shown_sweep_ms(self) -> float:
        """The sweep speed on screen (ms/div): the running modes' or the trigger's."""
        return self.display_mode.timebase(self)

    def set_mode(self, mode: str) -> None:
        """A display mode by name (:data:`~emgscope.gui.display_modes.DISPLAY_MODES`: ``sweep``, ``scroll``)."""
        self.display_mode = DISPLAY_MODES[mode]
        if isinstance(self.display_mode, RunningMode):
            self.raster_item.mode = self.bands.mode = self.display_mode
        self.trigger.set_active(isinstance(self.display_mode, TriggeredMode))
        self._update_scale_label()
        self._apply_span()
        self.rebuild()

    def set_hidden(self, labels: Iterable[str]) -> None:
        self.hidden = set(labels)
        self.rebuild()

    def set_bands(self, group: str, bands: list[Band]) -> None:
        """Show ``bands`` (absolute sample indices of the filtered ring) for one owner, replacing its old ones."""
        self.bands.set_bands(group, bands)

    def set_heard(self, channel: int) -> None:
        """Mark the trace of the channel the loudspeaker plays (its label in amber, with a note sign)."""
        labels = self.pipeline.info.channel_labels if self.pipeline is not None else ()
        self.labels.set_heard(labels[channel] if 0 <= channel < len(labels) else None)
        if 0 <= channel < len(labels):
            self.trigger.set_channel(channel, labels[channel])

    def set_band_text(self, text: str) -> None:
        self.band_label.setText(text)

    def set_frozen(self, frozen: bool) -> None:
        """Freeze stops pulling from the ring; unfreezing jumps to the newest samples (nothing is lost)."""
        self.frozen = frozen
        self.frozen_label.setVisible(frozen)
        self.trigger.set_frozen(frozen)
        if frozen:
            self.timer.stop()
        elif self.pipeline is not None:
            if self.reader is not None:
                self.reader.skip_to(self.pipeline.filtered.write_index)
            self.rebuild()
            self.timer.start()

    # --- frames ---------------------------------------------------------------------------------------

    def tick(self) -> None:
        """One frame, as the display mode draws it."""
        if self.frozen or self.reader is None or self.pipeline is None:
            return
        self.display_mode.frame(self)
        self._frame_times.append(time.perf_counter())

    def channel_at(self, y_divisions: float) -> int | None:
        """The channel whose lane holds the height ``y_divisions`` (0 is the bottom of the plot)."""
        raster = self.raster
        if raster is None or not raster.visible:
            return None
        lane = int((1.0 - y_divisions / DIVISIONS) * len(raster.visible))
        return raster.visible[lane] if 0 <= lane < len(raster.visible) else None

    def _clicked(self, event: object) -> None:
        point = self.view_box.mapSceneToView(event.scenePos())  # type: ignore[attr-defined]
        channel = self.channel_at(point.y())
        if channel is not None:
            self.channel_clicked.emit(channel)

    @property
    def fps(self) -> float:
        """Frames drawn during the last second."""
        now = time.perf_counter()
        return float(sum(1 for t in self._frame_times if now - t <= 1.0))

    def rebuild(self) -> None:
        """The picture afresh for the current size, sweep, mode and channels, from the ring up to the reader."""
        self.display_mode.rebuild(self)

    # --- for the display modes ------------------------------------------------------------------------

    @property
    def sweep_samples(self) -> float:
        """Samples across the screen at the current sweep speed."""
        assert self.pipeline is not None
        return self.sweep_ms * DIVISIONS / 1000 * self.pipeline.info.sample_rate

    def plot_size(self) -> tuple[int, int]:
        """The plot's size in device pixels (the raster draws 1:1)."""
        return round(self.view_box.width()), round(self.view_box.height())

    def show_raster(self, raster: TraceRaster | None) -> None:
        """Draw ``raster`` (or nothing), with the bands and channel labels placed on it."""
        self.raster = raster
        self.raster_item.set_raster(raster, self._span_ms)
        self.bands.set_raster(raster, self._span_ms)
        if raster is None or self.pipeline is None:
            self._place_labels([])
        else:
            labels = self.pipeline.info.channel_labels
            self._place_labels([labels[i] for i in raster.visible])

    # --- decorations ----------------------------------------------------------------------------------

    @property
    def _span_ms(self) -> float:
        return self.shown_sweep_ms * DIVISIONS

    def _apply_span(self) -> None:
        span = self._span_ms
        self.view_box.setRange(xRange=(0, span), yRange=(0, DIVISIONS), padding=0)
        self.grid.set_span(span)
        self.plot.getPlotItem().getAxis("bottom").setTickSpacing(span / 2, span / DIVISIONS)
        self.cursors.set_scale(span, self.sensitivity_uv)

    def _update_scale_label(self) -> None:
        self.scale_label.setText(
            f"{format_sensitivity(self.sensitivity_uv)}/div    {format_sweep(self.shown_sweep_ms)}/div"
        )

    def _place_labels(self, names: list[str]) -> None:
        raster = self.raster
        if raster is None:
            self.labels.set_labels([], [], 1, 1.0)
            return
        self.labels.set_labels(names, raster.baseline_rows(), raster.height, self._span_ms / raster.width)
