"""Choosing the channel heard: a click on a trace or Alt+digit, as the neurologist does it at the bedside."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QPointF, Qt
from support.sources import SineSource
from support.window import open_window, wait_connected

from emgscope.core.settings import DIVISIONS, Settings

pytestmark = pytest.mark.timeout(60)
"""The real window streams from a pump thread: a hang fails its own test."""


def click_trace(qtbot, window, y_divisions: float) -> None:
    """A left click in the plot at ``y_divisions`` (0 = bottom), half-way across the sweep."""
    view = window.scope.view_box
    scene = view.mapViewToScene(QPointF(view.viewRange()[0][1] / 2, y_divisions))
    widget_point = window.scope.plot.mapFromScene(scene)
    qtbot.mouseClick(window.scope.plot.viewport(), Qt.MouseButton.LeftButton, pos=widget_point)


def test_clicking_a_trace_or_alt_digit_chooses_the_channel_heard(qtbot) -> None:
    window = open_window(qtbot, Settings(), lambda _: SineSource(channels=4))
    wait_connected(qtbot, window)
    qtbot.waitUntil(lambda: window.audio.channel.count() == 4, timeout=10_000)
    lane = DIVISIONS / 4
    assert window.scope.channel_at(DIVISIONS - 0.5 * lane) == 0  # top lane is the first channel
    assert window.scope.channel_at(0.5 * lane) == 3
    click_trace(qtbot, window, 1.5 * lane)  # second lane from the bottom: channel 3 of 4
    assert window.audio.channel.currentIndex() == 2
    window.set_channel_visible("Ch1", False)  # three lanes now: the top one is Ch2
    click_trace(qtbot, window, DIVISIONS - 0.5 * DIVISIONS / 3)
    assert window.audio.channel.currentIndex() == 1
    qtbot.keyClick(window, Qt.Key.Key_4, Qt.KeyboardModifier.AltModifier)
    assert window.audio.channel.currentIndex() == 3
