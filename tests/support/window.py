"""Opening the real main window offscreen, and reading what it drew."""

from __future__ import annotations

import numpy as np

from emgscope.core.settings import Settings
from emgscope.gui.main_window import MainWindow
from emgscope.gui.raster import TRACE_COLOUR

WINDOW_SIZE = (1600, 900)
"""Wider than the window's minimum width with any text the audio readout shows (about 1200 px with "Audio off",
1465 px with "Latency 148 ms · underruns 12345 ⚠ CPU may sleep"): a window at its minimum width grows whenever
that text does, and the scope's raster is rebuilt at the new width, which a test comparing pixels must not meet."""


def open_window(qtbot, settings: Settings, factory=None) -> MainWindow:
    window = MainWindow(settings, factory)
    qtbot.addWidget(window)
    window.resize(*WINDOW_SIZE)
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
    qtbot.waitUntil(lambda: window.pipeline is not None and window.pipeline.filtered.write_index > 0, timeout=20_000)


def trace_rows(window: MainWindow) -> np.ndarray:
    return np.flatnonzero((window.scope.raster.pixels == TRACE_COLOUR).any(axis=1))


def focus(qtbot, window: MainWindow) -> None:
    """Make ``window`` the active window with the scope focused, as a user's click does: keys reach its shortcuts.

    Offscreen, a window opened after another is not always activated by itself.
    """
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=2000)
    window.scope.setFocus()
    qtbot.waitUntil(lambda: window.focusWidget() is window.scope, timeout=2000)
