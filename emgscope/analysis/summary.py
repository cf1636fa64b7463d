"""The summary of each segment of the exam: the numbers a report table shows and the CSV next to the recording.

Per segment: duration, RMS, peak-to-peak, median frequency (of a Welch spectrum), the share of time the
detector found the muscle active, and the segment's flags together with the checks' flags.
"""

from __future__ import annotations

import csv
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import numpy as np
from scipy import signal

from emgscope.analysis.checks import Interval, overlap
from emgscope.protocol.annotation import Annotation

MIN_ACTIVE_PERCENT = 1.0
"""A segment active for less of its time than this has no median frequency: what the spectrum would describe is
the noise floor and a stray potential or two (a quiet rest read 4440 Hz), which means nothing clinically."""
WELCH_SECONDS = 0.1
"""Welch segment length: 100 ms, as the emgdb survey's windows (10 Hz resolution)."""


@dataclass(frozen=True)
class SegmentSummary:
    muscle: str
    side: str
    label: str
    attempt: int
    onset_s: float
    duration_s: float
    rms_uv: float
    peak_to_peak_uv: float
    median_frequency_hz: float | None
    """``None`` for a segment with (almost) no activity: see :data:`MIN_ACTIVE_PERCENT`."""
    active_percent: float
    flags: str
    """Flags of the segment and of the checks on it, ``;``-separated."""
    repeat: str = ""
    """Which repetition of a repeated step, e.g. ``site 2/3``."""


def median_frequency(data: np.ndarray, sample_rate: float) -> float:
    """The frequency that splits the power spectrum into two halves of equal power (NaN for silence)."""
    if data.size < 8:
        return float("nan")
    nperseg = min(data.size, max(8, round(WELCH_SECONDS * sample_rate)))
    freqs, power = signal.welch(data, sample_rate, nperseg=nperseg)
    cumulative = np.cumsum(power)
    if cumulative[-1] <= 0:
        return float("nan")
    return float(freqs[np.searchsorted(cumulative, cumulative[-1] / 2)])


def summarize(
    segment: Annotation,
    data: np.ndarray,
    sample_rate: float,
    activity: list[Interval],
    checks: list[Annotation] = (),
) -> SegmentSummary:
    """The summary of ``segment`` whose samples (one channel, µV) are ``data``."""
    data = np.asarray(data, dtype=np.float64)
    flags = list(segment.flags) + [flag for check in checks for flag in check.flags]
    if data.size:
        rms = float(np.sqrt(np.mean(np.square(data))))
        ptp = float(np.ptp(data))
    else:
        rms = ptp = float("nan")
    active = 100.0 * overlap(activity, segment.onset, segment.end) / segment.duration if segment.duration else 0.0
    return SegmentSummary(
        segment.muscle,
        segment.side,
        segment.label,
        segment.attempt,
        round(segment.onset / sample_rate, 4),
        round(segment.duration / sample_rate, 4),
        round(rms, 2),
        round(ptp, 1),
        round(median_frequency(data, sample_rate), 1) if active >= MIN_ACTIVE_PERCENT else None,
        round(active, 1),
        ";".join(dict.fromkeys(flags)),
        segment.repeat,
    )


def summary_csv_path(recording: Path) -> Path:
    """Where the summary of ``recording`` goes: beside it, ``<name>_summary.csv``."""
    return recording.with_name(recording.stem + "_summary.csv")


def write_csv(path: Path, rows: list[SegmentSummary]) -> None:
    """Write the summary table (never over an existing file: a recording's companions are not overwritten)."""
    with open(path, "x", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=[f.name for f in fields(SegmentSummary)])
        writer.writeheader()
        for row in rows:
            writer.writerow(asdict(row))
