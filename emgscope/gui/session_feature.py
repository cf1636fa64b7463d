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
from emgscope.gui.toolbar_strip import add_strip
from emgscope.recording.export import ExportError, export_copy
from emgscope.recording.repair import repair_in_background
from emgscope.replay.recent import add_recent
from emgscope.session.session import Session


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

        host.bridge.event.connect(self._on_event)
        repair_in_background(session.settings.recording.folder(), session.bus)

    @property
    def replay_source(self) -> ReplayControl | None:
        source = self.session.source
        return source if isinstance(source, ReplayControl) else None

    def choose_recording(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self.host.widget(), "Open recording", "", FILE_FILTER)
        if path:
            self.open_recording(Path(path))

    def open_recording(self, path: Path, start_s: float = 0.0) -> None:
        """Replay ``path`` in place of the current source (refused while recording: the file would mix sources)."""
        if self.record_controls.recording:
            self.host.banner.show("Stop the recording before opening another source.", "warning")
            return
        source = self.session.settings.source
        source.replay.file, source.replay.start_s = str(path), start_s
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
        if event.kind != events.CONNECTED:
            return
        replay = self.replay_source
        self.replay_panel.set_source(replay)
        self.replay_dock.setVisible(replay is not None)
        if replay is not None and replay.facts is not None:
            add_recent(replay.facts.path)
