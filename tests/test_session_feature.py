"""Sessions from the window: a teaching copy exported from the File menu's action, replay opened in place."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from support.sources import SineSource
from support.window import open_window, wait_connected

from emgscope.acquisition.factory import make_source
from emgscope.core.settings import Settings, SourceSettings
from emgscope.core.source import Source
from emgscope.replay.reader import open_recording
from emgscope.replay.source import ReplaySource

pytestmark = pytest.mark.timeout(60)
"""Recordings replay in the acquisition process: a hang fails its own test."""


def test_export_from_the_window_blanks_the_patient_and_reports_where(qtbot, shared_data: Path, tmp_path: Path):
    window = open_window(qtbot, Settings(), lambda _: SineSource(channels=1))
    wait_connected(qtbot, window)
    original = shared_data / "pyedflib" / "test_subsecond.edf"
    target = tmp_path / "teaching.bdf"
    worker = window.sessions.export(original, target)
    worker.join(20)
    qtbot.waitUntil(lambda: "Teaching copy saved" in window.banner.text, timeout=10_000)
    assert str(target) in window.banner.text
    source, copy = open_recording(original), open_recording(target)
    assert any(source.patient.values()) and not any(copy.patient.values())
    assert copy.duration_s == source.duration_s
    assert [a.text for a in copy.annotations if a.text] == [a.text for a in source.annotations if a.text]


def sine_or_replay(settings: SourceSettings) -> Source:
    """The live source is a test sine; a recording opened from the menu is replayed for real."""
    return make_source(settings) if settings.kind == "replay" else SineSource(channels=1)


def test_opening_a_recording_replays_it_in_the_same_window(qtbot, shared_data: Path) -> None:
    window = open_window(qtbot, Settings(), sine_or_replay)
    wait_connected(qtbot, window)
    window.sessions.open_recording(shared_data / "physionet_emgdb" / "emg_healthy.hea")
    qtbot.waitUntil(
        lambda: isinstance(window.session.source, ReplaySource) and window.pipeline is not None, timeout=10_000
    )
    assert window.sessions.replay_dock.isVisible()
    assert window.pipeline.info.sample_rate == 4000.0
    assert window.settings.source.kind == "replay"


def test_export_from_the_menu_copies_the_loop_range_set_on_the_replay(
    qtbot, shared_data: Path, tmp_path: Path, monkeypatch
) -> None:
    """A teacher loops the interesting seconds, then exports: the copy holds those seconds, not the whole file."""
    from emgscope.gui import session_feature

    original = shared_data / "pyedflib" / "test_generator.edf"
    target = tmp_path / "teaching.bdf"
    window = open_window(qtbot, Settings(), sine_or_replay)
    wait_connected(qtbot, window)
    window.sessions.open_recording(original)
    qtbot.waitUntil(lambda: window.sessions.replay_source is not None and window.pipeline is not None, timeout=10_000)
    panel = window.sessions.replay_panel
    qtbot.waitUntil(lambda: panel.body.isEnabled(), timeout=10_000)
    panel.loop_start.setValue(10.0)
    panel.loop_end.setValue(20.0)
    panel.loop_button.setChecked(True)
    monkeypatch.setattr(session_feature.QFileDialog, "getOpenFileName", lambda *a, **k: (str(original), ""))
    monkeypatch.setattr(session_feature.QFileDialog, "getSaveFileName", lambda *a, **k: (str(target), ""))
    window.sessions.choose_export()
    qtbot.waitUntil(lambda: "Teaching copy saved" in window.banner.text, timeout=20000)
    assert "10.00–20.00 s" in window.banner.text
    copy, source = open_recording(target), open_recording(original)
    assert copy.duration_s == 10.0 and not any(copy.patient.values())
    np.testing.assert_allclose(copy.read(1, 0, 2000), source.read(1, 2000, 4000), atol=2000 / 2**24 * 2)
