"""MUP analysis in a session: a segment chosen live, by a guided exam or in replay, analysed off the caller's thread.

Three ways to choose the segment (issue 14):

* **live**, "analyse the last 5 s" (:meth:`MuapService.analyse_last`): the newest seconds of the raw ring;
* **the exam's minimal contraction**: each ``MIN`` step of a guided exam is analysed when it ends (unless
  :attr:`MuapService.analyse_minimal` is off), and again on request (:meth:`MuapService.analyse_minimal_again`);
* **in replay**, a range of the recording (:meth:`MuapService.analyse_range`), read from the file itself.

A request returns at once. Ring samples are copied on the caller's thread (a few hundred kB: the ring moves on,
and a headless exam fills it far faster than real time); the file is read, the analysis run and the results saved
on a worker thread, one analysis after another. Each step is an event on the session's bus: :data:`MUAP_STARTED`,
:data:`MUAP_PROGRESS` (reading, analysing, saving), then one of :data:`MUAP_DONE` (the :class:`MuapResult`),
:data:`MUAP_FAILED` (one sentence saying why and what to do) or :data:`MUAP_CANCELLED`. :meth:`MuapService.cancel`
stops whatever is queued or running; the analysis checks between its stages.

**Where results go.** A segment inside a recording is saved in that recording's results file
(:mod:`emgscope.analysis.muap.sidecar`, ``<recording>.muap.json``) with the recording's sample numbers, and while
the recorder runs it is summed up in one annotation over the segment. A segment analysed in replay is saved beside
the replayed file (which is never written to). Live without a recording, the results are shown but not saved, and
the result says so. When a recording is replayed, the results saved with it come back (:data:`MUAP_LOADED`), and
the clinician's later edits are saved again (:meth:`MuapService.save`). A segment analysed and edited before is not
analysed over: its saved result, edits and all, is the answer.
"""

from __future__ import annotations

import dataclasses
import itertools
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emgscope.analysis.muap.analyse import AnalysisCancelled, MuapInputError, analyse_segment, check_rate
from emgscope.analysis.muap.model import SiteAnalysis
from emgscope.analysis.muap.sidecar import SidecarError, load_analyses, save_analysis, sidecar_path
from emgscope.core import events, log
from emgscope.core.controls import ReplayControl, file_time_at
from emgscope.core.events import Event, EventBus
from emgscope.core.ring import SampleRing
from emgscope.core.settings import FILTER_PRESETS, FilterSettings, Settings
from emgscope.core.units import counted
from emgscope.protocol.annotation import FLAG_SKIPPED, SEGMENT, Annotation
from emgscope.protocol.runner import ANNOTATION_ADDED
from emgscope.recording.recorder import Recorder
from emgscope.recording.session import load_muscles
from emgscope.replay.reader import RecordingError, open_recording
from emgscope.session.connection import Connection
from emgscope.session.exam import ExamSession
from emgscope.session.recording import Recordings

MUAP_STARTED = "muap_started"
"""An analysis was asked for: ``data["job"]``, the message says what is analysed."""
MUAP_PROGRESS = "muap_progress"
"""``data["stage"]``: ``reading``, ``analysing`` or ``saving``."""
MUAP_DONE = "muap_done"
"""``data["result"]``: the :class:`MuapResult`."""
MUAP_FAILED = "muap_failed"
"""The message is one sentence: why there is no result and what to do."""
MUAP_CANCELLED = "muap_cancelled"
MUAP_LOADED = "muap_loaded"
"""A replayed recording's saved results: ``data["results"]``, a list of :class:`MuapResult`."""
MUAP_SAVED = "muap_saved"
"""An edited result was saved: ``data["path"]`` is the results file."""

LIVE = "live"
EXAM = "exam"
REPLAY = "replay"
SAVED = "saved"
"""Where a result came from: analysed live, at an exam's minimal contraction, in replay, or read back."""

LIVE_SECONDS = 5.0
""""Analyse the last 5 s": Stålberg's multi-MUP analyses epochs of 4.8 s at weak effort (QEMG §2)."""
MAX_SEGMENT_S = 60.0
"""Longest range analysed at once: a muscle's multi-MUP site takes seconds of weak contraction, and a whole
recording at 20 kHz would hold the worker (and memory) for a long time."""
MINIMAL_LABEL = "MIN"
"""The guided exam's minimal-contraction step (DESIGN §3), the one made for MUP analysis."""
_log = log.logger(__name__)


@dataclass(frozen=True)
class MuapResult:
    """One analysis and where it is kept."""

    site: SiteAnalysis
    origin: str
    """:data:`LIVE`, :data:`EXAM`, :data:`REPLAY` or :data:`SAVED`."""
    recording: Path | None
    """The recording whose results file holds it, or ``None`` (not saved: :attr:`note` says why)."""
    note: str = ""

    @property
    def title(self) -> str:
        """One line naming the segment, for a list of results."""
        site = self.site
        where = site.channel_label or f"channel {site.channel + 1}"
        return f"{where}, {site.start_s:.1f}-{site.end_s:.1f} s: {counted(len(site.units), 'unit')}"


@dataclass(frozen=True)
class _FileSegment:
    """A segment as read from a replayed file."""

    samples: np.ndarray
    input_range_uv: tuple[float, float]
    signal: int
    """The signal's index in the file (what ``emgscope muap --channel`` counts from, minus one)."""
    muscle: str | None
    """The muscle the file's annotations name."""


@dataclass
class _Segment:
    """What a job analyses: the samples (or how to read them) and where the result goes."""

    what: str
    origin: str
    rate: float
    start_index: int
    """The first sample's index as the result keeps it: the recording's where there is one, else the stream's."""
    channel: int
    label: str
    muscle: str | None
    samples: np.ndarray | None = None
    read: Callable[[], _FileSegment] | None = None
    """Reads the samples on the worker (a replayed file)."""
    input_range_uv: tuple[float, float] | None = None
    recording: Path | None = None
    recorder: Recorder | None = None
    """The running recorder to annotate (and whose file the results go beside), if any."""
    ring_onset: int = 0
    """Ring index of the first sample (where the recorder's annotation goes)."""
    note: str = ""


@dataclass
class _Job:
    id: int
    cancel: threading.Event = dataclasses.field(default_factory=threading.Event)


class MuapService:
    """Runs the session's MUP analyses on one worker thread and saves their results beside their recordings."""

    def __init__(self, bus: EventBus, connection: Connection, recordings: Recordings, settings: Settings) -> None:
        self.bus = bus
        self.connection = connection
        self.recordings = recordings
        self.settings = settings
        self.analyse_minimal = True
        """Analyse each minimal contraction of a guided exam when its step ends."""
        self.last_minimal: _Segment | None = None
        """The latest minimal contraction seen, kept for :meth:`analyse_minimal_again`."""
        self._worker = ThreadPoolExecutor(1, thread_name_prefix="muap")
        self._disk = ThreadPoolExecutor(1, thread_name_prefix="muap-save")
        self._jobs: dict[int, _Job] = {}
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    @property
    def running(self) -> bool:
        """An analysis is queued or running."""
        with self._lock:
            return bool(self._jobs)

    # --- requests (return at once) ---------------------------------------------------------------------

    def analyse_last(self, channel: int, seconds: float = LIVE_SECONDS) -> bool:
        """Analyse the newest ``seconds`` of ``channel``; in replay, that stretch of the file. ``False`` (with a
        :data:`MUAP_FAILED` sentence) when it cannot start."""
        pipeline, source = self.connection.pipeline, self.connection.source
        if pipeline is None:
            return self._refuse("Connect a source, or open a recording, before analysing motor unit potentials.")
        if isinstance(source, ReplayControl):
            end_s = file_time_at(source, pipeline.raw.write_index)
            return self.analyse_range(channel, max(0.0, end_s - seconds), end_s)
        rate = pipeline.info.sample_rate
        if not self._rate_ok(rate):
            return False
        channel = min(max(channel, 0), pipeline.info.n_channels - 1)
        ring = pipeline.raw
        stop = ring.write_index
        first, data = ring.read_range(stop - round(seconds * rate), stop)
        label = pipeline.info.channel_labels[channel]
        segment = _Segment(
            what=f"the last {data.shape[1] / rate:.1f} s of {label}",
            origin=LIVE,
            rate=rate,
            start_index=first,
            channel=channel,
            label=label,
            muscle=self.recordings.session.muscle.strip() or None,
            samples=data[channel].astype(np.float64),
            ring_onset=first,
        )
        self._place_in_recording(segment, self.recordings.recorder, pipeline.raw)
        return self._submit(segment)

    def analyse_range(self, channel: int, start_s: float, end_s: float) -> bool:
        """In replay: analyse ``start_s``-``end_s`` of the replayed recording's ``channel`` (as the scope lists
        it), read from the file; the results go beside it."""
        source, pipeline = self.connection.source, self.connection.pipeline
        if not isinstance(source, ReplayControl) or source.facts is None or pipeline is None:
            return self._refuse("Open a recording to analyse a range of it.")
        if end_s - start_s > MAX_SEGMENT_S:
            return self._refuse(
                f"The range is {end_s - start_s:.0f} s long: choose at most {MAX_SEGMENT_S:g} s of weak contraction "
                "(5 s is usual), e.g. by selecting its segment in the replay list."
            )
        rate = source.sample_rate
        if not self._rate_ok(rate):
            return False
        path = source.facts.path
        channel = min(max(channel, 0), pipeline.info.n_channels - 1)
        first, last = round(start_s * rate), round(end_s * rate)
        board = self.settings.source.replay.board or None

        def read() -> _FileSegment:
            recording = open_recording(path, board)
            index = recording.replay_signals()[channel]
            signal = recording.signals[index]
            factor = signal.uv_factor or 1.0
            notes = recording.annotations
            during = [a.text for a in notes if a.onset_s < end_s and a.onset_s + a.duration_s >= start_s]
            return _FileSegment(
                recording.read(index, first, last),
                (signal.physical_min * factor, signal.physical_max * factor),
                index,
                muscle_named([*during, *(a.text for a in notes)]),
            )

        label = pipeline.info.channel_labels[channel]
        segment = _Segment(
            what=f"{label} from {start_s:.1f} to {end_s:.1f} s of {path.name}",
            origin=REPLAY,
            rate=rate,
            start_index=first,
            channel=channel,
            label=label.strip(),
            muscle=None,
            read=read,
            recording=path,
        )
        return self._submit(segment)

    def analyse_minimal_again(self) -> bool:
        """Analyse the latest minimal contraction of a guided exam again (its samples were kept)."""
        segment = self.last_minimal
        if segment is None:
            return self._refuse("No minimal contraction yet: its step of a guided exam must end first.")
        return self._submit(segment)

    def watch_exam(self, exam: ExamSession) -> None:
        """Keep each minimal contraction of ``exam`` as its step ends, and analyse it if :attr:`analyse_minimal`."""
        exam.bus.subscribe(lambda event: self._exam_event(exam, event))

    def cancel(self) -> None:
        """Stop every analysis queued or running (each reports :data:`MUAP_CANCELLED`)."""
        with self._lock:
            for job in self._jobs.values():
                job.cancel.set()

    def save(self, result: MuapResult, site: SiteAnalysis) -> None:
        """Keep the clinician's edits of ``result`` (now ``site``) in its results file, on the disk thread."""
        if result.recording is None:
            return
        path = result.recording

        def work() -> None:
            try:
                saved = save_analysis(path, site)
            except SidecarError as exc:
                self.bus.post(Event(events.WARNING, f"The edited MUP results were not saved: {exc}."))
                return
            self.bus.post(Event(MUAP_SAVED, f"Saved in {saved.name}", data={"path": saved}))

        self._disk.submit(work)

    def reopen(self, recording: Path) -> None:
        """Read back the results saved with ``recording`` (on the disk thread): :data:`MUAP_LOADED`."""

        def work() -> None:
            try:
                sites = load_analyses(recording)
            except SidecarError as exc:
                self.bus.post(Event(events.WARNING, f"The MUP results beside the recording cannot be read: {exc}."))
                return
            if sites:
                results = [MuapResult(site, SAVED, recording) for site in sites]
                self.bus.post(Event(MUAP_LOADED, sidecar_path(recording).name, data={"results": results}))

        self._disk.submit(work)

    def handle(self, event: Event) -> None:
        """A replayed recording brings back its results (the session calls this on its owner's thread)."""
        source = self.connection.source
        if event.kind == events.CONNECTED and isinstance(source, ReplayControl) and source.facts is not None:
            self.reopen(source.facts.path)

    def close(self) -> None:
        """Cancel the analyses (each still reports itself cancelled) and finish saving edits."""
        self.cancel()
        self._worker.shutdown(wait=False)
        self._disk.shutdown(wait=True)

    # --- the worker ------------------------------------------------------------------------------------

    def _refuse(self, sentence: str) -> bool:
        self.bus.post(Event(MUAP_FAILED, sentence))
        return False

    def _rate_ok(self, rate: float) -> bool:
        try:
            check_rate(rate)
        except MuapInputError as exc:
            return self._refuse(str(exc))
        return True

    def _place_in_recording(self, segment: _Segment, recorder: Recorder | None, ring: SampleRing) -> None:
        """A segment inside the running recording is numbered in the recording's samples and saved beside it."""
        if recorder is None or recorder.ring is not ring:
            segment.note = "Not saved: no recording was running (press R to record, then analyse)."
        elif segment.ring_onset < recorder.start_index:
            segment.note = "Not saved: the segment began before the recording did."
        else:
            segment.recorder = recorder
            segment.start_index = segment.ring_onset - recorder.start_index

    def _exam_event(self, exam: ExamSession, event: Event) -> None:
        if event.kind != ANNOTATION_ADDED:
            return
        annotation: Annotation = event.data["annotation"]
        if annotation.kind != SEGMENT or annotation.label != MINIMAL_LABEL or FLAG_SKIPPED in annotation.flags:
            return
        pipeline = exam.pipeline
        first, data = pipeline.raw.read_range(annotation.onset, annotation.end)
        rate = pipeline.info.sample_rate
        label = pipeline.info.channel_labels[exam.channel]
        words = " ".join(p for p in (annotation.muscle, annotation.side) if p)
        segment = _Segment(
            what=f"the minimal contraction{f' of {words}' if words else ''} ({data.shape[1] / rate:.1f} s of {label})",
            origin=EXAM,
            rate=rate,
            start_index=first,
            channel=exam.channel,
            label=label,
            muscle=annotation.muscle or None,
            samples=data[exam.channel].astype(np.float64),
            ring_onset=first,
        )
        self._place_in_recording(segment, exam.recorder, pipeline.raw)
        self.last_minimal = segment
        if self.analyse_minimal and self._rate_ok(rate):
            self._submit(segment)

    def _submit(self, segment: _Segment) -> bool:
        job = _Job(next(self._ids))
        with self._lock:
            self._jobs[job.id] = job
        self.bus.post(Event(MUAP_STARTED, f"Analysing {segment.what}…", data={"job": job.id}))
        self._worker.submit(self._run, job, segment)
        return True

    def _run(self, job: _Job, segment: _Segment) -> None:
        """One job on the worker; its outcome is posted once it no longer counts as running."""
        data: dict[str, object] = {"job": job.id}
        try:
            result = self._analyse(job, segment)
        except AnalysisCancelled:
            outcome = Event(MUAP_CANCELLED, "The MUP analysis was cancelled.", data=data)
        except (MuapInputError, RecordingError) as exc:
            outcome = Event(MUAP_FAILED, str(exc), data=data)
        except Exception as exc:  # the worker must report, not die: the user gets a sentence, the log the rest
            _log.exception("MUP analysis failed")
            outcome = Event(MUAP_FAILED, f"The MUP analysis failed unexpectedly ({exc}).", data=data)
        else:
            outcome = Event(MUAP_DONE, _done_message(result), data={**data, "result": result})
        with self._lock:
            self._jobs.pop(job.id, None)
        self.bus.post(outcome)

    def _progress(self, job: _Job, stage: str) -> None:
        if job.cancel.is_set():
            raise AnalysisCancelled("the MUP analysis was cancelled")
        self.bus.post(Event(MUAP_PROGRESS, stage, data={"job": job.id, "stage": stage}))

    def _analyse(self, job: _Job, segment: _Segment) -> MuapResult:
        samples, input_range, muscle, channel = segment.samples, segment.input_range_uv, segment.muscle, segment.channel
        if segment.read is not None:
            self._progress(job, "reading")
            read = segment.read()
            samples, input_range, channel = read.samples, read.input_range_uv, read.signal
            muscle = muscle or read.muscle
        assert samples is not None
        recording = segment.recording
        if recording is None and segment.recorder is not None:
            recording = segment.recorder.path
        earlier = self._edited_before(recording, (channel, segment.start_index, samples.size))
        if earlier is not None:
            note = "Analysed and edited before: the saved result is shown, with the clinician's edits."
            return MuapResult(earlier, segment.origin, recording, note)
        self._progress(job, "analysing")
        room = self.settings.filters
        filters: FilterSettings = dataclasses.replace(
            FILTER_PRESETS["needle"], notch_hz=room.notch_hz, notch_harmonics=room.notch_harmonics
        )
        site = analyse_segment(
            samples,
            segment.rate,
            start_index=segment.start_index,
            muscle=muscle,
            channel=channel,
            channel_label=segment.label,
            input_range_uv=input_range,
            filters=filters,
            cancel=job.cancel.is_set,
        )
        if recording is None:
            return MuapResult(site, segment.origin, None, segment.note or "Not saved: the recording has no file yet.")
        self._progress(job, "saving")
        try:
            path = save_analysis(recording, site)
        except SidecarError as exc:
            return MuapResult(site, segment.origin, None, f"Not saved: {exc}.")
        if segment.recorder is not None:
            segment.recorder.annotate_at(segment.ring_onset, site.samples, summary_text(site))
        return MuapResult(site, segment.origin, recording, f"Saved in {path.name}.")

    @staticmethod
    def _edited_before(recording: Path | None, segment: tuple[int, int, int]) -> SiteAnalysis | None:
        """The saved analysis of the same ``(channel, start, samples)`` if the clinician edited it."""
        if recording is None:
            return None
        try:
            saved = load_analyses(recording)
        except SidecarError:
            return None
        for site in saved:
            if (site.channel, site.start_index, site.samples) == segment:
                return site if site.edits else None
        return None


def _done_message(result: MuapResult) -> str:
    site = result.site
    where = site.channel_label or f"channel {site.channel + 1}"
    return f"MUP analysis of {where}: {counted(len(site.units), 'unit')}. {result.note}".strip()


def summary_text(site: SiteAnalysis) -> str:
    """The annotation that sums up an analysis in the recording (the results file holds the rest)."""
    summary = site.muscle_summary()
    r = site.recruitment
    text = f"MUP analysis {site.channel_label or f'channel {site.channel + 1}'}: {counted(len(site.units), 'unit')}"
    if summary.mups:
        text += (
            f", {summary.mups} measured: mean {summary.amplitude_uv_mean:.0f} µV, {summary.duration_ms_mean:.1f} ms, "
            f"{summary.phases_mean:.1f} phases"
        )
    return text + f"; recruitment {r.frequency_hz:.1f} Hz, ratio {r.ratio:.1f}"


def muscle_named(texts: Iterable[str]) -> str | None:
    """The muscle a recording's annotations name: a ``Muscle: …`` annotation, or a known muscle's name inside one
    (an exam's segment, ``MIN Tibialis anterior L``); the first text that names one wins."""
    known = sorted(load_muscles(), key=len, reverse=True)
    for text in texts:
        if text.startswith("Muscle: "):
            return text.removeprefix("Muscle: ").strip() or None
        for name in known:
            if name.lower() in text.lower():
                return name
    return None
