"""Markers and notes are seen where they were dropped, live and in replay, and the scope says which trace is heard."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QColor
from support.sources import SineSource
from support.window import focus, open_window, wait_connected

from emgscope.core.settings import RecordingSettings, Settings
from emgscope.gui.scope_items import HEARD_SIGN, LANE_MARKER, MARKER_COLOUR
from emgscope.recording.session import SessionInfo

RATE = 20_000.0


def marker_columns(window) -> np.ndarray:
    """Screen columns of the plot where the markers' amber is painted."""
    image = window.scope.plot.grab().toImage()
    amber = QColor(MARKER_COLOUR)
    height, width = image.height(), image.width()
    rows = range(height // 3, 2 * height // 3, 7)  # below the labels, away from the trace's middle
    hits = {x for y in rows for x in range(width) if image.pixelColor(x, y) == amber}
    return np.array(sorted(hits))


def test_a_marker_is_a_tick_at_its_sample_and_a_word_in_the_status_bar(qtbot, tmp_path: Path) -> None:
    window = open_window(qtbot, Settings(), lambda _: SineSource(channels=2, amplitude=50.0))
    wait_connected(qtbot, window)
    controls = window.sessions.record_controls
    controls.start_recording(SessionInfo(patient_id="M1"), RecordingSettings(str(tmp_path), "bdf"))
    qtbot.waitUntil(lambda: controls.recorder is not None and controls.recorder.elapsed_s > 0.3, timeout=5000)
    focus(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_3)
    qtbot.waitUntil(lambda: bool(window.scope.bands.bands("markers")), timeout=2000)
    (tick,) = window.scope.bands.bands("markers")
    assert tick.text == "Marker 3" and tick.lane == LANE_MARKER and tick.end == tick.onset + 1
    assert window.statusbar.currentMessage().startswith("Marker 3 at ")
    qtbot.waitUntil(lambda: marker_columns(window).size > 0, timeout=3000)  # drawn once the sweep reaches it
    columns = marker_columns(window)
    assert columns.max() - columns.min() <= 3  # a thin tick, not a band
    controls.stop()
    qtbot.waitUntil(lambda: not controls.recording, timeout=5000)

    (saved,) = tmp_path.glob("*.bdf")  # replayed, the same marker is a tick again
    settings = Settings()
    settings.source.kind, settings.source.replay.file = "replay", str(saved)
    replay = open_window(qtbot, settings)
    qtbot.waitUntil(lambda: any(b.text == "Marker 3" for b in replay.scope.bands.bands("replay")), timeout=10_000)
    replayed = [b for b in replay.scope.bands.bands("replay") if b.lane == LANE_MARKER]
    assert [b.text for b in replayed] == ["Marker 3"]  # the session's own facts at 0 s are not drawn


def test_the_heard_trace_is_marked(qtbot) -> None:
    window = open_window(qtbot, Settings(), lambda _: SineSource(channels=3))
    wait_connected(qtbot, window)
    qtbot.waitUntil(lambda: window.scope.labels._heard == "Ch1", timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert window.scope.labels._heard == "Ch2"
    image = window.scope.plot.grab().toImage()
    amber = QColor(255, 210, 74)
    left = {(x, y) for x in range(120) for y in range(image.height()) if image.pixelColor(x, y) == amber}
    rows = sorted({y for _, y in left})
    lane = image.height() / 3
    assert rows and lane < rows[0] and rows[-1] < 2 * lane  # the amber label is Ch2's, in the middle lane
    assert HEARD_SIGN.strip() == "♪"
