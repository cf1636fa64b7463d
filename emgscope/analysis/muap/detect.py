"""Finding the discharges in a segment: a threshold on the background's spread, one event per spike.

The background is estimated robustly, as the median absolute deviation over 0.6745 (the SD of Gaussian noise;
Quiroga et al. 2004 use it for the same job): at weak effort the potentials fill a small part of the segment, so
the median sees the baseline between them. A discharge is detected where the signal leaves ±``threshold``;
deflections closer together than :data:`GROUP_GAP_MS` belong to one spike, and the event is placed on its largest
deflection (EMGlab aligns on the spike the same way, QEMG §2). A polyphasic potential whose components lie further
apart gives one event per component; the sorter recognises those as one unit (:mod:`.sort`).
"""

from __future__ import annotations

import numpy as np

MAD_TO_SD = 0.6745
"""The median absolute deviation of Gaussian noise is 0.6745 SD."""
DETECT_THRESHOLD_SD = 5.0
"""Detection threshold in background SDs: far enough above the noise that none of it is detected (a Gaussian
sample beyond 5 SD comes once in 1.7 million), low enough for the smallest near-field MUPs a needle records."""
GROUP_GAP_MS = 0.5
"""Deflections beyond the threshold closer than this are one spike (the phases of one fibre group's spike)."""


def background_sd(x: np.ndarray) -> float:
    """The spread of the background (µV), from the median absolute deviation."""
    x = np.asarray(x, dtype=np.float64)
    return float(np.median(np.abs(x - np.median(x)))) / MAD_TO_SD


def detect_spikes(x: np.ndarray, rate: float, threshold_uv: float) -> np.ndarray:
    """Sample index of the largest deflection of each spike beyond ±``threshold_uv``, in time order."""
    beyond = np.flatnonzero(np.abs(x) > threshold_uv)
    if beyond.size == 0:
        return np.empty(0, np.int64)
    gap = max(1, round(GROUP_GAP_MS * rate / 1000.0))
    starts = np.flatnonzero(np.diff(beyond, prepend=-gap - 1) > gap)
    ends = np.append(starts[1:], beyond.size)
    size = np.abs(x[beyond])
    return np.array(
        [int(beyond[a + np.argmax(size[a:b])]) for a, b in zip(starts.tolist(), ends.tolist(), strict=True)],
        dtype=np.int64,
    )
