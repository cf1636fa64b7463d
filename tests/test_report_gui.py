"""The findings table, the report dialog, practice and the prompt panel's rest line: real Qt widgets offscreen, on
recordings of headless exams of the simulated teaching patients."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from PyQt6.QtWidgets import QComboBox
from pytestqt.qtbot import QtBot
from support.exams import examine
from support.window import open_window, wait_connected

from emgscope.acquisition.sim_patients import load_patient
from emgscope.analysis.findings.sidecar import load_findings
from emgscope.analysis.findings.suggest import suggest
from emgscope.analysis.monitor import SPONTANEOUS
from emgscope.analysis.spontaneous.grade import site_grade
from emgscope.analysis.spontaneous.watch import MIN_ANNOTATED, RestResult
from emgscope.core.events import Event
from emgscope.core.settings import Settings
from emgscope.gui.findings_table import COLUMNS, EMPTY, RIGHT, WRONG
from emgscope.gui.prompt_panel import PromptPanel
from emgscope.gui.report_dialog import ReportDialog
from emgscope.protocol.annotation import Annotation
from emgscope.protocol.loader import load_protocol, shipped_protocols
from emgscope.protocol.model import build_plan
from emgscope.protocol.runner import ExamRunner
from emgscope.replay.reader import open_recording
from emgscope.session.practice import key_row


@pytest.fixture(scope="module")
def exams(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("report-gui")
    return {name: examine(folder, name, "needle_one_muscle", seed=5) for name in ("als", "acute_radiculopathy")}


def dialog_for(qtbot: QtBot, path: Path, practice: str = "", replay=None) -> ReportDialog:
    dialog = ReportDialog(path, None, practice, replay)
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.wait_loaded(120)
    return dialog


def test_an_edited_cell_wins_is_marked_saved_and_reopened(qtbot: QtBot, exams: dict, tmp_path: Path) -> None:
    path = tmp_path / "als.bdf"
    shutil.copy(exams["als"], path)
    dialog = dialog_for(qtbot, path)
    table = dialog.table
    assert table.rowCount() == 1 and table.item(0, 0).text() == "First dorsal interosseous"
    column = COLUMNS.index("psw")
    suggested = dialog.findings.rows[0].value("psw")
    assert table.item(0, column).text() == ("0" if suggested == 0 else f"{suggested}+")
    # Edit the cell through its editor, as a double-click does: the list of grades with "not examined".
    delegate = table.itemDelegate()
    index = table.model().index(0, column)
    editor = delegate.createEditor(table.viewport(), None, index)
    assert isinstance(editor, QComboBox) and editor.count() == 6
    delegate.setEditorData(editor, index)
    new = 4 if suggested != 4 else 1
    editor.setCurrentIndex(editor.findData(new))
    delegate.setModelData(editor, table.model(), index)
    item = table.item(0, column)
    assert item.text() == f"{new}+ ✎" and item.font().bold()
    dialog.impression.setPlainText("Active denervation in the hand.")
    saved = load_findings(path)
    assert saved is not None and saved.rows[0].entered == {"psw": new} and saved.rows[0].suggested["psw"] == suggested
    assert saved.impression == "Active denervation in the hand."
    dialog.close()
    again = dialog_for(qtbot, path)
    assert again.table.item(0, column).text() == f"{new}+ ✎"
    assert again.impression.toPlainText() == "Active denervation in the hand."
    pdf = again.save_as(".pdf", tmp_path / "als.pdf")
    assert pdf is not None and pdf.stat().st_size > 20_000
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
        assert f"{new}+" in text and "Active denervation in the hand." in text and "Muscle" in text


def test_practice_hides_the_suggestions_then_reveal_scores_the_trainee(
    qtbot: QtBot, exams: dict, tmp_path: Path
) -> None:
    path = tmp_path / "case.bdf"
    shutil.copy(exams["acute_radiculopathy"], path)
    replayed: list[tuple[Path, float]] = []
    dialog = dialog_for(qtbot, path, practice="acute_radiculopathy", replay=lambda p, s: replayed.append((p, s)))
    table = dialog.table
    assert {table.item(0, COLUMNS.index(name)).text() for name in COLUMNS[2:-1]} == {EMPTY}
    key = key_row(load_patient("acute_radiculopathy").muscles[0].findings)
    table.enter(0, "insertional", key["insertional"])  # right
    table.enter(0, "fibs", key["fibs"])  # right
    table.enter(0, "interference", "single" if key["interference"] != "single" else "full")  # wrong
    score = dialog.reveal()
    assert score is not None and score.total == 10 and score.correct == 2
    assert dialog.missed.count() == 8
    assert table.item(0, COLUMNS.index("fibs")).background().color() == RIGHT
    assert table.item(0, COLUMNS.index("interference")).background().color() == WRONG
    assert "Acute" in dialog.status.text() and "Score: 2 of 10 cells (20 %)" in dialog.status.text()
    assert table.item(0, COLUMNS.index("psw")).text() == EMPTY  # left empty stays empty, marked wrong
    item = next(dialog.missed.item(k) for k in range(dialog.missed.count()) if "PSW" in dialog.missed.item(k).text())
    dialog.missed.itemActivated.emit(item)
    rest_anchor = dialog.findings.rows[0].anchors["rest"][0]
    assert replayed == [(path, rest_anchor)]
    saved = load_findings(path)
    assert saved is not None and saved.practice == {"case": "acute_radiculopathy", "revealed": True}


def test_the_prompt_panel_says_what_the_rest_shows(qtbot: QtBot, exams: dict) -> None:
    recording = open_recording(exams["acute_radiculopathy"])
    rest = next(r for r in suggest(recording).evidence[0].rests if r.relaxed)
    protocol = load_protocol(next(p for p in shipped_protocols() if p.stem == "needle_one_muscle"))
    runner = ExamRunner(build_plan(protocol, [("Tibialis anterior", "R")]), rest.sample_rate)
    panel = PromptPanel(runner)
    qtbot.addWidget(panel)
    panel.show()
    segment = Annotation(rest.start_index, rest.samples, "REST", "Tibialis anterior", "R", repeat="site 1/3")
    result = RestResult(segment, rest, site_grade(rest), True)
    runner.bus.post(Event(SPONTANEOUS, segment.text, segment.onset, {"result": result}))
    qtbot.waitUntil(lambda: panel.spontaneous_label.text() != "", timeout=3000)
    text = panel.spontaneous_label.text()
    grades = site_grade(rest).grades
    assert text.startswith("At rest (") and "fib " in text and "PSW " in text
    fibs = [t for t in rest.of("fibrillation") if t.count >= MIN_ANNOTATED]
    many = f"{len(fibs)} train{'s' * (len(fibs) != 1)} ({sum(t.count for t in fibs)} discharges)"
    assert f"fib {many}" in text  # in words a technician reads
    assert f"Suggested at this site: fib {grades['fibrillation']}" in text.replace("+", "")


def test_practice_in_the_window_runs_a_blind_case_and_opens_its_table(qtbot: QtBot, tmp_path: Path) -> None:
    settings = Settings()
    settings.recording.sessions_folder = str(tmp_path)
    window = open_window(qtbot, settings)
    wait_connected(qtbot, window)
    actions = [a.text() for a in window.menu("&File").actions()]
    assert "&Report…" in actions and "&Practice…" in actions
    name = window.reports.start_practice("normal")
    assert name == "normal" and Path(settings.source.simulator.patient).name == "case.toml"
    qtbot.waitUntil(lambda: window.session.exam is not None and window.session.recordings.recording, timeout=30_000)
    qtbot.waitUntil(lambda: window.session.exam.runner.status.index >= 2, timeout=30_000)  # into the first rest
    window.exam.abort()
    qtbot.waitUntil(lambda: window.reports.dialog is not None, timeout=30_000)
    dialog = window.reports.dialog
    assert dialog.wait_loaded(120)
    assert dialog.practice_case == "normal" and dialog.reveal_button.isVisible()
    assert "normal" not in window.status.source.text()
    device = next(a.text for a in open_recording(dialog.path).annotations if a.text.startswith("Device:"))
    assert "case: Tibialis anterior R" in device and "normal" not in device
    assert settings.source.simulator.patient == ""  # the settings name the source used before the practice
    window.close()


def test_spontaneous_activity_on_request_analyses_the_streams_last_seconds(qtbot: QtBot) -> None:
    settings = Settings()
    settings.source.simulator.patient = "acute_radiculopathy"
    window = open_window(qtbot, settings)
    wait_connected(qtbot, window)
    qtbot.waitUntil(
        lambda: window.pipeline.filtered.write_index > 12 * window.pipeline.info.sample_rate, timeout=30_000
    )
    window.reports.rest_action.trigger()
    qtbot.waitUntil(lambda: window.banner.label.text().startswith("At rest (10 s)"), timeout=20_000)
    assert "fib " in window.banner.label.text() and "Suggested at this site" in window.banner.label.text()
    window.close()
