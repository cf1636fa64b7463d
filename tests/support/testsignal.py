"""Test signals for the audio path, delivered by a real :class:`Source` paced by the wall clock.

Checking the sound needs signals whose truth is known (a 1 kHz tone of a given level, MUAPs in sub-threshold
noise) and a source clock that can run fast or slow on purpose, the way a real amplifier's crystal does. The
benchmark uses it too, as 16 channels at 20 kHz.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from emgscope.core.source import Source, StreamInfo

Generator = Callable[[int, int], np.ndarray]
"""``generate(first_index, n) -> (n_channels, n)`` µV."""


def tone(frequency_hz: float, amplitude_uv: float, sample_rate: float, n_channels: int = 1) -> Generator:
    """A sine on every channel, continuous across chunks (phase from the absolute sample index)."""

    def generate(first: int, n: int) -> np.ndarray:
        t = (first + np.arange(n)) / sample_rate
        return np.tile(amplitude_uv * np.sin(2 * np.pi * frequency_hz * t), (n_channels, 1))

    return generate


def muaps_in_noise(
    sample_rate: float, noise_uv: float, muap_uv: float, rate_hz: float, n_channels: int = 1, seed: int = 0
) -> Generator:
    """Gaussian noise of ``noise_uv`` RMS with a biphasic 4 ms MUAP of ``muap_uv`` peak every 1/``rate_hz`` s."""
    rng = np.random.default_rng(seed)
    period = round(sample_rate / rate_hz)
    width = max(4, round(0.004 * sample_rate))
    wave = np.sin(2 * np.pi * np.arange(width) / width) * np.hanning(width)
    shape = -muap_uv * wave / np.abs(wave).max()

    def generate(first: int, n: int) -> np.ndarray:
        out = rng.normal(0.0, noise_uv, (n_channels, n))
        phase = (first + np.arange(n)) % period
        inside = phase < width
        out[:, inside] += shape[phase[inside]]
        return out

    return generate


class PacedSource(Source):
    """Delivers ``generate``'s samples as fast as a clock of ``sample_rate × clock_ratio`` would.

    It reports the nominal ``sample_rate``: a ``clock_ratio`` of 1.005 is an amplifier whose crystal runs 0.5 %
    fast, which is the drift the audio path must absorb.
    """

    def __init__(
        self,
        generate: Generator,
        sample_rate: float,
        n_channels: int = 1,
        clock_ratio: float = 1.0,
        max_chunk_s: float = 0.05,
    ) -> None:
        self._generate = generate
        self.sample_rate = sample_rate
        self.n_channels = n_channels
        self.clock_ratio = clock_ratio
        self._max_chunk = max(1, round(max_chunk_s * sample_rate))
        self._start = 0.0
        self._sent = 0

    def open(self) -> StreamInfo:
        self._start = time.monotonic()
        self._sent = 0
        labels = tuple(f"Test {i + 1}" for i in range(self.n_channels))
        return StreamInfo(self.sample_rate, labels, "Audio test signal")

    def read(self) -> np.ndarray:
        due = int((time.monotonic() - self._start) * self.sample_rate * self.clock_ratio)
        n = min(due - self._sent, self._max_chunk)
        if n <= 0:
            return np.empty((self.n_channels, 0))
        chunk = self._generate(self._sent, n)
        self._sent += n
        return chunk

    def close(self) -> None:
        """Nothing to release."""
