"""A one-line label that shortens its text in the middle ("2026-05-12_1015…_deltoid-left.bdf") to fit its width.

A file name keeps its two informative ends, the date and time at the start and the patient and muscle at the end;
a plain QLabel cuts the end off without a sign. The full text stays the label's :meth:`text`; the caller puts
whatever it wants in the tooltip (the recording controls put the full path there).
"""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QPainter, QPaintEvent, QPalette
from PyQt6.QtWidgets import QLabel, QSizePolicy, QWidget


class ElidedLabel(QLabel):
    """A QLabel that draws its text elided in the middle when the text is wider than the label.

    ``width_hint`` is the text the label asks the layout room for, whatever it shows (a toolbar gives a widget its
    size hint and keeps it, so the toolbar does not change its layout when a file name replaces "not recording"):
    wider texts are shortened, and shown whole where the layout gives the label more room.
    """

    def __init__(self, text: str = "", width_hint: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self._width_hint = width_hint
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)

    def shown_text(self) -> str:
        """The text as drawn at the label's present width ("…" in the middle when shortened)."""
        return self.fontMetrics().elidedText(self.text(), Qt.TextElideMode.ElideMiddle, self.contentsRect().width())

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().sizeHint()
        if self._width_hint:
            margins = self.contentsMargins()
            width = self.fontMetrics().horizontalAdvance(self._width_hint) + margins.left() + margins.right()
            hint.setWidth(width)
        return hint

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt's name)
        hint = super().minimumSizeHint()
        hint.setWidth(self.fontMetrics().horizontalAdvance("…") * 3)
        return hint

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt's name)
        painter = QPainter(self)
        self.style().drawItemText(
            painter,
            self.contentsRect(),
            int(self.alignment().value),
            self.palette(),
            self.isEnabled(),
            self.shown_text(),
            QPalette.ColorRole.WindowText,
        )
