"""Finding the discharges in a segment: spikes that stand out of the background in the spike band.

A needle records, besides the few units near its tip, the potentials of many distant ones: the tissue low-passes
them with distance, so they arrive small and blunt, and at all but the weakest effort they fill the clinical band's
baseline (on the simulated patient at 10 % effort its spread is 120 µV, the size of a near unit's MUP). What sets a
near-field MUP apart is its spike, whose energy lies at 1-2.4 kHz (the -3 dB points of a single fibre's potential,
SIMULATION_PARAMETERS §1; the near-field criterion, rise time ≤ 0.5 ms, says the same). So spikes are looked for in
the *spike band*, the signal high-passed at :data:`SPIKE_BAND_HZ`, where the blunt background is a few µV.

A source too slow to carry the whole needle band (:data:`~emgscope.analysis.muap.analyse.FULL_PRECISION_RATE_HZ`;
PhysioNet emgdb's 4 kHz) is searched in the clinical band instead, above the spread of its activity: it holds the
spike band's lower half only, where a distant unit's potential still carries energy, and its discharges are sorted
with a tolerance wide enough for their aliased shapes (:data:`~emgscope.analysis.muap.cluster.MATCH_RELATIVE_ALIASED`)
that the small potentials of several distant units would pass for one unit (on emgdb's healthy record, a class
firing at 24 Hz where every unit fires 9-11 Hz). Only the potentials that stand out of the activity are sorted
there, the units a clinician picks out of such a trace.

The background is estimated robustly, as the median absolute deviation over 0.6745 (the SD of Gaussian noise;
Quiroga et al. 2004 use it for the same job). A discharge is detected where the spike band's magnitude peaks above
:data:`DETECT_THRESHOLD_SD` times it, and is the largest within ±:data:`GROUP_GAP_MS` (EMGlab aligns on the spike
the same way, QEMG §2). A polyphasic potential whose components lie further apart gives one event per component;
the sorter recognises those as one unit (:mod:`.sort`).
"""

from __future__ import annotations

import numpy as np
from scipy import signal
from scipy.ndimage import maximum_filter1d

MAD_TO_SD = 0.6745
"""The median absolute deviation of Gaussian noise is 0.6745 SD."""
DETECT_THRESHOLD_SD = 5.0
"""Detection threshold in background SDs of the spike band: far enough above the noise that none of it is detected
(a Gaussian sample beyond 5 SD comes once in 1.7 million), low enough for the smallest near-field MUPs a needle
records."""
GROUP_GAP_MS = 0.5
"""One event per spike: a peak of the spike band counts only when it is the largest within this on either side
(the phases of one fibre group's spike)."""
SPIKE_BAND_HZ = 500.0
"""The spike band starts here: an octave below the lower -3 dB point of a single fibre's spectrum (0.98 kHz,
SIMULATION_PARAMETERS §1), so a spike keeps its shape, while a distant unit's blunt potential, whose energy lies
below a few hundred Hz, is mostly taken away."""
SPIKE_BAND_ORDER = 2
"""Second order, run forwards and backwards (no lag: an event sits on its spike)."""


def background_sd(x: np.ndarray) -> float:
    """The spread of the background (µV), from the median absolute deviation."""
    x = np.asarray(x, dtype=np.float64)
    return float(np.median(np.abs(x - np.median(x)))) / MAD_TO_SD


def spike_band(x: np.ndarray, rate: float) -> np.ndarray:
    """``x`` high-passed at :data:`SPIKE_BAND_HZ` with no lag."""
    sos = signal.butter(SPIKE_BAND_ORDER, SPIKE_BAND_HZ, btype="highpass", fs=rate, output="sos")
    return signal.sosfiltfilt(sos, np.asarray(x, dtype=np.float64))


def detect_spikes(band: np.ndarray, rate: float, threshold_uv: float) -> np.ndarray:
    """Sample index of each spike of the spike band beyond ±``threshold_uv`` (its largest deflection), in time
    order."""
    size = np.abs(np.asarray(band, dtype=np.float64))
    half = max(1, round(GROUP_GAP_MS * rate / 1000.0))
    top = maximum_filter1d(size, 2 * half + 1, mode="constant")
    peaks = np.flatnonzero((size > threshold_uv) & (size == top))
    if peaks.size:
        # A flat top (two equal samples) is one spike.
        peaks = peaks[np.concatenate(([True], np.diff(peaks) > half))]
    return peaks.astype(np.int64)
