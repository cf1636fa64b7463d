"""A whole guided exam on the simulated patient without the GUI, recorded with every annotation (teaching material).

The simulated patient follows the prompts (:class:`~emgscope.protocol.sim_patient_driver.SimPatientDriver`, with
the chosen compliance) and the exam runs through the same :class:`~emgscope.session.exam.ExamSession` as in the
window: the runner stamps every step, the monitor adds its flags and the summary, and the recorder writes a labelled
BDF+/EDF+ file with ``<name>_summary.csv`` beside it. Nothing here waits for the wall clock: :class:`HeadlessLoop`
renders the patient block after block as fast as the machine allows (a one-muscle exam of about a minute takes a
few seconds), through the acquisition pump's own per-chunk path into the rings, and steps the exam after each; the
only brake is the recorder, which must never be lapped by the ring. A step that waits for the operator is advanced
after a fixed amount of signal, as an operator would once satisfied. ``emgscope record --protocol`` is its command
line, and ``emgscope bench`` measures the activity detector with the same loop.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emgscope.acquisition.pump import AcquisitionPump, Pipeline
from emgscope.acquisition.sim_truth import ground_truth_beside
from emgscope.acquisition.simulator import BLOCK_S, SimulatedPatient, SimulatedSource
from emgscope.analysis.summary import SegmentSummary, summary_csv_path
from emgscope.core.ring import SampleRing
from emgscope.core.settings import FILTER_PRESETS, FilterSettings, SimulatorSettings
from emgscope.core.source import SourceError, StreamInfo
from emgscope.dsp.filters import FilterBank
from emgscope.protocol.annotation import FLAG, SEGMENT
from emgscope.protocol.model import Protocol, build_plan
from emgscope.protocol.sim_patient_driver import COMPLIANCE_PRESETS, SimPatientDriver
from emgscope.recording.edfplus import FormatError
from emgscope.recording.recorder import READER_NAME, Recorder
from emgscope.recording.session import SessionInfo, applied_filters
from emgscope.session.exam import ExamSession, save_summary

EXAM_RING_SECONDS = 30.0
"""Ring capacity; generation pauses whenever the recorder lags by half of it, so the ring never laps the file."""


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
    patient = source.patient
    assert patient is not None
    try:
        filters = dataclasses.replace(FILTER_PRESETS[protocol.filter_preset], notch_hz=notch_hz)
        pipeline = simulated_pipeline(info, filters)
        notes = session.notes or (
            f"Guided exam: {protocol.title}; simulated patient ({simulator.pathology}, {compliance})"
        )
        labelled = dataclasses.replace(session, notes=notes, muscle=session.muscle or muscles[0][0])
        assert pipeline.filters is not None
        try:
            recorder = Recorder(
                pipeline.raw, info, path, labelled, file_format, applied_filters(filters, pipeline.filters.design)
            )
        except FormatError as exc:
            raise HeadlessExamError(str(exc)) from exc
        failures: list[str] = []

        def write_summary(target: Path, rows: list[SegmentSummary], replace: bool) -> None:
            try:
                save_summary(target, rows, replace)
            except OSError as exc:
                failures.append(f"the summary could not be written to {target}: {exc.strerror or exc}")

        rate = info.sample_rate
        driver = SimPatientDriver(
            rate,
            lambda percent: setattr(source, "effort_percent", percent),
            COMPLIANCE_PRESETS[compliance],
            simulator.seed,
        )
        exam = ExamSession(
            build_plan(protocol, muscles),
            pipeline,
            driver=driver,
            patient=source,
            operator_s=operator_s,
            limit_s=limit_s,
            summary_writer=write_summary,
        )
        exam.stop_recording_at_end = True
        began = time.monotonic()
        recorder.start()
        exam.attach_recorder(recorder)
        exam.start(0)
        HeadlessLoop(patient, pipeline, exam).run()
        recorder.join()
    finally:
        source.close()
    if recorder.error:
        raise HeadlessExamError(recorder.error)
    if failures:
        raise HeadlessExamError(failures[0])
    ground_truth_beside(source, path, 0, recorder.samples_written)
    return ExamRecording(
        path=path,
        summary_path=summary_csv_path(path),
        seconds=recorder.samples_written / rate,
        segments=sum(a.kind == SEGMENT for a in exam.runner.annotations),
        flags=sum(a.kind == FLAG for a in exam.monitor.annotations),
        wall_seconds=time.monotonic() - began,
    )


def simulated_pipeline(info: StreamInfo, filters: FilterSettings) -> Pipeline:
    """Rings and filters in this process for a simulated patient rendered unpaced."""
    n, rate = info.n_channels, info.sample_rate
    capacity = round(EXAM_RING_SECONDS * rate)
    return Pipeline(info, SampleRing(n, capacity), SampleRing(n, capacity), FilterBank(filters, rate, n))


class HeadlessLoop:
    """Renders the simulated patient block after block into a pipeline and steps an exam on it, unpaced."""

    def __init__(
        self,
        patient: SimulatedPatient,
        pipeline: Pipeline,
        exam: ExamSession,
        degrade: Callable[[np.ndarray], np.ndarray] | None = None,
        blocks_per_step: int = 1,
    ) -> None:
        """``degrade`` changes each rendered block before it enters the pipeline (the bench adds noise);
        ``blocks_per_step``: how many blocks arrive between two steps of the exam (the window's timer reads every
        few blocks; the bench reads as it does)."""
        self.patient = patient
        self.pipeline = pipeline
        self.exam = exam
        self.degrade = degrade
        self.blocks_per_step = max(1, blocks_per_step)
        self.block = round(BLOCK_S * pipeline.info.sample_rate)

    def run(self) -> None:
        """Until the exam has ended (its last step and the monitor's settling time)."""
        exam, pipeline = self.exam, self.pipeline
        while not exam.ended:
            for _ in range(self.blocks_per_step):
                exam.patient_acts()
                block = self.patient.generate(self.block)
                AcquisitionPump.push(pipeline, block if self.degrade is None else self.degrade(block))
                self._wait_for_recorder()
            exam.step()

    def _wait_for_recorder(self) -> None:
        """The only brake: the recorder must never be lapped by the ring."""
        recorder = self.exam.recorder
        if recorder is None:
            return
        ring = self.pipeline.raw
        disk = ring.readers[READER_NAME]
        while recorder.running and ring.write_index - disk.position > ring.capacity // 2:
            time.sleep(0.002)
