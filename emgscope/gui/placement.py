"""Where the main window opens: inside the screen's available area, whatever the screen.

On a screen with room for it the window opens at :data:`PREFERRED_SIZE`, centred; on a smaller one (a 1280×800
laptop) it opens maximised, filling the area the desktop leaves free of panels, and the toolbars put what does not
fit behind their extension buttons (:mod:`emgscope.gui.toolbar_strip`). Without a display the app renders on
Qt's offscreen platform, whose one screen is 800×800 unless told otherwise: :func:`virtual_screen_platform` gives
it an ordinary desktop's screen, so ``--screenshot`` shows the window as it opens on one.
"""

from __future__ import annotations

from PyQt6.QtCore import QRect, QSize
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import QWidget

from emgscope.core.paths import ui_file

PREFERRED_SIZE = QSize(1400, 900)
"""The window's size where the screen has room: ten divisions of a wide sweep and two rows of toolbars."""
FRAME_ALLOWANCE = QSize(40, 80)
"""Room left for the window manager's frame and title bar, which the window's own geometry does not include."""
VIRTUAL_SCREEN = "offscreen_screen.json"
"""The offscreen platform's screen when no screen is configured (in ``ui/``): a common desktop's, 1920×1080."""


def opening_geometry(available: QRect, preferred: QSize = PREFERRED_SIZE) -> tuple[QRect, bool]:
    """The window's geometry on a screen whose free area is ``available``, and whether to maximise it.

    The preferred size, centred, where it fits with its frame; otherwise the whole area, maximised (a window
    manager then fits the frame in; a bare X server, which maximises nothing, gets the area itself).
    """
    needed = preferred + FRAME_ALLOWANCE
    if needed.width() <= available.width() and needed.height() <= available.height():
        geometry = QRect(0, 0, preferred.width(), preferred.height())
        geometry.moveCenter(available.center())
        return geometry, False
    return QRect(available), True


def show_on_screen(window: QWidget) -> None:
    """Size, place and show ``window`` within the available area of its screen (the primary one before it is
    shown)."""
    screen = window.screen() or QGuiApplication.primaryScreen()
    if screen is None:
        window.resize(PREFERRED_SIZE)
        window.show()
        return
    geometry, maximise = opening_geometry(screen.availableGeometry())
    window.setGeometry(geometry)
    if maximise:
        window.showMaximized()
    else:
        window.show()


def virtual_screen_platform(platform: str) -> str:
    """``platform`` (the ``QT_QPA_PLATFORM`` value) with an ordinary desktop's screen when it is the offscreen
    platform with no configuration of its own; any other value unchanged."""
    if platform != "offscreen":
        return platform
    return f"offscreen:configfile={ui_file(VIRTUAL_SCREEN)}"
