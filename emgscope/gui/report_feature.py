"""File → Report… and File → Practice…: the findings and report of a recorded exam, and blind practice on a teaching
patient; and Exam → Spontaneous activity of the last 10 s, the rest analysis on request.

*Report…* opens the :class:`~emgscope.gui.report_dialog.ReportDialog` on the recording that matters now: the one
being replayed, else the last one recorded in this window, else one chosen in the sessions folder.

*Practice…* picks a teaching patient at random (:func:`~emgscope.session.practice.pick_case`), runs it under a
neutral name (the window, the recording and the report say "case", never which), records a guided exam of its
muscles as the simulated patient follows the prompts, and when the exam has ended opens the practice table for
the trainee; *Reveal* there scores it against the case's answer key and replays the moments that decide it.
"""

from __future__ import annotations

import copy
import random
import tempfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PyQt6.QtCore import QObject, QTimer
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QFileDialog, QMessageBox

from emgscope.acquisition.sim_patients import exam_muscles
from emgscope.analysis.spontaneous.analyse import analyse_rest
from emgscope.analysis.spontaneous.grade import site_grade
from emgscope.analysis.spontaneous.watch import RestResult, describe
from emgscope.core import events
from emgscope.core.controls import ReplayControl
from emgscope.core.events import Event
from emgscope.core.settings import RecordingSettings, SourceSettings
from emgscope.gui.exam_feature import ExamFeature
from emgscope.gui.host import Host
from emgscope.gui.replay_panel import FILE_FILTER
from emgscope.gui.report_dialog import Replay, ReportDialog
from emgscope.protocol.annotation import Annotation
from emgscope.protocol.loader import load_protocol, protocols_dir
from emgscope.recording import recorder as rec
from emgscope.recording.session import SessionInfo
from emgscope.session.exam import ExamChoice
from emgscope.session.practice import disguised_case, pick_case
from emgscope.session.session import Session

ON_REQUEST_S = 10.0
"""How much of the stream *Exam → Spontaneous activity of the last 10 s* analyses."""
PRACTICE_PROTOCOL = "needle_multi_muscle"
"""A practice exam examines each of the case's muscles: insertion, two rest sites, minimal, moderate, maximal."""
PRACTICE_ID = "PRACTICE"
WATCH_MS = 200
"""How often a running practice looks whether its exam has ended."""
Record = Callable[[SessionInfo, RecordingSettings], None]
"""Starts a recording as the Record button does."""


def _describe_rest(samples: np.ndarray, rate: float, first: int) -> str:
    rest = analyse_rest(samples, rate, first, settle_s=0.0)
    segment = Annotation(first, samples.size, "REST")
    return describe(RestResult(segment, rest, site_grade(rest), True))


class ReportFeature(QObject):
    """The two File menu entries and the practice run (see the module's docstring)."""

    def __init__(self, session: Session, host: Host, exams: ExamFeature, replay: Replay, record: Record) -> None:
        """``exams`` starts the practice's exam, ``replay`` replays a decisive moment, ``record`` starts a recording
        as the Record button does (its strip then shows it)."""
        super().__init__(host.widget())
        self.session = session
        self.host = host
        self.exams = exams
        self.replay = replay
        self.record = record
        self.last_recording: Path | None = None
        self.dialog: ReportDialog | None = None
        self.practice_case = ""
        """The case of the practice under way (until its table opens)."""
        self._practice_stage = ""
        """``connecting``, ``examining``, ``closing`` while a practice runs."""
        self._source_before: SourceSettings | None = None
        menu = host.menu("&File")
        self.report_action = QAction("&Report…", host.widget())
        self.report_action.setToolTip("The findings table and report of a recorded exam")
        self.report_action.triggered.connect(self.choose_report)
        self.practice_action = QAction("&Practice…", host.widget())
        self.practice_action.setToolTip("Examine a teaching patient blind, fill in the findings, then reveal")
        self.practice_action.triggered.connect(self.ask_practice)
        first = menu.actions()[0] if menu.actions() else None
        menu.insertAction(first, self.report_action)
        menu.insertAction(first, self.practice_action)
        menu.insertSeparator(first)
        self.rest_action = QAction(f"Spontaneous activity of the last {ON_REQUEST_S:g} s", host.widget())
        self.rest_action.setToolTip("Analyse the heard channel's last seconds as a rest (the patient relaxed)")
        self.rest_action.triggered.connect(self.analyse_rest_now)
        host.menu("E&xam").addAction(self.rest_action)
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="rest-on-request")
        self._rest_future: Future[str] | None = None
        self._rest_timer = QTimer(self)
        self._rest_timer.setInterval(WATCH_MS)
        self._rest_timer.timeout.connect(self._rest_done)
        self._watch = QTimer(self)
        self._watch.setInterval(WATCH_MS)
        self._watch.timeout.connect(self._watch_practice)
        host.bridge.event.connect(self._on_event)

    # --- report ---------------------------------------------------------------------------------------

    def recording_now(self) -> Path | None:
        """The recording the user most likely means: the one replayed, else the last one made here."""
        source = self.session.source
        if isinstance(source, ReplayControl) and source.facts is not None:
            return Path(source.facts.path)
        return self.last_recording

    def choose_report(self) -> None:
        path = self.recording_now()
        if path is None:
            folder = str(self.session.settings.recording.folder())
            chosen, _ = QFileDialog.getOpenFileName(
                self.host.widget(), "Report of which recording", folder, FILE_FILTER
            )
            if not chosen:
                return
            path = Path(chosen)
        self.open_report(path)

    def open_report(self, path: Path, practice: str = "") -> ReportDialog:
        """Open the findings and report of ``path`` (without blocking the window)."""
        if self.dialog is not None:
            self.dialog.close()
        self.dialog = ReportDialog(path, self.host.widget(), practice, self.replay)
        self.dialog.open()
        return self.dialog

    # --- spontaneous activity on request --------------------------------------------------------------

    def analyse_rest_now(self) -> None:
        """The heard channel's last :data:`ON_REQUEST_S` analysed as a rest on a worker thread; the banner says
        what it shows (the same analysis and words as a guided exam's rest)."""
        pipeline = self.session.pipeline
        if pipeline is None:
            self.host.banner.show("Connect a source first: there is nothing to analyse.", "warning")
            return
        if self._rest_future is not None:
            return
        rate = pipeline.info.sample_rate
        channel = min(max(self.session.audio.channel, 0), pipeline.info.n_channels - 1)
        first, samples = pipeline.filtered.latest(round(ON_REQUEST_S * rate))
        self._rest_future = self._pool.submit(_describe_rest, samples[channel].copy(), rate, first)
        self._rest_timer.start()

    def _rest_done(self) -> None:
        future = self._rest_future
        if future is None or not future.done():
            return
        self._rest_timer.stop()
        self._rest_future = None
        self.host.banner.show(future.result(), "info")

    # --- practice -------------------------------------------------------------------------------------

    def ask_practice(self) -> None:
        box = QMessageBox(self.host.widget())
        box.setWindowTitle("Practice")
        box.setText(
            "A teaching patient is chosen at random and not named. A guided exam of its muscles is recorded while "
            "the simulated patient follows the prompts; then fill in the findings table and press Reveal."
        )
        box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
        box.accepted.connect(self.start_practice)
        box.open()

    def start_practice(self, case: str | None = None, rng: random.Random | None = None) -> str:
        """Begin a practice on ``case`` (default: one at random); its name (for tests: the window never shows it)."""
        if self.session.recordings.recording or self.session.exam is not None:
            self.host.banner.show("Stop the recording and the exam before starting a practice.", "warning")
            return ""
        name = case or pick_case(rng)
        folder = Path(tempfile.gettempdir()) / "emgscope-practice"
        disguised = disguised_case(name, folder)
        source = self.session.settings.source
        self._source_before = copy.deepcopy(source)
        source.kind = "sim"
        source.simulator.patient = str(disguised)
        source.simulator.seed = (rng or random.Random()).randrange(1, 10_000)
        self.practice_case = name
        self._practice_stage = "connecting"
        self.host.connect_source()
        return name

    def _begin_exam(self) -> None:
        """The case runs: record it and start the guided exam of its muscles."""
        self._practice_stage = "examining"
        self.record(SessionInfo(patient_id=PRACTICE_ID, notes="Practice exam"), self.session.settings.recording)
        if not self.session.recordings.recording:
            self._practice_failed("The practice could not start recording.")
            return
        protocol = load_protocol(protocols_dir() / f"{PRACTICE_PROTOCOL}.toml")
        spec = self.session.settings.source.simulator.patient
        muscles = [(m.split(":")[0], m.split(":")[1]) for m in (exam_muscles(spec) or "").split(",") if m]
        if self.exams.start(ExamChoice(protocol, muscles, compliance="compliant")) is None:
            self.session.recordings.stop()
            self._practice_failed("The practice exam could not start.")
            return
        self._watch.start()

    def _watch_practice(self) -> None:
        if self._practice_stage == "examining" and self.session.exam is None:
            self._practice_stage = "closing"
            self.session.recordings.stop()

    def _practice_failed(self, message: str) -> None:
        self._practice_stage = ""
        self._watch.stop()
        self._restore_source()
        self.host.banner.show(message, "warning")

    def _restore_source(self) -> None:
        """The settings name the source used before the practice again (the case's copy is a passing file); the
        practice case runs on until the next connection."""
        if self._source_before is not None:
            self.session.settings.source = self._source_before
            self._source_before = None

    def _on_event(self, event: Event) -> None:
        if event.kind == events.CONNECTED and self._practice_stage == "connecting":
            self._begin_exam()
        elif event.kind == rec.RECORDING_STOPPED and event.data.get("path"):
            path = Path(event.data["path"])
            self.last_recording = path
            if self._practice_stage == "closing":
                self._practice_stage = ""
                self._watch.stop()
                self._restore_source()
                case, self.practice_case = self.practice_case, ""
                self.open_report(path, practice=case)
        elif event.kind == events.CONNECT_FAILED and self._practice_stage == "connecting":
            self._practice_failed(f"The practice patient could not start: {event.message}")
