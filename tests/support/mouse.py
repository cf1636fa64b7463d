"""Dragging a line of a pyqtgraph plot with the mouse, offscreen: press on it, move in steps, let go."""

from __future__ import annotations

import pyqtgraph as pg
from PyQt6.QtCore import QEvent, QPoint, QPointF, Qt
from PyQt6.QtGui import QMouseEvent
from PyQt6.QtWidgets import QApplication


def send(plot: pg.PlotWidget, kind: QEvent.Type, at: QPoint, buttons: Qt.MouseButton) -> None:
    """One mouse event at ``at`` (viewport pixels) of ``plot``."""
    viewport = plot.viewport()
    event = QMouseEvent(
        kind,
        QPointF(at),
        QPointF(viewport.mapToGlobal(at)),
        Qt.MouseButton.LeftButton,
        buttons,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(viewport, event)


def drag(qtbot, plot: pg.PlotWidget, start_view: QPointF, pixels: QPoint) -> QPointF:
    """Press at ``start_view`` (view coordinates), move the mouse by ``pixels`` in ten steps, let go; returns how far
    the mouse moved in view coordinates.

    The steps are a little apart in time, as a hand's are: pyqtgraph drops mouse moves that come faster than its
    rate limit (100 a second), counted from the last move it took; the hand rests at the end before letting go, so
    the last position is taken even on a machine busy enough to have stretched a step."""
    box = plot.getPlotItem().getViewBox()
    start = plot.mapFromScene(box.mapViewToScene(start_view))
    send(plot, QEvent.Type.MouseButtonPress, start, Qt.MouseButton.LeftButton)
    for step in [*range(1, 11), 10]:
        qtbot.wait(25)
        moved = QPoint(pixels.x() * step // 10, pixels.y() * step // 10)
        send(plot, QEvent.Type.MouseMove, start + moved, Qt.MouseButton.LeftButton)
    send(plot, QEvent.Type.MouseButtonRelease, start + pixels, Qt.MouseButton.NoButton)
    end_view = box.mapSceneToView(plot.mapToScene(start + pixels))
    begin_view = box.mapSceneToView(plot.mapToScene(start))
    return end_view - begin_view
