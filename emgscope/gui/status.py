"""The status bar: which source, how fast, how many channels, samples lost, display frame rate.

Refreshed twice a second from plain attributes (ring reader counters, the view's frame times); nothing here
waits on the acquisition thread. Dropped samples are the sum of every reader's overrun counter on both rings,
so a slow recorder or audio path shows up here too, not only the display, and so does a source that skipped
samples it could not deliver in time.
"""

from __future__ import annotations

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QLabel, QStatusBar

from emgscope.acquisition.proxy import SourceProxy
from emgscope.acquisition.pump import Pipeline
from emgscope.core.source import Source
from emgscope.core.units import format_hz
from emgscope.gui.scope_view import ScopeView
from emgscope.session.session import Session

REFRESH_MS = 500


def dropped_samples(pipeline: Pipeline, source: SourceProxy | Source | None = None) -> int:
    """Samples lost by any consumer of either ring, plus those the source itself skipped."""
    readers = list(pipeline.filtered.readers.values()) + list(pipeline.raw.readers.values())
    skipped = source.skipped_samples if source is not None else 0
    return skipped + sum(reader.overrun_samples for reader in readers)


class StatusPanel:
    """Permanent labels in the window's status bar, updated by a slow timer from the session."""

    def __init__(self, bar: QStatusBar, scope: ScopeView, session: Session) -> None:
        self.scope = scope
        self.session = session
        self.source = QLabel("Not connected")
        self.rate = QLabel()
        self.channels = QLabel()
        self.dropped = QLabel()
        self.fps = QLabel()
        for label in (self.source, self.rate, self.channels, self.dropped, self.fps):
            bar.addPermanentWidget(label)
        self.timer = QTimer(bar)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)
        self.timer.start()

    def set_source(self, description: str) -> None:
        self.source.setText(description)

    def refresh(self) -> None:
        self.session.watch_stream()
        pipeline = self.scope.pipeline
        if pipeline is None or not self.session.connected:
            for label in (self.rate, self.channels, self.dropped, self.fps):
                label.clear()
            return
        self.rate.setText(format_hz(pipeline.info.sample_rate))
        self.channels.setText(f"{pipeline.info.n_channels} ch")
        self.dropped.setText(f"dropped {dropped_samples(pipeline, self.session.source)}")
        self.fps.setText(f"{self.scope.fps:.0f} fps")
