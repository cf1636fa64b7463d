"""The session: one source at a time, its rings, the recorder, the audio monitor and the guided exam, without Qt.

The window, the headless commands and the benchmark all drive a :class:`Session`, so what is hooked into it (an
exam, a recording, a measurement) is there for all of them. It never waits: connecting, recording and opening the
sound device happen on threads of their own, and what they have to say arrives as :class:`~emgscope.core.events.Event`
on :attr:`Session.bus`, from whichever thread noticed it. The owner passes each event back to :meth:`Session.handle`
on its own thread (the window does so through its Qt bridge), which keeps the services in step (a stream that
connected is played, a recording whose source stopped is finished) before the owner shows it.
"""

from __future__ import annotations

import dataclasses
import time

from emgscope.acquisition.proxy import SourceProxy
from emgscope.acquisition.pump import Pipeline
from emgscope.acquisition.simulator import clamp_effort
from emgscope.core import events, log
from emgscope.core.controls import ReplayControl, SimulatorControl
from emgscope.core.events import Event, EventBus
from emgscope.core.settings import FILTER_PRESETS, FilterSettings, Settings
from emgscope.core.source import Source
from emgscope.core.units import counted, format_band
from emgscope.dsp.filters import FilterDesign, design
from emgscope.protocol.model import build_plan
from emgscope.protocol.sim_patient_driver import COMPLIANCE_PRESETS, SimPatientDriver
from emgscope.session.audio import AudioService, Stream
from emgscope.session.connection import Connection, SourceFactory
from emgscope.session.exam import ExamChoice, ExamSession, SummaryWriter
from emgscope.session.lsl_out import LslPublisher
from emgscope.session.muap import MuapService
from emgscope.session.recording import Recordings

SHUTDOWN_WAIT_S = 5.0
"""How long closing the app waits for the recorder to finish its file and for the acquisition process to release
the device (the child is given :data:`~emgscope.acquisition.process.STOP_WAIT_S` to stop, then killed)."""
SOURCE_GONE = (events.STOPPED, events.SOURCE_ENDED, events.SOURCE_ERROR, events.CONNECT_FAILED)
STALL_S = 1.5
"""Samples that stop arriving for this long, with no word from the source, are reported as a stall: the same time a
source that goes quiet takes to report itself lost (:attr:`~emgscope.core.source.Source.silence_timeout_s`)."""
_log = log.logger(__name__)


class Session:
    """What runs: the source connection, the recordings, the audio monitor, MUP analyses and at most one guided
    exam."""

    def __init__(self, settings: Settings, source_factory: SourceFactory | None = None, sound: bool = True) -> None:
        """``source_factory``: build sources in this process instead of the acquisition process (an embedding
        program's device, a test's known signal); ``sound``: play the stream (a headless recording does not)."""
        self.settings = settings
        self.bus = EventBus()
        self.connection = Connection(self.bus, source_factory)
        self.recordings = Recordings(self.bus, settings.recording, lambda: self.pipeline, lambda: self.settings.filters)
        self.audio = AudioService(settings.audio, self.bus)
        self.sound = sound
        self.lsl_out = LslPublisher(settings.lsl_out, self.bus)
        self.muap = MuapService(self.bus, self.connection, self.recordings, settings)
        self.exam: ExamSession | None = None
        self._filters_before_exam: FilterSettings | None = None
        self.connected = False
        """A stream is running (cleared by a stop, an end, an error or a lost process; a lost device keeps it)."""
        self.lost = False
        """No samples are arriving (the source said so, or :meth:`watch_stream` noticed)."""
        self._stalled = False
        """:meth:`watch_stream` reported the stream lost (so it, not the source, reports its return)."""
        self._connected_at = 0.0
        """When the stream connected: quiet is counted from here until its first samples arrive."""

    # --- the source ------------------------------------------------------------------------------------

    @property
    def pipeline(self) -> Pipeline | None:
        """The rings of the stream being received, or ``None`` while not connected."""
        return self.connection.pipeline

    @property
    def source(self) -> SourceProxy | Source | None:
        """The running source or its proxy: ask it for a kind of control (``isinstance(s, ReplayControl)``)."""
        return self.connection.source

    def connect(self) -> None:
        """Connect to the source in the settings, replacing the current one; returns at once (CONNECTED or
        CONNECT_FAILED follow on the bus)."""
        self.audio.forget_stream()
        self.connected = False
        source = self.settings.source
        _log.info("Connecting to %s", describe_target(self.settings))
        self.connection.connect(dataclasses.replace(source), self.settings.filters)

    def disconnect(self, wait_s: float = 0.0) -> None:
        self.audio.forget_stream()
        self.connected = False
        self.connection.disconnect(wait_s)

    def close(self) -> None:
        """The owner is quitting: finish the recording, stop the sound, let go of the device and of the rings'
        shared memory (nothing is left for the next start to clean up)."""
        pipeline = self.pipeline
        self.recordings.finish(SHUTDOWN_WAIT_S)
        self.muap.close()
        self.end_exam()
        self.lsl_out.set_enabled(False)
        self.disconnect(SHUTDOWN_WAIT_S)
        self.audio.wait_closed()
        if pipeline is not None:
            pipeline.raw.release()
            pipeline.filtered.release()

    # --- filters ---------------------------------------------------------------------------------------

    def set_filters(self, filters: FilterSettings) -> None:
        """Change the filters live (a device too slow for them gets a warning on the bus, from the pump)."""
        self.settings.filters = filters
        if self.connection.pump is not None:
            self.connection.pump.set_filters(filters)

    def filter_design(self) -> FilterDesign | None:
        """The filters as actually applied to the current stream (clamped below its Nyquist frequency)."""
        pipeline = self.pipeline
        return None if pipeline is None else design(self.settings.filters, pipeline.info.sample_rate)

    # --- the simulated patient -------------------------------------------------------------------------

    def set_effort(self, percent: float) -> None:
        """The simulated patient's effort (0-100 %): remembered for the next start and sent to the running one."""
        percent = clamp_effort(percent)
        self.settings.source.simulator.effort_percent = percent
        source = self.source
        if isinstance(source, SimulatorControl):
            source.effort_percent = percent

    # --- events ----------------------------------------------------------------------------------------

    def handle(self, event: Event) -> None:
        """Keep the services in step with ``event`` (call it on the thread that owns the session)."""
        kind = event.kind
        if kind == events.CONNECTED:
            pipeline = self.pipeline
            if pipeline is not None:
                self.connected, self.lost, self._stalled = True, False, False
                self._connected_at = time.monotonic()
                _log.info(
                    "Connected: %s, %s at %g Hz",
                    pipeline.info.description,
                    counted(pipeline.info.n_channels, "channel"),
                    pipeline.info.sample_rate,
                )
                if self.sound:
                    stream = Stream(pipeline.filtered, pipeline.info.sample_rate, pipeline.info.channel_labels)
                    self.audio.attach(stream)
                self.lsl_out.attach(pipeline)
        elif kind in SOURCE_GONE:
            if kind != events.STOPPED or self.connected:
                _log.log(20 if kind == events.STOPPED else 40, "Source %s: %s", kind.replace("_", " "), event.message)
            self.connected = False
            self.audio.detach()
            self.lsl_out.detach()
        elif kind in (events.CONNECTION_LOST, events.CONNECTION_RESUMED):
            self.lost = kind == events.CONNECTION_LOST
            _log.warning("%s", event.message)
        elif kind in (events.WARNING, events.SAMPLES_DROPPED):
            _log.warning("%s", event.message)
        self.recordings.handle(event)
        self.muap.handle(event)

    def watch_stream(self) -> None:
        """Called a few times a second by the owner: samples that stop arriving while no source said why (the
        acquisition process itself stopped: a debugger, SIGSTOP, a machine that froze) are reported as a lost
        connection, and their return as resumed. A paused or finished replay is quiet on purpose."""
        pipeline, source = self.pipeline, self.source
        if not self.connected or pipeline is None:
            return
        if isinstance(source, ReplayControl) and (source.paused or source.ended):
            return
        quiet_s = time.monotonic() - max(pipeline.raw.written_at_s, self._connected_at)
        if quiet_s > STALL_S and not self.lost and not self._stalled:
            self._stalled = True
            message = f"No samples for {quiet_s:.1f} s: the acquisition has stopped responding."
            self.bus.post(Event(events.CONNECTION_LOST, message, pipeline.raw.write_index))
        elif quiet_s <= STALL_S and self._stalled:
            self._stalled = False
            self.bus.post(Event(events.CONNECTION_RESUMED, "Samples are arriving again.", pipeline.raw.write_index))

    # --- the guided exam -------------------------------------------------------------------------------

    def start_exam(self, choice: ExamChoice, summary_writer: SummaryWriter | None = None) -> ExamSession | str:
        """Start ``choice`` on the current stream at its newest sample; the exam, or why it cannot start.

        A protocol whose filter preset differs from the filters in use gets its preset (the mains notch stays, a
        property of the room) for the exam's duration, and says so on the bus; the operator's filters come back
        when the exam ends.
        """
        pipeline = self.pipeline
        if pipeline is None:
            return "Connect a source before starting a guided exam."
        if self.exam is not None:
            return "A guided exam is already running."
        preset = choice.protocol.filter_preset
        current = self.settings.filters
        if current.preset != preset:
            wanted = dataclasses.replace(FILTER_PRESETS[preset], notch_hz=current.notch_hz)
            if (wanted.low_cut_hz, wanted.high_cut_hz) != (current.low_cut_hz, current.high_cut_hz):
                self._filters_before_exam = current
                self.set_filters(wanted)
                self.bus.post(Event(events.INFO, filter_change_message(current, wanted, choice.protocol.title)))
        source = self.source
        patient = source if isinstance(source, SimulatorControl) else None
        driver = None
        if choice.compliance is not None and patient is not None:
            rate = pipeline.info.sample_rate
            effort = self.settings.source.simulator.effort_percent
            compliance = COMPLIANCE_PRESETS[choice.compliance]
            driver = SimPatientDriver(rate, self.set_effort, compliance, effort_percent=effort)
        plan = build_plan(choice.protocol, choice.muscles)
        exam = ExamSession(plan, pipeline, choice.channel, driver, patient, summary_writer=summary_writer)
        exam.attach_recorder(self.recordings.recorder)
        self.muap.watch_exam(exam)
        self.exam = exam
        self.lsl_out.follow_exam(exam.bus)
        exam.start()
        return exam

    def step_exam(self) -> None:
        """One step of the running exam (the window's timer calls it); the exam ends itself, or with its stream."""
        exam = self.exam
        if exam is None:
            return
        if self.pipeline is not exam.pipeline:
            exam.runner.abort()
            self.end_exam()
            self.bus.post(Event(events.WARNING, "The guided exam stopped: the source changed."))
            return
        exam.attach_recorder(self.recordings.recorder)
        exam.step()
        if exam.ended:
            self.end_exam()

    def abort_exam(self) -> None:
        if self.exam is not None:
            self.exam.abort()
            self.end_exam()

    def end_exam(self) -> None:
        """Let go of the exam (it stays readable by whoever holds it) and give the operator's filters back."""
        exam, self.exam = self.exam, None
        if exam is not None:
            exam.close()
        before, self._filters_before_exam = self._filters_before_exam, None
        if before is not None:
            self.set_filters(before)
            self.bus.post(Event(events.INFO, f"The exam ended: your filters are back ({format_band(before)})."))


def filter_change_message(before: FilterSettings, exam: FilterSettings, title: str) -> str:
    """What the operator reads when an exam sets its protocol's filters."""
    return (
        f"{title} uses the {exam.preset} filters ({format_band(exam)}) instead of yours ({format_band(before)}); "
        "yours come back when the exam ends."
    )


def describe_target(settings: Settings) -> str:
    """What is being connected to, in words (no patient data: a replayed file by its name only)."""
    source = settings.source
    if source.kind == "sim":
        return f"the simulated patient ({source.simulator.pathology})"
    if source.kind == "replay":
        return f"a replay of {source.replay.file.rsplit('/', 1)[-1]}"
    if source.kind == "lsl":
        return f"the LSL stream {source.lsl.name!r}"
    return f"BrainFlow board {source.brainflow.board}"
