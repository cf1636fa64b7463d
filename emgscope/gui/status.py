"""The status bar: which source, how fast, how many channels, samples lost, display frame rate.

Refreshed twice a second from plain attributes (ring reader counters, the view's frame times); nothing here
waits on the acquisition thread. Dropped samples are the sum of every reader's overrun counter on both rings,
so a slow recorder or audio path shows up here too, not only the display, and so does a source that skipped
samples it could not deliver in time.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QLabel, QStatusBar

from emgscope.acquisition.pump import Pipeline
from emgscope.acquisition.remote_source import RemoteSource
from emgscope.core.source import Source
from emgscope.gui.scope_view import ScopeView
from emgscope.gui.units import format_hz

REFRESH_MS = 500


def dropped_samples(pipeline: Pipeline, source: RemoteSource | Source | None = None) -> int:
    """Samples lost by any consumer of either ring, plus those the source itself skipped."""
    readers = list(pipeline.filtered.readers.values()) + list(pipeline.raw.readers.values())
    skipped = source.skipped_samples if source is not None else 0
    return skipped + sum(reader.overrun_samples for reader in readers)


class StatusPanel:
    """Permanent labels in the window's status bar, updated by a slow timer.

    ``source`` returns the running source (or ``None``), read on each refresh so a reconnect needs no rewiring.
    """

    def __init__(
        self, bar: QStatusBar, scope: ScopeView, source: Callable[[], RemoteSource | Source | None] = lambda: None
    ) -> None:
        self.scope = scope
        self._source = source
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
        pipeline = self.scope.pipeline
        if pipeline is None:
            for label in (self.rate, self.channels, self.dropped):
                label.clear()
        else:
            self.rate.setText(format_hz(pipeline.info.sample_rate))
            self.channels.setText(f"{pipeline.info.n_channels} ch")
            self.dropped.setText(f"dropped {dropped_samples(pipeline, self._source())}")
        self.fps.setText(f"{self.scope.fps:.0f} fps")
