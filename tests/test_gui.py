"""The main window as a user drives it: real widgets offscreen, real pump, real simulated patient or BrainFlow."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from support.settings import every_field_changed
from support.sources import BlockingSource, SineSource
from support.waiting import wait_until
from support.window import open_window, trace_rows, wait_connected

from emgscope.core.settings import (
    BrainFlowSettings,
    DisplaySettings,
    Settings,
    SourceSettings,
    load_settings,
    save_settings,
)
from emgscope.core.source import Source
from emgscope.gui.main_window import MainWindow
from emgscope.gui.raster import TRACE_COLOUR

pytestmark = pytest.mark.timeout(60)
"""The window streams from a pump and the app runs as a subprocess: a hang fails its own test."""

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def wait_for_trace(qtbot, window: MainWindow, top: float, bottom: float) -> None:
    """Wait until the drawn trace reaches from ``top`` to ``bottom`` (fractions of the raster's current height,
    ±3 rows), as a whole sweep of a steady signal past the filters' start-up transient does; at the timeout, the
    assertion says where it was. (The raster is rebuilt when the layout changes, as when the audio strip fills.)"""

    def drawn() -> None:
        rows, height = trace_rows(window), window.scope.raster.height
        assert rows.size and (rows.min(), rows.max()) == pytest.approx((top * height, bottom * height), abs=3)

    qtbot.waitUntil(drawn, timeout=10_000)


def test_window_shows_moving_traces_of_the_simulated_patient(qtbot) -> None:
    settings = Settings()
    settings.source.simulator.effort_percent = 40.0
    window = open_window(qtbot, settings)
    wait_connected(qtbot, window)
    qtbot.waitUntil(lambda: (window.scope.raster.pixels == TRACE_COLOUR).sum() > 1000, timeout=10_000)
    first = window.scope.raster.pixels.copy()
    qtbot.waitUntil(lambda: not np.array_equal(first, window.scope.raster.pixels), timeout=10_000)
    assert window.controls.sim_section.isVisibleTo(window)
    window.controls.effort.setValue(70)
    qtbot.waitUntil(lambda: window.session.source.effort_percent == 70.0, timeout=10_000)  # applied in its process
    window.status.refresh()
    assert window.status.source.text() == "Simulated patient (normal)"
    assert window.status.rate.text() == "20 kHz"
    # Whether a loaded machine made the patient skip samples is not this test's business: that every skipped
    # one is counted is (test_dropped_count_includes_samples_the_source_skipped); the frame rate's bar is the
    # benchmark's (gui_fps).
    assert re.fullmatch(r"dropped \d+", window.status.dropped.text())
    assert window.scope.fps > 0


def test_keys_change_sensitivity_and_sweep_and_the_drawn_amplitude(qtbot) -> None:
    settings = Settings()
    window = open_window(qtbot, settings, lambda _: SineSource(channels=1, amplitude=200.0))
    wait_connected(qtbot, window)
    wait_for_trace(qtbot, window, 0.3, 0.7)  # ±200 µV at 100 µV/div: four divisions
    qtbot.keyClick(window, Qt.Key.Key_Down)
    assert settings.display.sensitivity_uv == 200.0
    assert window.scope.scale_label.text() == "200 µV/div    100 ms/div"
    assert window.controls.sensitivity.currentText() == "200 µV/div"
    rows, height = trace_rows(window), window.scope.raster.height
    assert rows.max() - rows.min() == pytest.approx(2 * 200 / 200 * height / 10, abs=3)
    qtbot.keyClick(window, Qt.Key.Key_Up)
    qtbot.keyClick(window, Qt.Key.Key_Up)
    assert window.scope.scale_label.text().startswith("50 µV/div")
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert settings.display.sweep_ms == 50.0
    assert window.scope.view_box.viewRange()[0] == pytest.approx([0, 500])
    assert window.scope.raster.sweep_samples == pytest.approx(10_000)


def test_space_freezes_the_picture_while_acquisition_continues(qtbot) -> None:
    window = open_window(qtbot, Settings(), lambda _: SineSource())
    wait_connected(qtbot, window)
    qtbot.waitUntil(lambda: (window.scope.raster.pixels == TRACE_COLOUR).any(), timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.scope.frozen and window.scope.frozen_label.isVisibleTo(window)
    picture = window.scope.raster.pixels.copy()
    written = window.pipeline.filtered.write_index
    qtbot.waitUntil(lambda: window.pipeline.filtered.write_index >= written + 0.3 * 20_000, timeout=10_000)
    assert np.array_equal(picture, window.scope.raster.pixels)  # the event loop ran all along: nothing was drawn
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.scope.frozen
    qtbot.waitUntil(lambda: not np.array_equal(picture, window.scope.raster.pixels), timeout=10_000)


def test_hiding_a_channel_and_settings_persist_across_windows(qtbot, private_config_dir) -> None:
    settings = Settings()
    window = open_window(qtbot, settings, lambda _: SineSource(channels=2))
    wait_connected(qtbot, window)
    qtbot.waitUntil(lambda: len(window.controls.channel_actions) == 2, timeout=10_000)
    entries = [action.text() for action in window.menuChannels.actions() if not action.isSeparator()]
    assert entries[:3] == ["Ch1", "Ch2", "Hear channel 1"], "the channel list sits above the keys to hear one"
    assert len(entries) == 2 + 9
    window.controls.channel_actions[1].setChecked(False)
    assert window.scope.raster.visible == [0]
    # Ch1 alone, centred on the whole screen: ±200 µV at 100 µV/div spans the middle four divisions.
    wait_for_trace(qtbot, window, 0.3, 0.7)
    window.set_sensitivity(500.0)
    window.set_sweep(20.0)
    qtbot.keyClick(window, Qt.Key.Key_M)  # the next display mode: scroll
    window.choose_filter_preset("surface")
    assert window.scope.band_label.text() == "20 Hz – 450 Hz"
    qtbot.waitUntil(lambda: window.pipeline.filters.design.high_cut_hz == 450.0, timeout=10_000)
    window.close()
    save_settings(settings)

    loaded = load_settings().settings
    assert loaded.display == DisplaySettings(500.0, 20.0, "scroll", ["Ch2"])
    second = MainWindow(loaded, lambda _: SineSource(channels=2))
    qtbot.addWidget(second)
    assert second.controls.sensitivity.currentText() == "500 µV/div"
    assert second.controls.sweep.currentText() == "20 ms/div"
    assert second.controls.mode_actions["scroll"].isChecked() and second.controls.mode_button.text() == "Scroll"
    assert second.controls.filter_preset.currentData() == "surface"
    assert second.scope.hidden == {"Ch2"} and second.scope.mode == "scroll"


def test_connect_failure_is_shown_in_plain_words(qtbot) -> None:
    settings = Settings()
    settings.source = SourceSettings(
        "brainflow", brainflow=BrainFlowSettings("CYTON_BOARD", serial_port="/dev/ttyNOPE")
    )
    window = open_window(qtbot, settings)
    qtbot.waitUntil(lambda: "/dev/ttyNOPE" in window.banner.text, timeout=15_000)
    assert "does not exist" in window.banner.text
    assert window.bannerFrame.property("level") == "error"
    assert window.pipeline is None
    assert window.status.source.text() == "Not connected"


def test_connection_lost_is_shown_after_the_silence_timeout_with_reconnect(qtbot) -> None:
    """Not before the timeout every hardware source has, counted from the device's last sample. How soon after it
    (issue 2: within 2 s) is a benchmark figure (``connection_lost_after_s``)."""
    silent = SineSource(stop_after=0.3)
    silent.silence_timeout_s = Source.silence_timeout_s
    window = open_window(qtbot, Settings(), lambda _: silent)
    wait_connected(qtbot, window)
    qtbot.waitUntil(lambda: window.banner.text.startswith("Connection lost"), timeout=15_000)
    shown_after = time.monotonic() - (silent._start + silent.stop_after)
    assert shown_after > Source.silence_timeout_s - 0.05, shown_after
    assert window.bannerAction.isVisibleTo(window) and window.bannerAction.text() == "Reconnect"
    old_pipeline = window.pipeline
    window.bannerAction.click()
    qtbot.waitUntil(lambda: window.pipeline is not None and window.pipeline is not old_pipeline, timeout=10_000)


def test_connecting_never_blocks_and_can_be_cancelled(qtbot) -> None:
    source = BlockingSource()
    window = MainWindow(Settings(), lambda _: source)
    qtbot.addWidget(window)
    window.show()
    window.start()
    assert not source.opened.is_set()  # start returned while the device's connect still hangs
    assert window.banner.text == "Connecting…" and window.bannerAction.text() == "Cancel"
    # Still pending after half a second: the progress window appears, and its Cancel gives up at once.
    qtbot.waitUntil(lambda: window.progress is not None and window.progress.isVisible(), timeout=10_000)
    window.progress.cancelButton.click()
    assert not source.opened.is_set()  # cancelled without waiting for the connect to come back
    assert window.banner.text == "Connection cancelled."
    assert window.session.connection.pump is None
    source.release.set()
    qtbot.waitUntil(source.closed.is_set, timeout=10_000)  # the cancelled pump's thread let go of the device
    assert window.pipeline is None and window.banner.text == "Connection cancelled."


def test_slow_device_gets_a_non_blocking_filter_warning(qtbot) -> None:
    window = open_window(qtbot, Settings(), lambda _: SineSource(rate=1000.0))
    qtbot.waitUntil(lambda: "clamped" in window.banner.text, timeout=10_000)
    assert window.bannerFrame.property("level") == "warning"
    assert window.scope.band_label.text() == "10 Hz – 450 Hz"
    wait_connected(qtbot, window)


def run_app(*args: str, display: bool = False) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    return subprocess.run(
        [sys.executable, "-m", "emgscope", "--no-settings", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_screenshot_without_a_display(tmp_path) -> None:
    from PyQt6.QtGui import QImage

    shot = tmp_path / "shot.png"
    result = run_app("--screenshot", str(shot), "--seconds", "1.5", "--effort", "30")
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert (image.width(), image.height()) == (1400, 900)
    no_display = run_app()
    assert no_display.returncode == 2
    assert no_display.stderr.strip().count("\n") == 0 and "no display" in no_display.stderr


def test_the_display_benchmark_measures_the_real_window(qtbot) -> None:
    """The bar (≥ 60 fps, median frame ≤ 8 ms) is ``emgscope bench``'s, on a machine left to it: other work on
    the cores stretches every figure here. What a test can hold is that each figure is measured."""
    from emgscope.bench.gui import measure_gui

    figures = measure_gui(0.5)
    assert set(figures) == {"gui_fps", "gui_frame_ms_median", "gui_frame_ms_p99", "gui_frame_cpu_ms_median"}
    assert all(np.isfinite(value) and value > 0 for value in figures.values()), figures


def test_filter_dialog_presets_and_custom_values(qtbot) -> None:
    from emgscope.core.settings import FilterSettings
    from emgscope.gui.filter_dialog import FilterDialog

    dialog = FilterDialog(FilterSettings())
    qtbot.addWidget(dialog)
    assert (dialog.lowSpin.value(), dialog.highSpin.value()) == (10.0, 10_000.0)
    dialog.presetCombo.setCurrentIndex(dialog.presetCombo.findData("surface"))
    assert (dialog.lowSpin.value(), dialog.highSpin.value()) == (20.0, 450.0)
    dialog.lowSpin.setValue(5.0)
    dialog.notchCombo.setCurrentIndex(dialog.notchCombo.findData(50.0))
    assert dialog.filter_settings() == FilterSettings("custom", 5.0, 450.0, 50.0, 3)


def test_icon_and_desktop_entry_ship() -> None:
    from PyQt6.QtGui import QIcon

    from emgscope.core.paths import resource

    assert not QIcon(str(resource("icons", "emgscope.svg"))).pixmap(64, 64).isNull()
    entry = Path(REPO, "packaging", "emgscope.desktop").read_text(encoding="utf-8")
    assert "Exec=emgscope" in entry and "Icon=emgscope" in entry


def test_sigterm_closes_the_app_cleanly_and_keeps_the_settings(tmp_path: Path) -> None:
    """A session manager's SIGTERM goes through the normal close: exit 0, settings saved, no process left."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", EMGSCOPE_CONFIG_DIR=str(tmp_path))
    app = subprocess.Popen([sys.executable, "-m", "emgscope", "--pathology", "neurogenic"], cwd=REPO, env=env)
    log_file = Path(env["EMGSCOPE_LOG_DIR"], "emgscope.log")
    try:
        # Running, its window showing the simulated patient: the log says so.
        wait_until(lambda: log_file.exists() and "Connected: " in log_file.read_text(), 30.0, "the app to connect")
        assert app.poll() is None, "the app should still be running"
        app.terminate()
        assert app.wait(timeout=15) == 0
    finally:
        app.kill()
    saved = load_settings(tmp_path / "settings.json").settings
    assert saved.source.simulator.pathology == "neurogenic"


def test_a_setting_of_every_type_survives_a_restart_of_the_real_app(tmp_path: Path) -> None:
    """Every field (booleans and nested groups included) is read by the app at start and saved back at exit."""
    wanted = every_field_changed()
    wanted.source.kind = "sim"  # the app must be able to run it (the board's settings persist all the same)
    wanted.audio.enabled = True
    save_settings(wanted, tmp_path / "settings.json")
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", EMGSCOPE_CONFIG_DIR=str(tmp_path))
    for _ in range(2):  # two starts: what the first saved, the second reads
        shot = tmp_path / "shot.png"
        done = subprocess.run(
            [sys.executable, "-m", "emgscope", "--screenshot", str(shot), "--seconds", "1"],
            cwd=REPO, env=env, timeout=60, capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert shot.stat().st_size > 10_000
    loaded = load_settings(tmp_path / "settings.json")
    assert loaded.notice == "" and loaded.settings == wanted


def test_a_filter_preset_changes_the_band_and_keeps_the_mains_notch(qtbot) -> None:
    from emgscope.core.settings import FilterSettings

    settings = Settings()
    window = MainWindow(settings, lambda _: SineSource())
    qtbot.addWidget(window)
    window.apply_filters(FilterSettings("needle", 10.0, 10_000.0, 60.0, notch_harmonics=5))
    window.choose_filter_preset("surface")
    assert settings.filters == FilterSettings("surface", 20.0, 450.0, 60.0, notch_harmonics=5)
    assert window.scope.band_label.text() == "20 Hz – 450 Hz, notch 60 Hz"
    assert window.controls.filter_preset.currentData() == "surface"


def test_dropped_count_includes_samples_the_source_skipped(qtbot) -> None:
    """A source that skipped samples after a stall shows them as dropped: no sample is lost silently."""
    window = open_window(qtbot, Settings(), lambda _: SineSource())
    wait_connected(qtbot, window)
    window.status.refresh()
    assert window.status.dropped.text() == "dropped 0"
    window.session.source.skipped_samples += 1234
    window.pipeline.filtered.reader("slow").overrun_samples = 66
    window.status.refresh()
    assert window.status.dropped.text() == "dropped 1300"
