"""The findings table as the clinician edits it: one row per muscle and side, a cell per finding.

Each cell shows the value in force: the clinician's, in bold with ✎, where one was entered, else the suggestion;
its tooltip says what the suggestion rests on. Double-click (or F2) edits a cell: a list of the values the column
takes (with "not examined"), four boxes for the other discharges, text for the comment. *Use suggestion* on a cell
puts the suggestion back. In practice the suggestions are hidden: the cells start empty for the trainee to fill
in, and :meth:`FindingsTable.mark` colours each against the answer key once revealed.
"""

from __future__ import annotations

from typing import Any

from PyQt6.QtCore import QModelIndex, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QBrush, QColor, QFont
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLineEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from emgscope.analysis.findings.report import HAND_MARK
from emgscope.analysis.findings.table import (
    CHOICES,
    FIELDS,
    HEADINGS,
    NOT_EXAMINED,
    OTHER_NAMES,
    OTHER_WORDS,
    CellError,
    Row,
    cell_text,
)

COLUMNS: tuple[str, ...] = ("muscle", "side", *FIELDS, "comment")
RIGHT = QColor(70, 170, 90)
WRONG = QColor(200, 70, 60)
EMPTY = "—"
"""A practice cell the trainee has not filled in yet."""


class OtherEditor(QWidget):
    """Four boxes, one per other discharge."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        self.boxes = {word: QCheckBox(OTHER_NAMES[word]) for word in OTHER_WORDS}
        for box in self.boxes.values():
            layout.addWidget(box)
        self.setAutoFillBackground(True)

    def value(self) -> list[str]:
        return [word for word, box in self.boxes.items() if box.isChecked()]

    def set_value(self, value: list[str] | None) -> None:
        for word, box in self.boxes.items():
            box.setChecked(word in (value or []))


class CellDelegate(QStyledItemDelegate):
    """The editor for each column (see the module's docstring)."""

    def __init__(self, table: FindingsTable) -> None:
        super().__init__(table)
        self.table = table

    def createEditor(self, parent: QWidget, option: QStyleOptionViewItem, index: QModelIndex) -> QWidget:  # noqa: N802 (Qt)
        name = COLUMNS[index.column()]
        if name == "comment":
            return QLineEdit(parent)
        if name == "other":
            editor = OtherEditor(parent)
            editor.setMinimumWidth(editor.sizeHint().width())
            return editor
        box = QComboBox(parent)
        box.addItem(NOT_EXAMINED, None)
        for value in CHOICES[name]:
            box.addItem(cell_text(name, value), value)
        return box

    def setEditorData(self, editor: QWidget, index: QModelIndex) -> None:  # noqa: N802 (Qt's name)
        row = self.table.rows[index.row()]
        name = COLUMNS[index.column()]
        value = self.table.shown_value(row, name)
        if isinstance(editor, QLineEdit):
            editor.setText(row.comment)
        elif isinstance(editor, OtherEditor):
            editor.set_value(value)
        elif isinstance(editor, QComboBox):
            found = editor.findData(value)
            editor.setCurrentIndex(max(found, 0))

    def setModelData(self, editor: QWidget, model: Any, index: QModelIndex) -> None:  # noqa: N802 (Qt's name)
        name = COLUMNS[index.column()]
        if isinstance(editor, QLineEdit):
            value: Any = editor.text()
        elif isinstance(editor, OtherEditor):
            value = editor.value()
        elif isinstance(editor, QComboBox):
            value = editor.currentData()
        else:
            return
        self.table.enter(index.row(), name, value)


class FindingsTable(QTableWidget):
    """The table of one exam's findings (see the module's docstring)."""

    changed = pyqtSignal()
    """A cell was entered or put back to its suggestion."""
    cell_selected = pyqtSignal(str)
    """The evidence (or the practice verdict) of the cell the user is on, in words."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.rows: list[Row] = []
        self.practice = False
        """Hide the suggestions: every cell is the trainee's."""
        self.verdicts: dict[tuple[int, str], tuple[bool, str]] = {}
        self.setHorizontalHeaderLabels([HEADINGS.get(name, name.capitalize()) for name in COLUMNS])
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.horizontalHeader().setStretchLastSection(True)
        self.verticalHeader().setVisible(False)
        self.setItemDelegate(CellDelegate(self))
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.AnyKeyPressed
        )
        self.use_suggestion = QAction("Use suggestion", self)
        self.use_suggestion.triggered.connect(self._use_suggestion)
        self.addAction(self.use_suggestion)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        self.currentCellChanged.connect(lambda r, c, _r, _c: self._selected(r, c))

    def set_rows(self, rows: list[Row], practice: bool = False) -> None:
        self.rows = rows
        self.practice = practice
        self.verdicts = {}
        self.use_suggestion.setVisible(not practice)
        self.setRowCount(len(rows))
        for r in range(len(rows)):
            self.refresh_row(r)
        self.resizeColumnsToContents()

    def shown_value(self, row: Row, name: str) -> Any:
        """What the cell holds for the user: in practice only what the trainee entered."""
        if self.practice and not row.by_hand(name):
            return None
        return row.value(name)

    def enter(self, r: int, name: str, value: Any) -> None:
        """The user's value for one cell."""
        row = self.rows[r]
        try:
            if name == "comment" and not value:
                row.forget(name)
            else:
                row.enter(name, value)
        except CellError as exc:
            self.cell_selected.emit(str(exc))
            return
        self.refresh_row(r)
        self.changed.emit()

    def _use_suggestion(self) -> None:
        r, c = self.currentRow(), self.currentColumn()
        if 0 <= r < len(self.rows) and COLUMNS[c] in FIELDS:
            self.rows[r].forget(COLUMNS[c])
            self.refresh_row(r)
            self.changed.emit()

    def refresh_row(self, r: int) -> None:
        row = self.rows[r]
        for c, name in enumerate(COLUMNS):
            item = QTableWidgetItem()
            flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
            if name == "muscle":
                item.setText(row.muscle)
            elif name == "side":
                item.setText(row.side)
            elif name == "comment":
                item.setText(row.comment)
                flags |= Qt.ItemFlag.ItemIsEditable
            else:
                flags |= Qt.ItemFlag.ItemIsEditable
                self._fill(item, row, name)
                verdict = self.verdicts.get((r, name))
                if verdict is not None:
                    item.setBackground(QBrush(RIGHT if verdict[0] else WRONG))
                    item.setToolTip(verdict[1])
            item.setFlags(flags)
            self.setItem(r, c, item)

    def _fill(self, item: QTableWidgetItem, row: Row, name: str) -> None:
        if self.practice and not row.by_hand(name):
            item.setText(EMPTY)
            item.setToolTip("Your finding: double-click to enter it.")
            return
        text = row.text(name)
        if row.by_hand(name):
            item.setText(f"{text} {HAND_MARK}")
            font = QFont(item.font())
            font.setBold(True)
            item.setFont(font)
            item.setToolTip(
                "Entered by hand" + ("" if self.practice else f"; suggested: {self._suggestion(row, name)}")
            )
        else:
            item.setText(text)
            item.setToolTip(row.evidence.get(name, ""))

    @staticmethod
    def _suggestion(row: Row, name: str) -> str:
        return cell_text(name, row.suggested.get(name))

    def mark(self, verdicts: dict[tuple[int, str], tuple[bool, str]]) -> None:
        """Colour each cell right or wrong, with the answer in words (practice, once revealed)."""
        self.verdicts = verdicts
        for r in range(len(self.rows)):
            self.refresh_row(r)

    def _selected(self, r: int, c: int) -> None:
        if not 0 <= r < len(self.rows) or not 0 <= c < len(COLUMNS):
            return
        name, row = COLUMNS[c], self.rows[r]
        verdict = self.verdicts.get((r, name))
        if verdict is not None:
            self.cell_selected.emit(verdict[1])
        elif name in FIELDS and not self.practice:
            by = "entered by hand; " if row.by_hand(name) else ""
            self.cell_selected.emit(
                f"{row.label}, {HEADINGS[name]}: {by}suggested {self._suggestion(row, name)} "
                f"({row.evidence.get(name, 'no evidence recorded')})"
            )
        else:
            self.cell_selected.emit("")
