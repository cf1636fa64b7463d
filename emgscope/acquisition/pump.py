"""The acquisition thread: source → filters → rings, and the health of the connection.

One :class:`AcquisitionPump` owns one source. Its thread opens the source (which may block for seconds on a
silent serial device, so it never runs on the GUI thread), then moves every chunk the source delivers into two
rings with the same sample indices:

* ``raw``: as the device delivered it, in µV (what is recorded to disk, so replay can refilter);
* ``filtered``: through the clinical filters (what is drawn and heard). It lives in shared memory, so the audio
  process reads it directly (see :mod:`emgscope.audio.process`); in the acquisition process
  (:mod:`emgscope.acquisition.process`) the raw ring does too, for the GUI process to draw and record.

It watches for silence: a source that delivers nothing for ``Source.silence_timeout_s`` is reported as lost,
once, and as resumed if data comes back. Everything it has to say goes out as events.
"""

from __future__ import annotations

import sys
import threading
import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from emgscope.core import events
from emgscope.core.events import Event, EventBus
from emgscope.core.realtime import ACQUISITION_PRIORITY, raise_priority
from emgscope.core.ring import SampleRing
from emgscope.core.settings import FilterSettings
from emgscope.core.source import REPLAY_DEVICE, Source, SourceEnded, SourceError, StreamInfo
from emgscope.dsp.filters import FilterBank, FilterDesign

RING_SECONDS = 30.0
"""How much history each ring holds: enough for the slowest sweep (10 s) three times over."""
POLL_INTERVAL_S = 0.001
"""How often the thread asks the source for new samples. The audio process must buffer the longest gap between
two writes to the ring, so this is part of the sound's latency; but each chunk has a fixed cost. Measured with
``emgscope bench`` for 16 channels at 20 kHz: 1 ms chunks 126× real time, 2 ms 184×."""
SWITCH_INTERVAL_S = 0.00025
"""How long a thread waiting for the GIL lets the holder run before asking it to let go (Python's default is
5 ms). In the acquisition process the pump shares the GIL only with the thread that relays commands and state;
on a thread of the GUI process it shares it with Qt, whose C++ painting holds the GIL, and a drop request is
honoured only between two Python steps: the sooner it is made, the sooner the pump gets in between two calls."""

PREVIOUS_POLL_S = 0.01
"""How often a new pump checks whether the one it replaces has let go of its device."""


@dataclass
class Pipeline:
    """What the pump builds once the source is open: the stream's facts and its two rings."""

    info: StreamInfo
    raw: SampleRing
    filtered: SampleRing
    filters: FilterBank | None
    """The filters, where this process runs them (a pump in the acquisition process keeps them there)."""


def make_pipeline(
    info: StreamInfo, filter_settings: FilterSettings, ring_seconds: float = RING_SECONDS, owner_pid: int | None = None
) -> Pipeline:
    """The rings and filters for a stream: the filtered ring in shared memory, for the audio process to read.

    ``owner_pid``: the rings are for that process (a pump in its own process, see
    :mod:`emgscope.acquisition.process`), so the raw ring is shared too and both are named after their owner.
    """
    capacity = round(info.sample_rate * ring_seconds)
    n = info.n_channels
    return Pipeline(
        info,
        SampleRing(n, capacity) if owner_pid is None else SampleRing.shared(n, capacity, owner_pid),
        SampleRing.shared(n, capacity, owner_pid),
        FilterBank(filter_settings, info.sample_rate, n),
    )


class Replaced(Protocol):
    """A pump of either kind (this module's or :class:`~emgscope.acquisition.process.ProcessPump`), as the one
    replacing it sees it."""

    @property
    def running(self) -> bool: ...


def wait_for_previous(previous: Replaced | None, stop: threading.Event) -> bool:
    """Wait until ``previous`` (a pump being replaced, or ``None``) has let go of its device; ``False`` if
    ``stop`` was set meanwhile.

    The previous pump may sit in a blocking connect for seconds (a silent serial device): the new one waits it
    out rather than fail with "already in use", and stopping the new pump ends the wait at once.
    """
    while previous is not None and previous.running:
        if stop.wait(PREVIOUS_POLL_S):
            return False
    return not stop.is_set()


class AcquisitionPump:
    """Runs a :class:`Source` on its own thread and keeps the :class:`Pipeline` fed."""

    def __init__(
        self,
        source: Source,
        filter_settings: FilterSettings,
        bus: EventBus,
        ring_seconds: float = RING_SECONDS,
        previous: Replaced | None = None,
        owner_pid: int | None = None,
    ) -> None:
        """``previous``: a pump being stopped whose source must be let go before this one opens. Reconnecting
        to the same board otherwise races its release, and BrainFlow refuses a board that is still open.
        ``owner_pid``: the process the rings are for (see :func:`make_pipeline`)."""
        self.source = source
        self._previous = previous
        self.bus = bus
        self._filter_settings = filter_settings
        self._ring_seconds = ring_seconds
        self._owner_pid = owner_pid
        self.pipeline: Pipeline | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="acquisition", daemon=True)
        self.busy_seconds = 0.0
        """Time the thread spent scaling, filtering and writing (for the benchmark)."""
        self.connection_lost = False

    def start(self) -> None:
        sys.setswitchinterval(min(sys.getswitchinterval(), SWITCH_INTERVAL_S))
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop and wait for it (a thread stuck in a blocking connect is left behind)."""
        self._stop.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def set_filters(self, settings: FilterSettings) -> None:
        """Change the filters while streaming (any thread)."""
        self._filter_settings = settings
        if self.pipeline is not None:
            self._post_notes(self.pipeline.filters.update(settings), self.pipeline.info)

    def _post_notes(self, design: FilterDesign, info: StreamInfo) -> None:
        """What the operator should know of the filters at this rate (a replayed file is a recording)."""
        for level, note in design.notes(recorded=info.device.startswith(REPLAY_DEVICE)):
            self.bus.post(Event(events.WARNING if level == "warning" else events.INFO, note))

    def _run(self) -> None:
        previous, self._previous = self._previous, None
        if not wait_for_previous(previous, self._stop):
            return
        try:
            info = self.source.open()
        except SourceError as exc:
            self.source.close()
            self.bus.post(Event(events.CONNECT_FAILED, str(exc)))
            return
        except Exception as exc:  # any driver failure must reach the user, not kill the thread
            self.source.close()
            self.bus.post(Event(events.CONNECT_FAILED, f"Could not start the source: {exc}"))
            return
        if self._stop.is_set():
            self.source.close()
            return
        self.pipeline = make_pipeline(info, self._filter_settings, self._ring_seconds, self._owner_pid)
        self.bus.post(Event(events.CONNECTED, info.description, 0, {"info": info}))
        self._post_notes(self.pipeline.filters.design, info)
        for warning in info.warnings:  # after the filters': the banner keeps the last
            self.bus.post(Event(events.WARNING, warning))
        try:
            self._loop(self.pipeline)
        finally:
            self.source.close()
            self.bus.post(Event(events.STOPPED, "", self.pipeline.raw.write_index))

    def _loop(self, pipeline: Pipeline) -> None:
        raise_priority(ACQUISITION_PRIORITY)  # every ms this thread waits is buffered before the loudspeaker
        last_data = time.monotonic()
        timeout = self.source.silence_timeout_s
        skipped_seen = self.source.skipped_samples
        while not self._stop.is_set():
            try:
                chunk = self.source.read()
            except SourceError as exc:
                self.bus.post(Event(events.SOURCE_ERROR, str(exc), pipeline.raw.write_index))
                return
            except SourceEnded:
                self.bus.post(Event(events.SOURCE_ENDED, "", pipeline.raw.write_index))
                return
            now = time.monotonic()
            if chunk.shape[1] == 0:
                if not self.connection_lost and now - last_data > timeout:
                    self.connection_lost = True
                    self.bus.post(
                        Event(
                            events.CONNECTION_LOST,
                            f"Connection lost: no data for {timeout:g} s.",
                            pipeline.raw.write_index,
                        )
                    )
                time.sleep(POLL_INTERVAL_S)
                continue
            last_data = now
            if self.connection_lost:
                self.connection_lost = False
                self.bus.post(Event(events.CONNECTION_RESUMED, "Data is arriving again.", pipeline.raw.write_index))
            skipped = self.source.skipped_samples - skipped_seen
            if skipped > 0:  # lost before this chunk: the gap lies where it will be written
                skipped_seen += skipped
                rate, cause = pipeline.info.sample_rate, self.source.skipped_cause
                self.bus.post(events.samples_dropped(pipeline.raw.write_index, skipped, rate, cause))
            self.push(pipeline, chunk)
            for index, text in self.source.annotations():
                self.bus.post(Event(events.ANNOTATION, text, index))
            self.busy_seconds += time.monotonic() - now
            time.sleep(POLL_INTERVAL_S)

    @staticmethod
    def push(pipeline: Pipeline, chunk: np.ndarray) -> None:
        """Write one chunk to both rings (the whole per-chunk work; the benchmark times this)."""
        raw = chunk.astype(np.float32, copy=False)
        pipeline.raw.write(raw)
        assert pipeline.filters is not None, "the pump runs the filters of its own pipeline"
        pipeline.filtered.write(pipeline.filters.process(raw))
