"""The interference pattern at moderate and maximal effort: turns and amplitude per epoch, the cloud of epochs
against a normal region, and a suggested grade (QEMG §7).

**Turns and amplitude** (Willison; Gilchrist 1988, QEMG §7): a *turn* is a change of direction of the signal
separated from the previous turn by at least :data:`TURN_UV` (Willison's 100 µV criterion [T]); per epoch of
:data:`EPOCH_S`, the turns per second and the mean amplitude between successive turns. The epochs of a contraction
form a cloud in the (turns per second, mean amplitude) plane; at a given number of turns a neurogenic muscle's
epochs sit higher (few, large units) and a myopathic one's lower (many small, short units) than normal.

**The normal region.** QEMG §7 cites published normal clouds (Stålberg et al. 1983; 124 subjects, J Clin
Neuromuscul Dis 2016), but their figures could not be retrieved here. The region used is therefore emgscope's
own and provisional (:data:`NORMAL_CLOUD`): a band around the log-log line of mean amplitude on turns per second,
fitted to the epochs of the simulated patient's normal muscles at moderate and maximal effort and checked against
the one real normal record at hand (PhysioNet emgdb, healthy tibialis anterior at weak effort; README). It says
where a cloud lies relative to that band, in neutral words, and is never the basis of a diagnosis.

**The grade** (full, reduced, discrete, single unit; QEMG §7 visual grades) is read from the maximal-effort epochs:
the turns per second count the potentials that fill the screen, so fewer turns than a normal muscle makes at
maximal effort is a reduced pattern, far fewer a discrete one (single potentials apart on a visible baseline), and
about one unit's worth a single unit; a cloud above the normal region at maximal effort (few, large potentials
making the turns) is also read as reduced. The turn counts (:data:`FULL_TURNS`, :data:`DISCRETE_TURNS`,
:data:`SINGLE_TURNS`) are emgscope's own and provisional, like the region (see above). **Early recruitment**
(QEMG §5: many units at low force, a full low-amplitude pattern on slight effort) is suggested when the minimal
contraction already makes as many turns as a normal muscle at full effort, on or below the normal region
(:data:`EARLY_TURNS`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

TURN_UV = 100.0
"""Willison's turn criterion [T] (QEMG §7)."""
EPOCH_S = 0.5
"""Epochs of half a second: a maximal-effort step of 3-4 s gives six or more after the patient's reaction
(Gilchrist uses 1 s epochs; the cloud's meaning does not change with the epoch, its spread does)."""
SETTLE_S = 0.5
"""Skipped at the start of a contraction step: the patient reacts and the force rises (reaction times 0.2-0.8 s in
the simulated patient, comparable in people)."""
FULL_TURNS = 800.0
"""Turns per second a full pattern reaches at maximal effort (the simulated normal muscles' medians are 810-1250;
provisional, see the module's docstring)."""
DISCRETE_TURNS = 400.0
"""Below this at maximal effort the potentials stand apart: discrete."""
SINGLE_TURNS = 150.0
"""About one unit's worth: a unit firing at 30-50 Hz at maximal effort with three or four turns per potential."""
EARLY_TURNS = 600.0
"""A minimal contraction making as many turns as a normal muscle at full effort (the simulated normal muscles make
230-500 at 10 % effort and 510 and more at maximal effort): early recruitment."""


@dataclass(frozen=True)
class NormalCloud:
    """The provisional normal region: ``log10(amplitude µV) = intercept + slope · log10(turns/s)`` ± ``half_width``
    (in log10 units), valid from ``turns_low`` to ``turns_high`` turns per second."""

    intercept: float
    slope: float
    half_width: float
    turns_low: float
    turns_high: float
    source: str

    def limits(self, turns_per_s: float) -> tuple[float, float]:
        """Lower and upper normal mean amplitude (µV) at ``turns_per_s``."""
        centre = self.intercept + self.slope * math.log10(max(turns_per_s, 1.0))
        return 10 ** (centre - self.half_width), 10 ** (centre + self.half_width)

    def place(self, turns_per_s: float, amplitude_uv: float) -> int | None:
        """-1 below the region (low amplitude for its turns), 0 inside, +1 above; None outside the range of turns
        the region was made over (a weak contraction's few turns are not judged against it)."""
        if not self.turns_low <= turns_per_s <= self.turns_high:
            return None
        low, high = self.limits(turns_per_s)
        return -1 if amplitude_uv < low else (1 if amplitude_uv > high else 0)


NORMAL_CLOUD = NormalCloud(
    intercept=2.134,
    slope=0.201,
    half_width=0.114,
    turns_low=500.0,
    turns_high=1500.0,
    source="emgscope's own provisional region (fitted to the simulated normal muscles; see "
    "emgscope/analysis/interference.py): published normal clouds could not be retrieved",
)
OUTSIDE_RANGE = "outside the range of"
"""Where the region says nothing: no epoch made the turns it was made over."""
MIN_JUDGED = 2
"""A cloud is placed from at least this many epochs within the region's range (one epoch is not a cloud)."""
OUTSIDE_SHARE = 0.2
"""A cloud is said to lie above (or below) the region when more than this share of its epochs does (our rule: one
epoch in five, as a trained eye reads a cloud that leans out of the band)."""


@dataclass(frozen=True)
class Epoch:
    start_index: int
    turns_per_s: float
    mean_amplitude_uv: float


@dataclass(frozen=True)
class Interference:
    """One contraction step's epochs and what they suggest."""

    label: str
    """``MOD`` or ``MAX``."""
    epochs: tuple[Epoch, ...]

    @property
    def turns_per_s(self) -> float:
        """The median epoch's (NaN without epochs)."""
        return float(np.median([e.turns_per_s for e in self.epochs])) if self.epochs else math.nan

    @property
    def amplitude_uv(self) -> float:
        return float(np.median([e.mean_amplitude_uv for e in self.epochs])) if self.epochs else math.nan

    @property
    def grade(self) -> str | None:
        """At maximal effort: full, reduced, discrete or single (None without epochs)."""
        if not self.epochs:
            return None
        turns_per_s = self.turns_per_s
        if turns_per_s < SINGLE_TURNS:
            return "single"
        if turns_per_s < DISCRETE_TURNS:
            return "discrete"
        if turns_per_s < FULL_TURNS or self.cloud_place() == "above":
            return "reduced"
        return "full"

    @property
    def early(self) -> bool:
        """At minimal effort: a pattern as full as a normal muscle's at maximal effort, not above the region."""
        return bool(self.epochs) and self.turns_per_s >= EARLY_TURNS and self.cloud_place() != "above"

    def cloud_place(self, cloud: NormalCloud = NORMAL_CLOUD) -> str:
        """``above``, ``below`` or ``inside`` the normal region, or ``outside its range`` when no epoch has turns
        within the range it was made over."""
        judged = [cloud.place(e.turns_per_s, e.mean_amplitude_uv) for e in self.epochs]
        places = [p for p in judged if p is not None]
        if len(places) < MIN_JUDGED:
            return OUTSIDE_RANGE
        share_above = places.count(1) / len(places)
        share_below = places.count(-1) / len(places)
        if share_above > OUTSIDE_SHARE and share_above >= share_below:
            return "above"
        if share_below > OUTSIDE_SHARE:
            return "below"
        return "inside"


def turns(x: np.ndarray, level: float = TURN_UV) -> np.ndarray:
    """Sample indices of the turns of ``x``: each peak or trough that the signal leaves by at least ``level`` before
    turning back, starting from the first excursion of ``level`` (Willison)."""
    out: list[int] = []
    if x.size == 0:
        return np.empty(0, np.int64)
    extreme_index, extreme = 0, float(x[0])
    direction = 0
    for i, v in enumerate(np.asarray(x, np.float64).tolist()):
        if direction >= 0 and v > extreme:
            extreme, extreme_index = v, i
            if direction == 0 and v - float(x[0]) >= level:
                direction = 1
        elif direction <= 0 and v < extreme:
            extreme, extreme_index = v, i
            if direction == 0 and float(x[0]) - v >= level:
                direction = -1
        if direction > 0 and extreme - v >= level:
            out.append(extreme_index)
            direction, extreme, extreme_index = -1, v, i
        elif direction < 0 and v - extreme >= level:
            out.append(extreme_index)
            direction, extreme, extreme_index = 1, v, i
    return np.array(out, np.int64)


def measure_epoch(x: np.ndarray, rate: float, start_index: int = 0) -> Epoch:
    """Turns per second and mean amplitude between turns of one epoch."""
    found = turns(x)
    seconds = x.size / rate
    amplitude = float(np.mean(np.abs(np.diff(x[found])))) if found.size >= 2 else 0.0
    return Epoch(start_index, found.size / seconds if seconds else 0.0, amplitude)


def measure_step(filtered_uv: np.ndarray, rate: float, label: str, start_index: int = 0) -> Interference:
    """The epochs of a contraction step (filtered samples of one channel, µV, as on screen), after
    :data:`SETTLE_S`."""
    x = np.asarray(filtered_uv, np.float64)
    skip = min(round(SETTLE_S * rate), x.size)
    epoch = round(EPOCH_S * rate)
    epochs = []
    for a in range(skip, x.size - epoch + 1, epoch):
        epochs.append(measure_epoch(x[a : a + epoch], rate, start_index + a))
    return Interference(label, tuple(epochs))
