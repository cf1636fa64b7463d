"""The audio path in its own process, so the PortAudio callback never waits for the GUI's GIL.

Measured here (``emgscope bench``, 16 channels at 20 kHz drawn by the main window): the time from PortAudio
calling the callback to the Python code running in it is 0.17 ms at the 99th percentile with nothing else to
do, and 8 ms while the window draws, because Qt's painting and long numpy calls hold the GIL for several
milliseconds at a time (a shorter ``sys.setswitchinterval`` does not help: those sections never yield). A
stream with a 5 ms buffer then underruns. In a child process the callback has an interpreter to itself.

The parent runs a feeder thread that copies the selected channel from the filtered ring into a ring in shared
memory; the child maps that ring, runs the same :class:`~emgscope.audio.monitor.AudioMonitor` on it and writes
its figures into a small shared array the parent reads. Settings and channel changes go over a pipe. The feeder
may be late when the GIL is busy, which the child's buffer (``target_buffer_ms``) absorbs; only the callback
has a hard deadline, and it no longer shares the GIL.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import multiprocessing as mp
import os
import threading
import time
from dataclasses import asdict
from multiprocessing import shared_memory
from typing import Any

import numpy as np

from emgscope.audio.engine import AudioStats
from emgscope.audio.monitor import AudioUnavailable
from emgscope.audio.settings import AudioSettings
from emgscope.core.ring import SampleRing

FEED_INTERVAL_S = 0.001
SHARED_SECONDS = 2.0
"""Capacity of the shared ring: far more than the audio buffer, so a late child never reads overwritten data."""
START_TIMEOUT_S = 15.0
STATS_INTERVAL_S = 0.05
REALTIME_PRIORITY = 20
"""SCHED_FIFO priority for the audio process: above ordinary work, below the kernel's own interrupt threads."""
_STAT_FIELDS = ("latency_ms", "underruns", "device_underruns", "resyncs", "output_delay_ms", "trim", "running")
_INDEX_SLOTS = 2
"""The shared ring's write index and claimed index, published as int64 beside the samples."""


class SharedSampleRing(SampleRing):
    """A one-writer :class:`SampleRing` whose samples and indices live in shared memory.

    The writer (the parent's feeder) and the reader (the child's audio engine) are in different processes;
    the ring's seqlock-style protocol is unchanged: the data is stored before the index that publishes it,
    and x86-64 and ARM64 keep stores of one thread in order as seen through the same shared page.
    """

    def __init__(self, shm: shared_memory.SharedMemory, n_channels: int, capacity: int, create: bool) -> None:
        self._shm = shm
        self._indices = np.ndarray((_INDEX_SLOTS,), dtype=np.int64, buffer=shm.buf)
        if create:
            super().__init__(n_channels, capacity)
        else:
            self.n_channels, self.capacity = n_channels, capacity
            self._readers = {}
            self._readers_lock = threading.Lock()
        self._data = np.ndarray((n_channels, capacity), dtype=np.float32, buffer=shm.buf, offset=8 * _INDEX_SLOTS)

    @staticmethod
    def nbytes(n_channels: int, capacity: int) -> int:
        return 8 * _INDEX_SLOTS + 4 * n_channels * capacity

    @property  # type: ignore[override]
    def _write_index(self) -> int:
        return int(self._indices[0])

    @_write_index.setter
    def _write_index(self, value: int) -> None:
        self._indices[0] = value

    @property  # type: ignore[override]
    def _claimed_index(self) -> int:
        return int(self._indices[1])

    @_claimed_index.setter
    def _claimed_index(self, value: int) -> None:
        self._indices[1] = value


def _raise_priority() -> None:
    """Ask for real-time scheduling (the stream's thread inherits it): allowed for root or with an rtprio limit.

    On a busy machine the sound card's deadline is a few milliseconds; an ordinary time-sliced process can be
    kept off the CPU longer than that by unrelated work. Refused quietly where not permitted.
    """
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(REALTIME_PRIORITY))
    except (AttributeError, OSError):
        with contextlib.suppress(OSError):
            os.nice(-10)


def _child(shm_name: str, capacity: int, rate: float, settings: dict[str, Any], stats_name: str, conn: Any) -> None:
    """The child process: play the shared ring until told to stop, publishing the figures."""
    from emgscope.audio.monitor import AudioMonitor

    shm = shared_memory.SharedMemory(shm_name)
    stats_shm = shared_memory.SharedMemory(stats_name)
    _raise_priority()
    stats = np.ndarray((len(_STAT_FIELDS) + 1,), dtype=np.float64, buffer=stats_shm.buf)
    ring = SharedSampleRing(shm, 1, capacity, create=False)
    monitor = AudioMonitor(ring, rate, AudioSettings(**settings))
    try:
        monitor.start()
    except AudioUnavailable as exc:
        conn.send(("failed", str(exc)))
        return
    conn.send(("started", monitor.output_delay_s))
    try:
        while True:
            if conn.poll(STATS_INTERVAL_S):
                command, value = conn.recv()
                if command == "stop":
                    engine = monitor.engine
                    conn.send((engine.latency_history[: engine.blocks], engine.callback_history[: engine.blocks]))
                    break
                if command == "apply":
                    monitor.apply(AudioSettings(**value))
            current = monitor.stats
            stats[: len(_STAT_FIELDS)] = [float(getattr(current, name)) for name in _STAT_FIELDS]
            stats[-1] = monitor.engine.blocks
    finally:
        monitor.stop()  # the mappings go with the process; the parent owns and unlinks the memory


class AudioProcessMonitor:
    """Same interface as :class:`~emgscope.audio.monitor.AudioMonitor`, with the stream in a child process."""

    def __init__(self, ring: SampleRing, sample_rate: float, settings: AudioSettings, channel: int = 0) -> None:
        if not 0 <= channel < ring.n_channels:
            raise ValueError(f"channel {channel} does not exist (the source has {ring.n_channels})")
        self.settings = settings
        self.sample_rate = sample_rate
        self.channel = channel
        self._source = ring
        self._reader = ring.reader("audio")
        capacity = max(1024, math.ceil(sample_rate * SHARED_SECONDS))
        self._shm = shared_memory.SharedMemory(create=True, size=SharedSampleRing.nbytes(1, capacity))
        self._stats_shm = shared_memory.SharedMemory(create=True, size=8 * (len(_STAT_FIELDS) + 1))
        self._stats = np.ndarray((len(_STAT_FIELDS) + 1,), dtype=np.float64, buffer=self._stats_shm.buf)
        self._stats[:] = math.nan
        self.ring = SharedSampleRing(self._shm, 1, capacity, create=True)
        self._scratch = np.zeros((ring.n_channels, capacity // 4), dtype=np.float32)
        self._conn: Any = None
        self._process: Any = None
        self._stop = threading.Event()
        self._feeder = threading.Thread(target=self._feed, name="audio-feeder", daemon=True)
        self.feeder_lag_s = 0.0
        """Mean delay the feeder adds between the filtered ring and the shared ring (half its polling period,
        more when the GIL is busy): part of the latency shown."""
        self.output_delay_s = 0.0
        self._released = False
        self._final_stats = AudioStats()
        self.latency_history = np.empty(0)
        """Every block's latency (ms, feeder lag included), received from the child when it stops."""
        self.callback_history = np.empty(0)

    def start(self) -> None:
        """Start the child and its stream (blocks up to a few seconds: call it off the GUI thread)."""
        context = mp.get_context("spawn")
        parent_conn, child_conn = context.Pipe()
        self._conn = parent_conn
        self._process = context.Process(
            target=_child,
            args=(
                self._shm.name,
                self.ring.capacity,
                self.sample_rate,
                asdict(self.settings),
                self._stats_shm.name,
                child_conn,
            ),
            name="emgscope-audio",
            daemon=True,
        )
        try:
            self._process.start()
        except (OSError, RuntimeError) as exc:  # e.g. a frozen app whose entry point lacks freeze_support()
            self._process = None
            self.stop()
            raise AudioUnavailable(f"No sound: the audio process could not start ({exc}).") from exc
        self._feeder.start()
        if not parent_conn.poll(START_TIMEOUT_S):
            self.stop()
            raise AudioUnavailable("No sound: the audio process did not start in time.")
        status, value = parent_conn.recv()
        if status == "failed":
            self.stop()
            raise AudioUnavailable(value)
        self.output_delay_s = float(value)

    def _feed(self) -> None:
        lag_sum, lag_n = 0.0, 0
        last = time.monotonic()
        while not self._stop.is_set():
            data = self._reader.read(self._scratch.shape[1], out=self._scratch)
            now = time.monotonic()
            if data.shape[1]:
                self.ring.write(data[self.channel : self.channel + 1])
                lag_sum += (now - last) / 2
                lag_n += 1
                if lag_n == 200:
                    self.feeder_lag_s, lag_sum, lag_n = lag_sum / lag_n, 0.0, 0
            last = now
            time.sleep(FEED_INTERVAL_S)

    @property
    def stats(self) -> AudioStats:
        if self._released:
            return self._final_stats
        values = dict(zip(_STAT_FIELDS, self._stats[: len(_STAT_FIELDS)], strict=True))
        return AudioStats(
            latency_ms=float(values["latency_ms"]) + self.feeder_lag_s * 1000,
            underruns=int(np.nan_to_num(values["underruns"])),
            device_underruns=int(np.nan_to_num(values["device_underruns"])),
            resyncs=int(np.nan_to_num(values["resyncs"])),
            output_delay_ms=float(values["output_delay_ms"]),
            trim=float(np.nan_to_num(values["trim"], nan=1.0)),
            running=self._process is not None and self._process.is_alive(),
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

    def apply(self, settings: AudioSettings) -> None:
        self.settings = settings
        if self._conn is not None:
            self._conn.send(("apply", asdict(settings)))

    def stop(self) -> None:
        """Stop the child and the feeder and release the shared memory (safe to call twice)."""
        self._stop.set()
        if self._conn is not None:
            try:
                self._conn.send(("stop", None))
                if self._conn.poll(5):
                    latency, callbacks = self._conn.recv()
                    self.latency_history = latency + self.feeder_lag_s * 1000
                    self.callback_history = callbacks
            except (BrokenPipeError, EOFError, OSError):
                pass  # the child already ended
            self._conn = None
        if self._process is not None:
            self._process.join(5)
            if self._process.is_alive():
                self._process.kill()
                self._process.join()
            self._process = None
        if self._feeder.is_alive():
            self._feeder.join(1)
        self._source.remove_reader("audio")
        if self._released:
            return
        self._final_stats = dataclasses.replace(self.stats, running=False)
        self._released = True
        del self.ring, self._stats  # the views must go before the mapping can be closed
        for shm in (self._shm, self._stats_shm):
            shm.close()
            shm.unlink()
