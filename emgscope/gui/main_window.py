"""The main window: the live scope, its controls, the banner and the status bar, over one Qt-free session.

Layout is ``ui/main_window.ui``; the controls live in :mod:`emgscope.gui.scope_controls`, the drawing in
:mod:`emgscope.gui.scope_view`. Everything that runs (the source, the recorder, the sound, the exam) belongs to the
:class:`~emgscope.session.session.Session`; the window passes the session's events to it on the GUI thread (through
the Qt bridge) and shows them. Features (recording and replay, the audio strip, the guided exam) get the session
and the window as a :class:`~emgscope.gui.host.Host`: places for their widgets, the banner, the scope's bands.
"""

from __future__ import annotations

import dataclasses

from PyQt6.QtCore import Qt, QTimer, QUrl
from PyQt6.QtGui import QAction, QCloseEvent, QDesktopServices
from PyQt6.QtWidgets import QDialog, QDockWidget, QMainWindow, QMenu, QToolBar, QWidget

from emgscope.acquisition.pump import Pipeline
from emgscope.core import events, log
from emgscope.core.controls import ReplayControl, SimulatorControl
from emgscope.core.events import Event
from emgscope.core.settings import (
    FILTER_PRESETS,
    SENSITIVITY_PRESETS_UV,
    SWEEP_PRESETS_MS,
    AudioSettings,
    FilterSettings,
    Settings,
    StudySettings,
    nearest_preset,
)
from emgscope.core.units import format_band, format_sensitivity, format_sweep
from emgscope.gui.about_dialog import add_about
from emgscope.gui.audio_controls import AudioControls
from emgscope.gui.banner import FALLBACK_MS, Banner
from emgscope.gui.bridge import EventBridge
from emgscope.gui.connection_dialog import ConnectionDialog, ConnectProgressDialog
from emgscope.gui.display_modes import DISPLAY_MODES
from emgscope.gui.exam_feature import ExamFeature
from emgscope.gui.filter_dialog import FilterDialog
from emgscope.gui.forms import load_form
from emgscope.gui.lsl_feature import LslFeature
from emgscope.gui.muap_feature import MuapFeature
from emgscope.gui.report_feature import ReportFeature
from emgscope.gui.scope_controls import ScopeControls
from emgscope.gui.scope_items import Band
from emgscope.gui.scope_view import ScopeView
from emgscope.gui.session_feature import SessionFeature
from emgscope.gui.status import StatusPanel
from emgscope.gui.toolbar_strip import add_strip
from emgscope.session.audio import AUDIO_LOST
from emgscope.session.connection import SourceFactory
from emgscope.session.session import Session

FLASH_MS = 4000
"""How long a passing message (a marker dropped) stays in the status bar."""
CONNECTION = "connection"
"""The banner's topic for the source: connecting, lost, back, ended (see :class:`~emgscope.gui.banner.Banner`)."""
PROGRESS_DELAY_MS = 1500
"""A connection pending longer than this gets a progress window (BrainFlow can block ~6 s on a silent port).
Starting the acquisition process takes 0.7–0.9 s here, which must not flash a window at every connect."""


class MainWindow(QMainWindow):
    """The scope window (a :class:`~emgscope.gui.host.Host` for its features). Sources run in the acquisition
    process, unless ``source_factory`` builds them here (see :mod:`emgscope.session.connection`)."""

    def __init__(self, settings: Settings, source_factory: SourceFactory | None = None) -> None:
        super().__init__()
        load_form("main_window.ui", self)
        self.settings = settings
        self.session = Session(settings, source_factory)
        self.bridge = EventBridge(self.session.bus, self)
        self.bridge.event.connect(self.session.handle)  # first: the session is in step before anyone shows it
        self.scope = ScopeView()
        self.scopeLayout.addWidget(self.scope)
        self.banner = Banner(
            self.bannerFrame, self.bannerLabel, self.bannerAction, self.bannerClose, self.statusbar.showMessage
        )
        self.status = StatusPanel(self.statusbar, self.scope, self.session)
        self.controls = ScopeControls(self)
        self.controls.show_simulator(False)
        display = settings.display
        self.scope.set_sensitivity(display.sensitivity_uv)
        self.scope.set_sweep(display.sweep_ms)
        self.scope.set_mode(display.mode)
        self.scope.set_hidden(display.hidden_channels)
        trigger = self.scope.trigger
        trigger.set_settings(display.trigger)
        trigger.set_style(display.trigger_style)
        trigger.set_keep(display.trigger_keep)
        trigger.changed.connect(self._remember_trigger)
        self.scope.set_band_text(format_band(settings.filters))
        self.controls.sync()
        self.progress: ConnectProgressDialog | None = None
        self._progress_timer = QTimer(self)
        self._progress_timer.setSingleShot(True)
        self._progress_timer.setInterval(PROGRESS_DELAY_MS)
        self._progress_timer.timeout.connect(self._show_progress)
        self._target = ""
        self.bridge.event.connect(self._on_event)
        self.sessions = SessionFeature(self.session, self)
        self.exam = ExamFeature(self.session, self)
        self.muap = MuapFeature(self.session, self)
        record = self.sessions.record_controls.start_recording
        self.reports = ReportFeature(self.session, self, self.exam, self.sessions.open_recording, record)
        self.audio = AudioControls(self.session.audio, self.bridge, self)
        add_strip(self.add_toolbar_section("Audio"), self.audio)
        self.audio.settings_changed.connect(self._audio_settings_changed)
        self.controls.add_channel_keys(self.audio.select_channel)
        self.lsl = LslFeature(self.session.lsl_out, self)
        self.scope.channel_clicked.connect(self.audio.select_channel)
        self.audio.channel_heard.connect(self.scope.set_heard)
        log_action = QAction("Open &log folder", self)
        log_action.setToolTip(f"What happened, for the technician or a support request: {log.log_dir()}")
        log_action.triggered.connect(open_log_folder)
        help_menu = self.menu("&Help")
        help_menu.addAction(log_action)
        add_about(help_menu, self, settings)
        self.scope.setFocus()

    # --- the host its features see (emgscope.gui.host.Host) ----------------------------------------------

    @property
    def pipeline(self) -> Pipeline | None:
        """The rings of the stream being shown, or ``None`` while not connected."""
        return self.scope.pipeline

    def widget(self) -> QWidget:
        return self

    def menu(self, title: str) -> QMenu:
        plain = title.replace("&", "")
        for action in self.menuBar().actions():
            menu = action.menu()
            if menu is not None and menu.title().replace("&", "") == plain:
                return menu
        return self.menuBar().addMenu(title)

    def set_bands(self, group: str, bands: list[Band]) -> None:
        self.scope.set_bands(group, bands)

    def connect_source(self) -> None:
        self.start()

    def lock_source(self, locked: bool) -> None:
        self.controls.connect_action.setEnabled(not locked)
        self.sessions.open_action.setEnabled(not locked)

    def start_from_study_defaults(self, reason: str, filters: bool = True) -> None:
        """A new patient (or, with ``filters`` off, an exam, whose protocol sets the filters) starts from the study
        defaults, and says so: nothing carries over from the last patient unseen."""
        study = self.settings.study
        self.set_sensitivity(study.sensitivity_uv)
        self.set_sweep(study.sweep_ms)
        self.set_mode(study.mode)
        said = f"{format_sensitivity(study.sensitivity_uv)}/div, {format_sweep(study.sweep_ms)}/div"
        if not filters:
            self.flash(f"{reason}: the study's scales are set ({said}).")
            return
        self.apply_filters(dataclasses.replace(study.filters))
        text = f"{reason}: the study defaults are set ({said}, filters {format_band(study.filters)})."
        self.banner.show(text, "info", topic="study")

    def save_study_defaults(self) -> None:
        """Display → Save as study defaults: what is on screen now is where each new patient's study starts."""
        display = self.settings.display
        self.settings.study = StudySettings(
            display.sensitivity_uv, display.sweep_ms, display.mode, dataclasses.replace(self.settings.filters)
        )
        self.flash("Saved as the study defaults: each new patient starts from these scales and filters.")

    def show_patient_effort(self, percent: float, driven: bool) -> None:
        self.controls.follow_effort(percent, driven)

    def replay_range(self) -> tuple[float, float] | None:
        return self.sessions.replay_panel.chosen_range()

    def flash(self, text: str) -> None:
        self.statusbar.showMessage(text, FLASH_MS)

    def remove_dock(self, dock: QDockWidget) -> None:
        self.menuView.removeAction(dock.toggleViewAction())
        self.removeDockWidget(dock)
        dock.deleteLater()

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
        self.scope.set_pipeline(None)
        self._close_progress()
        source = self.settings.source
        self._target = {
            "sim": "the simulated patient",
            "replay": source.replay.file,
            "lsl": f"the LSL stream {source.lsl.name}",
        }.get(source.kind, source.brainflow.board)
        self.status.set_source(f"Connecting to {self._target}…")
        self.banner.show("Connecting…", "info", "Cancel", self.cancel_connect, CONNECTION)
        self.session.connect()
        self._progress_timer.start()

    def _show_progress(self) -> None:
        connection = self.session.connection
        if connection.pump is None or connection.pipeline is not None:
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
        self._progress_timer.stop()
        self.progress = None
        self.session.disconnect()
        self.status.set_source("Not connected")
        self.banner.show("Connection cancelled.", "info", "Connect…", self.open_connection_dialog, CONNECTION)

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
            self.banner.show(event.message, "error", "Connect…", self.open_connection_dialog, CONNECTION)
        elif kind == events.CONNECTION_LOST:
            self.banner.show(event.message, "error", "Reconnect", self.start, CONNECTION)
        elif kind == events.CONNECTION_RESUMED:
            if self.banner.topic == CONNECTION and self.banner.level == "error":
                self.banner.show(event.message, "info", topic=CONNECTION)
            else:  # a gap the stall left is on screen: it says more than "back again"
                self.statusbar.showMessage(event.message, FALLBACK_MS)
        elif kind == events.SOURCE_ENDED and self.settings.source.kind == "replay":
            replay_again = lambda: self.sessions.replay_from(0.0)  # noqa: E731
            self.banner.show("End of the recording.", "info", "Play again", replay_again, CONNECTION)
        elif kind in (events.SOURCE_ERROR, events.SOURCE_ENDED):
            self.status.set_source("Not connected")
            self.banner.show(event.message or "The source stopped.", "error", "Reconnect", self.start, CONNECTION)
        elif kind == events.WARNING:
            self.banner.show(event.message, "warning")
        elif kind == events.INFO:
            self.banner.show(event.message, "info")
        elif kind == events.SAMPLES_DROPPED:
            marked = "; it is marked in the recording." if self.session.recordings.recording else "."
            self.banner.show(event.message + marked, "warning", topic=CONNECTION)
        elif kind == AUDIO_LOST and not event.data.get("restarting"):
            self.banner.show(event.message, "error", "Restart sound", self.session.audio.restart, "audio")

    def show_notice(self, text: str) -> None:
        """Something found at start-up (settings reset, a recording repaired): it stays until the operator
        closes it."""
        self.banner.show(text, "warning", topic="startup")

    def _connected(self) -> None:
        pipeline = self.session.pipeline
        if pipeline is None:
            return
        self.banner.resolve(CONNECTION)
        self.scope.set_pipeline(pipeline)
        self._show_band()
        self.status.set_source(pipeline.info.description)
        self.controls.set_channels(pipeline.info.channel_labels, self.scope.hidden)
        self.controls.show_simulator(isinstance(self.session.source, SimulatorControl))
        self.status.refresh()
        # After every feature has shown its part (the replay dock takes the focus as it appears): the keys are the
        # scope's, so Space, the arrows and the markers work without a click.
        QTimer.singleShot(0, self.scope.setFocus)

    # --- display ------------------------------------------------------------------------------------------

    def set_sensitivity(self, uv_per_division: float) -> None:
        self.settings.display.sensitivity_uv = uv_per_division
        self.scope.set_sensitivity(uv_per_division)
        self.controls.sync()

    def step_sensitivity(self, step: int) -> None:
        self.set_sensitivity(_step(SENSITIVITY_PRESETS_UV, self.settings.display.sensitivity_uv, step))

    def set_sweep(self, ms_per_division: float) -> None:
        """The shown mode's sweep speed (the triggered mode's is the trigger's, stored with it)."""
        self.scope.set_sweep(ms_per_division)
        if self.scope.mode != "triggered":
            self.settings.display.sweep_ms = ms_per_division
        self.controls.sync()

    def step_sweep(self, step: int) -> None:
        self.set_sweep(_step(SWEEP_PRESETS_MS, self.scope.shown_sweep_ms, step))

    def _remember_trigger(self) -> None:
        """The trigger as the operator leaves it is where the triggered mode starts next time."""
        trigger, display = self.scope.trigger, self.settings.display
        display.trigger, display.trigger_style, display.trigger_keep = trigger.settings, trigger.style, trigger.keep

    def set_mode(self, mode: str) -> None:
        """Show the stream in display mode ``mode`` (a name of :data:`~emgscope.gui.display_modes.DISPLAY_MODES`)."""
        self.settings.display.mode = mode
        self.scope.set_mode(mode)
        self.controls.sync()

    def next_mode(self) -> None:
        """Key M: the next display mode, round the list."""
        names = list(DISPLAY_MODES)
        self.set_mode(names[(names.index(self.settings.display.mode) + 1) % len(names)])

    def space_pressed(self) -> None:
        """Space: while a recording replays, play or pause it (a frozen picture of a replay that plays on helps
        no one); live, freeze the picture."""
        if isinstance(self.session.source, ReplayControl) and self.session.connected:
            self.sessions.replay_panel.toggle_play()
        else:
            self.controls.freeze_action.toggle()

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
        rate = self.pipeline.info.sample_rate if self.pipeline is not None else None
        dialog = FilterDialog(self.settings.filters, self, rate)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.apply_filters(dialog.filter_settings())
        self.controls.sync()

    def apply_filters(self, filters: FilterSettings) -> None:
        """Change the filters live; a device too slow for them gets a warning in the banner (via the bus)."""
        self.session.set_filters(filters)
        self._show_band()
        self.controls.sync()

    def _show_band(self) -> None:
        design = self.session.filter_design()
        if design is None:
            self.scope.set_band_text(format_band(self.settings.filters))
            return
        actual = FilterSettings("", design.low_cut_hz, design.high_cut_hz, design.notch_hz[0] if design.notch_hz else 0)
        self.scope.set_band_text(format_band(actual))

    def _audio_settings_changed(self, audio: AudioSettings) -> None:
        self.settings.audio = audio

    # --- simulated patient --------------------------------------------------------------------------------

    def set_effort(self, percent: float) -> None:
        self.session.set_effort(percent)

    def insertion(self) -> None:
        source = self.session.source
        if isinstance(source, SimulatorControl):
            source.insertion()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt's name)
        self.scope.timer.stop()
        self.exam.timer.stop()
        self.bridge.close()
        self.session.close()
        super().closeEvent(event)


def open_log_folder() -> None:
    """Show the log folder in the desktop's file manager."""
    folder = log.log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def _step(presets: tuple[float, ...], current: float, step: int) -> float:
    """The preset ``step`` places from the one nearest ``current``, stopping at the ends."""
    nearest = presets.index(nearest_preset(presets, current))
    return presets[max(0, min(len(presets) - 1, nearest + step))]
