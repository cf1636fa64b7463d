"""The MUP panel: one segment's units, their templates, the table of measurements and the duration-amplitude plot.

A plain widget that takes an analysis result (:meth:`MuapPanel.set_result`) and lets the clinician change it: drag
a unit's onset or end marker, reject or restore a unit, put its markers back. Each change is applied with
:func:`~emgscope.analysis.muap.edits.apply_edit`, so every number follows the markers, the automatic markers are
kept and the unit is marked as edited; the panel then shows the new result and emits :attr:`MuapPanel.edited` with
the edit and :attr:`MuapPanel.changed` with the new result (for the window to save beside the recording).

Edited markers and the numbers measured from them are drawn in orange; a rejected unit is greyed in the table and
on its template, and leaves recruitment, the means and the duration-amplitude plot.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtGui import QBrush, QFont
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from emgscope.analysis.muap.columns import COLUMNS, heading, remarks
from emgscope.analysis.muap.edits import REJECT, RESET_MARKERS, RESTORE, Edit, EditError, apply_edit
from emgscope.analysis.muap.model import SiteAnalysis
from emgscope.core.units import format_sweep
from emgscope.gui.muap_plots import (
    EDITED_COLOUR,
    REJECTED_COLOUR,
    TEMPLATE_MS_PER_DIV,
    DurationAmplitudePlot,
    TemplatePlot,
)

TEMPLATES_PER_ROW = 3
TEMPLATE_SIZE = (270, 210)
"""Pixels of one template plot."""
TABLE_COLUMNS = ("Unit", *(heading(c) for c in COLUMNS), "Remarks")


class MuapPanel(QWidget):
    """Templates with draggable markers, the table and the duration-amplitude plot of one analysis."""

    edited = pyqtSignal(object)
    """The :class:`~emgscope.analysis.muap.model.Edit` just applied."""
    changed = pyqtSignal(object)
    """The :class:`~emgscope.analysis.muap.model.SiteAnalysis` after it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("muapPanel")
        self.site: SiteAnalysis | None = None
        self.plots: dict[int, TemplatePlot] = {}

        self.header = QLabel(objectName="muapHeader")
        self.header.setWordWrap(True)
        self.scale_label = QLabel(objectName="muapScale")
        self.templates = QWidget(objectName="muapTemplates")
        self.template_grid = QGridLayout(self.templates)
        self.template_grid.setSpacing(4)
        self.template_grid.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.templates)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.scale_label)
        left_layout.addWidget(scroll, 1)
        self.scatter = DurationAmplitudePlot()
        top = QSplitter(Qt.Orientation.Horizontal)
        top.addWidget(left)
        top.addWidget(self.scatter)
        top.setStretchFactor(0, 3)
        top.setStretchFactor(1, 2)

        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setObjectName("muapTable")
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._selection_changed)

        self.reject_button = QPushButton("Reject unit")
        self.restore_button = QPushButton("Restore unit")
        self.reset_button = QPushButton("Automatic markers")
        self.reject_button.clicked.connect(lambda: self._edit_selected(REJECT))
        self.restore_button.clicked.connect(lambda: self._edit_selected(RESTORE))
        self.reset_button.clicked.connect(lambda: self._edit_selected(RESET_MARKERS))
        self.summary = QLabel(objectName="muapSummary")
        self.summary.setWordWrap(True)
        self.status = QLabel(objectName="muapStatus")
        buttons = QHBoxLayout()
        for button in (self.reject_button, self.restore_button, self.reset_button):
            buttons.addWidget(button)
        buttons.addWidget(self.status, 1)

        bottom = QWidget()
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        bottom_layout.addWidget(self.table, 1)
        bottom_layout.addLayout(buttons)
        bottom_layout.addWidget(self.summary)
        body = QSplitter(Qt.Orientation.Vertical)
        body.addWidget(top)
        body.addWidget(bottom)
        body.setStretchFactor(0, 3)
        body.setStretchFactor(1, 2)
        layout = QVBoxLayout(self)
        layout.addWidget(self.header)
        layout.addWidget(body, 1)
        self._selection_changed()

    def set_result(self, site: SiteAnalysis) -> None:
        """Show ``site``: a new analysis, or one reopened from its results file."""
        self.site = site
        while self.template_grid.count():
            widget = self.template_grid.takeAt(0).widget()
            if widget is not None:
                widget.deleteLater()
        self.plots.clear()
        for k, unit in enumerate(site.units):
            plot = TemplatePlot(unit)
            plot.setFixedSize(*TEMPLATE_SIZE)
            plot.marker_moved.connect(self._marker_moved)
            self.template_grid.addWidget(plot, k // TEMPLATES_PER_ROW, k % TEMPLATES_PER_ROW)
            self.plots[unit.id] = plot
        self.scale_label.setText(
            f"Templates at {format_sweep(TEMPLATE_MS_PER_DIV)}/div, each at its own µV/div, negative up; drag the "
            f"blue onset and end markers"
        )
        self._show(site)

    def apply(self, edit: Edit) -> bool:
        """Apply ``edit`` as if the clinician had made it; False (and the reason shown) when it cannot be."""
        if self.site is None:
            return False
        try:
            site = apply_edit(self.site, edit)
        except EditError as exc:
            self.status.setText(str(exc))
            self._show(self.site)
            return False
        self.status.setText("")
        self.site = site
        self._show(site)
        self.edited.emit(site.edits[-1])
        self.changed.emit(site)
        return True

    def selected_unit(self) -> int | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows or self.site is None:
            return None
        return self.site.units[rows[0].row()].id

    def _marker_moved(self, unit: int, which: str, ms: float) -> None:
        self.apply(Edit(unit, which, ms))

    def _edit_selected(self, action: str) -> None:
        unit = self.selected_unit()
        if unit is not None:
            self.apply(Edit(unit, action))

    def _selection_changed(self) -> None:
        unit = self.selected_unit()
        chosen = None if unit is None or self.site is None else self.site.unit(unit)
        self.reject_button.setEnabled(chosen is not None and not chosen.rejected)
        self.restore_button.setEnabled(chosen is not None and chosen.rejected)
        self.reset_button.setEnabled(chosen is not None and any(f in chosen.edited for f in ("onset", "end")))

    def _show(self, site: SiteAnalysis) -> None:
        for unit in site.units:
            self.plots[unit.id].show_unit(unit, site.far_field(unit))
        self._fill_table(site)
        self.scatter.show_site(site)
        self.header.setText(
            f"{site.channel_label or f'Channel {site.channel + 1}'}, {site.start_s:.2f}-{site.end_s:.2f} s, "
            f"{site.sample_rate_hz:g} Hz, filtered {site.filters}: {len(site.units)} units from "
            f"{site.sorted_spikes} of {site.spikes} spikes (superimposed discharges are left out)"
        )
        r = site.recruitment
        summary = site.muscle_summary()
        lines = [
            f"Recruitment frequency {r.frequency_hz:.1f} Hz{'' if r.observed else ' (upper bound)'}, "
            f"ratio {r.ratio:.1f}, {r.units_firing} units firing" + "".join(f"; {flag}" for flag in r.flags),
            f"{summary.name or 'Muscle not named'}: {summary.mups} MUPs, mean {summary.amplitude_uv_mean:.0f} µV, "
            f"{summary.duration_ms_mean:.1f} ms, {summary.phases_mean:.1f} phases"
            + ("" if summary.outliers is None else f", {summary.outliers} outliers")
            + "".join(f"; {finding}" for finding in summary.findings),
            *site.notes,
        ]
        self.summary.setText("\n".join(lines))
        self._selection_changed()

    def _fill_table(self, site: SiteAnalysis) -> None:
        selected = self.selected_unit()
        self.table.blockSignals(True)
        self.table.setRowCount(len(site.units))
        for row, unit in enumerate(site.units):
            cells = [str(unit.id), *(c.text(unit) for c in COLUMNS), remarks(site, unit)]
            for col, text in enumerate(cells):
                item = QTableWidgetItem(text)
                alignment = Qt.AlignmentFlag.AlignLeft if col == len(cells) - 1 else Qt.AlignmentFlag.AlignRight
                item.setTextAlignment(alignment | Qt.AlignmentFlag.AlignVCenter)
                column = COLUMNS[col - 1] if 0 < col <= len(COLUMNS) else None
                if unit.rejected:
                    item.setForeground(QBrush(REJECTED_COLOUR))
                elif column is not None and column.needs_duration and {"onset", "end"} & set(unit.edited):
                    item.setForeground(QBrush(EDITED_COLOUR))
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                    item.setToolTip("measured from the clinician's markers")
                self.table.setItem(row, col, item)
            if unit.id == selected:
                self.table.selectRow(row)
        self.table.blockSignals(False)
