"""The triggered display in the real window, offscreen, on known signals: sweeps held still, superimposed or
rastered, their average, the level dragged with the mouse, stepping through frozen sweeps, and the cursors.

The kept sweeps are checked in the image the display draws them into (1:1 with the screen's pixels); the average,
drawn over that image at each paint, in a grab of the plot.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from PyQt6.QtGui import QImage
from support.mouse import drag
from support.sources import SineSource, SpikeTrainSource
from support.window import activate, open_window, wait_connected

from emgscope.core.settings import DIVISIONS, Settings, TriggerSettings
from emgscope.gui.main_window import MainWindow
from emgscope.gui.sweeps_item import (
    AVERAGE_COLOUR,
    RASTER,
    SELECTED_COLOUR,
    SUPERIMPOSE,
    SWEEP_COLOUR,
    argb,
    baseline_divisions,
    baseline_row,
    draw_sweep,
)

RATE = 20_000.0


def triggered(qtbot, source, sensitivity_uv: float = 100.0) -> MainWindow:
    """The window on ``source``, switched to the triggered mode with the M key (sweep → scroll → triggered)."""
    settings = Settings()
    settings.display.sensitivity_uv = sensitivity_uv
    window = open_window(qtbot, settings, lambda _: source)
    wait_connected(qtbot, window)
    activate(qtbot, window)
    qtbot.keyClick(window, Qt.Key.Key_M)
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.scope.mode == "triggered"
    assert window.controls.trigger_section.isVisible()
    return window


SETTLED_S = 0.5
"""The needle filter's start transient (10 Hz high-pass) is over by then: sweeps kept are all of the steady signal."""


def wait_sweeps(qtbot, window: MainWindow, count: int) -> None:
    """Until ``count`` sweeps are kept, all of them cut after the filters settled."""
    trigger = window.scope.trigger

    def kept() -> bool:
        sweeps = trigger.delay.sweeps if trigger.delay is not None else ()
        return len(sweeps) >= count and sweeps[0].start_index >= SETTLED_S * RATE

    qtbot.waitUntil(kept, timeout=10_000)


def freeze(qtbot, window: MainWindow) -> np.ndarray:
    """Space, then the kept sweeps' pixels as drawn (rows × columns of ARGB words)."""
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.scope.frozen
    window.scope.plot.viewport().repaint()
    return window.scope.trigger.item.pixels


def row_of(window: MainWindow, uv: float, lane_div: float) -> float:
    """Pixel row (from the top of the plot) of ``uv`` on a lane whose baseline is ``lane_div`` divisions up."""
    height = window.scope.trigger.item.pixels.shape[0]
    return (DIVISIONS - lane_div) * height / DIVISIONS + uv * height / (DIVISIONS * window.scope.sensitivity_uv)


def covers(column: np.ndarray, row: float) -> bool:
    """Whether the pixels set in ``column`` reach ``row`` (to a pixel)."""
    rows = np.flatnonzero(column)
    return rows.size > 0 and rows.min() - 1 <= row <= rows.max() + 1


def green(pixels: np.ndarray) -> np.ndarray:
    """Where a kept sweep is drawn, in any shade of its green."""
    r, g, b = (pixels >> 16) & 0xFF, (pixels >> 8) & 0xFF, pixels & 0xFF
    return (pixels != 0) & (g > r + 20) & (g > b + 20)


def grab(window: MainWindow) -> np.ndarray:
    """The plot widget as rows × columns × RGB."""
    image = window.scope.plot.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height = image.width(), image.height()
    data = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    return data.reshape(height, image.bytesPerLine())[:, : width * 3].reshape(height, width, 3)


def plot_origin(window: MainWindow) -> tuple[int, int]:
    """Widget pixel of the plot's top-left corner (view x 0, y 10 divisions)."""
    scope = window.scope
    point = scope.plot.mapFromScene(scope.view_box.mapViewToScene(QPointF(0.0, float(DIVISIONS))))
    return point.x(), point.y()


def test_superimposed_sine_sweeps_coincide_at_the_level_and_the_average_over_them(qtbot) -> None:
    window = triggered(qtbot, SineSource(channels=1, amplitude=200.0))
    trigger = window.scope.trigger
    assert trigger.style == SUPERIMPOSE and trigger.settings.level_uv == -100.0
    wait_sweeps(qtbot, window, 10)
    pixels = freeze(qtbot, window)
    height, width = pixels.shape
    drawn = green(pixels)
    # Every sweep of the 50 Hz sine crosses -100 µV going up on the screen at the trigger: all twenty coincide, and
    # cover hardly more than one of them drawn alone.
    one = np.zeros_like(pixels)
    newest = trigger.delay.sweeps[-1].samples
    base = baseline_row(SUPERIMPOSE, trigger.keep, 1, height)
    draw_sweep(one, newest, newest.size, base, height / (DIVISIONS * 100.0), argb(SWEEP_COLOUR))
    assert len(trigger.delay.sweeps) == 20
    assert np.count_nonzero(one) <= np.count_nonzero(drawn) <= 1.05 * np.count_nonzero(one)
    assert (drawn.sum(axis=0) > 0).mean() > 0.99
    # Negative up: the sine's -200 µV is 2 divisions above the baseline in the middle, +200 µV 2 below.
    rows = np.flatnonzero(drawn.any(axis=1))
    assert rows.min() == pytest.approx(row_of(window, -200.0, DIVISIONS / 2), abs=1.5)
    assert rows.max() == pytest.approx(row_of(window, 200.0, DIVISIONS / 2), abs=1.5)
    # At the trigger (25 % in), the trace is at the level; a third of a half period later at the sine's trough.
    assert covers(drawn[:, int(0.25 * width)], row_of(window, -100.0, DIVISIONS / 2))
    trough = int((0.25 + 10 / 3 / 100) * width)
    assert np.flatnonzero(drawn[:, trough]).min() == pytest.approx(row_of(window, -200.0, DIVISIONS / 2), abs=1.5)
    # The average (yellow) lies on them.
    screen = grab(window)
    left, top = plot_origin(window)
    yellow = np.all(screen == AVERAGE_COLOUR.getRgb()[:3], axis=2)
    assert yellow[top : top + height, left + trough - 1 : left + trough + 2].any(axis=1).nonzero()[0].min() == (
        pytest.approx(row_of(window, -200.0, DIVISIONS / 2), abs=1.5)
    )


def test_raster_stacks_each_sweep_in_its_lane_with_the_average_on_top(qtbot) -> None:
    window = triggered(qtbot, SineSource(channels=1, amplitude=200.0), sensitivity_uv=200.0)
    trigger = window.scope.trigger
    window.controls.trigger_strip.keep.setValue(5)
    window.controls.trigger_strip.style_box.setCurrentIndex(1)
    window.controls.trigger_strip.style_box.activated.emit(1)
    assert (trigger.style, trigger.keep) == (RASTER, 5)
    wait_sweeps(qtbot, window, 5)
    pixels = freeze(qtbot, window)
    drawn = green(pixels)
    column = int(0.25 * pixels.shape[1])  # the trigger: each sweep at -100 µV above its own baseline
    found = np.flatnonzero(drawn[:, column])
    spans = np.split(found, np.flatnonzero(np.diff(found) > 1) + 1)  # the steep crossing covers a few rows
    expected = [row_of(window, -100.0, baseline_divisions(RASTER, 5, lane)) for lane in range(1, 6)]
    assert len(spans) == 5
    for span, row in zip(spans, expected, strict=True):
        assert span.min() - 1 <= row <= span.max() + 1
    assert np.diff(expected) == pytest.approx(pixels.shape[0] / 6, abs=0.01)  # six lanes: the average's and five
    screen = grab(window)
    left, top = plot_origin(window)
    yellow = np.all(screen[top:, left + column - 1 : left + column + 2] == AVERAGE_COLOUR.getRgb()[:3], axis=2)
    assert covers(yellow.any(axis=1), row_of(window, -100.0, baseline_divisions(RASTER, 5, 0)))


def spike_peak_rows(window: MainWindow, peaks: list[float]) -> list[int]:
    return [round(row_of(window, peak, DIVISIONS / 2)) for peak in peaks]


def test_older_superimposed_sweeps_are_fainter(qtbot) -> None:
    source = SpikeTrainSource(peaks_uv=(-300.0, -400.0, -500.0, -600.0))
    window = triggered(qtbot, source, sensitivity_uv=200.0)
    window.scope.trigger.update_settings(level_uv=-150.0)
    window.controls.trigger_strip.keep.setValue(4)
    wait_sweeps(qtbot, window, 4)
    pixels = freeze(qtbot, window)
    trigger = window.scope.trigger
    pre = trigger.settings.pre_samples(RATE)
    sweeps = trigger.delay.sweeps
    peaks = [float(s.samples[pre : pre + 20].min()) for s in sweeps]  # the spike that started each sweep
    # The train cycles through four sizes, so the last four sweeps start with each once (filtered, within 2 %).
    assert sorted(round(p, -2) for p in peaks) == [-600.0, -500.0, -400.0, -300.0]
    # Where a sweep is drawn and no newer one is drawn over it, it shows in its own shade.
    height = pixels.shape[0]
    footprints = []
    for sweep in sweeps:
        alone = np.zeros_like(pixels)
        base = baseline_row(SUPERIMPOSE, 4, 1, height)
        draw_sweep(alone, sweep.samples, sweep.samples.size, base, height / (DIVISIONS * 200.0), 1)
        footprints.append(alone != 0)
    brightness = []
    for k, footprint in enumerate(footprints):
        visible = footprint & ~np.logical_or.reduce([np.zeros_like(footprint), *footprints[k + 1 :]])
        shades = np.unique((pixels[visible] >> 8) & 0xFF)
        assert visible.sum() > 100 and shades.size == 1
        brightness.append(int(shades[0]))
    assert brightness == sorted(brightness) and len(set(brightness)) == 4  # oldest faintest, newest brightest
    assert brightness[-1] == pytest.approx(SWEEP_COLOUR.green(), abs=25)


def test_stepping_through_the_frozen_sweeps(qtbot) -> None:
    source = SpikeTrainSource(peaks_uv=(-300.0, -400.0, -500.0, -600.0))
    window = triggered(qtbot, source, sensitivity_uv=200.0)
    trigger = window.scope.trigger
    trigger.update_settings(level_uv=-150.0)
    window.controls.trigger_strip.keep.setValue(4)
    wait_sweeps(qtbot, window, 4)
    qtbot.keyClick(window, Qt.Key.Key_Period)  # freezes and shows the newest
    assert window.scope.frozen and window.controls.freeze_action.isChecked()
    sweeps = trigger.delay.sweeps
    strip = window.controls.trigger_strip

    def selected_tip() -> float:
        """The peak (µV) where the selected sweep's white is highest on screen."""
        window.scope.plot.viewport().repaint()
        rows = np.flatnonzero((trigger.item.pixels == argb(SELECTED_COLOUR)).any(axis=1))
        height = trigger.item.pixels.shape[0]
        return (rows.min() - height / 2) * DIVISIONS * window.scope.sensitivity_uv / height

    def interval(k: int) -> str:
        gap_ms = (sweeps[k].trigger_index - sweeps[k - 1].trigger_index) / RATE * 1000
        assert gap_ms == pytest.approx(50.0, abs=0.15)  # the spikes' edges cross the level a sample apart
        return f"{gap_ms:.1f} ms after the one before ({1000 / gap_ms:.1f} Hz)"

    assert strip.status.text() == f"Sweep 4 of 4, {interval(3)}"
    assert selected_tip() == pytest.approx(sweeps[3].samples.min(), abs=3 * 200 / 70)
    qtbot.keyClick(window, Qt.Key.Key_Comma)
    assert strip.status.text() == f"Sweep 3 of 4, {interval(2)}"
    assert selected_tip() == pytest.approx(sweeps[2].samples.min(), abs=3 * 200 / 70)
    for _ in range(5):
        qtbot.keyClick(window, Qt.Key.Key_Comma)
    assert strip.status.text() == "Sweep 1 of 4"
    assert selected_tip() == pytest.approx(sweeps[0].samples.min(), abs=3 * 200 / 70)
    assert trigger.delay.sweeps == sweeps  # frozen: nothing new came in
    qtbot.mouseClick(strip.next, Qt.MouseButton.LeftButton)
    assert strip.status.text().startswith("Sweep 2 of 4")
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.scope.frozen and trigger.selected is None
    assert not strip.status.text().startswith("Sweep")


def test_dragging_the_trigger_level_moves_it(qtbot) -> None:
    window = triggered(qtbot, SineSource(channels=1, amplitude=200.0))
    trigger = window.scope.trigger
    wait_sweeps(qtbot, window, 2)
    line = trigger.level_line
    assert float(line.value()) == pytest.approx(DIVISIONS / 2 + 1.0)  # -100 µV: one division up at 100 µV/div
    moved = drag(qtbot, window.scope.plot, QPointF(30.0, float(line.value())), QPoint(0, 50))  # 50 px down
    level = trigger.settings.level_uv
    assert moved.y() < -0.5
    assert level == pytest.approx(-100.0 - moved.y() * 100.0, abs=1.0)  # down the screen: less negative
    assert window.controls.trigger_strip.level.value() == level
    assert trigger.level_line.label.format == f"Trigger {level:g} µV"
    # The sweeps that follow are cut at the new level: the first sample at or past it going up on the screen.
    dropped = window.pipeline.filtered.write_index
    qtbot.waitUntil(lambda: trigger.delay.sweeps[-1].trigger_index > dropped, timeout=5000)
    sweep = trigger.delay.sweeps[-1]
    pre = trigger.settings.pre_samples(RATE)
    assert sweep.samples[pre] <= level < sweep.samples[pre - 1]


def test_the_window_level_is_dragged_and_held_beyond_the_level(qtbot) -> None:
    window = triggered(qtbot, SineSource(channels=1, amplitude=200.0))
    trigger, strip = window.scope.trigger, window.controls.trigger_strip
    qtbot.mouseClick(strip.window_box, Qt.MouseButton.LeftButton)
    assert trigger.settings.window_uv == -300.0  # two divisions beyond the level, in the slope's direction
    assert trigger.window_line.isVisible()
    line = trigger.window_line
    drag(qtbot, window.scope.plot, QPointF(40.0, float(line.value())), QPoint(0, 300))  # far below the level
    assert trigger.settings.window_uv == -101.0  # stops a µV short of the level
    assert strip.window.value() == -101.0


def test_the_trigger_as_left_is_where_the_next_window_starts(qtbot) -> None:
    window = triggered(qtbot, SineSource(channels=1, amplitude=200.0))
    strip = window.controls.trigger_strip
    qtbot.mouseClick(strip.window_box, Qt.MouseButton.LeftButton)
    qtbot.keyClick(window, Qt.Key.Key_Left)  # a faster sweep: 10 → 5 ms/div
    strip.keep.setValue(7)
    strip.style_box.setCurrentIndex(strip.style_box.findData(RASTER))
    strip.style_box.activated.emit(strip.style_box.currentIndex())
    settings = window.settings
    window.close()
    assert settings.display.trigger == TriggerSettings(window_uv=-300.0, ms_per_div=5.0)
    assert (settings.display.trigger_style, settings.display.trigger_keep) == (RASTER, 7)
    again = open_window(qtbot, settings, lambda _: SineSource(channels=1, amplitude=200.0))
    trigger, strip = again.scope.trigger, again.controls.trigger_strip
    assert trigger.settings == TriggerSettings(window_uv=-300.0, ms_per_div=5.0)
    assert (trigger.style, trigger.keep) == (RASTER, 7)
    assert (strip.window.value(), strip.keep.value(), strip.style_box.currentData()) == (-300.0, 7, RASTER)


def test_mode_key_and_timebases(qtbot) -> None:
    window = open_window(qtbot, Settings(), lambda _: SineSource(channels=1))
    wait_connected(qtbot, window)
    activate(qtbot, window)
    assert (window.scope.mode, window.scope.shown_sweep_ms) == ("sweep", 100.0)
    names = []
    for _ in range(3):
        qtbot.keyClick(window, Qt.Key.Key_M)
        names.append(window.scope.mode)
    assert names == ["scroll", "triggered", "sweep"]
    qtbot.keyClick(window, Qt.Key.Key_M)
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert window.scope.shown_sweep_ms == 10.0  # the trigger's own timebase
    assert window.scope.scale_label.text().endswith("10 ms/div")
    for _ in range(4):
        qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.scope.trigger.settings.ms_per_div == 20.0  # held at the trigger's slowest
    assert window.controls.sweep.currentData() == 20.0
    qtbot.keyClick(window, Qt.Key.Key_M)
    assert (window.scope.mode, window.scope.shown_sweep_ms, window.settings.display.sweep_ms) == ("sweep", 100.0, 100.0)


def test_cursors_read_time_rate_and_amplitude(qtbot) -> None:
    window = triggered(qtbot, SineSource(channels=1, amplitude=200.0), sensitivity_uv=200.0)
    cursors = window.scope.cursors
    qtbot.keyClick(window, Qt.Key.Key_C)
    assert cursors.visible and all(line.isVisible() for line in cursors.lines.values())
    cursors.place("t1", 10.0)
    cursors.place("t2", 30.0)
    cursors.place("v1", 5.0)
    cursors.place("v2", 7.5)
    assert window.scope.cursor_label.text() == "Δt 20.00 ms (50.0 Hz)   ΔV 500 µV"
    # Dragged with the mouse: 100 pixels further right.
    moved = drag(qtbot, window.scope.plot, QPointF(30.0, 2.0), QPoint(100, 0))
    assert cursors.value("t2") == pytest.approx(30.0 + moved.x(), abs=0.2)
    dt = cursors.value("t2") - 10.0
    assert window.scope.cursor_label.text() == f"Δt {dt:.2f} ms ({1000 / dt:.1f} Hz)   ΔV 500 µV"
    qtbot.keyClick(window, Qt.Key.Key_Up)  # more gain: 100 µV/div, the same places read half as much
    assert window.scope.cursor_label.text().endswith("ΔV 250 µV")
    qtbot.keyClick(window, Qt.Key.Key_M)  # the sweep mode's 1 s: the same share of the screen, ten times the time
    assert cursors.value("t1") == pytest.approx(100.0)
    qtbot.keyClick(window, Qt.Key.Key_C)
    assert window.scope.cursor_label.text() == ""


def test_triggered_in_replay(qtbot, shared_data: Path) -> None:
    """A replayed needle record, triggered: each sweep starts where the trace first crosses the level going up."""
    settings = Settings()
    settings.source.kind = "replay"
    settings.source.replay.file = str(shared_data / "physionet_emgdb/emg_neuropathy.hea")
    settings.display.mode = "triggered"
    settings.display.sensitivity_uv = 500.0
    window = open_window(qtbot, settings)
    trigger = window.scope.trigger
    trigger.update_settings(level_uv=-500.0)
    qtbot.waitUntil(lambda: trigger.delay is not None and len(trigger.delay.sweeps) >= 5, timeout=15_000)
    rate = window.pipeline.info.sample_rate
    assert rate == 4000.0
    pre = trigger.settings.pre_samples(rate)
    for sweep in trigger.delay.sweeps:
        assert sweep.samples[pre] <= -500.0 < sweep.samples[pre - 1]
        assert sweep.samples.size == trigger.settings.sweep_samples(rate) == 400
    assert window.scope.trigger.item.isVisible()
