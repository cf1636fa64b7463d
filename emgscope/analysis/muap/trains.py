"""Clusters of alike spikes made into motor unit trains, by what a motor unit's firing allows.

Template matching (:mod:`.cluster`) groups spikes by shape; a motor unit is also a train of discharges, and four
rules of its firing put right what shape alone gets wrong:

* **One discharge once.** A unit does not fire twice within :data:`DUPLICATE_MS`; of two members that close, the
  one matching its template worse is the same discharge found twice (on two phases of a polyphasic potential).
* **Alike units apart.** Two units of nearly the same shape end up in one cluster, and their merged train has many
  intervals far shorter than its typical one. Such a train is split in two by shape (two means from the sign of the
  first principal component) where each part then fires like one unit (:func:`split_merged`).
* **Components together.** A polyphasic potential whose components lie further apart than the detector's grouping
  gap is detected once per component, and each component can form a cluster of its own: trains locked to each
  other at a steady lag (spread within :data:`COMPONENT_LAG_SD_MS`) are one unit and are united
  (:func:`merge_components`). Two real units never fire locked at a fixed lag.
* **Fragments together.** One unit's discharges can split into clusters when its shape varies (a slowly sampled
  spike, jiggle). Trains whose whole potentials (-5 to +10 ms) are nearly the same and which, united, still fire
  like one unit (few intervals shorter than half its period) are one unit (:func:`join_fragments`).

Train times are sample indices of each discharge's alignment point (its template's main spike).
"""

from __future__ import annotations

import numpy as np

from emgscope.analysis.muap.cluster import MIN_DISCHARGES, SHIFT_MS
from emgscope.analysis.muap.firing import mean_interval

DUPLICATE_MS = 10.0
"""Two discharges of one unit closer than this are one discharge found twice: 100 Hz, beyond the rates of the
efforts MUP analysis is done at (the secondary range of maximal effort starts at 50 Hz, SIMULATION_PARAMETERS
§1)."""
SHORT_INTERVAL = 0.5
"""An interval shorter than half the train's typical one is one a single unit hardly makes (its interval varies
by 10-20 %, SIMULATION_PARAMETERS §1)."""
MERGED_SHORT_SHARE = 0.1
"""A train with more short intervals than this share holds more than one unit."""
SPLIT_ITERATIONS = 10
SPLIT_DEPTH = 3
"""A train is split at most this many times over (into at most 8 units)."""
COMPONENT_LAG_SD_MS = 0.5
"""Trains whose discharges follow each other at a lag this steady are components of one potential."""
COMPONENT_SHARE = 0.5
"""... when at least this share of one train's discharges has a partner within :data:`COMPONENT_SPAN_MS`."""
COMPONENT_SPAN_MS = 15.0
"""How far apart the components of one potential can be (a reinnervated unit's spike spans up to ~6 ms; its
late components, satellites, more)."""
FRAGMENT_BEFORE_MS = 5.0
FRAGMENT_AFTER_MS = 10.0
"""The whole potential compared to recognise fragments of one unit."""
FRAGMENT_DISTANCE = 0.15
"""Whole potentials closer than this (squared residual over the smaller one's energy, at the best lag) may be
fragments of one unit."""


def drop_duplicates(times: np.ndarray, residual: np.ndarray, rate: float) -> np.ndarray:
    """Indices into ``times`` (sorted) to keep: of two members closer than :data:`DUPLICATE_MS`, the better one."""
    keep = np.ones(times.size, dtype=bool)
    limit = DUPLICATE_MS * rate / 1000.0
    for i in np.flatnonzero(np.diff(times) < limit).tolist():
        if keep[i] and keep[i + 1]:
            keep[i if residual[i] > residual[i + 1] else i + 1] = False
    return np.flatnonzero(keep)


def _shorter_than(times: np.ndarray, limit: float) -> int:
    return int(np.count_nonzero(np.diff(np.sort(times)) < limit))


def _short_intervals(times: np.ndarray) -> int:
    """Intervals shorter than :data:`SHORT_INTERVAL` of the train's median interval."""
    if times.size < 3:
        return 0
    return _shorter_than(times, SHORT_INTERVAL * float(np.median(np.diff(np.sort(times)))))


def _split(windows: np.ndarray, times: np.ndarray) -> list[np.ndarray]:
    """A train in two (index arrays into it) when it holds two alike units, else the whole train."""
    whole = [np.arange(times.size)]
    short = _short_intervals(times)
    if short <= MERGED_SHORT_SHARE * (times.size - 1) or times.size < 2 * MIN_DISCHARGES:
        return whole
    centred = windows - windows.mean(axis=0)
    side = centred @ np.linalg.svd(centred, full_matrices=False)[2][0] > 0
    for _ in range(SPLIT_ITERATIONS):
        if side.all() or not side.any():
            return whole
        a, b = windows[side].mean(axis=0), windows[~side].mean(axis=0)
        new = np.sum((windows - a) ** 2, axis=1) < np.sum((windows - b) ** 2, axis=1)
        if np.array_equal(new, side):
            break
        side = new
    parts = [np.flatnonzero(side), np.flatnonzero(~side)]
    if min(p.size for p in parts) < MIN_DISCHARGES or sum(_short_intervals(times[p]) for p in parts) > short / 2:
        return whole
    return parts


def split_merged(windows: np.ndarray, times: np.ndarray, depth: int = 0) -> list[np.ndarray]:
    """The units of a train (index arrays into it), splitting again each part that still holds more than one."""
    parts = _split(windows, times)
    if len(parts) == 1 or depth + 1 >= SPLIT_DEPTH:
        return parts
    return [part[sub] for part in parts for sub in split_merged(windows[part], times[part], depth + 1)]


def _unite(a: np.ndarray, b: np.ndarray, rate: float, duplicate_ms: float = DUPLICATE_MS) -> np.ndarray:
    """Two trains of one unit as one (``b`` already on ``a``'s alignment), each discharge once."""
    union = np.sort(np.concatenate((a, b)))
    return union[np.concatenate(([True], np.diff(union) >= duplicate_ms * rate / 1000.0))]


def _locked_lag(times: np.ndarray, of: np.ndarray, rate: float) -> float | None:
    """The steady lag at which ``times`` follow ``of``, or None when they are not locked."""
    after = np.clip(np.searchsorted(of, times), 0, of.size - 1)
    before = np.clip(after - 1, 0, of.size - 1)
    lag = np.where(np.abs(times - of[before]) <= np.abs(times - of[after]), times - of[before], times - of[after])
    close = np.abs(lag) <= COMPONENT_SPAN_MS * rate / 1000.0
    if close.mean() < COMPONENT_SHARE:
        return None
    lags = lag[close]
    centre = float(np.median(lags))
    spread = float(np.median(np.abs(lags - centre))) / 0.6745
    return centre if spread * 1000.0 / rate <= COMPONENT_LAG_SD_MS else None


def merge_components(trains: list[np.ndarray], rate: float, duplicate_ms: float = DUPLICATE_MS) -> list[np.ndarray]:
    """Unite trains that are components of one potential into the larger one (on its alignment); two discharges
    closer than ``duplicate_ms`` are one (spontaneous discharges fire faster than voluntary units: the caller
    says how close)."""
    trains = sorted(trains, key=lambda t: -t.size)
    i = 0
    while i < len(trains):
        j = i + 1
        while j < len(trains):
            lag = _locked_lag(trains[j], trains[i], rate)
            if lag is None:
                back = _locked_lag(trains[i], trains[j], rate)
                lag = None if back is None else -back
            if lag is None:
                j += 1
                continue
            trains[i] = _unite(trains[i], np.round(trains[j] - lag).astype(np.int64), rate, duplicate_ms)
            del trains[j]
            j = i + 1  # the grown train may now hold the partners of one passed over
        i += 1
    return trains


def whole_potential(x: np.ndarray, times: np.ndarray, rate: float) -> np.ndarray:
    """The median potential around ``times`` from -FRAGMENT_BEFORE_MS to +FRAGMENT_AFTER_MS, widened by the
    re-alignment range on both sides."""
    shift = max(1, round(SHIFT_MS * rate / 1000.0))
    before = round(FRAGMENT_BEFORE_MS * rate / 1000.0) + shift
    after = round(FRAGMENT_AFTER_MS * rate / 1000.0) + shift
    inside = times[(times >= before) & (times + after < x.size)]
    if inside.size == 0:
        return np.zeros(before + after + 1)
    return np.median(x[inside[:, np.newaxis] + np.arange(-before, after + 1)], axis=0)


def _fragment_lag(a: np.ndarray, b: np.ndarray, rate: float) -> tuple[int, float]:
    """The lag of whole potential ``b`` onto ``a`` and their distance there, relative to the smaller energy."""
    shift = max(1, round(SHIFT_MS * rate / 1000.0))
    reference = a[shift : a.size - shift]
    energy = max(min(float(reference @ reference), float(b[shift:-shift] @ b[shift:-shift])), 1e-12)
    best = (0, np.inf)
    for lag in range(-shift, shift + 1):
        distance = float(np.sum((b[shift + lag : b.size - shift + lag] - reference) ** 2)) / energy
        if distance < best[1]:
            best = (lag, distance)
    return best


def _fragments(a: np.ndarray, b: np.ndarray, lag: int, rate: float) -> np.ndarray | None:
    """``a`` and ``b`` (moved by ``lag``) united when they fire like one unit, else None."""
    period = mean_interval(a)
    if not np.isfinite(period):
        return None
    union = _unite(a, b + lag, rate)
    limit = SHORT_INTERVAL * period
    new_short = _shorter_than(union, limit) - _shorter_than(a, limit) - _shorter_than(b, limit)
    return union if new_short <= MERGED_SHORT_SHARE * b.size else None


def join_fragments(x: np.ndarray, rate: float, trains: list[np.ndarray]) -> list[np.ndarray]:
    """Unite trains that are fragments of one unit (see the module's docstring)."""
    trains = sorted(trains, key=lambda t: -t.size)
    wholes = [whole_potential(x, t, rate) for t in trains]
    i = 0
    while i < len(trains):
        j = i + 1
        while j < len(trains):
            lag, distance = _fragment_lag(wholes[i], wholes[j], rate)
            united = _fragments(trains[i], trains[j], lag, rate) if distance <= FRAGMENT_DISTANCE else None
            if united is None:
                j += 1
                continue
            trains[i] = united
            wholes[i] = whole_potential(x, united, rate)
            del trains[j], wholes[j]
            j = i + 1
        i += 1
    return trains
