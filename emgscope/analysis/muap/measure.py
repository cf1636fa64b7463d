"""What a clinician measures on one motor unit potential (MUP): QEMG §3, one rule per named constant.

A template is the averaged potential of one unit in µV, sampled at ``rate``. Its onset and end markers are sample
indices into it; every measurement is taken between them, so moving a marker (the clinician's edit) and measuring
again is all an edit needs.

Rules, with their sources (QEMG §3):

* **Onset and end**: Pattichis et al., IEEE TBME 1995 [V2]: a 3 ms window slides out from the main peak; the onset
  is where the signal to the window's left has stayed within ±40 µV of the baseline for 3 ms, the end the mirror
  image. The baseline is the mean of the 3 ms that start 6 ms before the onset; since the onset depends on the
  baseline, a first pass uses the template's median and the second pass the baseline so found. The onset marker
  sits on the first sample outside the band, the end marker on the last; the duration is the time between them.
* **Amplitude**: peak to peak between the markers (µV).
* **Phases**: baseline crossings, counting only excursions beyond ±25 µV, plus one (Pattichis [V2]).
* **Turns**: changes of direction whose peak stands at least 25 µV from the turns (or the baseline) on either side
  (Pattichis [V2]; some systems use 50 µV, :data:`TURN_LEVEL_UV` is the one place to change it).
* **Area**: the rectified signal integrated over the duration (µV·ms); **thickness** area / amplitude (ms); **size
  index** 2·log10(amplitude in mV) + thickness (Sonoo & Stålberg 1993 [V]; the units are [T]).
* **Rise time**: from the peak before the main spike to the main spike (SIMULATION_PARAMETERS §1: "from the
  positive peak to the main negative peak"); over 0.5 ms the potential is far-field. The main spike is the
  largest deflection: when it is positive (leads reversed, or a record stored negative-up) the rule is mirrored.

The amplitude and the rise time look at the quiet stretches on either side of the markers too (the peaks are
always inside the duration for a potential whose peaks leave the band; for a small or far-field potential whose
smaller peak never leaves it, they are beside it). A potential that never leaves the ±40 µV band has no duration
by this rule: both markers fall on its main peak.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

ONSET_WINDOW_MS = 3.0
"""Length of the quiet stretch that marks the onset and the end (Pattichis et al. 1995, QEMG §3)."""
ONSET_BAND_UV = 40.0
"""Half-width of the quiet band around the baseline (Pattichis et al. 1995, QEMG §3)."""
BASELINE_LEAD_MS = 6.0
"""The baseline is the mean of the ONSET_WINDOW_MS that start this long before the onset (QEMG §3)."""
PHASE_LEVEL_UV = 25.0
"""A baseline crossing counts as a phase only when the signal goes beyond ±25 µV on both sides (QEMG §3)."""
TURN_LEVEL_UV = 25.0
"""A turn must stand this far from its neighbouring turns (QEMG §3; some systems use 50 µV)."""
POLYPHASIC_PHASES = 5
"""A MUP with this many phases or more is polyphasic (QEMG §3, SIMULATION_PARAMETERS §1)."""
NEAR_FIELD_RISE_MS = 0.5
"""A rise time above this marks the potential as far-field, recorded from outside the unit's territory
(SIMULATION_PARAMETERS §1)."""


@dataclass(frozen=True)
class Markers:
    """Onset and end as sample indices into a template, and the baseline they were found against."""

    onset: int
    end: int
    baseline_uv: float
    found: bool = True
    """False when the template ends before a quiet stretch was found on one side (the marker is at its edge)."""


@dataclass(frozen=True)
class MupMeasures:
    """The QEMG §3 measurements of one MUP."""

    amplitude_uv: float
    duration_ms: float
    phases: int
    turns: int
    area_uv_ms: float
    thickness_ms: float
    size_index: float
    rise_time_ms: float

    @property
    def far_field(self) -> bool:
        return self.rise_time_ms > NEAR_FIELD_RISE_MS

    @property
    def polyphasic(self) -> bool:
        return self.phases >= POLYPHASIC_PHASES


def _ms_to_samples(ms: float, rate: float) -> int:
    return max(1, round(ms * rate / 1000.0))


def quiet_run_lengths(quiet: np.ndarray) -> np.ndarray:
    """For each sample, how many consecutive quiet samples end there (0 where it is not quiet)."""
    index = np.arange(quiet.size)
    last_loud = np.maximum.accumulate(np.where(quiet, -1, index))
    return np.where(quiet, index - last_loud, 0)


def _markers_against(template: np.ndarray, rate: float, baseline: float) -> tuple[int, int, bool]:
    deviation = np.abs(template - baseline)
    peak = int(np.argmax(deviation))
    quiet = deviation <= ONSET_BAND_UV
    window = _ms_to_samples(ONSET_WINDOW_MS, rate)
    ending_here = quiet_run_lengths(quiet)
    starting_here = quiet_run_lengths(quiet[::-1])[::-1]
    left = np.flatnonzero(ending_here[:peak] >= window)
    right = np.flatnonzero(starting_here[peak + 1 :] >= window) + peak + 1
    onset = int(left[-1]) + 1 if left.size else 0
    end = int(right[0]) - 1 if right.size else template.size - 1
    return onset, max(end, onset), bool(left.size and right.size)


def auto_markers(template: np.ndarray, rate: float) -> Markers:
    """Onset and end by the Pattichis rule (see the module's docstring)."""
    template = np.asarray(template, dtype=np.float64)
    baseline = float(np.median(template))
    onset, end, found = _markers_against(template, rate, baseline)
    lead, window = _ms_to_samples(BASELINE_LEAD_MS, rate), _ms_to_samples(ONSET_WINDOW_MS, rate)
    if onset - lead >= 0:
        baseline = float(np.mean(template[onset - lead : onset - lead + window]))
        onset, end, found = _markers_against(template, rate, baseline)
    return Markers(onset, end, baseline, found)


def _turns(y: np.ndarray) -> int:
    """Peaks standing :data:`TURN_LEVEL_UV` from their neighbouring turns, the baseline (0) closing both ends."""
    turns = 0
    direction = 0
    candidate = 0.0
    for value in np.concatenate((y, [0.0])).tolist():
        if direction == 0:
            if abs(value) >= TURN_LEVEL_UV:
                direction = 1 if value > 0 else -1
                candidate = value
        elif direction > 0:
            if value > candidate:
                candidate = value
            elif candidate - value >= TURN_LEVEL_UV:
                turns += 1
                direction, candidate = -1, value
        elif value < candidate:
            candidate = value
        elif value - candidate >= TURN_LEVEL_UV:
            turns += 1
            direction, candidate = 1, value
    return turns


def _phases(y: np.ndarray) -> int:
    signs = np.sign(y[np.abs(y) > PHASE_LEVEL_UV])
    return int(np.count_nonzero(np.diff(signs))) + 1


def _rise_time_ms(y: np.ndarray, rate: float) -> float:
    """From the nearest turn of opposite sign before the main spike (the peak the signal falls back from by
    :data:`TURN_LEVEL_UV`, or the start of ``y``) to the main spike."""
    main = int(np.argmax(np.abs(y)))
    polarity = 1.0 if y[main] > 0 else -1.0
    opposite = -polarity * y[: main + 1]
    best = main
    for i in range(main - 1, -1, -1):
        if opposite[i] > opposite[best]:
            best = i
        elif opposite[best] - opposite[i] >= TURN_LEVEL_UV:
            break
    return (main - best) * 1000.0 / rate


def measure(template: np.ndarray, rate: float, markers: Markers) -> MupMeasures:
    """Every QEMG §3 measurement of ``template`` between ``markers`` (see the module's docstring)."""
    template = np.asarray(template, dtype=np.float64)
    onset, end = sorted((int(markers.onset), int(markers.end)))
    onset, end = max(0, onset), min(template.size - 1, end)
    y = template[onset : end + 1] - markers.baseline_uv
    window = _ms_to_samples(ONSET_WINDOW_MS, rate)
    around = template[max(0, onset - window) : end + window + 1] - markers.baseline_uv
    amplitude = float(around.max() - around.min())
    area = float(np.trapezoid(np.abs(y), dx=1000.0 / rate)) if y.size > 1 else 0.0
    thickness = area / amplitude if amplitude > 0 else 0.0
    size_index = 2.0 * math.log10(amplitude / 1000.0) + thickness if amplitude > 0 else float("-inf")
    return MupMeasures(
        amplitude_uv=amplitude,
        duration_ms=(end - onset) * 1000.0 / rate,
        phases=_phases(y),
        turns=_turns(y),
        area_uv_ms=area,
        thickness_ms=thickness,
        size_index=size_index,
        rise_time_ms=_rise_time_ms(around, rate),
    )
