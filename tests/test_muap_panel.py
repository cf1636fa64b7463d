"""The MUP panel driven with the mouse, offscreen: a dragged marker changes the table, edits are kept and marked."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QPoint, QPointF, Qt
from pytestqt.qtbot import QtBot
from support.mouse import drag

from emgscope.analysis.muap.analyse import analyse_segment
from emgscope.analysis.muap.columns import COLUMNS
from emgscope.analysis.muap.model import Edit, SiteAnalysis
from emgscope.bench.muap import RATE, SETTLE_S, Case, simulate
from emgscope.gui.muap_panel import TABLE_COLUMNS, MuapPanel
from emgscope.gui.muap_plots import EDITED_COLOUR, TemplatePlot

DURATION = TABLE_COLUMNS.index("Duration (ms)")
AREA = TABLE_COLUMNS.index("Area (µV·ms)")
REMARKS = TABLE_COLUMNS.index("Remarks")


@pytest.fixture(scope="module")
def site() -> SiteAnalysis:
    samples, _ = simulate(Case("normal", 10.0, 31))
    start = round(SETTLE_S * RATE)
    return analyse_segment(samples, RATE, start_index=start, muscle="Deltoid", channel_label="Needle 1")


@pytest.fixture
def panel(qtbot: QtBot, site: SiteAnalysis) -> MuapPanel:
    widget = MuapPanel()
    qtbot.addWidget(widget)
    widget.resize(1400, 900)
    widget.set_result(site)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def drag_marker(qtbot: QtBot, plot: TemplatePlot, which: str, pixels: int) -> float:
    """Drag a marker ``pixels`` to the right with the mouse; returns the ms moved."""
    return float(drag(qtbot, plot, QPointF(float(plot.lines[which].value()), 5.0), QPoint(pixels, 0)).x())


def test_dragging_the_onset_changes_the_duration_in_the_table(
    panel: MuapPanel, site: SiteAnalysis, qtbot: QtBot
) -> None:
    unit = site.units[0]
    plot = panel.plots[unit.id]
    edits: list[Edit] = []
    panel.edited.connect(edits.append)
    assert panel.table.item(0, DURATION).text() == f"{unit.measures.duration_ms:.1f}"

    mouse_ms = drag_marker(qtbot, plot, "onset", -40)  # 40 pixels to the left: an earlier onset
    assert mouse_ms < -1.0
    (edit,) = edits
    assert edit.unit == unit.id and edit.action == "onset"
    # The marker moved as far as the mouse did (to the pixel: the press fell within a pixel of the line).
    moved_ms = edit.ms - unit.onset_ms
    assert moved_ms == pytest.approx(mouse_ms, abs=abs(mouse_ms) / 40)
    edited = panel.site.unit(unit.id)
    # The onset lands on the template sample nearest to where the marker was let go (0.05 ms apart at 20 kHz):
    # the duration grows by as much as the onset moved back.
    expected = unit.measures.duration_ms - moved_ms
    assert edited.measures.duration_ms == pytest.approx(expected, abs=0.5 / RATE * 1000 + 1e-9)
    assert panel.table.item(0, DURATION).text() == f"{edited.measures.duration_ms:.1f}"
    assert panel.table.item(0, DURATION).text() != f"{unit.measures.duration_ms:.1f}"
    # Marked as edited: the remark, the numbers from the markers in orange, the marker itself in orange.
    assert "onset edited" in panel.table.item(0, REMARKS).text()
    assert panel.table.item(0, AREA).foreground().color() == EDITED_COLOUR
    assert plot.lines["onset"].pen.color() == EDITED_COLOUR
    assert edited.auto_markers == unit.auto_markers


def test_reject_and_restore_from_the_buttons(panel: MuapPanel, site: SiteAnalysis, qtbot: QtBot) -> None:
    changes: list[SiteAnalysis] = []
    panel.changed.connect(changes.append)
    accepted = [u for u in site.units if site.accepted(u)]
    row = site.units.index(accepted[0])
    panel.table.selectRow(row)
    assert panel.reject_button.isEnabled() and not panel.restore_button.isEnabled()
    qtbot.mouseClick(panel.reject_button, Qt.MouseButton.LeftButton)
    assert changes[-1].unit(accepted[0].id).rejected
    assert "rejected" in panel.table.item(row, REMARKS).text()
    assert len(panel.scatter.points.data) == len(accepted) - 1
    assert changes[-1].recruitment.units_firing == site.recruitment.units_firing - 1
    assert panel.restore_button.isEnabled()
    qtbot.mouseClick(panel.restore_button, Qt.MouseButton.LeftButton)
    assert not changes[-1].unit(accepted[0].id).rejected
    assert len(panel.scatter.points.data) == len(accepted)


def test_an_impossible_marker_is_refused_and_put_back(panel: MuapPanel, site: SiteAnalysis) -> None:
    unit = site.units[0]
    assert not panel.apply(Edit(unit.id, "onset", unit.end_ms + 1.0))
    assert "must come before the end" in panel.status.text()
    assert panel.plots[unit.id].lines["onset"].value() == pytest.approx(panel.plots[unit.id].x_of(unit.onset_ms))
    assert panel.site.unit(unit.id).measures == unit.measures


def test_the_table_and_the_plots_show_every_unit(panel: MuapPanel, site: SiteAnalysis) -> None:
    assert panel.table.rowCount() == len(site.units) == len(panel.plots)
    assert panel.table.columnCount() == len(COLUMNS) + 2
    for row, unit in enumerate(site.units):
        assert panel.table.item(row, 0).text() == str(unit.id)
        assert (
            panel.table.item(row, TABLE_COLUMNS.index("Amplitude (µV)")).text() == f"{unit.measures.amplitude_uv:.0f}"
        )
        assert f"{unit.measures.amplitude_uv:.0f} µV" in panel.plots[unit.id].title.textItem.toPlainText()
        assert panel.plots[unit.id].scale.textItem.toPlainText().endswith("µV/div")
    # The deltoid has reference values: both boxes are drawn.
    assert len(panel.scatter.inner.getData()[0]) == 5 and len(panel.scatter.outer.getData()[0]) == 5
    assert "Deltoid" in panel.summary.text()
