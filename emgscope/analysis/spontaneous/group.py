"""Discharges grouped into generators: the same fibre (or unit, or circuit) firing again gives the same shape.

A generator at rest keeps its shape but not always its size: a myotonic discharge waxes and wanes, a neuromyotonic
one decrements (SIMULATION_PARAMETERS §2). So discharges are compared by shape alone, each window scaled to unit
energy, at the best of a few small shifts; a discharge joins the nearest group when the correlation is as high as
its own noise allows (:func:`accepts`), largest discharges first so the clearest set the groups. Then sizes are
looked at: a group whose amplitudes fall into separate clusters with a gap between them (:data:`AMPLITUDE_GAP`) is
two generators of one shape (two fibrillating fibres), while a train that waxes and wanes fills the range between
its sizes and stays whole.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

WINDOW_MS = (-1.0, 2.0)
"""The part of a discharge compared: its spike and what follows it (a positive sharp wave's decay)."""
SHIFT_MS = 0.3
"""How far a discharge may be re-aligned onto a group (a peak moved by noise or by a neighbour)."""
SLACK = 0.1
"""A discharge joins a group when its correlation reaches what its noise allows less this much."""
MIN_CORRELATION = 0.5
"""... and never below this."""
AMPLITUDE_GAP = 1.15
"""Two sizes further apart than this ratio, with no discharge between them, are two generators ..."""
AMPLITUDE_GAP_SD = 5.0
"""... when the gap is also this many background SDs wide (a size measured on a noisy spike varies by about one
SD either way: a gap of 5 SDs is not noise)."""
REASSIGN_PASSES = 2


def windows(x: np.ndarray, peaks: np.ndarray, rate: float) -> tuple[np.ndarray, int]:
    """``(discharges, shifts, length)`` windows of ``x`` around ``peaks`` at each shift, and the shift count each
    side."""
    before = round(-WINDOW_MS[0] * rate / 1000.0)
    after = round(WINDOW_MS[1] * rate / 1000.0)
    shift = max(1, round(SHIFT_MS * rate / 1000.0))
    pad = before + shift
    padded = np.concatenate((np.zeros(pad), np.asarray(x, np.float64), np.zeros(after + shift + 1)))
    views = sliding_window_view(padded, before + after + 1)
    at = views[peaks[:, None] + np.arange(2 * shift + 1)]
    at = at - at.mean(axis=-1, keepdims=True)
    return at, shift


def accepts(energy: np.ndarray, length: int, noise_sd: float) -> np.ndarray:
    """The lowest correlation each discharge may join a group with: a window of energy ``E`` over ``L`` samples of
    noise ``σ`` correlates with its clean shape at about ``1 / sqrt(1 + Lσ² / E)``."""
    expected = 1.0 / np.sqrt(1.0 + length * noise_sd**2 / np.maximum(energy, 1e-12))
    return np.maximum(expected - SLACK, MIN_CORRELATION)


def group(x: np.ndarray, peaks: np.ndarray, rate: float, noise_sd: float) -> np.ndarray:
    """A group number for each of ``peaks`` (sample indices of ``x``), 0, 1, ... in order of first discharge."""
    n = peaks.size
    if n == 0:
        return np.empty(0, np.int64)
    at, shift = windows(x, peaks, rate)
    centre = at[:, shift]
    energy = np.einsum("il,il->i", centre, centre)
    unit = at / np.sqrt(np.maximum(np.einsum("isl,isl->is", at, at), 1e-12))[..., None]
    floor = accepts(energy, at.shape[-1], noise_sd)
    label = np.full(n, -1)
    templates: list[np.ndarray] = []
    sums: list[np.ndarray] = []
    for i in np.argsort(-energy, kind="stable").tolist():
        if templates:
            r = unit[i] @ np.array(templates).T
            best = int(np.argmax(r.max(axis=0)))
            s = int(np.argmax(r[:, best]))
            if r[s, best] >= floor[i]:
                label[i] = best
                sums[best] = sums[best] + unit[i, s]
                templates[best] = sums[best] / np.linalg.norm(sums[best])
                continue
        label[i] = len(templates)
        sums.append(unit[i, shift].copy())
        templates.append(unit[i, shift].copy())
    for _ in range(REASSIGN_PASSES):
        members = [np.flatnonzero(label == k) for k in range(len(templates))]
        kept = [np.median(unit[m, shift], axis=0) for m in members if m.size]
        tmpl = np.array([t / max(np.linalg.norm(t), 1e-12) for t in kept])
        r = np.einsum("isl,kl->isk", unit, tmpl).max(axis=1)
        best = np.argmax(r, axis=1)
        fits = r[np.arange(n), best] >= floor
        label = np.where(fits, best, -1)
        orphans = np.flatnonzero(label < 0)
        label[orphans] = tmpl.shape[0] + np.arange(orphans.size)
        templates = list(tmpl) + [unit[i, shift] for i in orphans]
    label = _split_sizes(label, np.abs(np.asarray(x)[peaks]), noise_sd)
    return _renumber(label)


def _split_sizes(label: np.ndarray, size: np.ndarray, noise_sd: float) -> np.ndarray:
    """Split each group at gaps in its sizes wider than :data:`AMPLITUDE_GAP` and :data:`AMPLITUDE_GAP_SD`."""
    out = label.copy()
    next_label = int(label.max()) + 1
    for k in np.unique(label).tolist():
        members = np.flatnonzero(label == k)
        if members.size < 2:
            continue
        order = members[np.argsort(size[members])]
        low, high = size[order[:-1]], size[order[1:]]
        gaps = np.flatnonzero((high > AMPLITUDE_GAP * low) & (high - low > AMPLITUDE_GAP_SD * noise_sd))
        for g in gaps.tolist():
            out[order[g + 1 :]] = next_label
            next_label += 1
    return out


def _renumber(label: np.ndarray) -> np.ndarray:
    """Groups numbered by their first member's position."""
    _, first = np.unique(label, return_index=True)
    order = np.argsort(first)
    mapping = np.empty(order.size, np.int64)
    mapping[order] = np.arange(order.size)
    return mapping[np.searchsorted(np.unique(label), label)]
