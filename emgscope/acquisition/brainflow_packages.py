"""Samples a BrainFlow board lost on the way, counted from the jumps in its package numbers.

Every row BrainFlow delivers carries the board's package (sample) number. Where that counter steps by one per
sample and wraps at a known value, a larger step means rows that never arrived: radio packets dropped, a serial
buffer that overflowed while the computer was busy. A counter only tells the loss modulo its wrap, so the row
timestamps (when BrainFlow received each row) say how many whole wraps passed as well.

Only boards whose counter is known to work that way are counted (:data:`PACKAGE_WRAP`). For the others the step
says nothing reliable (the Ganglion's compressed packets carry two samples under one number, the Cyton Daisy
merges two packets into one sample, a playback file jumps where it loops), and nothing is counted for them.
"""

from __future__ import annotations

import numpy as np

PACKAGE_WRAP: dict[str, int] = {
    "SYNTHETIC_BOARD": 256,
    "CYTON_BOARD": 256,
}
"""Boards whose package number counts samples one by one, and the value it wraps at. The OpenBCI Cyton's data
format gives byte 2 of each packet as a sample number 0–255 incremented once per sample (OpenBCI documentation,
"Cyton Data Format"); BrainFlow's synthetic board counts the same way (0–255 and again, checked on
``../shared/data/brainflow/test_data.csv`` and live)."""


class PackageCounter:
    """Counts the samples missing between the rows of one board's stream, chunk after chunk."""

    def __init__(self, wrap: int, sample_rate: float) -> None:
        self.wrap = wrap
        self.sample_rate = sample_rate
        self._last: tuple[float, float] | None = None
        """The previous chunk's last package number and timestamp."""

    def missing(self, numbers: np.ndarray, timestamps: np.ndarray) -> int:
        """Samples lost before and within this chunk (package numbers and timestamps of its rows, in order)."""
        if numbers.size == 0:
            return 0
        if self._last is not None:
            numbers = np.concatenate(([self._last[0]], numbers))
            timestamps = np.concatenate(([self._last[1]], timestamps))
        self._last = (float(numbers[-1]), float(timestamps[-1]))
        steps = np.mod(np.diff(numbers), self.wrap)
        jumps = np.flatnonzero(steps != 1)
        if jumps.size == 0:
            return 0
        steps = steps[jumps]
        elapsed = np.nan_to_num((timestamps[jumps + 1] - timestamps[jumps]) * self.sample_rate)
        wraps = np.maximum(0.0, np.rint((elapsed - steps) / self.wrap))
        return int(np.maximum(0.0, steps - 1 + wraps * self.wrap).sum())
