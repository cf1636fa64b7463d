"""The guided exam in the main window: the Exam menu and the loop that drives the exam core.

Everything clinical lives in the Qt-free core (:mod:`emgscope.protocol`, :mod:`emgscope.analysis`); this module
only connects it to the window:

* "Start guided exam…" opens the :class:`~emgscope.gui.exam_start_dialog.ExamStartDialog` (protocol, muscles and
  sides, channel, the simulated patient's compliance), applies the chosen protocol's filter preset and docks the
  :class:`~emgscope.gui.prompt_panel.PromptPanel`;
* a timer reads the filtered ring through a reader named ``detect`` and, in the order the core asks for, lets the
  simulated patient act, moves the runner's clock and feeds the monitor. The clock is the ring's write index, so
  a step lasts exactly its samples however late the timer fires;
* every segment, detected activity and flag becomes a band on the scope and, while a recording runs, an
  annotation of the file (:meth:`~emgscope.recording.recorder.Recorder.annotate_at`, journalled at once); at the
  end of each muscle the summary goes to ``<recording>_summary.csv`` beside the recording.

The window's one line is ``attach_exam(self)``. The same feature also shows a replayed file's segments as bands
(:class:`~emgscope.gui.replay_panel.ReplayBands`), so bands look the same live and in replay.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from PyQt6.QtCore import QObject, QTimer
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QDockWidget

from emgscope.acquisition.pump import Pipeline
from emgscope.acquisition.remote_source import Replay
from emgscope.analysis.monitor import ACTIVITY_ONSET, MUSCLE_SUMMARY, READ_INTERVAL_MS, ExamMonitor
from emgscope.analysis.summary import SegmentSummary, summary_csv_path, write_csv
from emgscope.core import events
from emgscope.core.events import Event, EventBus
from emgscope.core.ring import RingReader
from emgscope.core.settings import FILTER_PRESETS
from emgscope.gui.exam_start_dialog import ExamChoice, ExamStartDialog
from emgscope.gui.prompt_panel import PromptPanel
from emgscope.gui.replay_panel import ReplayBands
from emgscope.gui.scope_items import Band, lane_for
from emgscope.protocol.annotation import ACTIVITY, SEGMENT, Annotation, label_colour
from emgscope.protocol.model import build_plan
from emgscope.protocol.runner import ANNOTATION_ADDED, EXAM_FINISHED, STEP_CHANGED, ExamRunner
from emgscope.protocol.sim_patient_driver import COMPLIANCE_PRESETS, SimPatientDriver
from emgscope.recording.recorder import Recorder

if TYPE_CHECKING:
    from emgscope.gui.main_window import MainWindow

READER_NAME = "detect"
TICK_MS = round(READ_INTERVAL_MS)
"""How often the exam reads the ring: the detector's figures (``emgscope bench``) were measured at this rate."""
SETTLE_S = 1.0
"""After the last step, how long the monitor keeps reading so activity at the very end is settled."""
BAND_GROUP = "exam"
RUNNING_SUFFIX = " …"
"""Appended to the running step's band: it is still growing."""


@dataclass
class RunningExam:
    """One exam in progress on one pipeline."""

    choice: ExamChoice
    pipeline: Pipeline
    runner: ExamRunner
    monitor: ExamMonitor
    reader: RingReader
    driver: SimPatientDriver | None
    inbox: deque[Event] = field(default_factory=deque)
    """The exam's events, handled on each tick (the runner and the monitor post them during the tick itself)."""
    bands: list[Band] = field(default_factory=list)
    running_band: Band | None = None
    activity_band: Band | None = None
    recorder: Recorder | None = None
    """The recording running on this exam's stream, which gets the exam's annotations."""
    recording_path: Path | None = None
    """The latest recording of this exam (the summary goes beside it, even if it was stopped just before)."""
    csv_path: Path | None = None
    csv_rows: list[SegmentSummary] = field(default_factory=list)
    finished_at: int | None = None


class ExamFeature(QObject):
    """The Exam menu and at most one running exam of one main window."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.exam: RunningExam | None = None
        self.dialog: ExamStartDialog | None = None
        self.dock: QDockWidget | None = None
        menu = window.menuBar().addMenu("E&xam")
        self.start_action = QAction("&Start guided exam…", window)
        self.start_action.triggered.connect(self.choose)
        self.abort_action = QAction("&Abort exam", window)
        self.abort_action.setEnabled(False)
        self.abort_action.triggered.connect(self.abort)
        menu.addAction(self.start_action)
        menu.addAction(self.abort_action)
        self.menu = menu
        self.timer = QTimer(self)
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self.tick)
        self.replay_bands = ReplayBands(window.scope.set_bands, self)
        self._writer = ThreadPoolExecutor(1, thread_name_prefix="exam-summary")
        self.csv_writes: list[Future[Path | None]] = []
        """The summary files queued so far (tests wait on them)."""
        window.bridge.event.connect(self._on_window_event)
        self._source_changed()

    # --- starting and stopping ------------------------------------------------------------------------

    def choose(self) -> None:
        """Open the start dialog without blocking; OK starts the exam."""
        pipeline = self.window.pipeline
        if pipeline is None:
            self.window.banner.show("Connect a source before starting a guided exam.", "warning")
            return
        if self.exam is not None or self.dialog is not None:
            return
        simulated = hasattr(self.window.connection.source, "effort_percent")
        self.dialog = ExamStartDialog(pipeline.info.channel_labels, simulated, self.window)
        self.dialog.accepted.connect(self._dialog_accepted)
        self.dialog.finished.connect(self._dialog_closed)
        self.dialog.open()

    def start(self, choice: ExamChoice) -> RunningExam | None:
        """Start ``choice`` on the current stream at its newest sample; ``None`` (with a banner) if it cannot."""
        window = self.window
        pipeline = window.pipeline
        if pipeline is None or self.exam is not None:
            window.banner.show("Connect a source before starting a guided exam.", "warning")
            return None
        preset = choice.protocol.filter_preset
        if window.settings.filters.preset != preset:
            filters = dataclasses.replace(FILTER_PRESETS[preset], notch_hz=window.settings.filters.notch_hz)
            window.apply_filters(filters)
        rate = pipeline.info.sample_rate
        runner = ExamRunner(build_plan(choice.protocol, choice.muscles), rate)
        monitor = ExamMonitor(runner)
        driver = None
        if choice.compliance is not None and hasattr(window.connection.source, "effort_percent"):
            driver = SimPatientDriver(rate, window.set_effort, COMPLIANCE_PRESETS[choice.compliance])
            runner.bus.subscribe(driver.on_event)
        pipeline.filtered.remove_reader(READER_NAME)
        reader = pipeline.filtered.reader(READER_NAME)
        panel = PromptPanel(runner)
        self._drop_dock()
        self.dock = window.add_dock("Guided exam", panel)
        channel = min(choice.channel, pipeline.info.n_channels - 1)
        exam = RunningExam(dataclasses.replace(choice, channel=channel), pipeline, runner, monitor, reader, driver)
        runner.bus.subscribe(exam.inbox.append)
        self.exam = exam
        self.start_action.setEnabled(False)
        self.abort_action.setEnabled(True)
        runner.start(reader.position)
        self.timer.start()
        return exam

    def abort(self) -> None:
        """Stop the exam: the running step is stamped as aborted, and the summary so far is kept."""
        if self.exam is not None:
            self.exam.runner.abort()
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
        dock = self.dock
        if dock is None:
            return
        self.window.menuView.removeAction(dock.toggleViewAction())
        self.window.removeDockWidget(dock)
        panel = dock.widget()
        if isinstance(panel, PromptPanel):
            panel.detach()
        dock.deleteLater()
        self.dock = None

    # --- the loop -------------------------------------------------------------------------------------

    def tick(self) -> None:
        """Read what arrived since the last tick: patient, runner clock, then monitor (the core's order)."""
        exam = self.exam
        if exam is None:
            return
        if self.window.pipeline is not exam.pipeline:
            exam.runner.abort()
            self._end(exam)
            self.window.banner.show("The guided exam stopped: the source changed.", "warning")
            return
        self._follow_recorder(exam)
        if exam.driver is not None:
            exam.driver.apply_due(exam.pipeline.raw.write_index)
        reader = exam.reader
        now = exam.pipeline.filtered.write_index
        exam.runner.advance_to(now)
        data = reader.read(max(0, now - reader.position))
        exam.monitor.feed(reader.position - data.shape[1], data[exam.choice.channel])
        self._drain(exam)
        status = exam.runner.status
        if status.finished:
            if exam.finished_at is None:
                exam.finished_at = status.onset
            if reader.position >= exam.finished_at + SETTLE_S * exam.runner.sample_rate or status.aborted:
                exam.monitor.flush()
                self._end(exam)

    def _end(self, exam: RunningExam) -> None:
        """Stop reading; the panel, its summary and the bands stay on screen."""
        self.timer.stop()
        exam.pipeline.filtered.remove_reader(READER_NAME)
        exam.monitor.close()
        self._drain(exam)
        exam.running_band = exam.activity_band = None
        self._show_bands(exam)
        self.exam = None
        self.start_action.setEnabled(True)
        self.abort_action.setEnabled(False)

    # --- recording ------------------------------------------------------------------------------------

    def _recorder(self) -> Recorder | None:
        recorder = self.window.sessions.record_controls.recorder
        exam = self.exam
        if recorder is None or exam is None or recorder.ring is not exam.pipeline.raw:
            return None
        return recorder

    def _follow_recorder(self, exam: RunningExam) -> None:
        """A recording started during the exam gets every annotation so far that falls inside it."""
        recorder = self._recorder()
        if recorder is not exam.recorder:
            exam.recorder = recorder
            if recorder is not None:
                for annotation in sorted(exam.runner.annotations + exam.monitor.annotations, key=lambda a: a.onset):
                    recorder.annotate_at(annotation.onset, annotation.duration, annotation.text)
        if recorder is not None and recorder.path is not None and recorder.path != exam.recording_path:
            exam.recording_path = recorder.path
            exam.csv_path = None

    def _write_summary(self, exam: RunningExam, rows: list[SegmentSummary]) -> None:
        """Queue ``<recording>_summary.csv`` (all muscles so far) for the writer thread; the GUI never waits on it."""
        exam.csv_rows += rows
        if exam.recording_path is None:
            return
        target = summary_csv_path(exam.recording_path)
        replace = exam.csv_path == target
        exam.csv_path = target
        self.csv_writes.append(
            self._writer.submit(_save_summary, target, list(exam.csv_rows), replace, self.window.bus)
        )

    # --- events ---------------------------------------------------------------------------------------

    def _drain(self, exam: RunningExam) -> None:
        if not exam.inbox:
            return
        while exam.inbox:
            self._on_exam_event(exam, exam.inbox.popleft())
        self._show_bands(exam)

    def _on_exam_event(self, exam: RunningExam, event: Event) -> None:
        kind = event.kind
        if kind == STEP_CHANGED:
            status = event.data["status"]
            planned = status.planned
            label = planned.label
            text = " ".join(p for p in (label, planned.muscle, planned.side, planned.repeat_text) if p) + RUNNING_SUFFIX
            exam.running_band = Band(status.onset, None, text, label_colour(label), lane_for(label))
            source = self.window.connection.source
            if label == "INS" and exam.driver is not None and hasattr(source, "insertion"):
                source.insertion()
        elif kind == ACTIVITY_ONSET:
            exam.activity_band = Band(event.sample_index, None, "ACT", label_colour("ACT"), lane_for("ACT"))
        elif kind == ANNOTATION_ADDED:
            annotation: Annotation = event.data["annotation"]
            if annotation.kind == SEGMENT:
                exam.running_band = None
            elif annotation.kind == ACTIVITY:
                exam.activity_band = None
            exam.bands.append(_band(annotation))
            if exam.recorder is not None:
                exam.recorder.annotate_at(annotation.onset, annotation.duration, annotation.text)
        elif kind == MUSCLE_SUMMARY:
            self._write_summary(exam, event.data.get("rows", []))
        elif kind == EXAM_FINISHED:
            exam.running_band = None

    def _show_bands(self, exam: RunningExam) -> None:
        oldest = exam.pipeline.filtered.oldest_index
        exam.bands = [band for band in exam.bands if band.end is None or band.end > oldest]
        extra = [band for band in (exam.running_band, exam.activity_band) if band is not None]
        self.window.scope.set_bands(BAND_GROUP, exam.bands + extra)

    def _on_window_event(self, event: Event) -> None:
        if event.kind == events.CONNECTED:
            self._source_changed()

    def _source_changed(self) -> None:
        """A new stream: a replay shows its file's bands; the last exam's bands belonged to the old ring."""
        source = self.window.connection.source
        replay = source if isinstance(source, Replay) and self.window.pipeline is not None else None
        self.replay_bands.set_source(replay)
        if self.exam is None:
            self.window.scope.set_bands(BAND_GROUP, [])


def _save_summary(target: Path, rows: list[SegmentSummary], replace: bool, bus: EventBus) -> Path | None:
    """Write the summary beside the recording: first as a new file (never over someone else's), then, after each
    further muscle, by atomically replacing the one this exam wrote."""
    try:
        if not replace:
            write_csv(target, rows)
            return target
        partial = target.with_name(target.name + ".part")
        with contextlib.suppress(FileNotFoundError):
            partial.unlink()
        write_csv(partial, rows)
        os.replace(partial, target)
        return target
    except FileExistsError:
        bus.post(Event(events.WARNING, f"{target.name} exists already: the exam summary was not written over it."))
    except OSError as exc:
        bus.post(Event(events.WARNING, f"The exam summary could not be written to {target}: {exc.strerror or exc}"))
    return None


def _band(annotation: Annotation) -> Band:
    return Band(
        annotation.onset,
        annotation.end,
        annotation.text,
        label_colour(annotation.label),
        lane_for(annotation.label),
    )


def attach_exam(window: MainWindow) -> ExamFeature:
    """Give ``window`` the Exam menu (the one line :class:`MainWindow` needs)."""
    return ExamFeature(window)
