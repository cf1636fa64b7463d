"""What the operator sees when something breaks behind the window: real processes stopped and killed for real.

A killed acquisition process keeps its red banner until the operator acts, whatever arrives after it; a stalled
one is reported as it happens, and the gap it leaves is shown and written in the recording at its place; a
recording repaired at start-up stays on screen after the source connects.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from support.crash import unfinished_recording
from support.window import open_window, wait_connected

from emgscope.core.settings import RecordingSettings, Settings
from emgscope.recording.session import SessionInfo
from emgscope.replay.reader import open_recording


def acquisition_child(window) -> int:
    """The PID of the window's acquisition process."""
    pump = window.session.connection.pump
    return pump._child._process.pid


def started_recording(qtbot, window, folder: Path):
    controls = window.sessions.record_controls
    controls.start_recording(SessionInfo(patient_id="F1"), RecordingSettings(str(folder), "bdf"))
    qtbot.waitUntil(lambda: controls.fileLabel.text().endswith(".bdf"), timeout=5000)
    return controls


@pytest.mark.timeout(90)
def test_a_killed_acquisition_process_keeps_its_banner_and_the_status_says_not_connected(qtbot, tmp_path) -> None:
    window = open_window(qtbot, Settings())
    wait_connected(qtbot, window)
    controls = started_recording(qtbot, window, tmp_path)
    qtbot.waitUntil(lambda: controls.recorder is not None and controls.recorder.elapsed_s > 1.0, timeout=5000)
    os.kill(acquisition_child(window), signal.SIGKILL)
    qtbot.waitUntil(lambda: "ended unexpectedly" in window.banner.text, timeout=5000)
    qtbot.waitUntil(lambda: not controls.recording, timeout=10_000)  # the recording is finished: "Saved …"
    qtbot.waitUntil(lambda: window.statusbar.currentMessage().startswith("Saved "), timeout=5000)
    assert "ended unexpectedly" in window.banner.text and window.banner.level == "error"  # not pushed away
    assert window.banner.action.text() == "Reconnect"
    window.status.refresh()
    assert window.status.source.text() == "Not connected"
    assert (window.status.rate.text(), window.status.fps.text(), window.status.dropped.text()) == ("", "", "")
    (saved,) = tmp_path.glob("*.bdf")
    assert open_recording(saved).duration_s >= 1.0


@pytest.mark.timeout(90)
def test_a_stalled_acquisition_process_is_shown_and_its_gap_marked_where_it_was(qtbot, tmp_path) -> None:
    window = open_window(qtbot, Settings())
    wait_connected(qtbot, window)
    controls = started_recording(qtbot, window, tmp_path)
    qtbot.waitUntil(lambda: controls.recorder.elapsed_s > 1.0, timeout=5000)
    child = acquisition_child(window)
    os.kill(child, signal.SIGSTOP)
    stopped_at = time.monotonic()
    try:
        qtbot.waitUntil(lambda: window.banner.text.startswith("No samples for"), timeout=5000)
        shown_after = time.monotonic() - stopped_at
        controls.add_marker("while stalled")
        qtbot.wait(2500)  # the stall goes on: four seconds in all
    finally:
        os.kill(child, signal.SIGCONT)
    assert shown_after < 3.5  # 1.5 s without samples, then the status timer's next look
    qtbot.waitUntil(lambda: window.banner.text.startswith("Gap: "), timeout=5000)
    gap_seconds = float(window.banner.text.split()[1])
    assert 3.0 < gap_seconds < 6.0 and "marked in the recording" in window.banner.text
    controls.stop()
    qtbot.waitUntil(lambda: not controls.recording, timeout=10_000)
    (saved,) = tmp_path.glob("*.bdf")
    texts = {a.text: a.onset_s for a in open_recording(saved).annotations}
    (gap,) = [text for text in texts if text.startswith("Gap: ")]
    marker = texts["while stalled"]
    assert abs(texts[gap] - marker) < 1.0  # the marker keeps the last sample shown, at the gap's place


@pytest.mark.timeout(90)
def test_a_recording_repaired_at_start_stays_on_screen_after_the_source_connects(qtbot, tmp_path) -> None:
    sessions = tmp_path / "sessions"
    sessions.mkdir()
    unfinished_recording(sessions / "crashed.edf")
    settings = Settings()
    settings.recording.sessions_folder = str(sessions)
    window = open_window(qtbot, settings)
    qtbot.waitUntil(lambda: window.banner.text.startswith("Unfinished recording found."), timeout=10_000)
    wait_connected(qtbot, window)
    qtbot.wait(500)  # the connection's own messages come and go meanwhile
    assert window.banner.text.startswith("Unfinished recording found. crashed.edf: repaired")
