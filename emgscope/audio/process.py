"""The audio path in its own process, so the PortAudio callback never waits for the GUI's GIL.

Measured here (``emgscope bench``, 16 channels at 20 kHz drawn by the main window): the time from PortAudio
calling the callback to the Python code running in it is 0.17 ms at the 99th percentile with nothing else to
do, and 8 ms while the window draws, because Qt's painting and long numpy calls hold the GIL for several
milliseconds at a time (a shorter ``sys.setswitchinterval`` does not help: those sections never yield). A
stream with a 5 ms buffer then underruns. In a child process the callback has an interpreter to itself.

The child maps the filtered ring itself (the acquisition pump keeps it in shared memory, see
:meth:`~emgscope.core.ring.SampleRing.shared`), runs the same :class:`~emgscope.audio.monitor.AudioMonitor` on
it and writes its figures into a small shared array the parent reads; settings and channel changes go over a
pipe. Nothing in the GUI process stands between the ring and the sound card: a copying thread there would be
late whenever the GIL is busy, and that lateness would have to be buffered (measured: ~8 ms).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import asdict
from multiprocessing import shared_memory
from typing import Any

import numpy as np

from emgscope.audio.engine import AudioStats
from emgscope.audio.monitor import AudioUnavailable
from emgscope.core.child import STOP, ChildProcess, ChildStartError
from emgscope.core.realtime import AUDIO_PRIORITY
from emgscope.core.ring import SampleRing
from emgscope.core.settings import AudioSettings
from emgscope.core.shm import create_block

START_TIMEOUT_S = 15.0
STOP_WAIT_S = 5.0
STATS_INTERVAL_S = 0.05
_STAT_FIELDS = (
    "latency_ms",
    "underruns",
    "device_underruns",
    "resyncs",
    "output_delay_ms",
    "target_ms",
    "trim",
    "processors_awake",
    "running",
)


def _child(
    conn: Any, ring_shape: tuple[str, int, int], rate: float, settings: dict[str, Any], channel: int, stats_name: str
) -> None:
    """The child process: play one channel of the shared ring until told to stop, publishing the figures."""
    from emgscope.audio.monitor import AudioMonitor

    ring = SampleRing.attach(*ring_shape)
    stats_shm = shared_memory.SharedMemory(stats_name)
    stats = np.ndarray((len(_STAT_FIELDS) + 1,), dtype=np.float64, buffer=stats_shm.buf)
    monitor = AudioMonitor(ring, rate, AudioSettings(**settings), channel)
    try:
        monitor.start()
    except AudioUnavailable as exc:
        conn.send(("failed", str(exc)))
        return
    conn.send(("started", (monitor.output_delay_s, monitor.awake_refusal)))
    try:
        while True:
            if conn.poll(STATS_INTERVAL_S):
                message = conn.recv()
                if message == STOP:
                    engine = monitor.engine
                    conn.send((engine.latency_history[: engine.blocks], engine.callback_history[: engine.blocks]))
                    break
                command, value = message
                if command == "apply":
                    monitor.apply(AudioSettings(**value))
                elif command == "channel":
                    monitor.set_channel(value)
            current = monitor.stats
            stats[: len(_STAT_FIELDS)] = [float(getattr(current, name)) for name in _STAT_FIELDS]
            stats[-1] = monitor.engine.blocks
    finally:
        monitor.stop()  # the mappings go with the process; the parent owns and unlinks the memory


class AudioProcessMonitor:
    """Same interface as :class:`~emgscope.audio.monitor.AudioMonitor`, with the stream in a child process.

    ``ring`` must live in shared memory (``ring.shared_name``), as the pump's filtered ring does.
    """

    def __init__(self, ring: SampleRing, sample_rate: float, settings: AudioSettings, channel: int = 0) -> None:
        if not ring.shared_name:
            raise ValueError("the audio process needs a ring in shared memory (SampleRing.shared)")
        if not 0 <= channel < ring.n_channels:
            raise ValueError(f"channel {channel} does not exist (the source has {ring.n_channels})")
        self.settings = settings
        self.sample_rate = sample_rate
        self.channel = channel
        self._source = ring
        self._stats_shm = create_block(8 * (len(_STAT_FIELDS) + 1))
        self._stats = np.ndarray((len(_STAT_FIELDS) + 1,), dtype=np.float64, buffer=self._stats_shm.buf)
        self._stats[:] = math.nan
        self._child: ChildProcess | None = None
        self.output_delay_s = 0.0
        self.awake_refusal = ""
        """Why the child could not keep the processors awake ('' if it did, or was not asked)."""
        self._released = False
        self._final_stats = AudioStats()
        self.latency_history = np.empty(0)
        """Every block's latency (ms), received from the child when it stops."""
        self.callback_history = np.empty(0)

    def start(self) -> None:
        """Start the child and its stream (blocks up to a few seconds: call it off the GUI thread)."""
        ring = self._source
        child = ChildProcess(
            "emgscope-audio",
            _child,
            (
                (ring.shared_name, ring.n_channels, ring.capacity),
                self.sample_rate,
                asdict(self.settings),
                self.channel,
                self._stats_shm.name,
            ),
            AUDIO_PRIORITY,
        )
        self._child = child
        try:
            child.start()
        except ChildStartError as exc:
            self.stop()
            raise AudioUnavailable(f"No sound: {exc}.") from exc
        if not child.conn.poll(START_TIMEOUT_S):
            self.stop()
            raise AudioUnavailable("No sound: the audio process did not start in time.")
        status, value = child.conn.recv()
        if status == "failed":
            self.stop()
            raise AudioUnavailable(value)
        self.output_delay_s, self.awake_refusal = float(value[0]), value[1]

    @property
    def stats(self) -> AudioStats:
        if self._released:
            return self._final_stats
        values = dict(zip(_STAT_FIELDS, self._stats[: len(_STAT_FIELDS)], strict=True))
        return AudioStats(
            latency_ms=float(values["latency_ms"]),
            underruns=int(np.nan_to_num(values["underruns"])),
            device_underruns=int(np.nan_to_num(values["device_underruns"])),
            resyncs=int(np.nan_to_num(values["resyncs"])),
            output_delay_ms=float(values["output_delay_ms"]),
            target_ms=float(values["target_ms"]),
            trim=float(np.nan_to_num(values["trim"], nan=1.0)),
            processors_awake=bool(np.nan_to_num(values["processors_awake"])),
            running=self._child is not None and self._child.alive,
        )

    @property
    def blocks(self) -> int:
        """Blocks played so far (as last published by the child)."""
        if self._released:
            return self.latency_history.size
        return int(np.nan_to_num(self._stats[-1]))

    def set_channel(self, channel: int) -> None:
        if not 0 <= channel < self._source.n_channels:
            raise ValueError(f"channel {channel} does not exist (the source has {self._source.n_channels})")
        self.channel = channel
        self._send(("channel", channel))

    def apply(self, settings: AudioSettings) -> None:
        self.settings = settings
        self._send(("apply", asdict(settings)))

    def _send(self, message: tuple[str, Any]) -> None:
        if self._child is not None:
            self._child.send(message)  # a child that ended has nothing left to change

    def stop(self) -> None:
        """Stop the child and release the figures' shared memory (safe to call twice)."""
        child, self._child = self._child, None
        if child is not None:
            if child.send(STOP):
                try:
                    if child.conn.poll(STOP_WAIT_S):
                        self.latency_history, self.callback_history = child.conn.recv()
                except (EOFError, OSError):
                    pass  # the child already ended
            child.stop(STOP_WAIT_S)
        if self._released:
            return
        self._final_stats = dataclasses.replace(self.stats, running=False)
        self._released = True
        del self._stats  # the view must go before the mapping can be closed
        self._stats_shm.close()
        self._stats_shm.unlink()
