"""Detected spikes sorted into motor units: template matching (:mod:`.cluster`), then the rules of a unit's firing
(:mod:`.trains`).

**Superimposed discharges are left out, not resolved.** A spike whose shape is the sum of two units' potentials
matches neither template and belongs to no unit. A unit's template and measurements are therefore made from its
clean discharges only, and its firing statistics keep the intervals a missed discharge doubles out of the count
(:mod:`.firing` uses the modal band of intervals). Resolving superimpositions by subtracting templates (EMGlab,
QEMG §2) would recover more discharges at higher effort; it is not done.
"""

from __future__ import annotations

import numpy as np

from emgscope.analysis.muap import trains as rules
from emgscope.analysis.muap.cluster import MIN_DISCHARGES, Check, SpikeWindows, cluster_spikes


def _no_check() -> None:
    return None


def sort_spikes(
    x: np.ndarray,
    rate: float,
    peaks: np.ndarray,
    relative: float,
    check: Check = _no_check,
    compared: np.ndarray | None = None,
) -> list[np.ndarray]:
    """The discharges of each unit found among ``peaks`` of the signal ``x``: sorted sample indices of each
    discharge's main spike, largest unit first. ``relative`` is the match tolerance's share of the template
    (:data:`~emgscope.analysis.muap.cluster.MATCH_RELATIVE` or its aliased counterpart); ``compared`` is the signal
    whose spikes are compared (default ``x``; the whole potentials that join fragments are always ``x``'s)."""
    if peaks.size < MIN_DISCHARGES:
        return []
    win = SpikeWindows(x if compared is None else compared, peaks, rate)
    clusters = cluster_spikes(win, np.abs(np.asarray(x)[peaks]), relative, check)
    check()
    trains: list[np.ndarray] = []
    for k in range(clusters.count):
        members = np.flatnonzero(clusters.label == k)
        times = peaks[members] + clusters.shift[members] - win.shift
        order = np.argsort(times, kind="stable")
        members, times = members[order], times[order]
        keep = rules.drop_duplicates(times, clusters.residual[members], rate)
        members, times = members[keep], times[keep]
        windows = win.at[members, clusters.shift[members]]
        trains += [times[part] for part in rules.split_merged(windows, times) if part.size >= MIN_DISCHARGES]
    check()
    united = rules.join_fragments(x, rate, rules.merge_components(trains, rate))
    return sorted(united, key=lambda t: -float(np.ptp(rules.whole_potential(x, t, rate))))
