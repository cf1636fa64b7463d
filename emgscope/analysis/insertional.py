"""Insertional activity: how long the burst of discharges a needle movement provokes goes on (SIMULATION_PARAMETERS
§2, QEMG §8: normal, increased or decreased).

A movement of the needle injures fibres for a moment, and they discharge: a burst of spikes and positive waves that
normally stops when the needle stops. The burst is found in the signal's level (RMS over short windows) against
the level the same stretch settles to (which, in a denervated muscle or at the endplate, is full of discharges that
go on after the burst): it begins where the level first rises above the background's and ends at the first
:data:`QUIET_MS` back at it. Its length is judged against the
textbook limit; every movement of a muscle (the insertion step and each new site) is measured, and the muscle
takes the median.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from emgscope.analysis.muap.measure import quiet_run_lengths
from emgscope.analysis.spontaneous.analyse import quiet_background_sd

NORMAL_MAX_MS = 300.0
"""A normal burst is over within about 300 ms (textbook value [T], SIMULATION_PARAMETERS §2; Aminoff gives "2-3 s
or less" [V]: the shorter limit is used, so a burst that outlasts it is called increased, i.e. prolonged)."""
DECREASED_MAX_MS = 50.0
"""A burst over within 50 ms is called decreased (our bound: "reduced" insertional activity, in fibrotic or fatty
muscle, has no published duration)."""
DECREASED_MAX_UV = 100.0
"""... as is one whose largest discharge stays under 100 µV (fibrillation-sized: the burst's own potentials are
spikes and positive waves of up to several hundred µV)."""
QUIET_MS = 100.0
"""The burst has ended at the first stretch this long whose signal is back at the background's level."""
WINDOW_MS = 20.0
STEP_MS = 5.0
"""The signal's level is its RMS over 20 ms windows, every 5 ms."""
LEVEL_FACTOR = 1.5
"""Back at the background's level: within 1.5 times its median window RMS (a window of background alone exceeds
that now and then, a stretch of 100 ms hardly ever)."""
LEVEL_NOISE_SD = 3.0
"""... or within 3 background SDs where the background is no more than noise."""
BACKGROUND_FROM = 0.5
"""The background's level is taken over the second half of the stretch measured, after any normal or increased
burst."""
SEARCH_S = 1.0
"""The burst begins within this long of the movement (the needle is moved at the step's start)."""
MEASURED_S = 6.0
"""At most this much after a movement is measured (a rest step is longer; an increased burst is over in 2-3 s)."""


@dataclass(frozen=True)
class Burst:
    """One needle movement's insertional activity."""

    onset_index: int
    """Absolute sample where the burst began."""
    duration_ms: float
    peak_uv: float
    """Largest peak to peak (1 ms around any sample) within the burst."""

    @property
    def grade(self) -> str:
        return grade_of(self.duration_ms, self.peak_uv)


def grade_of(duration_ms: float, peak_uv: float) -> str:
    """``increased``, ``decreased`` or ``normal`` (see the module's constants)."""
    if duration_ms > NORMAL_MAX_MS:
        return "increased"
    if duration_ms < DECREASED_MAX_MS or peak_uv < DECREASED_MAX_UV:
        return "decreased"
    return "normal"


def measure_burst(filtered_uv: np.ndarray, rate: float, start_index: int = 0) -> Burst | None:
    """The burst after a needle movement at the start of ``filtered_uv`` (one channel, µV, filtered as on screen),
    or None when the signal never rose above its background within :data:`SEARCH_S`."""
    x = np.asarray(filtered_uv, np.float64)[: round(MEASURED_S * rate)]
    window, step = round(WINDOW_MS * rate / 1000.0), max(1, round(STEP_MS * rate / 1000.0))
    if x.size < 4 * window:
        return None
    power = np.convolve(x * x, np.ones(window) / window, mode="valid")[::step]
    level = np.sqrt(power)
    background = float(np.median(level[round(BACKGROUND_FROM * level.size) :]))
    threshold = max(LEVEL_FACTOR * background, LEVEL_NOISE_SD * quiet_background_sd(x, rate))
    above = level > threshold
    search = round(SEARCH_S * 1000.0 / STEP_MS)
    loud = np.flatnonzero(above[:search])
    if not loud.size:
        return None
    first = int(loud[0])
    quiet = max(1, round(QUIET_MS / STEP_MS))
    ending = quiet_run_lengths(~above)
    settled = np.flatnonzero((ending >= quiet) & (np.arange(above.size) > first))
    last = int(settled[0]) - quiet if settled.size else above.size - 1
    a, b = first * step, last * step + window
    half = round(rate / 1000.0)
    body = x[max(0, a - half) : b + half]
    peak = float(np.max(np.abs(body - np.median(body)))) * 2.0 if body.size else 0.0
    return Burst(start_index + a, 1000.0 * (b - a) / rate, peak)


def muscle_insertional(bursts: Sequence[Burst | None]) -> str | None:
    """A muscle's insertional activity from its movements' bursts: the grade of the median burst; a movement with
    no burst at all counts as a decreased one; None when no movement was examined."""
    if not bursts:
        return None
    durations = sorted(b.duration_ms if b is not None else 0.0 for b in bursts)
    peaks = sorted(b.peak_uv if b is not None else 0.0 for b in bursts)
    mid = len(durations) // 2
    return grade_of(durations[mid], peaks[mid])
