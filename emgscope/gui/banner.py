"""A message strip above the scope: what went wrong or needs attention, without a modal dialog.

A modal box would stop the bedside workflow and could pile up while a device flickers; the banner shows the
latest message in plain words, optionally with one action ("Reconnect", "Cancel"), and never blocks.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtWidgets import QFrame, QLabel, QPushButton, QToolButton

LEVELS = ("info", "warning", "error")


class Banner:
    """Drives the banner widgets of the main window's form (``bannerFrame``, ``bannerLabel``, ...)."""

    def __init__(self, frame: QFrame, label: QLabel, action: QPushButton, close: QToolButton) -> None:
        self.frame = frame
        self.label = label
        self.action = action
        self._callback: Callable[[], None] | None = None
        action.clicked.connect(self._act)
        close.clicked.connect(self.hide)
        self.hide()

    def show(
        self, text: str, level: str = "info", action: str = "", callback: Callable[[], None] | None = None
    ) -> None:
        """Show ``text`` (replacing any earlier message); ``level`` picks the colour through the style sheet."""
        self.frame.setProperty("level", level if level in LEVELS else "info")
        self.frame.style().unpolish(self.frame)
        self.frame.style().polish(self.frame)
        self.label.setText(text)
        self._callback = callback
        self.action.setText(action)
        self.action.setVisible(bool(action and callback))
        self.frame.setVisible(True)

    def hide(self) -> None:
        self.frame.setVisible(False)
        self._callback = None

    @property
    def text(self) -> str:
        return self.label.text() if self.frame.isVisibleTo(self.frame.parentWidget()) else ""

    def _act(self) -> None:
        callback = self._callback
        self.hide()
        if callback is not None:
            callback()
