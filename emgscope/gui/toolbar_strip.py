"""A row of controls in a toolbar that a narrow screen can still reach.

A toolbar that holds one composite widget (the whole audio strip, the whole recording strip) cannot give up any
of it: the window's minimum width becomes the sum of those rows, wider than a 1280-pixel screen. Given its
controls one by one, the toolbar shows what fits and puts the rest behind its extension button (»), Qt's own
overflow. :func:`add_strip` does that for a strip built as a widget with a horizontal layout: the strip keeps its
code, its references to its controls and their signals; only their place on screen moves to the toolbar. The strip
itself stays shown, empty and of no size: Qt turns off the shortcuts of a hidden widget, and the recording strip's
keys (R, 1–9) are its own.
"""

from __future__ import annotations

from PyQt6.QtWidgets import QToolBar, QWidget


def add_strip(bar: QToolBar, strip: QWidget) -> None:
    """Add each widget of ``strip``'s layout to ``bar`` as an item of its own; the strip itself takes no room."""
    layout = strip.layout()
    if layout is None:
        bar.addWidget(strip)
        return
    controls = [layout.itemAt(i).widget() for i in range(layout.count())]
    for control in controls:
        if control is not None:
            bar.addWidget(control)
    strip.setFixedSize(0, 0)
