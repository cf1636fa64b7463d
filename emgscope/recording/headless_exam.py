"""A whole guided exam on the simulated patient without the GUI, recorded with every annotation (teaching material).

The simulated patient follows the prompts (:class:`~emgscope.protocol.sim_patient_driver.SimPatientDriver`, with
the chosen compliance), the runner stamps every step, the monitor adds its flags and the summary, and the recorder
writes a labelled BDF+/EDF+ file with ``<name>_summary.csv`` beside it. Nothing here waits for the wall clock: the
patient renders block after block as fast as the machine allows (a one-muscle exam of about a minute takes a few
seconds), through the acquisition pump's own per-chunk path into the rings; the only brake is the recorder, which
must never be lapped by the ring. A step that waits for the operator is advanced after a fixed amount of signal,
as an operator would once satisfied.

It lives in ``recording`` rather than ``protocol`` because it drives the recorder; the protocol package stays free
of files and of Qt. ``emgscope record --protocol`` is its command line.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

from emgscope.acquisition.pump import AcquisitionPump, Pipeline
from emgscope.acquisition.sim_truth import ground_truth_beside
from emgscope.acquisition.simulator import BLOCK_S, SimulatedSource
from emgscope.acquisition.source import SourceError
from emgscope.analysis.monitor import ExamMonitor
from emgscope.analysis.summary import summary_csv_path, write_csv
from emgscope.core.events import Event
from emgscope.core.ring import SampleRing
from emgscope.core.settings import FILTER_PRESETS, SimulatorSettings
from emgscope.dsp.filters import FilterBank
from emgscope.protocol.annotation import FLAG, SEGMENT, Annotation
from emgscope.protocol.model import Protocol, build_plan
from emgscope.protocol.runner import ANNOTATION_ADDED, STEP_CHANGED, ExamRunner
from emgscope.protocol.sim_patient_driver import COMPLIANCE_PRESETS, Compliance, SimPatientDriver
from emgscope.recording.edfplus import FormatError
from emgscope.recording.recorder import READER_NAME, Recorder
from emgscope.recording.session import SessionInfo, applied_filters

TAIL_S = 1.0
"""Signal generated after the last step, so the monitor settles and the last record fills."""
EXAM_RING_SECONDS = 30.0
"""Ring capacity; generation pauses whenever the recorder lags by half of it, so the ring never laps the file."""
DETECT_READER = "detect"


class HeadlessExamError(Exception):
    """The exam could not be recorded; the message is shown to the user as is."""


@dataclass(frozen=True)
class ExamRecording:
    """What :func:`record_exam` wrote, for the command's report."""

    path: Path
    summary_path: Path
    seconds: float
    """Signal in the file."""
    segments: int
    flags: int
    wall_seconds: float
    """How long recording took: far less than :attr:`seconds`, since nothing waits for the clock."""


def record_exam(
    protocol: Protocol,
    muscles: list[tuple[str, str]],
    compliance: str,
    simulator: SimulatorSettings,
    notch_hz: float,
    session: SessionInfo,
    path: Path,
    file_format: str,
    operator_s: float,
    limit_s: float | None = None,
) -> ExamRecording:
    """Run ``protocol`` on a simulated patient (``simulator``, starting at rest) and record it to ``path`` with the
    protocol's filter preset and ``notch_hz``; ``compliance`` is a key of
    :data:`~emgscope.protocol.sim_patient_driver.COMPLIANCE_PRESETS`. Empty session notes and muscle are filled
    from the exam, so the file says what it is. Raises :class:`HeadlessExamError`."""
    source = SimulatedSource(dataclasses.replace(simulator, effort_percent=0.0), log_firings=True)
    try:
        info = source.open()
    except SourceError as exc:
        raise HeadlessExamError(str(exc)) from exc
    try:
        filters = dataclasses.replace(FILTER_PRESETS[protocol.filter_preset], notch_hz=notch_hz)
        capacity = round(EXAM_RING_SECONDS * info.sample_rate)
        bank = FilterBank(filters, info.sample_rate, info.n_channels)
        pipeline = Pipeline(info, SampleRing(info.n_channels, capacity), SampleRing(info.n_channels, capacity), bank)
        notes = session.notes or (
            f"Guided exam: {protocol.title}; simulated patient ({simulator.pathology}, {compliance})"
        )
        labelled = dataclasses.replace(session, notes=notes, muscle=session.muscle or muscles[0][0])
        try:
            recorder = Recorder(pipeline.raw, info, path, labelled, file_format, applied_filters(filters, bank.design))
        except FormatError as exc:
            raise HeadlessExamError(str(exc)) from exc
        began = time.monotonic()
        recorder.start()
        exam = HeadlessExam(
            source, pipeline, recorder, protocol, muscles, COMPLIANCE_PRESETS[compliance], simulator.seed
        )
        exam.run(operator_s, limit_s)
    finally:
        source.close()
    if recorder.error:
        raise HeadlessExamError(recorder.error)
    ground_truth_beside(source, path, 0, recorder.samples_written)
    csv_path = summary_csv_path(path)
    try:
        write_csv(csv_path, exam.monitor.summaries)
    except OSError as exc:
        raise HeadlessExamError(f"the summary could not be written to {csv_path}: {exc.strerror or exc}") from exc
    return ExamRecording(
        path=path,
        summary_path=csv_path,
        seconds=recorder.samples_written / info.sample_rate,
        segments=sum(a.kind == SEGMENT for a in exam.runner.annotations),
        flags=sum(a.kind == FLAG for a in exam.monitor.annotations),
        wall_seconds=time.monotonic() - began,
    )


class HeadlessExam:
    """Runner, monitor and simulated patient on one pipeline, with every annotation going to the recorder."""

    def __init__(
        self,
        source: SimulatedSource,
        pipeline: Pipeline,
        recorder: Recorder,
        protocol: Protocol,
        muscles: list[tuple[str, str]],
        compliance: Compliance,
        seed: int = 0,
    ) -> None:
        """``seed``: the patient's reactions (the simulated patient's own seed sets its motor units)."""
        rate = pipeline.info.sample_rate
        self.source = source
        self.pipeline = pipeline
        self.recorder = recorder
        self.runner = ExamRunner(build_plan(protocol, muscles), rate)
        self.monitor = ExamMonitor(self.runner)
        self.driver = SimPatientDriver(rate, self._set_effort, compliance, seed)
        self.runner.bus.subscribe(self.driver.on_event)
        self.runner.bus.subscribe(self._on_event)
        self.reader = pipeline.filtered.reader(DETECT_READER)
        self.disk = pipeline.raw.readers[READER_NAME]

    def _set_effort(self, percent: float) -> None:
        self.source.effort_percent = percent

    def _on_event(self, event: Event) -> None:
        if event.kind == STEP_CHANGED and event.data["status"].planned is not None:
            planned = event.data["status"].planned
            self.source.follow_step(planned.label, planned.muscle, planned.side, planned.repeat)
        elif event.kind == ANNOTATION_ADDED:
            annotation: Annotation = event.data["annotation"]
            self.recorder.annotate_at(annotation.onset, annotation.duration, annotation.text)

    def run(self, operator_s: float, limit_s: float | None) -> None:
        """Generate block after block until the plan ends (or ``limit_s``), then a tail, then close the file."""
        rate = self.pipeline.info.sample_rate
        runner = self.runner
        operator = round(operator_s * rate)
        limit = None if limit_s is None else round(limit_s * rate)
        runner.start(0)
        while not runner.status.finished:
            self._block()
            status = runner.status
            if status.running and status.end is None and status.sample_index - status.onset >= operator:
                runner.next()
            if limit is not None and runner.status.sample_index >= limit:
                runner.abort()
        end = runner.status.onset
        # The monitor settles the last segments only after the tail: the file ends at the exam's end but stays
        # open for what the monitor still has to say about it.
        self.recorder.stop(end, more_annotations=True)
        while self.pipeline.filtered.write_index < end + TAIL_S * rate:
            self._block()
        self.monitor.flush()
        self.recorder.end_annotations()
        self.recorder.join()

    def _block(self) -> None:
        """One rendering block: the patient acts, the rings fill, the runner's clock moves, the monitor reads."""
        patient = self.source.patient
        assert patient is not None
        self.driver.apply_due(patient.position)
        AcquisitionPump.push(self.pipeline, patient.generate(round(BLOCK_S * self.pipeline.info.sample_rate)))
        ring = self.pipeline.filtered
        self.runner.advance_to(ring.write_index)
        data = self.reader.read()
        self.monitor.feed(self.reader.position - data.shape[1], data[0])
        while self.recorder.running and ring.write_index - self.disk.position > ring.capacity // 2:
            time.sleep(0.002)
