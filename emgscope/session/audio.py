"""The audio monitor of the current stream: opened and closed off the caller's thread, watched while it plays.

Opening the sound device takes its time (PortAudio may wait on a sound server that does not answer, and the audio
process takes a second or two to start), so :meth:`AudioService.attach` returns at once and a short-lived worker
thread opens it; the outcome arrives as an event on the session's bus (:data:`AUDIO_STARTED` or
:data:`AUDIO_UNAVAILABLE`). Closing happens on a worker thread too. :meth:`AudioService.check`, called a few times
a second by whoever shows the figures, notices an audio process that died: it says so (:data:`AUDIO_LOST`),
restarts the sound once by itself, and after a second loss leaves the restart to the operator.
"""

from __future__ import annotations

import dataclasses
import threading
import time

from emgscope.audio.monitor import AudioMonitor, AudioUnavailable, audio_status, make_monitor
from emgscope.audio.process import AudioProcessMonitor
from emgscope.core import log
from emgscope.core.events import Event, EventBus
from emgscope.core.ring import SampleRing
from emgscope.core.settings import AudioSettings
from emgscope.core.units import counted

AUDIO_OPENING = "audio_opening"
"""The device is being opened for a stream (the outcome follows)."""
AUDIO_STARTED = "audio_started"
"""The device is open and sound is playing (``data['monitor']``)."""
AUDIO_UNAVAILABLE = "audio_unavailable"
"""No sound, and why (the message): no PortAudio, no device, the device refused."""
AUDIO_LOST = "audio_lost"
"""Sound that was playing stopped on its own; ``data['restarting']`` says whether it is being restarted."""

CLOSE_TIMEOUT_S = 6.0
"""Longest wait at exit for a stream to close: the audio process is given 5 s to end before it is killed."""
AUTOMATIC_RESTARTS = 1
"""A lost stream is restarted this many times by itself; after that the operator decides (a button)."""

Monitor = AudioMonitor | AudioProcessMonitor
_log = log.logger(__name__)


@dataclasses.dataclass(frozen=True)
class Stream:
    """What is played from: a stream's filtered ring and its facts."""

    ring: SampleRing
    sample_rate: float
    labels: tuple[str, ...]


class AudioService:
    """Plays one channel of the current stream; every method returns at once (any device work is threaded)."""

    def __init__(self, settings: AudioSettings, bus: EventBus) -> None:
        self.settings = settings
        self.bus = bus
        self.monitor: Monitor | None = None
        self.channel = 0
        self.stream: Stream | None = None
        self.unavailable_reason = ""
        self._generation = 0
        """Counts attach/detach, so a device that opens after the stream already changed is closed unused."""
        self._closing: list[threading.Thread] = []
        self._restarts = 0
        self._lock = threading.Lock()
        """Held while a newly opened device is checked against the generation and kept, or while detaching."""

    # --- the stream ------------------------------------------------------------------------------------

    def attach(self, stream: Stream, channel: int | None = None) -> bool:
        """Play ``stream`` (its ``channel``, or the one heard before); ``False`` with :attr:`unavailable_reason`
        when no device can be opened now (the event says so too)."""
        self.detach()
        self.stream = stream
        if channel is not None:
            self.channel = channel
        self.channel = min(max(self.channel, 0), len(stream.labels) - 1)
        status = audio_status(self.settings.device)
        if not status.available:
            self._unavailable(status.reason)
            return False
        self.unavailable_reason = ""
        generation = self._generation
        settings = dataclasses.replace(self.settings)
        closing = list(self._closing)
        self.bus.post(Event(AUDIO_OPENING))
        opening = threading.Thread(
            target=self._open,
            args=(generation, stream, settings, self.channel, closing),
            name="audio-open",
            daemon=True,
        )
        self._closing = [t for t in self._closing if t.is_alive()] + [opening]  # quitting waits for it too
        opening.start()
        return True

    def _open(
        self, generation: int, stream: Stream, settings: AudioSettings, channel: int, closing: list[threading.Thread]
    ) -> None:
        for thread in closing:  # the stream before this one lets go of the device and of its ring reader
            thread.join(CLOSE_TIMEOUT_S)
        monitor = make_monitor(stream.ring, stream.sample_rate, settings, channel)
        try:
            monitor.start()
        except AudioUnavailable as exc:
            monitor.stop()
            self._failed(generation, str(exc))
            return
        except Exception as exc:  # any driver failure must reach the operator, not end the thread silently
            _log.exception("The audio output failed to open")
            monitor.stop()
            self._failed(generation, f"No sound: the audio output failed ({exc}).")
            return
        with self._lock:
            current = generation == self._generation
            if current:
                self.monitor = monitor
        if not current:
            monitor.stop()  # the stream changed while the device opened
            return
        monitor.set_channel(self.channel)
        _log.info(
            "Audio open: %s at %g Hz, blocks of %d, %.1f ms to the loudspeaker, buffer target %g ms%s",
            settings.device or "the default device",
            settings.sample_rate,
            settings.blocksize,
            monitor.output_delay_s * 1000,
            settings.target_buffer_ms,
            f" ({monitor.awake_refusal})" if monitor.awake_refusal else "",
        )
        self.bus.post(Event(AUDIO_STARTED, "", None, {"monitor": monitor}))

    def _failed(self, generation: int, reason: str) -> None:
        if generation == self._generation:
            self._unavailable(reason)

    def _unavailable(self, reason: str) -> None:
        self.unavailable_reason = reason
        _log.warning("%s", reason)
        self.bus.post(Event(AUDIO_UNAVAILABLE, reason))

    def detach(self) -> None:
        """Stop playing (the stream stopped or changed); the device closes on a worker thread."""
        with self._lock:
            self._generation += 1
            monitor, self.monitor = self.monitor, None
        if monitor is not None:
            self._close_in_background(monitor)

    def forget_stream(self) -> None:
        """The stream is gone for good (disconnected): stop, and do not reopen on new settings."""
        self.detach()
        self.stream = None

    def _close_in_background(self, monitor: Monitor) -> None:
        def close() -> None:
            stats = monitor.stats
            monitor.stop()
            _log.info(
                "Audio closed after %s: latency %.1f ms, %s, %d reported by the device",
                counted(monitor.blocks, "block"),
                stats.latency_ms,
                counted(stats.underruns, "underrun"),
                stats.device_underruns,
            )

        thread = threading.Thread(target=close, name="audio-close", daemon=True)
        self._closing = [t for t in self._closing if t.is_alive()] + [thread]
        thread.start()

    def wait_closed(self, timeout_s: float = CLOSE_TIMEOUT_S) -> None:
        """Wait for streams still opening or closing (when the app quits): an audio process cut off mid-stop
        leaves its shared memory behind for the resource tracker to complain about, and one still starting would
        look for a ring that is gone."""
        deadline = time.monotonic() + timeout_s
        for thread in self._closing:
            thread.join(max(0.0, deadline - time.monotonic()))

    # --- the operator's controls -----------------------------------------------------------------------

    def apply(self, settings: AudioSettings) -> None:
        """Volume, mute, squelch or band changed: the running stream takes them at once."""
        self.settings = settings
        if self.monitor is not None:
            self.monitor.apply(settings)

    def reopen(self, settings: AudioSettings) -> None:
        """New output settings (device, rate, buffer): reopen the device on the same stream."""
        self.settings = settings
        self._restarts = 0
        if self.stream is not None:
            self.attach(self.stream)

    def restart(self) -> None:
        """The operator's "Restart sound" after a loss."""
        self._restarts = 0
        if self.stream is not None:
            self.attach(self.stream)

    def select_channel(self, index: int) -> bool:
        """Hear channel ``index``; ``False`` if the stream has no such channel."""
        if self.stream is None or not 0 <= index < len(self.stream.labels):
            return False
        self.channel = index
        if self.monitor is not None:
            self.monitor.set_channel(index)
        return True

    # --- watching --------------------------------------------------------------------------------------

    def check(self) -> None:
        """Notice a stream that stopped on its own (its process was killed, the device vanished)."""
        monitor = self.monitor
        if monitor is None or monitor.stats.running:
            return
        self.monitor = None
        self._close_in_background(monitor)
        restarting = self._restarts < AUTOMATIC_RESTARTS and self.stream is not None
        reason = "The sound stopped: the audio process ended unexpectedly."
        _log.error("%s %s", reason, "Restarting it." if restarting else "Not restarting it again.")
        self.bus.post(Event(AUDIO_LOST, reason, None, {"restarting": restarting}))
        if restarting and self.stream is not None:
            self._restarts += 1
            self.attach(self.stream)
