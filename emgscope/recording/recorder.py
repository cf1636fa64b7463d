"""The recorder thread: the raw ring's ``disk`` reader → :class:`EdfPlusWriter`, never blocking anyone else.

Starting a recording only creates the ring reader (so sample 0 of the file is the sample being acquired at the
moment the user pressed Record) and starts the thread; the file is created, written and fsync'd on that thread.
Markers are stamped with the ring's write index (or, for a guided exam's segments, with the ring index they
began on) on the caller's thread and handed over through a queue, which the thread journals within one polling
interval. Nothing the GUI or the acquisition thread calls here waits on the disk.

Signal that never reached the ring (a source that stalled, a board whose packets were lost) comes as a
``SAMPLES_DROPPED`` event stamped with its ring index (:func:`emgscope.core.events.samples_dropped`): the recorder
annotates it at that place ("Gap: 4.90 s of signal missing (the source stalled)"), counts it and names it in the
summary. The file's samples stay those of the ring, so a marker keeps the sample the operator saw. If the recorder
falls so far behind that the ring laps it, the lost span is written as zeros with the same kind of annotation, so
the file's time axis stays true.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import numpy as np

from emgscope.core import events
from emgscope.core.events import Event, EventBus
from emgscope.core.ring import SampleRing
from emgscope.core.settings import FilterSettings
from emgscope.core.source import StreamInfo
from emgscope.core.units import counted
from emgscope.recording import edfplus
from emgscope.recording.session import SessionInfo, filter_description
from emgscope.recording.writer import EdfPlusWriter, RecordingFull

READER_NAME = "disk"
POLL_INTERVAL_S = 0.02
"""How often the thread drains the ring: a killed process loses at most this much plus one data record."""
BATCH_S = 0.2
"""Most samples taken from the ring per write: catching up after a stall in small steps keeps memory flat."""
STOP_GRACE_S = 1.0
"""After Stop, how long to wait for the samples that complete the last record before dropping them."""

FELL_BEHIND = "the recorder fell behind; written as zeros"
"""The cause of a gap the recorder itself made (the ring lapped its reader)."""

RECORDING_STARTED = "recording_started"
RECORDING_STOPPED = "recording_stopped"
RECORDING_FAILED = "recording_failed"
MARKER_ADDED = "marker_added"


class Recorder:
    """One recording of the raw ring to one file; make a new one for each recording."""

    def __init__(
        self,
        ring: SampleRing,
        info: StreamInfo,
        target: Path | Callable[[], Path],
        session: SessionInfo,
        file_format: str = "bdf",
        filters: FilterSettings | None = None,
        bus: EventBus | None = None,
        physical_max_uv: float | None = None,
    ) -> None:
        self.ring = ring
        self.info = info
        self._target = target
        self.path: Path | None = None if callable(target) else Path(target)
        """The file; when ``target`` is a function (naming touches the disk), known once the thread started."""
        self.session = session
        self.bus = bus
        self._filters = filters
        self._first_texts = self._header_annotations()
        self.layout = edfplus.make_layout(
            file_format == "bdf",
            info.channel_labels,
            info.sample_rate,
            physical_max_uv,
            first_texts=tuple(self._first_texts),
        )
        self._markers: queue.SimpleQueue[tuple[float, str, float]] = queue.SimpleQueue()
        self._gaps: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._annotations_ended = threading.Event()
        self._annotations_ended.set()
        self._thread = threading.Thread(target=self._run, name="recorder", daemon=True)
        self._reader = None
        self._batch = self.layout.samples_per_record * max(1, round(BATCH_S / float(self.layout.record_seconds)))
        self.start_index = 0
        self.stop_index: int | None = None
        self.error: str | None = None
        self.samples_written = 0
        self.clipped_samples = 0
        self.lost_samples = 0
        """Samples the ring lapped the recorder by, written as zeros."""
        self.gaps = 0
        """Stretches of missing signal annotated in the file (the source's and the recorder's own)."""
        self.gap_samples = 0
        """Samples per channel missing in those stretches."""
        self.markers_journaled = 0
        self.unplaced_annotations = 0
        self.busy_seconds = 0.0
        self.started = threading.Event()
        """Set once the file exists with its header (or the start failed: see :attr:`error`)."""

    def start(self) -> None:
        if self.bus is not None:
            self.bus.subscribe(self._on_event)
        self._reader = self.ring.reader(READER_NAME, from_now=True)
        self.start_index = self._reader.position
        self._thread.start()

    def _on_event(self, event: Event) -> None:
        """Any thread: a stretch of signal that never reached the ring, to annotate on the recorder's thread."""
        if event.kind == events.SAMPLES_DROPPED and event.data.get("cause") != FELL_BEHIND:
            self._gaps.put(event)

    def add_marker(self, text: str) -> float | None:
        """Annotate the current moment (any thread, returns at once); returns its onset in seconds.

        After Stop the file is being finished: a marker then would fall after its end, so it is refused (``None``).
        """
        if self._stop.is_set():
            return None
        onset = (self.ring.write_index - self.start_index) / self.info.sample_rate
        self._markers.put((max(onset, 0.0), text, 0.0))
        return onset

    def annotate_at(self, sample_index: int, duration_samples: int, text: str) -> float | None:
        """Annotate ``[sample_index, sample_index + duration_samples)`` of the ring (any thread, returns at once).

        For what is stamped on the sample clock rather than "now": a guided exam's segment is known only once it
        ends, seconds after its onset. It is journalled like a marker, so ``kill -9`` keeps it. A span is cut to
        the recording (its start, and the sample Stop was given); one wholly outside it is refused (``None``).
        Returns the onset in seconds from the file's first sample.
        """
        end = sample_index + max(0, duration_samples)
        onset_index = max(sample_index, self.start_index)
        if self.stop_index is not None:
            if onset_index >= self.stop_index or not self.running:
                return None
            end = min(end, self.stop_index)
        if end < onset_index or (duration_samples > 0 and end == onset_index):
            return None
        rate = self.info.sample_rate
        onset = (onset_index - self.start_index) / rate
        self._markers.put((onset, text, (end - onset_index) / rate))
        return onset

    def stop(self, at_index: int | None = None, more_annotations: bool = False) -> None:
        """Finish the data record holding ``at_index`` (default: now) and close the file; returns at once.

        ``more_annotations`` keeps the file open after its last record until :meth:`end_annotations`, for a
        caller that still has annotations of the recorded span to come (the headless exam's monitor settles the
        last segment only after a little more signal).
        """
        if more_annotations:
            self._annotations_ended.clear()
        if self.stop_index is None:
            self.stop_index = self.ring.write_index if at_index is None else at_index
        self._stop.set()

    def end_annotations(self) -> None:
        """No more annotations will come: a recording stopped with ``more_annotations`` may now close."""
        self._annotations_ended.set()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread to finish (headless use only; the GUI watches for the STOPPED event)."""
        self._thread.join(timeout)
        return not self._thread.is_alive()

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    @property
    def elapsed_s(self) -> float:
        """Seconds recorded so far (from samples the ring holds, so the clock runs even between writes)."""
        end = self.stop_index if self.stop_index is not None else self.ring.write_index
        return max(0, end - self.start_index) / self.info.sample_rate

    def _run(self) -> None:
        try:
            self.path = Path(self._target()) if callable(self._target) else self.path
            assert self.path is not None
            now = datetime.now()
            equipment = self.info.device or self.info.description
            writer = EdfPlusWriter(
                self.path, self.layout, self.session.patient_field(), self.session.recording_field(now, equipment), now
            )
        except OSError as exc:
            self.ring.remove_reader(READER_NAME)
            if self.bus is not None:
                self.bus.unsubscribe(self._on_event)
            self._finish_failed(f"Could not create {self.path or 'the recording'}: {exc.strerror or exc}")
            return
        finally:
            self.started.set()
        self._post(RECORDING_STARTED, str(self.path), 0)
        try:
            for text in self._first_texts:
                writer.annotate(0.0, text)
            self._loop(writer)
            if not writer.close():
                seconds = float(self.layout.record_seconds)
                self._finish_failed(f"Nothing was recorded: the source delivered less than one record ({seconds:g} s).")
                return
        except RecordingFull as exc:
            self._finish_failed(str(exc))
            return
        except Exception as exc:  # a defect must still end in a closed file and a message, not a silent thread
            with contextlib.suppress(Exception):
                writer.close()
            self._finish_failed(f"Recording stopped by an internal error: {exc!r}")
            return
        finally:
            self.ring.remove_reader(READER_NAME)
            if self.bus is not None:
                self.bus.unsubscribe(self._on_event)
            self.samples_written = writer.samples_written
            self.clipped_samples = writer.clipped_samples
            self.unplaced_annotations = writer.unplaced_annotations
        self._post(RECORDING_STOPPED, str(self.path), self.samples_written)

    def _header_annotations(self) -> list[str]:
        texts = self.session.annotations()
        channels = counted(self.info.n_channels, "channel")
        texts.append(f"Device: {self.info.description}; {self.info.sample_rate:g} Hz; {channels}")
        if self._filters is not None:
            texts.append(filter_description(self._filters))
        return texts

    def _loop(self, writer: EdfPlusWriter) -> None:
        reader = self._reader
        assert reader is not None
        quiet_since = time.monotonic()
        while True:
            began = time.monotonic()
            self._journal_markers(writer)
            self._journal_gaps(writer)
            lost_before = reader.overrun_samples
            limit = self._batch if self.stop_index is None else min(self._batch, self._stop_target() - reader.position)
            data = reader.read(max(0, limit))
            lost = reader.overrun_samples - lost_before
            if lost:
                self._write_gap(writer, lost)
            if data.shape[1]:
                self._write(writer, data)
                quiet_since = time.monotonic()
            self.samples_written = writer.samples_written
            self.busy_seconds += time.monotonic() - began
            if self._stop.is_set():
                target = self._stop_target()
                done = reader.position >= target or time.monotonic() - quiet_since > STOP_GRACE_S
                if done and self._annotations_ended.is_set():
                    self._journal_markers(writer)
                    self._journal_gaps(writer)
                    return
            if reader.available < self._batch:
                time.sleep(POLL_INTERVAL_S)

    def _write(self, writer: EdfPlusWriter, data: np.ndarray) -> None:
        """Write samples; the first clipped sample is annotated, so a reader of the file sees where it began."""
        first_sample = writer.samples_received
        before = writer.clipped_samples
        writer.write(data)
        self.clipped_samples = writer.clipped_samples
        if self.clipped_samples and not before:
            onset = first_sample / self.info.sample_rate
            text = f"Clipped: the signal went beyond the file's range of ±{self.layout.physical_max} uV"
            writer.annotate(onset, text + (" (BDF+ records a wider range)" if not self.layout.bdf else ""))

    def summary(self) -> str:
        """After the recording: what was saved and, so that nothing is lost silently, what was clipped or lost."""
        rate = self.info.sample_rate
        channels = counted(self.info.n_channels, "channel")
        text = f"Saved {self.samples_written / rate:.1f} s ({channels} at {rate:g} Hz) to {self.path}"
        if self.clipped_samples:
            text += f"; {counted(self.clipped_samples, 'sample')} clipped at ±{self.layout.physical_max} uV"
        if self.gaps:
            seconds = self.gap_samples / rate
            gaps = counted(self.gaps, "gap")
            text += f"; {gaps} in the signal, {seconds:.2f} s missing in all, each annotated in the file"
        if self.lost_samples:
            text += f" ({counted(self.lost_samples, 'sample')} the recorder fell behind by are written as zeros)"
        if self.unplaced_annotations:
            parts = counted(self.unplaced_annotations, "annotation part")
            text += f"; {parts} made at the end found no room in the file"
        return text

    def _stop_target(self) -> int:
        """Stop on a record boundary: the sample where the record holding the Stop press ends."""
        n = self.layout.samples_per_record
        assert self.stop_index is not None
        recorded = max(0, self.stop_index - self.start_index)
        return self.start_index + -(-recorded // n) * n

    def _journal_markers(self, writer: EdfPlusWriter) -> None:
        while True:
            try:
                onset, text, duration = self._markers.get_nowait()
            except queue.Empty:
                return
            writer.annotate(onset, text, duration)
            self.markers_journaled += 1
            self._post(MARKER_ADDED, text, round(onset * self.info.sample_rate))

    def _journal_gaps(self, writer: EdfPlusWriter) -> None:
        """Annotate each stretch of signal missing from the ring at its place (one within the recording)."""
        while True:
            try:
                event = self._gaps.get_nowait()
            except queue.Empty:
                return
            index = event.sample_index
            if index is None or index < self.start_index or (self.stop_index is not None and index > self.stop_index):
                continue
            writer.annotate((index - self.start_index) / self.info.sample_rate, event.message)
            self.gaps += 1
            self.gap_samples += int(event.data["count"])

    def _write_gap(self, writer: EdfPlusWriter, lost: int) -> None:
        """The ring lapped the recorder: zeros for what it lost (the time axis stays true), annotated and posted."""
        self.lost_samples += lost
        self.gaps += 1
        self.gap_samples += lost
        rate = self.info.sample_rate
        event = events.samples_dropped(self.start_index + writer.samples_received + lost, lost, rate, FELL_BEHIND)
        writer.annotate(writer.samples_received / rate, event.message, 0.0)
        writer.write(np.zeros((self.layout.n_channels, lost), dtype=np.float32))
        if self.bus is not None:
            self.bus.post(event)

    def _finish_failed(self, message: str) -> None:
        self.error = message
        self._post(RECORDING_FAILED, message, None)

    def _post(self, kind: str, message: str, sample_index: int | None) -> None:
        if self.bus is not None:
            self.bus.post(Event(kind, message, sample_index, {"path": str(self.path or "")}))
