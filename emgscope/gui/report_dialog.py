"""The findings and report of one recorded exam: the table to edit, the impression, and the report to save or print.

The table comes from the findings file beside the recording (the clinician's, as left last time) or, the first
time, is suggested from the recording on a worker thread (a multi-muscle exam takes a few seconds), and saved at
once. Every change is saved as it is made, so nothing is lost when the dialog closes. *Save PDF…*, *Save HTML…* and
*Print…* draw the traces and write the report (:mod:`emgscope.gui.report_render`).

In practice (:mod:`emgscope.session.practice`) the suggestions stay hidden and the device does not name the case:
the trainee fills in the table, then *Reveal* colours each cell against the teaching patient's answer key, shows
the score, lists what was missed and, on a missed cell, replays the recording where the answer shows.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PyQt6.QtCore import Qt, QTimer
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtPrintSupport import QPrintDialog, QPrinter
from PyQt6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from emgscope.acquisition.sim_patients import PatientError, load_patient
from emgscope.analysis.findings.report import ReportContent, build_report
from emgscope.analysis.findings.sidecar import Findings, FindingsFileError, save_findings
from emgscope.analysis.findings.suggest import NoExamError, saved_or_suggested
from emgscope.analysis.findings.table import FIELDS, HEADINGS, cell_text
from emgscope.analysis.muap.sidecar import SidecarError, load_analyses
from emgscope.gui import report_render
from emgscope.gui.findings_table import FindingsTable
from emgscope.replay.reader import Recording, RecordingError, open_recording
from emgscope.session.practice import Score, score

POLL_MS = 100
Replay = Callable[[Path, float], None]
"""Replays a recording from a time in seconds (the window's replay)."""


def _load(path: Path) -> tuple[Recording, Findings]:
    recording = open_recording(path)
    return recording, saved_or_suggested(recording, path)


class ReportDialog(QDialog):
    """See the module's docstring. ``practice``: the case's name, for a practice exam (suggestions hidden)."""

    def __init__(
        self, path: Path, parent: QWidget | None = None, practice: str = "", replay: Replay | None = None
    ) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.practice_case = practice
        self.replay = replay
        self.recording: Recording | None = None
        self.findings: Findings | None = None
        self.score: Score | None = None
        self.setWindowTitle(("Practice: " if practice else "Report: ") + self.path.name)
        self._build()
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="findings")
        self._future: Future | None = self._pool.submit(_load, self.path)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)
        self._timer.start()

    def _build(self) -> None:
        self.status = QLabel("Reading the recording and suggesting the findings…")
        self.status.setWordWrap(True)
        self.table = FindingsTable()
        self.table.changed.connect(self._save)
        self.evidence = QLabel()
        self.evidence.setWordWrap(True)
        self.evidence.setObjectName("findingsEvidence")
        self.table.cell_selected.connect(self.evidence.setText)
        self.impression = QPlainTextEdit()
        self.impression.setPlaceholderText(
            "Impression (the clinician's; the software suggests findings in neutral words, never a diagnosis)"
        )
        self.impression.setMaximumHeight(110)
        self.impression.textChanged.connect(self._impression_changed)
        self.missed = QListWidget()
        self.missed.setVisible(False)
        self.missed.itemActivated.connect(self._replay_item)
        buttons = QDialogButtonBox()
        self.pdf_button = buttons.addButton("Save PDF…", QDialogButtonBox.ButtonRole.ActionRole)
        self.html_button = buttons.addButton("Save HTML…", QDialogButtonBox.ButtonRole.ActionRole)
        self.print_button = buttons.addButton("Print…", QDialogButtonBox.ButtonRole.ActionRole)
        self.reveal_button: QPushButton = buttons.addButton("Reveal", QDialogButtonBox.ButtonRole.ActionRole)
        self.reveal_button.setVisible(bool(self.practice_case))
        close = buttons.addButton(QDialogButtonBox.StandardButton.Close)
        close.clicked.connect(self.accept)
        self.pdf_button.clicked.connect(lambda: self.save_as(".pdf"))
        self.html_button.clicked.connect(lambda: self.save_as(".html"))
        self.print_button.clicked.connect(self.print_report)
        self.reveal_button.clicked.connect(self.reveal)
        for button in (self.pdf_button, self.html_button, self.print_button, self.reveal_button):
            button.setEnabled(False)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 3)
        layout.addWidget(self.evidence)
        layout.addWidget(QLabel("Impression"))
        layout.addWidget(self.impression)
        layout.addWidget(self.missed, 1)
        layout.addWidget(buttons)
        self.resize(1180, 560)

    # --- loading --------------------------------------------------------------------------------------

    def _poll(self) -> None:
        future = self._future
        if future is None or not future.done():
            return
        self._timer.stop()
        self._future = None
        try:
            self.recording, self.findings = future.result()
        except (RecordingError, NoExamError, FindingsFileError, SidecarError) as exc:
            self.status.setText(f"No report: {exc}")
            return
        self.loaded(self.findings)

    def wait_loaded(self, timeout_s: float = 60.0) -> bool:
        """Block until the findings are there (tests and the command line; the window never calls it)."""
        future = self._future
        if future is not None:
            future.result(timeout_s)
            self._poll()
        return self.findings is not None

    def loaded(self, findings: Findings) -> None:
        if self.practice_case and not findings.practice:
            findings.practice = {"case": self.practice_case, "revealed": False}
            self._save()
        self.practice_case = findings.practice.get("case", self.practice_case) if findings.practice else ""
        revealed = bool(findings.practice.get("revealed")) if findings.practice else False
        self.table.set_rows(findings.rows, practice=bool(self.practice_case) and not revealed)
        self.impression.blockSignals(True)
        self.impression.setPlainText(findings.impression)
        self.impression.blockSignals(False)
        muscles = len(findings.rows)
        if self.practice_case:
            self.status.setText(
                f"Practice: {muscles} muscles examined. Enter your finding in each cell (double-click), then Reveal."
            )
        else:
            edited = sum(bool(row.edited) for row in findings.rows)
            self.status.setText(
                f"{muscles} muscles. Suggested from the recording; double-click a cell to enter your own value "
                f"(yours always wins, marked ✎). {edited} rows edited. Changes are saved as you make them."
            )
        for button in (self.pdf_button, self.html_button, self.print_button):
            button.setEnabled(True)
        self.reveal_button.setEnabled(bool(self.practice_case))
        if revealed:
            self.reveal()

    # --- editing --------------------------------------------------------------------------------------

    def _impression_changed(self) -> None:
        if self.findings is not None:
            self.findings.impression = self.impression.toPlainText()
            self._save()

    def _save(self) -> None:
        if self.findings is None:
            return
        try:
            save_findings(self.path, self.findings)
        except FindingsFileError as exc:
            self.status.setText(f"Not saved: {exc}")

    # --- the report -----------------------------------------------------------------------------------

    def _content(self) -> ReportContent:
        assert self.recording is not None and self.findings is not None
        return build_report(self.recording, self.findings, hide_case=bool(self.practice_case))

    def _figures(self) -> dict[tuple[str, str], report_render.Figure]:
        assert self.recording is not None and self.findings is not None
        try:
            saved = load_analyses(self.path)
        except SidecarError:
            saved = []
        return report_render.figures(self.recording, self.findings, saved)

    def save_as(self, suffix: str, target: Path | None = None) -> Path | None:
        """Write the report as ``suffix`` (asks where unless ``target`` is given); the file written, or None."""
        if self.findings is None:
            return None
        if target is None:
            suggestion = str(self.path.with_name(self.path.name + ".report" + suffix))
            kind = "PDF (*.pdf)" if suffix == ".pdf" else "HTML (*.html)"
            chosen, _ = QFileDialog.getSaveFileName(self, "Save the report", suggestion, kind)
            if not chosen:
                return None
            target = Path(chosen)
        QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
        try:
            content, images = self._content(), self._figures()
            if suffix == ".pdf":
                report_render.write_pdf(content, images, target)
            else:
                report_render.write_html(content, images, target)
        except OSError as exc:
            self.status.setText(f"The report could not be written: {exc.strerror or exc}")
            return None
        finally:
            QGuiApplication.restoreOverrideCursor()
        self.status.setText(f"Report saved: {target}")
        return target

    def print_report(self) -> None:
        printer = QPrinter(QPrinter.PrinterMode.HighResolution)
        dialog = QPrintDialog(printer, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        report_render.print_to(printer, self._content(), self._figures())
        self.status.setText("Sent to the printer.")

    # --- practice -------------------------------------------------------------------------------------

    def reveal(self) -> Score | None:
        """Compare the trainee's cells with the case's key; colour them, show the score and what was missed."""
        if self.findings is None or not self.practice_case:
            return None
        try:
            case = load_patient(self.practice_case)
        except PatientError as exc:
            self.status.setText(f"The answer key cannot be read: {exc}")
            return None
        answers = {row.key: {name: row.entered.get(name) for name in FIELDS} for row in self.findings.rows}
        result = score(self.findings, case, answers)
        self.score = result
        index = {row.key: r for r, row in enumerate(self.findings.rows)}
        verdicts = {}
        for cell in result.cells:
            r = index[(cell.muscle, cell.side)]
            suggested = self.findings.rows[r].text(cell.name)
            answer = "left empty" if cell.answer is None else cell_text(cell.name, cell.answer)
            words = (
                f"{HEADINGS[cell.name]}: key {cell_text(cell.name, cell.truth)}; yours {answer}; the software "
                f"suggested {suggested}"
            )
            verdicts[(r, cell.name)] = (cell.correct, words)
        self.table.mark(verdicts)
        self.status.setText(
            f"{case.title} ({case.age} {case.sex}). Score: {result.correct} of {result.total} cells "
            f"({100 * result.fraction:.0f} %). {case.history}"
        )
        self.missed.clear()
        for cell in result.missed():
            at = f" — replay at {cell.moment_s:.1f} s" if cell.moment_s is not None else ""
            item = QListWidgetItem(cell.describe() + at)
            item.setData(Qt.ItemDataRole.UserRole, cell.moment_s)
            self.missed.addItem(item)
        self.missed.setVisible(True)
        self.findings.practice["revealed"] = True
        self._save()
        return result

    def _replay_item(self, item: QListWidgetItem) -> None:
        moment = item.data(Qt.ItemDataRole.UserRole)
        if moment is not None and self.replay is not None:
            self.replay(self.path, float(moment))

    def done(self, result: int) -> None:
        self._timer.stop()
        self._pool.shutdown(wait=False, cancel_futures=True)
        super().done(result)
