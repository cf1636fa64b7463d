"""A pytest plugin that gives tests a real audio device with no sound card: a PulseAudio null sink.

The session fixture ``null_sink`` starts :class:`~emgscope.bench.nullsink.PulseNullSink` (a private PulseAudio
daemon with a null sink, see that module) and makes PortAudio see it; what emgscope plays is captured from the
sink's monitor with ``parec``. Everything is stopped when the session ends.

Tests skip only when the PortAudio library itself is absent; a machine with PortAudio but without PulseAudio is
a broken test set-up and fails with the packages to install (DESIGN §5).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import pytest

from emgscope.bench.nullsink import RATE, SINK, NullSinkError, PulseNullSink
from support.waiting import wait_until

FLOWING_S = 0.3
"""A new stream on a fresh null sink may stall for up to two seconds; after this much sound it flows."""


@dataclass
class NullSink:
    """The running sink: the PortAudio device that reaches it and a way to record what it played."""

    device: str
    server: PulseNullSink

    def record(self) -> Recorder:
        return Recorder(self.server)

    def wait_until_flowing(self, blocks: Callable[[], int], block_frames: int) -> None:
        """Wait until a stream's callback has produced :data:`FLOWING_S` of sound (``blocks`` counts them)."""
        wait_until(lambda: blocks() * block_frames >= FLOWING_S * RATE, 10.0, "the audio stream to start flowing")


class Recorder:
    """Captures the sink's monitor (mono float32 at 48 kHz): ``with sink.record() as rec: ...; rec.samples``."""

    def __init__(self, server: PulseNullSink) -> None:
        self._server = server
        self._path = server.runtime_dir / f"capture-{time.monotonic_ns()}.raw"
        self._process: subprocess.Popen[bytes] | None = None
        self.samples = np.empty(0, dtype=np.float32)

    def __enter__(self) -> Recorder:
        self._file = self._path.open("wb")
        command = ["parec", "-d", f"{SINK}.monitor", f"--rate={RATE}", "--channels=1", "--format=float32le"]
        self._process = subprocess.Popen(command, stdout=self._file, env=self._server.env)
        flowing = FLOWING_S * RATE * 4  # float32 mono
        wait_until(lambda: self._path.stat().st_size >= flowing, 10.0, "the sink's monitor to deliver sound")
        return self

    def __exit__(self, *exc_info: object) -> None:
        assert self._process is not None
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(5)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._file.close()
        data = self._path.read_bytes()
        self.samples = np.frombuffer(data[: len(data) // 4 * 4], dtype="<f4").copy()
        self._path.unlink()


@pytest.fixture(scope="session")
def null_sink() -> Iterator[NullSink]:
    """A real PortAudio output device backed by a PulseAudio null sink, for the whole test session."""
    from emgscope.audio import monitor

    if monitor.sd is None:
        pytest.skip(f"PortAudio library not installed: {monitor.audio_status().reason}")
    server = PulseNullSink()
    try:
        server.start()
    except NullSinkError as exc:
        pytest.fail(f"the audio tests need a PulseAudio null sink: {exc}")
    try:
        monitor.rescan_devices()
        names = monitor.output_devices()
        device = "pulse" if "pulse" in names else "default"
        if device not in names:
            pytest.fail(f"PortAudio shows no 'pulse' or 'default' device ({names}): apt install libasound2-plugins")
        yield NullSink(device, server)
    finally:
        server.stop()
        monitor.rescan_devices()
