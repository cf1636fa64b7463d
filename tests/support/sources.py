"""Sources with known signals for the tests.

``SineSource`` and ``SpikeTrainSource`` are real :class:`Source` s (a known signal paced by the clock) so amplitudes
and times can be checked in pixels. ``BlockingSource`` stands in for a device whose connect hangs for seconds (a
silent serial port), a fault that cannot be produced here without hardware: it is the one fake, and only its
``open()`` is fake.
"""

from __future__ import annotations

import threading
import time

import numpy as np

from emgscope.core.source import Source, StreamInfo


class SineSource(Source):
    """A ``amplitude`` µV, 50 Hz sine on every channel, delivered as the clock makes samples due."""

    silence_timeout_s = 0.5

    def __init__(self, rate: float = 20_000.0, channels: int = 2, amplitude: float = 200.0, stop_after: float = 0):
        self.rate = rate
        self.channels = channels
        self.amplitude = amplitude
        self.stop_after = stop_after
        """Seconds after which the 'device' goes silent (0 = never), as an unplugged amplifier does."""
        self._start = 0.0
        self._sent = 0

    def open(self) -> StreamInfo:
        self._start = time.monotonic()
        return StreamInfo(self.rate, tuple(f"Ch{i + 1}" for i in range(self.channels)), "Test sine")

    def read(self) -> np.ndarray:
        elapsed = time.monotonic() - self._start
        if self.stop_after:
            elapsed = min(elapsed, self.stop_after)
        due = int(elapsed * self.rate) - self._sent
        t = (self._sent + np.arange(max(0, due))) / self.rate
        self._sent += max(0, due)
        return np.tile(self.amplitude * np.sin(2 * np.pi * 50 * t), (self.channels, 1))

    def close(self) -> None:
        pass


class SpikeTrainSource(Source):
    """Negative triangular spikes ``width_ms`` wide, one every ``interval_s`` (the first half an interval in), their
    peaks cycling through ``peaks_uv``, on every channel, delivered as the clock makes samples due."""

    def __init__(
        self,
        peaks_uv: tuple[float, ...] = (-300.0, -400.0, -500.0, -600.0),
        interval_s: float = 0.05,
        rate: float = 20_000.0,
        channels: int = 1,
        width_ms: float = 1.0,
    ) -> None:
        self.peaks_uv = np.asarray(peaks_uv, dtype=np.float64)
        self.period = round(interval_s * rate)
        self.half = round(width_ms * rate / 2000.0)
        self.rate = rate
        self.channels = channels
        self._start = 0.0
        self._sent = 0

    def peak_at(self, spike: int) -> float:
        """The peak (µV) of spike number ``spike`` (0 is the first)."""
        return float(self.peaks_uv[spike % self.peaks_uv.size])

    def open(self) -> StreamInfo:
        self._start = time.monotonic()
        return StreamInfo(self.rate, tuple(f"Ch{i + 1}" for i in range(self.channels)), "Test spike train")

    def read(self) -> np.ndarray:
        due = max(0, int((time.monotonic() - self._start) * self.rate) - self._sent)
        index = self._sent + np.arange(due)
        self._sent += due
        spike, phase = np.divmod(index - self.period // 2 + self.half, self.period)
        shape = np.clip(1.0 - np.abs(phase - self.half) / self.half, 0.0, None)
        values = self.peaks_uv[spike % self.peaks_uv.size] * shape
        return np.tile(values, (self.channels, 1))

    def close(self) -> None:
        pass


class BlockingSource(SineSource):
    """A connect that hangs until released (fake: a silent serial device cannot be produced without hardware)."""

    def __init__(self) -> None:
        super().__init__()
        self.release = threading.Event()
        self.opened = threading.Event()
        """Set once ``open`` returned: a caller that waited for it cannot have returned before this is set."""
        self.closed = threading.Event()

    def open(self) -> StreamInfo:
        self.release.wait(10)
        info = super().open()
        self.opened.set()
        return info

    def close(self) -> None:
        self.closed.set()
