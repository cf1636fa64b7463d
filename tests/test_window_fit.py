"""The main window on small screens: it opens inside the screen's free area and every toolbar control stays
reachable, on screen or behind its toolbar's extension button (»)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PyQt6.QtCore import QPoint, QRect, QSize, Qt
from PyQt6.QtGui import QImage
from PyQt6.QtWidgets import QApplication, QToolBar, QToolButton, QWidget
from support.window import open_window, wait_connected

from emgscope.core.settings import Settings
from emgscope.gui.main_window import MainWindow
from emgscope.gui.placement import PREFERRED_SIZE, opening_geometry

REPO = Path(__file__).resolve().parent.parent


def test_a_large_screen_gets_the_preferred_size_centred_and_a_small_one_its_whole_free_area() -> None:
    geometry, maximised = opening_geometry(QRect(0, 0, 1920, 1080))
    assert geometry == QRect(260, 90, 1400, 900) and not maximised
    below_a_panel = QRect(0, 27, 1280, 773)
    assert opening_geometry(below_a_panel) == (below_a_panel, True)
    second_screen = QRect(1920, 0, 1366, 768)
    assert opening_geometry(second_screen) == (second_screen, True)
    assert opening_geometry(QRect(0, 0, 1440, 980)) == (QRect(20, 40, 1400, 900), False)


def screenshot_on_screen(tmp_path: Path, width: int, height: int) -> QImage:
    """``emgscope --screenshot`` on Qt's offscreen platform with one screen of ``width``×``height``."""
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "test", "width": width, "height": height}]}))
    shot = tmp_path / "shot.png"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    result = subprocess.run(
        [sys.executable, "-m", "emgscope", "--no-settings", "--screenshot", str(shot), "--seconds", "1"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return QImage(str(shot))


def test_the_screenshot_shows_the_window_as_it_opened_on_a_1280x800_screen(tmp_path: Path) -> None:
    image = screenshot_on_screen(tmp_path, 1280, 800)
    assert 1200 <= image.width() <= 1280 and 740 <= image.height() <= 800, (image.width(), image.height())


def test_without_a_screen_of_its_own_the_screenshot_has_the_preferred_size(tmp_path: Path) -> None:
    image = screenshot_on_screen(tmp_path, 1920, 1080)
    assert (image.width(), image.height()) == (PREFERRED_SIZE.width(), PREFERRED_SIZE.height())


def inside(widget: QWidget, window: QWidget) -> bool:
    rect = QRect(widget.mapTo(window, QPoint(0, 0)), widget.size())
    return widget.isVisible() and window.rect().contains(rect)


@pytest.mark.parametrize("size", [QSize(1280, 800), QSize(1024, 768)])
def test_every_toolbar_control_is_on_screen_or_behind_the_extension_button(
    qtbot, themed, null_sink, size: QSize
) -> None:
    settings = Settings()
    settings.audio.device = null_sink.device
    window = MainWindow(settings)
    qtbot.addWidget(window)
    window.resize(size)
    window.show()
    qtbot.waitExposed(window)
    window.start()
    wait_connected(qtbot, window)
    qtbot.waitUntil(lambda: window.audio.readout.text().startswith("Latency"), timeout=15_000)
    assert window.size() == size, "the toolbars must not make the window wider than the screen"
    bars = [bar for bar in window.findChildren(QToolBar) if bar.isVisibleTo(window)]
    assert {bar.objectName() for bar in bars} >= {"scopeToolBar", "SimulatedpatientToolBar", "AudioToolBar"}
    overflowed = 0
    for bar in bars:
        controls = [bar.widgetForAction(action) for action in bar.actions()]
        controls = [
            control for control in controls if control is not None and not control.inherits("QToolBarSeparator")
        ]
        assert controls, bar.objectName()
        hidden = [control for control in controls if not inside(control, window)]
        if not hidden:
            continue
        overflowed += len(hidden)
        extension = bar.findChild(QToolButton, "qt_toolbar_ext_button")
        assert extension is not None and inside(extension, window), f"{bar.objectName()} hides {hidden} unreachably"
        qtbot.mouseClick(extension, Qt.MouseButton.LeftButton)  # the toolbar opens out over the window
        qtbot.waitUntil(lambda hidden=hidden: all(inside(control, window) for control in hidden), timeout=3000)
        qtbot.mouseClick(extension, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda hidden=hidden: not any(control.isVisible() for control in hidden), timeout=3000)
    if size.width() < 1280:
        assert overflowed > 0, "the narrow screen exercises the extension button"


def test_the_recording_strips_keys_work_with_its_controls_in_the_toolbar(qtbot) -> None:
    window = open_window(qtbot, Settings())
    wait_connected(qtbot, window)
    window.activateWindow()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    controls = window.sessions.record_controls
    assert controls.recordButton.parent() is not controls, "its controls are the toolbar's"
    qtbot.keyClick(window, Qt.Key.Key_R)
    qtbot.waitUntil(lambda: controls._dialog is not None and controls._dialog.isVisible(), timeout=3000)
    controls._dialog.reject()
