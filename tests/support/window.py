"""Opening the real main window offscreen, and reading what it drew."""

from __future__ import annotations

import numpy as np

from emgscope.core.settings import Settings
from emgscope.gui.main_window import MainWindow
from emgscope.gui.raster import TRACE_COLOUR


def open_window(qtbot, settings: Settings, factory=None) -> MainWindow:
    window = MainWindow(settings, factory)
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    qtbot.waitExposed(window)
    window.start()
    return window


def activate(qtbot, window: MainWindow) -> None:
    """Make the window active again, as a window manager does, before pressing its keys: a connection slower than
    1.5 s (a loaded machine) shows a progress window, which the offscreen platform leaves active when it closes, and
    a window that is not active gets no shortcuts."""
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.scope.setFocus()


def wait_connected(qtbot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: window.pipeline is not None and window.pipeline.filtered.write_index > 0, timeout=5000)


def trace_rows(window: MainWindow) -> np.ndarray:
    return np.flatnonzero((window.scope.raster.pixels == TRACE_COLOUR).any(axis=1))
