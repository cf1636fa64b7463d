"""A message strip above the scope: what went wrong or needs attention, without a modal dialog.

A modal box would stop the bedside workflow and could pile up while a device flickers; the banner shows one
message in plain words, optionally with one action ("Reconnect", "Cancel"), and never blocks.

What matters is never pushed away by what matters less: each message has a level (info, warning, error) and a
topic (the connection, a recording, the start-up checks). A message replaces the one on screen when it is about the
same topic (the connection is back after it was lost) or at least as serious; otherwise it goes to the status bar
for a while and the banner keeps the more serious one (a crash of the acquisition process stays on screen when the
recording that it ended reports where it was saved). The operator closes the banner, or acts on it.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtWidgets import QFrame, QLabel, QPushButton, QToolButton

from emgscope.gui.theme import set_style_state

LEVELS = ("info", "warning", "error")
FALLBACK_MS = 10_000
"""How long a message that could not take the banner stays in the status bar."""


class Banner:
    """Drives the banner widgets of the main window's form (``bannerFrame``, ``bannerLabel``, ...)."""

    def __init__(
        self,
        frame: QFrame,
        label: QLabel,
        action: QPushButton,
        close: QToolButton,
        fallback: Callable[[str, int], None] | None = None,
    ) -> None:
        """``fallback(text, ms)`` shows a message the banner did not take (the status bar's ``showMessage``)."""
        self.frame = frame
        self.label = label
        self.action = action
        self._fallback = fallback
        self._callback: Callable[[], None] | None = None
        self.level = ""
        self.topic = ""
        action.clicked.connect(self._act)
        close.clicked.connect(self.hide)
        self.hide()

    def show(
        self,
        text: str,
        level: str = "info",
        action: str = "",
        callback: Callable[[], None] | None = None,
        topic: str = "",
    ) -> bool:
        """Show ``text`` unless a more serious message on another topic is on screen (then the status bar gets
        it); whether the banner took it. ``level`` picks the colour through the style sheet."""
        level = level if level in LEVELS else "info"
        if self.visible and topic != self.topic and LEVELS.index(level) < LEVELS.index(self.level):
            if self._fallback is not None:
                self._fallback(text, FALLBACK_MS)
            return False
        set_style_state(self.frame, "level", level)
        self.label.setText(text)
        self._callback = callback
        self.action.setText(action)
        self.action.setVisible(bool(action and callback))
        self.level, self.topic = level, topic
        self.frame.setVisible(True)
        return True

    def resolve(self, topic: str) -> None:
        """What ``topic`` was about is settled (the source connected): its message goes, any other stays."""
        if self.visible and self.topic == topic:
            self.hide()

    def hide(self) -> None:
        self.frame.setVisible(False)
        self._callback = None
        self.level = self.topic = ""

    @property
    def visible(self) -> bool:
        return bool(self.level)

    @property
    def text(self) -> str:
        return self.label.text() if self.visible else ""

    def _act(self) -> None:
        callback = self._callback
        self.hide()
        if callback is not None:
            callback()
