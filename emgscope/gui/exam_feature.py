"""The guided exam in the main window: the Exam menu, the prompt dock, and the bands on the scope.

The exam itself runs in the session (:class:`~emgscope.session.exam.ExamSession`, the same loop as
``emgscope record --protocol`` and the bench); this module only shows it:

* "Start guided exam…" opens the :class:`~emgscope.gui.exam_start_dialog.ExamStartDialog` (protocol, muscles and
  sides, channel, the simulated patient's compliance), starts the exam in the session and docks the
  :class:`~emgscope.gui.prompt_panel.PromptPanel`;
* a timer steps the exam (:meth:`~emgscope.session.session.Session.step_exam`) at the rate the detector's figures
  were measured at; the exam stamps everything on the ring's sample clock, so a late timer changes nothing;
* every segment, detected activity and flag becomes a band on the scope; the summary is written beside the
  recording on a worker thread, so the GUI never waits on the disk.

The same feature also shows a replayed file's segments as bands (:class:`~emgscope.gui.replay_panel.ReplayBands`),
so bands look the same live and in replay.
"""

from __future__ import annotations

from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from PyQt6.QtCore import QObject, QTimer
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QDockWidget

from emgscope.analysis.monitor import ACTIVITY_ONSET, READ_INTERVAL_MS
from emgscope.analysis.summary import SegmentSummary
from emgscope.core import events
from emgscope.core.controls import ReplayControl, SimulatorControl
from emgscope.core.events import Event
from emgscope.gui.exam_start_dialog import ExamStartDialog
from emgscope.gui.host import Host
from emgscope.gui.prompt_panel import PromptPanel
from emgscope.gui.replay_panel import ReplayBands
from emgscope.gui.scope_items import Band, lane_for
from emgscope.gui.side_panel import side_panel_width
from emgscope.protocol.annotation import ACTIVITY, SEGMENT, Annotation, label_colour
from emgscope.protocol.runner import ANNOTATION_ADDED, EXAM_FINISHED, STEP_CHANGED
from emgscope.session.exam import ExamChoice, ExamSession, save_summary
from emgscope.session.session import Session

TICK_MS = round(READ_INTERVAL_MS)
"""How often the exam reads the ring: the detector's figures (``emgscope bench``) were measured at this rate."""
BAND_GROUP = "exam"
RUNNING_SUFFIX = " …"
"""Appended to the running step's band: it is still growing."""


class ExamBands:
    """The bands of one exam: finished segments and activity, plus the step and the activity still running."""

    def __init__(self) -> None:
        self.done: list[Band] = []
        self.running: Band | None = None
        self.activity: Band | None = None

    def on_event(self, event: Event) -> None:
        kind = event.kind
        if kind == STEP_CHANGED:
            status = event.data["status"]
            planned = status.planned
            label = planned.label
            text = " ".join(p for p in (label, planned.muscle, planned.side, planned.repeat_text) if p) + RUNNING_SUFFIX
            self.running = Band(status.onset, None, text, label_colour(label), lane_for(label))
        elif kind == ACTIVITY_ONSET:
            self.activity = Band(event.sample_index, None, "ACT", label_colour("ACT"), lane_for("ACT"))
        elif kind == ANNOTATION_ADDED:
            annotation: Annotation = event.data["annotation"]
            if annotation.kind == SEGMENT:
                self.running = None
            elif annotation.kind == ACTIVITY:
                self.activity = None
            self.done.append(_band(annotation))
        elif kind == EXAM_FINISHED:
            self.running = None

    def shown(self, oldest_index: int) -> list[Band]:
        """What the scope shows: bands still inside the ring, then the running ones."""
        self.done = [band for band in self.done if band.end is None or band.end > oldest_index]
        return self.done + [band for band in (self.running, self.activity) if band is not None]


class ExamFeature(QObject):
    """The Exam menu and the view of the session's exam."""

    def __init__(self, session: Session, host: Host) -> None:
        super().__init__(host.widget())
        self.session = session
        self.host = host
        self.exam: ExamSession | None = None
        """The exam shown: the running one, then the last one until the next starts (its panel stays)."""
        self.bands = ExamBands()
        self.dialog: ExamStartDialog | None = None
        self.dock: QDockWidget | None = None
        self._inbox: deque[Event] = deque()
        menu = host.menu("E&xam")
        self.start_action = QAction("&Start guided exam…", host.widget())
        self.start_action.triggered.connect(self.choose)
        self.abort_action = QAction("&Abort exam", host.widget())
        self.abort_action.setEnabled(False)
        self.abort_action.triggered.connect(self.abort)
        menu.addAction(self.start_action)
        menu.addAction(self.abort_action)
        self.menu = menu
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.replay_bands = ReplayBands(host.set_bands, self)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="exam-summary")
        self.csv_writes: list[Future[Path | None]] = []
        """The summary files queued so far (tests wait on them)."""
        host.bridge.event.connect(self._on_session_event)
        self._source_changed()

    # --- starting and stopping ------------------------------------------------------------------------

    def choose(self) -> None:
        """Open the start dialog without blocking; OK starts the exam."""
        pipeline = self.session.pipeline
        if pipeline is None:
            self.host.banner.show("Connect a source before starting a guided exam.", "warning")
            return
        if self.session.exam is not None or self.dialog is not None:
            return
        simulated = isinstance(self.session.source, SimulatorControl)
        self.dialog = ExamStartDialog(pipeline.info.channel_labels, simulated, self.host.widget())
        self.dialog.accepted.connect(self._dialog_accepted)
        self.dialog.finished.connect(self._dialog_closed)
        self.dialog.open()

    def start(self, choice: ExamChoice) -> ExamSession | None:
        """Start ``choice`` on the current stream at its newest sample, on the study's scales (the protocol sets its
        own filters, and says so); ``None`` (with a banner) if it cannot."""
        if self.session.pipeline is not None and self.session.exam is None:
            self.host.start_from_study_defaults("Guided exam", filters=False)
        started = self.session.start_exam(choice, self._queue_summary)
        if isinstance(started, str):
            self.host.banner.show(started, "warning")
            return None
        self.exam = started
        self.bands = ExamBands()
        self._inbox.clear()
        started.bus.subscribe(self._inbox.append)
        panel = PromptPanel(started.runner)
        panel.setFixedWidth(side_panel_width(self.host.widget().width()))  # one size for the whole exam
        self._drop_dock()
        self.dock = self.host.add_dock("Guided exam", panel)
        self.start_action.setEnabled(False)
        self.abort_action.setEnabled(True)
        self.timer.start()
        return started

    def abort(self) -> None:
        """Stop the exam: the running step is stamped as aborted, and the summary so far is kept."""
        self.session.abort_exam()
        self.tick()

    def _dialog_accepted(self) -> None:
        choice = self.dialog.choice() if self.dialog is not None else None
        if choice is not None:
            self.start(choice)

    def _dialog_closed(self) -> None:
        if self.dialog is not None:
            self.dialog.deleteLater()
        self.dialog = None

    def _drop_dock(self) -> None:
        """Remove the previous exam's prompt panel (its summary stays visible until the next exam starts)."""
        dock, self.dock = self.dock, None
        if dock is None:
            return
        panel = dock.widget()
        if isinstance(panel, PromptPanel):
            panel.detach()
        self.host.remove_dock(dock)

    # --- the loop -------------------------------------------------------------------------------------

    def tick(self) -> None:
        """One step of the session's exam, then show what it said."""
        self.session.step_exam()
        exam = self.exam
        if exam is None:
            return
        if exam.driver is not None:  # the simulated patient follows the prompts: its control follows it
            effort = self.session.settings.source.simulator.effort_percent
            self.host.show_patient_effort(effort, driven=self.session.exam is exam)
        if self._inbox:
            while self._inbox:
                self.bands.on_event(self._inbox.popleft())
            self._show_bands(exam)
        if self.session.exam is not exam:
            self._ended(exam)

    def _ended(self, exam: ExamSession) -> None:
        """The panel, its summary and the bands stay on screen."""
        self.timer.stop()
        self.bands.running = self.bands.activity = None
        self._show_bands(exam)
        self.start_action.setEnabled(True)
        self.abort_action.setEnabled(False)

    def _show_bands(self, exam: ExamSession) -> None:
        self.host.set_bands(BAND_GROUP, self.bands.shown(exam.pipeline.filtered.oldest_index))

    def _queue_summary(self, target: Path, rows: list[SegmentSummary], replace: bool) -> None:
        """The summary goes to disk on the writer thread; the GUI never waits on it."""
        self.csv_writes.append(self._writer.submit(self._write_summary, target, rows, replace))

    def _write_summary(self, target: Path, rows: list[SegmentSummary], replace: bool) -> Path | None:
        bus = self.session.bus
        try:
            save_summary(target, rows, replace)
        except FileExistsError:
            bus.post(Event(events.WARNING, f"{target.name} exists already: the exam summary was not written over it."))
        except OSError as exc:
            bus.post(Event(events.WARNING, f"The exam summary could not be written to {target}: {exc.strerror or exc}"))
        else:
            return target
        return None

    # --- events ---------------------------------------------------------------------------------------

    def _on_session_event(self, event: Event) -> None:
        if event.kind == events.CONNECTED:
            self._source_changed()

    def _source_changed(self) -> None:
        """A new stream: a replay shows its file's bands; the last exam's bands belonged to the old ring."""
        source = self.session.source
        replay = source if isinstance(source, ReplayControl) and self.session.pipeline is not None else None
        self.replay_bands.set_source(replay)
        if self.session.exam is None:
            self.host.set_bands(BAND_GROUP, [])


def _band(annotation: Annotation) -> Band:
    return Band(
        annotation.onset,
        annotation.end,
        annotation.text,
        label_colour(annotation.label),
        lane_for(annotation.label),
    )
