"""Sessions in the main window: recording controls, the replay dock, and the File menu's recording actions.

The pieces themselves live in :mod:`emgscope.gui.record_controls`, :mod:`emgscope.gui.replay_panel` and the
session's :class:`~emgscope.session.recording.Recordings`; this module only places them in the window: which source
is running decides whether the replay dock shows, a recording in progress locks the source, and files are opened,
exported and repaired without the GUI thread ever waiting on the disk.
"""

from __future__ import annotations

import threading
from pathlib import Path

from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QFileDialog, QMenu

from emgscope.core import events
from emgscope.core.controls import ReplayControl
from emgscope.core.events import Event
from emgscope.core.units import counted
from emgscope.gui.host import Host
from emgscope.gui.record_controls import RecordControls
from emgscope.gui.replay_panel import FILE_FILTER, ReplayPanel, fill_recent_menu
from emgscope.gui.scope_items import LANE_MARKER, MARKER_COLOUR, Band
from emgscope.gui.side_panel import side_panel_width
from emgscope.gui.toolbar_strip import add_strip
from emgscope.recording.export import ExportError, export_copy
from emgscope.recording.repair import repair_in_background
from emgscope.replay.reader import RecordingError, open_recording
from emgscope.replay.recent import add_recent
from emgscope.session.recording import MARKER_PLACED
from emgscope.session.session import Session

MARKER_GROUP = "markers"
FILE_READY = "file_ready"
"""A recording asked for was read and can be replayed (``data``: its path and where to start)."""
FILE_REFUSED = "file_refused"
"""A recording asked for cannot be replayed: the message says why; the running source goes on."""


class SessionFeature:
    """Owns the recording toolbar section and the replay dock of one main window."""

    def __init__(self, session: Session, host: Host) -> None:
        self.session = session
        self.host = host
        window = host.widget()
        self.record_controls = RecordControls(session.recordings, host.bridge, window)
        add_strip(host.add_toolbar_section("Recording", new_row=True), self.record_controls)
        self.record_controls.message.connect(lambda text: host.banner.show(text, "info"))
        self.record_controls.recording_changed.connect(host.lock_source)
        self.record_controls.new_patient.connect(lambda: host.start_from_study_defaults("New patient"))

        self.replay_panel = ReplayPanel()
        self.replay_dock = host.add_dock("Replay", self.replay_panel)
        self.replay_dock.hide()
        self.replay_panel.restart_requested.connect(self.replay_from)

        menu = host.menu("&File")
        first = menu.actions()[1] if len(menu.actions()) > 1 else None
        self.open_action = QAction("&Open recording…", window)
        self.open_action.setShortcut(QKeySequence("Ctrl+O"))
        self.open_action.triggered.connect(self.choose_recording)
        self.recent_menu = QMenu("Recent recordings", menu)
        self.recent_menu.aboutToShow.connect(lambda: fill_recent_menu(self.recent_menu, self.open_recording))
        self.export_action = QAction("&Export teaching copy…", window)
        self.export_action.setToolTip("Copy a recording with the patient fields blanked")
        self.export_action.triggered.connect(self.choose_export)
        menu.insertAction(first, self.open_action)
        menu.insertMenu(first, self.recent_menu)
        menu.insertAction(first, self.export_action)
        menu.insertSeparator(first)
        window.addAction(self.open_action)

        self.markers: list[Band] = []
        """The markers and notes dropped on the current stream, drawn as ticks at their samples."""
        host.bridge.event.connect(self._on_event)
        repair_in_background(session.settings.recording.folder(), session.bus)

    def _show_marker(self, event: Event) -> None:
        """A tick with its text at the sample the operator saw, and a word in the status bar."""
        index = event.sample_index
        assert index is not None
        pipeline = self.session.pipeline
        oldest = pipeline.raw.oldest_index if pipeline is not None else 0
        self.markers = [band for band in self.markers if band.onset >= oldest]
        self.markers.append(Band(index, index + 1, event.message, MARKER_COLOUR, LANE_MARKER))
        self.host.set_bands(MARKER_GROUP, self.markers)
        self.host.flash(f"{event.message} at {event.data.get('onset_s', 0.0):.1f} s of the recording")

    @property
    def replay_source(self) -> ReplayControl | None:
        source = self.session.source
        return source if isinstance(source, ReplayControl) else None

    def choose_recording(self) -> None:
        """The file dialog opens in the sessions folder: that is where the recordings are."""
        folder = str(self.session.settings.recording.folder())
        path, _ = QFileDialog.getOpenFileName(self.host.widget(), "Open recording", folder, FILE_FILTER)
        if path:
            self.open_recording(Path(path))

    def open_recording(self, path: Path, start_s: float = 0.0) -> threading.Thread | None:
        """Replay ``path`` in place of the current source, once the file is known to open: it is read on a worker
        thread first, and a file that cannot be replayed leaves the running source as it is and says why.
        Refused while recording (the file would mix sources)."""
        if self.record_controls.recording:
            self.host.banner.show("Stop the recording before opening another source.", "warning")
            return None
        board = self.session.settings.source.replay.board or None
        bus = self.session.bus

        def check() -> None:
            try:
                open_recording(path, board)
            except RecordingError as exc:
                bus.post(Event(FILE_REFUSED, f"{exc} The running source goes on.", None, {"path": str(path)}))
                return
            bus.post(Event(FILE_READY, "", None, {"path": str(path), "start_s": start_s}))

        thread = threading.Thread(target=check, name="open-recording", daemon=True)
        thread.start()
        return thread

    def _replay(self, path: str, start_s: float) -> None:
        """The file opened: replay it."""
        if self.record_controls.recording:
            return
        source = self.session.settings.source
        source.replay.file, source.replay.start_s = path, start_s
        source.kind = "replay"
        self.host.connect_source()

    def replay_from(self, seconds: float) -> None:
        """The replay ended and the user pressed Play: start it again from ``seconds``."""
        self.open_recording(Path(self.session.settings.source.replay.file), seconds)

    def choose_export(self) -> None:
        """Ask for a recording and a target; a loop range set on that recording's replay is the span copied."""
        replay = self.replay_source
        start_dir = str(replay.facts.path) if replay is not None and replay.facts is not None else ""
        source, _ = QFileDialog.getOpenFileName(self.host.widget(), "Recording to copy", start_dir, FILE_FILTER)
        if not source:
            return
        suggestion = str(Path(source).with_name(Path(source).stem + "_teaching.bdf"))
        target, _ = QFileDialog.getSaveFileName(
            self.host.widget(), "Teaching copy", suggestion, "BDF+ (*.bdf);;EDF+ (*.edf)"
        )
        if target:
            self.export(Path(source), Path(target), self._loop_of(Path(source)))

    def export(self, source: Path, target: Path, span: tuple[float, float] | None = None) -> threading.Thread:
        """De-identify ``source`` (or its ``span`` in seconds) into ``target`` on a worker thread.

        The outcome arrives as a banner message.
        """
        bus = self.session.bus
        start, end = span if span is not None else (None, None)

        def work() -> None:
            try:
                report = export_copy(source, target, deidentify=True, start_s=start, end_s=end)
            except ExportError as exc:
                bus.post(Event(events.WARNING, f"Export failed: {exc}"))
                return
            cut = f"{start:.2f}–{end:.2f} s, " if span is not None else ""
            bus.post(
                Event(
                    events.INFO,
                    f"Teaching copy saved: {report.path} ({cut}{report.seconds:.1f} s, "
                    f"{counted(report.n_channels, 'channel')}, {counted(report.annotations, 'annotation')}, "
                    "patient fields blanked).",
                )
            )

        thread = threading.Thread(target=work, name="export", daemon=True)
        thread.start()
        return thread

    def _loop_of(self, path: Path) -> tuple[float, float] | None:
        """The loop range of the replay of ``path``, if one is set: the span a teacher picked is the span to copy."""
        replay = self.replay_source
        if replay is None or replay.facts is None or replay.loop is None:
            return None
        return replay.loop if replay.facts.path.resolve() == path.resolve() else None

    def _on_event(self, event: Event) -> None:
        if event.kind == MARKER_PLACED and event.sample_index is not None:
            self._show_marker(event)
            return
        if event.kind == FILE_READY:
            self._replay(event.data["path"], event.data["start_s"])
            return
        if event.kind == FILE_REFUSED:
            self.host.banner.show(event.message, "error", topic="file")
            return
        if event.kind != events.CONNECTED:
            return
        self.markers.clear()
        self.host.set_bands(MARKER_GROUP, [])
        replay = self.replay_source
        self.replay_panel.setFixedWidth(side_panel_width(self.host.widget().width()))
        self.replay_panel.set_source(replay)
        self.replay_dock.setVisible(replay is not None)
        if replay is not None and replay.facts is not None:
            add_recent(replay.facts.path)
