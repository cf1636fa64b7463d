"""The running stream published on the Lab Streaming Layer: its signal (type ``EMG``) and its markers (``Markers``).

**Where it runs.** A thread of its own in the session's process reads the ring like the display and the recorder
(a reader named :data:`READER_NAME`) and pushes what is new every :data:`POLL_S`. The acquisition process writes the
rings and the audio process reads them; neither waits for this thread or shares an interpreter with it, so
publishing never delays a sample on its way to the loudspeaker. pylsl's calls into liblsl release the GIL while it
copies and sends.

**Time.** Each sample is stamped with when it was taken, on LSL's clock: a :class:`~emgscope.core.sample_clock.
SampleClock` learns the ring's sample clock from the ring's own write stamps (:attr:`~emgscope.core.ring.SampleRing.
written_at_s`, ``time.monotonic``), a gap the pump reported (``SAMPLES_DROPPED``) is skipped on it, and the
monotonic clock's offset from LSL's is measured once (:func:`~emgscope.acquisition.lsl_streams.lsl_minus_monotonic`).
A sample is published one poll after it was written: the pump reports a gap before the samples that follow it, and
from the acquisition process that report can reach this process a moment after the samples reach the ring.

**Markers.** Exam prompts (``Prompt REST Deltoid L: Relax completely.``), segment annotations (``REST Deltoid L site
1/3 (10.000 s)``, stamped at their onset),
and the operator's markers and notes, each stamped with the LSL time of the sample it belongs to. Markers that came
in from an LSL marker stream are not sent out again.

**Identity.** The signal stream's source id is a hash of the device, its rate, labels and details, and of which
signal is sent: the same simulated patient (pathology, seed, rate, channels) or the same board gets the same id
each time, so LSL recorders reconnect to it by themselves, and no patient data (a replayed file's name) leaves the
computer in it.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import queue
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from emgscope.acquisition import lsl_streams
from emgscope.acquisition.pump import Pipeline
from emgscope.core import events, log
from emgscope.core.events import Event, EventBus
from emgscope.core.ring import SampleRing
from emgscope.core.sample_clock import SampleClock
from emgscope.core.settings import LslOutSettings
from emgscope.core.source import SourceError, StreamInfo
from emgscope.protocol.runner import ANNOTATION_ADDED, STEP_CHANGED
from emgscope.session.recording import MARKER_PLACED

READER_NAME = "lsl"
POLL_S = 0.005
"""How often the thread publishes what is new: LSL consumers see a sample 5-10 ms after it reached the ring."""
SIGNAL_TYPE = "EMG"
MARKER_TYPE = "Markers"
UNIT = "microvolts"
"""The unit as the XDF metadata specification spells it (the values are µV)."""
MAX_BUFFERED_S = 30
"""What an outlet keeps for a consumer that falls behind, as long as the rings."""
LSL_OUT = "lsl_out"
"""Event: what is being published now (the message; empty when nothing is)."""
STOP_WAIT_S = 2.0
_log = log.logger(__name__)


def source_id(info: StreamInfo, signal: str) -> str:
    """The same id for the same device or simulated patient and the same signal (see the module's docstring)."""
    details = sorted((key, value) for key, value in info.details.items() if not key.endswith("_version"))
    facts = json.dumps([info.device, info.sample_rate, list(info.channel_labels), details, signal])
    return "emgscope-" + hashlib.sha256(facts.encode("utf-8")).hexdigest()[:16]


class LslPublisher:
    """A session's LSL outlets: off until :meth:`set_enabled`, then the signal and markers of whatever streams."""

    def __init__(self, settings: LslOutSettings, bus: EventBus) -> None:
        self.settings = settings
        self.bus = bus
        self.enabled = False
        self.publishing = ""
        """What is published now, in words ('' when nothing is)."""
        self._pipeline: Pipeline | None = None
        self._publication: Publication | None = None
        bus.subscribe(self._on_event)

    def set_enabled(self, enabled: bool) -> None:
        """Publish the current stream (and each stream connected later), or stop."""
        self.enabled = enabled
        self._restart()

    def set_signal(self, signal: str) -> None:
        """``filtered`` or ``raw`` (a running publication starts again with the other, under its own source id)."""
        if signal != self.settings.signal:
            self.settings.signal = signal
            self._restart()

    def attach(self, pipeline: Pipeline) -> None:
        """A stream connected (called on the session owner's thread)."""
        self._pipeline = pipeline
        self._restart()

    def detach(self) -> None:
        """The stream stopped: its outlets close (consumers see the stream end)."""
        self._pipeline = None
        self._restart()

    def follow_exam(self, exam_bus: EventBus) -> None:
        """Publish a guided exam's prompts and segments as markers."""
        exam_bus.subscribe(self._on_event)

    def _restart(self) -> None:
        old, self._publication = self._publication, None
        if old is not None:
            old.close()
        pipeline = self._pipeline
        if self.enabled and pipeline is not None:
            try:
                self._publication = Publication(pipeline, self.settings)
            except SourceError as exc:
                self._say("")
                self.bus.post(Event(events.WARNING, f"Nothing is published on LSL: {exc}"))
                return
            self._say(self._publication.description)
            _log.info("LSL out: %s", self._publication.description)
        elif old is not None:
            self._say("")
            _log.info("LSL out: stopped")
        else:
            self._say("")

    def _say(self, text: str) -> None:
        if text != self.publishing:
            self.publishing = text
            self.bus.post(Event(LSL_OUT, text))

    def _on_event(self, event: Event) -> None:
        """Any thread, at once: what the publication must stamp (gaps) or send (markers)."""
        publication = self._publication
        if publication is None or event.sample_index is None:
            return
        if event.kind == events.SAMPLES_DROPPED:
            publication.gaps.put((event.sample_index, int(event.data["count"])))
            return
        marker = as_marker(event)
        if marker is not None:
            publication.markers.put(marker)


def as_marker(event: Event) -> tuple[int, str, int] | None:
    """``(ring index, text, duration in samples)`` of the marker an event becomes, or ``None`` (see the module's
    docstring)."""
    if event.kind == MARKER_PLACED and not event.data.get("stream") and event.sample_index is not None:
        return event.sample_index, event.message, 0
    if event.kind == STEP_CHANGED:
        status = event.data["status"]
        planned = status.planned
        step = " ".join(part for part in (planned.label, planned.muscle, planned.side) if part)
        return status.onset, f"Prompt {step}: {event.message}", 0
    if event.kind == ANNOTATION_ADDED:
        annotation = event.data["annotation"]
        return annotation.onset, annotation.text, annotation.duration
    return None


class Publication:
    """One stream's outlets and the thread that feeds them (or, with ``thread`` off, whoever calls
    :meth:`publish`: the benchmark times it)."""

    def __init__(self, pipeline: Pipeline, settings: LslOutSettings, thread: bool = True) -> None:
        pylsl = lsl_streams.pylsl()
        info = pipeline.info
        signal = settings.signal
        self.ring: SampleRing = pipeline.filtered if signal == "filtered" else pipeline.raw
        self.rate = info.sample_rate
        sid = source_id(info, signal)
        stream = pylsl.StreamInfo(settings.name, SIGNAL_TYPE, info.n_channels, self.rate, pylsl.cf_float32, sid)
        stream.set_channel_labels(list(info.channel_labels))
        stream.set_channel_types([SIGNAL_TYPE] * info.n_channels)
        stream.set_channel_units([UNIT if info.units == "uV" else info.units] * info.n_channels)
        desc = stream.desc()
        desc.append_child_value("manufacturer", "emgscope")
        desc.append_child_value("signal", signal)
        marker_info = pylsl.StreamInfo(
            f"{settings.name} markers", MARKER_TYPE, 1, pylsl.IRREGULAR_RATE, pylsl.cf_string, f"{sid}-markers"
        )
        try:
            self.signal = pylsl.StreamOutlet(stream, 0, MAX_BUFFERED_S)
            self.marker_outlet = pylsl.StreamOutlet(marker_info, 0, MAX_BUFFERED_S)
        except RuntimeError as exc:
            raise SourceError(f"liblsl could not open an outlet ({exc}).") from None
        rate = f"{self.rate / 1000:g} kHz" if self.rate >= 1000 else f"{self.rate:g} Hz"
        self.description = (
            f"'{settings.name}' ({SIGNAL_TYPE}, {info.n_channels} channel{'s' if info.n_channels > 1 else ''} at "
            f"{rate}, {signal}) and "
            f"'{settings.name} markers' on LSL"
        )
        self.offset = lsl_streams.lsl_minus_monotonic()
        self.clock = SampleClock(self.rate)
        self.gaps: queue.SimpleQueue[tuple[int, int]] = queue.SimpleQueue()
        self.markers: queue.SimpleQueue[tuple[int, str, int]] = queue.SimpleQueue()
        self._waiting: list[tuple[int, str, int]] = []
        self.ring.remove_reader(READER_NAME)
        self.reader = self.ring.reader(READER_NAME)
        self._first = self._seen = self.reader.position
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lsl-out", daemon=True)
        if thread:
            self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(STOP_WAIT_S)
        self.ring.remove_reader(READER_NAME)
        del self.signal, self.marker_outlet  # liblsl closes the outlets: their consumers see the streams end

    def _run(self) -> None:
        while not self._stop.wait(POLL_S):
            self.publish()

    def publish(self) -> None:
        """One poll: stamp gaps, learn the clock, send the samples written before the last poll, then the markers."""
        clock = self.clock
        _drain(self.gaps, lambda gap: clock.skip(*gap) if gap[0] > self._first else None)
        written = self.ring.write_index
        stamp = self.ring.written_at_s
        if written > 0 and stamp > 0:
            clock.observe(written, stamp)
        upto, self._seen = self._seen, written
        if clock.ready and upto > self.reader.position:
            start = self.reader.position
            data = self.reader.read(upto - start)
            first = self.reader.position - data.shape[1]
            for begin, end in _pieces(first, self.reader.position, clock.gaps_in(first, self.reader.position)):
                piece = np.ascontiguousarray(data[:, begin - first : end - first].T)
                self.signal.push_chunk(piece, clock.time_of(end - 1) + self.offset)
        _drain(self.markers, self._waiting.append)
        if clock.ready and self._waiting:
            for index, text, duration in sorted(self._waiting):
                said = f"{text} ({duration / self.rate:.3f} s)" if duration > 0 else text
                self.marker_outlet.push_sample([said], clock.time_of(index) + self.offset)
            self._waiting = []


def _pieces(start: int, stop: int, cuts: list[int]) -> list[tuple[int, int]]:
    bounds = [start, *cuts, stop]
    return [(a, b) for a, b in itertools.pairwise(bounds) if b > a]


def _drain(items: queue.SimpleQueue[Any], take: Callable[[Any], object]) -> None:
    while True:
        try:
            item = items.get_nowait()
        except queue.Empty:
            return
        take(item)
