"""The main window: the live scope, its controls, the banner and the status bar, wired to the core.

Layout is ``ui/main_window.ui``; the controls live in :mod:`emgscope.gui.scope_controls`, the drawing in
:mod:`emgscope.gui.scope_view`, the connection in :mod:`emgscope.gui.connection`. This class holds the
settings and reacts to core events arriving through the Qt bridge.

Other parts plug in with a few lines: :meth:`add_toolbar_section` (audio strip, recording controls),
:meth:`add_dock` (replay transport, annotation list, guided-exam prompts), :attr:`bus` (subscribe through the
bridge's ``event`` signal to hear CONNECTED and friends) and :attr:`pipeline` (the rings of the current stream).
"""

from __future__ import annotations

import dataclasses

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QCloseEvent
from PyQt6.QtWidgets import QDialog, QDockWidget, QMainWindow, QToolBar, QWidget

from emgscope.acquisition.pump import Pipeline
from emgscope.core import events
from emgscope.core.events import Event, EventBus
from emgscope.core.settings import (
    FILTER_PRESETS,
    SENSITIVITY_PRESETS_UV,
    SWEEP_PRESETS_MS,
    AudioSettings,
    FilterSettings,
    Settings,
    nearest_preset,
)
from emgscope.dsp.filters import design as design_filters
from emgscope.gui.about_dialog import add_help_menu
from emgscope.gui.audio_controls import AudioControls
from emgscope.gui.banner import Banner
from emgscope.gui.bridge import EventBridge
from emgscope.gui.connection import SHUTDOWN_WAIT_S, ConnectionController, SourceFactory
from emgscope.gui.connection_dialog import ConnectionDialog, ConnectProgressDialog
from emgscope.gui.exam_feature import attach_exam
from emgscope.gui.filter_dialog import FilterDialog
from emgscope.gui.forms import load_form
from emgscope.gui.scope_controls import ScopeControls
from emgscope.gui.scope_view import ScopeView
from emgscope.gui.session_feature import SessionFeature
from emgscope.gui.status import StatusPanel
from emgscope.gui.units import format_band

PROGRESS_DELAY_MS = 1500
"""A connection pending longer than this gets a progress window (BrainFlow can block ~6 s on a silent port).
Starting the acquisition process takes 0.7–0.9 s here, which must not flash a window at every connect."""


class MainWindow(QMainWindow):
    """The scope window. Sources run in the acquisition process, unless ``source_factory`` builds them here
    (see :mod:`emgscope.gui.connection`)."""

    def __init__(self, settings: Settings, source_factory: SourceFactory | None = None) -> None:
        super().__init__()
        load_form("main_window.ui", self)
        self.settings = settings
        self.bus = EventBus()
        self.bridge = EventBridge(self.bus, self)
        self.connection = ConnectionController(self.bus, source_factory)
        self.scope = ScopeView()
        self.scopeLayout.addWidget(self.scope)
        self.banner = Banner(self.bannerFrame, self.bannerLabel, self.bannerAction, self.bannerClose)
        self.status = StatusPanel(self.statusbar, self.scope, lambda: self.connection.source)
        self.controls = ScopeControls(self)
        self.controls.show_simulator(False)
        display = settings.display
        self.scope.set_sensitivity(display.sensitivity_uv)
        self.scope.set_sweep(display.sweep_ms)
        self.scope.set_mode(display.mode)
        self.scope.set_hidden(display.hidden_channels)
        self.scope.set_band_text(format_band(settings.filters))
        self.controls.sync()
        self.progress: ConnectProgressDialog | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_DELAY_MS)
        self._progress_timer.timeout.connect(self._show_progress)
        self._target = ""
        self.bridge.event.connect(self._on_event)
        self.sessions = SessionFeature(self)
        self.exam = attach_exam(self)
        self.audio = AudioControls(settings.audio, self)
        self.add_toolbar_section("Audio").addWidget(self.audio)
        self.audio.settings_changed.connect(self._audio_settings_changed)
        self.controls.add_channel_keys(self.audio.select_channel)
        self.scope.channel_clicked.connect(self.audio.select_channel)
        add_help_menu(self, settings)
        self.scope.setFocus()

    # --- for other parts of the app ----------------------------------------------------------------------

    @property
    def pipeline(self) -> Pipeline | None:
        """The rings of the stream being shown, or ``None`` while not connected."""
        return self.scope.pipeline

    def add_toolbar_section(self, title: str, new_row: bool = False) -> QToolBar:
        """A new toolbar (e.g. the audio strip or the recording controls) after the existing ones.

        ``new_row`` starts a second row, so the scope's own controls never get squeezed off the screen.
        """
        if new_row:
            self.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
        bar = QToolBar(title, self)
        bar.setObjectName(title.replace(" ", "") + "ToolBar")
        bar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        return bar

    def add_dock(
        self, title: str, widget: QWidget, area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
    ) -> QDockWidget:
        """Dock ``widget`` (replay transport, annotation list, exam prompts); View menu can show or hide it."""
        dock = QDockWidget(title, self)
        dock.setObjectName(title.replace(" ", "") + "Dock")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.menuView.addAction(dock.toggleViewAction())
        return dock

    # --- connection ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """Connect to the source in the settings (returns at once; the pump opens it on its own thread).

        A connection still pending after :data:`PROGRESS_DELAY_MS` gets a progress window with Cancel; a quick
        one (the simulated patient, a board that answers) never flashes one.
        """
        self.audio.detach()
        self.scope.set_pipeline(None)
        self._close_progress()
        source = self.settings.source
        self._target = {"sim": "the simulated patient", "replay": source.replay.file}.get(
            source.kind, source.brainflow.board
        )
        self.status.set_source(f"Connecting to {self._target}…")
        self.banner.show("Connecting…", "info", "Cancel", self.cancel_connect)
        self.connection.connect(dataclasses.replace(source), self.settings.filters)
        self._progress_timer.start()

    def _show_progress(self) -> None:
        if self.connection.pump is None or self.connection.pipeline is not None:
            return
        self.progress = ConnectProgressDialog(self._target, self)
        self.progress.cancelled.connect(self.cancel_connect)
        self.progress.show()

    def _close_progress(self, failure: str = "") -> None:
        self._progress_timer.stop()
        progress, self.progress = self.progress, None
        if progress is not None and progress.connecting:
            if failure:
                progress.fail(failure)
            else:
                progress.succeed()

    def cancel_connect(self) -> None:
        self.audio.detach()
        self._progress_timer.stop()
        self.progress = None
        self.connection.disconnect()
        self.status.set_source("Not connected")
        self.banner.show("Connection cancelled.", "info", "Connect…", self.open_connection_dialog)

    def open_connection_dialog(self) -> None:
        dialog = ConnectionDialog(self.settings.source, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.settings.source = dialog.source_settings()
            self.start()

    def _on_event(self, event: Event) -> None:
        kind = event.kind
        if kind == events.CONNECTED:
            self._close_progress()
            self._connected()
        elif kind == events.CONNECT_FAILED:
            self._close_progress(event.message)
            self.status.set_source("Not connected")
            self.banner.show(event.message, "error", "Connect…", self.open_connection_dialog)
        elif kind == events.CONNECTION_LOST:
            self.banner.show(event.message, "error", "Reconnect", self.start)
        elif kind == events.CONNECTION_RESUMED:
            self.banner.show(event.message, "info")
        elif kind == events.SOURCE_ENDED and self.settings.source.kind == "replay":
            self.banner.show("End of the recording.", "info", "Play again", lambda: self.sessions.replay_from(0.0))
        elif kind in (events.SOURCE_ERROR, events.SOURCE_ENDED):
            self.audio.detach()
            self.banner.show(event.message or "The source stopped.", "error", "Reconnect", self.start)
        elif kind == events.WARNING:
            self.banner.show(event.message, "warning")
        elif kind == events.INFO:
            self.banner.show(event.message, "info")

    def _connected(self) -> None:
        pipeline = self.connection.pipeline
        if pipeline is None:
            return
        self.banner.hide()
        self.scope.set_pipeline(pipeline)
        self._show_band()
        self.status.set_source(pipeline.info.description)
        self.controls.set_channels(pipeline.info.channel_labels, self.scope.hidden)
        self.controls.show_simulator(hasattr(self.connection.source, "insertion"))
        self.audio.attach(pipeline.filtered, pipeline.info.sample_rate, pipeline.info.channel_labels)
        self.status.refresh()

    # --- display ------------------------------------------------------------------------------------------

    def set_sensitivity(self, uv_per_division: float) -> None:
        self.settings.display.sensitivity_uv = uv_per_division
        self.scope.set_sensitivity(uv_per_division)
        self.controls.sync()

    def step_sensitivity(self, step: int) -> None:
        self.set_sensitivity(_step(SENSITIVITY_PRESETS_UV, self.settings.display.sensitivity_uv, step))

    def set_sweep(self, ms_per_division: float) -> None:
        self.settings.display.sweep_ms = ms_per_division
        self.scope.set_sweep(ms_per_division)
        self.controls.sync()

    def step_sweep(self, step: int) -> None:
        self.set_sweep(_step(SWEEP_PRESETS_MS, self.settings.display.sweep_ms, step))

    def set_scrolling(self, scrolling: bool) -> None:
        mode = "scroll" if scrolling else "sweep"
        if mode != self.settings.display.mode:
            self.settings.display.mode = mode
            self.scope.set_mode(mode)

    def set_frozen(self, frozen: bool) -> None:
        """Freeze the picture; acquisition, the rings, sound and recording carry on."""
        self.scope.set_frozen(frozen)
        self.controls.freeze_action.setChecked(frozen)

    def set_channel_visible(self, label: str, visible: bool) -> None:
        hidden = set(self.settings.display.hidden_channels)
        (hidden.discard if visible else hidden.add)(label)
        self.settings.display.hidden_channels = sorted(hidden)
        self.scope.set_hidden(hidden)

    # --- filters ------------------------------------------------------------------------------------------

    def choose_filter_preset(self, name: str) -> None:
        if name in FILTER_PRESETS:
            # A preset sets the band; the mains notch is a property of the room, so it stays as it was.
            current = self.settings.filters
            preset = dataclasses.replace(
                FILTER_PRESETS[name], notch_hz=current.notch_hz, notch_harmonics=current.notch_harmonics
            )
            self.apply_filters(preset)
        else:
            self.edit_filters()

    def edit_filters(self) -> None:
        dialog = FilterDialog(self.settings.filters, self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.apply_filters(dialog.filter_settings())
        self.controls.sync()

    def apply_filters(self, filters: FilterSettings) -> None:
        """Change the filters live; a device too slow for them gets a warning in the banner (via the bus)."""
        self.settings.filters = filters
        if self.connection.pump is not None:
            self.connection.pump.set_filters(filters)
        self._show_band()
        self.controls.sync()

    def _show_band(self) -> None:
        pipeline = self.pipeline
        if pipeline is None:
            self.scope.set_band_text(format_band(self.settings.filters))
            return
        design = design_filters(self.settings.filters, pipeline.info.sample_rate)
        actual = FilterSettings("", design.low_cut_hz, design.high_cut_hz, design.notch_hz[0] if design.notch_hz else 0)
        self.scope.set_band_text(format_band(actual))

    def _audio_settings_changed(self, audio: AudioSettings) -> None:
        self.settings.audio = audio

    # --- simulated patient --------------------------------------------------------------------------------

    def set_effort(self, percent: float) -> None:
        self.settings.source.simulator.effort_percent = percent
        source = self.connection.source
        if source is not None and hasattr(source, "effort_percent"):
            source.effort_percent = percent

    def insertion(self) -> None:
        source = self.connection.source
        if source is not None and hasattr(source, "insertion"):
            source.insertion()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        recorder = self.sessions.record_controls.recorder
        if recorder is not None:
            recorder.stop()
            recorder.join(SHUTDOWN_WAIT_S)
        self.audio.detach()
        self.scope.timer.stop()
        self.bridge.close()
        self.connection.disconnect(SHUTDOWN_WAIT_S)
        super().closeEvent(event)


def _step(presets: tuple[float, ...], current: float, step: int) -> float:
    """The preset ``step`` places from the one nearest ``current``, stopping at the ends."""
    nearest = presets.index(nearest_preset(presets, current))
    return presets[max(0, min(len(presets) - 1, nearest + step))]
