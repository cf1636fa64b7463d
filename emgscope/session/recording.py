"""Recording the current stream: one :class:`~emgscope.recording.recorder.Recorder` at a time, markers and notes.

Starting only creates the recorder's ring reader and its thread (the file is named and created there, so the
caller never waits on the disk); what the recorder reports (started, failed because the disk is full, stopped)
comes back as events on the session's bus, and :meth:`Recordings.handle` keeps the bookkeeping: a recording
whose source stopped is finished, a finished one joins the recent list.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from emgscope.acquisition.pump import Pipeline
from emgscope.core import events, log
from emgscope.core.events import Event, EventBus
from emgscope.core.settings import FilterSettings, RecordingSettings
from emgscope.dsp.filters import design
from emgscope.recording import recorder as rec
from emgscope.recording.naming import session_file
from emgscope.recording.session import SessionInfo, applied_filters
from emgscope.replay.recent import add_recent

SOURCE_GONE = (events.STOPPED, events.SOURCE_ENDED, events.SOURCE_ERROR)
MARKER_PLACED = "marker_placed"
"""The operator dropped a marker or typed a note: ``sample_index`` is the ring index it was stamped on (the
sample being acquired when the key was pressed), the message its text. A marker the source's stream sent (an LSL
marker stream's, see :data:`~emgscope.core.events.ANNOTATION`) is placed too, once written, with ``stream`` true in
its data."""
_log = log.logger(__name__)


class Recordings:
    """The recorder of the current stream (or none) and what the operator last typed into the session form."""

    def __init__(
        self,
        bus: EventBus,
        settings: RecordingSettings,
        pipeline: Callable[[], Pipeline | None],
        filters: Callable[[], FilterSettings],
    ) -> None:
        self.bus = bus
        self.settings = settings
        self.session = SessionInfo()
        self.recorder: rec.Recorder | None = None
        self.pipeline = pipeline
        """The current stream's rings, or ``None``."""
        self._filters = filters

    @property
    def recording(self) -> bool:
        return self.recorder is not None

    def start(
        self, session: SessionInfo, settings: RecordingSettings | None = None, path: Path | None = None
    ) -> rec.Recorder | None:
        """Record the current stream's raw ring to ``path``, or to a new file named from ``session`` in the
        sessions folder; ``None`` when there is no stream or a recording already runs."""
        pipeline = self.pipeline()
        if pipeline is None or self.recorder is not None:
            return None
        self.session = session
        if settings is not None:
            self.settings.sessions_folder, self.settings.format = settings.sessions_folder, settings.format
        folder, file_format = self.settings.folder(), self.settings.format

        def name() -> Path:
            return session_file(folder, session, datetime.now(), file_format)

        filters = self._filters()
        applied = applied_filters(filters, design(filters, pipeline.info.sample_rate))
        target = path if path is not None else name
        recorder = rec.Recorder(pipeline.raw, pipeline.info, target, session, file_format, applied, self.bus)
        self.recorder = recorder
        recorder.start()
        return recorder

    def stop(self) -> None:
        """Ask the recorder to finish (it closes the file on its own thread and reports back)."""
        if self.recorder is not None:
            self.recorder.stop()

    def add_marker(self, text: str) -> float | None:
        """Annotate the sample being acquired now; its onset in seconds, or ``None`` when not recording."""
        recorder = self.recorder
        if recorder is None or not text:
            return None
        index = recorder.ring.write_index
        onset = recorder.add_marker(text)
        if onset is not None:
            self.bus.post(Event(MARKER_PLACED, text, index, {"onset_s": onset}))
        return onset

    def finish(self, timeout_s: float) -> None:
        """Stop and wait for the file to be closed (the app is quitting)."""
        recorder = self.recorder
        if recorder is not None:
            recorder.stop()
            recorder.join(timeout_s)

    def handle(self, event: Event) -> None:
        """Keep the bookkeeping in step with what happened (called on the session owner's thread)."""
        recorder = self.recorder
        if recorder is None:
            return
        if event.kind in SOURCE_GONE:
            recorder.stop()
        if event.kind == events.ANNOTATION and event.sample_index is not None:
            onset = recorder.annotate_at(event.sample_index, 0, event.message)
            if onset is not None:
                data = {"onset_s": onset, "stream": True}
                self.bus.post(Event(MARKER_PLACED, event.message, event.sample_index, data))
            return
        ours = event.data.get("path") == str(recorder.path or "")
        if not ours:
            return
        if event.kind == rec.RECORDING_STARTED:
            _log.info("Recording started: %s", Path(event.message).name)
        elif event.kind in (rec.RECORDING_STOPPED, rec.RECORDING_FAILED):
            self.recorder = None
            if event.kind == rec.RECORDING_FAILED:
                _log.error("Recording failed: %s", event.message)
            else:
                _log.info("Recording stopped: %s", recorder.summary())
                if recorder.path is not None:
                    add_recent(recorder.path)  # the session just saved is the one most likely to be opened next
