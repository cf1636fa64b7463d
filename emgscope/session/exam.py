"""A guided exam on a stream: the one loop that the window, ``emgscope record --protocol`` and the bench all run.

:meth:`ExamSession.step` is the loop body. It reads what arrived in the filtered ring since the last step,
through a reader named ``detect``, in the order the exam core asks for: the simulated patient reacts to the
prompts due by now, the runner's clock moves to the newest sample (its step changes and segment annotations are
stamped with that sample index, so a step lasts exactly its samples however late the step runs), the activity
monitor reads the new samples, and everything the runner and the monitor annotate goes into the recording.
Who calls it differs only in pace: the window's timer, or a headless loop that renders the simulated patient
block by block as fast as the machine allows (:mod:`emgscope.session.headless`).

After the last step the monitor keeps reading for :data:`SETTLE_S`, so activity at the very end is settled; then
the exam ends, and the summary per segment is written beside the recording (``<recording>_summary.csv``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from emgscope.acquisition.pump import Pipeline
from emgscope.analysis.monitor import MUSCLE_SUMMARY, ExamMonitor
from emgscope.analysis.summary import SegmentSummary, summary_csv_path, write_csv
from emgscope.core import log
from emgscope.core.controls import SimulatorControl
from emgscope.core.events import Event, EventBus
from emgscope.core.units import counted
from emgscope.protocol.annotation import Annotation
from emgscope.protocol.model import PlannedStep, Protocol
from emgscope.protocol.runner import ANNOTATION_ADDED, STEP_CHANGED, ExamRunner
from emgscope.protocol.sim_patient_driver import SimPatientDriver
from emgscope.recording.recorder import Recorder

READER_NAME = "detect"
SETTLE_S = 1.0
"""After the last step, how long the monitor keeps reading so activity at the very end is settled."""

SummaryWriter = Callable[[Path, list[SegmentSummary], bool], None]
"""Writes the summary rows to a path (``True``: replace the one this exam wrote before)."""
_log = log.logger(__name__)


@dataclass(frozen=True)
class ExamChoice:
    """What the operator chose to run: a protocol on some muscles, the channel the needle is on, and for the
    simulated patient how it follows the prompts."""

    protocol: Protocol
    muscles: list[tuple[str, str]]
    channel: int = 0
    compliance: str | None = None
    """A key of :data:`~emgscope.protocol.sim_patient_driver.COMPLIANCE_PRESETS`; ``None`` for a real patient."""


class ExamSession:
    """One guided exam on one pipeline; :meth:`step` until :attr:`ended`."""

    def __init__(
        self,
        plan: list[PlannedStep],
        pipeline: Pipeline,
        channel: int = 0,
        driver: SimPatientDriver | None = None,
        patient: SimulatorControl | None = None,
        operator_s: float | None = None,
        limit_s: float | None = None,
        summary_writer: SummaryWriter | None = None,
    ) -> None:
        """``driver`` makes the simulated ``patient`` follow the prompts (and an insertion step provokes its
        burst); ``operator_s``: a step that waits for the operator is advanced after this much signal, as an
        operator would once satisfied (headless exams); ``limit_s``: the exam is aborted at this much signal;
        ``summary_writer``: how the summary reaches the disk (default: written at once)."""
        rate = pipeline.info.sample_rate
        self.pipeline = pipeline
        self.channel = min(max(channel, 0), pipeline.info.n_channels - 1)
        self.runner = ExamRunner(plan, rate)
        self.monitor = ExamMonitor(self.runner)
        self.bus: EventBus = self.runner.bus
        """The exam's own events (step changed, annotation added, summary, finished), posted during :meth:`step`."""
        self.driver = driver
        self.patient = patient
        if driver is not None:
            self.bus.subscribe(driver.on_event)
        self.bus.subscribe(self._on_event)
        pipeline.filtered.remove_reader(READER_NAME)
        self.reader = pipeline.filtered.reader(READER_NAME)
        self._operator = None if operator_s is None else round(operator_s * rate)
        self._limit = None if limit_s is None else round(limit_s * rate)
        self._settle = round(SETTLE_S * rate)
        self._write_summary = summary_writer or save_summary
        self.recorder: Recorder | None = None
        self.recording_path: Path | None = None
        """The latest recording of this exam (the summary goes beside it, even if it was stopped just before)."""
        self.summary_rows: list[SegmentSummary] = []
        self._summary_path: Path | None = None
        self.stop_recording_at_end = False
        """Headless exams: the file ends where the exam ends (and stays open for the monitor's last words)."""
        self.finished_at: int | None = None
        self.ended = False

    @property
    def annotations(self) -> list[Annotation]:
        """Everything the runner and the monitor annotated so far, in time order."""
        return sorted(self.runner.annotations + self.monitor.annotations, key=lambda a: a.onset)

    def start(self, sample_index: int | None = None) -> None:
        """Begin at ``sample_index`` (default: the newest sample of the stream)."""
        first = self.reader.position if sample_index is None else sample_index
        muscles = dict.fromkeys(f"{p.muscle} {p.side}".strip() for p in self.runner.plan)
        _log.info("Exam started: %s on %s", counted(len(self.runner.plan), "step"), ", ".join(muscles) or "no muscle")
        self.runner.start(first)

    def attach_recorder(self, recorder: Recorder | None) -> None:
        """A recording of this stream (started before or during the exam) gets every annotation so far that
        falls inside it, and each one from now on."""
        if recorder is not None and recorder.ring is not self.pipeline.raw:
            recorder = None
        if recorder is not self.recorder:
            self.recorder = recorder
            if recorder is not None:
                for annotation in self.annotations:
                    recorder.annotate_at(annotation.onset, annotation.duration, annotation.text)
        if recorder is not None and recorder.path is not None and recorder.path != self.recording_path:
            self.recording_path = recorder.path
            self._summary_path = None

    def patient_acts(self) -> None:
        """The simulated patient's reactions due by the newest sample take effect (before more is generated)."""
        if self.driver is not None:
            self.driver.apply_due(self.pipeline.raw.write_index)

    def step(self) -> None:
        """Read what arrived since the last step: patient, runner clock, then monitor (the core's order)."""
        if self.ended:
            return
        self.attach_recorder(self.recorder)
        self.patient_acts()
        runner, reader = self.runner, self.reader
        now = self.pipeline.filtered.write_index
        runner.advance_to(now)
        status = runner.status
        waiting = status.running and status.end is None
        if waiting and self._operator is not None and status.sample_index - status.onset >= self._operator:
            runner.next()
        if self._limit is not None and runner.status.sample_index >= self._limit:
            runner.abort()
        data = reader.read(max(0, now - reader.position))
        self.monitor.feed(reader.position - data.shape[1], data[self.channel])
        status = runner.status
        if not status.finished:
            return
        if self.finished_at is None:
            self.finished_at = status.onset
            if self.stop_recording_at_end and self.recorder is not None:
                self.recorder.stop(self.finished_at, more_annotations=True)
        if reader.position >= self.finished_at + self._settle or status.aborted:
            self.monitor.flush()
            self.close()

    def abort(self) -> None:
        """Stop the exam: the running step is stamped as aborted, and the summary so far is kept."""
        self.runner.abort()
        self.step()

    def close(self) -> None:
        """Stop reading (the exam ended, or its stream went away)."""
        if self.ended:
            return
        self.ended = True
        self.pipeline.filtered.remove_reader(READER_NAME)
        self.monitor.close()
        if self.stop_recording_at_end and self.recorder is not None:
            self.recorder.end_annotations()
        status = self.runner.status
        _log.info("Exam %s at %.1f s", "aborted" if status.aborted else "finished", status.onset / self.rate)

    @property
    def rate(self) -> float:
        return self.pipeline.info.sample_rate

    def _on_event(self, event: Event) -> None:
        if event.kind == STEP_CHANGED:
            status = event.data["status"]
            planned = status.planned
            _log.info(
                "Exam step at %.1f s: %s %s %s", status.onset / self.rate, planned.label, planned.muscle, planned.side
            )
            if self.patient is not None:  # the needle goes where the step asks: the muscle, a small move, a new site
                self.patient.follow_step(planned.label, planned.muscle, planned.side, planned.repeat)
        elif event.kind == ANNOTATION_ADDED:
            annotation: Annotation = event.data["annotation"]
            if self.recorder is not None:
                self.recorder.annotate_at(annotation.onset, annotation.duration, annotation.text)
        elif event.kind == MUSCLE_SUMMARY:
            self.summary_rows += event.data.get("rows", [])
            if self.recording_path is not None:
                target = summary_csv_path(self.recording_path)
                replace = self._summary_path == target
                self._summary_path = target
                self._write_summary(target, list(self.summary_rows), replace)


def save_summary(target: Path, rows: list[SegmentSummary], replace: bool) -> None:
    """Write the summary beside the recording: first as a new file (never over someone else's, ``FileExistsError``),
    then, after each further muscle, by atomically replacing the one this exam wrote. Raises ``OSError``."""
    if not replace:
        write_csv(target, rows)
        return
    partial = target.with_name(target.name + ".part")
    with contextlib.suppress(FileNotFoundError):
        partial.unlink()
    write_csv(partial, rows)
    os.replace(partial, target)
