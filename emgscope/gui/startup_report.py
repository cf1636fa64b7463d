"""When the app reached each stage of its start, for :mod:`emgscope.bench.startup`, which launches it.

The measurement has to come from outside (the interpreter's own start and the imports are most of it), but only
the app knows when it drew its first frame. Launched with ``EMGSCOPE_STARTUP_REPORT=PATH`` in its environment,
the app writes a JSON object to PATH once the scope has painted samples for the first time: the
``time.monotonic()`` of each stage. Linux's monotonic clock is one clock for every process, so the launcher
subtracts its own reading taken just before it started the app. Without the variable nothing is watched.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from PyQt6.QtCore import QEvent, QObject, QTimer

from emgscope.core import events
from emgscope.core.events import Event

REPORT_VARIABLE = "EMGSCOPE_STARTUP_REPORT"
STAGES = ("gui", "window", "connected", "first_frame")
"""``gui``: the GUI code starts (interpreter, command line and core imports done); ``window``: the main window is
shown (Qt and the window built); ``connected``: the source delivers samples (the acquisition process started);
``first_frame``: the scope's first paint with samples has finished."""


class StartupReport(QObject):
    """Notes the stages of one start and writes them to ``path`` when the first frame is drawn."""

    def __init__(self, path: Path, gui_started: float) -> None:
        super().__init__()
        self.path = path
        self.stages: dict[str, float] = {"gui": gui_started}
        self._viewport: QObject | None = None

    @classmethod
    def from_environment(cls, gui_started: float) -> StartupReport | None:
        path = os.environ.get(REPORT_VARIABLE)
        return cls(Path(path), gui_started) if path else None

    def watch(self, window: QObject) -> None:
        """Start watching ``window`` (a :class:`~emgscope.gui.main_window.MainWindow` that has just been shown)."""
        self.stages["window"] = time.monotonic()
        self.setParent(window)
        window.bridge.event.connect(self._on_event)  # type: ignore[attr-defined]
        self._scope = window.scope  # type: ignore[attr-defined]
        self._viewport = self._scope.plot.viewport()
        self._viewport.installEventFilter(self)

    def _on_event(self, event: Event) -> None:
        if event.kind == events.CONNECTED and "connected" not in self.stages:
            self.stages["connected"] = time.monotonic()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if (
            watched is self._viewport
            and event.type() == QEvent.Type.Paint
            and "connected" in self.stages
            and self._scope.fps > 0
        ):
            self._viewport.removeEventFilter(self)
            QTimer.singleShot(0, self._first_frame_painted)  # runs once this paint is over
        return False

    def _first_frame_painted(self) -> None:
        self.stages["first_frame"] = time.monotonic()
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.stages), encoding="utf-8")
        tmp.replace(self.path)  # the launcher polls for the file: it must never see half of it
